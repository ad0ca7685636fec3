//! Rule self-tests (`confwatch rules test`): each rule file `<name>.yml` may have a
//! `<name>.tests.yml` next to it with positive and negative cases. Each case feeds its
//! events to a hunt that loads only that rule file and checks the alerts.
//!
//! Format (documented in `docs/detections.md`):
//! ```yaml
//! cases:
//!   - name: credential searches then reading
//!     expect: alert            # alert | none
//!     rule: confluence_x       # optional: which rule must (not) alert; default any
//!     count: 1                 # optional: exact number of alerts of that rule
//!     summary_contains: "searched for 'password'"
//!     privileged: [admin]      # optional privileged accounts
//!     events:
//!       - { at: 0s, user: jdoe, client_ip: 10.0.0.1, action: site_search, search_query: password }
//!       - { at: 1m, repeat: 30, every: 10s, user: jdoe, action: page_view, page_id: "{i}" }
//! ```
//! `{i}` in any string value is replaced by the repetition index (0-based); values that
//! are then numbers for numeric fields (`page_id`, `status`, …) are converted.

use crate::config::HuntConfig;
use crate::error::DetectError;
use crate::hunt::{HuntOptions, hunt};
use crate::rules::RuleSet;
use chrono::{DateTime, Duration, FixedOffset};
use confwatch_event::Event;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Upper bound on events one case may generate (`repeat` is input).
const MAX_EVENTS_PER_CASE: u64 = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Alert,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    pub expect: Expect,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub count: Option<usize>,
    #[serde(default)]
    pub summary_contains: Option<String>,
    #[serde(default)]
    pub privileged: Vec<String>,
    #[serde(default)]
    pub sensitive_terms: Vec<String>,
    pub events: Vec<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub cases: Vec<TestCase>,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub file: String,
    pub case: String,
    pub passed: bool,
    /// Why it failed, or what it saw.
    pub detail: String,
}

const BASE_TIME: &str = "2026-01-05T10:00:00+01:00";

fn base_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(BASE_TIME).unwrap_or_default()
}

fn offset_secs(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("bad offset {n}")),
        Value::String(s) if s.trim() == "0" => Ok(0),
        Value::String(s) => rsigma_parser::Timespan::parse(s.trim())
            .map(|t| i64::try_from(t.seconds).unwrap_or(i64::MAX / 4))
            .map_err(|e| format!("bad duration {s:?}: {e}")),
        other => Err(format!("bad offset {other}")),
    }
}

fn subst(v: &Value, i: u64) -> Value {
    match v {
        Value::String(s) if s.contains("{i}") => Value::String(s.replace("{i}", &i.to_string())),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), subst(v, i))).collect())
        }
        other => other.clone(),
    }
}

/// Fields that are numbers in [`Event`]; `"{i}"`-templated strings are converted back.
const NUMERIC: &[&str] = &[
    "status",
    "bytes",
    "duration_ms",
    "page_id",
    "version",
    "line",
    "limit",
    "start",
    "api_version",
];

fn numberize(k: &str, v: Value) -> Value {
    if NUMERIC.contains(&k)
        && let Value::String(s) = &v
        && let Ok(n) = s.trim().parse::<u64>()
    {
        return Value::from(n);
    }
    v
}

/// Builds events from one case's shorthand entries.
pub fn case_events(case: &TestCase, file: &str) -> Result<Vec<Event>, String> {
    let base = base_time();
    let mut out = Vec::new();
    for (idx, entry) in case.events.iter().enumerate() {
        let at = entry.get("at").map(offset_secs).transpose()?.unwrap_or(0);
        let repeat = entry.get("repeat").and_then(Value::as_u64).unwrap_or(1);
        let every = entry
            .get("every")
            .map(offset_secs)
            .transpose()?
            .unwrap_or(1);
        if (out.len() as u64).saturating_add(repeat) > MAX_EVENTS_PER_CASE {
            return Err(format!("more than {MAX_EVENTS_PER_CASE} events"));
        }
        for i in 0..repeat {
            let mut ev = Map::new();
            let mut object = Map::new();
            for (k, v) in entry {
                let v = numberize(k, subst(v, i));
                match k.as_str() {
                    "at" | "repeat" | "every" => {}
                    "space_key" | "page_id" | "title" | "attachment" | "version" => {
                        object.insert(k.clone(), v);
                    }
                    "rest" => {
                        let mut r = v.as_object().cloned().unwrap_or_default();
                        r.entry("api_version").or_insert(Value::from(1));
                        r.entry("body_expanded").or_insert(Value::Bool(false));
                        let r: Map<String, Value> = r
                            .into_iter()
                            .map(|(k, v)| (k.clone(), numberize(&k, v)))
                            .collect();
                        ev.insert(k.clone(), Value::Object(r));
                    }
                    "audit" => {
                        ev.insert(k.clone(), v);
                        ev.entry("format").or_insert(Value::from("dc-audit-file"));
                    }
                    "user" | "user_id" | "client_ip" | "client_host" | "peer_ip"
                    | "forwarded_for" | "user_agent" | "method" | "url" | "status" | "bytes"
                    | "duration_ms" | "referer" | "thread" | "session_id" | "search_query"
                    | "action" | "outcome" | "format" => {
                        ev.insert(k.clone(), v);
                    }
                    other => return Err(format!("event {}: unknown field '{other}'", idx + 1)),
                }
            }
            let ts = base + Duration::seconds(at.saturating_add(every.saturating_mul(i as i64)));
            ev.insert("timestamp".into(), Value::from(ts.to_rfc3339()));
            ev.entry("format").or_insert(Value::from("tomcat-access"));
            ev.entry("action").or_insert(Value::from("other"));
            if !ev.contains_key("outcome") {
                let o = match ev.get("status").and_then(Value::as_u64) {
                    Some(s) if s < 400 => "success",
                    Some(_) => "failure",
                    None => "unknown",
                };
                ev.insert("outcome".into(), Value::from(o));
            }
            if !object.is_empty() {
                ev.insert("object".into(), Value::Object(object));
            }
            ev.insert(
                "origin".into(),
                serde_json::json!({ "file": file, "line": out.len() + 1 }),
            );
            let e: Event = serde_json::from_value(Value::Object(ev))
                .map_err(|e| format!("event {}: {e}", idx + 1))?;
            out.push(e);
        }
    }
    out.sort_by_key(|e| e.timestamp);
    Ok(out)
}

