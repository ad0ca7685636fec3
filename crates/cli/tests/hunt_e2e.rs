//! End-to-end: synthetic Confluence access logs for each attack shape go through
//! `confwatch hunt --format jsonl`; the expected alert must come out with a correct
//! explanation, and the benign twin of the same log must raise no alert of that rule.
//! Real audit samples (testdata/real) cover impersonation and permission changes.

use assert_cmd::Command;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";

/// Builds Tomcat access-log lines in Confluence's default pattern.
struct Log {
    text: String,
}

impl Log {
    fn new() -> Log {
        Log {
            text: String::new(),
        }
    }

    /// `sec` = seconds after 02/Mar/2026 09:00:00 +0100.
    fn line(
        &mut self,
        sec: u32,
        user: &str,
        ip: &str,
        req: &str,
        status: u16,
        ua: &str,
    ) -> &mut Log {
        let (h, m, s) = (9 + sec / 3600, (sec / 60) % 60, sec % 60);
        let _ = writeln!(
            self.text,
            "[02/Mar/2026:{h:02}:{m:02}:{s:02} +0100] {user} http-nio-8090-exec-{} {ip} {req} HTTP/1.1 {status} {}ms {} https://wiki.corp.example/index.action {ua}",
            sec % 40 + 1,
            20 + sec % 300,
            1000 + (sec * 977) % 90_000,
        );
        self
    }

    fn get(&mut self, sec: u32, user: &str, ip: &str, path: &str) -> &mut Log {
        self.line(sec, user, ip, &format!("GET {path}"), 200, BROWSER)
    }

    fn write(&self, dir: &Path) -> PathBuf {
        let p = dir.join("conf_access_log.2026-03-02.log");
        std::fs::write(&p, &self.text).unwrap();
        p
    }
}

struct Run {
    code: i32,
    alerts: Vec<Value>,
}

fn hunt(paths: &[&Path], extra: &[&str]) -> Run {
    let out = Command::cargo_bin("confwatch")
        .unwrap()
        .arg("hunt")
        .args(["--format", "jsonl", "--no-progress"])
        .args(extra)
        .args(paths)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let alerts = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        alerts,
    }
}

fn hunt_log(log: &Log, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let p = log.write(dir.path());
    hunt(&[&p], extra)
}

fn of_rule<'a>(run: &'a Run, rule: &str) -> Vec<&'a Value> {
    run.alerts.iter().filter(|a| a["rule_id"] == rule).collect()
}

fn summary(a: &Value) -> &str {
    a["summary"].as_str().unwrap()
}

