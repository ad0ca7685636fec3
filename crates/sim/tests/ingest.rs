//! The simulator's output as confwatch reads it: every line parses, and the labelled
//! scenarios produce the actions they are meant to.

use confwatch_event::{Action, Event, Outcome};
use confwatch_ingest::Ingestor;
use confwatch_sim::{AccessVariant, BenignCase, Label, Scenario, SimConfig, simulate};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn cfg(seed: u64) -> SimConfig {
    SimConfig {
        users: 60,
        days: 8,
        seed,
        nodes: 2,
        ..Default::default()
    }
}

fn read_all(dir: &Path) -> (confwatch_ingest::stats::RunStats, Vec<Event>) {
    let ing = Ingestor::new(Default::default()).unwrap();
    let (inputs, failed) = ing.discover(&[dir.to_path_buf()]);
    assert!(failed.is_empty());
    let events = Mutex::new(Vec::new());
    let stats = ing.read_unordered(&inputs, |_, batch| events.lock().unwrap().extend(batch));
    (stats, events.into_inner().unwrap())
}

fn labels(dir: &Path) -> Vec<Label> {
    std::fs::read_to_string(dir.join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn label<'a>(ls: &'a [Label], name: &str) -> &'a Label {
    ls.iter()
        .find(|l| l.scenario == name)
        .unwrap_or_else(|| panic!("no label {name}"))
}

