//! Tomcat `AccessLogValve` access logs, driven by the valve's `pattern` string.
//!
//! Owns: compiling a pattern (`pattern`), reading `server.xml` for patterns (`server_xml`),
//! and the per-line scanner that turns one access-log line into an [`Event`]. The scanner
//! walks the compiled steps over the line's bytes with `memchr`; the only allocations per
//! line are the event and its owned strings.

mod datefmt;
mod pattern;
mod server_xml;
#[cfg(test)]
mod tests;

use super::{LineOutcome, LineParser, ParseCtx, ParseError};
use crate::time;
use chrono::{DateTime, FixedOffset};
use confwatch_event::{Event, SourceFormat};
use datefmt::DateFormat;
use pattern::{Code, Compiled, Step, TimeKind};
use std::borrow::Cow;
use std::net::IpAddr;

pub use pattern::{COMBINED, COMMON};
pub use server_xml::patterns_from_server_xml;

/// How `%D` is written: milliseconds up to Tomcat 9, microseconds from Tomcat 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    #[default]
    Millis,
    Micros,
}

#[derive(Debug, Clone, Default)]
pub struct AccessLogOptions {
    pub duration_unit: DurationUnit,
}

/// Errors in an access-log pattern or `server.xml`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error("{0}")]
    Invalid(String),
    /// Two fields with no literal text between them cannot be told apart.
    #[error("fields `{0}` and `{1}` are not separated by any text, so lines cannot be split")]
    Adjacent(String, String),
    #[error("pattern has no time field (`%t` or `%{{...}}t`)")]
    NoTimestamp,
    #[error(
        "time format `%{{{0}}}t` is not supported: use the default, `sec`, `msec`, or a \
         SimpleDateFormat with a year and only yyyy yy MM MMM dd HH mm ss S Z X letters"
    )]
    UnsupportedTimeFormat(String),
    #[error("server.xml: {0}")]
    Xml(String),
}

/// Named patterns confwatch knows without configuration, tried in order when sniffing.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "installer",
        "%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i",
    ),
    (
        "xff",
        "%t %{X-Forwarded-For}i %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i",
    ),
    (
        "docker",
        "%h %{X-AUSERNAME}o %t \"%r\" %s %b %D %U %I \"%{User-Agent}i\"",
    ),
];

/// The pattern of a preset (`installer`, `xff`, `docker`) or Tomcat alias (`common`,
/// `combined`).
pub fn preset(name: &str) -> Option<&'static str> {
    match name {
        "common" => Some(COMMON),
        "combined" => Some(COMBINED),
        _ => PRESETS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p),
    }
}

/// A parser for one access-log pattern.
pub struct AccessLogParser {
    pattern: String,
    compiled: Compiled,
}

/// Why a line did not fit: which step (or `None` for text outside any field) and why.
#[derive(Debug)]
struct Mismatch {
    step: Option<usize>,
    reason: &'static str,
}

fn miss(step: usize, reason: &'static str) -> Mismatch {
    Mismatch {
        step: Some(step),
        reason,
    }
}

/// A string field and whether it was quoted (so may hold Tomcat escapes).
type Text<'a> = Option<(&'a str, bool)>;

/// The fields of one line as slices of it, before conversion.
#[derive(Default)]
struct Raw<'a> {
    ts: Option<(TimeKind, &'a str, Option<&'a DateFormat>)>,
    host: Option<&'a str>,
    addr: Option<&'a str>,
    xff: Option<&'a str>,
    user_hdr: Option<&'a str>,
    user: Option<&'a str>,
    thread: Option<&'a str>,
    method: Option<&'a str>,
    uri: Text<'a>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    status: Option<u16>,
    bytes: Option<u64>,
    duration_ms: Option<f64>,
    session: Option<&'a str>,
    referer: Text<'a>,
    user_agent: Text<'a>,
}

