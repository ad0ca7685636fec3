//! Terminal-safe text: every string from logs or pages is attacker-controlled, so control
//! characters (ANSI escapes, carriage returns, newlines) never reach the terminal as such.

/// Replaces control characters (terminal escape sequences, newlines) with `?`.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// [`clean`]s `s` and cuts it to `width` characters, marking the cut with `…`.
pub fn clip(s: &str, width: usize) -> String {
    let c = clean(s);
    if c.chars().count() <= width {
        return c;
    }
    let mut out: String = c.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_are_replaced_and_long_text_clipped() {
        assert_eq!(super::clean("a\x1b[31mb\n"), "a?[31mb?");
        assert_eq!(super::clip("abcdef", 4), "abc…");
        assert_eq!(super::clip("abc", 4), "abc");
    }
}