#[test]
fn every_variant_parses_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(3);
    c.access = vec![
        AccessVariant::Installer,
        AccessVariant::Xff,
        AccessVariant::Docker,
    ];
    c.nodes = 3;
    let sum = simulate(&c, dir.path()).unwrap();
    let (stats, events) = read_all(&dir.path().join("logs"));
    assert_eq!(
        stats.errors,
        0,
        "{:?}",
        stats
            .files
            .iter()
            .flat_map(|f| f.error_examples.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(stats.events, sum.access_lines + sum.audit_records);
    // Each node's file was read with the pattern it was written in.
    let mut variants: HashSet<String> = HashSet::new();
    for f in &stats.files {
        if let Some(v) = &f.variant {
            variants.insert(v.clone());
        }
    }
    for v in ["installer", "xff", "docker", "json-lines"] {
        assert!(variants.contains(v), "{v} missing from {variants:?}");
    }
    // The xff files report the client (first X-Forwarded-For entry), not the proxy.
    let proxied = events
        .iter()
        .filter(|e| e.origin.file.contains("node2"))
        .find(|e| e.user.is_some())
        .unwrap();
    assert!(proxied.peer_ip.is_some());
    assert_ne!(proxied.client_ip, proxied.peer_ip);
    // The summary's user-day count is what the logs show.
    let ud: HashSet<(String, chrono::NaiveDate)> = events
        .iter()
        .filter(|e| e.format == confwatch_event::SourceFormat::TomcatAccess)
        .filter_map(|e| {
            e.user
                .as_ref()
                .map(|u| (u.to_string(), e.timestamp.date_naive()))
        })
        .collect();
    assert_eq!(ud.len() as u64, sum.user_days);
    // Realistic volume: between 100 and 400 requests per active user-day.
    let users: HashSet<_> = events.iter().filter_map(|e| e.user.clone()).collect();
    assert!(users.len() >= 55, "{}", users.len());
}

#[test]
fn attack_lines_have_the_intended_actions() {
    let dir = tempfile::tempdir().unwrap();
    simulate(&cfg(11), dir.path()).unwrap();
    let ls = labels(dir.path());
    let (stats, events) = read_all(&dir.path().join("logs"));
    assert_eq!(stats.errors, 0);
    let by_user = |name: &str| -> Vec<&Event> {
        events
            .iter()
            .filter(|e| e.user.as_deref() == Some(name))
            .collect()
    };
    let from_ip = |ip: &str| -> Vec<&Event> {
        events
            .iter()
            .filter(|e| e.client_ip.map(|i| i.to_string()).as_deref() == Some(ip))
            .collect()
    };

    let ch = label(&ls, "credential_hunt");
    let evs = from_ip(&ch.source_ips[0]);
    assert!(evs.iter().any(
        |e| matches!(e.action, Action::SiteSearch | Action::RestSearch)
            && e.search_query.as_deref() == Some("password")
    ));
    assert!(
        evs.iter()
            .any(|e| e.action == Action::Login && e.outcome == Outcome::Success)
    );
    assert!(evs.iter().any(|e| e.action == Action::PageView));
    // Night-time login.
    let login = evs.iter().find(|e| e.action == Action::Login).unwrap();
    assert!(login.timestamp.format("%H").to_string().as_str() < "05");

    let rs = label(&ls, "rest_scrape");
    let evs = from_ip(&rs.source_ips[0]);
    assert!(
        evs.iter()
            .all(|e| e.user_agent.as_deref() == Some("python-requests/2.31.0"))
    );
    assert!(
        evs.iter()
            .filter(|e| e.rest.as_ref().is_some_and(|r| r.body_expanded))
            .count()
            >= 3
    );

    let me = label(&ls, "mass_export");
    let evs = by_user(&me.users[0]);
    assert!(
        evs.iter()
            .filter(|e| e.action == Action::PageExportPdf)
            .count()
            >= 15
    );
    assert!(evs.iter().any(|e| e.action == Action::SpaceExportRun));
    assert!(evs.iter().any(|e| e.action == Action::SpaceExportDownload));

    let bf = label(&ls, "brute_force_then_browse");
    let evs = from_ip(&bf.source_ips[0]);
    let fails = evs
        .iter()
        .filter(|e| e.action == Action::Login && e.outcome == Outcome::Failure)
        .count();
    assert!(fails >= 60, "{fails}");
    assert!(evs.iter().any(|e| e.action == Action::Login
        && e.outcome == Outcome::Success
        && e.user.as_deref() == Some(bf.users[0].as_str())));
    assert!(
        evs.iter()
            .filter(|e| matches!(e.action, Action::PageView | Action::BlogView))
            .count()
            >= 30
    );

    let ps = label(&ls, "password_spray");
    let evs = from_ip(&ps.source_ips[0]);
    assert!(
        evs.len() >= 20
            && evs
                .iter()
                .all(|e| e.action == Action::Login && e.outcome == Outcome::Failure)
    );

    let am = label(&ls, "attachment_mass_download");
    let n = by_user(&am.users[0])
        .iter()
        .filter(|e| e.action == Action::AttachmentDownload)
        .count();
    assert!(n >= 100, "{n}");

    let en = label(&ls, "page_id_enumeration");
    let evs = from_ip(&en.source_ips[0]);
    let misses = evs
        .iter()
        .filter(|e| matches!(e.status, Some(403 | 404)))
        .count();
    assert!(
        evs.len() >= 300 && misses * 2 > evs.len(),
        "{misses}/{}",
        evs.len()
    );
    let mut ids: Vec<u64> = evs.iter().filter_map(|e| e.object.page_id).collect();
    let sorted = {
        let mut s = ids.clone();
        s.sort();
        s
    };
    assert_eq!(ids, sorted);
    ids.dedup();
    assert_eq!(ids.len(), evs.len());

    let pb = label(&ls, "privileged_browsing");
    let privileged = std::fs::read_to_string(dir.path().join("privileged.txt")).unwrap();
    assert!(privileged.lines().any(|l| l == pb.users[0]));
    assert!(
        by_user(&pb.users[0])
            .iter()
            .filter(|e| matches!(e.action, Action::PageView | Action::BlogView))
            .count()
            >= 40
    );

    let da = label(&ls, "dormant_account");
    let evs = by_user(&da.users[0]);
    let days: std::collections::BTreeSet<_> =
        evs.iter().map(|e| e.timestamp.date_naive()).collect();
    let first = *days.iter().next().unwrap();
    let last = *days.iter().next_back().unwrap();
    assert!((last - first).num_days() >= 4, "{days:?}");
    assert!(
        evs.iter()
            .filter(|e| matches!(e.action, Action::PageView | Action::BlogView)
                && e.timestamp.date_naive() == last)
            .count()
            >= 80
    );

    // The labelled crawler reads thousands of pages' worth of REST lists.
    let cr = label(&ls, "search_crawler");
    assert_eq!(cr.kind, "benign");
    assert!(
        by_user("svc-search-crawler")
            .iter()
            .all(|e| e.action.is_noise()
                || matches!(
                    e.action,
                    Action::RestContentList
                        | Action::RestContentRead
                        | Action::RestSpaceRead
                        | Action::RestSearch
                        | Action::RestAttachmentList
                ))
    );

    // The engineer's daily script: REST body reads and one update, every working morning.
    let au = label(&ls, "automation_script");
    let evs = from_ip(&au.source_ips[0]);
    assert!(
        evs.iter()
            .all(|e| e.user.as_deref() == Some(au.users[0].as_str()))
    );
    assert!(
        evs.iter()
            .filter(|e| e.action == Action::RestContentRead
                && e.rest.as_ref().is_some_and(|r| r.body_expanded))
            .count()
            >= 15 * 4
    );
    assert!(evs.iter().any(|e| e.action == Action::ContentEdit));

    // Ordinary people mistype passwords and follow dead links.
    let typo_fails = events
        .iter()
        .filter(|e| e.action == Action::Login && e.outcome == Outcome::Failure)
        .filter(|e| {
            [&bf.source_ips[0], &ps.source_ips[0]]
                .iter()
                .all(|ip| e.client_ip.map(|i| i.to_string()).as_deref() != Some(ip.as_str()))
        })
        .count();
    assert!(typo_fails >= 1);
    assert!(events.iter().any(|e| {
        e.status == Some(404)
            && e.user.is_some()
            && e.user_agent
                .as_deref()
                .is_some_and(|u| u.starts_with("Mozilla"))
    }));

    // Space exports show up in the audit file too.
    assert!(
        events
            .iter()
            .any(|e| e.action == Action::SpaceExportRun && e.audit.is_some())
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == Action::UserManagement && e.audit.is_some())
    );
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let mut small = cfg(5);
    small.days = 4;
    simulate(&small, a.path()).unwrap();
    simulate(&small, b.path()).unwrap();
    small.seed = 6;
    simulate(&small, c.path()).unwrap();
    let files = |d: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut v = Vec::new();
        let mut stack = vec![d.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    stack.push(e);
                } else {
                    v.push((
                        e.strip_prefix(d).unwrap().to_path_buf(),
                        std::fs::read(&e).unwrap(),
                    ));
                }
            }
        }
        v.sort();
        v
    };
    let fa = files(a.path());
    assert!(fa.len() > 8);
    assert_eq!(fa, files(b.path()));
    let fc = files(c.path());
    let same = fa
        .iter()
        .filter(|(p, bytes)| fc.iter().any(|(q, b2)| p == q && bytes == b2))
        .count();
    assert!(same < 2, "{same} identical files across seeds");
}

