//! Correlations evaluated by confwatch itself instead of rsigma's correlation engine:
//! `event_count`, `value_count`, `value_sum`, `temporal` and `temporal_ordered` over sliding
//! windows in event time, including chains (a correlation over a correlation).
//!
//! Why: rsigma 0.23 recounts or re-sums the whole window on every event (`value_count`
//! builds a fresh `HashSet`, `value_sum` re-adds every entry), and every event of a rule that
//! one of its correlations references pays for its bookkeeping, which was about a fifth of
//! the hunt thread on the benchmark. Here each event costs O(1) amortised (O(rules × log n)
//! for `temporal_ordered`) with the same semantics as rsigma's sliding windows: an entry
//! stays in the window while `entry >= now - timespan`, and the condition is checked on
//! every event of a referenced rule, so a satisfied window fires again on each such event.
//! Anything else (tumbling or session windows, extended temporal conditions, field
//! aliases, the `value_avg`/percentile types) stays with rsigma.

use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType, WindowMode,
};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Upper bound on entries kept per (correlation, group) window; beyond it the oldest are
/// dropped, which can only under-count.
pub(crate) const MAX_WINDOW_ENTRIES: usize = 200_000;

/// A rule a correlation counts: a detection rule or another correlation (indices into the
/// hunter's rule tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    Det(usize),
    Corr(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    EventCount,
    ValueCount { field: String },
    ValueSum { field: String },
    Temporal { ordered: bool, inputs: Vec<Input> },
}

/// One correlation evaluated natively.
#[derive(Debug, Clone)]
pub(crate) struct NativeCorr {
    pub kind: Kind,
    pub predicates: Vec<(ConditionOperator, u64)>,
    pub timespan: i64,
}

/// The window state of one (correlation, group).
#[derive(Debug)]
pub(crate) enum Window {
    Times(VecDeque<i64>),
    Distinct(DistinctWindow),
    Sum {
        entries: VecDeque<(i64, f64)>,
        sum: f64,
    },
    /// Per referenced rule (in the correlation's order), the times it occurred.
    Hits(Vec<VecDeque<i64>>),
}

impl NativeCorr {
    /// The native form of `c`, when its features are ones this module implements.
    /// `resolve` maps a rule reference to a detection or correlation.
    pub fn from_rule(
        c: &CorrelationRule,
        timespan: i64,
        resolve: impl Fn(&str) -> Option<Input>,
    ) -> Option<NativeCorr> {
        if c.window != WindowMode::Sliding || c.gap.is_some() || !c.aliases.is_empty() {
            return None;
        }
        let CorrelationCondition::Threshold {
            predicates, field, ..
        } = &c.condition
        else {
            return None;
        };
        let single_field = || match field.as_deref() {
            Some([f]) => Some(f.clone()),
            _ => None,
        };
        let kind = match c.correlation_type {
            CorrelationType::EventCount => Kind::EventCount,
            CorrelationType::ValueCount => Kind::ValueCount {
                field: single_field()?,
            },
            CorrelationType::ValueSum => Kind::ValueSum {
                field: single_field()?,
            },
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                let inputs: Option<Vec<Input>> = c.rules.iter().map(|r| resolve(r)).collect();
                Kind::Temporal {
                    ordered: c.correlation_type == CorrelationType::TemporalOrdered,
                    inputs: inputs?,
                }
            }
            _ => return None,
        };
        Some(NativeCorr {
            kind,
            predicates: predicates.clone(),
            timespan,
        })
    }

    /// The field whose value each event contributes (value_count, value_sum).
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            Kind::ValueCount { field } | Kind::ValueSum { field } => Some(field),
            _ => None,
        }
    }

    pub fn new_window(&self) -> Window {
        match &self.kind {
            Kind::EventCount => Window::Times(VecDeque::new()),
            Kind::ValueCount { .. } => Window::Distinct(DistinctWindow::default()),
            Kind::ValueSum { .. } => Window::Sum {
                entries: VecDeque::new(),
                sum: 0.0,
            },
            Kind::Temporal { inputs, .. } => {
                Window::Hits(inputs.iter().map(|_| VecDeque::new()).collect())
            }
        }
    }

    /// Records one event of `input` at `epoch` (with its field value for the value types;
    /// events without it are not counted, as in rsigma) and returns the aggregated value
    /// when the condition holds.
    pub fn occur(
        &self,
        w: &mut Window,
        input: Input,
        epoch: i64,
        value: Option<FieldValue>,
    ) -> Option<f64> {
        let cutoff = epoch.saturating_sub(self.timespan);
        let agg = match (&self.kind, w) {
            (Kind::EventCount, Window::Times(times)) => {
                evict(times, cutoff, |t| *t);
                times.push_back(epoch);
                times.len() as f64
            }
            (Kind::ValueCount { .. }, Window::Distinct(d)) => {
                d.push(epoch, value?.hash, self.timespan) as f64
            }
            (Kind::ValueSum { .. }, Window::Sum { entries, sum }) => {
                let v = value?.number?;
                while entries.front().is_some_and(|(t, _)| *t < cutoff)
                    || entries.len() >= MAX_WINDOW_ENTRIES
                {
                    if let Some((_, old)) = entries.pop_front() {
                        *sum -= old;
                    }
                }
                entries.push_back((epoch, v));
                *sum += v;
                // Re-add from scratch now and then so rounding cannot drift.
                if entries.len().is_power_of_two() {
                    *sum = entries.iter().map(|(_, v)| v).sum();
                }
                *sum
            }
            (Kind::Temporal { ordered, inputs }, Window::Hits(hits)) => {
                for h in hits.iter_mut() {
                    evict(h, cutoff, |t| *t);
                }
                let mut known = false;
                for (i, h) in hits.iter_mut().enumerate() {
                    if inputs.get(i) == Some(&input) {
                        if h.len() >= MAX_WINDOW_ENTRIES {
                            h.pop_front();
                        }
                        h.push_back(epoch);
                        known = true;
                    }
                }
                if !known {
                    return None;
                }
                let seen = hits.iter().filter(|h| !h.is_empty()).count();
                if *ordered {
                    // Earliest-first is optimal: for each rule in order take its earliest
                    // time not before the previous rule's (rsigma compares whole seconds).
                    let mut min = i64::MIN;
                    for h in hits.iter() {
                        let at = h.partition_point(|t| *t < min);
                        match h.get(at) {
                            Some(t) => min = *t,
                            None => return None,
                        }
                    }
                    hits.len() as f64
                } else {
                    if self.predicates.is_empty() && seen < hits.len() {
                        return None;
                    }
                    seen as f64
                }
            }
            _ => return None,
        };
        predicates_hold(&self.predicates, agg).then_some(agg)
    }
}

