//! `confwatch hunt`: reads logs like `events` (time-ordered across files), runs the Sigma
//! rule pack through `confwatch-detect`, and writes alerts (table, JSONL, CSV or ECS).
//! Exit codes are documented in `docs/alerts.md`.

use crate::common::{InputArgs, ProgressGuard, report_input_errors, sanitize};
use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};
use confwatch_behaviour::routine::RoutineConfig;
use confwatch_behaviour::{
    BehaviourConfig, BehaviourEngine, BehaviourReport, Peers, RoutineHistory, Store,
    suppress_routine,
};
use confwatch_detect::{
    HuntConfig, HuntOptions, HuntReport, Hunter, Matched, PrivilegedAccounts, RuleSet,
};
use confwatch_event::alert::Alert;
use confwatch_event::alert::Severity;
use confwatch_ingest::stats::RunStats;
use confwatch_output::alerts::{AlertFormat, RiskyUser, RunSummary, write_alerts};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Events handed to the hunt thread at a time.
const HUNT_BATCH: usize = 1024;

/// Exit code: alerts were raised.
pub const EXIT_ALERTS: u8 = 1;
/// Exit code: no alerts, but some input or rule could not be read, so the hunt may be
/// incomplete.
pub const EXIT_INCOMPLETE: u8 = 3;

#[derive(clap::Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub rules: RuleSourceArgs,

    /// Accounts to treat as privileged: one per line, `#` starts a comment.
    #[arg(long = "privileged-accounts", value_name = "FILE")]
    pub privileged_accounts: Option<PathBuf>,

    /// Also treat members of the privileged directory groups as privileged (Domain Admins,
    /// Enterprise Admins, Schema Admins and config `privileged_groups`), e.g.
    /// ldaps://dc1.corp.example. Bind DN and password come from CONFWATCH_LDAP_BIND_DN and
    /// CONFWATCH_LDAP_PASSWORD (anonymous bind when unset).
    #[arg(long = "ldap-url", value_name = "URL")]
    pub ldap_url: Option<String>,

    /// LDAP search base (default: the server's naming context).
    #[arg(long = "ldap-base", value_name = "DN", requires = "ldap_url")]
    pub ldap_base: Option<String>,

    /// Upgrade an ldap:// connection with StartTLS.
    #[arg(long = "ldap-starttls", requires = "ldap_url")]
    pub ldap_starttls: bool,

    /// TOML configuration: thresholds, allowlists with reasons, sensitive terms,
    /// privileged accounts and groups (see docs/detections.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Only events at or after this time (RFC 3339, or a date = midnight UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events at or before this time (RFC 3339, or a date = end of that day UTC).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Drop alerts below this severity.
    #[arg(long = "min-severity", value_enum)]
    pub min_severity: Option<SeverityArg>,

    /// Also run the rules on static resources and background polling (skipped by default;
    /// useful with custom web-server rules that look at every request).
    #[arg(long = "include-noise")]
    pub include_noise: bool,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HuntFormat,

    /// Write alerts to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Space sensitivity from `confwatch scan --space-profiles`: alerts that name a space of
    /// high or critical sensitivity go up one severity level, medium ones score higher.
    #[arg(long = "space-profiles", value_name = "FILE")]
    pub space_profiles: Option<PathBuf>,

    /// Turn off behaviour analytics (per-user and peer baselines, routine suppression,
    /// per-user risk); only the rules run.
    #[arg(long = "no-behaviour")]
    pub no_behaviour: bool,

    /// Peer groups for behaviour analytics: a CSV with `user` and `department` columns
    /// (`confwatch simulate` writes one as users.csv). Without it, peers are users who
    /// work in the same spaces.
    #[arg(long, value_name = "FILE")]
    pub peers: Option<PathBuf>,

    /// Keep behaviour baselines between runs in this folder (SQLite), so a daily hunt builds
    /// on every earlier one without re-reading old logs.
    #[arg(long, value_name = "DIR", conflicts_with = "default_state")]
    pub state: Option<PathBuf>,

    /// Like --state, in the default folder ($XDG_STATE_HOME/confwatch, else
    /// ~/.local/state/confwatch).
    #[arg(long = "default-state")]
    pub default_state: bool,
}

/// `--rules` / `--rules-only`, shared with `confwatch rules`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RuleSourceArgs {
    /// A folder of Sigma rules to add to the built-in pack (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Use only the `--rules` folders, not the built-in pack.
    #[arg(long = "rules-only")]
    pub rules_only: bool,
}

