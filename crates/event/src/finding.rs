//! The finding model: what content scanning (and later permission audit) reports. (Owned by the
//! scan work.)
//!
//! A [`Finding`] is one distinct secret or piece of sensitive material, identified by its
//! fingerprint; every place it was seen (file line, page version, attachment) is one
//! [`Location`]. A secret copied into 12 versions of a page is one finding with 12 locations.
//! [`SpaceProfile`] summarises what a space holds so that `hunt` can raise the severity of
//! access to sensitive spaces. Field names serialise in `snake_case`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The stable id used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses an id as written by [`Severity::as_str`] (case-insensitive).
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// A numeric weight used to rank spaces (critical counts most).
    pub fn weight(self) -> u64 {
        match self {
            Severity::Info => 1,
            Severity::Low => 2,
            Severity::Medium => 5,
            Severity::High => 20,
            Severity::Critical => 50,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Is the finding a usable secret, or material an attacker mines for reconnaissance?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A credential, key or token.
    Secret,
    /// Sensitive but not a credential: network share links, private addresses, internal hosts.
    Sensitive,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Secret => "secret",
            FindingKind::Sensitive => "sensitive",
        }
    }
}

/// The kinds of material the ATT&CK page for T1213 lists as mined from information
/// repositories. Pages are classified into these; findings carry one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Policies and procedures.
    PoliciesProcedures,
    /// Physical / logical network diagrams.
    NetworkDiagrams,
    /// System architecture diagrams.
    ArchitectureDiagrams,
    /// Technical system documentation (runbooks, install guides, configuration).
    TechnicalDocumentation,
    /// Testing / development credentials (and any credential).
    Credentials,
    /// Work and project schedules.
    Schedules,
    /// Source code snippets.
    SourceCode,
    /// Links to network shares and internal resources (UNC, SMB, file://, private IPs).
    NetworkShares,
}

impl Category {
    /// The stable id used in JSON, rule files and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PoliciesProcedures => "policies_procedures",
            Category::NetworkDiagrams => "network_diagrams",
            Category::ArchitectureDiagrams => "architecture_diagrams",
            Category::TechnicalDocumentation => "technical_documentation",
            Category::Credentials => "credentials",
            Category::Schedules => "schedules",
            Category::SourceCode => "source_code",
            Category::NetworkShares => "network_shares",
        }
    }

    /// Parses an id as written by [`Category::as_str`].
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// All categories, in documentation order.
    pub const ALL: [Category; 8] = [
        Category::PoliciesProcedures,
        Category::NetworkDiagrams,
        Category::ArchitectureDiagrams,
        Category::TechnicalDocumentation,
        Category::Credentials,
        Category::Schedules,
        Category::SourceCode,
        Category::NetworkShares,
    ];
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of Confluence object (or plain file) a location is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Page,
    BlogPost,
    Comment,
    Attachment,
    /// A file or stdin given on the command line, not from an export.
    File,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Page => "page",
            ContentType::BlogPost => "blog_post",
            ContentType::Comment => "comment",
            ContentType::Attachment => "attachment",
            ContentType::File => "file",
        }
    }
}

/// One place a finding was seen. File inputs fill `path`, `line` and `column` (1-based, in
/// the original file); exports and REST fill the page fields and `offset` (byte offset in the
/// page body as stored). `text_line`/`text_column` are in the text extracted from the body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_name: Option<String>,
    /// Page, blog post or comment id (for attachments: the attachment id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// `current`, `historical`, `draft`, `deleted` (as the export says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// For attachments: the file name, and inside archives the member (`word/document.xml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// Byte offset of the match in the body (or file) as stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub text_line: u64,
    pub text_column: u64,
    /// Where in the page structure: `macro:code`, `table:r3c2[Password]`, `attr:href`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// One distinct secret or sensitive item, with every place it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable hex id of the secret value (not of its location): the dedupe and ignore key.
    pub fingerprint: String,
    pub rule_id: String,
    pub rule_name: String,
    pub kind: FindingKind,
    pub category: Category,
    pub severity: Severity,
    /// True when a checksum or structural check (CRC32, Luhn, JWT header) confirmed the format.
    pub validated: bool,
    /// The matched line with the secret redacted (unless `--show-secrets`).
    pub snippet: String,
    /// The secret itself; only filled with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// How many times it was seen (can exceed `locations.len()`, which is capped).
    pub occurrences: u64,
    pub locations: Vec<Location>,
}

/// What a space holds: how many pages fall in each category, how many findings, how severe.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpaceProfile {
    pub space_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_name: Option<String>,
    /// Distinct pages / files scanned in the space (versions counted once).
    pub pages: u64,
    pub secrets: u64,
    pub sensitive: u64,
    pub max_severity: Severity,
    /// Pages per category.
    pub categories: BTreeMap<Category, u64>,
    /// Exposure score used to rank spaces: severity-weighted findings plus categories.
    pub score: u64,
    /// The overall sensitivity `hunt` should apply to access to this space.
    pub sensitivity: Severity,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("nope"), None);
    }

    #[test]
    fn category_ids_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        for c in Category::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }
}
