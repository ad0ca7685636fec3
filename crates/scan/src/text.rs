//! Small text utilities shared by the engine: line/column lookup, Shannon entropy,
//! redaction, and fingerprints.

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

#[cfg(test)]
mod tests {
    use super::*;

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