/// `-` (and empty) mean "absent" in every field.
fn present(s: &str) -> Option<&str> {
    if s.is_empty() || s == "-" {
        None
    } else {
        Some(s)
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s.as_bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

fn parse_number(s: &str) -> Option<f64> {
    match parse_u64(s) {
        #[allow(clippy::cast_precision_loss)] // durations are far below 2^52
        Some(v) => Some(v as f64),
        None if s.bytes().all(|c| c.is_ascii_digit() || c == b'.') => s.parse::<f64>().ok(),
        None => None,
    }
}

/// An address as Tomcat writes it: IPv4, long- or short-form IPv6, bracketed IPv6,
/// optionally with a zone id or (in forwarded chains) a port.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let s = match s.strip_prefix('[') {
        Some(inner) => inner.split(']').next().unwrap_or(inner),
        None => s,
    };
    let s = s.split('%').next().unwrap_or(s);
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // `1.2.3.4:5678`
    match s.split_once(':') {
        Some((host, port)) if !port.contains(':') => host.parse::<IpAddr>().ok(),
        _ => None,
    }
}

/// Undoes Tomcat's escaping inside quoted values (`\"`, `\\`, `\n`, `\uXXXX`, …).
fn unescape(s: &str, quoted: bool) -> Cow<'_, str> {
    if !quoted || !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('f') => out.push('\u{c}'),
            Some('b') => out.push('\u{8}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Starts with `HTTP/` (written as a slice pattern so it compiles to a few byte compares).
fn is_protocol(t: &[u8]) -> bool {
    matches!(t, [b'H', b'T', b'T', b'P', b'/', ..])
}

fn is_method(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 24
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c == b'-')
}

/// Where an unquoted `%r` ends in `rest`: normally three tokens `METHOD URI PROTOCOL`, but a
/// malformed request may be `-`, `METHOD URI` (HTTP/0.9 style) or a single junk token.
fn request_extent(rest: &[u8]) -> usize {
    let token_end = |from: usize| -> usize {
        rest.get(from..)
            .and_then(|r| memchr::memchr(b' ', r))
            .map_or(rest.len(), |i| from + i)
    };
    let e1 = token_end(0);
    if e1 >= rest.len() {
        return e1;
    }
    let e2 = token_end(e1 + 1);
    if e2 < rest.len() {
        let e3 = token_end(e2 + 1);
        if rest.get(e2 + 1..e3).is_some_and(is_protocol) {
            return e3;
        }
    }
    let t1 = rest
        .get(..e1)
        .and_then(|t| std::str::from_utf8(t).ok())
        .unwrap_or("");
    let t2 = rest.get(e1 + 1..e2).unwrap_or(&[]);
    if is_method(t1)
        && (t2.starts_with(b"/") || t2 == b"*" || memchr::memmem::find(t2, b"://").is_some())
    {
        return e2;
    }
    e1
}

/// `hay.starts_with(needle)` without a `memcmp` call for the usual one- or two-byte
/// separators (this runs once per field).
#[inline]
fn starts_with(hay: &[u8], needle: &[u8]) -> bool {
    match needle {
        [] => true,
        [a] => hay.first() == Some(a),
        _ => hay.starts_with(needle),
    }
}

/// Where `after` first occurs in `rest`.
#[inline]
fn find_after(step: &Step, rest: &[u8]) -> Option<usize> {
    match step.after.as_bytes() {
        [a] => memchr::memchr(*a, rest),
        _ => step.finder.find(rest),
    }
}

/// Byte offset of the first unescaped `"` in `rest` that starts `after`.
fn quoted_extent(rest: &[u8], after: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let q = from + memchr::memchr(b'"', rest.get(from..)?)?;
        let backslashes = rest
            .get(..q)?
            .iter()
            .rev()
            .take_while(|&&c| c == b'\\')
            .count();
        if backslashes % 2 == 0 && starts_with(rest.get(q..)?, after) {
            return Some(q);
        }
        from = q + 1;
    }
}

