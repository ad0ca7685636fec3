//! Reading one input from end to end: open, sniff, then either chunk lines and parse the
//! chunks in parallel (text and JSON-lines formats) or stream a JSON document. Events come
//! out in file order in batches; everything that went wrong is counted in [`FileStats`].

use crate::chunk::{self, Chunk, Chunker};
use crate::formats::{
    Interner, LineOutcome, LineParser, ParseCtx, ParseError, json, log4j::Log4jParser,
};
use crate::input::{self, Input};
use crate::jsondoc;
use crate::sniff::{self, Detected};
use crate::stats::{ChunkSummary, FileStats};
use crate::{IngestError, Ingestor};
use confwatch_event::{Event, SourceFormat};
use rayon::prelude::*;
use serde_json::Value;
use std::io::{Cursor, Read};
use std::sync::Arc;

/// Bytes of decompressed input examined to sniff the format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A file opened and recognised, ready to be read.
pub struct Opened {
    pub input: Input,
    pub detected: Detected,
    reader: Box<dyn Read + Send>,
    compression: Option<&'static str>,
}

/// The parser for a chunk of lines.
#[derive(Clone)]
enum ChunkParser {
    Line(Arc<dyn LineParser>),
    Json,
}

/// A predicate deciding, in the parse workers, which events travel on (see
/// [`crate::Ingestor::ordered_filtered`]).
pub type KeepFn = dyn Fn(&Event) -> bool + Send + Sync;

/// One parsed event on its way to the merge: its time (ms since the epoch) and the event,
/// boxed as the parser made it so handing it on moves a pointer rather than a 472-byte
/// event. `None` when a filter dropped the event: its time still takes its place in the
/// merge, so the order of the events kept cannot depend on what was dropped.
pub(crate) type Timed = (i64, Option<Box<Event>>);

/// Where the events of one input go, in file order.
pub(crate) type TimedSink<'a> = &'a mut dyn FnMut(Vec<Timed>);

/// A sink of boxed batches that hands `sink` the events themselves (the unfiltered API).
pub(crate) fn unboxing(sink: &mut dyn FnMut(Vec<Event>)) -> impl FnMut(Vec<Timed>) + '_ {
    move |batch| {
        sink(
            batch
                .into_iter()
                .filter_map(|(_, e)| e.map(|e| *e))
                .collect(),
        )
    }
}

/// What a chunk parse keeps of its events.
#[derive(Clone, Copy)]
enum Keep<'a> {
    /// Statistics only: no event leaves the parse.
    None,
    All,
    /// Those the predicate accepts (all still count in the statistics).
    Some(&'a KeepFn),
}

impl Keep<'_> {
    fn any(self) -> bool {
        !matches!(self, Keep::None)
    }
}

/// Result of parsing one chunk.
#[derive(Default)]
struct Parsed {
    events: Vec<Timed>,
    errors: Vec<(u64, ParseError)>,
    /// A file-level verdict reached inside the chunk (JSON of another product).
    unrecognised: Option<String>,
    /// The format an envelope declares, for files whose envelopes hold no records.
    container: Option<SourceFormat>,
    summary: ChunkSummary,
    records: u64,
    skipped: u64,
}

impl Parsed {
    /// Counts one parser outcome for line `n`; events are kept as `keep` says.
    fn take(&mut self, outcome: LineOutcome, n: u64, keep: Keep<'_>) {
        match outcome {
            LineOutcome::Event(ev) => {
                self.summary.add(&ev);
                match keep {
                    Keep::None => {}
                    Keep::All => self.events.push((ev.epoch_ms(), Some(ev))),
                    Keep::Some(f) => {
                        let t = ev.epoch_ms();
                        self.events.push((t, f(&ev).then_some(ev)));
                    }
                }
            }
            LineOutcome::Skip => self.skipped += 1,
            LineOutcome::Error(e) => self.errors.push((n, e)),
        }
    }
}

