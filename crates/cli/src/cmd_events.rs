//! `confwatch events`: print normalised events (time-ordered across files) or run statistics.

use crate::common::{InputArgs, ProgressGuard, report_input_errors, sanitize};
use anyhow::{Context, Result};
use confwatch_event::Event;
use confwatch_ingest::stats::RunStats;
use std::io::{BufWriter, Write};

#[derive(clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: EventsFormat,

    /// Summarise the run instead of printing events (per file: format, events, skipped
    /// lines, errors with examples, users, time range). With `--format json`, one JSON object.
    #[arg(long)]
    pub stats: bool,

    /// Leave out static resources and background polling.
    #[arg(long = "hide-noise")]
    pub hide_noise: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsFormat {
    Table,
    Jsonl,
    /// Same as jsonl for events; for --stats, one JSON object.
    Json,
}

pub fn run(args: EventsArgs) -> Result<u8> {
    let ing = args.input.ingestor()?;
    let (inputs, failed) = args.input.discover(&ing);
    let progress = ProgressGuard::start(&ing, &inputs, args.input.no_progress);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());

    let mut stats = if args.stats {
        ing.read_stats(&inputs)
    } else {
        let mut ordered = ing.ordered(inputs);
        if args.format == EventsFormat::Table {
            writeln!(out, "{}", table_header())?;
        }
        // Security-log logins give their user name to the access-log request they belong to.
        for ev in ordered.join_logins(args.input.login_join()) {
            if args.hide_noise && ev.is_noise() {
                continue;
            }
            let written = match args.format {
                EventsFormat::Table => writeln!(out, "{}", table_row(&ev)),
                EventsFormat::Jsonl | EventsFormat::Json => {
                    serde_json::to_writer(&mut out, &ev).context("writing JSON")?;
                    writeln!(out)
                }
            };
            if let Err(e) = written {
                // A closed pipe (`| head`) is a normal way to stop.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(0);
                }
                return Err(e.into());
            }
        }
        ordered.finish()
    };
    drop(progress);
    if !failed.is_empty() {
        let mut files = failed;
        files.append(&mut stats.files);
        stats = RunStats::from_files(files);
    }
    if args.stats {
        match args.format {
            EventsFormat::Table => print_stats_table(&mut out, &stats)?,
            EventsFormat::Json | EventsFormat::Jsonl => {
                serde_json::to_writer(&mut out, &stats)?;
                writeln!(out)?;
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        r => r?,
    }
    Ok(report_input_errors(&stats))
}

fn table_header() -> String {
    format!(
        "{:<25} {:<16} {:<18} {:<22} {:>4} {:<10} {}",
        "TIME (UTC)", "USER", "CLIENT", "ACTION", "HTTP", "SPACE", "OBJECT / DETAIL"
    )
}

fn table_row(ev: &Event) -> String {
    let time = ev.utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let user = ev.user.as_deref().unwrap_or("-");
    let client = ev.client().unwrap_or_else(|| "-".into());
    let status = ev
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".into());
    let space = ev.object.space_key.as_deref().unwrap_or("-");
    let detail = detail(ev);
    format!(
        "{:<25} {:<16} {:<18} {:<22} {:>4} {:<10} {}",
        time,
        sanitize(user),
        sanitize(&client),
        ev.action.as_str(),
        status,
        sanitize(space),
        sanitize(&detail)
    )
}

fn detail(ev: &Event) -> String {
    if let Some(q) = &ev.search_query {
        return format!("search \"{q}\"");
    }
    let mut parts = Vec::new();
    if let Some(id) = ev.object.page_id {
        parts.push(format!("page {id}"));
    }
    if let Some(t) = &ev.object.title {
        parts.push(format!("\"{t}\""));
    }
    if let Some(a) = &ev.object.attachment {
        parts.push(format!("file {a}"));
    }
    if let Some(a) = &ev.audit {
        parts.push(a.action_key.clone());
    }
    if parts.is_empty()
        && let Some(u) = &ev.url
    {
        parts.push(u.chars().take(120).collect());
    }
    parts.join(" ")
}

fn print_stats_table(out: &mut dyn Write, s: &RunStats) -> Result<()> {
    writeln!(
        out,
        "{:<60} {:<18} {:<12} {:>9} {:>9} {:>8} {:>7} {:>6}  TIME RANGE (UTC)",
        "FILE", "FORMAT", "VARIANT", "RECORDS", "EVENTS", "SKIPPED", "ERRORS", "USERS"
    )?;
    for f in &s.files {
        let format = f
            .format
            .map(|f| f.id().to_string())
            .unwrap_or_else(|| "-".into());
        let variant = f.variant.clone().unwrap_or_else(|| "-".into());
        let range = match (f.first_event, f.last_event) {
            (Some(a), Some(b)) => format!(
                "{} .. {}",
                a.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S"),
                b.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S")
            ),
            _ => match &f.skipped_reason {
                Some(r) => format!("(skipped: {r})"),
                None => String::new(),
            },
        };
        writeln!(
            out,
            "{:<60} {:<18} {:<12} {:>9} {:>9} {:>8} {:>7} {:>6}  {}",
            sanitize(&f.path),
            format,
            variant,
            f.records,
            f.events,
            f.skipped,
            f.errors,
            f.users,
            sanitize(&range)
        )?;
    }
    writeln!(
        out,
        "\n{} file(s) read, {} skipped; {} records, {} events, {} skipped lines, {} errors, {} users",
        s.files_read, s.files_skipped, s.records, s.events, s.skipped, s.errors, s.users
    )?;
    if let (Some(a), Some(b)) = (s.first_event, s.last_event) {
        writeln!(
            out,
            "time range: {} .. {}",
            a.with_timezone(&chrono::Utc).to_rfc3339(),
            b.with_timezone(&chrono::Utc).to_rfc3339()
        )?;
    }
    let examples: Vec<&String> = s
        .files
        .iter()
        .flat_map(|f| f.error_examples.iter())
        .collect();
    if !examples.is_empty() {
        writeln!(out, "\nerrors (first examples):")?;
        for e in examples.iter().take(20) {
            writeln!(out, "  {}", sanitize(e))?;
        }
    }
    Ok(())
}