/// Splits one field off `line` at `pos`: returns (value start, value end, next position).
fn field_extent(
    idx: usize,
    step: &Step,
    line: &str,
    pos: usize,
) -> Result<(usize, usize, usize), Mismatch> {
    let rest_str = line.get(pos..).ok_or(miss(idx, "line ended early"))?;
    let rest = rest_str.as_bytes();
    let after = step.after.as_bytes();
    // (value start, value end, where `after` must start), relative to `rest`.
    let (vs, ve, lit_at) = if step.code == Code::Time(TimeKind::Clf) {
        if rest.first() != Some(&b'[') {
            return Err(miss(idx, "expected `[` opening the timestamp"));
        }
        let close = memchr::memchr(b']', rest).ok_or(miss(idx, "no `]` closing the timestamp"))?;
        (1, close, close + 1)
    } else if step.code == Code::Time(TimeKind::Custom) {
        // A formatted time may hold spaces: read it to learn where it ends.
        let (_, n) = step
            .date
            .as_ref()
            .and_then(|d| d.parse_prefix(rest_str))
            .ok_or(miss(idx, "time does not match the pattern's date format"))?;
        (0, n, n)
    } else if after.is_empty() && step.code == Code::UrlPath && !step.after_is_end {
        // `%U%q`: the path stops where the query (or the enclosing text) starts.
        let end = rest
            .iter()
            .position(|&c| c == b'?' || c == b' ' || c == b'"')
            .unwrap_or(rest.len());
        (0, end, end)
    } else if after.is_empty() {
        (0, rest.len(), rest.len())
    } else if step.after_is_end {
        // The field runs to the pattern's closing text at the end of the line.
        if !rest.ends_with(after) {
            return Err(miss(
                idx,
                "line does not end with the pattern's closing text",
            ));
        }
        let end = rest.len() - after.len();
        (0, end, end)
    } else if step.quoted {
        let end = quoted_extent(rest, after).ok_or(miss(idx, "no closing quote"))?;
        (0, end, end)
    } else if step.code == Code::Request && after.first() == Some(&b' ') {
        // Space-separated: the request's own spaces need the token heuristic. With any
        // other separator the generic search below is exact.
        let end = request_extent(rest);
        (0, end, end)
    } else {
        let mut end =
            find_after(step, rest).ok_or(miss(idx, "separator after the field not found"))?;
        if step.code == Code::ForwardedFor && after.first() == Some(&b' ') {
            // `a, b, c`: a comma before the separator means the chain goes on.
            while rest.get(..end).is_some_and(|v| v.ends_with(b",")) {
                let from = end + 1;
                match rest.get(from..).and_then(|r| find_after(step, r)) {
                    Some(i) => end = from + i,
                    None => break,
                }
            }
        }
        (0, end, end)
    };
    if !rest.get(lit_at..).is_some_and(|r| starts_with(r, after)) {
        return Err(miss(idx, "text after the field does not match the pattern"));
    }
    Ok((pos + vs, pos + ve, pos + lit_at + after.len()))
}

fn store<'a>(raw: &mut Raw<'a>, idx: usize, step: &'a Step, v: &'a str) -> Result<(), Mismatch> {
    match step.code {
        Code::Time(kind) => {
            if raw.ts.is_none() {
                raw.ts = Some((kind, v, step.date.as_ref()));
            }
        }
        Code::RemoteHost => raw.host = present(v),
        Code::RemoteAddr => raw.addr = present(v),
        Code::ForwardedFor => raw.xff = present(v),
        Code::AUsername => raw.user_hdr = present(v),
        Code::User => raw.user = present(v),
        Code::Thread => raw.thread = present(v),
        Code::Method => raw.method = present(v),
        Code::UrlPath => raw.path = present(v),
        Code::Query => raw.query = present(v),
        Code::Session => raw.session = raw.session.or(present(v)),
        Code::Referer => raw.referer = present(v).map(|s| (s, step.quoted)),
        Code::UserAgent => raw.user_agent = present(v).map(|s| (s, step.quoted)),
        Code::Request => {
            if let Some(r) = present(v) {
                let (method, rest) = r.split_once(' ').unwrap_or((r, ""));
                // The protocol is the last token; a URI with spaces keeps them.
                let uri = match rest.rsplit_once(' ') {
                    Some((u, proto)) if is_protocol(proto.as_bytes()) => u,
                    // `METHOD PROTOCOL` with no target.
                    None if is_protocol(rest.as_bytes()) => "",
                    _ => rest,
                };
                raw.method = present(method).or(raw.method);
                raw.uri = present(uri).map(|u| (u, step.quoted));
            }
        }
        Code::Status => {
            if let Some(s) = present(v) {
                let n = parse_u64(s)
                    .filter(|n| *n <= 999)
                    .ok_or(miss(idx, "status is not a number"))?;
                raw.status = u16::try_from(n).ok();
            }
        }
        Code::Bytes => {
            // `%b` writes `-` for zero bytes.
            raw.bytes = Some(match present(v) {
                Some(s) => parse_u64(s).ok_or(miss(idx, "byte count is not a number"))?,
                None => 0,
            });
        }
        Code::Duration(factor) => {
            if let Some(s) = present(v) {
                raw.duration_ms =
                    Some(parse_number(s).ok_or(miss(idx, "duration is not a number"))? * factor);
            }
        }
        Code::Opaque => {}
    }
    Ok(())
}

