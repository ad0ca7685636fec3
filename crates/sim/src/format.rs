//! Writing simulated requests as log lines: the three Tomcat `AccessLogValve` patterns
//! confwatch reads (installer, X-Forwarded-For, Docker image) and the Data Center audit
//! log file (JSON lines). The exact layouts are pinned by tests against confwatch-ingest.

use chrono::{DateTime, FixedOffset};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The site's base URL, used in `Referer` headers and audit records.
pub const BASE_URL: &str = "https://wiki.corp.example";

/// The load balancer that probes `/status` on every node.
pub const HEALTH_CHECKER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// An access-log pattern variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessVariant {
    /// `%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i` (installer default).
    Installer,
    /// The installer pattern with `%{X-Forwarded-For}i` first (behind a reverse proxy).
    Xff,
    /// `%h %{X-AUSERNAME}o %t "%r" %s %b %D %U %I "%{User-Agent}i"` (official Docker image).
    Docker,
}

impl AccessVariant {
    pub fn id(self) -> &'static str {
        match self {
            AccessVariant::Installer => "installer",
            AccessVariant::Xff => "xff",
            AccessVariant::Docker => "docker",
        }
    }

    /// The daily file name Tomcat writes for this variant.
    pub fn file_name(self, date: chrono::NaiveDate) -> String {
        match self {
            AccessVariant::Docker => format!("confluence_access.{}.log", date.format("%Y-%m-%d")),
            _ => format!("conf_access_log.{}.log", date.format("%Y-%m-%d")),
        }
    }
}

/// One HTTP request as the server saw it.
#[derive(Debug, Clone)]
pub struct Req {
    /// Milliseconds since the Unix epoch.
    pub t_ms: i64,
    pub user: Option<Arc<str>>,
    pub client: Ipv4Addr,
    pub ua: Arc<str>,
    pub method: &'static str,
    pub target: String,
    pub status: u16,
    pub bytes: u32,
    pub dur_ms: u32,
    /// Path and query of the referring page (the base URL is added when written).
    pub referer: Option<Arc<str>>,
    pub thread: u16,
    /// Which node serves it (sticky sessions).
    pub node: u8,
    /// Label index + 1, or 0 for unlabelled traffic.
    pub tag: u16,
    /// For a login form post: the name typed in (the security log names it, the access
    /// log only once the login succeeded).
    pub login_name: Option<Arc<str>>,
}

/// Appends one access-log line (with `\n`) for `req` in `variant` to `out`.
pub fn write_access_line(out: &mut String, req: &Req, variant: AccessVariant, offset: FixedOffset) {
    let ts = DateTime::from_timestamp_millis(req.t_ms)
        .unwrap_or_default()
        .with_timezone(&offset);
    let user: &str = req.user.as_deref().unwrap_or("-");
    let bytes = Bytes(req.bytes);
    match variant {
        AccessVariant::Installer | AccessVariant::Xff => {
            let _ = write!(out, "[{}] ", ts.format("%d/%b/%Y:%H:%M:%S %z"));
            if variant == AccessVariant::Xff {
                // A proxy in front of each node; some clients come through the corporate
                // forward proxy, which adds itself to the chain.
                let [a, b, ..] = req.client.octets();
                if req.client == HEALTH_CHECKER {
                    // The load balancer's own probe carries no X-Forwarded-For header.
                    out.push_str("- ");
                } else if a == 10 && b == 20 && req.thread.is_multiple_of(5) {
                    let _ = write!(out, "{}, 10.9.0.4 ", req.client);
                } else {
                    let _ = write!(out, "{} ", req.client);
                }
            }
            let _ = write!(out, "{user} http-nio-8090-exec-{} ", req.thread);
            if variant == AccessVariant::Xff {
                let _ = write!(out, "10.0.0.{} ", 2 + req.node);
            } else {
                let _ = write!(out, "{} ", req.client);
            }
            let _ = write!(
                out,
                "{} {} HTTP/1.1 {} {}ms {} ",
                req.method, req.target, req.status, req.dur_ms, bytes
            );
            match &req.referer {
                Some(r) => {
                    let _ = write!(out, "{BASE_URL}{r} ");
                }
                None => out.push_str("- "),
            }
            out.push_str(&req.ua);
            out.push('\n');
        }
        AccessVariant::Docker => {
            let path = req.target.split('?').next().unwrap_or("");
            let _ = writeln!(
                out,
                "{} {user} [{}] \"{} {} HTTP/1.1\" {} {} {} {} http-nio-8090-exec-{} \"{}\"",
                req.client,
                ts.format("%d/%b/%Y:%H:%M:%S %z"),
                req.method,
                req.target,
                req.status,
                bytes,
                req.dur_ms,
                path,
                req.thread,
                req.ua
            );
        }
    }
}

