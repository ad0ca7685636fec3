//! Live REST scanning against a local fake Confluence (axum on 127.0.0.1, port 0) that
//! answers in the shape of Atlassian's documented Cloud v2 and Data Center v1 responses, with
//! cursor and offset pagination, a 429 with Retry-After, 500s, malformed JSON and an expired
//! token. The scanner must keep going and report each problem.

#![cfg(feature = "rest")]

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Response, StatusCode};
use confwatch_event::finding::ContentType;
use confwatch_scan::input::rest::{Auth, Flavor, RestConfig, scan_rest};
use confwatch_scan::{Collector, IgnoreList, Report, ScanError, ScanOptions, Scanner};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Fake {
    dc: bool,
    expired: bool,
    base: String,
    hits: Mutex<HashMap<String, u32>>,
}

fn resp(status: u16, body: String, extra: &[(&str, &str)]) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json");
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(Body::from(body)).unwrap()
}

fn ok(v: Value) -> Response<Body> {
    resp(200, v.to_string(), &[])
}

const GL_TOKEN: &str = "glpat-Zq8rT2mXv0LpK7cN4bWy";
const AWS_ID: &str = "AKIAQW7B3PDKHX4PYZGP";

fn cloud_page(id: &str, title: &str, version: u64, body: &str) -> Value {
    json!({
        "id": id, "status": "current", "title": title, "spaceId": "65538",
        "parentId": "65540", "parentType": "page", "position": 0,
        "authorId": "5b10ac8d82e05b22cc7d4ef5", "ownerId": "5b10ac8d82e05b22cc7d4ef5",
        "createdAt": "2025-01-10T09:00:00.000Z",
        "version": { "createdAt": format!("2025-01-1{version}T09:00:00.000Z"), "message": "",
                     "number": version, "minorEdit": false, "authorId": "5b10ac8d82e05b22cc7d4ef5" },
        "body": { "storage": { "representation": "storage", "value": body } },
        "_links": { "webui": format!("/spaces/OPS/pages/{id}"), "editui": format!("/pages/resumedraft.action?draftId={id}"), "tinyui": "/x/AbCd" }
    })
}