impl Window {
    /// The time of the newest entry, to drop idle groups.
    pub fn newest(&self) -> Option<i64> {
        match self {
            Window::Times(t) => t.back().copied(),
            Window::Distinct(d) => d.entries.back().map(|(t, _)| *t),
            Window::Sum { entries, .. } => entries.back().map(|(t, _)| *t),
            Window::Hits(h) => h.iter().filter_map(|q| q.back().copied()).max(),
        }
    }
}

fn evict<T>(q: &mut VecDeque<T>, cutoff: i64, time: impl Fn(&T) -> i64) {
    while q.front().is_some_and(|e| time(e) < cutoff) || q.len() >= MAX_WINDOW_ENTRIES {
        q.pop_front();
    }
}

/// Whether `value` satisfies every (operator, threshold) of a condition. Counts are whole
/// numbers well below 2^53, so comparing as `f64` is exact for them and also serves sums.
pub(crate) fn predicates_hold(preds: &[(ConditionOperator, u64)], value: f64) -> bool {
    preds.iter().all(|(op, t)| {
        let t = *t as f64;
        match op {
            ConditionOperator::Lt => value < t,
            ConditionOperator::Lte => value <= t,
            ConditionOperator::Gt => value > t,
            ConditionOperator::Gte => value >= t,
            ConditionOperator::Eq => value == t,
            ConditionOperator::Neq => value != t,
        }
    })
}

/// One event's value of a correlation's field, worked out once per event and shared by
/// every correlation over that field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldValue {
    /// The text's keyed 64-bit hash: distinct values are counted by it, so windows hold no
    /// strings. The key is random per run, so crafted log values cannot be made to collide
    /// and hide distinct pages; a chance collision is about 2^-64 per pair.
    pub hash: u64,
    /// The text as a finite number (`value_sum`), when it is one.
    pub number: Option<f64>,
}

impl FieldValue {
    pub fn new(text: &str, key: &impl std::hash::BuildHasher) -> FieldValue {
        FieldValue {
            hash: key.hash_one(text),
            number: text.trim().parse().ok().filter(|v: &f64| v.is_finite()),
        }
    }
}

/// Distinct values (by hash) in a sliding window with a count per value, so each event
/// costs O(1) amortised.
#[derive(Debug, Default)]
pub(crate) struct DistinctWindow {
    entries: VecDeque<(i64, u64)>,
    counts: FxHashMap<u64, u32>,
}

