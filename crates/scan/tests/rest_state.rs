//! REST scans with a state store, against a local fake Confluence (axum on 127.0.0.1, port 0,
//! Data Center v1 and Cloud v2 shapes as in tests/rest.rs) that records every query it gets:
//! an incremental run asks the server only for content modified since the last complete scan
//! and finds only what is new; an interrupted run is resumed (completed spaces skipped, their
//! findings kept) and the watermark moves only once a run completes.

#![cfg(feature = "rest")]

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Response, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use confwatch_scan::input::rest::{
    Auth, Flavor, RestConfig, RunSummary, StateRun, scan_rest_with_state,
};
use confwatch_scan::state::StateStore;
use confwatch_scan::{IgnoreList, Report, ScanOptions, Scanner};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAT: &str = "NjE5MzYzODQ2NDkwOkZqS2xNbk9wUXJTdFV2V3hZejAx";
const OLD_PW: &str = "Old-Pw-1111x";
const EDGE_PW: &str = "Edge-Pw-2222y";
const OPS_PW: &str = "Ops-Pw-3333z";
const NEW_TOKEN: &str = "glpat-Zq8rT2mXv0LpK7cN4bWy";

struct Fake {
    dc: bool,
    /// 1: initial content; 2: a new page was edited after the first scan.
    phase: AtomicU32,
    /// Space OPS's page listing answers 500 (the network is down for it).
    fail_ops: AtomicBool,
    /// Every request as `path?query`, query percent-decoded.
    queries: Mutex<Vec<String>>,
}

