//! log4j lines of Confluence Server/Data Center: `AccessLogFilter` request lines of
//! `atlassian-confluence.log` and `DefaultLoginManager` login lines of
//! `atlassian-confluence-security.log`, plus the CVE-2023-22515 indicator
//! (`/setup/setupadministrator.action` in a log message).
//!
//! Layout `%d %p [%t] [%c{4}] %M %m%n`, optionally followed by an MDC suffix
//! ` -- key: value | key: value`; the thread-less `%d %p [%c{4}] %M %m%n` of a dedicated
//! access appender is accepted too. Every other logger's line, and every continuation line
//! (stack traces), is a `Skip`. The hot path does a byte check of the timestamp shape, a
//! hand-written timestamp parse and two short searches; no regex, no allocation for skipped
//! lines.

use super::{LineOutcome, LineParser, ParseCtx, ParseError};
use crate::classify::classify_into;
use crate::time::parse_log4j;
use chrono::{DateTime, FixedOffset};
use confwatch_event::{Action, Event, Outcome, SourceFormat};
use memchr::memmem;
use std::net::IpAddr;

/// The CVE-2023-22515 indicator Atlassian's advisory names.
const SETUP_ADMIN: &str = "/setup/setupadministrator.action";
/// Longest remote-address token kept as a host name.
const MAX_HOST_LEN: usize = 255;

#[derive(Debug, Clone)]
pub struct Log4jParser {
    offset: FixedOffset,
    setup_admin: memmem::Finder<'static>,
}

impl Log4jParser {
    /// `offset`: the server's UTC offset, because log4j writes local time without a zone.
    pub fn new(offset: FixedOffset) -> Log4jParser {
        Log4jParser {
            offset,
            setup_admin: memmem::Finder::new(SETUP_ADMIN.as_bytes()).into_owned(),
        }
    }
}

/// True when a line starts like a log4j record (`2022-07-12 01:08:59,489 `): the separators
/// are where `%d` puts them. The digits are checked by the timestamp parser, so a line that
/// passes this and then fails to parse is a bad timestamp, not another format.
pub fn looks_like_log4j(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && (b[19] == b',' || b[19] == b'.')
        && b[23] == b' '
}

/// The parts of a log4j line after the timestamp.
struct Head<'a> {
    thread: Option<&'a str>,
    logger: &'a str,
    method: &'a str,
    message: &'a str,
}

/// Splits `LEVEL [thread] [logger] method message` (or `LEVEL [logger] method message`).
fn split_head(rest: &str) -> Option<Head<'_>> {
    let (_level, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix('[')?;
    let (first, rest) = rest.split_once("] ")?;
    let (thread, logger, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let (logger, r) = r
                .split_once("] ")
                .or_else(|| r.strip_suffix(']').map(|l| (l, "")))?;
            (Some(first), logger, r)
        }
        None => (None, first, rest),
    };
    let (method, message) = rest.split_once(' ').unwrap_or((rest, ""));
    Some(Head {
        thread,
        logger,
        method,
        message,
    })
}

/// The message without the MDC suffix (` -- key: value | …`).
fn without_mdc(message: &str) -> &str {
    message.split_once(" -- ").map_or(message, |(m, _)| m)
}

impl LineParser for Log4jParser {
    fn parse_line(&self, line: &str, ctx: &mut ParseCtx) -> LineOutcome {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !looks_like_log4j(line) {
            // Blank lines, stack-trace continuations (`\tat …`, `Caused by: …`), other text.
            return LineOutcome::Skip;
        }
        let (Some(stamp), Some(rest)) = (line.get(..23), line.get(24..)) else {
            return LineOutcome::Error(ParseError::BadTimestamp(line.chars().take(23).collect()));
        };
        let Some(ts) = parse_log4j(stamp, self.offset) else {
            return LineOutcome::Error(ParseError::BadTimestamp(stamp.to_owned()));
        };
        let Some(head) = split_head(rest) else {
            return LineOutcome::Skip;
        };
        if head.logger.ends_with("AccessLogFilter") {
            return access_filter(ts, &head, ctx);
        }
        if head.logger.ends_with("DefaultLoginManager")
            && let Some(ev) = login(ts, &head, ctx)
        {
            return LineOutcome::Event(Box::new(ev));
        }
        if self.setup_admin.find(head.message.as_bytes()).is_some() {
            let mut ev = Event::new(ts, SourceFormat::SecurityLog, ctx.origin());
            ev.action = Action::ExploitAttempt;
            ev.url = Some(SETUP_ADMIN.to_owned());
            ev.thread = head.thread.map(|t| ctx.intern(t));
            return LineOutcome::Event(Box::new(ev));
        }
        LineOutcome::Skip
    }
}

