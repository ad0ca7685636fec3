//! Format sniffing: decides per file, from its first bytes, which parser reads it. No flag is
//! needed for any known format; `--access-log-pattern` and `--server-xml` only add patterns
//! to try first.

use crate::formats::access::AccessLogParser;
use crate::formats::{json, log4j};
use serde_json::Value;
use std::sync::Arc;

/// How many non-blank lines of the head are tried against access-log patterns.
const SNIFF_LINES: usize = 20;

/// What a file looks like.
pub enum Detected {
    /// No bytes at all (or only whitespace).
    Empty,
    /// NUL bytes in the head: not a text log.
    Binary,
    /// Tomcat access log under one pattern; `name` is the preset name or `custom`.
    Access {
        name: String,
        parser: Arc<AccessLogParser>,
    },
    /// log4j application or security log.
    Log4j { security: bool },
    /// One JSON value per line (audit files, or one-line envelopes/arrays).
    JsonLines,
    /// One JSON document spread over lines (pretty-printed, arrays, envelopes).
    JsonDocument,
    /// Not a format confwatch reads; the reason says what it looked like.
    Unknown(String),
}

impl Detected {
    pub fn variant(&self) -> Option<String> {
        match self {
            Detected::Access { name, .. } => Some(name.clone()),
            Detected::Log4j { security: true } => Some("security".into()),
            Detected::Log4j { security: false } => Some("application".into()),
            Detected::JsonLines => Some("json-lines".into()),
            Detected::JsonDocument => Some("json-document".into()),
            _ => None,
        }
    }
}

/// Access-log patterns to try, in order: the user's first, then the presets.
pub struct AccessCandidates {
    pub parsers: Vec<(String, Arc<AccessLogParser>)>,
}

fn head_lines(head: &[u8]) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    // The head may end mid-line: drop the partial last line unless it is all there is.
    let complete = match memchr::memrchr(b'\n', head) {
        Some(p) => &head[..p],
        None => head,
    };
    complete
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(String::from_utf8_lossy)
}

/// Decides the format of a file from its decompressed head (up to 64 KiB) and its name.
pub fn sniff(head: &[u8], name: &str, access: &AccessCandidates) -> Detected {
    if head.iter().all(u8::is_ascii_whitespace) {
        return Detected::Empty;
    }
    if memchr::memchr(0, &head[..head.len().min(8192)]).is_some() {
        return Detected::Binary;
    }
    let lines: Vec<_> = head_lines(head).take(SNIFF_LINES).collect();
    let first = lines
        .first()
        .map(|l| l.trim_start_matches('\u{feff}').trim_start())
        .unwrap_or("");
    // JSON first when the first line is a whole JSON value; the access log's `[dd/MMM/…`
    // also starts with a bracket, so a bracket alone decides nothing.
    if (first.starts_with('{') || first.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(first)
    {
        return json_verdict(&v);
    }
    if lines.iter().any(|l| log4j::looks_like_log4j(l)) {
        let lower = name.to_ascii_lowercase();
        return Detected::Log4j {
            security: lower.contains("security"),
        };
    }
    let mut best: Option<(usize, &(String, Arc<AccessLogParser>))> = None;
    for cand in &access.parsers {
        let hits = lines.iter().filter(|l| cand.1.matches_line(l)).count();
        if hits > 0 && best.is_none_or(|(b, _)| hits > b) {
            best = Some((hits, cand));
        }
    }
    if let Some((hits, (name, parser))) = best
        && hits * 2 >= lines.len()
    {
        return Detected::Access {
            name: name.clone(),
            parser: Arc::clone(parser),
        };
    }
    if first.starts_with('{') || first.starts_with('[') {
        // Not a whole value on the first line: a pretty-printed document. Its records are
        // recognised (or not) as they are streamed.
        return Detected::JsonDocument;
    }
    let sample: String = lines
        .first()
        .map(|l| l.chars().take(80).collect())
        .unwrap_or_default();
    Detected::Unknown(format!(
        "not a Confluence log format confwatch knows (first line: `{sample}`); for a custom \
         Tomcat pattern pass --access-log-pattern or --server-xml"
    ))
}

fn json_verdict(v: &Value) -> Detected {
    if is_confluence_json(v) {
        Detected::JsonLines
    } else {
        Detected::Unknown(format!(
            "JSON that is not a Confluence or Atlassian audit format ({})",
            describe_keys(v)
        ))
    }
}

/// True for a record, an array of records or an envelope of a known format.
pub fn is_confluence_json(v: &Value) -> bool {
    match v {
        Value::Array(items) => items
            .first()
            .is_none_or(|f| json::detect_record(f).is_some()),
        Value::Object(map) => {
            json::detect_record(v).is_some()
                || map.iter().any(|(k, val)| {
                    json::envelope_key(k).is_some()
                        && val.as_array().is_some_and(|a| {
                            a.first().is_none_or(|f| json::detect_record(f).is_some())
                        })
                })
        }
        _ => false,
    }
}

/// A short description of a JSON value's top-level keys, for error messages.
pub fn describe_keys(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().take(6).map(String::as_str).collect();
            format!("keys: {}", keys.join(", "))
        }
        Value::Array(_) => "an array of unknown records".into(),
        _ => "not an object".into(),
    }
}