async fn cloud(State(st): State<Arc<Fake>>, req: Request) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let key = format!("{path}?{query}");
    let n = {
        let mut h = st.hits.lock().unwrap();
        let c = h.entry(key.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // base64("alice@example.com:tok")
    if st.expired || auth != "Basic YWxpY2VAZXhhbXBsZS5jb206dG9r" {
        return resp(
            401,
            json!({"code": 401, "message": "Unauthorized; scope does not match"}).to_string(),
            &[],
        );
    }
    let empty = json!({"results": [], "_links": {"base": format!("{}/wiki", st.base)}});
    match path.as_str() {
        "/wiki/api/v2/spaces" if query.contains("cursor=c2") => ok(json!({
            "results": [{"id": "65539", "key": "DEV", "name": "Development", "type": "global", "status": "current", "_links": {"webui": "/spaces/DEV"}}],
            "_links": {"base": format!("{}/wiki", st.base)}
        })),
        "/wiki/api/v2/spaces" => {
            if n == 1 {
                return resp(
                    429,
                    "{\"message\":\"Rate limit exceeded\"}".into(),
                    &[("retry-after", "1")],
                );
            }
            ok(json!({
                "results": [{"id": "65538", "key": "OPS", "name": "Operations", "type": "global", "status": "current", "_links": {"webui": "/spaces/OPS"}}],
                "_links": {"next": "/wiki/api/v2/spaces?limit=100&cursor=c2", "base": format!("{}/wiki", st.base)}
            }))
        }
        "/wiki/api/v2/spaces/65538/pages" if query.contains("cursor=p2") => {
            if n == 1 {
                return resp(500, "{\"message\":\"Internal Server Error\"}".into(), &[]);
            }
            ok(
                json!({"results": [cloud_page("11", "Team notes", 1, "<p>Passwort: Herbst+2023</p>")], "_links": {}}),
            )
        }
        "/wiki/api/v2/spaces/65538/pages" => ok(json!({
            "results": [cloud_page("10", "Build server", 2, &format!("<p>CI token {GL_TOKEN}</p>"))],
            "_links": {"next": "/wiki/api/v2/spaces/65538/pages?body-format=storage&limit=100&cursor=p2", "base": format!("{}/wiki", st.base)}
        })),
        "/wiki/api/v2/pages/10" if query.contains("version=1") => ok(cloud_page(
            "10",
            "Build server",
            1,
            &format!("<p>old key {AWS_ID}</p>"),
        )),
        "/wiki/api/v2/pages/10/footer-comments" => ok(json!({
            "results": [{"id": "30", "status": "current", "title": "Re: Build server", "pageId": "10",
                "version": {"createdAt": "2025-01-12T09:00:00.000Z", "number": 1, "authorId": "abc"},
                "body": {"storage": {"representation": "storage", "value": "<p>password: Comm3nt#Pw</p>"}},
                "_links": {"webui": "/spaces/OPS/pages/10?focusedCommentId=30"}}],
            "_links": {}
        })),
        "/wiki/api/v2/pages/11/footer-comments" => {
            resp(200, "{\"results\": [ {\"id\": ".into(), &[])
        }
        "/wiki/api/v2/pages/10/attachments" => ok(json!({
            "results": [{"id": "att40", "status": "current", "title": "creds.txt", "createdAt": "2025-01-12T09:00:00.000Z",
                "pageId": "10", "mediaType": "text/plain", "fileSize": 28, "fileId": "f1",
                "webuiLink": "/spaces/OPS/pages/10/attachments", "version": {"number": 1},
                "downloadLink": "/download/attachments/10/creds.txt?version=1&modificationDate=1736672400000&cacheVersion=1&api=v2",
                "_links": {"download": "/download/attachments/10/creds.txt?version=1&api=v2"}}],
            "_links": {}
        })),
        "/wiki/download/attachments/10/creds.txt" => resp(
            200,
            "db password: Att4ch-Pw!\n".into(),
            &[("content-type", "text/plain")],
        ),
        "/wiki/api/v2/spaces/65539/pages" => resp(503, "upstream unavailable".into(), &[]),
        p if p.ends_with("/inline-comments")
            || p.ends_with("/attachments")
            || p.ends_with("/footer-comments")
            || p.ends_with("/blogposts") =>
        {
            ok(empty)
        }
        _ => resp(
            404,
            json!({"message": format!("no route {key}")}).to_string(),
            &[],
        ),
    }
}

fn dc_content(id: &str, title: &str, version: u64, body: &str) -> Value {
    json!({
        "id": id, "type": "page", "status": if version > 0 { "current" } else { "historical" }, "title": title,
        "version": {"by": {"type": "known", "username": "jdoe", "userKey": "8a7f808a", "displayName": "Jane Doe"},
                    "when": "2025-02-01T10:00:00.000+01:00", "number": version, "minorEdit": false},
        "body": {"storage": {"value": body, "representation": "storage"}},
        "_links": {"webui": format!("/pages/viewpage.action?pageId={id}"), "self": format!("/rest/api/content/{id}")}
    })
}

async fn dc(State(st): State<Arc<Fake>>, req: Request) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != "Bearer NjE5MzYzODQ2NDkwOkZqS2xNbk9wUXJTdFV2V3hZejAx" {
        return resp(401, "{\"statusCode\":401,\"message\":\"\"}".into(), &[]);
    }
    let links = |next: Option<String>| {
        let mut l = json!({"base": format!("{}/confluence", st.base), "context": "/confluence"});
        if let Some(n) = next {
            l["next"] = json!(n);
        }
        l
    };
    match path.as_str() {
        "/confluence/rest/api/space" if query.contains("start=1") => ok(json!({
            "results": [{"id": 98306, "key": "ARCH", "name": "Architecture", "type": "global", "_links": {"webui": "/display/ARCH"}}],
            "start": 1, "limit": 1, "size": 1, "_links": links(None)
        })),
        "/confluence/rest/api/space" => ok(json!({
            "results": [{"id": 98305, "key": "ENG", "name": "Engineering", "type": "global", "_links": {"webui": "/display/ENG"}}],
            "start": 0, "limit": 1, "size": 1, "_links": links(Some("/rest/api/space?limit=1&start=1".into()))
        })),
        "/confluence/rest/api/content" if query.contains("spaceKey=ENG") && query.contains("type=page") => ok(json!({
            "results": [dc_content("65601", "Test accounts", 2,
                "<table><tbody><tr><th>User</th><th>Kennwort</th></tr><tr><td>tester</td><td>Test-Pw-2025</td></tr></tbody></table>")],
            "start": 0, "limit": 25, "size": 1, "_links": links(None)
        })),
        "/confluence/rest/api/content/65601" if query.contains("version=1") => ok(dc_content(
            "65601", "Test accounts", 1, "<p>jdbc:oracle:thin:scott/T1ger2024@//ora01:1521/ORCL</p>",
        )),
        "/confluence/rest/api/content/65601/child/attachment" => ok(json!({
            "results": [{"id": "att65700", "type": "attachment", "title": "net.drawio", "metadata": {"mediaType": "application/vnd.jgraph.mxfile"},
                "version": {"number": 1, "when": "2025-02-01T10:00:00.000+01:00"},
                "_links": {"download": "/download/attachments/65601/net.drawio?version=1&modificationDate=1738400400000&api=v2"}}],
            "start": 0, "limit": 25, "size": 1, "_links": links(None)
        })),
        "/confluence/download/attachments/65601/net.drawio" => resp(
            200,
            r#"<mxfile><diagram name="n"><mxGraphModel><root><mxCell id="2" value="backup share \\nas01.corp\backup$" /></root></mxGraphModel></diagram></mxfile>"#.into(),
            &[],
        ),
        "/confluence/rest/api/content" | "/confluence/rest/api/content/65601/child/comment" => {
            ok(json!({"results": [], "start": 0, "limit": 25, "size": 0, "_links": links(None)}))
        }
        _ => resp(404, "{}".into(), &[]),
    }
}

