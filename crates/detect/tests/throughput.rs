//! Hunt throughput with the built-in pack on ~1M synthetic events (ignored by default):
//! `CARGO_PROFILE_TEST_OPT_LEVEL=3 cargo test -p confwatch-detect --test throughput -- --ignored --nocapture`

use chrono::{DateTime, Duration};
use confwatch_detect::{HuntConfig, HuntOptions, Hunter, RuleSet};
use confwatch_event::{Action, Event, Origin, Outcome, RestRead, SourceFormat};
use std::sync::Arc;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

#[test]
#[ignore]
fn hunt_one_million_events() {
    let base = DateTime::parse_from_rfc3339("2026-03-02T00:00:00+01:00").unwrap();
    let file: Arc<str> = Arc::from("synthetic.log");
    let users: Vec<Arc<str>> = (0..2000).map(|i| Arc::from(format!("user{i}"))).collect();
    let agents: [Arc<str>; 3] = [
        Arc::from("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
        Arc::from("Mozilla/5.0 (Windows NT 10.0) Chrome/118.0"),
        Arc::from("python-requests/2.31.0"),
    ];
    let n: u64 = std::env::var("CW_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut events = Vec::with_capacity(n as usize);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // 1M events over one day: ~11.6 events/s.
        let ts = base + Duration::milliseconds((i * 86_400_000 / n) as i64);
        let mut e = Event::new(
            ts,
            SourceFormat::TomcatAccess,
            Origin {
                file: file.clone(),
                line: i + 1,
            },
        );
        e.user = Some(users[(x % 2000) as usize].clone());
        e.client_ip = Some(std::net::IpAddr::from([
            10,
            0,
            (x >> 8) as u8 % 16,
            (x >> 16) as u8,
        ]));
        e.user_agent = Some(
            agents[if x.is_multiple_of(1000) {
                2
            } else {
                (x % 2) as usize
            }]
            .clone(),
        );
        e.method = Some(Arc::from("GET"));
        e.status = Some(if x.is_multiple_of(50) { 404 } else { 200 });
        e.outcome = Outcome::from_http_status(e.status.unwrap_or(200));
        match x % 20 {
            0..=9 => {
                e.action = Action::PageView;
                e.object.page_id = Some(x % 50_000);
                e.object.space_key = Some(format!("S{}", x % 40));
                e.url = Some(format!("/pages/viewpage.action?pageId={}", x % 50_000));
            }
            10..=13 => {
                e.action = Action::Static;
                e.url = Some("/s/en_GB/9012/abc/_/download/batch/app.js".into());
            }
            14 | 15 => {
                e.action = Action::Polling;
                e.url = Some("/rest/quickreload/latest/123?since=1".into());
            }
            16 => {
                e.action = Action::SiteSearch;
                e.search_query = Some(if x.is_multiple_of(7) {
                    "vpn setup".into()
                } else {
                    "release notes".into()
                });
                e.url = Some("/dosearchsite.action?queryString=x".into());
            }
            17 => {
                e.action = Action::RestContentList;
                e.rest = Some(RestRead {
                    body_expanded: x.is_multiple_of(3),
                    limit: Some(25),
                    start: None,
                    api_version: 1,
                });
                e.url = Some("/rest/api/content?spaceKey=S1&limit=25".into());
            }
            18 => {
                e.action = Action::AttachmentDownload;
                e.object.page_id = Some(x % 50_000);
                e.url = Some(format!("/download/attachments/{}/f.pdf", x % 50_000));
            }
            _ => {
                e.action = Action::Login;
                e.outcome = if x.is_multiple_of(5) {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
            }
        }
        events.push(e);
    }
    let rules = RuleSet::builtin();
    let mut h = Hunter::new(&rules, &HuntConfig::default(), HuntOptions::default()).unwrap();
    let rss_before = peak_rss_kb();
    let start = std::time::Instant::now();
    for e in &events {
        h.process(e);
    }
    let report = h.finish();
    let el = start.elapsed();
    println!(
        "hunt, {} rules: {n} events in {:.2?} = {:.0} events/s; {} alerts; peak RSS {} MB (events alone {} MB)",
        report.stats.rules_loaded,
        el,
        n as f64 / el.as_secs_f64(),
        report.alerts.len(),
        peak_rss_kb() / 1024,
        rss_before / 1024
    );
    let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in &report.alerts {
        *by_rule.entry(a.rule_id.as_str()).or_default() += 1;
    }
    println!("alerts by rule: {by_rule:?}");
    assert_eq!(report.stats.events_read, n);
}