/// Parses a tests file.
pub fn parse_tests(path: &str, text: &str) -> Result<TestFile, DetectError> {
    serde_saphyr::from_str::<TestFile>(text).map_err(|e| DetectError::TestFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Runs every case of every rule file in `set` that has tests. Files without tests are
/// reported as failures when `require_tests` is set.
pub fn run_rule_tests(set: &RuleSet, require_tests: bool) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for (i, f) in set.files.iter().enumerate() {
        let own = set.alerting_in(i);
        let Some((tpath, text)) = &f.tests else {
            // Shared building blocks (no alerting rule) are tested through their users.
            if require_tests && !own.is_empty() {
                out.push(CaseResult {
                    file: f.path.clone(),
                    case: "(tests)".into(),
                    passed: false,
                    detail: "no .tests.yml next to the rule".into(),
                });
            }
            continue;
        };
        let tf = match parse_tests(tpath, text) {
            Ok(t) => t,
            Err(e) => {
                out.push(CaseResult {
                    file: tpath.clone(),
                    case: "(parse)".into(),
                    passed: false,
                    detail: e.to_string(),
                });
                continue;
            }
        };
        let only = set.only(i);
        let mut has_pos = false;
        let mut has_neg = false;
        for case in &tf.cases {
            match case.expect {
                Expect::Alert => has_pos = true,
                Expect::None => has_neg = true,
            }
            out.push(run_case(&only, &own, case, tpath));
        }
        if require_tests && !(has_pos && has_neg) {
            out.push(CaseResult {
                file: tpath.clone(),
                case: "(coverage)".into(),
                passed: false,
                detail: "needs at least one `expect: alert` and one `expect: none` case".into(),
            });
        }
    }
    out
}

fn run_case(set: &RuleSet, own: &[String], case: &TestCase, tpath: &str) -> CaseResult {
    let fail = |detail: String| CaseResult {
        file: tpath.to_owned(),
        case: case.name.clone(),
        passed: false,
        detail,
    };
    let events = match case_events(case, tpath) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let cfg = HuntConfig {
        privileged_accounts: case.privileged.clone(),
        sensitive_terms: case.sensitive_terms.clone(),
        ..HuntConfig::default()
    };
    let report = match hunt(events, &cfg, HuntOptions::default(), set) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let relevant: Vec<_> = report
        .alerts
        .iter()
        .filter(|a| match &case.rule {
            Some(r) => &a.rule_id == r,
            // Only this file's rules: dependencies loaded with it do not count.
            None => own.contains(&a.rule_id),
        })
        .collect();
    let seen = relevant
        .iter()
        .map(|a| format!("{}: {}", a.rule_id, a.summary))
        .collect::<Vec<_>>()
        .join(" | ");
    let ok = match case.expect {
        Expect::Alert => !relevant.is_empty(),
        Expect::None => relevant.is_empty(),
    };
    if !ok {
        return fail(format!(
            "expected {}, got {} alert(s){}",
            if case.expect == Expect::Alert {
                "an alert"
            } else {
                "no alert"
            },
            relevant.len(),
            if seen.is_empty() {
                String::new()
            } else {
                format!(": {seen}")
            }
        ));
    }
    if let Some(n) = case.count
        && relevant.len() != n
    {
        return fail(format!(
            "expected {n} alert(s), got {}: {seen}",
            relevant.len()
        ));
    }
    if let Some(want) = &case.summary_contains
        && !relevant.iter().any(|a| a.summary.contains(want.as_str()))
    {
        return fail(format!("no summary contains {want:?}; got: {seen}"));
    }
    CaseResult {
        file: tpath.to_owned(),
        case: case.name.clone(),
        passed: true,
        detail: seen,
    }
}
