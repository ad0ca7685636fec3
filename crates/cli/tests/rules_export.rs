//! `confwatch rules export`: the plain export is the pack confwatch runs; `--siem` writes the
//! form pySigma's Splunk and ES|QL backends convert. Its invariants: only event_count,
//! value_count and temporal correlations, none over another correlation, the same alerting
//! rules and the same detection rules as confwatch's pack, approximations marked as derived,
//! a bundle ordered so that every rule follows the rules it references, and the pipeline that
//! restores the sum of pages. (`rules/convert-check.sh` runs sigma-cli itself.)

use assert_cmd::Command;
use confwatch_detect::RuleSet;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Rules whose confwatch form the backends cannot convert, with their confwatch ids.
const APPROXIMATED: &[(&str, &str)] = &[
    (
        "confluence_brute_force_then_login",
        "e8c3a427-60ce-406a-9bd6-2b829c43888b",
    ),
    (
        "confluence_rest_bulk_body_read",
        "089cc1df-5d9a-4456-9d33-0f2c52514ec6",
    ),
    (
        "confluence_sensitive_search_then_read",
        "8fcdb9fa-d068-41b0-add4-c07a2d17a820",
    ),
];

fn export(dir: &Path, extra: &[&str]) {
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "export", "--out"])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn load_dir(dir: &Path) -> RuleSet {
    let mut set = RuleSet::default();
    set.add_dir(dir).unwrap();
    set.finalize();
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    set
}

fn correlation_type(c: &impl serde::Serialize) -> String {
    serde_json::to_value(c).unwrap()["correlation_type"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Checks the invariants on one loaded SIEM pack (the per-rule files or the bundle).
fn check_siem_set(set: &RuleSet) {
    let builtin = RuleSet::builtin();
    let detections: HashMap<String, _> = set
        .files
        .iter()
        .flat_map(|f| f.collection.rules.iter())
        .map(|r| (r.name.clone().unwrap(), r))
        .collect();
    let mut correlations = 0;
    for f in &set.files {
        for c in &f.collection.correlations {
            correlations += 1;
            let name = c.name.clone().unwrap();
            let kind = correlation_type(c);
            assert!(
                ["event_count", "value_count", "temporal"].contains(&kind.as_str()),
                "{name}: correlation type {kind} is not converted by the Splunk and ES|QL backends"
            );
            for r in &c.rules {
                assert!(
                    detections.contains_key(r),
                    "{name} references {r}, which is not a detection rule (correlation of a correlation)"
                );
            }
        }
    }
    assert!(correlations >= 10, "only {correlations} correlations");

    // Same alerting rules as confwatch's pack, nothing dropped.
    let names =
        |s: &RuleSet| -> BTreeSet<String> { s.rules().into_iter().map(|r| r.name).collect() };
    assert_eq!(names(set), names(&builtin));
    assert_eq!(names(set).len(), 19);

    // Every detection rule is confwatch's own, unchanged (so the SIEM form matches the same
    // events; only the correlations over them differ).
    for f in &builtin.files {
        for r in &f.collection.rules {
            let n = r.name.clone().unwrap();
            if let Some(siem) = detections.get(&n) {
                assert_eq!(
                    serde_json::to_value(siem).unwrap(),
                    serde_json::to_value(r).unwrap(),
                    "detection rule {n} differs from confwatch's"
                );
            }
        }
    }

    // Approximations carry a new id and say which rule they derive from; the others keep
    // their id.
    let builtin_ids: HashMap<String, Option<String>> = builtin
        .rules()
        .into_iter()
        .map(|r| (r.name, r.uuid))
        .collect();
    for r in set.rules() {
        match APPROXIMATED.iter().find(|(n, _)| *n == r.name) {
            Some((_, original)) => {
                assert_ne!(r.uuid.as_deref(), Some(*original), "{}", r.name);
                let c = set
                    .files
                    .iter()
                    .flat_map(|f| f.collection.correlations.iter())
                    .find(|c| c.name.as_deref() == Some(r.name.as_str()))
                    .unwrap();
                let related = serde_json::to_value(&c.related).unwrap();
                assert_eq!(related[0]["id"], *original, "{}", r.name);
                assert!(
                    r.description.as_deref().unwrap_or("").contains("SIEM form"),
                    "{}",
                    r.name
                );
            }
            None => assert_eq!(Some(&r.uuid), builtin_ids.get(&r.name), "{}", r.name),
        }
    }
}

#[test]
fn siem_export_only_has_correlations_the_backends_convert() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), &["--siem"]);
    check_siem_set(&load_dir(&tmp.path().join("confluence")));

    // The bundle alone is the same pack.
    let bundle = std::fs::read_to_string(tmp.path().join("confluence-siem.yml")).unwrap();
    let mut set = RuleSet::default();
    set.add_source("confluence-siem.yml", &bundle, None, false);
    set.finalize();
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    check_siem_set(&set);
}