/// Starts a fake server on 127.0.0.1:0 in a background runtime; returns its base URL.
fn serve(dc_mode: bool, expired: bool) -> (String, Arc<Fake>) {
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
                dc: dc_mode,
                expired,
                base: format!("http://{addr}"),
                hits: Mutex::default(),
            });
            let app = if st.dc {
                Router::new().fallback(dc).with_state(st.clone())
            } else {
                Router::new().fallback(cloud).with_state(st.clone())
            };
            tx.send((format!("http://{addr}"), st)).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn run(cfg: &RestConfig) -> Result<(Report, confwatch_scan::input::rest::RestStats), ScanError> {
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let mut c = Collector::new(ScanOptions::default(), IgnoreList::default());
    let stats = scan_rest(&s, cfg, &mut c)?;
    Ok((c.finish(), stats))
}

fn fast(mut cfg: RestConfig) -> RestConfig {
    cfg.backoff = Duration::from_millis(10);
    cfg.max_retries = 2;
    cfg.timeout = Duration::from_secs(10);
    cfg
}

#[test]
fn cloud_v2_pagination_history_comments_attachments_and_failures() {
    let (base, fake) = serve(false, false);
    let auth = Auth::Basic {
        email: "alice@example.com".into(),
        token: "tok".into(),
    };
    let cfg = fast(RestConfig::new(&base, Flavor::Cloud, auth));
    let (r, stats) = run(&cfg).unwrap();
    let find = |rule: &str| {
        r.findings
            .iter()
            .find(|f| f.rule_id == rule)
            .unwrap_or_else(|| panic!("no {rule}: {:#?} {:#?}", r.findings, stats.errors))
    };
    // Current body, second page of the cursor listing (after a 500), historical version,
    // footer comment, attachment.
    let gl = find("gitlab-pat");
    assert_eq!(gl.locations[0].page_id.as_deref(), Some("10"));
    assert_eq!(gl.locations[0].version, Some(2));
    assert_eq!(gl.locations[0].space_key.as_deref(), Some("OPS"));
    assert_eq!(
        gl.locations[0].link.as_deref(),
        Some(format!("{base}/wiki/spaces/OPS/pages/10").as_str())
    );
    let aws = find("aws-access-key-id");
    assert_eq!(aws.locations[0].version, Some(1));
    let pw: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "generic-password")
        .map(|f| (f.locations[0].content_type, f.locations[0].page_id.clone()))
        .collect();
    assert!(
        pw.contains(&(Some(ContentType::Page), Some("11".into()))),
        "{pw:?}"
    );
    assert!(
        pw.contains(&(Some(ContentType::Comment), Some("10".into()))),
        "{pw:?}"
    );
    assert!(
        pw.contains(&(Some(ContentType::Attachment), Some("10".into()))),
        "{pw:?}"
    );
    // 429 honoured and retried; the 500 retried; DEV's 503s and page 11's malformed
    // comments reported, scan went on.
    assert!(stats.rate_limited >= 1);
    assert!(stats.retries >= 2);
    assert_eq!(stats.spaces, 2);
    let errs = stats.errors.join("\n");
    assert!(
        errs.contains("/spaces/65539/pages") && errs.contains("503"),
        "{errs}"
    );
    assert!(
        errs.contains("/pages/11/footer-comments") && errs.contains("malformed JSON"),
        "{errs}"
    );
    assert!(
        fake.hits
            .lock()
            .unwrap()
            .get("/wiki/api/v2/spaces?limit=100")
            .copied()
            >= Some(2)
    );
}

