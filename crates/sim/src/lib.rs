//! # confwatch-sim: a realistic, labelled Confluence organisation
//!
//! Writes the logs an organisation's Confluence Data Center cluster would write over some
//! days — Tomcat access logs (installer, X-Forwarded-For or Docker pattern, one file per
//! node per day) and the audit log file — together with labels saying which traffic is an
//! attack and which is a hard-but-benign case. Deterministic: a seed gives the same bytes
//! on every run (single-threaded, own random generator, no hash-order dependence).
//! `docs/simulator.md` describes the model and its limits.
//!
//! Layout of the output folder:
//! - `logs/nodeN/conf_access_log.YYYY-MM-DD.log` (or `confluence_access.…` for Docker),
//!   `logs/audit/YYYYMMDD-00000.audit.log`;
//! - `labels.jsonl` (one [`Label`] per scenario instance), `privileged.txt`, `users.csv`,
//!   `sim-summary.json` — outside `logs/`, so hunting `logs/` never reads the answers.

mod browse;
mod day;
pub mod format;
mod org;
mod rng;
pub mod scenario;

pub use format::AccessVariant;
pub use scenario::{BenignCase, Label, Scenario, parse_list};

use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone};
use format::{AuditRec, Req};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything that shapes a simulated data set.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub users: u32,
    pub days: u32,
    pub seed: u64,
    /// First day (server-local date).
    pub start: NaiveDate,
    pub nodes: u8,
    /// Access-log variants; with several, nodes take them in turn (each request is
    /// written once). Empty: no access logs.
    pub access: Vec<AccessVariant>,
    /// Write the Data Center audit log file.
    pub audit: bool,
    /// Write `atlassian-confluence-security.log` per node (form logins, with the name typed
    /// in), in server-local time without a zone, as log4j writes it.
    pub security_log: bool,
    pub scenarios: Vec<Scenario>,
    pub benign: Vec<BenignCase>,
    /// Instances of each attack scenario.
    pub instances: u32,
    /// Server's UTC offset in minutes (access logs are written in server-local time).
    pub server_offset_min: i32,
    /// Replace an existing `logs/` folder in the output folder (otherwise that is an error:
    /// files of an earlier run would mix with this one).
    pub overwrite: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            users: 200,
            days: 14,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
            nodes: 2,
            access: vec![AccessVariant::Installer],
            audit: true,
            security_log: false,
            scenarios: Scenario::ALL.to_vec(),
            benign: BenignCase::ALL.to_vec(),
            instances: 1,
            server_offset_min: 60,
            overwrite: false,
        }
    }
}

/// Which files to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFormats {
    pub access: Vec<AccessVariant>,
    /// The Data Center audit log file.
    pub audit: bool,
    /// `atlassian-confluence-security.log` login lines (DEBUG `DefaultLoginManager`).
    pub security_log: bool,
}

/// Parses `--format`: `all` (every access-log pattern and the audit file), or a comma list
/// of `installer`, `xff`, `docker`, `dc-audit`, `security-log`. The security log is never
/// implied by `all`: it repeats every form login of the access log.
pub fn parse_formats(s: &str) -> Result<OutputFormats, SimError> {
    let mut f = OutputFormats {
        access: Vec::new(),
        audit: false,
        security_log: false,
    };
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "all" => {
                f.access = vec![
                    AccessVariant::Installer,
                    AccessVariant::Xff,
                    AccessVariant::Docker,
                ];
                f.audit = true;
            }
            "installer" => f.access.push(AccessVariant::Installer),
            "xff" => f.access.push(AccessVariant::Xff),
            "docker" => f.access.push(AccessVariant::Docker),
            "dc-audit" | "audit" => f.audit = true,
            "security-log" => f.security_log = true,
            other => {
                return Err(SimError::Config(format!(
                    "unknown format `{other}` (known: installer, xff, docker, dc-audit, security-log, all)"
                )));
            }
        }
    }
    let mut seen = Vec::new();
    f.access.retain(|v| {
        let new = !seen.contains(v);
        seen.push(*v);
        new
    });
    if f.access.is_empty() && !f.audit && !f.security_log {
        return Err(SimError::Config("no output format chosen".into()));
    }
    Ok(f)
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulation settings: {0}")]
    Config(String),
    #[error("cannot read, write or remove {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot serialise {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{path}:{line}: not a label: {source}")]
    BadLabel {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
    #[error("{path}: larger than {max} bytes, not a labels file")]
    TooLarge { path: String, max: u64 },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One file written.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Relative to the output folder.
    pub path: String,
    pub format: String,
    pub lines: u64,
    pub bytes: u64,
}

