//! Plain-language alert summaries: renders a rule's `confwatch.summary` template with the
//! facts of one alert ("jdoe searched for 'password', 'vpn' and 7 more credential terms
//! within 20 min from 185.220.101.47, then viewed 41 pages").
//!
//! Placeholders are listed in `docs/detections.md`; an unknown placeholder renders as
//! written so a typo is visible rather than silently empty.

use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// Everything a summary may mention.
#[derive(Debug)]
pub struct AlertFacts<'a> {
    pub title: &'a str,
    pub user: Option<&'a str>,
    pub privileged: bool,
    pub group: &'a BTreeMap<String, String>,
    pub first: DateTime<FixedOffset>,
    pub last: DateTime<FixedOffset>,
    pub aggregated: f64,
    pub threshold: Option<f64>,
    pub timespan: Option<i64>,
    pub event_count: u64,
    pub failures: u64,
    pub items_sum: u64,
    /// Distinct values in first-seen order, per kind (`users`, `source_ips`, `pages`, …).
    pub distinct: &'a BTreeMap<&'static str, Vec<String>>,
    /// Distinct values seen per kind (the lists above may be cut short).
    pub distinct_counts: &'a BTreeMap<&'static str, u64>,
    /// Per detection rule name: (matching events, distinct pages).
    pub per_rule: &'a BTreeMap<String, (u64, u64)>,
    /// Sensitive terms, lower-case.
    pub terms: &'a [String],
    pub terms_noun: Option<&'a str>,
}