#[test]
fn every_requested_scenario_is_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig {
        users: 40,
        days: 6,
        seed: 9,
        ..Default::default()
    };
    simulate(&c, dir.path()).unwrap();
    let ls = labels(dir.path());
    for s in Scenario::ALL {
        let l = label(&ls, s.id());
        assert_eq!(l.kind, "attack");
        assert!(l.requests + l.audit_records > 0, "{}", s.id());
        assert!(!l.users.is_empty());
        assert!(l.start <= l.end && !l.start.is_empty());
        assert!(l.techniques.iter().any(|t| t.starts_with("T1")));
    }
    for b in BenignCase::ALL {
        assert_eq!(label(&ls, b.id()).kind, "benign");
    }
    // The sprayed accounts belong to no other label.
    let spray: HashSet<&String> = label(&ls, "password_spray").users.iter().collect();
    assert!(spray.len() >= 20);
    for l in ls.iter().filter(|l| l.scenario != "password_spray") {
        assert!(l.users.iter().all(|u| !spray.contains(u)), "{}", l.scenario);
    }

    // Only the chosen ones when a list is given.
    let dir2 = tempfile::tempdir().unwrap();
    let c2 = SimConfig {
        scenarios: vec![Scenario::RestScrape],
        benign: vec![],
        ..c
    };
    simulate(&c2, dir2.path()).unwrap();
    let ls2 = labels(dir2.path());
    assert_eq!(ls2.len(), 1);
    assert_eq!(ls2[0].scenario, "rest_scrape");
}

