//! Time-ordered reading of many inputs: cluster nodes' files are merged by event time, and
//! small disorder inside one file (Tomcat stamps a request when it starts but writes it when
//! it ends) is repaired by a bounded reorder buffer.
//!
//! Memory stays bounded: a file is opened only when the merge reaches its first timestamp,
//! so daily-rotated files of one node are read one after another, and each open file holds
//! at most a few parsed batches.
//!
//! Events travel boxed, with their time beside them, from the parse workers to the caller, so
//! the merge and the reorder buffer move 16-byte pairs instead of 472-byte events. Events a
//! filter dropped ([`crate::Ingestor::ordered_filtered`]) travel as their time alone and take
//! part in every ordering decision, so the events kept come out exactly as without a filter.

use crate::login_join::{LoginJoin, LoginJoinOptions};
use crate::read::{HeadFacts, KeepFn, Timed};
use crate::stats::{FileStats, RunStats};
use crate::{Ingestor, Input};
use confwatch_event::Event;
use crossbeam_channel::Receiver;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Batches a file may have parsed ahead of the merge.
const AHEAD: usize = 2;

struct Stream {
    rx: Receiver<Vec<Timed>>,
    /// The batch being merged: consumed in place, no copy into another buffer.
    buf: std::iter::Peekable<std::vec::IntoIter<Timed>>,
    handle: Option<JoinHandle<FileStats>>,
    order: usize,
}

/// An event (or a dropped event's time) held for reordering, ordered by `(t, seq)` only.
struct Held {
    t: i64,
    seq: u64,
    ev: Option<Box<Event>>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Held) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Held) -> Ordering {
        (self.t, self.seq).cmp(&(other.t, other.seq))
    }
}

/// The reorder buffer: events leave by `(time, sequence)`. Sequence numbers only grow, so an
/// event no earlier than the last one in `run` extends that sorted run at its end (the usual
/// case: a file is nearly sorted); only earlier ones go to the heap. The earliest held event
/// is the smaller of the run's front and the heap's top, so the order is exactly that of a
/// single heap.
#[derive(Default)]
struct Reorder {
    run: VecDeque<Held>,
    heap: BinaryHeap<Reverse<Held>>,
}

impl Reorder {
    fn len(&self) -> usize {
        self.run.len() + self.heap.len()
    }

