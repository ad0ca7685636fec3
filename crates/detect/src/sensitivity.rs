//! Space sensitivity from `confwatch scan`: access to spaces that hold credentials, diagrams
//! or other material attackers mine raises the severity of the alert that names them.
//!
//! `scan --space-profiles FILE` writes a JSON array of [`SpaceProfile`]s; `hunt
//! --space-profiles FILE` reads it. An alert whose evidence names a space of high or
//! critical sensitivity goes up one severity level (at most to critical) and 10 points of
//! score; a space of medium sensitivity adds 5 points. The summary says why.

use confwatch_event::alert::{Alert, Severity};
use confwatch_event::finding::{self, SpaceProfile};
use std::collections::HashMap;

/// Space key → sensitivity, from scan's profiles.
#[derive(Debug, Default, Clone)]
pub struct SpaceSensitivity {
    by_space: HashMap<String, finding::Severity>,
}

impl SpaceSensitivity {
    pub fn new(profiles: &[SpaceProfile]) -> SpaceSensitivity {
        SpaceSensitivity {
            by_space: profiles
                .iter()
                .map(|p| (p.space_key.clone(), p.sensitivity))
                .collect(),
        }
    }

    /// Parses the JSON array `scan --space-profiles` writes.
    pub fn from_json(text: &str) -> Result<SpaceSensitivity, serde_json::Error> {
        let profiles: Vec<SpaceProfile> = serde_json::from_str(text)?;
        Ok(SpaceSensitivity::new(&profiles))
    }

    pub fn len(&self) -> usize {
        self.by_space.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_space.is_empty()
    }

    /// Raises the alerts that touch sensitive spaces; returns how many were raised or
    /// scored up.
    pub fn apply(&self, alerts: &mut [Alert]) -> usize {
        let mut changed = 0;
        for a in alerts.iter_mut() {
            let mut touched: Vec<(String, finding::Severity)> = a
                .evidence
                .values
                .get("spaces")
                .into_iter()
                .flatten()
                .chain(a.group.get("space"))
                .filter_map(|k| {
                    self.by_space
                        .get(k)
                        .filter(|s| **s >= finding::Severity::Medium)
                        .map(|s| (k.clone(), *s))
                })
                .collect();
            touched.sort();
            touched.dedup();
            let Some(top) = touched.iter().map(|(_, s)| *s).max() else {
                continue;
            };
            let raise = top >= finding::Severity::High;
            if raise {
                a.severity = one_level_up(a.severity);
            }
            a.score = a.score.saturating_add(if raise { 10 } else { 5 }).min(100);
            let names: Vec<String> = touched
                .iter()
                .map(|(k, s)| format!("{k} ({})", s.as_str()))
                .collect();
            a.summary = format!(
                "{}; sensitive space{} per scan: {}",
                a.summary,
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            );
            a.evidence.values.insert(
                "sensitive_spaces".into(),
                touched.iter().map(|(k, _)| k.clone()).collect(),
            );
            changed += 1;
        }
        changed
    }
}

fn one_level_up(s: Severity) -> Severity {
    match s {
        Severity::Informational => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::alert::Evidence;

    fn alert(spaces: &[&str], severity: Severity) -> Alert {
        let mut evidence = Evidence::default();
        evidence.values.insert(
            "spaces".into(),
            spaces.iter().map(|s| s.to_string()).collect(),
        );
        Alert {
            rule_id: "r".into(),
            rule_uuid: None,
            title: "t".into(),
            severity,
            user: Some("jdoe".into()),
            source_ips: Vec::new(),
            first_seen: chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00+01:00").unwrap(),
            last_seen: chrono::DateTime::parse_from_rfc3339("2026-03-02T09:10:00+01:00").unwrap(),
            techniques: Vec::new(),
            score: 50,
            summary: "jdoe viewed 40 pages".into(),
            group: Default::default(),
            privileged: false,
            episode: None,
            evidence,
        }
    }

    fn profile(key: &str, sensitivity: finding::Severity) -> SpaceProfile {
        SpaceProfile {
            space_key: key.into(),
            sensitivity,
            ..SpaceProfile::default()
        }
    }

    #[test]
    fn high_sensitivity_raises_one_level_medium_only_scores() {
        let s = SpaceSensitivity::new(&[
            profile("OPS", finding::Severity::Critical),
            profile("HR", finding::Severity::Medium),
            profile("DOC", finding::Severity::Low),
        ]);
        let mut alerts = vec![
            alert(&["DOC", "OPS"], Severity::Medium),
            alert(&["HR"], Severity::Medium),
            alert(&["DOC"], Severity::Medium),
            alert(&["OPS"], Severity::Critical),
        ];
        assert_eq!(s.apply(&mut alerts), 3);
        assert_eq!(alerts[0].severity, Severity::High);
        assert_eq!(alerts[0].score, 60);
        assert!(
            alerts[0]
                .summary
                .ends_with("; sensitive space per scan: OPS (critical)"),
            "{}",
            alerts[0].summary
        );
        assert_eq!(alerts[1].severity, Severity::Medium);
        assert_eq!(alerts[1].score, 55);
        assert_eq!(
            alerts[2].severity,
            Severity::Medium,
            "low sensitivity changes nothing"
        );
        assert_eq!(alerts[2].score, 50);
        assert_eq!(
            alerts[3].severity,
            Severity::Critical,
            "critical stays critical"
        );
    }

    #[test]
    fn reads_scan_profiles_json() {
        let s = SpaceSensitivity::from_json(
            r#"[{"space_key":"OPS","pages":3,"secrets":2,"sensitive":1,"max_severity":"high",
                 "categories":{},"score":90,"sensitivity":"high"}]"#,
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        assert!(SpaceSensitivity::from_json("{").is_err());
    }
}
