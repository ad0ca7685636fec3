//! End-to-end tests of `confwatch scan` on files, folders, stdin and the real export.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn confwatch() -> Command {
    let mut c = Command::cargo_bin("confwatch").unwrap();
    c.current_dir(root());
    c
}

fn jsonl(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const TOKEN: &str = "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";

#[test]
fn folder_jsonl_has_relative_paths_and_original_line_columns() {
    let out = confwatch()
        .args(["scan", "testdata/scan/pages", "--format", "jsonl"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let rows = jsonl(&out);
    let by_rule = |id: &str| {
        rows.iter()
            .find(|r| r["rule_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {rows:#?}"))
    };
    for (rule, needle) in [
        ("github-pat-classic", TOKEN),
        ("table-password-column", "J3nk1ns!Adm"),
        ("jdbc-url-password", "Pg-Secr3t!"),
        ("generic-password", "Geheim#4711"),
    ] {
        let r = by_rule(rule);
        let path = r["path"].as_str().unwrap();
        assert!(path.starts_with("testdata/scan/pages/"), "{path}");
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        let line = text
            .lines()
            .nth(r["line"].as_u64().unwrap() as usize - 1)
            .unwrap();
        let col = r["column"].as_u64().unwrap() as usize - 1;
        let at: String = line.chars().skip(col).collect();
        assert!(
            at.starts_with(needle),
            "{rule}: {at:?} at {path}:{}",
            r["line"]
        );
        // Redacted by default: the secret appears nowhere in the output.
        assert!(
            !String::from_utf8_lossy(&out).contains(needle),
            "{rule} leaked"
        );
    }
    assert_eq!(by_rule("github-pat-classic")["validated"], true);
    assert_eq!(by_rule("github-pat-classic")["context"], "macro:code");
    assert_eq!(
        by_rule("table-password-column")["context"],
        "table:r2c3[Password] (user admin)"
    );
    // Prose "required" is not a password; the allowlisted line is silent; "see vault" too.
    assert!(
        !rows
            .iter()
            .any(|r| r["path"].as_str().unwrap().ends_with("allowed.txt"))
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r["rule_id"] == "table-password-column")
            .count(),
        1
    );
    // The account id attribute is never reported.
    assert!(!String::from_utf8_lossy(&out).contains("557058"));
    // Share link and internal host are reported as sensitive.
    assert_eq!(by_rule("file-url")["kind"], "sensitive");
    assert_eq!(by_rule("file-url")["category"], "network_shares");
}

#[test]
fn exit_codes_clean_findings_error() {
    confwatch()
        .args(["scan", "testdata/scan/pages/clean.txt"])
        .assert()
        .code(0);
    confwatch()
        .args(["scan", "testdata/scan/pages/sub/notes.md"])
        .assert()
        .code(1);
    confwatch()
        .args(["scan", "testdata/scan/does-not-exist"])
        .assert()
        .code(2);
    confwatch()
        .args(["scan", "testdata/scan/pages", "--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn stdin_show_secrets_and_min_severity() {
    let out = confwatch()
        .args(["scan", "-", "--format", "jsonl", "--show-secrets"])
        .write_stdin("<p>Passwort: Herbst+2023</p>")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["path"], "-");
    assert_eq!(rows[0]["secret"], "Herbst+2023");
    assert_eq!(rows[0]["column"], 14);
    // Only a private IP (info): filtered out by --min-severity low.
    confwatch()
        .args(["scan", "-", "--min-severity", "low"])
        .write_stdin("gateway 192.168.1.1\n")
        .assert()
        .code(0);
}

#[test]
fn ignore_file_silences_by_rule_and_fingerprint() {
    let first = confwatch()
        .args([
            "scan",
            "testdata/scan/pages/sub/notes.md",
            "--format",
            "jsonl",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let fp = jsonl(&first)[0]["fingerprint"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let ign = dir.path().join("ignore");
    std::fs::write(&ign, format!("# reviewed\n{fp}\n")).unwrap();
    confwatch()
        .args(["scan", "testdata/scan/pages/sub/notes.md", "--ignore"])
        .arg(&ign)
        .assert()
        .code(0);
    std::fs::write(&ign, "nonsense entry\n").unwrap();
    confwatch()
        .args(["scan", "testdata/scan/pages/sub/notes.md", "--ignore"])
        .arg(&ign)
        .assert()
        .code(2);
}

#[test]
fn table_csv_and_sarif_outputs() {
    let out = confwatch()
        .args(["scan", "testdata/scan/pages"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let t = String::from_utf8_lossy(&out);
    assert!(t.contains("Spaces ranked by exposure"), "{t}");
    assert!(t.contains("testdata/scan/pages"));
    assert!(!t.contains(TOKEN));

    let out = confwatch()
        .args(["scan", "testdata/scan/pages", "--format", "csv"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let c = String::from_utf8_lossy(&out);
    assert!(c.starts_with("fingerprint,severity,rule_id"));
    assert!(c.lines().count() >= 6);

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("scan.sarif");
    confwatch()
        .args([
            "scan",
            "testdata/scan/pages",
            "--format",
            "sarif",
            "--output",
        ])
        .arg(&f)
        .assert()
        .code(1);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 5);
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 100);
}

#[test]
fn space_profiles_are_written_for_hunt() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("profiles.json");
    confwatch()
        .args([
            "scan",
            "testdata/scan/pages",
            "--format",
            "jsonl",
            "--space-profiles",
        ])
        .arg(&f)
        .assert()
        .code(1);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    let p = &v[0];
    assert_eq!(p["space_key"], "testdata/scan/pages");
    assert!(p["secrets"].as_u64().unwrap() >= 4);
    assert_eq!(p["sensitivity"], "critical");
    assert!(p["categories"]["credentials"].as_u64().unwrap() >= 2);
}

#[test]
fn real_entities_xml_export_scans_clean() {
    let out = confwatch()
        .args([
            "scan",
            "testdata/real/xwiki-contrib-confluence/confluence8.5.6/entities.xml",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let t = String::from_utf8_lossy(&out);
    assert!(t.contains("HT (Home Test)"), "{t}");
}
