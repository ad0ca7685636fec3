//! `confwatch scan --url … --state DIR [--incremental]` from the command line, against a
//! small Data Center fake (std TcpListener on 127.0.0.1:0) that records every request: the
//! second run asks only for content modified since the first, an interrupted run is resumed
//! with the completed space skipped, and the flags are checked.

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const PAT: &str = "NjE5MzYzODQ2NDkwOkZqS2xNbk9wUXJTdFV2V3hZejAx";

struct Fake {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
    /// Space OPS's listings answer 401.
    fail_ops: Arc<AtomicBool>,
    /// Space OPS's listings take 20 s.
    hang_ops: Arc<AtomicBool>,
}

impl Fake {
    fn seen(&self, needle: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .count()
    }
}

fn fake_dc() -> Fake {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let fail_ops = Arc::new(AtomicBool::new(false));
    let hang_ops = Arc::new(AtomicBool::new(false));
    let (rq, fo, ho) = (requests.clone(), fail_ops.clone(), hang_ops.clone());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let (rq, fo, ho) = (rq.clone(), fo.clone(), ho.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                }
                rq.lock().unwrap().push(path.clone());
                let page = |id: &str, space: &str, pw: &str| {
                    format!(
                        r#"{{"results":[{{"id":"{id}","type":"page","status":"current","title":"P{id}","version":{{"by":{{"username":"bob"}},"number":1,"when":"2025-01-01T00:00:00.000Z"}},"body":{{"storage":{{"value":"<p>{space} password: {pw}</p>","representation":"storage"}}}},"_links":{{"webui":"/x/{id}"}}}}],"start":0,"limit":25,"size":1,"_links":{{}}}}"#
                    )
                };
                let empty =
                    r#"{"results":[],"start":0,"limit":25,"size":0,"_links":{}}"#.to_owned();
                let is_pages = path.contains("type=page") || path.contains("type%20%3D%20page");
                let (status, body) = if path.starts_with("/rest/api/space") {
                    (
                    "200 OK",
                    r#"{"results":[{"id":1,"key":"IT","name":"IT"},{"id":2,"key":"OPS","name":"Ops"}],"start":0,"limit":25,"size":2,"_links":{}}"#.to_owned(),
                )
                } else if path.contains("lastmodified") {
                    // Nothing was modified since the first run.
                    ("200 OK", empty)
                } else if is_pages && path.contains("IT") {
                    ("200 OK", page("7", "IT", "Vpn#Secret77"))
                } else if is_pages && path.contains("OPS") {
                    if ho.load(Ordering::SeqCst) {
                        // The network hangs; the test kills the scanner meanwhile.
                        std::thread::sleep(std::time::Duration::from_secs(20));
                    }
                    if fo.load(Ordering::SeqCst) {
                        // The token expired while crawling OPS (not retried, so the test is quick).
                        ("401 Unauthorized", "{}".to_owned())
                    } else {
                        ("200 OK", page("8", "OPS", "Ops#Secret88"))
                    }
                } else {
                    ("200 OK", empty)
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    Fake {
        base,
        requests,
        fail_ops,
        hang_ops,
    }
}

fn confwatch() -> Command {
    let mut c = Command::cargo_bin("confwatch").unwrap();
    c.env_remove("CONFWATCH_EMAIL")
        .env_remove("CONFWATCH_API_TOKEN")
        .env("CONFWATCH_PAT", PAT);
    c
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn pages_in(a: &assert_cmd::assert::Assert) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(&a.get_output().stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["page_id"].as_str().unwrap().to_owned()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn second_run_with_incremental_asks_only_for_modified_content() {
    let fake = fake_dc();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("st");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "scan".to_owned(),
            "--url".to_owned(),
            fake.base.clone(),
            "--dc".to_owned(),
            "--format".to_owned(),
            "jsonl".to_owned(),
            "--state".to_owned(),
            state.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = confwatch().args(args(&["--incremental"])).assert().code(1);
    let err = stderr_of(&a);
    assert!(err.contains("space IT: no earlier complete scan"), "{err}");
    assert!(err.contains("state: run complete"), "{err}");
    assert_eq!(pages_in(&a), ["7", "8"]);
    assert!(state.join("confwatch-state.sqlite3").is_file());
    assert_eq!(fake.seen("lastmodified"), 0);

    let a = confwatch().args(args(&["--incremental"])).assert().code(0);
    let err = stderr_of(&a);
    assert!(
        err.contains("space IT: incremental, content modified since"),
        "{err}"
    );
    // IT and OPS, pages and blog posts: all through CQL, none through the full listing.
    assert_eq!(
        fake.seen("/rest/api/content/search?cql=space%20%3D%20%22IT%22%20and%20type%20%3D%20page%20and%20lastmodified%20%3E%3D%20%22"),
        1
    );
    assert_eq!(
        fake.seen("/rest/api/content?spaceKey=IT"),
        2,
        "only the first run"
    );
    assert!(pages_in(&a).is_empty());
}

#[test]
fn interrupted_run_is_resumed_and_flags_are_checked() {
    let fake = fake_dc();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("scan.db");
    let s = state.display().to_string();
    fake.fail_ops.store(true, Ordering::SeqCst);
    let base = fake.base.clone();
    let run = || {
        confwatch()
            .args([
                "scan", "--url", &base, "--dc", "--format", "jsonl", "--state", &s,
            ])
            .args(["--concurrency", "1"])
            .assert()
            .code(1)
    };
    let a = run();
    let err = stderr_of(&a);
    assert!(err.contains("space OPS did not complete"), "{err}");
    assert!(err.contains("run incomplete"), "{err}");
    assert_eq!(pages_in(&a), ["7"]);
    assert!(state.is_file(), "a .db name is the database file itself");

    fake.fail_ops.store(false, Ordering::SeqCst);
    let it_listings = fake.seen("spaceKey=IT&type=page");
    let a = run();
    let err = stderr_of(&a);
    assert!(
        err.contains("resuming the interrupted run started"),
        "{err}"
    );
    assert!(
        err.contains("space IT completed earlier in this run, skipped (1 finding(s)"),
        "{err}"
    );
    assert!(err.contains("state: run complete"), "{err}");
    assert_eq!(fake.seen("spaceKey=IT&type=page"), it_listings);
    // IT's finding comes from the store, OPS's from this run.
    assert_eq!(pages_in(&a), ["7", "8"]);

    confwatch()
        .args(["scan", "--url", &base, "--dc", "--incremental"])
        .assert()
        .code(2);
    confwatch()
        .args(["scan", "--url", &base, "--dc", "--since", "last week"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--since last week"));
}

#[test]
fn killed_run_keeps_completed_spaces_and_the_next_run_resumes() {
    use std::io::BufRead;
    let fake = fake_dc();
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().display().to_string();
    fake.hang_ops.store(true, Ordering::SeqCst);
    let bin = assert_cmd::cargo::cargo_bin("confwatch");
    let mut child = std::process::Command::new(&bin)
        .env("CONFWATCH_PAT", PAT)
        .args([
            "scan",
            "--url",
            &fake.base,
            "--dc",
            "--state",
            &s,
            "--incremental",
        ])
        .args(["--concurrency", "1", "--format", "jsonl"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
        if line.contains("space IT complete") {
            break;
        }
    }
    // Killed (as by a crash or SIGKILL) while OPS hangs: no report was written.
    child.kill().unwrap();
    child.wait().unwrap();
    fake.hang_ops.store(false, Ordering::SeqCst);
    let a = confwatch()
        .args([
            "scan",
            "--url",
            &fake.base,
            "--dc",
            "--state",
            &s,
            "--incremental",
        ])
        .args(["--format", "jsonl"])
        .assert()
        .code(1);
    let e = stderr_of(&a);
    assert!(e.contains("resuming the interrupted run"), "{e}");
    assert!(
        e.contains("space IT completed earlier in this run, skipped"),
        "{e}"
    );
    assert!(e.contains("state: run complete"), "{e}");
    assert_eq!(pages_in(&a), ["7", "8"]);
}