/// What [`simulate`] wrote (also saved as `sim-summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SimSummary {
    pub seed: u64,
    pub users: u32,
    pub days: u32,
    pub start: String,
    pub nodes: u8,
    pub server_offset: String,
    pub spaces: usize,
    pub pages: usize,
    pub files: Vec<FileSummary>,
    pub access_lines: u64,
    pub audit_records: u64,
    /// Distinct (account, server-local date) pairs with at least one logged-in request:
    /// the denominator of "false-positive user-days per 1,000 user-days".
    pub user_days: u64,
    /// Accounts with at least one logged-in request (people, administrators, services).
    pub active_accounts: usize,
    pub scenarios: Vec<String>,
    pub benign_cases: Vec<String>,
    pub labels: usize,
    pub privileged_accounts: Vec<String>,
    pub service_accounts: Vec<String>,
}

/// Largest labels file [`read_labels`] accepts (a 10,000-user run writes well under 1 MiB).
pub const MAX_LABELS_BYTES: u64 = 64 << 20;

/// Reads a `labels.jsonl` file written by [`simulate`] (blank lines ignored).
pub fn read_labels(path: &Path) -> Result<Vec<Label>, SimError> {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_LABELS_BYTES {
        return Err(SimError::TooLarge {
            path: path.display().to_string(),
            max: MAX_LABELS_BYTES,
        });
    }
    let reader = std::io::BufReader::new(file.take(MAX_LABELS_BYTES));
    let mut labels = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let label = serde_json::from_str(&line).map_err(|source| SimError::BadLabel {
            path: path.display().to_string(),
            line: i + 1,
            source,
        })?;
        labels.push(label);
    }
    Ok(labels)
}

/// Largest organisation and run accepted: a day is held in memory before it is written
/// (about 100 MB per 1,000 users), and 1,000 users × 30 days already write about 1 GB.
pub const MAX_USERS: u32 = 10_000;
pub const MAX_DAYS: u32 = 366;