#[test]
fn credential_search_then_reading() {
    let attacker = "185.220.101.47";
    let mut bad = Log::new();
    bad.line(0, "bob", attacker, "POST /dologin.action", 302, BROWSER);
    for (k, term) in [
        "password",
        "vpn",
        "aws+secret",
        "api+key",
        "ssh+private+key",
    ]
    .iter()
    .enumerate()
    {
        bad.get(
            60 + k as u32 * 60,
            "bob",
            attacker,
            &format!("/dosearchsite.action?queryString={term}"),
        );
    }
    bad.get(
        400,
        "bob",
        attacker,
        "/rest/api/search?cql=siteSearch+~+%22credentials%22&limit=50",
    );
    for p in 0..12u32 {
        bad.get(
            420 + p * 30,
            "bob",
            attacker,
            &format!("/pages/viewpage.action?pageId={}", 917_500 + p * 3),
        );
    }
    let run = hunt_log(&bad, &[]);
    assert_eq!(run.code, 1, "alerts mean exit 1");
    let seq = of_rule(&run, "confluence_sensitive_search_then_read");
    assert_eq!(seq.len(), 1, "{:#?}", run.alerts);
    let s = summary(seq[0]);
    assert!(
        s.starts_with("bob searched for 'password', 'vpn' and ")
            && s.contains("more credential terms"),
        "{s}"
    );
    assert!(s.contains("from 185.220.101.47, then read 12 pages"), "{s}");
    assert_eq!(seq[0]["severity"], "high");
    assert_eq!(seq[0]["source_ips"][0], attacker);
    assert!(
        seq[0]["techniques"]
            .as_array()
            .unwrap()
            .contains(&Value::from("T1213.001"))
    );
    let origin = seq[0]["evidence"]["samples"][0]["origin"].as_str().unwrap();
    assert!(
        origin.ends_with("conf_access_log.2026-03-02.log:2"),
        "{origin}"
    );
    assert_eq!(of_rule(&run, "confluence_credential_term_search").len(), 1);

    // Benign twin: ordinary searches, same reading.
    let mut good = Log::new();
    good.line(0, "bob", "10.20.1.16", "POST /dologin.action", 302, BROWSER);
    good.get(
        60,
        "bob",
        "10.20.1.16",
        "/dosearchsite.action?queryString=release+notes",
    );
    for p in 0..12u32 {
        good.get(
            420 + p * 30,
            "bob",
            "10.20.1.16",
            &format!("/pages/viewpage.action?pageId={}", 917_500 + p * 3),
        );
    }
    let run = hunt_log(&good, &[]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
    assert_eq!(run.code, 0);
}

#[test]
fn scripted_client_and_rest_bulk_body_reads() {
    let mut bad = Log::new();
    for i in 0..6u32 {
        bad.line(
            i * 20,
            "svc-dump",
            "10.9.9.9",
            &format!(
                "GET /rest/api/content?spaceKey=OPS&expand=body.storage&limit=100&start={}",
                i * 100
            ),
            200,
            "python-requests/2.31.0",
        );
    }
    for i in 0..30u32 {
        bad.line(
            200 + i * 5,
            "svc-dump",
            "10.9.9.9",
            &format!("GET /rest/api/content/{}?expand=body.storage", 7000 + i),
            200,
            "python-requests/2.31.0",
        );
    }
    let run = hunt_log(&bad, &[]);
    let bulk = of_rule(&run, "confluence_rest_bulk_body_read");
    assert_eq!(bulk.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(bulk[0]).starts_with("svc-dump pulled up to 630 pages with their bodies"),
        "{}",
        summary(bulk[0])
    );
    let scripted = of_rule(&run, "confluence_scripted_client_content");
    assert_eq!(scripted.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(scripted[0]).starts_with(
            "svc-dump made 36 content requests with a scripted client (python-requests/2.31.0)"
        ),
        "{}",
        summary(scripted[0])
    );

    // Benign twin: a browser listing pages without bodies.
    let mut good = Log::new();
    for i in 0..6u32 {
        good.get(
            i * 20,
            "jdoe",
            "10.9.9.9",
            &format!("/rest/api/content?spaceKey=OPS&limit=100&start={}", i * 100),
        );
    }
    let run = hunt_log(&good, &[]);
    assert!(
        of_rule(&run, "confluence_rest_bulk_body_read").is_empty(),
        "{:#?}",
        run.alerts
    );
    assert!(
        of_rule(&run, "confluence_scripted_client_content").is_empty(),
        "{:#?}",
        run.alerts
    );
}

#[test]
fn crawling_many_distinct_pages() {
    let mut bad = Log::new();
    for p in 0..120u32 {
        bad.get(
            p * 20,
            "carol",
            "10.20.3.40",
            &format!("/pages/viewpage.action?pageId={}", 5000 + p),
        );
    }
    let run = hunt_log(&bad, &[]);
    let a = of_rule(&run, "confluence_distinct_pages_hour");
    assert_eq!(a.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(a[0]).starts_with("carol read 120 distinct pages within 39 min"),
        "{}",
        summary(a[0])
    );

    let mut good = Log::new();
    for p in 0..120u32 {
        good.get(
            p * 20,
            "carol",
            "10.20.3.40",
            "/pages/viewpage.action?pageId=5000",
        );
    }
    let run = hunt_log(&good, &[]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
}

#[test]
fn attachments_exports_and_space_export() {
    let mut bad = Log::new();
    for i in 0..60u32 {
        bad.get(
            i * 10,
            "dave",
            "10.1.1.1",
            &format!("/download/attachments/77/file{i}.xlsx?version=1&api=v2"),
        );
    }
    for i in 0..12u32 {
        bad.get(
            700 + i * 20,
            "dave",
            "10.1.1.1",
            &format!("/spaces/flyingpdf/pdfpageexport.action?pageId={}", 900 + i),
        );
    }
    bad.get(
        1000,
        "dave",
        "10.1.1.1",
        "/spaces/exportspacewelcome.action?key=OPS",
    );
    bad.line(
        1010,
        "dave",
        "10.1.1.1",
        "POST /spaces/doexportspace.action?key=OPS",
        200,
        BROWSER,
    );
    let run = hunt_log(&bad, &[]);
    let att = of_rule(&run, "confluence_attachment_mass_download");
    assert_eq!(att.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(att[0]).starts_with("dave downloaded 60 different attachments"),
        "{}",
        summary(att[0])
    );
    let exp = of_rule(&run, "confluence_page_export_burst");
    assert_eq!(exp.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(exp[0]).starts_with("dave made 12 PDF/Word page exports covering 12 pages"),
        "{}",
        summary(exp[0])
    );
    assert_eq!(
        of_rule(&run, "confluence_space_export").len(),
        1,
        "{:#?}",
        run.alerts
    );

    let mut good = Log::new();
    for i in 0..3u32 {
        good.get(
            i * 10,
            "dave",
            "10.1.1.1",
            "/download/attachments/77/report.xlsx?version=1&api=v2",
        );
        good.get(
            100 + i * 20,
            "dave",
            "10.1.1.1",
            &format!("/spaces/flyingpdf/pdfpageexport.action?pageId={}", 900 + i),
        );
    }
    good.get(
        1000,
        "dave",
        "10.1.1.1",
        "/spaces/exportspacewelcome.action?key=OPS",
    );
    let run = hunt_log(&good, &[]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
}

#[test]
fn page_id_enumeration() {
    let mut bad = Log::new();
    for i in 0..30u32 {
        bad.line(
            i * 2,
            "mallory",
            "203.0.113.9",
            &format!("GET /pages/viewpage.action?pageId={}", 100_000 + i),
            404,
            BROWSER,
        );
    }
    let run = hunt_log(&bad, &[]);
    let a = of_rule(&run, "confluence_page_id_enumeration");
    assert_eq!(a.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(a[0])
            .starts_with("203.0.113.9 requested 30 different page ids that were denied or missing"),
        "{}",
        summary(a[0])
    );

    let mut good = Log::new();
    for i in 0..3u32 {
        good.line(
            i * 60,
            "jdoe",
            "10.0.0.2",
            &format!("GET /pages/viewpage.action?pageId={}", 100_000 + i),
            404,
            BROWSER,
        );
    }
    let run = hunt_log(&good, &[]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
}

#[test]
fn failed_login_burst_then_success() {
    let mut bad = Log::new();
    for i in 0..12u32 {
        bad.line(
            i * 10,
            "-",
            "198.51.100.7",
            "POST /dologin.action",
            200,
            BROWSER,
        );
    }
    bad.line(
        300,
        "bob",
        "198.51.100.7",
        "POST /dologin.action",
        302,
        BROWSER,
    );
    let run = hunt_log(&bad, &[]);
    let burst = of_rule(&run, "confluence_failed_login_burst");
    assert_eq!(burst.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(burst[0]).starts_with("198.51.100.7 failed 12 logins within"),
        "{}",
        summary(burst[0])
    );
    let then = of_rule(&run, "confluence_brute_force_then_login");
    assert_eq!(then.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(then[0]).contains("then logged in successfully"),
        "{}",
        summary(then[0])
    );

    // Benign twin: two typos, then success.
    let mut good = Log::new();
    good.line(0, "-", "10.0.0.12", "POST /dologin.action", 200, BROWSER);
    good.line(20, "-", "10.0.0.12", "POST /dologin.action", 200, BROWSER);
    good.line(40, "bob", "10.0.0.12", "POST /dologin.action", 302, BROWSER);
    let run = hunt_log(&good, &[]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
}

#[test]
fn privileged_account_reading_and_anonymous_access() {
    let mut log = Log::new();
    for p in 0..3u32 {
        log.get(
            p * 60,
            "admin",
            "10.0.0.9",
            &format!("/pages/viewpage.action?pageId={}", 42 + p),
        );
    }
    for p in 0..2u32 {
        log.get(
            600 + p * 60,
            "-",
            "203.0.113.50",
            &format!("/pages/viewpage.action?pageId={}", 42 + p),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = log.write(dir.path());
    let list = dir.path().join("privileged.txt");
    std::fs::write(&list, "# domain admins\nAdmin\n").unwrap();
    let run = hunt(&[&p], &["--privileged-accounts", list.to_str().unwrap()]);
    let a = of_rule(&run, "confluence_privileged_content_read");
    assert_eq!(a.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(a[0]).starts_with("admin (privileged) read 3 pages"),
        "{}",
        summary(a[0])
    );
    assert_eq!(a[0]["privileged"], true);
    let anon = of_rule(&run, "confluence_anonymous_content_access");
    assert_eq!(anon.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(anon[0]).starts_with("203.0.113.50 read 2 pages without logging in"),
        "{}",
        summary(anon[0])
    );

    // Benign twin: without the list, the admin is an ordinary reader.
    let run = hunt(&[&p], &[]);
    assert!(
        of_rule(&run, "confluence_privileged_content_read").is_empty(),
        "{:#?}",
        run.alerts
    );
}

#[test]
fn real_audit_samples_impersonation_and_permission_changes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/real");
    let panther = root.join("panther-analysis/user_logged_in_as_user.test-1.json");
    let run = hunt(&[&panther], &[]);
    let a = of_rule(&run, "confluence_admin_impersonation");
    assert_eq!(a.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(a[0]).contains("impersonated another user (user_logged_in_as_user)"),
        "{}",
        summary(a[0])
    );

    let guard = root.join("azure-sentinel/AtlassianBeacon.json");
    let run = hunt(&[&guard], &[]);
    let g = of_rule(&run, "confluence_guard_detect_alert");
    assert_eq!(g.len(), 1, "{:#?}", run.alerts);
    assert!(
        summary(g[0]).starts_with(
            "Atlassian Guard Detect: '[SAMPLE] High number of Confluence spaces exported'"
        ),
        "{}",
        summary(g[0])
    );

    let api = root.join("elastic-integrations/test-audit-api.log");
    let run = hunt(&[&api], &[]);
    let p = of_rule(&run, "confluence_permission_change");
    assert!(!p.is_empty(), "{:#?}", run.alerts);
    assert!(
        summary(p[0])
            .contains("permission change(s) (audit.logging.summary.space.permission.added)"),
        "{}",
        summary(p[0])
    );
}

#[test]
fn formats_filters_and_allowlist() {
    let mut log = Log::new();
    for i in 0..12u32 {
        log.line(
            i * 10,
            "-",
            "198.51.100.7",
            "POST /dologin.action",
            200,
            BROWSER,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = log.write(dir.path());

    // --min-severity drops the medium burst alert.
    let run = hunt(&[&p], &["--min-severity", "high"]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
    assert_eq!(run.code, 0);

    // --until before the burst: nothing in range.
    let run = hunt(&[&p], &["--until", "2026-03-01"]);
    assert!(run.alerts.is_empty());

    // Allowlisted with a reason.
    let cfg = dir.path().join("cw.toml");
    std::fs::write(&cfg, "[[allow]]\nrule = \"confluence_failed_login_burst\"\nclient_ip = \"198.51.100.0/24\"\nreason = \"pentest window\"\n").unwrap();
    let run = hunt(&[&p], &["--config", cfg.to_str().unwrap()]);
    assert!(run.alerts.is_empty(), "{:#?}", run.alerts);
    let table = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["hunt", "--no-progress", "--config", cfg.to_str().unwrap()])
        .arg(&p)
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("Suppressed by allowlist: 1 (pentest window)"),
        "{text}"
    );

    // Table, CSV and ECS of the same alert; --output writes a file.
    let table = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["hunt", "--no-progress"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(1));
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("confluence_failed_login_burst"), "{text}");
    assert!(
        text.contains("Alerts: 1 (critical 0, high 0, medium 1, low 0, informational 0)"),
        "{text}"
    );
    let csv = dir.path().join("a.csv");
    Command::cargo_bin("confwatch")
        .unwrap()
        .args([
            "hunt",
            "--no-progress",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
        ])
        .arg(&p)
        .assert()
        .code(1);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("severity,score,rule_id"), "{csv}");
    assert_eq!(csv.lines().count(), 2);
    let ecs = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["hunt", "--no-progress", "--format", "ecs"])
        .arg(&p)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_str(String::from_utf8(ecs.stdout).unwrap().trim()).unwrap();
    assert_eq!(doc["event"]["kind"], "alert");
    assert_eq!(doc["source"]["ip"], "198.51.100.7");
    assert_eq!(doc["threat"]["technique"][0]["id"], "T1110");
}

#[test]
fn rule_errors_are_reported_and_custom_rules_run() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("broken.yml"), "title: broken\nlogsource: {product: confluence}\ndetection:\n  s:\n    url|re: '(('\n  condition: s\n").unwrap();
    std::fs::write(
        rules.join("mine.yml"),
        "title: Logout seen\nid: 0b7c7d43-2a4e-4a57-9b9b-8a7f0e0e0e01\nname: my_logout\nlogsource: {product: confluence}\ndetection:\n  s:\n    action: logout\n  condition: s\nlevel: low\ntags: [attack.t1078]\n",
    )
    .unwrap();
    let mut log = Log::new();
    log.get(0, "jdoe", "10.0.0.1", "/logout.action");
    let p = log.write(dir.path());
    let out = Command::cargo_bin("confwatch")
        .unwrap()
        .args([
            "hunt",
            "--no-progress",
            "--format",
            "jsonl",
            "--rules-only",
            "--rules",
        ])
        .arg(&rules)
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("rule not loaded:") && err.contains("broken.yml") && err.contains("regex"),
        "{err}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\"rule_id\":\"my_logout\""), "{stdout}");
    assert_eq!(out.status.code(), Some(1));

    // `rules validate` fails on the broken file; `rules test --strict` passes on the pack.
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "validate", "--rules"])
        .arg(&rules)
        .assert()
        .code(1);
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "validate"])
        .assert()
        .code(0);
    let t = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "test", "--strict"])
        .output()
        .unwrap();
    let text = String::from_utf8(t.stdout).unwrap();
    assert_eq!(t.status.code(), Some(0), "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
    let list = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(
        text.contains("confluence_sensitive_search_then_read") && text.contains("temporal_ordered"),
        "{text}"
    );
}