impl RuleSourceArgs {
    /// Loads the rule set; load errors are kept in the set (`errors`), not fatal.
    pub fn load(&self) -> Result<RuleSet> {
        if self.rules_only && self.rules.is_empty() {
            bail!("--rules-only needs at least one --rules DIR");
        }
        let mut set = if self.rules_only {
            RuleSet::empty()
        } else {
            RuleSet::builtin()
        };
        for dir in &self.rules {
            set.add_dir(dir)
                .with_context(|| format!("--rules {}", dir.display()))?;
        }
        Ok(set)
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuntFormat {
    Table,
    Jsonl,
    Csv,
    Ecs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeverityArg {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Informational => Severity::Informational,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// Parses `--since/--until`: RFC 3339, or `YYYY-MM-DD` (start or end of that UTC day).
pub fn parse_time(s: &str, end_of_day: bool) -> Result<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t);
    }
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("`{s}` is neither RFC 3339 nor YYYY-MM-DD"))?;
    let t = if end_of_day {
        d.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        d.and_hms_opt(0, 0, 0)
    }
    .context("invalid time")?;
    Ok(t.and_utc().fixed_offset())
}

/// Prints rule load errors (file: reason) to stderr; returns how many there were.
pub fn report_rule_errors(set: &RuleSet) -> usize {
    for e in &set.errors {
        eprintln!(
            "confwatch: rule not loaded: {}: {}",
            sanitize(&e.file),
            sanitize(&e.reason)
        );
    }
    set.errors.len()
}

/// Events set aside as noise in the parse workers: read, and inside --since/--until. One
/// cache line per worker, so the workers do not contend for the counters.
struct NoiseCounts {
    slots: Vec<PaddedCounts>,
}

#[derive(Default)]
#[repr(align(64))]
struct PaddedCounts {
    read: std::sync::atomic::AtomicU64,
    in_range: std::sync::atomic::AtomicU64,
}

impl NoiseCounts {
    fn new() -> NoiseCounts {
        // One slot per rayon worker and one for any other thread.
        let slots = (0..=rayon::current_num_threads())
            .map(|_| PaddedCounts::default())
            .collect();
        NoiseCounts { slots }
    }

    fn add(&self, inside: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        let slot = rayon::current_thread_index()
            .and_then(|i| self.slots.get(i))
            .or(self.slots.last());
        if let Some(c) = slot {
            c.read.fetch_add(1, Relaxed);
            c.in_range.fetch_add(u64::from(inside), Relaxed);
        }
    }

    fn totals(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.slots.iter().fold((0, 0), |(r, i), c| {
            (r + c.read.load(Relaxed), i + c.in_range.load(Relaxed))
        })
    }
}

/// What the hunt thread hands back: the rule report (alerts already merged with anomalies
/// later), routine suppression and the behaviour report.
struct HuntOutcome {
    report: HuntReport,
    routine: Option<(RoutineHistory, Vec<(Alert, String)>)>,
    uba: Option<BehaviourReport>,
}

/// In JSONL, the per-user risk follows the alerts as `user_risk` records.
fn write_risk<W: Write>(
    w: &mut W,
    format: AlertFormat,
    risk: &[confwatch_behaviour::UserRisk],
) -> std::io::Result<()> {
    if format == AlertFormat::Jsonl {
        for r in risk {
            serde_json::to_writer(&mut *w, r)?;
            writeln!(w)?;
        }
    }
    Ok(())
}