#[test]
fn expired_token_stops_with_an_auth_error() {
    let (base, _fake) = serve(false, true);
    let auth = Auth::Basic {
        email: "alice@example.com".into(),
        token: "tok".into(),
    };
    let cfg = fast(RestConfig::new(&base, Flavor::Cloud, auth));
    match run(&cfg) {
        Err(ScanError::Auth { status, .. }) => assert_eq!(status, 401),
        other => panic!(
            "expected an auth error, got {:?}",
            other.map(|(r, _)| r.findings.len())
        ),
    }
}

#[test]
fn data_center_v1_offset_pagination_history_and_attachments() {
    let (base, _fake) = serve(true, false);
    let auth = Auth::from_lookup(Flavor::DataCenter, |k| {
        (k == "CONFWATCH_PAT").then(|| "NjE5MzYzODQ2NDkwOkZqS2xNbk9wUXJTdFV2V3hZejAx".to_owned())
    })
    .unwrap();
    let cfg = fast(RestConfig::new(
        &format!("{base}/confluence"),
        Flavor::DataCenter,
        auth,
    ));
    let (r, stats) = run(&cfg).unwrap();
    assert_eq!(stats.spaces, 2, "{:?}", stats.errors);
    assert!(stats.errors.is_empty(), "{:?}", stats.errors);
    let table = r
        .findings
        .iter()
        .find(|f| f.rule_id == "table-password-column")
        .expect("table password");
    let l = &table.locations[0];
    assert_eq!(l.author.as_deref(), Some("jdoe"));
    assert_eq!(l.space_key.as_deref(), Some("ENG"));
    assert_eq!(l.version, Some(2));
    let ora = r
        .findings
        .iter()
        .find(|f| f.rule_id == "oracle-thin-credential")
        .expect("historical version scanned");
    assert_eq!(ora.locations[0].version, Some(1));
    let unc = r
        .findings
        .iter()
        .find(|f| f.rule_id == "unc-path")
        .expect("drawio attachment");
    assert_eq!(unc.locations[0].attachment.as_deref(), Some("net.drawio"));
    let eng = r.spaces.iter().find(|s| s.space_key == "ENG").unwrap();
    assert_eq!(eng.space_name.as_deref(), Some("Engineering"));
}
