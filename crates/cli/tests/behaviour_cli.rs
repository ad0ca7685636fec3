//! End-to-end: simulate → hunt with behaviour analytics (peers, state) → eval, as a user
//! would run it from the command line.

use assert_cmd::Command;
use serde_json::Value;

fn confwatch() -> Command {
    Command::cargo_bin("confwatch").expect("binary built")
}

#[test]
fn hunt_with_behaviour_ranks_users_keeps_state_and_catches_baseline_only_attacks() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path();
    confwatch()
        .args([
            "simulate", "--users", "200", "--days", "14", "--seed", "4", "--out",
        ])
        .arg(out)
        .assert()
        .success();
    let alerts = out.join("alerts.jsonl");
    let state = out.join("state");
    let run = confwatch()
        .args(["hunt", "--no-progress", "--format", "jsonl", "--peers"])
        .arg(out.join("users.csv"))
        .arg("--privileged-accounts")
        .arg(out.join("privileged.txt"))
        .arg("--state")
        .arg(&state)
        .arg("-o")
        .arg(&alerts)
        .arg(out.join("logs"))
        .output()
        .expect("hunt");
    assert_eq!(
        run.status.code(),
        Some(1),
        "alerts found: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records: Vec<Value> = std::fs::read_to_string(&alerts)
        .expect("alerts")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let risk: Vec<&Value> = records
        .iter()
        .filter(|r| r["record"] == "user_risk")
        .collect();
    assert!(!risk.is_empty(), "user_risk records follow the alerts");
    assert!(risk.iter().all(|r| {
        r["score"]
            .as_f64()
            .is_some_and(|s| (0.0..=100.0).contains(&s))
    }));
    // Every alert about a user belongs to one of that user's episodes.
    assert!(
        records
            .iter()
            .filter(|r| r["rule_id"].is_string() && r["user"].is_string())
            .all(|r| r["episode"].as_str().is_some_and(|e| e.contains('#')))
    );
    // Anomaly alerts from baselines are part of the same stream.
    assert!(records.iter().any(|r| {
        r["rule_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("uba_"))
    }));

    // The state survives the run: the baseline of an ordinary user can be shown.
    let some_user = risk[0]["user"].as_str().expect("user").to_string();
    let shown = confwatch()
        .args(["baseline", "show", &some_user, "--state"])
        .arg(&state)
        .output()
        .expect("baseline");
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&some_user));

    // The dormant account and the low-and-slow insider need baselines; both are caught.
    let eval = confwatch()
        .args(["eval", "--format", "json", "--labels"])
        .arg(out.join("labels.jsonl"))
        .arg(&alerts)
        .output()
        .expect("eval");
    let report: Value = serde_json::from_slice(&eval.stdout).expect("eval json");
    for scenario in ["dormant_account", "insider_low_slow"] {
        let s = report["scenarios"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["scenario"] == scenario))
            .unwrap_or_else(|| panic!("{scenario} in {report}"));
        assert_eq!(s["recall"], 1.0, "{scenario}: {s}");
    }
}