#[test]
fn labels_stay_outside_the_log_folder_and_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig {
        users: 30,
        days: 2,
        seed: 1,
        scenarios: vec![],
        benign: vec![],
        ..Default::default()
    };
    let s = simulate(&c, dir.path()).unwrap();
    assert!(s.files.iter().all(|f| f.path.starts_with("logs")));
    assert!(dir.path().join("labels.jsonl").exists());
    assert!(dir.path().join("sim-summary.json").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("labels.jsonl")).unwrap(),
        ""
    );

    // A second run into the same folder must not mix with the first.
    assert!(
        simulate(&c, dir.path())
            .unwrap_err()
            .to_string()
            .contains("earlier run")
    );
    let again = SimConfig {
        overwrite: true,
        days: 1,
        ..c.clone()
    };
    let s2 = simulate(&again, dir.path()).unwrap();
    let node1: Vec<_> = std::fs::read_dir(dir.path().join("logs/node1"))
        .unwrap()
        .collect();
    assert_eq!(node1.len(), 1);
    assert_eq!(s2.days, 1);

    let bad = SimConfig {
        users: 0,
        ..c.clone()
    };
    assert!(simulate(&bad, dir.path()).is_err());
    let bad = SimConfig {
        users: 10,
        ..SimConfig::default()
    };
    assert!(simulate(&bad, dir.path()).is_err());
    assert!(confwatch_sim::parse_formats("xml").is_err());
    let f = confwatch_sim::parse_formats("xff,dc-audit").unwrap();
    assert_eq!(
        (f.access, f.audit, f.security_log),
        (vec![AccessVariant::Xff], true, false)
    );
    let f = confwatch_sim::parse_formats("all,security-log").unwrap();
    assert_eq!((f.access.len(), f.audit, f.security_log), (3, true, true));
}

#[test]
fn behaviour_over_days_matches_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig {
        users: 120,
        days: 20,
        seed: 17,
        ..Default::default()
    };
    simulate(&c, dir.path()).unwrap();
    let ls = labels(dir.path());
    let (stats, events) = read_all(&dir.path().join("logs"));
    assert_eq!(stats.errors, 0);
    let ts = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();

    // Insider: during the label window the person reads in spaces never visited before it.
    let ins = label(&ls, "insider_low_slow");
    let start = ts(&ins.start);
    let mine: Vec<&Event> = events
        .iter()
        .filter(|e| e.user.as_deref() == Some(ins.users[0].as_str()))
        .collect();
    let before: HashSet<String> = mine
        .iter()
        .filter(|e| e.timestamp < start)
        .filter_map(|e| e.object.space_key.clone())
        .collect();
    let during: HashSet<String> = mine
        .iter()
        .filter(|e| e.timestamp >= start && e.timestamp <= ts(&ins.end))
        .filter_map(|e| e.object.space_key.clone())
        .collect();
    let new: Vec<_> = during.difference(&before).collect();
    assert!(new.len() >= 3, "new spaces {new:?}");
    assert!(ins.requests >= 100, "{}", ins.requests);
    // ... in working hours.
    let odd = mine.iter().filter(|e| e.timestamp >= start).filter(|e| {
        let h: u32 = e.timestamp.format("%H").to_string().parse().unwrap();
        !(7..=20).contains(&h)
    });
    assert_eq!(odd.count(), 0);

    // Dormant: a silence of several days before the wake-up.
    let dor = label(&ls, "dormant_account");
    let mut days: Vec<_> = events
        .iter()
        .filter(|e| e.user.as_deref() == Some(dor.users[0].as_str()))
        .map(|e| e.timestamp.date_naive())
        .collect();
    days.sort();
    days.dedup();
    let gap = days
        .windows(2)
        .map(|w| (w[1] - w[0]).num_days())
        .max()
        .unwrap();
    assert!(gap >= 7, "{days:?}");

    // Newcomer: nothing before the account exists, then a busy first week.
    let nc = label(&ls, "newcomer");
    let first = events
        .iter()
        .filter(|e| e.user.as_deref() == Some(nc.users[0].as_str()))
        .map(|e| e.timestamp)
        .min()
        .unwrap();
    assert!(first >= ts(&nc.start));
    let views = events
        .iter()
        .filter(|e| e.user.as_deref() == Some(nc.users[0].as_str()) && e.action == Action::PageView)
        .count();
    assert!(views >= 60, "{views}");

    // Ordinary volume: requests per active user-day, noise included.
    let mut per: std::collections::HashMap<(String, chrono::NaiveDate), u32> = Default::default();
    for e in &events {
        if let Some(u) = &e.user {
            *per.entry((u.to_string(), e.timestamp.date_naive()))
                .or_default() += 1;
        }
    }
    let mut v: Vec<u32> = per.values().copied().collect();
    v.sort();
    let median = v[v.len() / 2];
    assert!((80..=250).contains(&median), "median {median}");
}