impl Fake {
    fn seen(&self, needle: &str) -> usize {
        self.queries
            .lock()
            .unwrap()
            .iter()
            .filter(|q| q.contains(needle))
            .count()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn resp(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// (id, title, last modified, body) of the pages of a space in the current phase.
fn pages(st: &Fake, space: &str) -> Vec<(&'static str, &'static str, &'static str, String)> {
    let mut v = Vec::new();
    match space {
        "ENG" => {
            v.push((
                "100",
                "Old page",
                "2025-01-10T10:00:00.000+01:00",
                format!("<p>password: {OLD_PW}</p>"),
            ));
            v.push((
                "101",
                "Edge page",
                "2025-02-28T12:00:00.000Z",
                format!("<p>password: {EDGE_PW}</p>"),
            ));
            if st.phase.load(Ordering::SeqCst) >= 2 {
                v.push((
                    "102",
                    "New page",
                    "2025-03-05T10:00:00.000+01:00",
                    format!("<p>CI token {NEW_TOKEN}</p>"),
                ));
            }
        }
        "OPS" => v.push((
            "200",
            "Ops page",
            "2025-01-05T10:00:00.000Z",
            format!("<p>password: {OPS_PW}</p>"),
        )),
        _ => {}
    }
    v
}

fn dc_item(id: &str, title: &str, when: &str, body: &str) -> Value {
    json!({
        "id": id, "type": "page", "status": "current", "title": title,
        "version": {"by": {"type": "known", "username": "jdoe", "displayName": "Jane Doe"},
                    "when": when, "number": 1, "minorEdit": false},
        "body": {"storage": {"value": body, "representation": "storage"}},
        "_links": {"webui": format!("/pages/viewpage.action?pageId={id}")}
    })
}

fn cloud_item(id: &str, title: &str, when: &str, body: &str) -> Value {
    json!({
        "id": id, "status": "current", "title": title, "spaceId": "65538",
        "version": {"createdAt": when, "number": 1, "authorId": "5b10ac8d82e05b22cc7d4ef5"},
        "body": {"storage": {"representation": "storage", "value": body}},
        "_links": {"webui": format!("/spaces/ENG/pages/{id}")}
    })
}

fn when_utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn handler(State(st): State<Arc<Fake>>, req: Request) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = decode(req.uri().query().unwrap_or(""));
    st.queries.lock().unwrap().push(format!("{path}?{query}"));
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let empty = json!({"results": [], "start": 0, "limit": 25, "size": 0, "_links": {}});
    if st.dc {
        if auth != format!("Bearer {PAT}") {
            return resp(401, "{}".into());
        }
        let space_of = |q: &str| {
            ["ENG", "OPS"]
                .into_iter()
                .find(|k| q.contains(&format!("spaceKey={k}")) || q.contains(&format!("\"{k}\"")))
        };
        match path.as_str() {
            "/confluence/rest/api/space" => resp(
                200,
                json!({"results": [
                    {"id": 1, "key": "ENG", "name": "Engineering"},
                    {"id": 2, "key": "OPS", "name": "Operations"}],
                    "start": 0, "limit": 25, "size": 2, "_links": {}})
                .to_string(),
            ),
            "/confluence/rest/api/content" | "/confluence/rest/api/content/search"
                if query.contains("type=page") || query.contains("type = page") =>
            {
                let Some(space) = space_of(&query) else {
                    return resp(400, "{}".into());
                };
                if space == "OPS" && st.fail_ops.load(Ordering::SeqCst) {
                    return resp(500, "{\"message\":\"down\"}".into());
                }
                // CQL `lastmodified >= "YYYY-MM-DD"`, compared by day as the server would.
                let min_day = query
                    .split("lastmodified >= \"")
                    .nth(1)
                    .and_then(|r| r.get(..10))
                    .map(str::to_owned);
                let results: Vec<Value> = pages(&st, space)
                    .into_iter()
                    .filter(|(_, _, when, _)| {
                        min_day.as_deref().is_none_or(|d| {
                            when_utc(when).format("%Y-%m-%d").to_string().as_str() >= d
                        })
                    })
                    .map(|(id, t, w, b)| dc_item(id, t, w, &b))
                    .collect();
                resp(
                    200,
                    json!({"results": results, "start": 0, "limit": 25, "size": 1, "_links": {}})
                        .to_string(),
                )
            }
            _ => resp(200, empty.to_string()),
        }
    } else {
        if auth != "Basic YWxpY2VAZXhhbXBsZS5jb206dG9r" {
            return resp(401, "{}".into());
        }
        match path.as_str() {
            "/wiki/api/v2/spaces" => resp(
                200,
                json!({"results": [{"id": "65538", "key": "ENG", "name": "Engineering"}], "_links": {}})
                    .to_string(),
            ),
            "/wiki/api/v2/spaces/65538/pages" => {
                let mut all = pages(&st, "ENG");
                if query.contains("sort=-modified-date") {
                    all.sort_by_key(|(_, _, w, _)| std::cmp::Reverse(when_utc(w)));
                }
                // Two results per listing page, cursor pagination.
                let start: usize = query
                    .split("cursor=")
                    .nth(1)
                    .and_then(|c| c.split('&').next())
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let chunk: Vec<Value> = all
                    .iter()
                    .skip(start)
                    .take(2)
                    .map(|(id, t, w, b)| cloud_item(id, t, w, b))
                    .collect();
                let mut links = json!({});
                if start + 2 < all.len() {
                    let q = query.split("&cursor=").next().unwrap_or("");
                    links["next"] = json!(format!(
                        "/wiki/api/v2/spaces/65538/pages?{q}&cursor={}",
                        start + 2
                    ));
                }
                resp(200, json!({"results": chunk, "_links": links}).to_string())
            }
            _ => resp(200, json!({"results": [], "_links": {}}).to_string()),
        }
    }
}

fn serve(dc: bool) -> (String, Arc<Fake>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let st = Arc::new(Fake {
                dc,
                phase: AtomicU32::new(1),
                fail_ops: AtomicBool::new(false),
                queries: Mutex::default(),
            });
            let app = Router::new().fallback(handler).with_state(st.clone());
            tx.send((format!("http://{addr}"), st)).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn cfg(base: &str, dc: bool) -> RestConfig {
    let mut c = if dc {
        RestConfig::new(
            &format!("{base}/confluence"),
            Flavor::DataCenter,
            Auth::Bearer(PAT.into()),
        )
    } else {
        RestConfig::new(
            base,
            Flavor::Cloud,
            Auth::Basic {
                email: "alice@example.com".into(),
                token: "tok".into(),
            },
        )
    };
    c.backoff = Duration::from_millis(5);
    c.max_retries = 1;
    c.timeout = Duration::from_secs(10);
    c
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, 0, 0, 0).unwrap()
}

fn run(
    cfg: &RestConfig,
    store: &mut StateStore,
    incremental: bool,
    now: DateTime<Utc>,
) -> (Report, RunSummary, Vec<String>) {
    let scanner = Scanner::new(ScanOptions::default()).unwrap();
    let mut run = StateRun::new(store, incremental);
    run.now = now;
    let mut lines = Vec::new();
    let (report, _stats, summary) = scan_rest_with_state(
        &scanner,
        cfg,
        &ScanOptions::default(),
        &IgnoreList::default(),
        run,
        &mut |l: &str| lines.push(l.to_owned()),
    )
    .unwrap();
    (report, summary, lines)
}

/// Page ids with a finding, sorted.
fn pages_found(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .flat_map(|f| f.locations.iter().filter_map(|l| l.page_id.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn dc_incremental_run_asks_cql_lastmodified_and_finds_only_new_content() {
    let (base, fake) = serve(true);
    let dir = tempfile::tempdir().unwrap();
    let mut store = StateStore::open(dir.path()).unwrap();
    let cfg = cfg(&base, true);
    let (r1, s1, _) = run(&cfg, &mut store, true, at(1));
    assert!(s1.finished);
    assert_eq!(pages_found(&r1), ["100", "101", "200"]);
    assert_eq!(fake.seen("lastmodified"), 0, "first run is a full crawl");
    let site = format!("{base}/confluence");
    assert_eq!(store.watermark(&site, "ENG").unwrap(), Some(at(1)));

    fake.phase.store(2, Ordering::SeqCst);
    let full_listings = fake.seen("/rest/api/content?spaceKey=");
    let (r2, s2, lines) = run(&cfg, &mut store, true, at(10));
    assert!(s2.finished);
    // Watermark 2025-03-01T00:00Z less 10 min overlap, asked a day early (CQL time zone).
    assert_eq!(
        fake.seen(r#"cql=space = "ENG" and type = page and lastmodified >= "2025-02-27""#),
        1,
        "{:#?}",
        fake.queries.lock().unwrap()
    );
    assert_eq!(fake.seen("/rest/api/content?spaceKey="), full_listings);
    // Only the new page: the edge page (modified before the watermark, within the CQL
    // day) is dropped on its own timestamp.
    assert_eq!(pages_found(&r2), ["102"]);
    assert!(r2.findings.iter().any(|f| f.rule_id == "gitlab-pat"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ENG: incremental, content modified since 2025-02-28T23:50:00Z")),
        "{lines:?}"
    );
    assert_eq!(store.watermark(&site, "ENG").unwrap(), Some(at(10)));
    // An explicit --since wins over the watermark.
    let mut explicit = cfg.clone();
    explicit.since = Some("2025-01-01".into());
    let (r3, _, _) = run(&explicit, &mut store, true, at(11));
    assert_eq!(
        fake.seen(r#"type = page and lastmodified >= "2024-12-31""#),
        2
    );
    assert_eq!(pages_found(&r3), ["100", "101", "102", "200"]);
    // ... and, being later than nothing stored, does not move ENG back or forward wrongly:
    // it covered everything since the previous watermark, so it advances.
    assert_eq!(store.watermark(&site, "ENG").unwrap(), Some(at(11)));
}

#[test]
fn cloud_incremental_run_sorts_newest_first_and_stops_at_older_pages() {
    let (base, fake) = serve(false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scan.sqlite3");
    let mut store = StateStore::open(&file).unwrap();
    let cfg = cfg(&base, false);
    let (r1, s1, _) = run(&cfg, &mut store, true, at(1));
    assert!(s1.finished);
    assert_eq!(pages_found(&r1), ["100", "101"]);
    assert_eq!(fake.seen("sort=-modified-date"), 0);

    fake.phase.store(2, Ordering::SeqCst);
    let (r2, s2, _) = run(&cfg, &mut store, true, at(10));
    assert!(s2.finished);
    assert_eq!(pages_found(&r2), ["102"]);
    // Newest first: page 1 holds the new page and the edge page (older than the watermark),
    // so the cursor to page 2 (the old page) is never followed.
    assert_eq!(
        fake.seen("/wiki/api/v2/spaces/65538/pages?body-format=storage&sort=-modified-date"),
        1,
        "{:#?}",
        fake.queries.lock().unwrap()
    );
    assert_eq!(fake.seen("sort=-modified-date&limit=100&cursor="), 0);
    assert_eq!(store.watermark(&base, "ENG").unwrap(), Some(at(10)));
}

#[test]
fn interrupted_run_resumes_skipping_completed_spaces_and_moves_the_watermark_only_when_done() {
    let (base, fake) = serve(true);
    let dir = tempfile::tempdir().unwrap();
    let site = format!("{base}/confluence");
    let cfg = cfg(&base, true);
    fake.fail_ops.store(true, Ordering::SeqCst);
    {
        let mut store = StateStore::open(dir.path()).unwrap();
        let (r1, s1, lines) = run(&cfg, &mut store, true, at(1));
        assert!(!s1.finished);
        assert_eq!(s1.completed, ["ENG"]);
        assert_eq!(s1.incomplete, ["OPS"]);
        // ENG's findings are in this run's output all the same.
        assert_eq!(pages_found(&r1), ["100", "101"]);
        assert!(lines.iter().any(|l| l.contains("OPS did not complete")));
        assert_eq!(store.watermark(&site, "ENG").unwrap(), None);
        assert_eq!(store.watermark(&site, "OPS").unwrap(), None);
    }
    // Next run (a new process, the server back): ENG is skipped, OPS scanned.
    fake.fail_ops.store(false, Ordering::SeqCst);
    let eng_listings = fake.seen("spaceKey=ENG");
    let mut store = StateStore::open(dir.path()).unwrap();
    let (r2, s2, lines) = run(&cfg, &mut store, true, at(2));
    assert!(s2.resumed && s2.finished, "{s2:?}");
    assert_eq!(s2.skipped, ["ENG"]);
    assert_eq!(s2.completed, ["OPS"]);
    assert_eq!(
        fake.seen("spaceKey=ENG"),
        eng_listings,
        "ENG not crawled again"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("resuming the interrupted run started 2025-03-01T00:00:00Z")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("space ENG completed earlier in this run, skipped (2 finding(s)")),
        "{lines:?}"
    );
    // The report holds ENG's stored findings and OPS's new ones.
    assert_eq!(pages_found(&r2), ["100", "101", "200"]);
    let eng = r2.spaces.iter().find(|p| p.space_key == "ENG").unwrap();
    assert_eq!(eng.pages, 2);
    // The watermark is the start of the interrupted run, for both spaces.
    assert_eq!(store.watermark(&site, "ENG").unwrap(), Some(at(1)));
    assert_eq!(store.watermark(&site, "OPS").unwrap(), Some(at(1)));
    // A third run is a new one, not a resume.
    let (_, s3, _) = run(&cfg, &mut store, true, at(3));
    assert!(!s3.resumed && s3.finished);
    assert!(s3.skipped.is_empty());
}
