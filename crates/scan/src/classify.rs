//! Page classification into the ATT&CK T1213 material categories (policies, diagrams,
//! technical documentation, credentials, schedules, source code, network shares), driven by
//! `rules/secrets/classify.toml`.

use crate::error::ScanError;
use crate::text::KeywordMatcher;
use confwatch_event::finding::Category;
use serde::Deserialize;

/// The embedded classification data.
pub const EMBEDDED_CLASSIFY: &str = include_str!("../../../rules/secrets/classify.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryDef {
    id: String,
    #[serde(default)]
    title: Vec<String>,
    #[serde(default)]
    text: Vec<String>,
    #[serde(default)]
    macros: Vec<String>,
    #[serde(default)]
    attachments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyFile {
    category: Vec<CategoryDef>,
}

struct Compiled {
    category: Category,
    title: aho_corasick::AhoCorasick,
    macros: Vec<String>,
    attachments: Vec<String>,
}

/// Scores a page against every category.
pub struct Classifier {
    cats: Vec<Compiled>,
    /// Every category's text keywords in one automaton (one pass over the page);
    /// `text_owner[pattern]` is the category index.
    text: KeywordMatcher,
    text_owner: Vec<usize>,
}

/// What the classifier looks at.
pub struct PageSignals<'a> {
    pub title: Option<&'a str>,
    pub text: &'a str,
    pub macros: &'a [String],
    /// File name (for attachments and files).
    pub file_name: Option<&'a str>,
}

const THRESHOLD: u32 = 2;
/// Only the start of a body is read for text keywords: with the title, macros and file name
/// it is enough to tell what a page is, and it keeps classification cheap on large pages.
const TEXT_WINDOW: usize = 8 * 1024;

fn ac(words: &[String]) -> Result<aho_corasick::AhoCorasick, ScanError> {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(words)
        .map_err(|e| ScanError::RuleFile {
            file: "classify.toml".into(),
            message: e.to_string(),
        })
}

impl Classifier {
    pub fn embedded() -> Result<Classifier, ScanError> {
        Classifier::from_toml(EMBEDDED_CLASSIFY)
    }

    pub fn from_toml(text: &str) -> Result<Classifier, ScanError> {
        let f: ClassifyFile = toml::from_str(text).map_err(|e| ScanError::RuleFile {
            file: "classify.toml".into(),
            message: e.to_string(),
        })?;
        let mut cats = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut text_owner = Vec::new();
        for d in f.category {
            let category = Category::parse(&d.id).ok_or_else(|| ScanError::RuleFile {
                file: "classify.toml".into(),
                message: format!("unknown category {}", d.id),
            })?;
            for w in &d.text {
                words.push(w.clone());
                text_owner.push(cats.len());
            }
            cats.push(Compiled {
                category,
                title: ac(&d.title)?,
                macros: d.macros.iter().map(|m| m.to_ascii_lowercase()).collect(),
                attachments: d
                    .attachments
                    .iter()
                    .map(|a| a.to_ascii_lowercase())
                    .collect(),
            });
        }
        let text = KeywordMatcher::new(&words).ok_or_else(|| ScanError::RuleFile {
            file: "classify.toml".into(),
            message: "too many text keywords to index".into(),
        })?;
        Ok(Classifier {
            cats,
            text,
            text_owner,
        })
    }

    /// Text keyword occurrences as (start, end, keyword), leftmost-longest and
    /// non-overlapping ("password" counts once, not also as "pass"): every occurrence sorted
    /// by start, longest first, then taken greedily.
    fn text_keywords(&self, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut found: Vec<(usize, std::cmp::Reverse<usize>, usize)> = Vec::new();
        self.text
            .for_each_match(hay, |p, s, e| found.push((s, std::cmp::Reverse(e), p)));
        found.sort_unstable();
        let mut out = Vec::new();
        let mut last_end = 0;
        for (s, std::cmp::Reverse(e), p) in found {
            if s >= last_end {
                last_end = e;
                out.push((s, e, p));
            }
        }
        out
    }

    /// The categories a page falls in (without the finding-driven ones).
    pub fn classify(&self, p: &PageSignals<'_>) -> Vec<Category> {
        let window = crate::text::truncate_chars(p.text, TEXT_WINDOW);
        let file = p.file_name.map(str::to_ascii_lowercase);
        // Distinct text keywords per category, at most 3 counted.
        let mut seen: Vec<Vec<usize>> = vec![Vec::new(); self.cats.len()];
        for (_, _, p) in self.text_keywords(window.as_bytes()) {
            if let Some(&c) = self.text_owner.get(p)
                && let Some(v) = seen.get_mut(c)
                && v.len() < 3
                && !v.contains(&p)
            {
                v.push(p);
            }
        }
        let mut out = Vec::new();
        for (ci, c) in self.cats.iter().enumerate() {
            let mut score = 0u32;
            if let Some(t) = p.title
                && c.title.is_match(t)
            {
                score += 2;
            }
            if let Some(f) = &file {
                if c.title.is_match(f) {
                    score += 2;
                }
                if c.attachments.iter().any(|a| f.ends_with(a.as_str())) {
                    score += 2;
                }
            }
            if p.macros
                .iter()
                .any(|m| c.macros.contains(&m.to_ascii_lowercase()))
            {
                score += 2;
            }
            score += seen
                .get(ci)
                .map(|v| u32::try_from(v.len()).unwrap_or(3))
                .unwrap_or(0);
            if score >= THRESHOLD {
                out.push(c.category);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keywords_are_leftmost_longest_like_aho_corasick() {
        let c = Classifier::embedded().unwrap();
        let f: ClassifyFile = toml::from_str(EMBEDDED_CLASSIFY).unwrap();
        let words: Vec<String> = f.category.iter().flat_map(|d| d.text.clone()).collect();
        let reference = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&words)
            .unwrap();
        let mut checked = 0;
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/real");
        for e in walkdir::WalkDir::new(root) {
            let e = e.unwrap();
            if !e.file_type().is_file() {
                continue;
            }
            let body = std::fs::read(e.path()).unwrap();
            let want: Vec<(usize, usize, usize)> = reference
                .find_iter(&body)
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
                .collect();
            assert_eq!(c.text_keywords(&body), want);
            checked += want.len();
        }
        assert!(
            checked > 10,
            "only {checked} keyword occurrences in testdata/real"
        );
    }

    #[test]
    fn classifies_by_title_macro_and_text() {
        let c = Classifier::embedded().unwrap();
        let macros = vec!["drawio".to_owned()];
        let cats = c.classify(&PageSignals {
            title: Some("Data centre network topology"),
            text: "VLAN 20 sits behind the firewall",
            macros: &macros,
            file_name: None,
        });
        assert!(cats.contains(&Category::NetworkDiagrams), "{cats:?}");
        let cats = c.classify(&PageSignals {
            title: Some("Lunch menu"),
            text: "Soup and bread",
            macros: &[],
            file_name: None,
        });
        assert!(cats.is_empty(), "{cats:?}");
        let code = vec!["code".to_owned()];
        let cats = c.classify(&PageSignals {
            title: Some("Notes"),
            text: "x",
            macros: &code,
            file_name: None,
        });
        assert_eq!(cats, vec![Category::SourceCode]);
    }
}
