//! The matching engine: runs the rules enabled by the keyword prefilter over extracted text
//! and tables, applies the filters (allowlists, placeholders, entropy outside attributes,
//! checksums, the inline `confwatch:allow` marker), and resolves overlaps.

use crate::extract::{Extracted, Table};
use crate::filters;
use crate::rules::{Engine, GroupRef, Rule, RuleSet};
use crate::text::shannon_entropy;

/// The inline marker that silences every match on its line.
pub const INLINE_ALLOW: &str = "confwatch:allow";

/// A candidate that passed every filter. Offsets are into [`Extracted::text`].
#[derive(Debug, Clone, PartialEq)]
pub struct RawHit {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    pub secret: String,
    pub validated: bool,
    /// For table hits: what the row says (e.g. the user name next to the password).
    pub note: Option<String>,
}

/// Upper bound on hits per rule per document, so a pathological page cannot exhaust memory.
const MAX_HITS_PER_RULE: usize = 10_000;

/// Runs every applicable rule over `x`.
pub fn scan_extracted(rules: &RuleSet, x: &Extracted) -> Vec<RawHit> {
    let plan = rules.plan(x.text.as_bytes());
    resolve_overlaps(rules, run_rules(rules, x, &plan))
}

/// Runs only rule `ri` (keyword prefilter included), without overlap resolution: what a
/// rule's own examples are checked with.
pub fn scan_one_rule(rules: &RuleSet, ri: usize, x: &Extracted) -> Vec<RawHit> {
    let plan: Vec<(usize, Vec<(usize, usize)>)> = rules
        .plan(x.text.as_bytes())
        .into_iter()
        .filter(|(r, _)| *r == ri)
        .collect();
    run_rules(rules, x, &plan)
}

fn run_rules(rules: &RuleSet, x: &Extracted, plan: &[(usize, Vec<(usize, usize)>)]) -> Vec<RawHit> {
    let mut hits = Vec::new();
    for (ri, windows) in plan {
        let ri = *ri;
        let Some(rule) = rules.rules.get(ri) else {
            continue;
        };
        match rule.def.engine {
            Engine::Regex => regex_hits(rules, ri, rule, x, windows, &mut hits),
            Engine::TableColumn | Engine::TableRow => {
                for t in &x.tables {
                    table_hits(rules, ri, rule, t, x, &mut hits);
                }
            }
        }
    }
    hits
}

fn regex_hits(
    rules: &RuleSet,
    ri: usize,
    rule: &Rule,
    x: &Extracted,
    windows: &[(usize, usize)],
    out: &mut Vec<RawHit>,
) {
    let Some(re) = &rule.regex else {
        return;
    };
    let bytes = x.text.as_bytes();
    let mut n = 0usize;
    for &(ws, we) in windows {
        let Some(win) = bytes.get(ws..we) else {
            continue;
        };
        for caps in re.captures_iter(win) {
            let m = match &rule.group {
                GroupRef::Index(i) => caps.get(*i),
                GroupRef::Name(name) => caps.name(name),
            };
            let Some(m) = m else {
                continue;
            };
            let (start, end) = trim_value(bytes, ws + m.start(), ws + m.end(), rule.def.generic);
            let Some(raw) = bytes.get(start..end) else {
                continue;
            };
            let secret = String::from_utf8_lossy(raw).into_owned();
            let Some(validated) = accept(rules, rule, &secret, x, start) else {
                continue;
            };
            out.push(RawHit {
                rule: ri,
                start,
                end,
                secret,
                validated,
                note: None,
            });
            n += 1;
            if n >= MAX_HITS_PER_RULE {
                return;
            }
        }
    }
}

/// Strips quotes and trailing sentence punctuation from a generic value.
fn trim_value(b: &[u8], mut s: usize, mut e: usize, generic: bool) -> (usize, usize) {
    while s < e && matches!(b.get(s), Some(b'"' | b'\'' | b'`')) {
        s += 1;
    }
    while e > s && matches!(b.get(e - 1), Some(b'"' | b'\'' | b'`')) {
        e -= 1;
    }
    if generic {
        while e > s && matches!(b.get(e - 1), Some(b'.' | b',' | b';' | b')' | b':')) {
            e -= 1;
        }
    }
    (s, e)
}

/// The filters. Returns `Some(validated)` when the candidate is kept.
fn accept(rules: &RuleSet, rule: &Rule, secret: &str, x: &Extracted, at: usize) -> Option<bool> {
    if secret.is_empty() {
        return None;
    }
    if let Some(min) = rule.def.min_length
        && secret.chars().count() < min
    {
        return None;
    }
    if rule.allow.iter().any(|a| a.is_match(secret.as_bytes())) {
        return None;
    }
    if rules
        .allow
        .iter()
        .any(|(_, a)| a.is_match(secret.as_bytes()))
    {
        return None;
    }
    if filters::is_placeholder(secret) {
        return None;
    }
    if rule.def.generic && rule.def.engine == Engine::Regex && !filters::plausible_password(secret)
    {
        return None;
    }
    if let Some(min) = rule.def.min_entropy {
        // Never an entropy test on markup attributes (ids, hashes in ri: attributes).
        if x.is_attribute(at) {
            return None;
        }
        if shannon_entropy(secret.as_bytes()) < min {
            return None;
        }
    }
    let validated = match &rule.def.checksum {
        Some(c) => {
            if crate::validate::check(c, secret) != Some(true) {
                return None;
            }
            true
        }
        None => false,
    };
    if line_has_inline_allow(&x.text, at) {
        return None;
    }
    Some(validated)
}