/// Opens `input` and sniffs its format from the first [`SNIFF_BYTES`].
pub fn open(ing: &Ingestor, input: &Input) -> Result<Opened, IngestError> {
    let (mut reader, compression) = input::open(input, Arc::clone(&ing.progress.bytes))?;
    let head = read_head(&mut reader, input)?;
    let detected = sniff::sniff(&head, &input.display, &ing.access);
    let reader: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(reader));
    Ok(Opened {
        input: input.clone(),
        detected,
        reader,
        compression: compression.name(),
    })
}

fn read_head(reader: &mut Box<dyn Read + Send>, input: &Input) -> Result<Vec<u8>, IngestError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    match reader.take(SNIFF_BYTES as u64).read_to_end(&mut head) {
        Ok(_) => Ok(head),
        // A truncated or corrupt stream still yields what was decoded before the damage;
        // the full read reports the error with its line.
        Err(_) if !head.is_empty() => Ok(head),
        Err(e) => Err(IngestError::Read {
            path: input.display.to_string(),
            source: e,
        }),
    }
}

/// The time of the first event of a line-based input, from its head only (used to open
/// files lazily in time order). `None` when unknown.
pub fn first_timestamp(ing: &Ingestor, input: &Input) -> Option<i64> {
    head_facts(ing, input).first
}

/// What the head of an input tells the merge.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadFacts {
    /// Time (ms) of the first event of a line-based input; `None` when unknown.
    pub first: Option<i64>,
    /// False only when the input provably yields no security-log login: it cannot be read
    /// at all or is of a format whose parser never makes one (access logs, JSON audit).
    pub security_logins: bool,
}

/// Sniffs the head of `input` (stdin must not be read here: it can be read only once).
pub(crate) fn head_facts(ing: &Ingestor, input: &Input) -> HeadFacts {
    // Unopenable here: assume the worst, the full read may yet succeed.
    let unknown = HeadFacts {
        first: None,
        security_logins: true,
    };
    let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let Ok((mut reader, _)) = input::open(input, progress) else {
        return unknown;
    };
    let Ok(head) = read_head(&mut reader, input) else {
        return unknown;
    };
    let detected = sniff::sniff(&head, &input.display, &ing.access);
    // Only the log4j parser makes `SecurityLog` events; the full read sniffs the same head.
    let security_logins = matches!(detected, Detected::Log4j { .. });
    let parser = match detected {
        Detected::Access { parser, .. } => ChunkParser::Line(parser as Arc<dyn LineParser>),
        Detected::Log4j { .. } => {
            ChunkParser::Line(Arc::new(Log4jParser::new(ing.options.local_offset)))
        }
        Detected::JsonLines => ChunkParser::Json,
        _ => {
            return HeadFacts {
                first: None,
                security_logins,
            };
        }
    };
    let end = memchr::memrchr(b'\n', &head).map_or(head.len(), |p| p + 1);
    let chunk = Chunk {
        data: head.get(..end).unwrap_or_default().to_vec(),
        first_line: 1,
        overlong: Vec::new(),
    };
    let parsed = parse_chunk(
        &chunk,
        &parser,
        &input.display,
        ing.options.max_line_len,
        Keep::None,
    );
    HeadFacts {
        first: parsed.summary.first.map(|t| t.timestamp_millis()),
        security_logins,
    }
}

impl Opened {
    /// Reads the whole input, calling `on_events` with each batch in file order. Never fails:
    /// every problem is counted in the returned statistics.
    pub fn read(self, ing: &Ingestor, on_events: Option<&mut dyn FnMut(Vec<Event>)>) -> FileStats {
        match on_events {
            Some(sink) => self.read_boxed(ing, Some(&mut unboxing(sink)), None),
            None => self.read_boxed(ing, None, None),
        }
    }