    fn earliest(&self) -> Option<i64> {
        let run = self.run.front().map(|h| h.t);
        let heap = self.heap.peek().map(|Reverse(h)| h.t);
        match (run, heap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn push(&mut self, held: Held) {
        match self.run.back() {
            Some(last) if held.t < last.t => self.heap.push(Reverse(held)),
            _ => self.run.push_back(held),
        }
    }

    /// Removes the earliest entry; `Some(None)` for a dropped event's time.
    fn pop(&mut self) -> Option<Option<Box<Event>>> {
        let from_heap = match (self.run.front(), self.heap.peek()) {
            (Some(a), Some(Reverse(b))) => b < a,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let held = if from_heap {
            self.heap.pop().map(|Reverse(h)| h)
        } else {
            self.run.pop_front()
        };
        if let Some(ev) = self.run.get(PREFETCH_AHEAD).and_then(|h| h.ev.as_deref()) {
            prefetch(ev);
        }
        held.map(|h| h.ev)
    }
}

/// Events are held for minutes of log time, so the one leaving is no longer in cache; asking
/// for it a few events ahead hides the memory latency of moving it out.
const PREFETCH_AHEAD: usize = 8;

#[cfg(target_arch = "x86_64")]
fn prefetch(ev: &Event) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    let p = (ev as *const Event).cast::<i8>();
    for off in (0..std::mem::size_of::<Event>()).step_by(64) {
        // SAFETY: prefetching is only a hint; it never faults and reads nothing, and every
        // x86_64 target has SSE.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off)) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_: &Event) {}

/// An iterator over the events of many inputs in time order.
pub struct Ordered {
    ing: Arc<Ingestor>,
    /// Inputs not yet opened, by first timestamp (unknown first).
    pending: VecDeque<(Option<i64>, usize, Input)>,
    streams: Vec<Option<Stream>>,
    heads: BinaryHeap<Reverse<(i64, u64, usize)>>,
    reorder: Reorder,
    seq: u64,
    max_seen: i64,
    stats: Vec<Option<FileStats>>,
    draining: bool,
    keep: Option<Arc<KeepFn>>,
    /// Whether any input may hold security-log logins.
    security_logins: bool,
}

impl Ordered {
    pub(crate) fn new(
        ing: Arc<Ingestor>,
        inputs: Vec<Input>,
        keep: Option<Arc<KeepFn>>,
    ) -> Ordered {
        // Peek at first timestamps in parallel; stdin cannot be peeked (read once).
        use rayon::prelude::*;
        let facts: Vec<HeadFacts> = inputs
            .par_iter()
            .map(|i| match i.kind {
                crate::input::InputKind::Stdin => HeadFacts {
                    first: None,
                    security_logins: true,
                },
                _ => crate::read::head_facts(&ing, i),
            })
            .collect();
        let security_logins = facts.iter().any(|f| f.security_logins);
        let mut pending: Vec<(Option<i64>, usize, Input)> = facts
            .into_iter()
            .zip(inputs)
            .enumerate()
            .map(|(k, (f, i))| (f.first, k, i))
            .collect();
        pending.sort_by_key(|(t, k, _)| (t.is_some(), *t, *k));
        let n = pending.len();
        Ordered {
            ing,
            pending: pending.into(),
            streams: (0..n).map(|_| None).collect(),
            heads: BinaryHeap::new(),
            reorder: Reorder::default(),
            seq: 0,
            max_seen: i64::MIN,
            stats: (0..n).map(|_| None).collect(),
            draining: false,
            keep,
            security_logins,
        }
    }

    /// False when no input can yield a security-log login (e.g. only access logs): the
    /// login join then has nothing to wait for (see [`Ordered::join_logins`]).
    pub fn may_yield_security_logins(&self) -> bool {
        self.security_logins
    }

    /// The login join over this stream, told whether security-log logins can come at all
    /// (without any, access-log logins leave at once instead of holding the stream back;
    /// the output is the same). Call [`Ordered::finish`] after draining it.
    pub fn join_logins(&mut self, mut opts: LoginJoinOptions) -> LoginJoin<&mut Ordered> {
        opts.security_logins &= self.security_logins;
        crate::login_join::join_logins(self, opts)
    }

    fn open_next(&mut self) {
        let Some((_, order, input)) = self.pending.pop_front() else {
            return;
        };
        let (tx, rx) = crossbeam_channel::bounded(AHEAD);
        let ing = Arc::clone(&self.ing);
        let keep = self.keep.clone();
        let handle = std::thread::spawn(move || {
            ing.read_input_boxed(
                &input,
                Some(&mut |batch| {
                    // A closed receiver means the consumer stopped early; keep counting.
                    let _ = tx.send(batch);
                }),
                keep.as_deref(),
            )
        });
        let s = Stream {
            rx,
            buf: Vec::new().into_iter().peekable(),
            handle: Some(handle),
            order,
        };
        self.requeue(s);
    }

    /// Puts a stream back into the merge keyed by its next event, or closes it when done.
    fn requeue(&mut self, mut s: Stream) {
        match Self::refill(&mut s) {
            Some(t) => {
                self.seq += 1;
                self.heads.push(Reverse((t, self.seq, s.order)));
                let order = s.order;
                self.streams[order] = Some(s);
            }
            None => self.close(s),
        }
    }

    /// The time of the stream's next event, receiving a batch when needed; `None` when the
    /// file is finished.
    fn refill(s: &mut Stream) -> Option<i64> {
        loop {
            if let Some((t, _)) = s.buf.peek() {
                return Some(*t);
            }
            s.buf = s.rx.recv().ok()?.into_iter().peekable();
        }
    }

    fn close(&mut self, mut s: Stream) {
        if let Some(h) = s.handle.take() {
            let stats = h.join().unwrap_or_else(|_| {
                let mut f = FileStats::new("<internal>");
                f.error(0, &"reader thread failed");
                f
            });
            self.stats[s.order] = Some(stats);
        }
    }

    /// Pulls the next event (or dropped event's time) from the k-way merge of open files.
    fn next_merged(&mut self) -> Option<Timed> {
        // Open every file whose first event is not later than the earliest open head.
        while let Some((first, _, _)) = self.pending.front() {
            let earliest = self.heads.peek().map(|Reverse((t, _, _))| *t);
            match (first, earliest) {
                (None, _) | (_, None) => self.open_next(),
                (Some(f), Some(e)) if *f <= e => self.open_next(),
                _ => break,
            }
        }
        let Reverse((_, _, order)) = self.heads.pop()?;
        let mut s = self.streams.get_mut(order)?.take()?;
        let ev = s.buf.next()?;
        self.requeue(s);
        Some(ev)
    }

    /// Statistics for every input, in the order given. Reads whatever is left first.
    pub fn finish(mut self) -> RunStats {
        for _ in self.by_ref() {}
        RunStats::from_files(self.stats.iter_mut().filter_map(Option::take).collect())
    }
}

impl Iterator for Ordered {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let lateness = self.ing.options.reorder_lateness_ms;
        let cap = self.ing.options.reorder_capacity.max(1);
        while !self.draining {
            // Release the earliest held event once nothing earlier can still arrive.
            if let Some(t) = self.reorder.earliest()
                && (t <= self.max_seen.saturating_sub(lateness) || self.reorder.len() >= cap)
            {
                // A dropped event's time leaves silently.
                if let Some(ev) = self.reorder.pop()? {
                    return Some(*ev);
                }
                continue;
            }
            match self.next_merged() {
                Some((t, ev)) => {
                    self.max_seen = self.max_seen.max(t);
                    self.seq += 1;
                    self.reorder.push(Held {
                        t,
                        seq: self.seq,
                        ev,
                    });
                }
                None => self.draining = true,
            }
        }
        loop {
            if let Some(ev) = self.reorder.pop()? {
                return Some(*ev);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_join::{LoginJoinOptions, join_logins};
    use confwatch_event::Action;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    fn ingestor() -> Arc<Ingestor> {
        Arc::new(Ingestor::new(crate::IngestOptions::default()).unwrap())
    }

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(name)
    }

    /// Every event of `dir` in time order, and the run's statistics as JSON.
    fn read(dir: &str, keep: Option<Arc<KeepFn>>) -> (Vec<Event>, String) {
        let ing = ingestor();
        let (inputs, failed) = ing.discover(&[testdata(dir)]);
        assert!(failed.is_empty());
        let mut ordered = match keep {
            Some(k) => ing.ordered_filtered(inputs, k),
            None => ing.ordered(inputs),
        };
        let events: Vec<Event> = ordered.by_ref().collect();
        let stats = serde_json::to_string(&ordered.finish()).unwrap();
        (events, stats)
    }

    #[test]
    fn keep_all_filter_is_the_ordered_stream() {
        for dir in ["real", "spray"] {
            let (all, stats) = read(dir, None);
            assert!(all.len() > 20, "{dir}: {}", all.len());
            let (kept, kept_stats) = read(dir, Some(Arc::new(|_: &Event| true)));
            assert_eq!(kept, all, "{dir}");
            assert_eq!(kept_stats, stats, "{dir}");
        }
    }

    #[test]
    fn a_filter_drops_exactly_what_it_rejects() {
        // Rejects noise and every third line: some of each file, not whole files.
        let keep = |e: &Event| !e.is_noise() && !e.origin.line.is_multiple_of(3);
        for dir in ["real", "spray"] {
            let (all, stats) = read(dir, None);
            let want: Vec<Event> = all.iter().filter(|e| keep(e)).cloned().collect();
            assert!(want.len() < all.len() && !want.is_empty(), "{dir}");
            let (kept, kept_stats) = read(dir, Some(Arc::new(keep)));
            assert_eq!(kept, want, "{dir}");
            // Dropped events still count as read.
            assert_eq!(kept_stats, stats, "{dir}");
        }
    }

    #[test]
    fn login_join_pairs_the_same_when_noise_is_dropped() {
        let joined = |dir: &str, keep: Option<Arc<KeepFn>>| {
            let ing = Arc::new(
                Ingestor::new(crate::IngestOptions {
                    local_offset: chrono::FixedOffset::east_opt(3600).unwrap(),
                    ..crate::IngestOptions::default()
                })
                .unwrap(),
            );
            let (inputs, _) = ing.discover(&[testdata(dir)]);
            let ordered = match keep {
                Some(k) => ing.ordered_filtered(inputs, k),
                None => ing.ordered(inputs),
            };
            let mut j = join_logins(ordered, LoginJoinOptions::default());
            let out: Vec<Event> = j.by_ref().collect();
            (out, j.stats())
        };
        // Keep the logins and about half of everything else.
        let keep = |e: &Event| e.action == Action::Login || e.origin.line.is_multiple_of(2);
        let mut dropped = 0;
        for dir in ["spray", "real"] {
            let (all, all_stats) = joined(dir, None);
            let (kept, kept_stats) = joined(dir, Some(Arc::new(keep)));
            assert_eq!(kept_stats, all_stats, "{dir}");
            if dir == "spray" {
                assert_eq!(all_stats.joined, 13);
            }
            let want: Vec<Event> = all.iter().filter(|e| keep(e)).cloned().collect();
            dropped += all.len() - want.len();
            assert_eq!(kept, want, "{dir}");
        }
        assert!(dropped > 10, "{dropped}");
    }

    #[test]
    fn the_join_waits_only_when_security_logs_can_come() {
        let ing = ingestor();
        for (dir, security) in [
            ("spray", true),
            ("real", true),
            ("real/atlassian-docs", false),
            ("real/plaso/confluence_access_post7.11.log", false),
        ] {
            let (inputs, _) = ing.discover(&[testdata(dir)]);
            let mut ordered = ing.ordered(inputs.clone());
            let mut j = join_logins(ordered.by_ref(), LoginJoinOptions::default());
            let want: Vec<Event> = j.by_ref().collect();
            let want_stats = j.stats();
            drop(j);
            assert!(!want.is_empty(), "{dir}");
            let mut ordered = ing.ordered(inputs);
            assert_eq!(ordered.may_yield_security_logins(), security, "{dir}");
            let mut j = ordered.join_logins(LoginJoinOptions::default());
            let got: Vec<Event> = j.by_ref().collect();
            assert_eq!(j.stats(), want_stats, "{dir}");
            assert_eq!(got, want, "{dir}");
        }
    }

    /// One reorder-buffer operation: push an event at a time step (may go back), or pop.
    fn arb_ops() -> impl Strategy<Value = Vec<Option<i64>>> {
        proptest::collection::vec(proptest::option::weighted(0.7, -5i64..20), 0..200)
    }

    proptest! {
        /// The run-plus-heap buffer pops exactly what one heap of `(time, seq)` would.
        #[test]
        fn reorder_pops_like_one_heap(ops in arb_ops()) {
            let mut fast = Reorder::default();
            let mut reference: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
            let mut t = 0i64;
            for (seq, op) in ops.iter().enumerate() {
                let seq = seq as u64;
                match op {
                    Some(step) => {
                        t += step;
                        let mut ev = Event::new(
                            chrono::DateTime::from_timestamp_millis(t.max(0))
                                .unwrap()
                                .fixed_offset(),
                            confwatch_event::SourceFormat::TomcatAccess,
                            confwatch_event::Origin { file: Arc::from("f"), line: seq },
                        );
                        ev.duration_ms = Some(t as f64);
                        // Every fifth entry is a dropped event's time.
                        let ev = (!seq.is_multiple_of(5)).then(|| Box::new(ev));
                        fast.push(Held { t, seq, ev });
                        reference.push(Reverse((t, seq)));
                    }
                    None => {
                        prop_assert_eq!(fast.earliest(), reference.peek().map(|r| r.0.0));
                        let got = fast.pop();
                        let want = reference.pop();
                        prop_assert_eq!(got.is_some(), want.is_some());
                        if let (Some(got), Some(Reverse((_, seq)))) = (got, want) {
                            prop_assert_eq!(got.map(|e| e.origin.line), (!seq.is_multiple_of(5)).then_some(seq));
                        }
                    }
                }
                prop_assert_eq!(fast.len(), reference.len());
            }
        }
    }
}