#[test]
fn unreachable_ldap_is_a_fatal_error() {
    let mut log = Log::new();
    log.get(0, "jdoe", "10.0.0.1", "/pages/viewpage.action?pageId=1");
    let dir = tempfile::tempdir().unwrap();
    let p = log.write(dir.path());
    let out = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["hunt", "--no-progress", "--ldap-url", "ldap://127.0.0.1:1"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("LDAP: ldap://127.0.0.1:1"), "{err}");
}

#[test]
fn rules_export_writes_the_pack() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "export", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let files: Vec<_> = std::fs::read_dir(out.join("confluence")).unwrap().collect();
    assert_eq!(files.len(), 20);
    assert!(
        !out.join("confluence/credential_term_search.tests.yml")
            .exists()
    );
    // The exported folder loads back as the only rules.
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "validate", "--rules-only", "--rules"])
        .arg(&out)
        .assert()
        .code(0);
    // A second export refuses to overwrite.
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "export", "--out"])
        .arg(&out)
        .assert()
        .code(2);
}

#[test]
fn space_profiles_from_scan_raise_access_to_sensitive_spaces() {
    let mut log = Log::new();
    for i in 0..40u32 {
        log.line(
            i * 20,
            "svc-dump",
            "10.9.9.9",
            &format!("GET /display/OPS/Runbook+{i}"),
            200,
            "python-requests/2.31.0",
        );
    }
    let plain = hunt_log(&log, &[]);
    let before = of_rule(&plain, "confluence_scripted_client_content");
    assert_eq!(before.len(), 1, "{:#?}", plain.alerts);

    // The shape `confwatch scan --space-profiles` writes (see scan_cli.rs).
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles.json");
    std::fs::write(
        &profiles,
        r#"[{"space_key":"OPS","pages":40,"secrets":3,"sensitive":5,"max_severity":"critical",
             "categories":{"credentials":3},"score":180,"sensitivity":"critical"},
            {"space_key":"DOC","pages":9,"secrets":0,"sensitive":0,"max_severity":"info",
             "categories":{},"score":0,"sensitivity":"low"}]"#,
    )
    .unwrap();
    let raised = hunt_log(&log, &["--space-profiles", profiles.to_str().unwrap()]);
    let after = of_rule(&raised, "confluence_scripted_client_content");
    assert_eq!(after.len(), 1, "{:#?}", raised.alerts);
    let rank = |s: &Value| {
        ["informational", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| s == x)
            .unwrap()
    };
    assert_eq!(
        rank(&after[0]["severity"]),
        (rank(&before[0]["severity"]) + 1).min(4),
        "one level up: {} -> {}",
        before[0]["severity"],
        after[0]["severity"]
    );
    assert!(
        summary(after[0]).ends_with("; sensitive space per scan: OPS (critical)"),
        "{}",
        summary(after[0])
    );
    assert_eq!(after[0]["evidence"]["values"]["sensitive_spaces"][0], "OPS");

    // A file that is not scan's output is a clear error, not a silent no-op.
    std::fs::write(&profiles, "{}").unwrap();
    let out = Command::cargo_bin("confwatch")
        .unwrap()
        .args(["hunt", "--no-progress", "--space-profiles"])
        .arg(&profiles)
        .arg(log.write(dir.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--space-profiles"));
}