/// Simulates `cfg` into the folder `out` (created if needed).
pub fn simulate(cfg: &SimConfig, out: &Path) -> Result<SimSummary, SimError> {
    if cfg.users == 0 || cfg.users > MAX_USERS {
        return Err(SimError::Config(format!("--users must be 1..={MAX_USERS}")));
    }
    if cfg.days == 0 || cfg.days > MAX_DAYS {
        return Err(SimError::Config(format!("--days must be 1..={MAX_DAYS}")));
    }
    if (!cfg.scenarios.is_empty() || !cfg.benign.is_empty()) && cfg.users < 30 {
        return Err(SimError::Config(
            "scenarios need at least 30 users (or use --scenarios none --benign none)".into(),
        ));
    }
    if cfg.server_offset_min.abs() > 14 * 60 {
        return Err(SimError::Config(
            "server offset must be within ±14:00".into(),
        ));
    }
    let offset = FixedOffset::east_opt(cfg.server_offset_min * 60)
        .ok_or_else(|| SimError::Config("bad server offset".into()))?;
    // With several access variants, each node needs its own.
    let nodes = cfg.nodes.max(1).max(cfg.access.len() as u8);
    let instances = cfg.instances.clamp(1, 20);

    let org = org::Org::build(cfg.seed, cfg.users, cfg.server_offset_min);
    let start_wd = cfg.start.weekday().num_days_from_monday();
    let mut plan = scenario::Plan::build(
        &org,
        cfg.seed,
        start_wd,
        cfg.days,
        &cfg.scenarios,
        &cfg.benign,
        instances,
    );

    let logs = out.join("logs");
    let has_old = std::fs::read_dir(&logs).is_ok_and(|mut d| d.next().is_some());
    if has_old {
        if !cfg.overwrite {
            return Err(SimError::Config(format!(
                "{} already holds logs of an earlier run; choose an empty folder or replace it (`confwatch simulate --force`)",
                logs.display()
            )));
        }
        std::fs::remove_dir_all(&logs).map_err(io_err(&logs))?;
    }
    std::fs::create_dir_all(&logs).map_err(io_err(&logs))?;
    if cfg.security_log {
        // The security logs are appended to day by day: start them empty.
        for node in 0..nodes {
            let path = out.join(Writer::security_rel(node));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            std::fs::File::create(&path).map_err(io_err(&path))?;
        }
    }
    let mut summary_files = Vec::new();

    // Buckets by server-local date: generating day d can reach into d-1 (people east of the
    // server) and d+1 (people west of it), so a date is written once d+1 has been generated.
    let mut buckets: BTreeMap<i64, (Vec<Req>, Vec<AuditRec>)> = BTreeMap::new();
    let first_midnight = offset
        .from_local_datetime(&cfg.start.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|d| d.timestamp_millis())
        .unwrap_or(0);
    const DAY_MS: i64 = 86_400_000;
    let mut writer = Writer {
        out: out.to_path_buf(),
        offset,
        access: cfg.access.clone(),
        audit: cfg.audit,
        security: cfg.security_log,
        user_days: 0,
        accounts: Default::default(),
        security_lines: vec![0; usize::from(nodes)],
        nodes,
        start: cfg.start,
        line: String::with_capacity(1 << 16),
    };
    let mut reqs: Vec<Req> = Vec::new();
    let mut audits: Vec<AuditRec> = Vec::new();
    for d in 0..cfg.days {
        let ctx = day::DayCtx {
            seed: cfg.seed,
            day: d,
            start_wd,
            midnight_ms: first_midnight + i64::from(d) * DAY_MS,
            server_tz_min: cfg.server_offset_min,
            nodes,
            days: cfg.days,
        };
        reqs.clear();
        audits.clear();
        day::health_checks(&ctx, &mut reqs);
        day::crawler_night(&org, &plan, &ctx, &mut reqs);
        day::export_night(&org, &plan, &ctx, &mut reqs, &mut audits);
        day::admin_day(&org, &ctx, &mut reqs, &mut audits);
        for u in 0..org.users.len() {
            day::user_day(&org, &plan, &ctx, u, &mut reqs, &mut audits);
        }
        for ep in plan.episodes.iter().filter(|e| e.day == d) {
            let t0 = ctx.midnight_ms + i64::from(ep.start_min) * 60_000;
            scenario::run_episode(&org, ep, cfg.seed, t0, nodes, &mut reqs, &mut audits);
        }
        for r in reqs.drain(..) {
            let k = (r.t_ms - first_midnight).div_euclid(DAY_MS);
            buckets.entry(k).or_default().0.push(r);
        }
        for a in audits.drain(..) {
            let k = (a.t_ms - first_midnight).div_euclid(DAY_MS);
            buckets.entry(k).or_default().1.push(a);
        }
        // Day d+1 can still add to date d (people east of the server start before the
        // server's midnight), never to d-1: dates up to d-1 are complete.
        let ready: Vec<i64> = buckets.range(..i64::from(d)).map(|(k, _)| *k).collect();
        for k in ready {
            if let Some((r, a)) = buckets.remove(&k) {
                writer.flush(k, cfg.days, r, a, &mut plan, &mut summary_files)?;
            }
        }
    }
    let rest: Vec<i64> = buckets.keys().copied().collect();
    for k in rest {
        if let Some((r, a)) = buckets.remove(&k) {
            writer.flush(k, cfg.days, r, a, &mut plan, &mut summary_files)?;
        }
    }

    if writer.security {
        for node in 0..nodes {
            let rel = Writer::security_rel(node);
            let bytes = std::fs::metadata(out.join(&rel))
                .map(|m| m.len())
                .unwrap_or(0);
            let lines = writer
                .security_lines
                .get(usize::from(node))
                .copied()
                .unwrap_or(0);
            summary_files.push(FileSummary {
                path: rel.display().to_string(),
                format: "security-log".into(),
                lines,
                bytes,
            });
        }
    }

    // --- labels, privileged accounts, directory, summary ---
    let labels_path = out.join("labels.jsonl");
    let mut lf =
        std::io::BufWriter::new(std::fs::File::create(&labels_path).map_err(io_err(&labels_path))?);
    let fmt_ms = |ms: Option<i64>| -> String {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| {
                t.with_timezone(&offset)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
            })
            .unwrap_or_default()
    };
    let mut n_labels = 0;
    for m in &plan.labels {
        if m.requests == 0 && m.audit_records == 0 {
            // Nothing of it fell inside the run (e.g. a one-day run): no label to claim.
            continue;
        }
        let label = Label {
            scenario: m.scenario.to_string(),
            kind: if m.attack { "attack" } else { "benign" }.to_string(),
            users: m.users.clone(),
            source_ips: m.source_ips.clone(),
            // Access logs carry whole seconds: widen the bounds to the seconds they fall in.
            start: fmt_ms(m.first_ms.map(|t| t.div_euclid(1000) * 1000)),
            end: fmt_ms(m.last_ms.map(|t| t.div_euclid(1000) * 1000 + 999)),
            description: m.description.clone(),
            techniques: m.techniques.iter().map(|t| t.to_string()).collect(),
            requests: m.requests,
            audit_records: m.audit_records,
        };
        let line = serde_json::to_string(&label).map_err(|source| SimError::Json {
            what: "label",
            source,
        })?;
        writeln!(lf, "{line}").map_err(io_err(&labels_path))?;
        n_labels += 1;
    }
    lf.flush().map_err(io_err(&labels_path))?;

    let priv_path = out.join("privileged.txt");
    let privileged: Vec<String> = org.admins.iter().map(|a| a.name.to_string()).collect();
    std::fs::write(
        &priv_path,
        privileged
            .iter()
            .map(|p| format!("{p}\n"))
            .collect::<String>(),
    )
    .map_err(io_err(&priv_path))?;

    let users_path = out.join("users.csv");
    let mut csv = String::from("username,display_name,department,email,utc_offset_minutes\n");
    for u in &org.users {
        let dept = org::DEPTS.get(u.dept).map(|d| d.name).unwrap_or("");
        csv.push_str(&format!(
            "{},{},{},{}@corp.example,{}\n",
            u.name, u.display, dept, u.name, u.tz_min
        ));
    }
    std::fs::write(&users_path, csv).map_err(io_err(&users_path))?;

    let summary = SimSummary {
        seed: cfg.seed,
        users: cfg.users,
        days: cfg.days,
        start: cfg.start.to_string(),
        nodes,
        server_offset: offset.to_string(),
        spaces: org.spaces.len(),
        pages: org.pages.len(),
        access_lines: summary_files
            .iter()
            .filter(|f| f.format != "dc-audit")
            .map(|f| f.lines)
            .sum(),
        audit_records: summary_files
            .iter()
            .filter(|f| f.format == "dc-audit")
            .map(|f| f.lines)
            .sum(),
        user_days: writer.user_days,
        active_accounts: writer.accounts.len(),
        files: summary_files,
        scenarios: cfg.scenarios.iter().map(|s| s.id().to_string()).collect(),
        benign_cases: cfg.benign.iter().map(|s| s.id().to_string()).collect(),
        labels: n_labels,
        privileged_accounts: privileged,
        service_accounts: vec![
            org.service.crawler.to_string(),
            org.service.exporter.to_string(),
        ],
    };
    let sum_path = out.join("sim-summary.json");
    let json = serde_json::to_string_pretty(&summary).map_err(|source| SimError::Json {
        what: "summary",
        source,
    })?;
    std::fs::write(&sum_path, json + "\n").map_err(io_err(&sum_path))?;
    Ok(summary)
}

