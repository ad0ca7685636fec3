//! Small text utilities shared by the engine: line/column lookup, Shannon entropy,
//! redaction, fingerprints, and the keyword matcher behind the rule prefilter.

use sha2::{Digest, Sha256};

/// Maps byte offsets of a text to 1-based lines and columns (columns count Unicode scalar
/// values, so a multi-byte character is one column).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the start of every line after the first.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &[u8]) -> LineIndex {
        let starts = memchr::memchr_iter(b'\n', text).map(|p| p + 1).collect();
        LineIndex { starts }
    }

    /// Returns `(line, column)`, both 1-based, for the byte offset `off` of `text`.
    pub fn position(&self, text: &[u8], off: usize) -> (u64, u64) {
        let idx = self.starts.partition_point(|&s| s <= off);
        let line_start = if idx == 0 {
            0
        } else {
            self.starts.get(idx - 1).copied().unwrap_or(0)
        };
        let end = off.min(text.len());
        let col = text
            .get(line_start.min(end)..end)
            .map(|s| s.iter().filter(|&&b| (b & 0xC0) != 0x80).count())
            .unwrap_or(0);
        (idx as u64 + 1, col as u64 + 1)
    }

    /// The byte range of the line holding `off`.
    pub fn line_range(&self, text_len: usize, off: usize) -> (usize, usize) {
        let idx = self.starts.partition_point(|&s| s <= off);
        let start = if idx == 0 {
            0
        } else {
            self.starts.get(idx - 1).copied().unwrap_or(0)
        };
        let end = self
            .starts
            .get(idx)
            .map(|&s| s.saturating_sub(1))
            .unwrap_or(text_len);
        (
            start.min(text_len),
            end.min(text_len).max(start.min(text_len)),
        )
    }
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        if let Some(c) = counts.get_mut(b as usize) {
            *c += 1;
        }
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Hides a secret: keeps at most a quarter of it (and never more than 4 characters) so a
/// reader can tell tokens apart, replaces the rest with asterisks.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 4).min(4);
    let mut out: String = secret.chars().take(keep).collect();
    out.push_str("*****");
    out
}

/// Stable fingerprint of a secret value: the first 16 hex digits of its SHA-256. The rule
/// id is not part of it, so one secret matched by two rules is still one finding.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.trim().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// The largest char boundary `<= i` in `s`.
pub fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary `>= i` in `s`.
pub fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Finds every occurrence (overlapping ones included) of a set of literal keywords,
/// ASCII-case-insensitively, in one pass.
///
/// It is an Aho-Corasick DFA of our own rather than the `aho-corasick` crate's because the
/// prefilter reads every byte of every page and a DFA walk is bound by the latency of one
/// table load per byte: this one folds case in its byte-class table (no lower-cased copy of
/// the text) and walks [`LANES`] independent slices of the text at once, so the loads
/// overlap. On the planted-secrets corpus that is about 3× faster than a leftmost-longest
/// `aho-corasick` DFA over a lower-cased copy.
#[derive(Debug, Clone)]
pub struct KeywordMatcher {
    /// Byte → equivalence class; ASCII upper case shares the lower-case class.
    classes: [u32; 256],
    /// Number of classes: the row length of `trans`.
    stride: u32,
    /// Transitions, premultiplied: the next state of `s` on byte `b` is
    /// `trans[s + classes[b]]`; state ids are row offsets, the start state is 0.
    trans: Vec<u32>,
    /// States at or above this id end at least one keyword.
    first_match: u32,
    /// Per matching state (in id order): its range in `outputs`.
    out_ranges: Vec<(u32, u32)>,
    /// Keyword indices ended by each matching state.
    outputs: Vec<u32>,
    /// Length of every keyword, by index.
    lens: Vec<usize>,
    /// The longest keyword.
    max_len: usize,
}

/// Text slices walked side by side (see [`KeywordMatcher`]).
const LANES: usize = 4;
/// Below this size a text is walked in one slice (the lane set-up would not pay).
const LANE_MIN: usize = 4096;
/// Upper bound on the automaton (keywords come from rule files, but stay defensive).
const MAX_KEYWORD_STATES: usize = 1 << 20;