/// `%b`: Tomcat writes `-` for an empty body.
struct Bytes(u32);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 0 {
            f.write_str("-")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// One Data Center audit record, ready to serialise.
#[derive(Debug, Clone)]
pub struct AuditRec {
    pub t_ms: i64,
    pub action: &'static str,
    pub action_key: &'static str,
    pub area: &'static str,
    pub category: &'static str,
    pub category_key: &'static str,
    pub author: Arc<str>,
    pub author_id: String,
    pub source: Ipv4Addr,
    /// `(type, name, id)`.
    pub objects: Vec<(&'static str, String, String)>,
    /// `(key, to)`.
    pub changes: Vec<(&'static str, String)>,
    /// `(name, value)`.
    pub extra: Vec<(&'static str, String)>,
    pub tag: u16,
}

/// The record as one JSON line, fields as in a real `*.audit.log` file.
pub fn audit_json(rec: &AuditRec) -> serde_json::Value {
    use serde_json::json;
    let objects: Vec<_> = rec
        .objects
        .iter()
        .map(|(t, n, id)| json!({"id": id, "name": n, "type": t}))
        .collect();
    let changes: Vec<_> = rec
        .changes
        .iter()
        .map(|(k, to)| json!({"i18nKey": k, "key": k, "to": to}))
        .collect();
    let extra: Vec<_> = rec
        .extra
        .iter()
        .map(|(n, v)| json!({"name": n, "nameI18nKey": n, "value": v}))
        .collect();
    json!({
        "affectedObjects": objects,
        "auditType": {
            "action": rec.action,
            "actionI18nKey": rec.action_key,
            "area": rec.area,
            "category": rec.category,
            "categoryI18nKey": rec.category_key,
            "level": "BASE",
        },
        "author": {"id": rec.author_id, "name": rec.author.as_ref(), "type": "user"},
        "changedValues": changes,
        "extraAttributes": extra,
        "method": "Browser",
        "source": rec.source.to_string(),
        "system": BASE_URL,
        "timestamp": {
            "epochSecond": rec.t_ms.div_euclid(1000),
            "nano": rec.t_ms.rem_euclid(1000) * 1_000_000,
        },
        "version": "1.0",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Req {
        Req {
            t_ms: 1_772_441_846_000,
            user: Some(Arc::from("jdoe")),
            client: Ipv4Addr::new(10, 20, 1, 3),
            ua: Arc::from("Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0"),
            method: "GET",
            target: "/pages/viewpage.action?pageId=2129924".into(),
            status: 200,
            bytes: 7881,
            dur_ms: 120,
            referer: Some(Arc::from("/display/ENG/Home")),
            thread: 6,
            node: 0,
            tag: 0,
            login_name: None,
        }
    }

    #[test]
    fn installer_line_layout() {
        let mut s = String::new();
        write_access_line(
            &mut s,
            &req(),
            AccessVariant::Installer,
            FixedOffset::east_opt(3600).unwrap_or(FixedOffset::east_opt(0).unwrap()),
        );
        assert_eq!(
            s,
            "[02/Mar/2026:09:57:26 +0100] jdoe http-nio-8090-exec-6 10.20.1.3 GET /pages/viewpage.action?pageId=2129924 HTTP/1.1 200 120ms 7881 https://wiki.corp.example/display/ENG/Home Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0\n"
        );
    }

    #[test]
    fn docker_line_layout() {
        let mut s = String::new();
        let mut r = req();
        r.user = None;
        r.bytes = 0;
        write_access_line(
            &mut s,
            &r,
            AccessVariant::Docker,
            FixedOffset::east_opt(3600).unwrap(),
        );
        assert_eq!(
            s,
            "10.20.1.3 - [02/Mar/2026:09:57:26 +0100] \"GET /pages/viewpage.action?pageId=2129924 HTTP/1.1\" 200 - 120 /pages/viewpage.action http-nio-8090-exec-6 \"Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0\"\n"
        );
    }
}