/// Writes one day's buckets to the per-node access logs and the audit file.
struct Writer {
    out: PathBuf,
    offset: FixedOffset,
    access: Vec<AccessVariant>,
    audit: bool,
    security: bool,
    user_days: u64,
    accounts: std::collections::BTreeSet<std::sync::Arc<str>>,
    /// Lines written so far to each node's security log (one file for the whole run).
    security_lines: Vec<u64>,
    nodes: u8,
    start: NaiveDate,
    line: String,
}

impl Writer {
    fn security_rel(node: u8) -> PathBuf {
        PathBuf::from("logs")
            .join(format!("node{}", node + 1))
            .join("atlassian-confluence-security.log")
    }

    /// Appends the day's form logins to each node's security log.
    fn write_security(&mut self, reqs: &[Req]) -> Result<(), SimError> {
        for node in 0..self.nodes {
            let path = self.out.join(Self::security_rel(node));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let mut w = std::io::BufWriter::new(file);
            for r in reqs.iter().filter(|r| r.node % self.nodes == node) {
                let Some(name) = &r.login_name else { continue };
                let ts = chrono::DateTime::from_timestamp_millis(r.t_ms)
                    .unwrap_or_default()
                    .with_timezone(&self.offset)
                    .format("%Y-%m-%d %H:%M:%S,%3f");
                let (method, text) = if r.status == 302 {
                    (
                        "onSuccessfulLoginAttempt",
                        "Successful login attempt for user",
                    )
                } else {
                    ("onFailedLoginAttempt", "Failed login attempt for user")
                };
                writeln!(
                    w,
                    "{ts} DEBUG [http-nio-8090-exec-{}] [impl.security.login.DefaultLoginManager] {method} {text} '{name}'",
                    r.thread
                )
                .map_err(io_err(&path))?;
                if let Some(n) = self.security_lines.get_mut(usize::from(node)) {
                    *n += 1;
                }
            }
            w.flush().map_err(io_err(&path))?;
        }
        Ok(())
    }

