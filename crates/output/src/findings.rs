//! Finding writers for `confwatch scan`: terminal table (findings, then spaces ranked by
//! exposure), JSON lines, CSV (cells guarded against formula injection). Page titles,
//! snippets and paths come from the scanned content and are treated as attacker-controlled:
//! control characters are neutralised in the table and CSV cells are guarded. Secrets are
//! whatever the finding holds: the scanner redacts them unless `--show-secrets`.

use crate::csv_guard::csv_cell;
use crate::text::{clean, clip};
use confwatch_event::finding::{Finding, Location, SpaceProfile};
use serde_json::{Map, Value};
use std::io::{self, Write};

/// Output formats of `confwatch scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingFormat {
    Table,
    Jsonl,
    Csv,
    Sarif,
}

impl FindingFormat {
    pub fn from_name(name: &str) -> Option<FindingFormat> {
        Some(match name {
            "table" => FindingFormat::Table,
            "jsonl" | "json" => FindingFormat::Jsonl,
            "csv" => FindingFormat::Csv,
            "sarif" => FindingFormat::Sarif,
            _ => return None,
        })
    }
}

/// A one-line human description of where a location is.
pub fn describe_location(l: &Location) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &l.path {
        match (l.line, l.column) {
            (Some(line), Some(col)) => parts.push(format!("{p}:{line}:{col}")),
            (Some(line), None) => parts.push(format!("{p}:{line}")),
            _ => parts.push(p.clone()),
        }
    }
    if let Some(s) = &l.space_key {
        let mut page = s.clone();
        if let Some(id) = &l.page_id {
            page.push('/');
            page.push_str(id);
        }
        if let Some(v) = l.version {
            page.push_str(&format!(" v{v}"));
        }
        if let Some(t) = &l.title {
            page.push_str(&format!(" \"{t}\""));
        }
        parts.push(page);
    }
    if let Some(a) = &l.attachment {
        parts.push(format!("attachment {a}"));
    }
    if l.path.is_none() {
        parts.push(format!("line {}", l.text_line));
    }
    if let Some(c) = &l.context {
        parts.push(format!("[{c}]"));
    }
    parts.join(" ")
}

/// Findings as an aligned table, then the per-space summary.
pub fn write_table<W: Write>(
    w: &mut W,
    findings: &[Finding],
    spaces: &[SpaceProfile],
) -> io::Result<()> {
    if findings.is_empty() {
        writeln!(w, "No findings.")?;
    } else {
        writeln!(
            w,
            "{:<8} {:<28} {:<16} {:>4}  {:<50} SNIPPET",
            "SEVERITY", "RULE", "FINGERPRINT", "SEEN", "WHERE"
        )?;
        for f in findings {
            let first = f
                .locations
                .first()
                .map(describe_location)
                .unwrap_or_default();
            writeln!(
                w,
                "{:<8} {:<28} {:<16} {:>4}  {:<50} {}",
                f.severity.as_str(),
                clip(&f.rule_id, 28),
                f.fingerprint,
                f.occurrences,
                clip(&first, 50),
                clip(&f.snippet, 80)
            )?;
        }
    }
    writeln!(w)?;
    write_space_summary(w, spaces)?;
    let secrets = findings
        .iter()
        .filter(|f| f.kind == confwatch_event::finding::FindingKind::Secret)
        .count();
    writeln!(
        w,
        "\n{} finding(s): {} secret(s), {} sensitive item(s).",
        findings.len(),
        secrets,
        findings.len() - secrets
    )
}

/// Spaces ranked by exposure score (highest first).
pub fn write_space_summary<W: Write>(w: &mut W, spaces: &[SpaceProfile]) -> io::Result<()> {
    writeln!(w, "Spaces ranked by exposure:")?;
    writeln!(
        w,
        "{:>4} {:<24} {:>6} {:>7} {:>9} {:<11} {:>6}  CATEGORIES (pages)",
        "RANK", "SPACE", "PAGES", "SECRETS", "SENSITIVE", "SENSITIVITY", "SCORE"
    )?;
    for (i, s) in spaces.iter().enumerate() {
        let cats: Vec<String> = s
            .categories
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        let name = match &s.space_name {
            Some(n) => format!("{} ({n})", s.space_key),
            None => s.space_key.clone(),
        };
        writeln!(
            w,
            "{:>4} {:<24} {:>6} {:>7} {:>9} {:<11} {:>6}  {}",
            i + 1,
            clip(&name, 24),
            s.pages,
            s.secrets,
            s.sensitive,
            s.sensitivity.as_str(),
            s.score,
            clean(&cats.join(", "))
        )?;
    }
    Ok(())
}