/// `doFilter <user> [<METHOD>] <url> <free>[+-]<delta> <ms> [<remote>]`.
fn access_filter(ts: DateTime<FixedOffset>, head: &Head<'_>, ctx: &mut ParseCtx) -> LineOutcome {
    // `init` prints the format once at startup; other methods are not requests.
    if head.method != "doFilter" {
        return LineOutcome::Skip;
    }
    let mut tokens = without_mdc(head.message).split_ascii_whitespace();
    let Some(user) = tokens.next() else {
        return LineOutcome::Error(ParseError::Other(
            "AccessLogFilter line without user and URL".into(),
        ));
    };
    let (method, url) = match tokens.next() {
        Some(m) if is_http_method(m) => (Some(m), tokens.next()),
        other => (None, other),
    };
    let Some(url) = url else {
        return LineOutcome::Error(ParseError::Other(
            "AccessLogFilter line without a URL".into(),
        ));
    };

    let mut ev = Event::new(ts, SourceFormat::AccessLogFilter, ctx.origin());
    ev.thread = head.thread.map(|t| ctx.intern(t));
    ev.user = (user != "-").then(|| ctx.intern(user));
    ev.method = method.map(|m| ctx.intern(m));
    ev.url = Some(request_target(url).to_owned());
    // Query time and remote address are trusted only after a well-formed memory token,
    // because their positions are fixed relative to it.
    if tokens.next().is_some_and(is_memory_token) {
        ev.duration_ms = tokens
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .map(|ms| ms as f64);
        if let Some(remote) = tokens.next().map(|r| r.trim_end_matches(',')) {
            match remote.parse::<IpAddr>() {
                Ok(ip) => ev.client_ip = Some(ip),
                Err(_) if !remote.is_empty() && remote.len() <= MAX_HOST_LEN => {
                    ev.client_host = Some(ctx.intern(remote));
                }
                Err(_) => {}
            }
        }
    }
    classify_into(&mut ev);
    LineOutcome::Event(Box::new(ev))
}

/// An upper-case HTTP method token (`GET`, `POST`, …, or an extension method).
fn is_http_method(t: &str) -> bool {
    (3..=10).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_uppercase())
}

/// `1725173-3259` / `1725173+120`: free memory in KB and its change.
fn is_memory_token(t: &str) -> bool {
    let Some((free, delta)) = t.split_once(['+', '-']) else {
        return false;
    };
    !free.is_empty()
        && !delta.is_empty()
        && free.bytes().all(|b| b.is_ascii_digit())
        && delta.bytes().all(|b| b.is_ascii_digit())
}

/// Path and query of an absolute URL (`https://host/display/X` → `/display/X`); anything
/// else as written. The filter logs absolute URLs; the classifier expects a request target.
fn request_target(url: &str) -> &str {
    let lower_scheme = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let after = if lower_scheme.starts_with("https://") {
        url.get(8..)
    } else if lower_scheme.starts_with("http://") {
        url.get(7..)
    } else {
        return url;
    };
    match after.and_then(|a| a.find(['/', '?']).and_then(|i| a.get(i..))) {
        Some(t) if t.starts_with('/') => t,
        _ => "/",
    }
}