/// Longest `%t` text the per-thread cache keeps (`dd/MMM/yyyy:HH:mm:ss.SSS +hh:mm`).
const TS_CACHE_LEN: usize = 40;

/// A `%t` text (bytes and length) and its value.
type CachedClf = ([u8; TS_CACHE_LEN], usize, DateTime<FixedOffset>);

thread_local! {
    /// The last `%t` text parsed on this thread and its value: consecutive lines usually
    /// share the same second, and this skips re-parsing it.
    static LAST_CLF: std::cell::Cell<Option<CachedClf>> =
        const { std::cell::Cell::new(None) };
}

fn parse_clf_cached(v: &str) -> Option<DateTime<FixedOffset>> {
    let b = v.as_bytes();
    if let Some((buf, len, ts)) = LAST_CLF.get()
        && buf.get(..len) == Some(b)
    {
        return Some(ts);
    }
    let ts = time::parse_clf(v)?;
    if b.len() <= TS_CACHE_LEN {
        let mut buf = [0u8; TS_CACHE_LEN];
        if let Some(dst) = buf.get_mut(..b.len()) {
            dst.copy_from_slice(b);
            LAST_CLF.set(Some((buf, b.len(), ts)));
        }
    }
    Some(ts)
}

fn timestamp(kind: TimeKind, v: &str, date: Option<&DateFormat>) -> Option<DateTime<FixedOffset>> {
    match kind {
        TimeKind::Custom => date?
            .parse_prefix(v)
            .filter(|(_, n)| *n == v.len())
            .map(|(t, _)| t),
        TimeKind::Clf => parse_clf_cached(v),
        TimeKind::EpochSec => {
            time::from_epoch_ms(i64::try_from(parse_u64(v)?).ok()?.checked_mul(1000)?)
        }
        TimeKind::EpochMs => time::from_epoch_ms(i64::try_from(parse_u64(v)?).ok()?),
    }
}

