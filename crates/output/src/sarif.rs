//! SARIF 2.1.0 writer for scan findings (validated against the OASIS schema in a test).
//!
//! Files become artifacts with their path as given (percent-encoded) and a line/column
//! region; Confluence content becomes `confluence/<space>/<page id>/v<version>` artifacts
//! with a byte-offset region. Each finding is one result; its first location is the
//! result location, the others (other versions, pages) are related locations. The
//! fingerprint goes into `partialFingerprints` so code-scanning platforms dedupe it.

use confwatch_event::finding::{Finding, Location, Severity};
use serde_json::{Value, json};
use std::io::{self, Write};

/// What SARIF needs to know about a rule.
#[derive(Debug, Clone)]
pub struct SarifRule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    /// ATT&CK material category id and kind, written as tags.
    pub tags: Vec<String>,
}

/// The published schema location written into `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Related locations written per result at most.
const MAX_RELATED: usize = 100;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0-10) to rank security results.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Percent-encodes what may not appear in a URI reference; `/` stays a separator.
fn encode_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn location_json(l: &Location, id: Option<usize>) -> Value {
    let (uri, region) = match &l.path {
        Some(p) => {
            let mut region = json!({ "startLine": l.line.unwrap_or(l.text_line).max(1) });
            if let Some(c) = l.column {
                region["startColumn"] = json!(c.max(1));
            }
            (encode_uri(p), region)
        }
        None => {
            let mut uri = format!(
                "confluence/{}/{}",
                encode_uri(l.space_key.as_deref().unwrap_or("unknown")),
                encode_uri(l.page_id.as_deref().unwrap_or("unknown"))
            );
            if let Some(v) = l.version {
                uri.push_str(&format!("/v{v}"));
            }
            if let Some(a) = &l.attachment {
                uri.push_str("/attachments/");
                uri.push_str(&encode_uri(a));
            }
            (uri, json!({ "byteOffset": l.offset.unwrap_or(0) }))
        }
    };
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri },
            "region": region,
        }
    });
    if let Some(i) = id {
        loc["id"] = json!(i);
    }
    let mut props = serde_json::Map::new();
    for (k, v) in [
        ("title", l.title.clone()),
        ("context", l.context.clone()),
        ("author", l.author.clone()),
        ("lastModified", l.last_modified.clone()),
        ("link", l.link.clone()),
    ] {
        if let Some(v) = v {
            props.insert(k.to_owned(), json!(v));
        }
    }
    if !props.is_empty() {
        loc["properties"] = Value::Object(props);
    }
    if let Some(t) = &l.title {
        loc["message"] = json!({ "text": t });
    }
    loc
}

/// The SARIF log as a JSON value.
pub fn sarif_log(findings: &[Finding], rules: &[SarifRule], tool_version: &str) -> Value {
    let rule_objs: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.name },
                "fullDescription": { "text": if r.description.is_empty() { &r.name } else { &r.description } },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": r.tags,
                    "security-severity": security_severity(r.severity),
                }
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut res = json!({
                "ruleId": f.rule_id,
                "level": level(f.severity),
                "message": { "text": format!("{}: {}", f.rule_name, f.snippet) },
                "partialFingerprints": { "confwatchSecret/v1": f.fingerprint },
                "properties": {
                    "severity": f.severity.as_str(),
                    "category": f.category.as_str(),
                    "kind": f.kind.as_str(),
                    "validated": f.validated,
                    "occurrences": f.occurrences,
                }
            });
            if let Some(i) = rules.iter().position(|r| r.id == f.rule_id) {
                res["ruleIndex"] = json!(i);
            }
            if let Some(first) = f.locations.first() {
                res["locations"] = json!([location_json(first, None)]);
            }
            let related: Vec<Value> = f
                .locations
                .iter()
                .skip(1)
                .take(MAX_RELATED)
                .enumerate()
                .map(|(i, l)| location_json(l, Some(i + 1)))
                .collect();
            if !related.is_empty() {
                res["relatedLocations"] = Value::Array(related);
            }
            res
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "confwatch",
                "semanticVersion": tool_version,
                "informationUri": "https://attack.mitre.org/techniques/T1213/001/",
                "rules": rule_objs,
            }},
            "invocations": [{ "executionSuccessful": true }],
            "results": results,
        }]
    })
}

/// Writes the SARIF log (pretty-printed, one document).
pub fn write_sarif<W: Write>(
    w: &mut W,
    findings: &[Finding],
    rules: &[SarifRule],
    tool_version: &str,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &sarif_log(findings, rules, tool_version))?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::finding::{Category, ContentType, FindingKind};

    fn sample() -> (Vec<Finding>, Vec<SarifRule>) {
        let f = Finding {
            fingerprint: "0123456789abcdef".into(),
            rule_id: "gitlab-pat".into(),
            rule_name: "GitLab personal access token".into(),
            kind: FindingKind::Secret,
            category: Category::Credentials,
            severity: Severity::Critical,
            validated: false,
            snippet: "token glpa*****".into(),
            secret: None,
            occurrences: 2,
            locations: vec![
                Location {
                    path: Some("pages/run book.xhtml".into()),
                    line: Some(4),
                    column: Some(9),
                    content_type: Some(ContentType::File),
                    text_line: 2,
                    text_column: 3,
                    ..Location::default()
                },
                Location {
                    space_key: Some("OPS".into()),
                    page_id: Some("100".into()),
                    version: Some(2),
                    title: Some("Runbook".into()),
                    attachment: Some("creds.txt".into()),
                    offset: Some(12),
                    ..Location::default()
                },
            ],
        };
        let r = SarifRule {
            id: "gitlab-pat".into(),
            name: "GitLab personal access token".into(),
            description: String::new(),
            severity: Severity::Critical,
            tags: vec!["credentials".into(), "secret".into()],
        };
        (vec![f], vec![r])
    }

    #[test]
    fn sarif_validates_against_the_oasis_schema() {
        let schema_text = include_str!("../../../testdata/scan/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(schema_text).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let (f, r) = sample();
        let log = sarif_log(&f, &r, "0.1.0");
        let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // Empty run is valid too.
        assert!(validator.is_valid(&sarif_log(&[], &r, "0.1.0")));
        // And a broken log is caught (the test can fail).
        let mut bad = log.clone();
        bad["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&bad));
    }

    #[test]
    fn sarif_shapes_locations() {
        let (f, r) = sample();
        let log = sarif_log(&f, &r, "0.1.0");
        let res = &log["runs"][0]["results"][0];
        assert_eq!(res["ruleIndex"], 0);
        assert_eq!(res["level"], "error");
        let pl = &res["locations"][0]["physicalLocation"];
        assert_eq!(pl["artifactLocation"]["uri"], "pages/run%20book.xhtml");
        assert_eq!(pl["region"]["startLine"], 4);
        assert_eq!(pl["region"]["startColumn"], 9);
        let rel = &res["relatedLocations"][0]["physicalLocation"];
        assert_eq!(
            rel["artifactLocation"]["uri"],
            "confluence/OPS/100/v2/attachments/creds.txt"
        );
        assert_eq!(rel["region"]["byteOffset"], 12);
        assert_eq!(
            res["partialFingerprints"]["confwatchSecret/v1"],
            "0123456789abcdef"
        );
    }
}
