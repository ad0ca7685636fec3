//! Evaluation of rsigma 0.23 on our field mapping: Sigma modifiers, conditions and the
//! correlation types the rule pack needs, plus a throughput measurement (ignored by
//! default; run with `--ignored --nocapture` and an optimised profile).

use chrono::{DateTime, Duration, FixedOffset};
use confwatch_detect::view::EventView;
use confwatch_event::{Action, Event, Origin, Outcome, RestRead, SourceFormat};
use rsigma_eval::{CorrelationConfig, CorrelationEngine, Engine};
use rsigma_parser::parse_sigma_yaml;
use std::sync::Arc;

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00+01:00").unwrap()
}

fn ev(sec: i64, user: &str, ip: &str, action: Action) -> Event {
    let mut e = Event::new(
        t0() + Duration::seconds(sec),
        SourceFormat::TomcatAccess,
        Origin {
            file: Arc::from("synthetic.log"),
            line: sec as u64 + 1,
        },
    );
    e.action = action;
    if !user.is_empty() {
        e.user = Some(Arc::from(user));
    }
    e.client_ip = Some(ip.parse().unwrap());
    e.method = Some(Arc::from("GET"));
    e.status = Some(200);
    e.outcome = Outcome::Success;
    e
}

fn engine(yaml: &str) -> Engine {
    let c = parse_sigma_yaml(yaml).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let mut e = Engine::new();
    e.add_collection(&c).unwrap();
    e
}

fn hits(engine: &Engine, e: &Event, privileged: bool) -> usize {
    engine.evaluate(&EventView::new(e, privileged)).len()
}

#[test]
fn modifiers_work_on_the_mapping() {
    let rules = r#"
title: all modifiers
id: m1
logsource: { product: confluence, service: access }
detection:
    sel_q:
        search_query|contains|all: ['pass', 'word']
    sel_ua:
        user_agent|startswith: 'python-requests/'
    sel_url:
        cs-uri-stem|endswith: '.action'
    sel_re:
        url|re: '^/rest/api/content/\d+$'
    sel_net:
        c-ip|cidr: '185.220.101.0/24'
    sel_items:
        rest.items|gte: 50
    sel_priv:
        privileged: true
    sel_exists:
        search_query|exists: true
    condition: (sel_q and sel_exists) or 1 of sel_ua* or (sel_url and sel_net) or sel_re or sel_items or (sel_priv and not sel_url)
"#;
    let eng = engine(rules);
    let base = ev(0, "jdoe", "10.0.0.1", Action::PageView);
    assert_eq!(hits(&eng, &base, false), 0);

    let mut q = base.clone();
    q.search_query = Some("my Password word".into());
    assert_eq!(hits(&eng, &q, false), 1, "contains|all is case-insensitive");
    q.search_query = Some("passport".into());
    assert_eq!(hits(&eng, &q, false), 0);

    let mut ua = base.clone();
    ua.user_agent = Some(Arc::from("python-requests/2.31"));
    assert_eq!(hits(&eng, &ua, false), 1);

    let mut net = ev(0, "jdoe", "185.220.101.47", Action::PageView);
    net.url = Some("/pages/viewpage.action?pageId=1".into());
    assert_eq!(hits(&eng, &net, false), 1, "cidr + endswith on the path");
    net.client_ip = Some("185.220.102.47".parse().unwrap());
    assert_eq!(hits(&eng, &net, false), 0);

    let mut re = base.clone();
    re.url = Some("/rest/api/content/12345".into());
    assert_eq!(hits(&eng, &re, false), 1);
    re.url = Some("/rest/api/content/12345/child".into());
    assert_eq!(hits(&eng, &re, false), 0);

    let mut items = ev(0, "jdoe", "10.0.0.1", Action::RestContentList);
    items.rest = Some(RestRead {
        body_expanded: true,
        limit: Some(100),
        start: None,
        api_version: 1,
    });
    assert_eq!(hits(&eng, &items, false), 1);
    items.rest = Some(RestRead {
        body_expanded: true,
        limit: Some(10),
        start: None,
        api_version: 1,
    });
    assert_eq!(hits(&eng, &items, false), 0);

    assert_eq!(hits(&eng, &base, true), 1, "privileged bool");
}

