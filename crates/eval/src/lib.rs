//! # confwatch-eval: how good are the detections?
//!
//! Compares the alerts `confwatch hunt` wrote (JSON lines) with the labels `confwatch
//! simulate` wrote, and reports the figures the detection issue gates on:
//!
//! - **recall per attack scenario**: the share of labelled attack instances that at least one
//!   alert points at (same user, or same source address, overlapping in time);
//! - **false-positive user-days per 1,000 user-days**: days on which a user (or, for alerts
//!   about an address, that address) drew an alert that no attack label explains, over the
//!   organisation's user-days;
//! - **precision at k** of the riskiest-users ranking: of the k users ranked riskiest (k = the
//!   number of attacked users), how many were attacked.
//!
//! Hard benign cases (crawler, nightly export, newcomer, …) are labelled too; alerts on them
//! count as false positives and are listed per case.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use confwatch_event::alert::Alert;
use confwatch_sim::Label;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::path::Path;

/// How far outside a label's window an alert may start or end and still count for it:
/// correlation windows close after the last request.
pub const MATCH_SLACK_MINUTES: i64 = 90;

/// Labels with more users than this name targets (spray), not the attacker's accounts.
pub const MAX_ACTORS_PER_LABEL: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not an alert or risk record: {source}")]
    Json {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
    #[error("labels: {0}")]
    Labels(String),
}

/// One riskiest-users entry, when the alerts file carries `user_risk` records.
#[derive(Debug, Clone, serde::Deserialize)]
struct UserRisk {
    user: String,
    score: f64,
}

/// What an alerts file holds: alerts, and the risk ranking if present.
#[derive(Debug, Default)]
pub struct AlertFile {
    pub alerts: Vec<Alert>,
    /// `(user, score)` from `user_risk` records, riskiest first.
    pub risk: Vec<(String, f64)>,
}

/// Reads alerts JSONL: alert objects (with `rule_id`) and `user_risk` records
/// (`{"record":"user_risk",…}`); other records are ignored.
pub fn read_alerts(path: &Path) -> Result<AlertFile, EvalError> {
    let display = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| EvalError::Io {
        path: display.clone(),
        source,
    })?;
    let mut out = AlertFile::default();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| EvalError::Io {
            path: display.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|source| EvalError::Json {
                path: display.clone(),
                line: i + 1,
                source,
            })?;
        if v.get("rule_id").is_some() {
            let a: Alert = serde_json::from_value(v).map_err(|source| EvalError::Json {
                path: display.clone(),
                line: i + 1,
                source,
            })?;
            out.alerts.push(a);
        } else if v.get("record").and_then(|r| r.as_str()) == Some("user_risk")
            && let Ok(r) = serde_json::from_value::<UserRisk>(v)
        {
            out.risk.push((r.user, r.score));
        }
    }
    out.risk
        .sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// Recall of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecall {
    pub scenario: String,
    pub instances: usize,
    pub detected: usize,
    pub recall: f64,
    /// Rules whose alerts matched this scenario's instances.
    pub rules: Vec<String>,
}

/// Alerts on one hard benign case.
#[derive(Debug, Clone, Serialize)]
pub struct BenignCase {
    pub case: String,
    pub users: Vec<String>,
    pub alerts: usize,
    pub rules: Vec<String>,
}

/// A false-positive day: who, which day, which rules.
#[derive(Debug, Clone, Serialize)]
pub struct FalsePositiveDay {
    pub subject: String,
    pub day: NaiveDate,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub alerts: usize,
    pub attack_instances: usize,
    pub detected_instances: usize,
    pub recall: f64,
    pub scenarios: Vec<ScenarioRecall>,
    pub user_days: u64,
    pub false_positive_user_days: usize,
    pub false_positives_per_1000_user_days: f64,
    pub false_positive_days: Vec<FalsePositiveDay>,
    pub benign_cases: Vec<BenignCase>,
    pub k: usize,
    pub top_k: Vec<String>,
    pub precision_at_k: f64,
    /// Where the ranking came from: `user_risk` records, or summed alert scores.
    pub ranking: String,
}