    /// [`Opened::read`] with boxed events; `filter` (when given) decides in the parse
    /// workers which events reach `on_events`. Statistics count every event either way.
    pub(crate) fn read_boxed(
        self,
        ing: &Ingestor,
        mut on_events: Option<TimedSink<'_>>,
        filter: Option<&KeepFn>,
    ) -> FileStats {
        let mut stats = FileStats::new(&self.input.display);
        stats.compression = self.compression;
        stats.variant = self.detected.variant();
        let parser = match &self.detected {
            Detected::Empty => return stats,
            Detected::Binary => {
                return unrecognised(stats, &self.input, "a binary file, not a text log".into());
            }
            Detected::Unknown(reason) => return unrecognised(stats, &self.input, reason.clone()),
            Detected::Access { parser, .. } => {
                stats.format = Some(SourceFormat::TomcatAccess);
                ChunkParser::Line(Arc::clone(parser) as Arc<dyn LineParser>)
            }
            Detected::Log4j { security } => {
                stats.format = Some(if *security {
                    SourceFormat::SecurityLog
                } else {
                    SourceFormat::AccessLogFilter
                });
                ChunkParser::Line(Arc::new(Log4jParser::new(ing.options.local_offset)))
            }
            Detected::JsonLines => ChunkParser::Json,
            Detected::JsonDocument => {
                read_json_document(self.reader, &self.input, &mut stats, &mut on_events, filter);
                return stats;
            }
        };
        read_lines(
            ing,
            self.reader,
            &self.input,
            parser,
            &mut stats,
            &mut on_events,
            filter,
        );
        stats
    }
}

fn unrecognised(mut stats: FileStats, input: &Input, reason: String) -> FileStats {
    if input.explicit {
        stats.error(0, &reason);
    } else {
        stats.skipped_reason = Some(reason);
    }
    stats
}