#[test]
fn correlations_run_in_event_time() {
    let rules = r#"
title: view
id: view
logsource: { product: confluence }
detection:
    sel:
        action: page_view
    condition: sel
---
title: search
id: search
logsource: { product: confluence }
detection:
    sel:
        search_query|contains: password
    condition: sel
---
title: rest
id: rest
logsource: { product: confluence }
detection:
    sel:
        rest.body_expanded: true
    condition: sel
---
title: many distinct pages
id: distinct
correlation:
    type: value_count
    rules: [view]
    group-by: [user]
    timespan: 1h
    condition: { field: page_id, gte: 5 }
---
title: search then view
id: seq
correlation:
    type: temporal_ordered
    rules: [search, view]
    group-by: [user]
    timespan: 20m
---
title: pages returned
id: sum
correlation:
    type: value_sum
    rules: [rest]
    group-by: [user]
    timespan: 1h
    condition: { field: rest.items, gte: 500 }
"#;
    let c = parse_sigma_yaml(rules).unwrap();
    let mut eng = CorrelationEngine::new(CorrelationConfig::default());
    eng.add_collection(&c).unwrap();
    let mut fired: Vec<String> = Vec::new();
    fn feed_into(fired: &mut Vec<String>, eng: &mut CorrelationEngine, e: &Event) {
        for r in eng.process_event_at(&EventView::new(e, false), e.timestamp.timestamp()) {
            if r.is_correlation() {
                fired.push(r.header.rule_id.clone().unwrap_or_default());
            }
        }
    }
    // Same page 10 times: value_count must not fire.
    for i in 0..10 {
        let mut e = ev(i, "alice", "10.0.0.2", Action::PageView);
        e.object.page_id = Some(1);
        feed_into(&mut fired, &mut eng, &e);
    }
    // View before search: temporal_ordered must not fire for bob.
    let mut v = ev(100, "bob", "10.0.0.3", Action::PageView);
    v.object.page_id = Some(1);
    feed_into(&mut fired, &mut eng, &v);
    let mut s = ev(110, "bob", "10.0.0.3", Action::SiteSearch);
    s.search_query = Some("password".into());
    feed_into(&mut fired, &mut eng, &s);
    assert!(fired.is_empty(), "{fired:?}");
    // Now a view after the search: fires.
    let mut v2 = v.clone();
    v2.timestamp = t0() + Duration::seconds(120);
    feed_into(&mut fired, &mut eng, &v2);
    assert_eq!(fired, vec!["seq".to_string()]);
    fired.clear();
    // 5 distinct pages over 2 hours: outside the sliding window, no fire.
    for i in 0..5 {
        let mut e = ev(1000 + i * 1800, "carol", "10.0.0.4", Action::PageView);
        e.object.page_id = Some(100 + i as u64);
        feed_into(&mut fired, &mut eng, &e);
    }
    assert!(fired.is_empty(), "{fired:?}");
    for i in 0..5 {
        let mut e = ev(20000 + i, "dave", "10.0.0.5", Action::PageView);
        e.object.page_id = Some(100 + i as u64);
        feed_into(&mut fired, &mut eng, &e);
    }
    assert_eq!(fired, vec!["distinct".to_string()]);
    fired.clear();
    // 5 REST lists of 100 items: value_sum reaches 500.
    for i in 0..5 {
        let mut e = ev(30000 + i, "erin", "10.0.0.6", Action::RestContentList);
        e.rest = Some(RestRead {
            body_expanded: true,
            limit: Some(100),
            start: None,
            api_version: 1,
        });
        feed_into(&mut fired, &mut eng, &e);
    }
    assert_eq!(fired, vec!["sum".to_string()]);
}