fn line_has_inline_allow(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let at = at.min(b.len());
    let start = memchr::memrchr(b'\n', b.get(..at).unwrap_or(&[]))
        .map(|p| p + 1)
        .unwrap_or(0);
    let end = memchr::memchr(b'\n', b.get(at..).unwrap_or(&[]))
        .map(|p| p + at)
        .unwrap_or(b.len());
    b.get(start..end)
        .is_some_and(|l| memchr::memmem::find(l, INLINE_ALLOW.as_bytes()).is_some())
}

fn header_matches(rule: &Rule, text: &str) -> bool {
    let t = text.trim().trim_end_matches(':').trim();
    rule.header
        .as_ref()
        .is_some_and(|h| h.is_match(t.as_bytes()))
}

/// A table value is a candidate when it is a single token-ish string, not prose.
fn table_value_ok(v: &str) -> bool {
    let t = v.trim();
    // Passwords are one token; "see vault" or "ask the admin" is prose.
    !t.is_empty() && t.split_whitespace().count() == 1 && t.chars().count() <= 128
}

fn user_column(t: &Table) -> Option<usize> {
    let head = t.rows.first()?;
    head.iter().position(|c| {
        let l = c.text.to_lowercase();
        matches!(
            l.trim(),
            "user"
                | "username"
                | "user name"
                | "login"
                | "account"
                | "benutzer"
                | "benutzername"
                | "utilisateur"
                | "identifiant"
                | "usuario"
                | "nutzer"
                | "user id"
                | "userid"
        )
    })
}

fn table_hits(
    rules: &RuleSet,
    ri: usize,
    rule: &Rule,
    t: &Table,
    x: &Extracted,
    out: &mut Vec<RawHit>,
) {
    match rule.def.engine {
        Engine::TableColumn => {
            let Some(head) = t.rows.first() else {
                return;
            };
            let cols: Vec<usize> = head
                .iter()
                .enumerate()
                .filter(|(_, c)| header_matches(rule, &c.text))
                .map(|(i, _)| i)
                .collect();
            if cols.is_empty() {
                return;
            }
            let ucol = user_column(t);
            for row in t.rows.iter().skip(1) {
                for &c in &cols {
                    let Some(cell) = row.get(c) else {
                        continue;
                    };
                    if cell.header || !table_value_ok(&cell.text) {
                        continue;
                    }
                    push_cell(rules, ri, rule, x, cell, ucol.and_then(|u| row.get(u)), out);
                }
            }
        }
        Engine::TableRow => {
            for row in &t.rows {
                let (Some(k), Some(v)) = (row.first(), row.get(1)) else {
                    continue;
                };
                if !header_matches(rule, &k.text) || !table_value_ok(&v.text) {
                    continue;
                }
                push_cell(rules, ri, rule, x, v, None, out);
            }
        }
        Engine::Regex => {}
    }
}

fn push_cell(
    rules: &RuleSet,
    ri: usize,
    rule: &Rule,
    x: &Extracted,
    cell: &crate::extract::Cell,
    user: Option<&crate::extract::Cell>,
    out: &mut Vec<RawHit>,
) {
    let secret = cell.text.trim().to_owned();
    if let Some(validated) = accept(rules, rule, &secret, x, cell.text_start) {
        out.push(RawHit {
            rule: ri,
            start: cell.text_start,
            end: cell.text_start + secret.len(),
            secret,
            validated,
            note: user
                .map(|u| format!("user {}", u.text.trim()))
                .filter(|n| n.len() > 5),
        });
    }
}

/// When two hits cover overlapping text, keeps one: specific over generic, then the longer
/// match, then the earlier rule.
fn resolve_overlaps(rules: &RuleSet, mut hits: Vec<RawHit>) -> Vec<RawHit> {
    let generic = |h: &RawHit| rules.rules.get(h.rule).is_some_and(|r| r.def.generic);
    hits.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(generic(a).cmp(&generic(b)))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.rule.cmp(&b.rule))
    });
    let mut kept: Vec<RawHit> = Vec::with_capacity(hits.len());
    for h in hits {
        let mut replace = None;
        let mut drop = false;
        for (i, k) in kept.iter().enumerate().rev() {
            if k.end <= h.start {
                // Kept hits are sorted by start; earlier ones may still overlap only if long.
                if k.start + 4096 < h.start {
                    break;
                }
                continue;
            }
            if h.end <= k.start {
                continue;
            }
            // Overlap.
            let better = (!generic(&h) && generic(k))
                || (generic(&h) == generic(k) && (h.end - h.start) > (k.end - k.start));
            if better {
                replace = Some(i);
            } else {
                drop = true;
            }
            break;
        }
        match (replace, drop) {
            (Some(i), _) => {
                if let Some(slot) = kept.get_mut(i) {
                    *slot = h;
                }
            }
            (None, true) => {}
            (None, false) => kept.push(h),
        }
    }
    kept
}