impl DistinctWindow {
    fn forget_front(&mut self) {
        if let Some((_, v)) = self.entries.pop_front()
            && let Some(n) = self.counts.get_mut(&v)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.counts.remove(&v);
            }
        }
    }

    /// Adds `value` at `ts`, evicts what fell out of `[ts - span, ts]`, returns the
    /// distinct count.
    pub fn push(&mut self, ts: i64, value: u64, span: i64) -> usize {
        let cutoff = ts.saturating_sub(span);
        while self.entries.front().is_some_and(|(t, _)| *t < cutoff) {
            self.forget_front();
        }
        if self.entries.len() >= MAX_WINDOW_ENTRIES {
            self.forget_front();
        }
        *self.counts.entry(value).or_default() += 1;
        self.entries.push_back((ts, value));
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Option<FieldValue> {
        Some(FieldValue::new(text, &std::hash::RandomState::new()))
    }

    fn h(text: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(text)
    }

    fn corr(kind: Kind, predicates: Vec<(ConditionOperator, u64)>, timespan: i64) -> NativeCorr {
        NativeCorr {
            kind,
            predicates,
            timespan,
        }
    }

    #[test]
    fn distinct_window_slides_and_counts_values_once() {
        let mut w = DistinctWindow::default();
        assert_eq!(w.push(0, h("a"), 15), 1);
        assert_eq!(w.push(10, h("b"), 15), 2);
        assert_eq!(w.push(12, h("a"), 15), 2, "a value counts once");
        // At 20 the first "a" (t=0) left the window but the one at 12 keeps "a" alive.
        assert_eq!(w.push(20, h("c"), 15), 3);
        // At 100 everything else is gone.
        assert_eq!(w.push(100, h("c"), 15), 1);
        assert_eq!(w.counts.len(), 1);
    }

    #[test]
    fn threshold_predicates() {
        let p = [(ConditionOperator::Gte, 5), (ConditionOperator::Lt, 10)];
        assert!(!predicates_hold(&p, 4.0));
        assert!(predicates_hold(&p, 5.0));
        assert!(!predicates_hold(&p, 10.0));
        assert!(predicates_hold(&p, 9.5), "sums are compared as they are");
    }

    #[test]
    fn event_count_slides_and_keeps_the_boundary() {
        let c = corr(Kind::EventCount, vec![(ConditionOperator::Gte, 3)], 10);
        let mut w = c.new_window();
        let d = Input::Det(0);
        assert_eq!(c.occur(&mut w, d, 0, None), None);
        assert_eq!(c.occur(&mut w, d, 5, None), None);
        assert_eq!(
            c.occur(&mut w, d, 10, None),
            Some(3.0),
            "t=0 is still inside at 10"
        );
        assert_eq!(
            c.occur(&mut w, d, 11, None),
            Some(3.0),
            "t=0 left, 5, 10, 11 remain"
        );
        assert_eq!(c.occur(&mut w, d, 30, None), None);
    }

    #[test]
    fn value_sum_adds_field_values_and_skips_events_without_one() {
        let c = corr(
            Kind::ValueSum {
                field: "rest.items".into(),
            },
            vec![(ConditionOperator::Gte, 500)],
            3600,
        );
        let mut w = c.new_window();
        let d = Input::Det(0);
        for i in 0..4 {
            assert_eq!(c.occur(&mut w, d, i, v("100")), None);
        }
        assert_eq!(c.occur(&mut w, d, 5, None), None);
        assert_eq!(c.occur(&mut w, d, 6, v("oops")), None);
        assert_eq!(c.occur(&mut w, d, 7, v("100")), Some(500.0));
        // An hour later the first four left.
        assert_eq!(c.occur(&mut w, d, 3604, v("100")), None);
    }

    #[test]
    fn temporal_ordered_needs_the_order_within_the_window() {
        let (a, b) = (Input::Corr(1), Input::Det(2));
        let c = corr(
            Kind::Temporal {
                ordered: true,
                inputs: vec![a, b],
            },
            vec![],
            60,
        );
        let mut w = c.new_window();
        assert_eq!(c.occur(&mut w, b, 0, None), None, "B before any A");
        assert_eq!(
            c.occur(&mut w, a, 10, None),
            None,
            "A after B is not the order"
        );
        assert_eq!(c.occur(&mut w, b, 20, None), Some(2.0));
        assert_eq!(
            c.occur(&mut w, a, 30, None),
            Some(2.0),
            "the window still holds A, B"
        );
        assert_eq!(c.occur(&mut w, b, 200, None), None, "A left the window");
        // Same second counts as ordered, as rsigma compares whole seconds.
        let mut w = c.new_window();
        assert_eq!(c.occur(&mut w, b, 500, None), None);
        assert_eq!(c.occur(&mut w, a, 500, None), Some(2.0));
    }

    #[test]
    fn temporal_unordered_needs_every_rule() {
        let (a, b) = (Input::Det(0), Input::Det(1));
        let c = corr(
            Kind::Temporal {
                ordered: false,
                inputs: vec![a, b],
            },
            vec![],
            60,
        );
        let mut w = c.new_window();
        assert_eq!(c.occur(&mut w, b, 0, None), None);
        assert_eq!(c.occur(&mut w, a, 30, None), Some(2.0));
        assert_eq!(
            c.occur(&mut w, Input::Det(9), 31, None),
            None,
            "not referenced"
        );
    }
}