/// Throughput of rsigma over the view: ~1M synthetic events, a rule set shaped like the
/// pack (12 detections, 6 correlations). Run:
/// `CARGO_PROFILE_TEST_OPT_LEVEL=3 cargo test -p confwatch-detect --test rsigma_eval -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput_one_million_events() {
    let mut rules = String::new();
    let uas = [
        "python-requests",
        "curl/",
        "Wget",
        "Go-http-client",
        "PowerShell",
        "okhttp",
    ];
    for i in 0..12 {
        rules.push_str(&format!(
            "title: d{i}\nid: d{i}\nlogsource: {{ product: confluence }}\ndetection:\n    sel:\n        action: page_view\n        user_agent|contains: '{}'\n    filter:\n        status: 404\n    condition: sel and not filter\n---\n",
            uas[i % uas.len()]
        ));
    }
    for i in 0..6 {
        rules.push_str(&format!(
            "title: c{i}\nid: c{i}\ncorrelation:\n    type: value_count\n    rules: [d{i}]\n    group-by: [user]\n    timespan: 1h\n    condition: {{ field: page_id, gte: 1000 }}\n---\n"
        ));
    }
    rules.push_str("title: s\nid: s\nlogsource: { product: confluence }\ndetection:\n    sel:\n        search_query|contains: [password, secret, token, vpn, ssh, aws]\n    condition: sel\n");
    let c = parse_sigma_yaml(&rules).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let mut eng = CorrelationEngine::new(CorrelationConfig::default());
    eng.add_collection(&c).unwrap();

    let n = 1_000_000u64;
    let agents = ["Mozilla/5.0 Firefox", "python-requests/2.31", "curl/8.1"];
    let events: Vec<Event> = (0..n)
        .map(|i| {
            let mut e = ev(
                (i / 10) as i64,
                &format!("u{}", i % 500),
                "10.0.0.1",
                Action::PageView,
            );
            e.object.page_id = Some(i % 5000);
            e.user_agent = Some(Arc::from(agents[(i % 3) as usize]));
            if i % 100 == 0 {
                e.search_query = Some("where is the password".into());
            }
            e
        })
        .collect();
    let start = std::time::Instant::now();
    let mut detections = 0usize;
    let mut correlations = 0usize;
    for e in &events {
        for r in eng.process_event_at(&EventView::new(e, false), e.timestamp.timestamp()) {
            if r.is_correlation() {
                correlations += 1;
            } else {
                detections += 1;
            }
        }
    }
    let el = start.elapsed();
    println!(
        "rsigma 0.23: {n} events in {:.2?} = {:.0} events/s; {detections} detections, {correlations} correlation firings, {} states",
        el,
        n as f64 / el.as_secs_f64(),
        eng.state_count()
    );
    assert!(detections > 0);
}

/// SigmaHQ webserver-taxonomy conventions: `cs-uri-query` holds the whole request target
/// and `cs-username` is `anonymous` for anonymous requests.
#[test]
fn sigmahq_webserver_conventions() {
    let rule = r#"
title: setup-restore reached without login
id: 6b0f5b55-1a3c-4f32-9d8e-3f5e7f0c0a11
logsource: { category: webserver }
detection:
    selection:
        cs-method: POST
        cs-uri-query|contains: '/json/setup-restore'
        sc-status: [200, 302, 405]
        cs-username: anonymous
    condition: selection
"#;
    let eng = engine(rule);
    let mut e = ev(0, "", "203.0.113.66", Action::ExploitAttempt);
    e.method = Some(Arc::from("POST"));
    e.url = Some("/json/setup-restore.action?synchronous=true".into());
    e.status = Some(302);
    assert_eq!(hits(&eng, &e, false), 1);
    e.user = Some(Arc::from("admin"));
    assert_eq!(
        hits(&eng, &e, false),
        0,
        "a logged-in user is not anonymous"
    );
}
