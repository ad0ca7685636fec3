//! End-to-end tests of `confwatch events`: the real sample corpus, every container and
//! compression, bad input of every kind, and the `--stats --format json` contract.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn real(rel: &str) -> PathBuf {
    repo().join("testdata/real").join(rel)
}

fn confwatch() -> Command {
    Command::cargo_bin("confwatch").expect("binary built")
}

/// Runs `events --stats --format json` and returns (exit code, stats JSON).
fn stats(args: &[&std::ffi::OsStr]) -> (i32, Value) {
    let out = confwatch()
        .args(["events", "--stats", "--format", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stats JSON: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

fn file<'a>(v: &'a Value, suffix: &str) -> &'a Value {
    v["files"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        })
        .unwrap_or_else(|| panic!("no file ending {suffix} in {v}"))
}

#[test]
fn real_corpus_parses_with_zero_errors_into_the_records_it_holds() {
    let (code, v) = stats(&[real("").as_os_str()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["errors"], 0);
    let expect = [
        ("conf_access_log.example.log", "tomcat-access", 3),
        ("confluence_access_post7.11.log", "tomcat-access", 1),
        ("test-audit.log", "dc-audit-file", 7),
        ("test-audit-api.log", "dc-audit-rest", 16),
        ("test-audit-api-empty.log", "dc-audit-rest", 0),
        ("test-audit-cloud.log", "cloud-audit", 37),
        ("test-audit-cloud-empty.log", "cloud-audit", 0),
        ("user_logged_in_as_user.test-1.json", "org-audit", 1),
        ("AtlassianBeacon.json", "guard-alert", 3),
        ("atlassian-confluence.log", "access-log-filter", 0),
    ];
    for (name, format, events) in expect {
        let f = file(&v, name);
        assert_eq!(f["format"], format, "{name}: {f}");
        assert_eq!(f["events"], events, "{name}: {f}");
        assert_eq!(f["errors"], 0, "{name}: {f}");
    }
    assert_eq!(v["events"], 68);
    // The application log's four lines are other loggers: skipped, not errors.
    assert_eq!(file(&v, "atlassian-confluence.log")["skipped"], 4);
    // Files that hold no logs are passed over when found in a folder, not errors.
    assert!(file(&v, "entities.xml")["skipped_reason"].is_string());
    assert!(file(&v, "SOURCES.md")["skipped_reason"].is_string());
}

#[test]
fn stats_json_has_the_fields_scripts_depend_on() {
    let (_, v) = stats(&[real("atlassian-docs/conf_access_log.example.log").as_os_str()]);
    for key in ["events", "errors", "files", "records", "skipped", "users"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let f = &v["files"][0];
    for key in ["path", "format", "events", "errors"] {
        assert!(f.get(key).is_some(), "file missing {key}");
    }
    assert_eq!(f["users"], 1);
    assert_eq!(f["first_event"], "2020-12-18T12:57:26+11:00");
}

#[test]
fn jsonl_events_carry_normalised_fields() {
    let out = confwatch()
        .args(["events", "--format", "jsonl"])
        .arg(real("atlassian-docs/conf_access_log.example.log"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first["timestamp"], "2020-12-18T12:57:26+11:00");
    assert_eq!(first["user"], "testuser");
    assert_eq!(first["client_ip"], "::1");
    assert_eq!(first["status"], 200);
    assert_eq!(first["url"], "/index.action");
    assert_eq!(first["origin"]["line"], 1);
    assert_eq!(lines[1]["action"], "static");
    assert_eq!(lines[2]["action"], "polling");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

const LINE: &str = "[18/Dec/2020:12:57:26 +1100] alice http-nio-8090-exec-6 10.0.0.1 GET /pages/viewpage.action?pageId=42 HTTP/1.1 200 20ms 7881 - Mozilla/5.0";

fn access_lines(n: usize) -> String {
    (0..n)
        .map(|i| LINE.replace("pageId=42", &format!("pageId={i}")) + "\n")
        .collect()
}

#[test]
fn invalid_utf8_is_counted_with_file_and_line_but_the_event_is_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bytes = access_lines(2).into_bytes();
    bytes.extend_from_slice(LINE.as_bytes());
    bytes.extend_from_slice(b" \xff\xfe\n");
    let p = write(dir.path(), "utf8.log", &bytes);
    let (code, v) = stats(&[p.as_os_str()]);
    assert_eq!(code, 1);
    let f = &v["files"][0];
    assert_eq!(f["events"], 3);
    assert_eq!(f["errors"], 1);
    let ex = f["error_examples"][0].as_str().expect("example");
    assert!(
        ex.ends_with("utf8.log:3: invalid UTF-8 (decoded with replacement characters)"),
        "{ex}"
    );
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_reports_the_damage() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut enc = flate2_like_gzip(&access_lines(20_000));
    let cut = enc.len() * 3 / 4;
    enc.truncate(cut);
    let p = write(dir.path(), "cut.log.gz", &enc);
    let (code, v) = stats(&[p.as_os_str()]);
    assert_eq!(code, 1, "{v}");
    let f = &v["files"][0];
    assert_eq!(f["compression"], "gzip");
    let events = f["events"].as_u64().expect("events");
    assert!(events > 1000 && events < 20_000, "{f}");
    assert_eq!(f["errors"], 1);
    assert!(
        f["error_examples"][0]
            .as_str()
            .is_some_and(|e| e.contains("read error")),
        "{f}"
    );
}

/// gzip via the system `gzip` is not guaranteed; use the test's own encoder through the
/// binary's dependency tree is not possible, so shell out to Python, which CI has.
fn flate2_like_gzip(text: &str) -> Vec<u8> {
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    child.wait_with_output().expect("gzip").stdout
}

#[test]
fn a_ten_megabyte_line_is_skipped_and_the_rest_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut text = access_lines(3);
    text.push_str(&"x".repeat(10 << 20));
    text.push('\n');
    text.push_str(&access_lines(2));
    let p = write(dir.path(), "long.log", text.as_bytes());
    let (code, v) = stats(&[p.as_os_str()]);
    assert_eq!(code, 1);
    let f = &v["files"][0];
    assert_eq!(f["events"], 5);
    assert_eq!(f["errors"], 1);
    let ex = f["error_examples"][0].as_str().expect("example");
    assert!(ex.contains("long.log:4: line is longer than"), "{ex}");
}

#[test]
fn binary_empty_and_foreign_json_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = write(dir.path(), "blob.bin", &[0u8, 159, 146, 150, 0, 1, 2, 3]);
    let empty = write(dir.path(), "empty.log", b"");
    let trail = write(
        dir.path(),
        "cloudtrail.json",
        br#"{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}"#,
    );
    // Named explicitly: binary and foreign JSON are errors; empty is fine.
    let (code, v) = stats(&[bin.as_os_str(), empty.as_os_str(), trail.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(file(&v, "blob.bin")["errors"], 1);
    assert_eq!(file(&v, "empty.log")["errors"], 0);
    assert_eq!(file(&v, "empty.log")["events"], 0);
    let t = file(&v, "cloudtrail.json");
    assert_eq!(t["errors"], 1);
    assert!(
        t["error_examples"][0]
            .as_str()
            .is_some_and(|e| e.contains("not a Confluence")),
        "{t}"
    );
    // Found by walking a folder: passed over with a reason, exit 0.
    let (code, v) = stats(&[dir.path().as_os_str()]);
    assert_eq!(code, 0, "{v}");
    assert!(file(&v, "blob.bin")["skipped_reason"].is_string());
    assert!(file(&v, "cloudtrail.json")["skipped_reason"].is_string());
}

#[test]
fn missing_file_is_reported_and_others_still_read() {
    let (code, v) = stats(&[
        std::ffi::OsStr::new("/nonexistent/conf_access_log.log"),
        real("atlassian-docs/conf_access_log.example.log").as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["events"], 3);
    assert_eq!(v["errors"], 1);
}

#[test]
fn stdin_and_compressed_inputs() {
    let text = access_lines(10);
    let out = confwatch()
        .args(["events", "--stats", "--format", "json", "-"])
        .write_stdin(text.clone())
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["events"], 10);
    assert_eq!(v["files"][0]["path"], "<stdin>");

    let dir = tempfile::tempdir().expect("tmp");
    let gz = write(dir.path(), "a.log.gz", &flate2_like_gzip(&text));
    let (_, v) = stats(&[gz.as_os_str()]);
    assert_eq!(v["events"], 10);
}

#[test]
fn cluster_nodes_are_merged_by_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = |times: &[u32], user: &str| -> String {
        times
            .iter()
            .map(|s| {
                LINE.replace("12:57:26", &format!("12:57:{s:02}"))
                    .replace("alice", user)
                    + "\n"
            })
            .collect()
    };
    write(dir.path(), "node1.log", node(&[1, 5, 9], "n1").as_bytes());
    write(dir.path(), "node2.log", node(&[2, 3, 10], "n2").as_bytes());
    let out = confwatch()
        .args(["events", "--format", "jsonl"])
        .arg(dir.path())
        .output()
        .expect("run");
    let users: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["user"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(users, ["n1", "n2", "n2", "n1", "n1", "n2"]);
}

#[test]
fn demo_runs_and_shows_the_attack() {
    let out = confwatch().arg("demo").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" 0 errors"), "{text}");
    assert!(text.contains("searched for 'password'"), "{text}");
    assert!(text.contains("confluence_space_export"), "{text}");
    assert!(text.contains("Riskiest users: "), "{text}");
    assert!(text.contains("confwatch eval --labels"), "{text}");
    // Routine suppression is summarised per account and rule, not once per day.
    let routine: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Suppressed as routine: "))
        .collect();
    assert!(!routine.is_empty(), "{text}");
    let mut keys: Vec<&str> = routine
        .iter()
        .filter_map(|l| l.split(" fired on ").next())
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), routine.len(), "{routine:#?}");
}

