//! Parsers: one module per source format, each turning one line (text formats) or one JSON
//! record (audit formats) into an [`Event`].
//!
//! The reading machinery (files, decompression, chunking, JSON containers, sniffing) lives
//! outside this module; a parser only ever sees one record and a [`ParseCtx`].

pub mod access;
pub mod json;
pub mod log4j;

use confwatch_event::{Event, Origin};
use rustc_hash::FxHashSet;
use std::sync::Arc;

/// Why one record could not be read. Shown as `file:line: <message>`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("line is longer than the {max}-byte limit; skipped")]
    LineTooLong { max: usize },
    #[error("invalid UTF-8 (decoded with replacement characters)")]
    InvalidUtf8,
    #[error("does not match access-log pattern `{pattern}`: {detail}")]
    PatternMismatch { pattern: String, detail: String },
    #[error("bad timestamp `{0}`")]
    BadTimestamp(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("JSON record is not a {format} record: {detail}")]
    Shape {
        format: &'static str,
        detail: String,
    },
    #[error("record is larger than the {max}-byte limit; skipped")]
    RecordTooLarge { max: usize },
    #[error("{0}")]
    Other(String),
}

/// What a parser made of one record.
#[derive(Debug)]
pub enum LineOutcome {
    /// A normalised event.
    Event(Box<Event>),
    /// Not an error and not an event: a blank line, another logger's line, a stack-trace
    /// continuation, an empty envelope.
    Skip,
    /// The record could not be read; counted and reported with its position.
    Error(ParseError),
}

/// Shared copies of repeated strings (users, user agents, threads), bounded. A reader may
/// carry one from chunk to chunk ([`ParseCtx::with_interner`]): the same strings recur all
/// through a log.
#[derive(Default)]
pub struct Interner {
    /// The shared strings themselves, looked up by text: half the table of a map from a
    /// boxed copy to the `Arc` (the table is probed on every line and no longer fits L1),
    /// and one allocation per new string instead of two.
    map: FxHashSet<Arc<str>>,
    /// The last [`FEW`] strings asked for through [`ParseCtx::intern_few`], checked before
    /// the map; each with up to [`COPIES`] copies (the first is the map's).
    few: Vec<Vec<Arc<str>>>,
    /// The `few` slot to overwrite next once it is full.
    few_next: usize,
}

/// Strings kept for [`ParseCtx::intern_few`]: enough for the methods and the handful of
/// user agents of a typical log.
const FEW: usize = 8;
/// Copies of each `few` string, used in turn for runs of [`COPY_RUN`] lines: the thread that
/// drops the events (far behind) then decrements another copy's count than the one this
/// parser increments, instead of both fighting over one cache line on every line.
const COPIES: usize = 8;
const COPY_RUN: u64 = 64;

/// Per-thread state a parser may use: where the record is, and a small interner so that
/// repeated strings (users, user agents, threads) share one allocation.
pub struct ParseCtx {
    file: Arc<str>,
    line: u64,
    interned: Interner,
    /// Only time, format and user are needed (statistics): parsers may leave the other
    /// fields empty instead of allocating them. Parsing still validates the whole line, so
    /// errors are the same.
    pub summary_only: bool,
}

/// Interner entries kept before it is cleared, so memory stays bounded on hostile input.
const INTERN_CAP: usize = 4096;
/// Strings longer than this are not worth interning.
const INTERN_MAX_LEN: usize = 512;

impl ParseCtx {
    pub fn new(file: Arc<str>) -> ParseCtx {
        ParseCtx::with_interner(file, Interner::default())
    }

    /// A context that starts from the strings an earlier one interned.
    pub fn with_interner(file: Arc<str>, interned: Interner) -> ParseCtx {
        ParseCtx {
            file,
            line: 0,
            interned,
            summary_only: false,
        }
    }

    /// Takes the interner back, to hand it to the next context.
    pub fn take_interner(&mut self) -> Interner {
        std::mem::take(&mut self.interned)
    }

    /// The file being read, as given or found.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// The 1-based line (or record) number being parsed.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn set_line(&mut self, line: u64) {
        self.line = line;
    }

    /// The origin to stamp on an event made from the current record.
    pub fn origin(&self) -> Origin {
        Origin {
            file: Arc::clone(&self.file),
            line: self.line,
        }
    }

    /// A shared copy of `s`, reusing an earlier allocation of the same text.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if s.len() > INTERN_MAX_LEN {
            return Arc::from(s);
        }
        let map = &mut self.interned.map;
        if let Some(a) = map.get(s) {
            return Arc::clone(a);
        }
        if map.len() >= INTERN_CAP {
            map.clear();
        }
        let a: Arc<str> = Arc::from(s);
        map.insert(Arc::clone(&a));
        a
    }
}

