//! Time-ordered reading of many inputs: cluster nodes' files are merged by event time, and
//! small disorder inside one file (Tomcat stamps a request when it starts but writes it when
//! it ends) is repaired by a bounded reorder buffer.
//!
//! Memory stays bounded: a file is opened only when the merge reaches its first timestamp,
//! so daily-rotated files of one node are read one after another, and each open file holds
//! at most a few parsed batches.

use crate::stats::{FileStats, RunStats};
use crate::{Ingestor, Input, read};
use confwatch_event::Event;
use crossbeam_channel::Receiver;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Batches a file may have parsed ahead of the merge.
const AHEAD: usize = 2;

struct Stream {
    rx: Receiver<Vec<Event>>,
    buf: VecDeque<Event>,
    handle: Option<JoinHandle<FileStats>>,
    order: usize,
}

/// The reorder buffer: a heap of `(time, sequence, slot)` keys over a slab of events, so that
/// sifting the heap moves 24-byte keys instead of whole events (each event is moved once in
/// and once out).
#[derive(Default)]
struct Reorder {
    heap: BinaryHeap<Reverse<(i64, u64, usize)>>,
    slots: Vec<Option<Event>>,
    free: Vec<usize>,
}

impl Reorder {
    fn len(&self) -> usize {
        self.heap.len()
    }

    fn earliest(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    fn push(&mut self, t: i64, seq: u64, ev: Event) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(ev);
                i
            }
            None => {
                self.slots.push(Some(ev));
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((t, seq, slot)));
    }

    fn pop(&mut self) -> Option<Event> {
        let Reverse((_, _, slot)) = self.heap.pop()?;
        let ev = self.slots.get_mut(slot)?.take();
        self.free.push(slot);
        ev
    }
}

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
}

impl Ordered {
    pub(crate) fn new(ing: Arc<Ingestor>, inputs: Vec<Input>) -> Ordered {
        // Peek at first timestamps in parallel; stdin cannot be peeked (read once).
        use rayon::prelude::*;
        let firsts: Vec<Option<i64>> = inputs
            .par_iter()
            .map(|i| match i.kind {
                crate::input::InputKind::Stdin => None,
                _ => read::first_timestamp(&ing, i),
            })
            .collect();
        let mut pending: Vec<(Option<i64>, usize, Input)> = firsts
            .into_iter()
            .zip(inputs)
            .enumerate()
            .map(|(k, (t, i))| (t, k, i))
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
        }
    }

    fn open_next(&mut self) {
        let Some((_, order, input)) = self.pending.pop_front() else {
            return;
        };
        let (tx, rx) = crossbeam_channel::bounded(AHEAD);
        let ing = Arc::clone(&self.ing);
        let handle = std::thread::spawn(move || {
            ing.read_input(
                &input,
                Some(&mut |batch| {
                    // A closed receiver means the consumer stopped early; keep counting.
                    let _ = tx.send(batch);
                }),
            )
        });
        let s = Stream {
            rx,
            buf: VecDeque::new(),
            handle: Some(handle),
            order,
        };
        self.requeue(s);
    }

    /// Puts a stream back into the merge keyed by its next event, or closes it when done.
    fn requeue(&mut self, mut s: Stream) {
        if self.refill(&mut s) {
            if let Some(next) = s.buf.front() {
                self.seq += 1;
                self.heads
                    .push(Reverse((next.epoch_ms(), self.seq, s.order)));
            }
            let order = s.order;
            self.streams[order] = Some(s);
        } else {
            self.close(s);
        }
    }

    /// Makes sure `s.buf` is not empty; false when the file is finished.
    fn refill(&mut self, s: &mut Stream) -> bool {
        while s.buf.is_empty() {
            match s.rx.recv() {
                Ok(batch) => s.buf.extend(batch),
                Err(_) => return false,
            }
        }
        true
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

    /// Pulls the next event from the k-way merge of open files.
    fn next_merged(&mut self) -> Option<Event> {
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
        let mut s = self.streams[order].take()?;
        let ev = s.buf.pop_front()?;
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
                return self.reorder.pop();
            }
            match self.next_merged() {
                Some(ev) => {
                    let t = ev.epoch_ms();
                    self.max_seen = self.max_seen.max(t);
                    self.seq += 1;
                    self.reorder.push(t, self.seq, ev);
                }
                None => self.draining = true,
            }
        }
        self.reorder.pop()
    }
}