impl KeywordMatcher {
    /// Builds the matcher. Keywords are matched ASCII-case-insensitively; an empty keyword
    /// is never reported. Returns `None` when the keywords are too many to index.
    pub fn new<S: AsRef<[u8]>>(keywords: &[S]) -> Option<KeywordMatcher> {
        let pats: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_ref().to_ascii_lowercase())
            .collect();
        let total: usize = pats.iter().map(Vec::len).sum();
        if total + 1 > MAX_KEYWORD_STATES {
            return None;
        }
        // Byte classes: 0 for bytes in no keyword, one class per keyword byte.
        let mut classes = [0u32; 256];
        let mut stride = 1u32;
        for p in &pats {
            for &b in p {
                let slot = classes.get_mut(usize::from(b))?;
                if *slot == 0 {
                    *slot = stride;
                    stride += 1;
                }
            }
        }
        for b in b'A'..=b'Z' {
            let lower = classes.get(usize::from(b.to_ascii_lowercase())).copied()?;
            *classes.get_mut(usize::from(b))? = lower;
        }
        let w = stride as usize;
        // The trie, with u32::MAX for "no child".
        let mut goto: Vec<u32> = vec![u32::MAX; w];
        let mut outs: Vec<Vec<u32>> = vec![Vec::new()];
        for (pi, p) in pats.iter().enumerate() {
            if p.is_empty() {
                continue;
            }
            let mut s = 0usize;
            for &b in p {
                let c = *classes.get(usize::from(b))? as usize;
                let next = *goto.get(s * w + c)?;
                s = if next == u32::MAX {
                    let id = outs.len();
                    *goto.get_mut(s * w + c)? = u32::try_from(id).ok()?;
                    goto.extend(std::iter::repeat_n(u32::MAX, w));
                    outs.push(Vec::new());
                    id
                } else {
                    next as usize
                };
            }
            outs.get_mut(s)?.push(u32::try_from(pi).ok()?);
        }
        let n = outs.len();
        // Breadth-first: failure links, inherited outputs, and the full transition table.
        let mut fail = vec![0usize; n];
        let mut queue = std::collections::VecDeque::new();
        for c in 0..w {
            match *goto.get(c)? {
                u32::MAX => *goto.get_mut(c)? = 0,
                v => queue.push_back(v as usize),
            }
        }
        while let Some(u) = queue.pop_front() {
            let fu = *fail.get(u)?;
            for c in 0..w {
                let v = *goto.get(u * w + c)?;
                let via_fail = *goto.get(fu * w + c)?;
                if v == u32::MAX {
                    *goto.get_mut(u * w + c)? = via_fail;
                } else {
                    let v = v as usize;
                    *fail.get_mut(v)? = via_fail as usize;
                    let inherited = outs.get(via_fail as usize)?.clone();
                    outs.get_mut(v)?.extend(inherited);
                    queue.push_back(v);
                }
            }
        }
        // Renumber: states without outputs first, so "is a match" is one comparison.
        let mut order: Vec<usize> = (0..n)
            .filter(|&s| outs.get(s).is_some_and(Vec::is_empty))
            .collect();
        let first_match_idx = order.len();
        order.extend((0..n).filter(|&s| outs.get(s).is_some_and(|o| !o.is_empty())));
        let mut new_id = vec![0u32; n];
        for (i, &s) in order.iter().enumerate() {
            *new_id.get_mut(s)? = u32::try_from(i * w).ok()?;
        }
        let mut trans = Vec::with_capacity(n * w);
        let mut out_ranges = Vec::new();
        let mut outputs = Vec::new();
        for (i, &s) in order.iter().enumerate() {
            for c in 0..w {
                trans.push(*new_id.get(*goto.get(s * w + c)? as usize)?);
            }
            if i >= first_match_idx {
                let o = outs.get(s)?;
                let a = u32::try_from(outputs.len()).ok()?;
                outputs.extend_from_slice(o);
                out_ranges.push((a, u32::try_from(outputs.len()).ok()?));
            }
        }
        Some(KeywordMatcher {
            classes,
            stride,
            trans,
            first_match: u32::try_from(first_match_idx * w).ok()?,
            out_ranges,
            outputs,
            lens: pats.iter().map(Vec::len).collect(),
            max_len: pats.iter().map(Vec::len).max().unwrap_or(0),
        })
    }

    #[inline(always)]
    fn step(&self, s: u32, b: u8) -> u32 {
        let c = self.classes.get(usize::from(b)).copied().unwrap_or(0);
        self.trans.get((s + c) as usize).copied().unwrap_or(0)
    }

    /// Reports the keywords ended by state `s` at byte `at` (inclusive).
    #[cold]
    fn report(&self, s: u32, at: usize, f: &mut impl FnMut(usize, usize, usize)) {
        let i = ((s - self.first_match) / self.stride) as usize;
        let Some(&(a, b)) = self.out_ranges.get(i) else {
            return;
        };
        for &p in self.outputs.get(a as usize..b as usize).unwrap_or(&[]) {
            let len = self.lens.get(p as usize).copied().unwrap_or(0);
            f(p as usize, (at + 1).saturating_sub(len), at + 1);
        }
    }

    /// Calls `f(keyword index, start, end)` for every occurrence in `hay`, in no particular
    /// order.
    pub fn for_each_match(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        if hay.len() < LANE_MIN || self.max_len == 0 {
            let mut s = 0;
            for (i, &b) in hay.iter().enumerate() {
                s = self.step(s, b);
                if s >= self.first_match {
                    self.report(s, i, &mut f);
                }
            }
            return;
        }
        // Lane k owns the matches ending in its quarter; it starts `max_len - 1` bytes early
        // (silently) so a keyword straddling the boundary is still seen whole.
        let l = hay.len() / LANES;
        let mut st = [0u32; LANES];
        for (k, s) in st.iter_mut().enumerate().skip(1) {
            let start = k * l;
            let warm = start.saturating_sub(self.max_len - 1);
            for &b in hay.get(warm..start).unwrap_or(&[]) {
                *s = self.step(*s, b);
            }
        }
        let (q0, rest) = hay.split_at(l);
        let (q1, rest) = rest.split_at(l);
        let (q2, rest) = rest.split_at(l);
        let (q3, tail) = rest.split_at(l);
        let [mut s0, mut s1, mut s2, mut s3] = st;
        let fm = self.first_match;
        for (j, (((&b0, &b1), &b2), &b3)) in q0.iter().zip(q1).zip(q2).zip(q3).enumerate() {
            s0 = self.step(s0, b0);
            s1 = self.step(s1, b1);
            s2 = self.step(s2, b2);
            s3 = self.step(s3, b3);
            if (s0 >= fm) | (s1 >= fm) | (s2 >= fm) | (s3 >= fm) {
                for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                    if s >= fm {
                        self.report(s, k * l + j, &mut f);
                    }
                }
            }
        }
        for (i, &b) in tail.iter().enumerate() {
            s3 = self.step(s3, b);
            if s3 >= fm {
                self.report(s3, 4 * l + i, &mut f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, by brute force: the reference the matcher is checked against.
    fn naive(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let lower = hay.to_ascii_lowercase();
        let mut v = Vec::new();
        for (p, k) in kws.iter().enumerate() {
            let k = k.to_ascii_lowercase();
            if k.is_empty() {
                continue;
            }
            for s in 0..lower.len() {
                if lower[s..].starts_with(k.as_bytes()) {
                    v.push((p, s, s + k.len()));
                }
            }
        }
        v.sort_unstable();
        v
    }

    fn all(m: &KeywordMatcher, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        m.for_each_match(hay, |p, s, e| v.push((p, s, e)));
        v.sort_unstable();
        v
    }

    #[test]
    fn keyword_matcher_finds_overlapping_and_case_folded_occurrences() {
        let kws = ["pass", "password=", "pw", "sword", "hasło", "", "10."];
        let m = KeywordMatcher::new(&kws).unwrap();
        let hay = "User=sa;PassWord=x pw HASłO 10.0.0.1".as_bytes();
        let got = all(&m, hay);
        assert_eq!(got, naive(&kws, hay));
        assert!(got.contains(&(0, 8, 12)));
        assert!(got.contains(&(1, 8, 17)));
        assert!(got.contains(&(3, 11, 16)));
    }

    #[test]
    fn keyword_matcher_lanes_see_keywords_across_their_boundaries() {
        let kws = ["secret", "key", "ghp_", "-----begin "];
        let m = KeywordMatcher::new(&kws).unwrap();
        // Large enough for the lanes; keywords at every offset around the quarter marks.
        let mut hay = Vec::new();
        let mut i = 0u32;
        while hay.len() < 3 * LANE_MIN {
            hay.extend_from_slice(b"lorem ipsum ");
            hay.extend_from_slice(kws[(i % 4) as usize].to_uppercase().as_bytes());
            hay.extend(std::iter::repeat_n(b'x', (i % 7) as usize));
            i += 1;
        }
        for cut in [
            hay.len(),
            hay.len() - 1,
            hay.len() - 2,
            hay.len() - 3,
            LANE_MIN,
        ] {
            let h = &hay[..cut];
            assert_eq!(all(&m, h), naive(&kws, h), "length {cut}");
        }
    }

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let t = "ab\ncä d\nx";
        let idx = LineIndex::new(t.as_bytes());
        assert_eq!(idx.position(t.as_bytes(), 0), (1, 1));
        assert_eq!(idx.position(t.as_bytes(), 3), (2, 1));
        // "cä " is 4 bytes; 'd' is at byte 7 -> column 4
        assert_eq!(idx.position(t.as_bytes(), 7), (2, 4));
        assert_eq!(idx.position(t.as_bytes(), 9), (3, 1));
        assert_eq!(idx.line_range(t.len(), 4), (3, 8));
    }

    #[test]
    fn entropy_separates_random_from_repetitive() {
        assert!(shannon_entropy(b"aaaaaaaa") < 0.01);
        assert!(shannon_entropy(b"q8Zr2LmX0pVt7KcN") > 3.5);
    }

    #[test]
    fn redaction_keeps_little() {
        assert_eq!(
            redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_*****"
        );
        assert_eq!(redact("Summer2024!"), "Su*****");
        assert_eq!(redact("abc"), "*****");
    }

    #[test]
    fn fingerprint_is_stable_and_value_based() {
        assert_eq!(fingerprint("x"), fingerprint(" x "));
        assert_ne!(fingerprint("x"), fingerprint("y"));
        assert_eq!(fingerprint("x").len(), 16);
    }
}
