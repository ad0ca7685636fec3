//! `confwatch scan`: finds credentials and sensitive material in Confluence content (space
//! exports, storage-format files and folders, stdin, a live site over REST) and ranks spaces
//! by exposure.
//! Exit codes: 0 no findings, 1 findings, 2 usage or fatal error (docs/scan.md).

use anyhow::Context;
use confwatch_event::finding::Severity;
use confwatch_output::findings::{FindingFormat, write_csv, write_jsonl, write_table};
use confwatch_output::sarif::{SarifRule, write_sarif};
use confwatch_scan::input::{export, files, rest};
use confwatch_scan::state::{StateStore, merge_reports};
use confwatch_scan::{Collector, IgnoreList, ScanOptions, Scanner};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code when the scan found something at or above `--min-severity`.
pub const EXIT_FINDINGS: u8 = 1;

#[derive(clap::Args)]
pub struct ScanArgs {
    /// What to scan: storage-format files (.xhtml/.html/.xml), text/Markdown files,
    /// folders of them, a space or site export (.zip, unzipped folder, or entities.xml),
    /// or `-` for standard input.
    #[arg(required_unless_present = "url", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Scan a live site over the REST API: `https://<site>.atlassian.net` with `--cloud`
    /// (auth: CONFWATCH_EMAIL + CONFWATCH_API_TOKEN) or `https://host[/context]` with `--dc`
    /// (auth: CONFWATCH_PAT). Credentials are read from the environment only.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The site is Confluence Cloud (REST v2).
    #[arg(long, conflicts_with = "dc", requires = "url")]
    pub cloud: bool,
    /// The site is Confluence Data Center / Server (REST v1).
    #[arg(long, requires = "url")]
    pub dc: bool,
    /// Only these space keys (repeatable; default: every visible space).
    #[arg(long = "space", value_name = "KEY", requires = "url")]
    pub spaces: Vec<String>,
    /// REST: do not fetch earlier page versions.
    #[arg(long, requires = "url")]
    pub no_history: bool,
    /// REST: do not fetch comments.
    #[arg(long, requires = "url")]
    pub no_comments: bool,
    /// REST: do not download attachments.
    #[arg(long, requires = "url")]
    pub no_attachments: bool,
    /// REST: parallel requests at most.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// REST: per-request timeout in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// REST: only pages and blog posts last modified at or after DATE: 2025-01-31,
    /// 2025-01-31T12:00 (UTC) or 2025-01-31T12:00:00+01:00. Wins over --incremental.
    #[arg(long, value_name = "DATE", requires = "url")]
    pub since: Option<String>,
    /// REST: remember scans in this SQLite state store: a folder (the same folder can be
    /// `hunt --state DIR`) or a .sqlite3/.db file. It keeps per site and space the start of
    /// the last complete scan, and the spaces an interrupted run completed, so running the
    /// same command again resumes it (completed spaces are skipped, their findings come from
    /// the store).
    #[arg(long, value_name = "PATH", requires = "url")]
    pub state: Option<PathBuf>,
    /// REST with --state: scan each space only for content modified since its last complete
    /// scan (with 10 minutes' overlap); spaces never completed are scanned in full.
    #[arg(long, requires = "state")]
    pub incremental: bool,
    /// REST with --state: forget an interrupted run of this site and start over.
    #[arg(long, requires = "state")]
    pub restart: bool,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "jsonl", "csv", "sarif"])]
    pub format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in clear (default: redacted in every output).
    #[arg(long)]
    pub show_secrets: bool,
    /// Ignore file: fingerprints and rule:/space:/page:/path: entries (docs/scan.md).
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
    /// Report only findings at or above this severity.
    #[arg(long, default_value = "info", value_parser = ["info", "low", "medium", "high", "critical"])]
    pub min_severity: String,
    /// Also write the per-space sensitivity profiles (JSON array, ranked by exposure) to FILE,
    /// for `hunt` to raise the severity of access to sensitive spaces.
    #[arg(long, value_name = "FILE")]
    pub space_profiles: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn sarif_rules(scanner: &Scanner) -> Vec<SarifRule> {
    scanner
        .rules
        .rules
        .iter()
        .map(|r| SarifRule {
            id: r.def.id.clone(),
            name: r.def.name.clone(),
            description: r.def.description.clone().unwrap_or_default(),
            severity: r.severity,
            tags: vec![
                r.category.as_str().to_owned(),
                r.kind.as_str().to_owned(),
                "security".to_owned(),
            ],
        })
        .collect()
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    if let Some(n) = args.threads {
        // Only fails if a pool exists already, in which case that pool is used.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    let min_severity = Severity::parse(&args.min_severity)
        .with_context(|| format!("unknown severity {}", args.min_severity))?;
    let options = ScanOptions {
        show_secrets: args.show_secrets,
        min_severity,
        ..ScanOptions::default()
    };
    let ignore = match &args.ignore {
        Some(p) => IgnoreList::load(p)?,
        None => IgnoreList::default(),
    };
    let format = FindingFormat::from_name(&args.format)
        .with_context(|| format!("unknown format {}", args.format))?;
    let scanner = Scanner::new(options.clone()).context("loading the scan rules")?;
    let mut collector = Collector::new(options.clone(), ignore.clone());
    let mut rest_report = None;
    let mut warnings: Vec<String> = Vec::new();
    let mut stdin_used = false;
    for p in &args.paths {
        if p == "-" {
            if stdin_used {
                continue;
            }
            stdin_used = true;
            files::scan_reader(&scanner, std::io::stdin().lock(), &mut collector)?;
            continue;
        }
        let path = Path::new(p);
        if !path.exists() {
            anyhow::bail!("{p}: no such file or directory");
        }
        if let Some(src) = export::detect(path) {
            let w = export::scan_export(&scanner, &src, &mut collector)
                .with_context(|| format!("scanning export {p}"))?;
            warnings.extend(w);
        } else {
            let list = files::list_files(p)?;
            warnings.extend(files::scan_files(&scanner, &list, &mut collector));
        }
    }
    if let Some(url) = &args.url {
        let flavor = match (args.cloud, args.dc) {
            (true, _) => rest::Flavor::Cloud,
            (_, true) => rest::Flavor::DataCenter,
            _ if url.contains(".atlassian.net") => rest::Flavor::Cloud,
            _ => anyhow::bail!("say --cloud or --dc for {url}"),
        };
        let auth = rest::Auth::from_env(flavor)?;
        let mut cfg = rest::RestConfig::new(url, flavor, auth);
        cfg.spaces = args.spaces.clone();
        cfg.history = !args.no_history;
        cfg.comments = !args.no_comments;
        cfg.attachments = !args.no_attachments;
        cfg.concurrency = args.concurrency.max(1);
        cfg.timeout = std::time::Duration::from_secs(args.timeout.max(1));
        cfg.since = args.since.clone();
        if let Some(s) = &args.since {
            rest::parse_since(s)?;
        }
        let stats = match &args.state {
            None => rest::scan_rest(&scanner, &cfg, &mut collector)?,
            Some(p) => {
                let mut store =
                    StateStore::open(p).with_context(|| format!("--state {}", p.display()))?;
                if args.restart {
                    let n = store.abandon_runs(&cfg.base_url)?;
                    if n > 0 {
                        eprintln!("confwatch: state: --restart: {n} interrupted run(s) forgotten");
                    }
                }
                let run = rest::StateRun::new(&mut store, args.incremental);
                let mut progress = |line: &str| eprintln!("confwatch: {line}");
                let (report, stats, summary) = rest::scan_rest_with_state(
                    &scanner,
                    &cfg,
                    &options,
                    &ignore,
                    run,
                    &mut progress,
                )?;
                if summary.finished {
                    eprintln!(
                        "confwatch: state: run complete ({} space(s) scanned, {} resumed from the store); next --incremental starts from {}",
                        summary.completed.len(),
                        summary.skipped.len(),
                        summary.started_at
                    );
                } else {
                    eprintln!(
                        "confwatch: state: run incomplete ({} of {} space(s) not completed: {}); run the same command again to resume, watermarks unchanged",
                        summary.incomplete.len(),
                        summary.incomplete.len() + summary.completed.len() + summary.skipped.len(),
                        summary.incomplete.join(", ")
                    );
                }
                rest_report = Some(report);
                stats
            }
        };
        eprintln!(
            "confwatch: REST: {} space(s), {} document(s), {} request(s), {} retr(y/ies), {} rate-limited, {} error(s)",
            stats.spaces,
            stats.documents,
            stats.requests,
            stats.retries,
            stats.rate_limited,
            stats.errors.len()
        );
        warnings.extend(stats.errors);
    }
    for w in warnings.iter().take(20) {
        eprintln!("confwatch: warning: {w}");
    }
    if warnings.len() > 20 {
        eprintln!("confwatch: … and {} more warnings", warnings.len() - 20);
    }
    let report = match rest_report {
        Some(r) => merge_reports(vec![collector.finish(), r], options.max_locations),
        None => collector.finish(),
    };
    if let Some(p) = &args.space_profiles {
        let json = serde_json::to_vec_pretty(&report.spaces).context("serialising profiles")?;
        std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?;
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(f) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(f).with_context(|| format!("creating {}", f.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = match format {
        FindingFormat::Table => write_table(&mut out, &report.findings, &report.spaces),
        FindingFormat::Jsonl => write_jsonl(&mut out, &report.findings),
        FindingFormat::Csv => write_csv(&mut out, &report.findings),
        FindingFormat::Sarif => write_sarif(
            &mut out,
            &report.findings,
            &sarif_rules(&scanner),
            env!("CARGO_PKG_VERSION"),
        ),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        // `confwatch scan … | head`: the reader left; not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        Err(e) => return Err(e).context("writing the report"),
    }
    let pdf_failed = confwatch_scan::input::attach::pdf_failures();
    if pdf_failed > 0 {
        eprintln!(
            "confwatch: note: {pdf_failed} PDF attachment(s) could not be read (encrypted, damaged, or over 32 MiB) and were skipped"
        );
    }
    if report.documents > 0 && report.malformed > 0 {
        eprintln!(
            "confwatch: note: {} of {} bodies were not well-formed storage format and were scanned as text",
            report.malformed, report.documents
        );
    }
    Ok(if report.findings.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}