impl ParseCtx {
    /// [`ParseCtx::intern`] for fields with few distinct values (methods, user agents): a
    /// linear look at the last few such strings (lengths first) finds them without hashing
    /// the text or probing the big map, which no longer fits the L1 cache. Any number of
    /// distinct values stays correct, only slower by the few comparisons.
    ///
    /// The `Arc` returned is one of [`COPIES`] copies of the same text, chosen by the line
    /// number, so it is shared but not always the same allocation as [`ParseCtx::intern`]'s.
    pub fn intern_few(&mut self, s: &str) -> Arc<str> {
        let k = usize::try_from(self.line / COPY_RUN).unwrap_or(0) % COPIES;
        if let Some(copies) = self
            .interned
            .few
            .iter_mut()
            .find(|c| c.first().is_some_and(|a| **a == *s))
        {
            if let Some(a) = copies.get(k) {
                return Arc::clone(a);
            }
            let a: Arc<str> = Arc::from(s);
            copies.push(Arc::clone(&a));
            return a;
        }
        let a = self.intern(s);
        let few = &mut self.interned.few;
        if few.len() < FEW {
            few.push(vec![Arc::clone(&a)]);
        } else if let Some(slot) = few.get_mut(self.interned.few_next) {
            *slot = vec![Arc::clone(&a)];
            self.interned.few_next = (self.interned.few_next + 1) % FEW;
        }
        a
    }
}

/// A parser of one line of a text format.
pub trait LineParser: Send + Sync {
    /// Parses one line (without its line terminator). `ctx` carries file and line number.
    fn parse_line(&self, line: &str, ctx: &mut ParseCtx) -> LineOutcome;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_reuses_and_stays_bounded() {
        let mut ctx = ParseCtx::new(Arc::from("f.log"));
        let a = ctx.intern("alice");
        let b = ctx.intern("alice");
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..(INTERN_CAP * 2) {
            ctx.intern(&format!("u{i}"));
        }
        assert!(ctx.interned.map.len() <= INTERN_CAP);
    }

    #[test]
    fn intern_few_shares_with_intern_and_stays_bounded() {
        let mut ctx = ParseCtx::new(Arc::from("f.log"));
        let a = ctx.intern("GET");
        assert!(Arc::ptr_eq(&a, &ctx.intern_few("GET")));
        assert!(Arc::ptr_eq(&a, &ctx.intern_few("GET")));
        // Many distinct values: each still comes back as its own text, shared.
        for round in 0..2 {
            for i in 0..(FEW * 3) {
                let s = format!("agent/{i}");
                let got = ctx.intern_few(&s);
                assert_eq!(&*got, s, "round {round}");
                assert!(Arc::ptr_eq(&got, &ctx.intern(&s)));
            }
        }
        assert!(ctx.interned.few.len() <= FEW);
        assert_eq!(&*ctx.intern_few("GET"), "GET");
    }

    #[test]
    fn intern_few_takes_turns_among_bounded_copies() {
        let mut ctx = ParseCtx::new(Arc::from("f.log"));
        let mut seen: Vec<Arc<str>> = Vec::new();
        for line in 0..(COPY_RUN * COPIES as u64 * 3) {
            ctx.set_line(line);
            let a = ctx.intern_few("Mozilla/5.0");
            assert_eq!(&*a, "Mozilla/5.0");
            // The same copy for a whole run of lines.
            ctx.set_line(line - line % COPY_RUN);
            assert!(Arc::ptr_eq(&a, &ctx.intern_few("Mozilla/5.0")));
            if !seen.iter().any(|s| Arc::ptr_eq(s, &a)) {
                seen.push(a);
            }
        }
        assert_eq!(seen.len(), COPIES);
        assert!(ctx.interned.few.iter().all(|c| c.len() <= COPIES));
    }

    #[test]
    fn an_interner_carries_over_to_the_next_context() {
        let mut first = ParseCtx::new(Arc::from("a.log"));
        let a = first.intern("alice");
        let mut next = ParseCtx::with_interner(Arc::from("b.log"), first.take_interner());
        assert!(Arc::ptr_eq(&a, &next.intern("alice")));
        assert_eq!(&**next.file(), "b.log");
        // What was taken is gone from the first context.
        assert!(!Arc::ptr_eq(&a, &first.intern("alice")));
    }
}