#[test]
fn security_log_names_the_sprayed_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig {
        users: 50,
        days: 6,
        seed: 2,
        security_log: true,
        scenarios: vec![Scenario::PasswordSpray, Scenario::BruteForceThenBrowse],
        benign: vec![],
        ..Default::default()
    };
    simulate(&c, dir.path()).unwrap();
    let ls = labels(dir.path());
    // log4j lines carry no zone: read them in the server's offset.
    let opts = confwatch_ingest::IngestOptions {
        local_offset: chrono::FixedOffset::east_opt(3600).unwrap(),
        ..Default::default()
    };
    let ing = Ingestor::new(opts).unwrap();
    let files: Vec<PathBuf> = (1..=2)
        .map(|n| {
            dir.path()
                .join(format!("logs/node{n}/atlassian-confluence-security.log"))
        })
        .collect();
    let (inputs, failed) = ing.discover(&files);
    assert!(failed.is_empty());
    let events = Mutex::new(Vec::new());
    let stats = ing.read_unordered(&inputs, |_, b| events.lock().unwrap().extend(b));
    assert_eq!(stats.errors, 0);
    let events = events.into_inner().unwrap();
    assert!(events.iter().all(
        |e| e.format == confwatch_event::SourceFormat::SecurityLog && e.action == Action::Login
    ));

    let spray = label(&ls, "password_spray");
    let (s, e) = (
        chrono::DateTime::parse_from_rfc3339(&spray.start).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&spray.end).unwrap(),
    );
    let failed_names: HashSet<String> = events
        .iter()
        .filter(|ev| ev.outcome == Outcome::Failure && ev.timestamp >= s && ev.timestamp <= e)
        .filter_map(|ev| ev.user.as_deref().map(str::to_string))
        .collect();
    let targets: HashSet<String> = spray.users.iter().cloned().collect();
    assert!(
        targets.is_subset(&failed_names),
        "{:?}",
        targets.difference(&failed_names).collect::<Vec<_>>()
    );

    let bf = label(&ls, "brute_force_then_browse");
    let victim = bf.users[0].as_str();
    let fails = events
        .iter()
        .filter(|ev| ev.outcome == Outcome::Failure && ev.user.as_deref() == Some(victim))
        .count();
    assert!(fails >= 60, "{fails}");
    assert!(events.iter().any(|ev| ev.outcome == Outcome::Success
        && ev.user.as_deref() == Some(victim)
        && ev.timestamp >= chrono::DateTime::parse_from_rfc3339(&bf.start).unwrap()));
}

#[test]
fn labels_read_back_and_bad_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig {
        users: 40,
        days: 6,
        seed: 8,
        ..Default::default()
    };
    let sum = simulate(&c, dir.path()).unwrap();
    let ls = confwatch_sim::read_labels(&dir.path().join("labels.jsonl")).unwrap();
    assert_eq!(ls.len(), sum.labels);
    assert_eq!(
        ls.iter().filter(|l| l.is_attack()).count(),
        Scenario::ALL.len()
    );
    for l in &ls {
        let (s, e) = l.window().unwrap();
        assert!(s <= e, "{}", l.scenario);
    }
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "\n{\"scenario\":\"x\"}\n").unwrap();
    let err = confwatch_sim::read_labels(&bad).unwrap_err().to_string();
    assert!(err.contains(":2:"), "{err}");
}
