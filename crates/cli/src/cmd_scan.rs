//! `confwatch scan`: finds credentials and sensitive material in Confluence content (space
//! exports, storage-format files and folders, stdin) and ranks spaces by exposure.
//! Exit codes: 0 no findings, 1 findings, 2 usage or fatal error (docs/scan.md).

use anyhow::Context;
use confwatch_event::finding::Severity;
use confwatch_output::findings::{FindingFormat, write_csv, write_jsonl, write_table};
use confwatch_output::sarif::{SarifRule, write_sarif};
use confwatch_scan::input::{export, files};
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
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
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
    let mut collector = Collector::new(options, ignore);
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
    for w in warnings.iter().take(20) {
        eprintln!("confwatch: warning: {w}");
    }
    if warnings.len() > 20 {
        eprintln!("confwatch: … and {} more warnings", warnings.len() - 20);
    }
    let report = collector.finish();
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