impl AccessLogParser {
    /// Compiles `pattern` (a valve pattern, or the alias `common`/`combined`).
    pub fn new(pattern: &str, opts: AccessLogOptions) -> Result<AccessLogParser, PatternError> {
        let compiled = pattern::compile(pattern::expand_alias(pattern), opts.duration_unit)?;
        Ok(AccessLogParser {
            pattern: pattern.to_string(),
            compiled,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Cheap check for format sniffing: does `line` parse under this pattern, timestamp
    /// included? Allocates nothing.
    pub fn matches_line(&self, line: &str) -> bool {
        match self.scan(trim_line(line)) {
            Ok(raw) => raw.ts.is_some_and(|(k, v, d)| timestamp(k, v, d).is_some()),
            Err(_) => false,
        }
    }

    fn scan<'a>(&'a self, line: &'a str) -> Result<Raw<'a>, Mismatch> {
        let c = &self.compiled;
        if !starts_with(line.as_bytes(), c.lead.as_bytes()) {
            return Err(Mismatch {
                step: None,
                reason: "line does not start with the pattern's leading text",
            });
        }
        let mut raw = Raw::default();
        let mut pos = c.lead.len();
        for (idx, step) in c.steps.iter().enumerate() {
            let (vs, ve, next) = field_extent(idx, step, line, pos)?;
            let v = line
                .get(vs..ve)
                .ok_or(miss(idx, "field is not on a character boundary"))?;
            store(&mut raw, idx, step, v)?;
            pos = next;
        }
        if pos != line.len() {
            return Err(Mismatch {
                step: None,
                reason: "unexpected text after the last field",
            });
        }
        Ok(raw)
    }

    fn mismatch(&self, m: &Mismatch) -> LineOutcome {
        let detail = match m
            .step
            .and_then(|i| self.compiled.steps.get(i).map(|s| (i, s)))
        {
            Some((i, s)) => format!("field {} (`{}`): {}", i + 1, s.label, m.reason),
            None => m.reason.to_string(),
        };
        LineOutcome::Error(ParseError::PatternMismatch {
            pattern: self.pattern.clone(),
            detail,
        })
    }

    /// Fills the event in its box: built on the stack and then moved, it cost a 472-byte
    /// copy, and the first reads of the boxed event stalled on that copy's stores.
    fn build(&self, raw: &Raw<'_>, ts: DateTime<FixedOffset>, ctx: &mut ParseCtx) -> Box<Event> {
        let mut ev = Box::new(Event::new(ts, SourceFormat::TomcatAccess, ctx.origin()));
        let user = raw
            .user_hdr
            .or(raw.user)
            .filter(|u| !u.eq_ignore_ascii_case("anonymous"));
        if ctx.summary_only {
            // Statistics need time, format and user only; the line was already scanned
            // whole, so skipping the rest changes no count.
            ev.user = user.map(|u| ctx.intern(u));
            return ev;
        }

        // Client: the first X-Forwarded-For entry when present, else %h/%a; the address that
        // connected becomes `peer_ip` when it differs.
        let host_ip = raw.host.and_then(parse_ip);
        let remote_ip = host_ip.or_else(|| raw.addr.and_then(parse_ip));
        let remote_name = raw.host.filter(|_| host_ip.is_none());
        let first_hop = raw
            .xff
            .and_then(|x| x.split(',').map(str::trim).find(|s| present(s).is_some()));
        match first_hop {
            Some(hop) => {
                ev.client_ip = parse_ip(hop);
                if ev.client_ip.is_none() {
                    ev.client_host = Some(ctx.intern(hop));
                }
                ev.peer_ip = remote_ip.filter(|ip| Some(*ip) != ev.client_ip);
            }
            None => {
                ev.client_ip = remote_ip;
                ev.client_host = remote_name.map(|h| ctx.intern(h));
            }
        }
        ev.forwarded_for = raw.xff.map(str::to_string);

        ev.user = user.map(|u| ctx.intern(u));
        ev.thread = raw.thread.map(|t| ctx.intern(t));
        ev.method = raw.method.map(|m| ctx.intern_few(m));
        ev.url = match (raw.uri, raw.path) {
            (Some((u, q)), _) => Some(unescape(u, q).into_owned()),
            (None, Some(p)) => Some(match raw.query {
                Some(q) => format!("{p}{q}"),
                None => p.to_string(),
            }),
            (None, None) => None,
        };
        ev.status = raw.status;
        ev.bytes = raw.bytes;
        ev.duration_ms = raw.duration_ms;
        ev.referer = raw.referer.map(|(r, q)| unescape(r, q).into_owned());
        ev.user_agent = raw.user_agent.map(|(a, q)| ctx.intern_few(&unescape(a, q)));
        ev.session_id = raw.session.map(str::to_string);
        crate::classify::classify_into(&mut ev);
        ev
    }
}

/// Drops a stray `\r` left by CRLF files.
fn trim_line(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

impl LineParser for AccessLogParser {
    fn parse_line(&self, line: &str, ctx: &mut ParseCtx) -> LineOutcome {
        let line = trim_line(line);
        if crate::read::is_blank(line) {
            return LineOutcome::Skip;
        }
        let raw = match self.scan(line) {
            Ok(raw) => raw,
            Err(m) => return self.mismatch(&m),
        };
        let Some((kind, tv, date)) = raw.ts else {
            return self.mismatch(&Mismatch {
                step: None,
                reason: "no timestamp",
            });
        };
        let Some(ts) = timestamp(kind, tv, date) else {
            return LineOutcome::Error(ParseError::BadTimestamp(tv.to_string()));
        };
        LineOutcome::Event(self.build(&raw, ts, ctx))
    }
}