#[test]
fn custom_patterns_from_the_command_line_and_server_xml() {
    let dir = tempfile::tempdir().expect("tmp");
    // Apache "combined" layout, which no preset matches.
    let combined = "10.1.1.1 - jdoe [02/Mar/2026:10:00:00 +0000] \"GET /display/ENG/Runbook HTTP/1.1\" 200 512 \"-\" \"curl/8.4.0\"\n";
    let log = write(dir.path(), "access.log", combined.as_bytes());
    let (code, v) = stats(&[log.as_os_str()]);
    assert_eq!(code, 1, "not recognised without a pattern: {v}");

    let out = confwatch()
        .args([
            "events",
            "--format",
            "jsonl",
            "--access-log-pattern",
            "combined",
        ])
        .arg(&log)
        .output()
        .expect("run");
    assert!(out.status.success());
    let ev: Value = serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap_or(b""))
        .expect("json");
    assert_eq!(ev["user"], "jdoe");
    assert_eq!(ev["action"], "page_view");
    assert_eq!(ev["object"]["space_key"], "ENG");
    assert_eq!(ev["user_agent"], "curl/8.4.0");

    // The same pattern read from a Tomcat server.xml (XML-escaped, next to a commented valve).
    let xml = r#"<Server><Service><Engine><Host>
      <!-- <Valve className="org.apache.catalina.valves.AccessLogValve" pattern="%h %t"/> -->
      <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs"
             pattern="%h %l %{X-AUSERNAME}o %t &quot;%r&quot; %s %b &quot;%{Referer}i&quot; &quot;%{User-Agent}i&quot;"/>
    </Host></Engine></Service></Server>"#;
    let sx = write(dir.path(), "server.xml", xml.as_bytes());
    let out = confwatch()
        .args(["events", "--stats", "--format", "json", "--server-xml"])
        .arg(&sx)
        .arg(&log)
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["events"], 1, "{v}");
    assert_eq!(v["files"][0]["variant"], "custom");

    let out = confwatch()
        .args(["events", "--stats", "--access-log-pattern", "%h %q %Z"])
        .arg(&log)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "an invalid pattern is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pattern"));
}

