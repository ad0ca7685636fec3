//! Alert writers: terminal table (sorted by severity then time, with a closing summary),
//! JSON lines, CSV (cells guarded against formula injection) and Elastic Common Schema
//! NDJSON. Every string from a log is treated as attacker-controlled: control characters
//! are neutralised in the table and CSV cells are guarded.

use crate::csv_guard::csv_cell;
use crate::text::{clean, clip};
use confwatch_event::alert::{Alert, Severity};
use confwatch_event::attack::technique_name;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Output formats of `confwatch hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    Table,
    Jsonl,
    Csv,
    Ecs,
}

impl AlertFormat {
    pub fn from_name(name: &str) -> Option<AlertFormat> {
        Some(match name {
            "table" => AlertFormat::Table,
            "jsonl" | "json" => AlertFormat::Jsonl,
            "csv" => AlertFormat::Csv,
            "ecs" => AlertFormat::Ecs,
            _ => return None,
        })
    }
}

/// What the table's closing summary reports besides the alerts themselves.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub events_read: u64,
    pub events_in_range: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub rules_loaded: usize,
    /// (allowlist reason, alerts suppressed).
    pub suppressed: Vec<(String, u64)>,
    pub below_min_severity: u64,
    /// Per-user risk from behaviour analytics, riskiest first; when empty the table ranks
    /// users by their summed alert scores instead.
    pub riskiest: Vec<RiskyUser>,
    /// Rule alerts suppressed as routine, one entry per account and rule: (the latest
    /// alert's reason, alerts).
    pub routine_suppressed: Vec<(String, u64)>,
}

/// One line of the riskiest-users ranking.
#[derive(Debug, Clone, Default)]
pub struct RiskyUser {
    pub user: String,
    /// 0–100.
    pub score: f64,
    pub alerts: usize,
    pub episodes: usize,
    /// Rules behind the score, strongest first.
    pub signals: Vec<String>,
}

/// Writes the table: one line per alert, then the run summary.
pub fn write_table<W: Write>(w: &mut W, alerts: &[Alert], run: &RunSummary) -> io::Result<()> {
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen.cmp(&b.first_seen))
    });
    if sorted.is_empty() {
        writeln!(w, "No alerts.")?;
    } else {
        writeln!(
            w,
            "{:<13} {:>5}  {:<25}  {:<38}  {:<16}  SUMMARY",
            "SEVERITY", "SCORE", "FIRST SEEN", "RULE", "USER"
        )?;
        for a in &sorted {
            writeln!(
                w,
                "{:<13} {:>5}  {:<25}  {:<38}  {:<16}  {}",
                a.severity.as_str(),
                a.score,
                a.first_seen.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
                clip(&a.rule_id, 38),
                clip(a.user.as_deref().unwrap_or("-"), 16),
                clean(&a.summary)
            )?;
        }
    }
    writeln!(w)?;
    write_summary(w, alerts, run)
}

fn write_summary<W: Write>(w: &mut W, alerts: &[Alert], run: &RunSummary) -> io::Result<()> {
    let range = match (&run.first_event, &run.last_event) {
        (Some(f), Some(l)) => format!(", {f} .. {l}"),
        _ => String::new(),
    };
    writeln!(
        w,
        "Events read: {} ({} in range{range}); rules: {}",
        run.events_read, run.events_in_range, run.rules_loaded
    )?;
    let mut by_sev: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_user: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    for a in alerts {
        *by_sev.entry(a.severity).or_default() += 1;
        *by_rule.entry(&a.rule_id).or_default() += 1;
        if let Some(u) = &a.user {
            let e = by_user.entry(u).or_default();
            e.0 += u64::from(a.score);
            e.1 += 1;
        }
    }
    let sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", s.as_str(), by_sev.get(s).copied().unwrap_or(0)))
        .collect();
    writeln!(w, "Alerts: {} ({})", alerts.len(), sev.join(", "))?;
    if !by_rule.is_empty() {
        let mut rules: Vec<(&str, usize)> = by_rule.into_iter().collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let r: Vec<String> = rules
            .iter()
            .map(|(r, n)| format!("{} {n}", clean(r)))
            .collect();
        writeln!(w, "By rule: {}", r.join(", "))?;
    }
    if !run.riskiest.is_empty() {
        let u: Vec<String> = run
            .riskiest
            .iter()
            .take(5)
            .map(|r| {
                format!(
                    "{} (risk {:.0}/100, {} alert{} in {} episode{}: {})",
                    clip(&r.user, 40),
                    r.score,
                    r.alerts,
                    if r.alerts == 1 { "" } else { "s" },
                    r.episodes,
                    if r.episodes == 1 { "" } else { "s" },
                    r.signals
                        .iter()
                        .take(3)
                        .map(|s| clean(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        writeln!(w, "Riskiest users: {}", u.join("; "))?;
    } else if !by_user.is_empty() {
        let mut users: Vec<(&str, (u64, usize))> = by_user.into_iter().collect();
        users.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let u: Vec<String> = users
            .iter()
            .take(5)
            .map(|(u, (s, n))| {
                format!(
                    "{} (score {s}, {n} alert{})",
                    clip(u, 40),
                    if *n == 1 { "" } else { "s" }
                )
            })
            .collect();
        writeln!(w, "Riskiest users: {}", u.join(", "))?;
    }
    for (reason, n) in &run.suppressed {
        writeln!(w, "Suppressed by allowlist: {n} ({})", clean(reason))?;
    }
    for (reason, n) in &run.routine_suppressed {
        writeln!(w, "Suppressed as routine: {n} ({})", clean(reason))?;
    }
    if run.below_min_severity > 0 {
        writeln!(w, "Below --min-severity: {}", run.below_min_severity)?;
    }
    Ok(())
}

/// One alert per line, the schema of `docs/alerts.md`.
pub fn write_jsonl<W: Write>(w: &mut W, alerts: &[Alert]) -> io::Result<()> {
    for a in alerts {
        serde_json::to_writer(&mut *w, a)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The CSV header, in column order.
pub const CSV_COLUMNS: &[&str] = &[
    "severity",
    "score",
    "rule_id",
    "title",
    "user",
    "source_ips",
    "first_seen",
    "last_seen",
    "techniques",
    "summary",
    "event_count",
    "sample_origins",
];

/// CSV with a header; every cell guarded against formula injection.
pub fn write_csv<W: Write>(w: &mut W, alerts: &[Alert]) -> io::Result<()> {
    writeln!(w, "{}", CSV_COLUMNS.join(","))?;
    for a in alerts {
        let origins: Vec<&str> = a
            .evidence
            .samples
            .iter()
            .map(|s| s.origin.as_str())
            .collect();
        let cells = [
            a.severity.as_str().to_owned(),
            a.score.to_string(),
            a.rule_id.clone(),
            a.title.clone(),
            a.user.clone().unwrap_or_default(),
            a.source_ips.join(" "),
            a.first_seen.to_rfc3339(),
            a.last_seen.to_rfc3339(),
            a.techniques.join(" "),
            a.summary.clone(),
            a.evidence.event_count.to_string(),
            origins.join(" "),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    Ok(())
}

fn severity_number(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn technique_url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// ECS `threat.technique` entries: sub-techniques nest under their parent.
fn ecs_techniques(ids: &[String]) -> Vec<Value> {
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in ids {
        match id.split_once('.') {
            Some((p, _)) => parents.entry(p.to_owned()).or_default().push(id.clone()),
            None => {
                parents.entry(id.clone()).or_default();
            }
        }
    }
    parents
        .into_iter()
        .map(|(p, subs)| {
            let mut t = json!({
                "id": p,
                "name": technique_name(&p).unwrap_or(""),
                "reference": technique_url(&p),
            });
            if !subs.is_empty()
                && let Some(obj) = t.as_object_mut()
            {
                let s: Vec<Value> = subs
                    .iter()
                    .map(|s| json!({"id": s, "name": technique_name(s).unwrap_or(""), "reference": technique_url(s)}))
                    .collect();
                obj.insert("subtechnique".into(), Value::Array(s));
            }
            t
        })
        .collect()
}

/// One alert as an Elastic Common Schema document.
pub fn ecs_document(a: &Alert) -> Value {
    let mut users: Vec<String> = a.evidence.values.get("users").cloned().unwrap_or_default();
    if let Some(u) = &a.user
        && !users.contains(u)
    {
        users.insert(0, u.clone());
    }
    let mut doc = json!({
        "@timestamp": a.first_seen.to_rfc3339(),
        "message": a.summary,
        "ecs": { "version": "8.17.0" },
        "event": {
            "kind": "alert",
            "category": ["intrusion_detection"],
            "type": ["info"],
            "module": "confwatch",
            "dataset": "confwatch.alert",
            "provider": "confwatch",
            "severity": severity_number(a.severity),
            "risk_score": a.score,
            "risk_score_norm": a.score,
            "start": a.first_seen.to_rfc3339(),
            "end": a.last_seen.to_rfc3339(),
        },
        "log": { "level": a.severity.as_str() },
        "rule": {
            "id": a.rule_uuid.clone().unwrap_or_else(|| a.rule_id.clone()),
            "name": a.rule_id,
            "description": a.title,
            "ruleset": "confwatch",
        },
        "threat": {
            "framework": "MITRE ATT&CK",
            "technique": ecs_techniques(&a.techniques),
        },
        "related": { "ip": a.source_ips, "user": users },
        "confwatch": {
            "title": a.title,
            "severity": a.severity.as_str(),
            "group": a.group,
            "privileged": a.privileged,
            "evidence": a.evidence,
        },
    });
    if let Some(obj) = doc.as_object_mut() {
        if let Some(u) = &a.user {
            obj.insert("user".into(), json!({ "name": u }));
        }
        if let Some(ip) = a.source_ips.first() {
            obj.insert("source".into(), json!({ "ip": ip }));
        }
    }
    doc
}

/// ECS NDJSON, one document per alert (loads into Elasticsearch with the bulk API).
pub fn write_ecs<W: Write>(w: &mut W, alerts: &[Alert]) -> io::Result<()> {
    for a in alerts {
        serde_json::to_writer(&mut *w, &ecs_document(a))?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes `alerts` in `format`.
pub fn write_alerts<W: Write>(
    w: &mut W,
    format: AlertFormat,
    alerts: &[Alert],
    run: &RunSummary,
) -> io::Result<()> {
    match format {
        AlertFormat::Table => write_table(w, alerts, run),
        AlertFormat::Jsonl => write_jsonl(w, alerts),
        AlertFormat::Csv => write_csv(w, alerts),
        AlertFormat::Ecs => write_ecs(w, alerts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::alert::{Evidence, SampleRequest};

    fn alert(rule: &str, sev: Severity, user: &str, minute: u32, summary: &str) -> Alert {
        // The output crate has no chrono dependency; parse through serde.
        let t =
            serde_json::from_value(json!(format!("2026-03-02T09:{minute:02}:00+01:00"))).unwrap();
        Alert {
            rule_id: rule.into(),
            rule_uuid: Some("5f0c8a57-0000-4000-8000-000000000001".into()),
            title: format!("Title of {rule}"),
            severity: sev,
            user: Some(user.into()),
            source_ips: vec!["185.220.101.47".into()],
            first_seen: t,
            last_seen: t,
            techniques: vec!["T1213.001".into(), "T1119".into()],
            score: 70,
            summary: summary.into(),
            group: BTreeMap::new(),
            privileged: false,
            episode: None,
            evidence: Evidence {
                event_count: 3,
                samples: vec![SampleRequest {
                    timestamp: t,
                    origin: "access.log:12".into(),
                    action: "page_view".into(),
                    user: Some(user.into()),
                    client_ip: None,
                    method: Some("GET".into()),
                    url: Some("/display/OPS/Home".into()),
                    status: Some(200),
                    user_agent: None,
                    search_query: None,
                    audit_action: None,
                }],
                ..Evidence::default()
            },
        }
    }

    #[test]
    fn table_sorts_by_severity_then_time_and_summarises() {
        let alerts = vec![
            alert("r_low", Severity::Low, "bob", 5, "low one"),
            alert("r_high_late", Severity::High, "jdoe", 30, "high late"),
            alert(
                "r_high_early",
                Severity::High,
                "jdoe",
                1,
                "high early\x1b[31m",
            ),
        ];
        let mut out = Vec::new();
        write_table(
            &mut out,
            &alerts,
            &RunSummary {
                events_read: 10,
                events_in_range: 9,
                rules_loaded: 3,
                ..RunSummary::default()
            },
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        let early = s.find("r_high_early").unwrap();
        let late = s.find("r_high_late").unwrap();
        let low = s.find("r_low").unwrap();
        assert!(early < late && late < low, "{s}");
        assert!(!s.contains('\x1b'), "escape sequences are neutralised");
        assert!(
            s.contains("Alerts: 3 (critical 0, high 2, medium 0, low 1, informational 0)"),
            "{s}"
        );
        assert!(
            s.contains("Riskiest users: jdoe (score 140, 2 alerts), bob (score 70, 1 alert)"),
            "{s}"
        );
        assert!(s.contains("Events read: 10 (9 in range)"), "{s}");
    }

    #[test]
    fn csv_cells_are_guarded_and_quoted() {
        let a = alert("r", Severity::Medium, "=HYPERLINK(\"http://x\")", 0, "a, b");
        let mut out = Vec::new();
        write_csv(&mut out, &[a]).unwrap();
        let s = String::from_utf8(out).unwrap();
        let line = s.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{line}");
        assert!(line.contains("\"a, b\""), "{line}");
        assert!(line.ends_with("access.log:12"), "{line}");
    }

    #[test]
    fn ecs_uses_elastic_field_names() {
        let d = ecs_document(&alert("r", Severity::High, "jdoe", 0, "s"));
        assert_eq!(d["event"]["kind"], "alert");
        assert_eq!(d["event"]["risk_score"], 70);
        assert_eq!(d["user"]["name"], "jdoe");
        assert_eq!(d["source"]["ip"], "185.220.101.47");
        assert_eq!(d["rule"]["name"], "r");
        assert_eq!(d["threat"]["framework"], "MITRE ATT&CK");
        let techs = d["threat"]["technique"].as_array().unwrap();
        let t1213 = techs.iter().find(|t| t["id"] == "T1213").unwrap();
        assert_eq!(t1213["subtechnique"][0]["id"], "T1213.001");
        assert_eq!(d["@timestamp"], "2026-03-02T09:00:00+01:00");
        assert_eq!(
            d["confwatch"]["evidence"]["samples"][0]["origin"],
            "access.log:12"
        );
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let alerts = vec![
            alert("a", Severity::Low, "x", 0, "s"),
            alert("b", Severity::Low, "y", 1, "t"),
        ];
        let mut out = Vec::new();
        write_jsonl(&mut out, &alerts).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["rule_id"], "b");
    }
}