/// A `DefaultLoginManager` login line, or `None` for its other messages.
fn login(ts: DateTime<FixedOffset>, head: &Head<'_>, ctx: &mut ParseCtx) -> Option<Event> {
    let message = without_mdc(head.message);
    let outcome = match head.method {
        "onSuccessfulLoginAttempt" => Outcome::Success,
        "onFailedLoginAttempt" => Outcome::Failure,
        // Other layouts may drop `%M`; fall back on the message itself.
        _ if message.starts_with("Successful login attempt") => Outcome::Success,
        _ if message.starts_with("Failed login attempt") => Outcome::Failure,
        _ => return None,
    };
    let mut ev = Event::new(ts, SourceFormat::SecurityLog, ctx.origin());
    ev.action = Action::Login;
    ev.outcome = outcome;
    ev.thread = head.thread.map(|t| ctx.intern(t));
    ev.user = quoted_user(message).map(|u| ctx.intern(u));
    Some(ev)
}

/// The user named as `user 'X'` (also `for user 'X'`) or `username 'X'`, whichever comes
/// first. The failure message's exact wording is unverified, hence the alternatives.
fn quoted_user(message: &str) -> Option<&str> {
    let start = ["user '", "username '"]
        .iter()
        .filter_map(|p| message.find(p).map(|i| i + p.len()))
        .min()?;
    let rest = message.get(start..)?;
    let end = rest.find('\'')?;
    let user = rest.get(..end)?;
    (!user.is_empty()).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn parser() -> Log4jParser {
        Log4jParser::new(FixedOffset::east_opt(0).unwrap())
    }

    fn parse(line: &str) -> LineOutcome {
        let mut ctx = ParseCtx::new(Arc::from("atlassian-confluence.log"));
        ctx.set_line(7);
        parser().parse_line(line, &mut ctx)
    }

    fn event(line: &str) -> Event {
        match parse(line) {
            LineOutcome::Event(e) => *e,
            other => panic!("{other:?} for {line}"),
        }
    }

    #[test]
    fn real_application_log_lines_are_skipped() {
        let p = format!(
            "{}/../../testdata/real/plaso/atlassian-confluence.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(p).unwrap();
        let mut n = 0;
        for line in text.lines() {
            assert!(looks_like_log4j(line), "{line}");
            assert!(matches!(parse(line), LineOutcome::Skip), "{line}");
            n += 1;
        }
        assert_eq!(n, 4);
        // The MDC-suffixed line splits into the documented parts.
        let last = text.lines().nth(3).unwrap();
        let h = split_head(&last[24..]).unwrap();
        assert_eq!(h.thread, Some("support-zip"));
        assert_eq!(
            h.logger,
            "troubleshooting.healthcheck.concurrent.SupportHealthCheckProcess"
        );
        assert_eq!(h.method, "lambda$getCompletedStatuses$0");
        assert!(without_mdc(h.message).ends_with("read-only.'"));
        // A thread name with spaces.
        let third = text.lines().nth(2).unwrap();
        assert_eq!(
            split_head(&third[24..]).unwrap().thread,
            Some("ThreadPoolAsyncTaskExecutor::Thread 15")
        );
    }

    #[test]
    fn access_filter_without_method() {
        let e = event(
            "2013-02-08 07:29:34,845 INFO [TP-Processor3] [atlassian.confluence.util.AccessLogFilter] doFilter rkadam https://pandapedia.savagebeast.com/display/HOME/home 1725173-3259 81 172.17.250.184",
        );
        assert_eq!(e.format, SourceFormat::AccessLogFilter);
        assert_eq!(e.timestamp.to_rfc3339(), "2013-02-08T07:29:34.845+00:00");
        assert_eq!(e.user.as_deref(), Some("rkadam"));
        assert_eq!(e.method, None);
        assert_eq!(e.url.as_deref(), Some("/display/HOME/home"));
        assert_eq!(e.duration_ms, Some(81.0));
        assert_eq!(
            e.client_ip.map(|i| i.to_string()).as_deref(),
            Some("172.17.250.184")
        );
        assert_eq!(e.thread.as_deref(), Some("TP-Processor3"));
        assert_eq!(e.origin.line, 7);
        // The URL classifier ran on the path.
        assert_eq!(e.action, Action::PageView);
        assert_eq!(e.object.space_key.as_deref(), Some("HOME"));
    }

    #[test]
    fn access_filter_with_method_and_anonymous_user() {
        let off = FixedOffset::east_opt(2 * 3600).unwrap();
        let mut ctx = ParseCtx::new(Arc::from("f"));
        let line = "2018-08-07 10:00:25,462 INFO [http-nio-8090-exec-3] [atlassian.confluence.util.AccessLogFilter] doFilter - GET https://wiki.example.com/display/DOC/Home?src=x 1725173+120 12 10.1.2.3";
        let LineOutcome::Event(e) = Log4jParser::new(off).parse_line(line, &mut ctx) else {
            panic!()
        };
        assert_eq!(e.timestamp.to_rfc3339(), "2018-08-07T10:00:25.462+02:00");
        assert_eq!(e.utc().to_rfc3339(), "2018-08-07T08:00:25.462+00:00");
        assert_eq!(e.user, None);
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.url.as_deref(), Some("/display/DOC/Home?src=x"));
        assert_eq!(e.duration_ms, Some(12.0));
        assert_eq!(
            e.client_ip.map(|i| i.to_string()).as_deref(),
            Some("10.1.2.3")
        );
        assert_eq!(e.thread.as_deref(), Some("http-nio-8090-exec-3"));
    }

    #[test]
    fn access_filter_variants() {
        // Remote address missing, relative URL, MDC suffix, thread-less dedicated appender.
        let e = event(
            "2018-08-07 10:00:25,462 INFO [exec-1] [atlassian.confluence.util.AccessLogFilter] doFilter bob POST /dologin.action 1000-5 7 -- traceId: abc",
        );
        assert_eq!(e.user.as_deref(), Some("bob"));
        assert_eq!(e.method.as_deref(), Some("POST"));
        assert_eq!(e.url.as_deref(), Some("/dologin.action"));
        assert_eq!(e.duration_ms, Some(7.0));
        assert_eq!((e.client_ip, e.client_host), (None, None));
        let e = event(
            "2018-08-07 10:00:25,462 INFO [atlassian.confluence.util.AccessLogFilter] doFilter amy http://wiki 10+1 3 proxy.local",
        );
        assert_eq!(e.thread, None);
        assert_eq!(e.url.as_deref(), Some("/"));
        assert_eq!(e.client_host.as_deref(), Some("proxy.local"));
        // The init line is not a request.
        assert!(matches!(
            parse(
                "2018-08-07 10:00:15,845 INFO [localhost-startStop-1] [atlassian.confluence.util.AccessLogFilter] init AccessLogFilter initialized. Format is: <user> <url> <starting memory free (kb)> +- <difference in free mem (kb)> <query time (ms)> <remote address>"
            ),
            LineOutcome::Skip
        ));
        // A filter line with no URL is an error, not a silent skip.
        assert!(matches!(
            parse(
                "2018-08-07 10:00:15,845 INFO [t] [atlassian.confluence.util.AccessLogFilter] doFilter bob"
            ),
            LineOutcome::Error(ParseError::Other(_))
        ));
    }

    #[test]
    fn security_log_logins() {
        let e = event(
            "2023-06-09 05:02:06,850 DEBUG [http-nio-8090-exec-5] [confluence.security.login.DefaultLoginManager] onSuccessfulLoginAttempt Successful login attempt for user 'admin'",
        );
        assert_eq!(e.format, SourceFormat::SecurityLog);
        assert_eq!(e.action, Action::Login);
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.user.as_deref(), Some("admin"));
        assert_eq!(e.thread.as_deref(), Some("http-nio-8090-exec-5"));
        assert_eq!(e.timestamp.to_rfc3339(), "2023-06-09T05:02:06.850+00:00");

        let e = event(
            "2024-01-09 05:02:06,850 DEBUG [http-nio-8090-exec-9] [impl.security.login.DefaultLoginManager] onFailedLoginAttempt Failed login attempt for username 'mallory' -- traceId: 1",
        );
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.user.as_deref(), Some("mallory"));
        let e = event(
            "2024-01-09 05:02:06,850 DEBUG [x] [impl.security.login.DefaultLoginManager] onFailedLoginAttempt Failed login attempt",
        );
        assert_eq!((e.outcome, e.user), (Outcome::Failure, None));
        // Other DefaultLoginManager messages are not logins.
        assert!(matches!(
            parse(
                "2024-01-09 05:02:06,850 DEBUG [x] [impl.security.login.DefaultLoginManager] isElevatedSecurityCheckRequired checking"
            ),
            LineOutcome::Skip
        ));
    }

    #[test]
    fn setup_administrator_indicator() {
        let e = event(
            "2023-10-04 11:22:33,444 WARN [http-nio-8090-exec-2] [atlassian.seraph.filter.SecurityFilter] doFilter Exception processing /setup/setupadministrator.action: denied",
        );
        assert_eq!(e.action, Action::ExploitAttempt);
        assert_eq!(e.format, SourceFormat::SecurityLog);
        assert_eq!(e.url.as_deref(), Some(SETUP_ADMIN));
    }

    #[test]
    fn stack_traces_and_garbage() {
        for line in [
            "",
            "\tat com.atlassian.confluence.Foo.bar(Foo.java:42)",
            "Caused by: java.lang.IllegalStateException: /setup/setupadministrator.action",
            "\t... 12 more",
            "garbage",
            "2022-07-12 garbage that is long enough to index",
            "2022-07-12 01:08:59,489",
            "2022-07-12 01:08:59,489 INFO no brackets here at all",
        ] {
            assert!(matches!(parse(line), LineOutcome::Skip), "{line:?}");
        }
        for line in [
            "2022-13-12 01:08:59,489 INFO [t] [c.AccessLogFilter] doFilter a /b 1-1 1 1.2.3.4",
            "2022-07-32 01:08:59,489 INFO [t] [x.Y] m msg",
            "20x2-07-12 01:08:59,489 INFO [t] [x.Y] m msg",
            "2022-07-12 01:08:59,é9 INFO [t] [x.Y] m msg",
        ] {
            assert!(
                matches!(parse(line), LineOutcome::Error(ParseError::BadTimestamp(_))),
                "{line:?}"
            );
        }
    }

    #[test]
    fn helpers() {
        assert!(is_memory_token("1725173-3259") && is_memory_token("1+2"));
        assert!(!is_memory_token("-3") && !is_memory_token("12") && !is_memory_token("1-x"));
        assert_eq!(request_target("HTTPS://h:8443/c/x?y=1"), "/c/x?y=1");
        assert_eq!(request_target("http://h?q"), "/");
        assert_eq!(request_target("/a"), "/a");
        assert_eq!(quoted_user("for user 'a b' x"), Some("a b"));
        assert_eq!(quoted_user("user ''"), None);
        assert_eq!(quoted_user("user 'unterminated"), None);
    }

    /// Throughput smoke check: skipped lines must not allocate or backtrack. The threshold is
    /// loose because tests run unoptimised; release builds are over 10x faster.
    #[test]
    fn skip_path_is_fast() {
        let p = parser();
        let mut ctx = ParseCtx::new(Arc::from("f"));
        let line = "2022-07-12 01:11:24,636 INFO [ThreadPoolAsyncTaskExecutor::Thread 15] [plugins.synchrony.bootstrap.DefaultSynchronyProxyMonitor] <init> synchrony-proxy healthcheck url: http://127.0.0.1:8090/synchrony-proxy/healthcheck";
        let n = 100_000;
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(matches!(p.parse_line(line, &mut ctx), LineOutcome::Skip));
        }
        let per_sec = n as f64 / start.elapsed().as_secs_f64();
        eprintln!("log4j skip path: {per_sec:.0} lines/s (unoptimised)");
        assert!(per_sec > 50_000.0, "{per_sec:.0} lines/s");
    }
}