#[test]
fn siem_bundle_defines_every_rule_before_it_is_referenced() {
    // pySigma converts a collection in list order; a correlation before one of its rules
    // fails with "Conversion result not available".
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), &["--siem"]);
    let bundle = std::fs::read_to_string(tmp.path().join("confluence-siem.yml")).unwrap();
    let at = |name: &str| {
        bundle
            .find(&format!("\nname: {name}\n"))
            .unwrap_or_else(|| panic!("{name} not defined in the bundle"))
    };
    let set = load_dir(&tmp.path().join("confluence"));
    let mut checked = 0;
    for c in set
        .files
        .iter()
        .flat_map(|f| f.collection.correlations.iter())
    {
        let name = c.name.clone().unwrap();
        for r in &c.rules {
            assert!(at(r) < at(&name), "{name} comes before {r}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
    // The per-rule files are ordered the same way (referenced rules first).
    let f = std::fs::read_to_string(tmp.path().join("confluence/failed_login_burst.yml")).unwrap();
    assert!(
        f.find("name: confluence_failed_login\n") < f.find("name: confluence_failed_login_burst\n")
    );
}

#[test]
fn siem_pipeline_sums_rest_items_for_the_bulk_read_rule() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), &["--siem"]);
    let p = std::fs::read_to_string(tmp.path().join("pipelines/confwatch-siem.yml")).unwrap();
    assert!(p.contains("postprocessing:"));
    assert!(p.contains("value: confluence_rest_bulk_body_read"));
    assert!(p.contains("stats sum(rest.items) as event_count by "));
    assert!(p.contains("stats event_count=sum(rest.items) by "));
    // The rule it rewrites counts the same detection rule with confwatch's threshold.
    let r = std::fs::read_to_string(tmp.path().join("confluence/rest_bulk_body_read.yml")).unwrap();
    assert!(r.contains("type: event_count") && r.contains("gte: 500"));
    // The pipeline is not a rule: it sits outside the rule folder.
    assert!(!tmp.path().join("confluence/confwatch-siem.yml").exists());
}

#[test]
fn plain_export_is_the_pack_confwatch_runs() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), &["--with-tests"]);
    for (rel, text) in RuleSet::builtin_sources() {
        let written = std::fs::read_to_string(tmp.path().join(rel)).unwrap();
        assert_eq!(&written, text, "{rel}");
    }
    let r = std::fs::read_to_string(tmp.path().join("confluence/rest_bulk_body_read.yml")).unwrap();
    assert!(r.contains("type: value_sum"));
    assert!(!tmp.path().join("confluence-siem.yml").exists());
    // And it passes its own tests (the SIEM form's approximations are not confwatch's rules).
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "test", "--strict", "--rules-only", "--rules"])
        .arg(tmp.path())
        .assert()
        .success();
}

#[test]
fn siem_export_refuses_tests() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("confwatch")
        .unwrap()
        .args(["rules", "export", "--siem", "--with-tests", "--out"])
        .arg(tmp.path())
        .assert()
        .failure();
}
