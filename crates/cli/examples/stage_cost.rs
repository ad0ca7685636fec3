//! What each stage of `confwatch hunt` costs, in CPU seconds, over the same events:
//! reading (time-ordered, noise dropped in the parse workers, as hunt reads), rule matching
//! (rsigma, `Matcher::evaluate`), windows and evidence (`Hunter::process_matched`) and
//! behaviour analytics (`BehaviourEngine::observe`). The last three run one after another
//! on this thread, batch by batch, so memory stays bounded; reading runs on the ingest
//! threads. Linux only (per-thread CPU time from /proc).
//! `cargo run --release -p confwatch --example stage_cost -- LOG...`
//! Compare with `perf stat -e task-clock confwatch events --stats LOG` (see
//! docs/performance.md).

use std::path::PathBuf;
use std::sync::Arc;

use confwatch_behaviour::{BehaviourConfig, BehaviourEngine, Peers};
use confwatch_detect::{HuntConfig, HuntOptions, Hunter, Matched, RuleSet};
use confwatch_ingest::{IngestOptions, Ingestor};

// The binary's allocator and its tuning, so the stages cost what they cost there.
#[path = "../src/alloc.rs"]
mod alloc;

/// CPU time of the calling thread, in seconds (/proc/thread-self/schedstat: ns on CPU).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

/// CPU time of the whole process, in seconds (utime + stime from /proc/self/stat).
fn process_cpu() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some(utime + stime)
        });
    // Linux reports these in USER_HZ, 100 per second on every mainstream configuration.
    ticks.map_or(0.0, |t| t / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    alloc::tune();
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        return Err("usage: stage_cost LOG...".into());
    }
    let ing = Arc::new(Ingestor::new(IngestOptions::default())?);
    let (inputs, _) = ing.discover(&paths);
    let rules = RuleSet::builtin();
    let (cfg, opts) = (HuntConfig::default(), HuntOptions::default());
    let matcher = Hunter::matcher(&rules, &cfg, opts.clone())?;
    let mut hunter = Hunter::new(&rules, &cfg, opts.clone())?;
    let mut engine = BehaviourEngine::new(BehaviourConfig::default(), Peers::none());
    let keep_opts = opts.clone();
    let mut ordered = ing.ordered_filtered(
        inputs,
        Arc::new(move |ev: &confwatch_event::Event| keep_opts.noise_in_range(ev).is_none()),
    );

    let (mut matching, mut windows, mut behaviour) = (0.0, 0.0, 0.0);
    let mut events = 0_u64;
    let mut batch = Vec::with_capacity(4096);
    let wall = std::time::Instant::now();
    let mut run = |batch: &mut Vec<confwatch_event::Event>| {
        let t = thread_cpu();
        let matched: Vec<Matched> = batch.iter().map(|ev| matcher.evaluate(ev)).collect();
        let t1 = thread_cpu();
        for (ev, m) in batch.iter().zip(matched) {
            hunter.process_matched(ev, m);
        }
        let t2 = thread_cpu();
        for ev in batch.iter() {
            engine.observe(ev);
        }
        let t3 = thread_cpu();
        matching += t1 - t;
        windows += t2 - t1;
        behaviour += t3 - t2;
        events += batch.len() as u64;
        batch.clear();
    };
    for ev in ordered.by_ref() {
        batch.push(ev);
        if batch.len() == batch.capacity() {
            run(&mut batch);
        }
    }
    run(&mut batch);
    let alerts = hunter.finish().alerts.len();
    let _ = engine.finish();
    let on_this_thread = matching + windows + behaviour;
    // Everything else the process spent: reading, parsing, merging (other threads), plus
    // this thread's share of the merge it pulls from.
    let reading = process_cpu() - on_this_thread;
    let total = reading + on_this_thread;
    println!(
        "{events} events, {alerts} rule alerts, {:.1} s wall\n\
         | stage | CPU s | share |\n|---|---:|---:|\n\
         | reading (ordered, noise dropped) | {reading:.2} | {:.0} % |\n\
         | rule matching (rsigma) | {matching:.2} | {:.0} % |\n\
         | windows and evidence | {windows:.2} | {:.0} % |\n\
         | behaviour analytics | {behaviour:.2} | {:.0} % |\n\
         | total | {total:.2} | 100 % |",
        wall.elapsed().as_secs_f64(),
        100.0 * reading / total,
        100.0 * matching / total,
        100.0 * windows / total,
        100.0 * behaviour / total,
    );
    Ok(())
}