#[test]
fn docker_pattern_xff_lists_and_microsecond_durations() {
    let dir = tempfile::tempdir().expect("tmp");
    let docker = "10.0.0.5 jdoe [17/Jun/2021:12:57:26 +0200] \"GET /pages/viewpage.action?pageId=1 HTTP/1.1\" 200 7881 1020000 /pages/viewpage.action http-nio-8090-exec-6 \"Mozilla/5.0 (X11)\"\n";
    let xff = "[17/Jun/2021:12:57:26 +0200] 203.0.113.9, 10.0.0.2, 10.0.0.3 jdoe http-nio-8080-exec-6 10.0.0.3 GET /index.action HTTP/1.1 200 1020ms 7881 - Mozilla/5.0\n";
    let d = write(
        dir.path(),
        "confluence_access.2021-06-17.log",
        docker.as_bytes(),
    );
    let x = write(dir.path(), "conf_access_log.2021-06-17.log", xff.as_bytes());
    let out = confwatch()
        .args(["events", "--format", "jsonl", "--duration-unit", "us"])
        .arg(&d)
        .arg(&x)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(evs.len(), 2);
    let docker_ev = evs
        .iter()
        .find(|e| {
            e["origin"]["file"]
                .as_str()
                .is_some_and(|f| f.contains("confluence_access"))
        })
        .expect("docker");
    assert_eq!(docker_ev["duration_ms"], 1020.0);
    assert_eq!(docker_ev["object"]["page_id"], 1);
    let xff_ev = evs
        .iter()
        .find(|e| {
            e["origin"]["file"]
                .as_str()
                .is_some_and(|f| f.contains("conf_access_log"))
        })
        .expect("xff");
    assert_eq!(xff_ev["client_ip"], "203.0.113.9");
    assert_eq!(xff_ev["peer_ip"], "10.0.0.3");
    assert_eq!(xff_ev["forwarded_for"], "203.0.113.9, 10.0.0.2, 10.0.0.3");
}

#[test]
fn small_disorder_inside_a_file_is_put_in_time_order() {
    let dir = tempfile::tempdir().expect("tmp");
    // Tomcat stamps a request when it starts but writes it when it ends.
    let text: String = [5, 1, 9, 3, 7]
        .iter()
        .map(|s| {
            LINE.replace("12:57:26", &format!("12:57:{s:02}"))
                .replace("pageId=42", &format!("pageId={s}"))
                + "\n"
        })
        .collect();
    let p = write(dir.path(), "late.log", text.as_bytes());
    let out = confwatch()
        .args(["events", "--format", "jsonl"])
        .arg(&p)
        .output()
        .expect("run");
    let ids: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["object"]["page_id"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(ids, [1, 3, 5, 7, 9]);
}
