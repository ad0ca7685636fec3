//! End-to-end: password spraying against a Data Center cluster, seen only by joining each
//! node's Tomcat access log (client address, no account on a failed login) with its
//! `atlassian-confluence-security.log` (account, no address). `confwatch hunt` must raise
//! one `confluence_password_spray` alert naming the address and the accounts, pair lines only
//! within a node although both nodes use the same thread names, and count each login once
//! (`confwatch events`). The benign twin (one account failing six times) raises none, and
//! audit-log failed logins (which carry both) spray on their own.

use assert_cmd::Command;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";
const SCRIPT: &str = "python-requests/2.31.0";

/// One node's two logs, written in the node's folder as Confluence names them.
#[derive(Default)]
struct Node {
    access: String,
    security: String,
}

impl Node {
    /// An access line in the installer pattern
    /// `%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i`;
    /// `sec` = seconds after 02/Mar/2026 09:00:00 +0100.
    #[allow(clippy::too_many_arguments)]
    fn access(
        &mut self,
        sec: u32,
        user: &str,
        thread: u32,
        ip: &str,
        req: &str,
        status: u16,
        ms: u32,
        ua: &str,
    ) {
        let (h, m, s) = (9 + sec / 3600, (sec / 60) % 60, sec % 60);
        let _ = writeln!(
            self.access,
            "[02/Mar/2026:{h:02}:{m:02}:{s:02} +0100] {user} http-nio-8090-exec-{thread} {ip} {req} HTTP/1.1 {status} {ms}ms 4312 https://wiki.corp.example/login.action {ua}"
        );
    }

    /// A DefaultLoginManager line in server local time (+01:00), `ms` into second `sec`.
    fn security(&mut self, sec: u32, ms: u32, thread: u32, user: &str, ok: bool) {
        let (h, m, s) = (9 + sec / 3600, (sec / 60) % 60, sec % 60);
        let (method, text) = if ok {
            (
                "onSuccessfulLoginAttempt",
                "Successful login attempt for user",
            )
        } else {
            ("onFailedLoginAttempt", "Failed login attempt for user")
        };
        let _ = writeln!(
            self.security,
            "2026-03-02 {h:02}:{m:02}:{s:02},{ms:03} DEBUG [http-nio-8090-exec-{thread}] [impl.security.login.DefaultLoginManager] {method} {text} '{user}'"
        );
    }

    /// One form login as both logs write it: the POST, then the security line 40-240 ms in.
    fn login(&mut self, sec: u32, thread: u32, ip: &str, user: &str, ok: bool, ua: &str) {
        let (shown, status) = if ok { (user, 302) } else { ("-", 200) };
        self.access(
            sec,
            shown,
            thread,
            ip,
            "POST /dologin.action",
            status,
            250,
            ua,
        );
        self.security(sec, 40 + (sec % 5) * 50, thread, user, ok);
    }

    fn view(&mut self, sec: u32, user: &str, thread: u32, ip: &str, page: u32) {
        self.access(
            sec,
            user,
            thread,
            ip,
            &format!("GET /pages/viewpage.action?pageId={page}"),
            200,
            90,
            BROWSER,
        );
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("conf_access_log.2026-03-02.log"), &self.access).unwrap();
        std::fs::write(
            dir.join("atlassian-confluence-security.log"),
            &self.security,
        )
        .unwrap();
    }
}

fn confwatch(cmd: &str, dir: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let out = Command::cargo_bin("confwatch")
        .unwrap()
        .arg(cmd)
        .args([
            "--format",
            "jsonl",
            "--no-progress",
            "--log-offset",
            "+01:00",
        ])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code().unwrap_or(-1), rows)
}

fn spray_alerts(alerts: &[Value]) -> Vec<&Value> {
    alerts
        .iter()
        .filter(|a| a["rule_id"] == "confluence_password_spray")
        .collect()
}

/// Node 1: 198.51.100.7 tries eight accounts once each, 20 s apart, on threads 1-4, amid
/// normal browsing and a normal login. Node 2, at the same seconds and on the same thread
/// names, sees one user mistype her password from another address.
fn sprayed_cluster(dir: &Path) {
    let mut n1 = Node::default();
    let mut n2 = Node::default();
    n1.login(5, 9, "10.0.0.12", "bob", true, BROWSER);
    for i in 0..8u32 {
        let t = 60 + i * 20;
        n1.login(
            t,
            i % 4 + 1,
            "198.51.100.7",
            &format!("user{i}"),
            false,
            SCRIPT,
        );
        n1.view(t + 1, "bob", 9, "10.0.0.12", 1000 + i);
        if i < 3 {
            n2.login(t, i % 4 + 1, "203.0.113.20", "carol", false, BROWSER);
        }
    }
    n2.login(140, 2, "203.0.113.20", "carol", true, BROWSER);
    n1.write(&dir.join("node1"));
    n2.write(&dir.join("node2"));
}