fn overlaps(a: &Alert, start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> bool {
    let slack = Duration::minutes(MATCH_SLACK_MINUTES);
    a.first_seen <= end + slack && a.last_seen >= start - slack
}

fn points_at(a: &Alert, label: &Label) -> bool {
    let user_hit = a
        .user
        .as_ref()
        .is_some_and(|u| label.users.iter().any(|l| l == u))
        || a.group.values().any(|g| label.users.iter().any(|l| l == g));
    let ip_hit = a.source_ips.iter().any(|ip| label.source_ips.contains(ip))
        || a.group.values().any(|g| label.source_ips.contains(g));
    user_hit || ip_hit
}

/// The subject a false positive is charged to: the user, else the address group.
fn subject(a: &Alert) -> String {
    if let Some(u) = &a.user {
        return u.clone();
    }
    if let Some(ip) = a.group.get("client_ip").or_else(|| a.source_ips.first()) {
        return format!("ip:{ip}");
    }
    "(unknown)".into()
}

fn days(a: &Alert) -> Vec<NaiveDate> {
    let first = a.first_seen.date_naive();
    let last = a.last_seen.date_naive().max(first);
    let mut out = Vec::new();
    let mut d = first;
    // Alerts are bounded by the run, but never walk more than a year of days.
    while d <= last && out.len() < 366 {
        out.push(d);
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// Evaluates `alerts` against `labels` over an organisation of `user_days` user-days.
pub fn evaluate(labels: &[Label], file: &AlertFile, user_days: u64) -> Report {
    let attacks: Vec<&Label> = labels.iter().filter(|l| l.is_attack()).collect();
    let benign: Vec<&Label> = labels.iter().filter(|l| !l.is_attack()).collect();
    let mut explained = vec![false; file.alerts.len()];

    let mut by_scenario: BTreeMap<String, (usize, usize, BTreeSet<String>)> = BTreeMap::new();
    for label in &attacks {
        let entry = by_scenario.entry(label.scenario.clone()).or_default();
        entry.0 += 1;
        let Some((start, end)) = label.window() else {
            continue;
        };
        let mut hit = false;
        for (i, a) in file.alerts.iter().enumerate() {
            if points_at(a, label) && overlaps(a, start, end) {
                hit = true;
                explained[i] = true;
                entry.2.insert(a.rule_id.clone());
            }
        }
        if hit {
            entry.1 += 1;
        }
    }
    let scenarios: Vec<ScenarioRecall> = by_scenario
        .into_iter()
        .map(|(scenario, (n, d, rules))| ScenarioRecall {
            scenario,
            instances: n,
            detected: d,
            recall: if n == 0 { 1.0 } else { d as f64 / n as f64 },
            rules: rules.into_iter().collect(),
        })
        .collect();

    let mut benign_cases = Vec::new();
    for label in &benign {
        let Some((start, end)) = label.window() else {
            continue;
        };
        let hits: Vec<&Alert> = file
            .alerts
            .iter()
            .enumerate()
            .filter(|(i, a)| !explained[*i] && points_at(a, label) && overlaps(a, start, end))
            .map(|(_, a)| a)
            .collect();
        benign_cases.push(BenignCase {
            case: label.scenario.clone(),
            users: label.users.clone(),
            alerts: hits.len(),
            rules: hits
                .iter()
                .map(|a| a.rule_id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        });
    }

    let mut fp: BTreeMap<(String, NaiveDate), BTreeSet<String>> = BTreeMap::new();
    for (i, a) in file.alerts.iter().enumerate() {
        if explained[i] {
            continue;
        }
        for d in days(a) {
            fp.entry((subject(a), d))
                .or_default()
                .insert(a.rule_id.clone());
        }
    }
    let false_positive_days: Vec<FalsePositiveDay> = fp
        .into_iter()
        .map(|((subject, day), rules)| FalsePositiveDay {
            subject,
            day,
            rules: rules.into_iter().collect(),
        })
        .collect();

    // The users an attacker acted as. A label naming many users (a password spray lists its
    // targets) is about an address, not an actor, and takes no place in the ranking.
    let attacked: BTreeSet<&str> = attacks
        .iter()
        .filter(|l| l.users.len() <= MAX_ACTORS_PER_LABEL)
        .flat_map(|l| l.users.iter().map(String::as_str))
        .collect();
    let (ranking_source, ranked): (&str, Vec<String>) = if file.risk.is_empty() {
        let mut sum: HashMap<&str, f64> = HashMap::new();
        for a in &file.alerts {
            if let Some(u) = &a.user {
                *sum.entry(u.as_str()).or_default() += f64::from(a.score);
            }
        }
        let mut v: Vec<(&str, f64)> = sum.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        (
            "summed alert scores",
            v.into_iter().map(|(u, _)| u.to_string()).collect(),
        )
    } else {
        (
            "user_risk records",
            file.risk.iter().map(|(u, _)| u.clone()).collect(),
        )
    };
    let k = attacked.len();
    let top_k: Vec<String> = ranked.into_iter().take(k).collect();
    let hits = top_k
        .iter()
        .filter(|u| attacked.contains(u.as_str()))
        .count();
    let detected_instances: usize = scenarios.iter().map(|s| s.detected).sum();
    Report {
        alerts: file.alerts.len(),
        attack_instances: attacks.len(),
        detected_instances,
        recall: if attacks.is_empty() {
            1.0
        } else {
            detected_instances as f64 / attacks.len() as f64
        },
        scenarios,
        user_days,
        false_positive_user_days: false_positive_days.len(),
        false_positives_per_1000_user_days: if user_days == 0 {
            0.0
        } else {
            false_positive_days.len() as f64 * 1000.0 / user_days as f64
        },
        false_positive_days,
        benign_cases,
        k,
        top_k,
        precision_at_k: if k == 0 { 1.0 } else { hits as f64 / k as f64 },
        ranking: ranking_source.to_string(),
    }
}

/// The gates a CI run applies.
#[derive(Debug, Clone, Copy)]
pub struct Gates {
    pub min_recall: f64,
    pub max_fp_per_1000: f64,
    pub min_precision_at_k: f64,
}

impl Default for Gates {
    fn default() -> Gates {
        Gates {
            min_recall: 1.0,
            max_fp_per_1000: 2.0,
            min_precision_at_k: 0.75,
        }
    }
}

/// Each gate that failed, as a sentence.
pub fn check(report: &Report, gates: Gates) -> Vec<String> {
    let mut failed = Vec::new();
    for s in &report.scenarios {
        if s.recall + 1e-9 < gates.min_recall {
            failed.push(format!(
                "recall of {} is {:.2} ({} of {} instances), below {:.2}",
                s.scenario, s.recall, s.detected, s.instances, gates.min_recall
            ));
        }
    }
    if report.false_positives_per_1000_user_days > gates.max_fp_per_1000 + 1e-9 {
        failed.push(format!(
            "{:.2} false-positive user-days per 1,000 (of {} user-days), above {:.2}",
            report.false_positives_per_1000_user_days, report.user_days, gates.max_fp_per_1000
        ));
    }
    if report.precision_at_k + 1e-9 < gates.min_precision_at_k {
        failed.push(format!(
            "precision at k={} of the riskiest users is {:.2}, below {:.2}",
            report.k, report.precision_at_k, gates.min_precision_at_k
        ));
    }
    failed
}

/// Reads labels with the simulator's reader, mapping its error.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, EvalError> {
    confwatch_sim::read_labels(path).map_err(|e| EvalError::Labels(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::alert::{Evidence, Severity};

    fn ts(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    fn label(scenario: &str, kind: &str, user: &str, ip: &str, start: &str, end: &str) -> Label {
        serde_json::from_value(serde_json::json!({
            "scenario": scenario, "kind": kind, "users": [user], "source_ips": [ip],
            "start": start, "end": end, "description": "", "techniques": []
        }))
        .expect("label")
    }

    fn alert(
        rule: &str,
        user: Option<&str>,
        ip: &str,
        first: &str,
        last: &str,
        score: u8,
    ) -> Alert {
        Alert {
            rule_id: rule.into(),
            rule_uuid: None,
            title: rule.into(),
            severity: Severity::High,
            user: user.map(str::to_string),
            source_ips: vec![ip.into()],
            first_seen: ts(first),
            last_seen: ts(last),
            techniques: vec![],
            score,
            summary: String::new(),
            group: BTreeMap::new(),
            privileged: false,
            episode: None,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn recall_false_positives_and_precision() {
        let labels = vec![
            label(
                "credential_hunt",
                "attack",
                "bob",
                "185.220.101.47",
                "2026-03-02T02:00:00+01:00",
                "2026-03-02T03:00:00+01:00",
            ),
            label(
                "rest_scrape",
                "attack",
                "eve",
                "10.9.9.9",
                "2026-03-03T10:00:00+01:00",
                "2026-03-03T11:00:00+01:00",
            ),
            label(
                "crawler",
                "benign",
                "svc-search",
                "10.0.0.50",
                "2026-03-02T00:00:00+01:00",
                "2026-03-04T00:00:00+01:00",
            ),
        ];
        let file = AlertFile {
            alerts: vec![
                alert(
                    "cred",
                    Some("bob"),
                    "185.220.101.47",
                    "2026-03-02T02:10:00+01:00",
                    "2026-03-02T02:40:00+01:00",
                    80,
                ),
                // Far from the attack window: a false positive for bob on another day.
                alert(
                    "cred",
                    Some("bob"),
                    "10.1.1.1",
                    "2026-03-05T09:00:00+01:00",
                    "2026-03-05T09:10:00+01:00",
                    40,
                ),
                alert(
                    "scripted",
                    Some("svc-search"),
                    "10.0.0.50",
                    "2026-03-02T01:00:00+01:00",
                    "2026-03-02T01:30:00+01:00",
                    90,
                ),
            ],
            risk: vec![],
        };
        let r = evaluate(&labels, &file, 1000);
        assert_eq!(r.recall, 0.5);
        let cred = r
            .scenarios
            .iter()
            .find(|s| s.scenario == "credential_hunt")
            .expect("s");
        assert_eq!((cred.detected, cred.instances), (1, 1));
        assert_eq!(r.false_positive_user_days, 2);
        assert_eq!(r.false_positives_per_1000_user_days, 2.0);
        assert_eq!(r.benign_cases[0].alerts, 1);
        // k = 2 attacked users; the crawler (90) outranks bob (120 summed)? bob 80+40=120 first.
        assert_eq!(r.top_k, vec!["bob".to_string(), "svc-search".to_string()]);
        assert_eq!(r.precision_at_k, 0.5);
        let failed = check(&r, Gates::default());
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(failed.iter().any(|f| f.contains("rest_scrape")));
    }

    #[test]
    fn ip_alerts_match_by_address() {
        let labels = vec![label(
            "password_spray",
            "attack",
            "many",
            "198.51.100.7",
            "2026-03-02T02:00:00Z",
            "2026-03-02T02:20:00Z",
        )];
        let file = AlertFile {
            alerts: vec![alert(
                "spray",
                None,
                "198.51.100.7",
                "2026-03-02T02:05:00Z",
                "2026-03-02T02:15:00Z",
                70,
            )],
            risk: vec![],
        };
        let r = evaluate(&labels, &file, 10);
        assert_eq!(r.recall, 1.0);
        assert_eq!(r.false_positive_user_days, 0);
    }
}