pub fn run(args: HuntArgs) -> Result<u8> {
    let rules = args.rules.load()?;
    let rule_errors = report_rule_errors(&rules);
    let mut cfg = match &args.config {
        Some(p) => HuntConfig::load(p)?,
        None => HuntConfig::default(),
    };
    for k in rules.unknown_threshold_keys(&cfg) {
        eprintln!("confwatch: warning: config threshold for unknown rule `{k}`");
    }
    if let Some(p) = &args.privileged_accounts {
        let list = std::fs::read_to_string(p)
            .with_context(|| format!("--privileged-accounts {}", p.display()))?;
        let parsed = PrivilegedAccounts::parse(&list);
        if parsed.is_empty() {
            eprintln!(
                "confwatch: warning: {} lists no account",
                sanitize(&p.display().to_string())
            );
        }
        cfg.privileged_accounts
            .extend(parsed.names().map(str::to_owned));
    }
    if let Some(url) = &args.ldap_url {
        let mut settings = confwatch_detect::ldap::LdapSettings::from_env(
            url,
            args.ldap_base.clone(),
            cfg.privileged_groups.clone(),
        );
        settings.starttls = args.ldap_starttls;
        let dir = confwatch_detect::ldap::resolve_privileged(&settings)?;
        eprintln!(
            "confwatch: LDAP: {} privileged account(s) from {}{}",
            dir.accounts.len(),
            dir.groups_found.join(", "),
            if dir.groups_missing.is_empty() {
                String::new()
            } else {
                format!(" (not found: {})", dir.groups_missing.join(", "))
            }
        );
        cfg.privileged_accounts
            .extend(dir.accounts.names().map(str::to_owned));
    }
    let opts = HuntOptions {
        since: args
            .since
            .as_deref()
            .map(|s| parse_time(s, false))
            .transpose()
            .context("--since")?,
        until: args
            .until
            .as_deref()
            .map(|s| parse_time(s, true))
            .transpose()
            .context("--until")?,
        min_severity: args.min_severity.map(Severity::from),
        include_noise: args.include_noise,
    };
    let sensitivity = match &args.space_profiles {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("--space-profiles {}", p.display()))?;
            Some(
                confwatch_detect::sensitivity::SpaceSensitivity::from_json(&text).with_context(
                    || {
                        format!(
                            "--space-profiles {}: not the JSON array `confwatch scan --space-profiles` writes",
                            p.display()
                        )
                    },
                )?,
            )
        }
        None => None,
    };
    // Which rules each event matches is stateless, so a match stage works it out on all
    // cores. Building it first also fails on rules that do not compile before any input is
    // read.
    let matcher = Hunter::matcher(&rules, &cfg, opts.clone())?;

    // Behaviour analytics: peers, and the state of earlier runs when asked to keep one.
    let behaviour = !args.no_behaviour;
    let peers = match &args.peers {
        Some(p) => Peers::from_csv_path(p).with_context(|| format!("--peers {}", p.display()))?,
        None => Peers::none(),
    };
    let state_dir = match (&args.state, args.default_state) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(confwatch_behaviour::store::default_dir()?),
        (None, false) => None,
    };
    let mut store = match (&state_dir, behaviour) {
        (Some(d), true) => {
            Some(Store::open(d).with_context(|| format!("--state {}", d.display()))?)
        }
        _ => None,
    };
    let (engine_state, routine_memory) = match &store {
        Some(s) => s.load()?,
        None => Default::default(),
    };

    let ing = args.input.ingestor()?;
    let (inputs, failed) = args.input.discover(&ing);
    let progress = ProgressGuard::start(&ing, &inputs, args.input.no_progress);
    // Static resources and polling are only counted, in the parse workers: no rule or
    // analytic reads them, and they are a third of a typical access log.
    let noise = std::sync::Arc::new(NoiseCounts::new());
    let mut ordered = {
        let (opts, noise) = (opts.clone(), std::sync::Arc::clone(&noise));
        ing.ordered_filtered(
            inputs,
            std::sync::Arc::new(
                move |ev: &confwatch_event::Event| match opts.noise_in_range(ev) {
                    None => true,
                    Some(inside) => {
                        noise.add(inside);
                        false
                    }
                },
            ),
        )
    };
    // Four stages overlap: this thread merges the time-ordered stream; a match thread works
    // out which rules each event of a batch matches, on all cores (stateless); one thread
    // keeps the rules' windows and evidence in order, one the behaviour analytics. Each
    // batch is shared by the last two.
    type Batch = std::sync::Arc<Vec<confwatch_event::Event>>;
    let (match_tx, match_rx) = std::sync::mpsc::sync_channel::<Vec<confwatch_event::Event>>(4);
    let (rules_tx, rules_rx) = std::sync::mpsc::sync_channel::<(Batch, Vec<Matched>)>(8);
    let (uba_tx, uba_rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let uba_tx = behaviour.then_some(uba_tx);
    // Used batches go back to the merge thread, which empties and refills them: a fresh
    // half-megabyte batch per 1,024 events cost a page fault per 4 KiB (the kernel zeroing
    // pages) in the profiles.
    let (recycle_tx, recycle_rx) = std::sync::mpsc::sync_channel::<Vec<confwatch_event::Event>>(16);
    // Whichever of the two workers lets go of a batch last hands the vector back, events
    // and all: the merge thread drops them, which keeps ~0.3 CPU-s per GB of frees off the
    // rule thread, the longest of the pipeline.
    let give_back =
        |batch: Batch, tx: &std::sync::mpsc::SyncSender<Vec<confwatch_event::Event>>| {
            if let Ok(v) = std::sync::Arc::try_unwrap(batch) {
                let _ = tx.try_send(v);
            }
        };
    let outcome = std::thread::scope(|scope| -> Result<HuntOutcome> {
        let match_worker = std::thread::Builder::new()
            .name("hunt-match".into())
            .spawn_scoped(scope, move || {
                for full in match_rx {
                    let matched: Vec<Matched> =
                        full.par_iter().map(|ev| matcher.evaluate(ev)).collect();
                    let shared = std::sync::Arc::new(full);
                    if let Some(tx) = &uba_tx
                        && tx.send(std::sync::Arc::clone(&shared)).is_err()
                    {
                        return;
                    }
                    // A closed channel means a worker ended early; its error is reported
                    // below.
                    if rules_tx.send((shared, matched)).is_err() {
                        return;
                    }
                }
            })
            .context("starting the match thread")?;
        let rules_worker = std::thread::Builder::new()
            .name("hunt-rules".into())
            .spawn_scoped(scope, {
                let recycle_tx = recycle_tx.clone();
                let (rules, cfg, opts) = (&rules, &cfg, &opts);
                move || -> Result<HuntReport> {
                    let mut hunter = Hunter::new(rules, cfg, opts.clone())?;
                    for (batch, matched) in rules_rx {
                        for (ev, m) in batch.iter().zip(matched) {
                            hunter.process_matched(ev, m);
                        }
                        give_back(batch, &recycle_tx);
                    }
                    Ok(hunter.finish())
                }
            })
            .context("starting the rule thread")?;
        let uba_worker = std::thread::Builder::new()
            .name("hunt-uba".into())
            .spawn_scoped(scope, {
                let cfg = &cfg;
                move || -> Option<BehaviourEngine> {
                    let mut engine = behaviour.then(|| {
                        let mut e = BehaviourEngine::with_state(
                            BehaviourConfig::default(),
                            peers,
                            engine_state,
                        );
                        e.set_privileged(cfg.privileged_accounts.iter().cloned());
                        e
                    });
                    for batch in uba_rx {
                        if let Some(engine) = engine.as_mut() {
                            for ev in batch.iter() {
                                engine.observe(ev);
                            }
                        }
                        give_back(batch, &recycle_tx);
                    }
                    engine
                }
            })
            .context("starting the behaviour thread")?;
        let mut batch = Vec::with_capacity(HUNT_BATCH);
        let send = |full: Vec<confwatch_event::Event>| -> bool { match_tx.send(full).is_ok() };
        // Security-log logins give their user name to the access-log request they belong to.
        for ev in ordered.join_logins(args.input.login_join()) {
            batch.push(ev);
            if batch.len() >= HUNT_BATCH {
                let mut empty = recycle_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(HUNT_BATCH));
                empty.clear();
                let full = std::mem::replace(&mut batch, empty);
                if !send(full) {
                    break;
                }
            }
        }
        if !batch.is_empty() {
            send(batch);
        }
        drop(match_tx);
        match_worker
            .join()
            .map_err(|_| anyhow::anyhow!("the match thread panicked"))?;
        let mut report = rules_worker
            .join()
            .map_err(|_| anyhow::anyhow!("the rule thread panicked"))??;
        let (noise_read, noise_in_range) = noise.totals();
        report.stats.count_unevaluated(noise_read, noise_in_range);
        let engine = uba_worker
            .join()
            .map_err(|_| anyhow::anyhow!("the behaviour thread panicked"))?;
        Ok(match engine {
            None => HuntOutcome {
                report,
                routine: None,
                uba: None,
            },
            Some(engine) => {
                // Rule alerts that are routine for their account are set aside, judged
                // only on earlier days; then the day/hour anomalies join them.
                let mut routine =
                    RoutineHistory::new(RoutineConfig::default(), Vec::new(), routine_memory)
                        .with_activity(engine.state());
                let mut report = report;
                let (kept, suppressed) =
                    suppress_routine(std::mem::take(&mut report.alerts), &mut routine);
                report.alerts = kept;
                HuntOutcome {
                    report,
                    routine: Some((routine, suppressed)),
                    uba: Some(engine.finish()),
                }
            }
        })
    })?;
    let HuntOutcome {
        mut report,
        routine,
        uba,
    } = outcome;
    let min = opts
        .min_severity
        .or(cfg.min_severity)
        .unwrap_or(Severity::Informational);
    // One summary line per account and rule (each alert's reason names its own day), with
    // the latest reason as the example.
    let mut routine_suppressed: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
    if let Some((_, suppressed)) = &routine {
        for (alert, why) in suppressed {
            let key = (
                alert.user.clone().unwrap_or_else(|| "-".into()),
                alert.rule_id.clone(),
            );
            let entry = routine_suppressed.entry(key).or_default();
            entry.0 = why.clone();
            entry.1 += 1;
        }
    }
    if let Some(uba) = &uba {
        // The --config allowlist applies to anomalies as it does to rule alerts.
        let mut allowed: BTreeMap<String, u64> = BTreeMap::new();
        for a in uba.alerts.iter().filter(|a| a.severity >= min) {
            match cfg.allowed_by(a) {
                Some(entry) => *allowed.entry(entry.reason.clone()).or_default() += 1,
                None => report.alerts.push(a.clone()),
            }
        }
        for (reason, n) in allowed {
            match report
                .stats
                .suppressed
                .iter_mut()
                .find(|(r, _)| *r == reason)
            {
                Some((_, count)) => *count += n,
                None => report.stats.suppressed.push((reason, n)),
            }
        }
    }
    if let Some(s) = &sensitivity {
        s.apply(&mut report.alerts);
    }
    // Anomalies joined and severities raised: back to severity, then time order.
    if uba.is_some() || sensitivity.is_some() {
        report.alerts.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.first_seen.cmp(&b.first_seen))
        });
    }
    if let (Some(store), Some(uba), Some((routine, _))) = (store.as_mut(), &uba, &routine) {
        store.save(&uba.state, &routine.memory)?;
    }
    if uba.is_some() {
        confwatch_behaviour::risk::assign_episodes(
            &mut report.alerts,
            &confwatch_behaviour::risk::RiskConfig::default(),
        );
    }
    let risk = match (&uba, report.alerts.iter().map(|a| a.last_seen).max()) {
        (Some(_), Some(now)) => {
            let now = report.stats.last_event.map_or(now, |t| t.max(now));
            confwatch_behaviour::risk::score(&report.alerts, now)
        }
        _ => Vec::new(),
    };
    let mut stats = ordered.finish();
    drop(progress);
    if !failed.is_empty() {
        let mut files = failed;
        files.append(&mut stats.files);
        stats = RunStats::from_files(files);
    }

    let run = RunSummary {
        events_read: report.stats.events_read,
        events_in_range: report.stats.events_in_range,
        first_event: report.stats.first_event.map(|t| t.to_rfc3339()),
        last_event: report.stats.last_event.map(|t| t.to_rfc3339()),
        rules_loaded: report.stats.rules_loaded,
        suppressed: report.stats.suppressed.clone(),
        below_min_severity: report.stats.below_min_severity,
        riskiest: risk
            .iter()
            .map(|r| RiskyUser {
                user: r.user.clone(),
                score: r.score,
                alerts: r.alerts,
                episodes: r.episodes,
                signals: r.signals.iter().map(|s| s.rule_id.clone()).collect(),
            })
            .collect(),
        routine_suppressed: routine_suppressed.into_values().collect(),
    };
    let format = match args.format {
        HuntFormat::Table => AlertFormat::Table,
        HuntFormat::Jsonl => AlertFormat::Jsonl,
        HuntFormat::Csv => AlertFormat::Csv,
        HuntFormat::Ecs => AlertFormat::Ecs,
    };
    let written = match &args.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("--output {}", path.display()))?;
            let mut w = BufWriter::new(f);
            write_alerts(&mut w, format, &report.alerts, &run)
                .and_then(|()| write_risk(&mut w, format, &risk))
                .and_then(|()| w.flush())
                .with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            match write_alerts(&mut w, format, &report.alerts, &run)
                .and_then(|()| write_risk(&mut w, format, &risk))
                .and_then(|()| w.flush())
            {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("writing alerts"),
            }
        }
    };
    written?;
    let input_code = report_input_errors(&stats);
    Ok(if !report.alerts.is_empty() {
        EXIT_ALERTS
    } else if input_code != 0 || rule_errors != 0 {
        EXIT_INCOMPLETE
    } else {
        0
    })
}