    fn flush(
        &mut self,
        day: i64,
        days: u32,
        mut reqs: Vec<Req>,
        mut audits: Vec<AuditRec>,
        plan: &mut scenario::Plan,
        files: &mut Vec<FileSummary>,
    ) -> Result<(), SimError> {
        // Traffic spilling outside the simulated days is dropped.
        if day < 0 || day >= i64::from(days) {
            return Ok(());
        }
        let date = self.start + chrono::Days::new(day as u64);
        reqs.sort_by_key(|r| r.t_ms);
        audits.sort_by_key(|a| a.t_ms);
        let mut today: std::collections::HashSet<&str> = Default::default();
        for r in &reqs {
            if let Some(u) = &r.user
                && today.insert(u)
                && !self.accounts.contains(u)
            {
                self.accounts.insert(std::sync::Arc::clone(u));
            }
        }
        self.user_days += today.len() as u64;
        let mark = |plan: &mut scenario::Plan, tag: u16, t: i64, audit: bool| {
            if tag == 0 {
                return;
            }
            if let Some(m) = plan.labels.get_mut(usize::from(tag) - 1) {
                m.first_ms = Some(m.first_ms.map_or(t, |f| f.min(t)));
                m.last_ms = Some(m.last_ms.map_or(t, |l| l.max(t)));
                if audit {
                    m.audit_records += 1
                } else {
                    m.requests += 1
                }
            }
        };
        if !self.access.is_empty() {
            for node in 0..self.nodes {
                let variant = self
                    .access
                    .get(usize::from(node) % self.access.len())
                    .copied()
                    .unwrap_or(AccessVariant::Installer);
                let rel = PathBuf::from("logs")
                    .join(format!("node{}", node + 1))
                    .join(variant.file_name(date));
                let path = self.out.join(&rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                let file = std::fs::File::create(&path).map_err(io_err(&path))?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                let (mut lines, mut bytes) = (0u64, 0u64);
                for r in reqs.iter().filter(|r| r.node % self.nodes == node) {
                    self.line.clear();
                    format::write_access_line(&mut self.line, r, variant, self.offset);
                    w.write_all(self.line.as_bytes()).map_err(io_err(&path))?;
                    lines += 1;
                    bytes += self.line.len() as u64;
                    mark(plan, r.tag, r.t_ms, false);
                }
                w.flush().map_err(io_err(&path))?;
                files.push(FileSummary {
                    path: rel.display().to_string(),
                    format: variant.id().to_string(),
                    lines,
                    bytes,
                });
            }
        }
        if self.security {
            self.write_security(&reqs)?;
        }
        if self.audit && !audits.is_empty() {
            let rel = PathBuf::from("logs")
                .join("audit")
                .join(format!("{}-00000.audit.log", date.format("%Y%m%d")));
            let path = self.out.join(&rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let mut w =
                std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
            let mut bytes = 0u64;
            for a in &audits {
                let line = serde_json::to_string(&format::audit_json(a)).map_err(|source| {
                    SimError::Json {
                        what: "audit record",
                        source,
                    }
                })?;
                writeln!(w, "{line}").map_err(io_err(&path))?;
                bytes += line.len() as u64 + 1;
                mark(plan, a.tag, a.t_ms, true);
            }
            w.flush().map_err(io_err(&path))?;
            files.push(FileSummary {
                path: rel.display().to_string(),
                format: "dc-audit".into(),
                lines: audits.len() as u64,
                bytes,
            });
        }
        Ok(())
    }
}