/// "20 min", "3 h 5 min", "45 s", "2 days".
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else if secs < 86_400 {
        let (h, m) = (secs / 3600, (secs % 3600) / 60);
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    } else {
        let d = secs / 86_400;
        if d == 1 {
            "1 day".into()
        } else {
            format!("{d} days")
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn quote_list(items: &[String], more_noun: &str, total: usize) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    match (q.as_slice(), total) {
        ([], _) => "nothing".into(),
        ([a], 1) => a.clone(),
        ([a, b], 2) => format!("{a} and {b}"),
        ([a, b, c], 3) => format!("{a}, {b} and {c}"),
        ([a, b, ..], n) => format!("{a}, {b} and {} more {more_noun}", n.saturating_sub(2)),
        ([a], n) => format!("{a} and {} more {more_noun}", n.saturating_sub(1)),
    }
}

impl AlertFacts<'_> {
    fn count(&self, kind: &str) -> u64 {
        self.distinct_counts.get(kind).copied().unwrap_or(0)
    }

    fn list(&self, kind: &str) -> &[String] {
        self.distinct.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The sensitive terms found in the searches, in first-seen order.
    fn matched_terms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for q in self.list("search_queries") {
            let q = q.to_lowercase();
            for t in self.terms {
                if q.contains(t.as_str()) && !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }

    fn ip_text(&self) -> String {
        let ips = self.list("source_ips");
        let n = self.count("source_ips") as usize;
        match ips {
            [] => self
                .group
                .get("client_ip")
                .or(self.group.get("client"))
                .cloned()
                .unwrap_or_else(|| "an unknown address".into()),
            [one] if n == 1 => one.clone(),
            [first, ..] => format!("{n} addresses ({first}, …)"),
        }
    }

    fn value(&self, name: &str, arg: Option<&str>) -> Option<String> {
        Some(match (name, arg) {
            ("user", _) => {
                let u = self.user.unwrap_or("anonymous");
                if self.privileged {
                    format!("{u} (privileged)")
                } else {
                    u.to_owned()
                }
            }
            ("ip", _) => self.ip_text(),
            ("count", _) => format!("{}", self.aggregated.round() as i64),
            ("threshold", _) => self
                .threshold
                .map(|t| format!("{}", t.round() as i64))
                .unwrap_or_else(|| "-".into()),
            ("window", _) => human_duration((self.last - self.first).num_seconds()),
            ("timespan", _) => human_duration(self.timespan.unwrap_or(0)),
            ("first", _) => self.first.to_rfc3339(),
            ("last", _) => self.last.to_rfc3339(),
            ("terms", _) => {
                let matched = self.matched_terms();
                let noun = self.terms_noun.unwrap_or("credential terms");
                if matched.is_empty() {
                    let q = self.list("search_queries");
                    quote_list(
                        q.get(..q.len().min(3)).unwrap_or(&[]),
                        "queries",
                        self.count("search_queries") as usize,
                    )
                } else {
                    quote_list(
                        matched.get(..matched.len().min(3)).unwrap_or(&[]),
                        noun,
                        matched.len(),
                    )
                }
            }
            ("queries", _) => {
                let q = self.list("search_queries");
                quote_list(
                    q.get(..q.len().min(3)).unwrap_or(&[]),
                    "queries",
                    self.count("search_queries") as usize,
                )
            }
            ("pages", None) => plural(self.count("pages"), "page", "pages"),
            ("pages", Some(rule)) => plural(
                self.per_rule.get(rule).map(|p| p.1).unwrap_or(0),
                "page",
                "pages",
            ),
            ("n", Some(rule)) => format!("{}", self.per_rule.get(rule).map(|p| p.0).unwrap_or(0)),
            ("spaces", _) => plural(self.count("spaces"), "space", "spaces"),
            ("space_list", _) => {
                let s = self.list("spaces");
                quote_list(
                    s.get(..s.len().min(3)).unwrap_or(&[]),
                    "spaces",
                    self.count("spaces") as usize,
                )
            }
            ("attachments", _) => plural(self.count("attachments"), "attachment", "attachments"),
            ("users", _) => plural(self.count("users"), "account", "accounts"),
            // " against 2 accounts ('alice' and 'bob')", or nothing when the log has no
            // user names (failed logins in access logs are anonymous).
            ("against", _) => {
                let s = self.list("users");
                if s.is_empty() {
                    String::new()
                } else {
                    format!(
                        " against {} ({})",
                        plural(self.count("users"), "account", "accounts"),
                        quote_list(
                            s.get(..s.len().min(3)).unwrap_or(&[]),
                            "accounts",
                            self.count("users") as usize
                        )
                    )
                }
            }
            ("user_list", _) => {
                let s = self.list("users");
                quote_list(
                    s.get(..s.len().min(3)).unwrap_or(&[]),
                    "accounts",
                    self.count("users") as usize,
                )
            }
            ("agent", _) => self
                .list("user_agents")
                .first()
                .cloned()
                .unwrap_or_else(|| "an unknown client".into()),
            ("events", _) => format!("{}", self.event_count),
            ("failures", _) => format!("{}", self.failures),
            ("items", _) => format!("{}", self.items_sum),
            ("audit_action", _) => self
                .list("audit_actions")
                .first()
                .cloned()
                .unwrap_or_default(),
            ("audit_message", _) => {
                let m = self.list("audit_messages");
                let n = self.count("audit_messages") as usize;
                quote_list(m.get(..m.len().min(2)).unwrap_or(&[]), "messages", n)
            }
            ("group", Some(field)) => self.group.get(field).cloned().unwrap_or_default(),
            _ => return None,
        })
    }
}

/// Renders `template` (or a generic sentence when the rule has none).
pub fn render_summary(template: Option<&str>, f: &AlertFacts<'_>) -> String {
    let default = "'{title}': {events} matching event(s) by {user} from {ip} within {window}";
    let t = template.unwrap_or(default);
    let mut out = String::with_capacity(t.len() + 64);
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open + 1..).unwrap_or("");
        let Some(close) = after.find('}') else {
            out.push_str(rest.get(open..).unwrap_or(""));
            rest = "";
            break;
        };
        let inner = after.get(..close).unwrap_or("");
        let (name, arg) = match inner.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (inner, None),
        };
        let v = if name == "title" {
            Some(f.title.to_owned())
        } else {
            f.value(name, arg)
        };
        match v {
            Some(v) => out.push_str(&v),
            None => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_issue_example() {
        let first = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+01:00").unwrap();
        let last = DateTime::parse_from_rfc3339("2026-03-02T09:20:00+01:00").unwrap();
        let queries: Vec<String> = [
            "password",
            "vpn config",
            "ssh key",
            "aws",
            "token",
            "secret",
            "root",
            "azure",
            "admin pwd",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut distinct: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        distinct.insert("search_queries", queries.clone());
        distinct.insert("source_ips", vec!["185.220.101.47".into()]);
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        counts.insert("search_queries", queries.len() as u64);
        counts.insert("source_ips", 1);
        let per_rule: BTreeMap<String, (u64, u64)> =
            [("views".to_string(), (50, 41))].into_iter().collect();
        let terms: Vec<String> = crate::config::DEFAULT_SENSITIVE_TERMS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let group = BTreeMap::new();
        let f = AlertFacts {
            title: "t",
            user: Some("jdoe"),
            privileged: false,
            group: &group,
            first,
            last,
            aggregated: 2.0,
            threshold: None,
            timespan: Some(1200),
            event_count: 59,
            failures: 0,
            items_sum: 0,
            distinct: &distinct,
            distinct_counts: &counts,
            per_rule: &per_rule,
            terms: &terms,
            terms_noun: None,
        };
        let s = render_summary(
            Some(
                "{user} searched for {terms} within {window} from {ip}, then viewed {pages:views}{bogus}",
            ),
            &f,
        );
        assert_eq!(
            s,
            "jdoe searched for 'password', 'vpn' and 8 more credential terms within 20 min from 185.220.101.47, then viewed 41 pages{bogus}"
        );
    }

    #[test]
    fn durations_and_lists() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(3600 * 3 + 300), "3 h 5 min");
        assert_eq!(human_duration(86_400 * 2), "2 days");
        assert_eq!(quote_list(&["a".into()], "x", 1), "'a'");
        assert_eq!(
            quote_list(&["a".into(), "b".into(), "c".into()], "x", 3),
            "'a', 'b' and 'c'"
        );
        assert_eq!(
            quote_list(&["a".into(), "b".into(), "c".into()], "x", 5),
            "'a', 'b' and 3 more x"
        );
    }
}