fn read_lines(
    ing: &Ingestor,
    reader: Box<dyn Read + Send>,
    input: &Input,
    parser: ChunkParser,
    stats: &mut FileStats,
    on_events: &mut Option<TimedSink<'_>>,
    filter: Option<&KeepFn>,
) {
    let keep = match (on_events.is_some(), filter) {
        (false, _) => Keep::None,
        (true, None) => Keep::All,
        (true, Some(f)) => Keep::Some(f),
    };
    let max_line = ing.options.max_line_len;
    let batch = ing.options.parallel_chunks.max(1);
    let (tx, rx) = crossbeam_channel::bounded::<Result<Chunk, std::io::Error>>(batch);
    let chunk_size = ing.options.chunk_size;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut chunker = Chunker::new(reader, chunk_size, max_line);
            loop {
                match chunker.next_chunk() {
                    Ok(Some(c)) => {
                        if tx.send(Ok(c)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        let file = Arc::clone(&input.display);
        let mut stop = false;
        while !stop {
            // Take what is ready (at least one chunk), parse it in parallel, emit in order.
            let Ok(first) = rx.recv() else { break };
            let mut pending = vec![first];
            while pending.len() < batch {
                match rx.try_recv() {
                    Ok(c) => pending.push(c),
                    Err(_) => break,
                }
            }
            let mut chunks = Vec::with_capacity(pending.len());
            let mut read_error = None;
            for c in pending {
                match c {
                    Ok(c) => chunks.push(c),
                    Err(e) => read_error = Some(e),
                }
            }
            let results: Vec<Parsed> = chunks
                .par_iter()
                .map(|c| parse_chunk(c, &parser, &file, max_line, keep))
                .collect();
            for (chunk, parsed) in chunks.iter().zip(results) {
                for &line in &chunk.overlong {
                    stats.records += 1;
                    stats.parse_error(line, &ParseError::LineTooLong { max: max_line });
                }
                stats.records += parsed.records;
                stats.skipped += parsed.skipped;
                if stats.format.is_none() {
                    stats.format = parsed.container;
                }
                for (line, e) in &parsed.errors {
                    stats.parse_error(*line, e);
                }
                stats.absorb(parsed.summary);
                if let Some(sink) = on_events.as_mut()
                    && !parsed.events.is_empty()
                {
                    sink(parsed.events);
                }
                if let Some(reason) = parsed.unrecognised {
                    if stats.events == 0 && stats.errors == 0 {
                        let s = std::mem::replace(stats, FileStats::new(&input.display));
                        *stats = unrecognised(s, input, reason);
                    } else {
                        stats.error(chunk.first_line, &reason);
                    }
                    stop = true;
                    break;
                }
            }
            if let Some(e) = read_error {
                let line = stats.records + 1;
                stats.error(
                    line,
                    &format!("read error, the rest of the file is lost: {e}"),
                );
                stop = true;
            }
        }
        // Dropping the receiver ends the reader thread if we stopped early.
        drop(rx);
    });
}

/// Parses one chunk; with [`Keep::None`] the events are only summarised, on this thread.
fn parse_chunk(
    chunk: &Chunk,
    parser: &ChunkParser,
    file: &Arc<str>,
    max_line: usize,
    keep: Keep<'_>,
) -> Parsed {
    thread_local! {
        /// Each parse worker keeps its interner from chunk to chunk (bounded by its cap):
        /// users, threads and agents recur all through a log, so each is allocated once per
        /// thread instead of once per chunk.
        static INTERNER: std::cell::RefCell<Interner> = std::cell::RefCell::default();
        /// This worker's own copy of the file name (with the name it copies): every event
        /// clones it, and a count shared by all workers (and the thread that drops the
        /// events) made each clone fight for one cache line.
        static FILE: std::cell::RefCell<Option<(Arc<str>, Arc<str>)>> =
            const { std::cell::RefCell::new(None) };
    }
    let own_file = FILE.with(|c| {
        let mut slot = c.borrow_mut();
        match &*slot {
            Some((of, own)) if Arc::ptr_eq(of, file) => Arc::clone(own),
            _ => {
                let own: Arc<str> = Arc::from(&**file);
                *slot = Some((Arc::clone(file), Arc::clone(&own)));
                own
            }
        }
    });
    let interner = INTERNER.with(|c| c.take());
    let mut ctx = ParseCtx::with_interner(own_file, interner);
    ctx.summary_only = !keep.any();
    let out = parse_lines(chunk, parser, &mut ctx, max_line, keep);
    INTERNER.with(|c| c.replace(ctx.take_interner()));
    out
}

fn parse_lines(
    chunk: &Chunk,
    parser: &ChunkParser,
    ctx: &mut ParseCtx,
    max_line: usize,
    keep: Keep<'_>,
) -> Parsed {
    let mut out = Parsed::default();
    // One validation of the whole chunk is cheaper than one per line; lines end at ASCII
    // bytes, so each is then a valid `&str` slice of it. Invalid chunks fall back per line.
    let whole = std::str::from_utf8(&chunk.data).ok();
    for (n, span) in chunk::line_spans(chunk) {
        ctx.set_line(n);
        let raw = chunk.data.get(span.clone()).unwrap_or_default();
        if raw.len() > max_line {
            out.records += 1;
            out.errors
                .push((n, ParseError::LineTooLong { max: max_line }));
            continue;
        }
        let decoded: String;
        let line: &str = match whole
            .and_then(|w| w.get(span))
            .map_or_else(|| std::str::from_utf8(raw), Ok)
        {
            Ok(s) => s,
            Err(_) => {
                // Keep the event: an attacker must not hide requests behind one bad byte.
                out.errors.push((n, ParseError::InvalidUtf8));
                decoded = String::from_utf8_lossy(raw).into_owned();
                &decoded
            }
        };
        if is_blank(line) {
            continue;
        }
        out.records += 1;
        match parser {
            ChunkParser::Line(p) => {
                let outcome = p.parse_line(line, ctx);
                out.take(outcome, n, keep);
            }
            ChunkParser::Json => {
                if let Some(reason) = parse_json_line(line, ctx, &mut out, keep) {
                    out.unrecognised = Some(reason);
                    return out;
                }
            }
        }
    }
    out
}

/// `line.trim().is_empty()`, answered from the first byte for the usual line that starts
/// with a visible ASCII character.
pub(crate) fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        Some(c) if c.is_ascii_graphic() => false,
        _ => line.trim().is_empty(),
    }
}