#[test]
fn spray_across_accounts_is_seen_by_joining_access_and_security_logs() {
    let dir = tempfile::tempdir().unwrap();
    sprayed_cluster(dir.path());

    let (code, alerts) = confwatch("hunt", dir.path(), &[]);
    let spray = spray_alerts(&alerts);
    assert_eq!(spray.len(), 1, "exit {code}: {alerts:#?}");
    let a = spray[0];
    let summary = a["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "198.51.100.7 failed logins against 8 different accounts ('user0', 'user1' and 6 more accounts)"
        ),
        "{summary}"
    );
    assert_eq!(
        a["source_ips"],
        serde_json::json!(["198.51.100.7"]),
        "{a:#}"
    );
    assert_eq!(a["severity"], "high");
    assert!(
        a["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T1110.003"),
        "{a:#}"
    );
    // Node 2's user was never attributed to node 1's address (same thread names).
    assert!(!summary.contains("carol"), "{summary}");

    // Each login is one event: the access line, now naming the account.
    let (code, events) = confwatch("events", dir.path(), &[]);
    assert_eq!(code, 0);
    let logins: Vec<&Value> = events.iter().filter(|e| e["action"] == "login").collect();
    // bob once, eight spray attempts, carol three failures and one success.
    assert_eq!(logins.len(), 13, "{logins:#?}");
    assert!(
        logins.iter().all(|e| e["format"] == "tomcat-access"
            && e["origin"]["file"]
                .as_str()
                .unwrap()
                .ends_with("conf_access_log.2026-03-02.log")),
        "{logins:#?}"
    );
    let mut sprayed: Vec<String> = logins
        .iter()
        .filter(|e| e["client_ip"] == "198.51.100.7")
        .map(|e| {
            assert_eq!(e["outcome"], "failure");
            assert_eq!(e["user_agent"], SCRIPT);
            e["user"].as_str().unwrap().to_owned()
        })
        .collect();
    sprayed.sort();
    assert_eq!(
        sprayed,
        (0..8).map(|i| format!("user{i}")).collect::<Vec<_>>()
    );
    let carol: Vec<&&Value> = logins.iter().filter(|e| e["user"] == "carol").collect();
    assert_eq!(carol.len(), 4);
    assert!(carol.iter().all(|e| e["client_ip"] == "203.0.113.20"));
    assert!(
        carol
            .iter()
            .all(|e| e["origin"]["file"].as_str().unwrap().contains("node2"))
    );
}

/// One node whose two logs were collected into unrelated folders (a SIEM export, say):
/// they pair only with `--single-node`.
#[test]
fn single_node_pairs_logs_collected_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = Node::default();
    for i in 0..8u32 {
        n.login(
            60 + i * 20,
            i % 4 + 1,
            "198.51.100.7",
            &format!("user{i}"),
            false,
            SCRIPT,
        );
    }
    let (tomcat, app) = (
        dir.path().join("tomcat-export"),
        dir.path().join("app-export"),
    );
    std::fs::create_dir_all(&tomcat).unwrap();
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(tomcat.join("conf_access_log.2026-03-02.log"), &n.access).unwrap();
    std::fs::write(app.join("atlassian-confluence-security.log"), &n.security).unwrap();

    // By default files in different folders are taken for different nodes.
    let (_, alerts) = confwatch("hunt", dir.path(), &[]);
    assert!(spray_alerts(&alerts).is_empty(), "{alerts:#?}");
    let (_, alerts) = confwatch("hunt", dir.path(), &["--single-node"]);
    assert_eq!(spray_alerts(&alerts).len(), 1, "{alerts:#?}");
    let (code, events) = confwatch("events", dir.path(), &["--single-node"]);
    assert_eq!(code, 0);
    let logins: Vec<&Value> = events.iter().filter(|e| e["action"] == "login").collect();
    assert_eq!(logins.len(), 8, "one event per attempt: {logins:#?}");
    assert!(
        logins
            .iter()
            .all(|e| e["format"] == "tomcat-access" && e["user"].is_string()),
        "{logins:#?}"
    );
}

#[test]
fn one_account_failing_six_times_is_not_a_spray() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = Node::default();
    for i in 0..6u32 {
        n.login(30 + i * 15, i % 3 + 1, "10.0.0.31", "dana", false, BROWSER);
        n.view(31 + i * 15, "erin", 7, "10.0.0.40", 2000 + i);
    }
    n.login(200, 2, "10.0.0.31", "dana", true, BROWSER);
    n.write(&dir.path().join("node1"));
    let (code, alerts) = confwatch("hunt", dir.path(), &[]);
    assert!(spray_alerts(&alerts).is_empty(), "exit {code}: {alerts:#?}");
    // The failures are still read, named and placed: one event per attempt.
    let (_, events) = confwatch("events", dir.path(), &[]);
    let fails = events
        .iter()
        .filter(|e| e["action"] == "login" && e["outcome"] == "failure")
        .filter(|e| e["format"] == "tomcat-access")
        .count();
    assert_eq!(fails, 6);
}

#[test]
fn audit_log_failed_logins_spray_without_a_join() {
    // Data Center audit records name the account (author) and the address (source).
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..6u64 {
        let _ = writeln!(
            text,
            r#"{{"affectedObjects":[],"auditType":{{"action":"Login failed","actionI18nKey":"audit.logging.summary.user.login.failed","area":"SECURITY","category":"Security","categoryI18nKey":"atlassian.audit.event.category.security","level":"BASE"}},"author":{{"id":"k{i}","name":"svc{i}","type":"user"}},"changedValues":[],"extraAttributes":[],"method":"Browser","source":"203.0.113.9","system":"http://confluence.internal:8090","timestamp":{{"epochSecond":{},"nano":0}},"version":"1.0"}}"#,
            1_772_438_400 + i * 45
        );
    }
    std::fs::write(dir.path().join("20260302000000.audit.log"), text).unwrap();
    let (code, alerts) = confwatch("hunt", dir.path(), &[]);
    let spray = spray_alerts(&alerts);
    assert_eq!(spray.len(), 1, "exit {code}: {alerts:#?}");
    let summary = spray[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("203.0.113.9 failed logins against 6 different accounts"),
        "{summary}"
    );
}
