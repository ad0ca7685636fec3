//! `confwatch scan --url`: credentials only from the environment, plain HTTP refused except
//! to loopback, and a small Data Center fake (std TcpListener on 127.0.0.1:0).

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const PAT: &str = "NjE5MzYzODQ2NDkwOkZqS2xNbk9wUXJTdFV2V3hZejAx";

fn confwatch() -> Command {
    let mut c = Command::cargo_bin("confwatch").unwrap();
    c.env_remove("CONFWATCH_PAT")
        .env_remove("CONFWATCH_EMAIL")
        .env_remove("CONFWATCH_API_TOKEN");
    c
}

/// Serves DC v1 JSON: one space, one page with a password; 401 without the PAT.
fn fake_dc() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut authed = false;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization:") && h.contains(PAT) {
                    authed = true;
                }
            }
            let (status, body) = if !authed {
                ("401 Unauthorized", "{}".to_owned())
            } else if path.starts_with("/rest/api/space") {
                ("200 OK", r#"{"results":[{"id":1,"key":"IT","name":"IT"}],"start":0,"limit":25,"size":1,"_links":{}}"#.to_owned())
            } else if path.starts_with("/rest/api/content?") && path.contains("type=page") {
                ("200 OK", r#"{"results":[{"id":"7","type":"page","status":"current","title":"VPN","version":{"by":{"username":"bob"},"number":1,"when":"2025-01-01T00:00:00.000Z"},"body":{"storage":{"value":"<p>VPN password: Vpn#Secret77</p>","representation":"storage"}},"_links":{"webui":"/display/IT/VPN"}}],"start":0,"limit":25,"size":1,"_links":{}}"#.to_owned())
            } else {
                (
                    "200 OK",
                    r#"{"results":[],"start":0,"limit":25,"size":0,"_links":{}}"#.to_owned(),
                )
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

#[test]
fn rest_scan_reads_credentials_from_the_environment() {
    let base = fake_dc();
    // No PAT in the environment: usage error, nothing sent.
    confwatch()
        .args(["scan", "--url", &base, "--dc"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("CONFWATCH_PAT"));
    // Wrong PAT: authentication error.
    confwatch()
        .env("CONFWATCH_PAT", "wrong")
        .args(["scan", "--url", &base, "--dc"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("authentication failed"));
    let out = confwatch()
        .env("CONFWATCH_PAT", PAT)
        .args(["scan", "--url", &base, "--dc", "--format", "jsonl"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out).lines().next().unwrap()).unwrap();
    assert_eq!(v["rule_id"], "generic-password");
    assert_eq!(v["page_id"], "7");
    assert_eq!(v["space_key"], "IT");
    assert_eq!(v["author"], "bob");
    assert!(v["offset"].as_u64().is_some());
    assert!(!String::from_utf8_lossy(&out).contains("Vpn#Secret77"));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    confwatch()
        .env("CONFWATCH_PAT", PAT)
        .args(["scan", "--url", "http://wiki.example.org", "--dc"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("plain HTTP"));
}