/// The JSON object of one finding: every field of [`Finding`], plus the first location's
/// fields at the top level (`path`, `line`, `column` for files; `space_key`, `page_id`,
/// `version`, `offset` for exports) so simple consumers need not open `locations`.
pub fn finding_json(f: &Finding) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let (Value::Object(obj), Some(first)) = (&mut v, f.locations.first())
        && let Ok(Value::Object(loc)) = serde_json::to_value(first)
    {
        let mut top = Map::new();
        for (k, val) in loc {
            if !obj.contains_key(&k) {
                top.insert(k, val);
            }
        }
        obj.extend(top);
    }
    v
}

/// The JSONL record: the finding's fields plus its first location's, serialised without an
/// intermediate `Value` (scans can report hundreds of thousands of findings).
#[derive(serde::Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    first: Option<&'a Location>,
}

/// One JSON object per finding per line (same fields as [`finding_json`]).
pub fn write_jsonl<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let r = Record {
            finding: f,
            first: f.locations.first(),
        };
        serde_json::to_writer(&mut *w, &r)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// CSV: one row per location (a finding seen in 3 versions gives 3 rows with the same
/// fingerprint), so spreadsheets can filter by page or space.
pub fn write_csv<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    writeln!(
        w,
        "fingerprint,severity,rule_id,kind,category,validated,path,line,column,space_key,page_id,title,version,content_type,attachment,author,last_modified,offset,context,snippet"
    )?;
    for f in findings {
        for l in &f.locations {
            let opt = |o: &Option<String>| o.clone().unwrap_or_default();
            let num = |o: Option<u64>| o.map(|n| n.to_string()).unwrap_or_default();
            let cells = [
                f.fingerprint.clone(),
                f.severity.as_str().to_owned(),
                f.rule_id.clone(),
                f.kind.as_str().to_owned(),
                f.category.as_str().to_owned(),
                f.validated.to_string(),
                opt(&l.path),
                num(l.line),
                num(l.column),
                opt(&l.space_key),
                opt(&l.page_id),
                opt(&l.title),
                l.version.map(|v| v.to_string()).unwrap_or_default(),
                l.content_type
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
                opt(&l.attachment),
                opt(&l.author),
                opt(&l.last_modified),
                num(l.offset),
                opt(&l.context),
                f.snippet.clone(),
            ];
            let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            writeln!(w, "{}", row.join(","))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::finding::{Category, ContentType, FindingKind, Severity};

    pub(crate) fn sample() -> Vec<Finding> {
        vec![Finding {
            fingerprint: "0123456789abcdef".into(),
            rule_id: "generic-password".into(),
            rule_name: "Password in prose or configuration".into(),
            kind: FindingKind::Secret,
            category: Category::Credentials,
            severity: Severity::High,
            validated: false,
            snippet: "=cmd password: Su*****\u{1b}[31m".into(),
            secret: None,
            occurrences: 2,
            locations: vec![
                Location {
                    path: Some("docs/a b.xhtml".into()),
                    line: Some(3),
                    column: Some(14),
                    content_type: Some(ContentType::File),
                    text_line: 2,
                    text_column: 11,
                    offset: Some(40),
                    ..Location::default()
                },
                Location {
                    space_key: Some("OPS".into()),
                    page_id: Some("100".into()),
                    version: Some(2),
                    title: Some("Runbook, \"prod\"".into()),
                    offset: Some(7),
                    text_line: 1,
                    text_column: 8,
                    ..Location::default()
                },
            ],
        }]
    }

    #[test]
    fn jsonl_has_top_level_location() {
        let mut out = Vec::new();
        write_jsonl(&mut out, &sample()).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["path"], "docs/a b.xhtml");
        assert_eq!(v["line"], 3);
        assert_eq!(v["column"], 14);
        assert_eq!(v["locations"].as_array().unwrap().len(), 2);
        assert_eq!(v["locations"][1]["page_id"], "100");
        assert!(v.get("secret").is_none());
        // Same object as finding_json.
        assert_eq!(v, finding_json(&sample()[0]));
    }

    #[test]
    fn csv_rows_per_location_guarded_and_quoted() {
        let mut out = Vec::new();
        write_csv(&mut out, &sample()).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].ends_with("'=cmd password: Su*****\u{1b}[31m"));
        assert!(lines[2].contains("\"Runbook, \"\"prod\"\"\""));
    }

    #[test]
    fn table_neutralises_control_characters() {
        let mut out = Vec::new();
        write_table(&mut out, &sample(), &[]).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains('\u{1b}'));
        assert!(s.contains("docs/a b.xhtml:3:14"));
        assert!(s.contains("1 finding(s): 1 secret(s)"));
    }
}
