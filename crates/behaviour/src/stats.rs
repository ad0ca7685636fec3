//! Robust statistics over small, bounded samples: quantiles, median, MAD and a bounded
//! ring buffer. Counts of pages or searches are heavy-tailed, so nothing here assumes a
//! Gaussian: baselines are order statistics, never mean ± k·σ.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A FIFO of at most `cap` values: the oldest falls out, so memory stays bounded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ring<T> {
    cap: usize,
    items: VecDeque<T>,
}

impl<T> Ring<T> {
    pub fn new(cap: usize) -> Ring<T> {
        Ring {
            cap: cap.max(1),
            items: VecDeque::new(),
        }
    }

    pub fn push(&mut self, v: T) {
        while self.items.len() >= self.cap {
            self.items.pop_front();
        }
        self.items.push_back(v);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }
}

/// The `q` quantile (0..=1) of `values` with linear interpolation; NaNs are ignored.
/// `None` when nothing is left.
pub fn quantile(values: impl IntoIterator<Item = f64>, q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    quantile_sorted(sort(&mut v), q)
}

fn sort(v: &mut [f64]) -> &[f64] {
    v.sort_by(f64::total_cmp);
    v
}

/// Quantile of an already sorted slice.
pub fn quantile_sorted(v: &[f64], q: f64) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let a = *v.get(lo)?;
    let b = *v.get(hi)?;
    Some(a + (b - a) * (pos - lo as f64))
}

/// Median of `values` (NaNs ignored).
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    quantile(values, 0.5)
}

/// Median absolute deviation from the median (NaNs ignored).
pub fn mad(values: impl IntoIterator<Item = f64> + Clone) -> Option<f64> {
    let m = median(values.clone())?;
    median(values.into_iter().map(|x| (x - m).abs()))
}

/// A robust summary of one feature: what an explanation quotes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mad: f64,
}

impl Summary {
    /// Summary of `values` (NaNs ignored); `None` when empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        let s = sort(&mut v);
        let median = quantile_sorted(s, 0.5)?;
        let mut dev: Vec<f64> = s.iter().map(|x| (x - median).abs()).collect();
        let mad = quantile_sorted(sort(&mut dev), 0.5)?;
        Some(Summary {
            n: s.len(),
            median,
            p90: quantile_sorted(s, 0.9)?,
            p99: quantile_sorted(s, 0.99)?,
            max: *s.last()?,
            mad,
        })
    }
}

/// Exponential decay factor for `days` elapsed with the given half-life.
pub fn decay(days: f64, half_life_days: f64) -> f64 {
    if half_life_days <= 0.0 {
        return 0.0;
    }
    0.5f64.powf(days.max(0.0) / half_life_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_and_ignore_nan() {
        let v = [1.0, 2.0, 3.0, 4.0, f64::NAN];
        assert_eq!(median(v), Some(2.5));
        assert_eq!(quantile(v, 1.0), Some(4.0));
        assert_eq!(quantile(v, 0.0), Some(1.0));
        assert_eq!(quantile([f64::NAN], 0.5), None);
    }

    #[test]
    fn mad_is_robust_to_one_outlier() {
        let v = [10.0, 11.0, 9.0, 10.0, 1000.0];
        assert_eq!(median(v), Some(10.0));
        assert_eq!(mad(v), Some(1.0));
        let s = Summary::of(v).unwrap();
        assert_eq!(s.max, 1000.0);
        assert_eq!(s.n, 5);
    }

    #[test]
    fn ring_drops_oldest() {
        let mut r = Ring::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
    }

    #[test]
    fn decay_halves() {
        assert!((decay(3.0, 3.0) - 0.5).abs() < 1e-12);
        assert_eq!(decay(1.0, 0.0), 0.0);
    }
}
