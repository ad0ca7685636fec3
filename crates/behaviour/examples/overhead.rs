//! Measures what behaviour analytics adds to a hunt: reads the logs once into memory, then
//! times the rule hunter alone and the behaviour engine alone over the same events.
//! With the simulator's `labels.jsonl` beside LOGDIR, also prints recall, false positives
//! and precision at k (learning only: no allowlist, no earlier state).
//! `cargo run --release -p confwatch-behaviour --example overhead -- LOGDIR [users.csv]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use confwatch_behaviour::risk::score;
use confwatch_behaviour::{
    BehaviourConfig, BehaviourEngine, Peers, RoutineHistory, suppress_routine,
};
use confwatch_detect::{HuntConfig, HuntOptions, Hunter, RuleSet};
use confwatch_eval::{AlertFile, evaluate};
use confwatch_ingest::{IngestOptions, Ingestor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let logs = PathBuf::from(args.next().ok_or("usage: overhead LOGDIR [users.csv]")?);
    let logs_dir = logs.clone();
    let peers = match args.next() {
        Some(p) => Peers::from_csv_path(&PathBuf::from(p))?,
        None => Peers::none(),
    };
    let ing = Arc::new(Ingestor::new(IngestOptions::default())?);
    let t = Instant::now();
    let (inputs, _) = ing.discover(&[logs]);
    let events: Vec<_> = ing.ordered(inputs).collect();
    let read = t.elapsed();

    let rules = RuleSet::builtin();
    let t = Instant::now();
    let mut hunter = Hunter::new(&rules, &HuntConfig::default(), HuntOptions::default())?;
    for ev in &events {
        hunter.process(ev);
    }
    let rule_alerts = hunter.finish().alerts;
    let alerts = rule_alerts.len();
    let hunt = t.elapsed();

    let t = Instant::now();
    let mut engine = BehaviourEngine::new(BehaviourConfig::default(), peers);
    for ev in &events {
        engine.observe(ev);
    }
    let mut routine = RoutineHistory::default().with_activity(engine.state());
    let report = engine.finish();
    let uba = t.elapsed();
    println!(
        "{} events; read+merge {:.2} s; rules {:.2} s ({alerts} alerts); behaviour {:.2} s ({} alerts, {} user-days); behaviour / (read + rules) = {:.0} %",
        events.len(),
        read.as_secs_f64(),
        hunt.as_secs_f64(),
        uba.as_secs_f64(),
        report.alerts.len(),
        report.user_days,
        100.0 * uba.as_secs_f64() / (read + hunt).as_secs_f64()
    );
    // With the simulator's labels beside the logs: the figures `confwatch eval` gates on.
    let dir = logs_dir.parent().map(PathBuf::from).unwrap_or_default();
    if let Ok(labels) = confwatch_sim::read_labels(&dir.join("labels.jsonl")) {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("sim-summary.json"))?)?;
        let user_days = summary["user_days"].as_u64().unwrap_or(0);
        let (mut all, _) = suppress_routine(rule_alerts, &mut routine);
        all.extend(report.alerts);
        let Some(now) = all.iter().map(|a| a.last_seen).max() else {
            return Ok(());
        };
        let risk = score(&all, now);
        let file = AlertFile {
            alerts: all,
            risk: risk.iter().map(|r| (r.user.clone(), r.score)).collect(),
        };
        let r = evaluate(&labels, &file, user_days);
        println!(
            "learning only: recall {:.2}, FP user-days/1000 {:.2} ({} of {}), precision@{} {:.2}",
            r.recall,
            r.false_positives_per_1000_user_days,
            r.false_positive_user_days,
            r.user_days,
            r.k,
            r.precision_at_k
        );
        for s in &r.scenarios {
            println!(
                "  {:<26} {}/{} {:?}",
                s.scenario, s.detected, s.instances, s.rules
            );
        }
        for fp in &r.false_positive_days {
            println!("  FP {} {} {:?}", fp.subject, fp.day, fp.rules);
        }
    }
    Ok(())
}
