//! The alert model: what `confwatch hunt` raises and every alert sink writes.
//!
//! One [`Alert`] is one episode of one rule for one group (usually a user, sometimes a
//! client address): repeated firings of the same rule for the same group that follow each
//! other within the rule's window are merged into one alert, so an analyst reads one line
//! per incident, not one per event. The JSON shape is documented in `docs/alerts.md`.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Alert severity, the Sigma `level` vocabulary. Ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a Sigma level name (`informational`, `low`, …; `info` is accepted too).
    pub fn from_name(name: &str) -> Option<Severity> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Severity::Informational,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The score an alert of this severity starts from (0–100).
    pub fn base_score(self) -> u8 {
        match self {
            Severity::Informational => 10,
            Severity::Low => 25,
            Severity::Medium => 50,
            Severity::High => 70,
            Severity::Critical => 90,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request or record that contributed to an alert, with where it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRequest {
    pub timestamp: DateTime<FixedOffset>,
    /// `file:line` of the source line.
    pub origin: String,
    /// The classified action (`page_view`, `site_search`, …).
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_query: Option<String>,
    /// Audit action key, for audit records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_action: Option<String>,
}

/// What supports an alert: counts, distinct values and a few sample requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Events that matched the rule's selections in the alert's windows (capped per
    /// window; see `truncated`).
    pub event_count: u64,
    /// The aggregated value that made the correlation fire (count, distinct count or sum);
    /// the largest seen across merged windows. 1 for single-event rules.
    pub aggregated_value: f64,
    /// The rule's threshold, for correlation rules with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// How many rule firings (windows) were merged into this alert.
    pub windows: u64,
    /// Named counts (`pages`, `spaces`, `failures`, `events:<rule>`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub counts: BTreeMap<String, u64>,
    /// Distinct values seen (`search_terms`, `spaces`, `user_agents`, `users`, …), capped.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub values: BTreeMap<String, Vec<String>>,
    /// Up to a handful of contributing requests, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub samples: Vec<SampleRequest>,
    /// True when counts were capped to keep memory bounded.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub truncated: bool,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's stable name (`confluence_credential_term_search`), else its Sigma id.
    pub rule_id: String,
    /// The rule's Sigma `id` (a UUID), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_uuid: Option<String>,
    pub title: String,
    pub severity: Severity,
    /// The acting user, when the alert is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Client addresses seen in the evidence (distinct, capped).
    pub source_ips: Vec<String>,
    pub first_seen: DateTime<FixedOffset>,
    pub last_seen: DateTime<FixedOffset>,
    /// ATT&CK technique ids (`T1213.001`).
    pub techniques: Vec<String>,
    /// 0–100: severity, how far past the threshold, privileged actor.
    pub score: u8,
    /// One plain-language sentence an analyst can act on.
    pub summary: String,
    /// The group-by fields and values the rule counted over (`user`, `client_ip`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub group: BTreeMap<String, String>,
    /// Whether the acting user is on the privileged-account list.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub privileged: bool,
    /// `user#n`: the user's n-th episode, shared by every alert of that user that follows
    /// another within two hours, so one incident reads as one group (set by `hunt`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub episode: Option<String>,
    pub evidence: Evidence,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Informational);
        assert_eq!(Severity::from_name("Info"), Some(Severity::Informational));
        assert_eq!(Severity::from_name("bogus"), None);
        for s in Severity::ALL {
            assert_eq!(Severity::from_name(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }

    #[test]
    fn alert_serialises_rfc3339_with_offset() {
        let t = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+01:00").unwrap();
        let a = Alert {
            rule_id: "r".into(),
            rule_uuid: None,
            title: "t".into(),
            severity: Severity::High,
            user: Some("jdoe".into()),
            source_ips: vec!["10.0.0.1".into()],
            first_seen: t,
            last_seen: t,
            techniques: vec!["T1213.001".into()],
            score: 70,
            summary: "s".into(),
            group: BTreeMap::new(),
            privileged: false,
            episode: None,
            evidence: Evidence::default(),
        };
        let j = serde_json::to_value(&a).unwrap();
        assert_eq!(j["first_seen"], "2026-03-02T09:00:00+01:00");
        assert_eq!(j["severity"], "high");
        let back: Alert = serde_json::from_value(j).unwrap();
        assert_eq!(back, a);
    }
}