/// Parses one JSON line: a record, an array of records or an envelope. Returns a reason when
/// the line is JSON of some other product.
fn parse_json_line(
    line: &str,
    ctx: &mut ParseCtx,
    out: &mut Parsed,
    keep: Keep<'_>,
) -> Option<String> {
    let n = ctx.line();
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            out.errors.push((n, ParseError::Json(e.to_string())));
            return None;
        }
    };
    if !sniff::is_confluence_json(&v) {
        if out.summary.events == 0 {
            return Some(format!(
                "JSON that is not a Confluence or Atlassian audit format ({})",
                sniff::describe_keys(&v)
            ));
        }
        out.errors.push((
            n,
            ParseError::Shape {
                format: "audit",
                detail: sniff::describe_keys(&v),
            },
        ));
        return None;
    }
    if out.container.is_none()
        && let Value::Object(map) = &v
    {
        out.container = map.keys().find_map(|k| json::envelope_key(k));
    }
    for_each_record(v, &mut |rec, fmt| {
        let Some(fmt) = fmt else {
            out.errors.push((
                n,
                ParseError::Shape {
                    format: "audit",
                    detail: sniff::describe_keys(&rec),
                },
            ));
            return;
        };
        let outcome = json::parse_record(fmt, &rec, ctx);
        out.take(outcome, n, keep);
    });
    None
}

/// Calls `f` for each record inside a JSON value (itself, array items or envelope items),
/// with its format: detected from the record, else the envelope's, else `None`.
fn for_each_record(v: Value, f: &mut dyn FnMut(Value, Option<SourceFormat>)) {
    if let Some(fmt) = json::detect_record(&v) {
        f(v, Some(fmt));
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                let fmt = json::detect_record(&item);
                f(item, fmt);
            }
        }
        Value::Object(map) => {
            for (k, val) in map {
                if let (Some(env), Value::Array(items)) = (json::envelope_key(&k), val) {
                    for item in items {
                        let fmt = json::detect_record(&item).or(Some(env));
                        f(item, fmt);
                    }
                }
            }
        }
        _ => {}
    }
}

fn read_json_document(
    reader: Box<dyn Read + Send>,
    input: &Input,
    stats: &mut FileStats,
    on_events: &mut Option<TimedSink<'_>>,
    filter: Option<&KeepFn>,
) {
    let mut ctx = ParseCtx::new(Arc::clone(&input.display));
    let mut batch = Vec::new();
    let mut verdict: Option<String> = None;
    let is_env = |k: &str| json::envelope_key(k).is_some();
    let result = jsondoc::stream_document(reader, &is_env, &mut |rec: jsondoc::Record<'_>| {
        stats.records += 1;
        ctx.set_line(rec.line);
        let container_fmt = rec.envelope.and_then(json::envelope_key);
        if stats.format.is_none() {
            stats.format = container_fmt;
        }
        let fmt = match json::detect_record(&rec.value).or(container_fmt) {
            Some(f) => f,
            None => {
                if stats.events == 0 {
                    verdict = Some(format!(
                        "JSON that is not a Confluence or Atlassian audit format ({})",
                        sniff::describe_keys(&rec.value)
                    ));
                    return false;
                }
                stats.parse_error(
                    rec.line,
                    &ParseError::Shape {
                        format: "audit",
                        detail: sniff::describe_keys(&rec.value),
                    },
                );
                return true;
            }
        };
        match json::parse_record(fmt, &rec.value, &mut ctx) {
            LineOutcome::Event(ev) => {
                stats.event(&ev);
                if on_events.is_some() {
                    let t = ev.epoch_ms();
                    batch.push((t, filter.is_none_or(|f| f(&ev)).then_some(ev)));
                }
                if batch.len() >= 4096
                    && let Some(sink) = on_events.as_mut()
                {
                    sink(std::mem::take(&mut batch));
                }
            }
            LineOutcome::Skip => stats.skipped += 1,
            LineOutcome::Error(e) => stats.parse_error(rec.line, &e),
        }
        true
    });
    if !batch.is_empty()
        && let Some(sink) = on_events.as_mut()
    {
        sink(batch);
    }
    if let Some(reason) = verdict {
        let s = std::mem::replace(stats, FileStats::new(&input.display));
        *stats = unrecognised(s, input, reason);
        return;
    }
    if let Err(e) = result {
        stats.parse_error(e.line, &ParseError::Json(e.message));
    }
}
