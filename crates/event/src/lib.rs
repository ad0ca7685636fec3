//! # confwatch-event: the one event model
//!
//! Every Confluence log format that `confwatch-ingest` reads is normalised once into
//! [`Event`]. Detection, behaviour analytics and every output read only this type: no
//! component after ingestion looks at a raw line or a URL again.
//!
//! What the model owns:
//! - [`Event`]: one thing that happened (a request, a login, an audit record), with its time
//!   in UTC *and* the offset the source wrote, the actor, the client, the classified
//!   [`Action`], the object (space key, page id, title, attachment) and where it was read
//!   ([`Origin`]: file and line).
//! - [`Action`]: the closed vocabulary of what a request or record means for data-mining
//!   detection (page view, attachment download, space export, search, login, …).
//! - [`SourceFormat`]: which parser produced an event.
//! - [`attack`]: the ATT&CK technique ids confwatch reports.
//!
//! Field names serialise in `snake_case`; `docs/formats.md` documents them.

mod action;
pub mod alert;
pub mod attack;
pub mod finding;

pub use action::{Action, ActionCategory};

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

/// Which parser produced an event. Serialised as the stable ids in `docs/formats.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// Tomcat `AccessLogValve` access log (`conf_access_log.*.log`, `confluence_access.*.log`).
    TomcatAccess,
    /// `AccessLogFilter` lines inside `atlassian-confluence.log`.
    AccessLogFilter,
    /// `DefaultLoginManager` lines of `atlassian-confluence-security.log`.
    SecurityLog,
    /// Data Center audit log file (`*.audit.log`, JSON lines).
    DcAuditFile,
    /// Data Center audit REST (`/rest/auditing/1.0/events`).
    DcAuditRest,
    /// Confluence Cloud audit REST (`/wiki/rest/api/audit`).
    CloudAudit,
    /// Atlassian organization audit log (`/admin/v1/orgs/{id}/events`).
    OrgAudit,
    /// Atlassian Guard Detect (formerly Beacon) alerts, as exported to a SIEM.
    GuardAlert,
}

impl SourceFormat {
    /// The stable id used on the command line, in JSON and in the docs.
    pub fn id(self) -> &'static str {
        match self {
            SourceFormat::TomcatAccess => "tomcat-access",
            SourceFormat::AccessLogFilter => "access-log-filter",
            SourceFormat::SecurityLog => "security-log",
            SourceFormat::DcAuditFile => "dc-audit-file",
            SourceFormat::DcAuditRest => "dc-audit-rest",
            SourceFormat::CloudAudit => "cloud-audit",
            SourceFormat::OrgAudit => "org-audit",
            SourceFormat::GuardAlert => "guard-alert",
        }
    }

    /// All formats, in documentation order.
    pub const ALL: [SourceFormat; 8] = [
        SourceFormat::TomcatAccess,
        SourceFormat::AccessLogFilter,
        SourceFormat::SecurityLog,
        SourceFormat::DcAuditFile,
        SourceFormat::DcAuditRest,
        SourceFormat::CloudAudit,
        SourceFormat::OrgAudit,
        SourceFormat::GuardAlert,
    ];
}

impl std::fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Did the action succeed? Mirrors ECS `event.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    #[default]
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }

    /// The usual reading of an HTTP status for a content request.
    pub fn from_http_status(status: u16) -> Outcome {
        match status {
            100..=399 => Outcome::Success,
            400..=599 => Outcome::Failure,
            _ => Outcome::Unknown,
        }
    }
}

/// Where an event was read: the file as given (or found under a folder) and the 1-based line
/// (for JSON documents, the record's index in the document, 1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The Confluence object an event touches, as far as the source tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<u64>,
    /// Page, blog post or space title (from `/display/KEY/Title` URLs or audit records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Attachment file name for downloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// Content version, where the URL or record names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

impl ObjectRef {
    pub fn is_empty(&self) -> bool {
        self.space_key.is_none()
            && self.page_id.is_none()
            && self.title.is_none()
            && self.attachment.is_none()
            && self.version.is_none()
    }
}

/// What a REST read asks for: body expansion makes a request return whole pages, and
/// `limit` says how many per request, so rules can count pages, not requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestRead {
    /// `expand=body.storage|body.view|body.export_view|…` (v1) or `body-format=` (v2).
    pub body_expanded: bool,
    /// The page size requested (`limit=`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `start=` offset (v1) or presence of a `cursor=` (v2, reported as 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// API generation: 1 for `/rest/api`, 2 for `/api/v2`.
    pub api_version: u8,
}

impl RestRead {
    /// How many content items this request may have returned: `limit` (or the API's
    /// default of 25) for list/search calls, 1 for a single-item read.
    pub fn max_items(&self, is_list: bool) -> u32 {
        if is_list { self.limit.unwrap_or(25) } else { 1 }
    }
}

/// An object named by an audit record (`affectedObjects`, `affectedObject`, `context`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One changed value of an audit record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedValue {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// What audit formats carry beyond the common fields. Rules key on `action_key`
/// (the stable `actionI18nKey`, Cloud `summary`, or org `action`), never on translated text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDetail {
    /// Stable key: DC `actionI18nKey`, org-audit `action`, Cloud `summary` (Cloud has no key).
    pub action_key: String,
    /// Display text as written (may be localised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// DC coverage area (`PERMISSIONS`, `USER_MANAGEMENT`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// DC coverage level (`BASE`, `ADVANCED`, `FULL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// DC `method` (`Browser`, `System`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Base URL of the Confluence site that wrote the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Free-text description or message content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub objects: Vec<AuditObject>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changes: Vec<ChangedValue>,
    /// `extraAttributes` as name → value.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attributes: Vec<(String, String)>,
    /// Cloud `sysAdmin`/`superAdmin` flags, or similar privilege markers.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub actor_is_admin: bool,
}

/// One normalised thing that happened in or to Confluence.
///
/// Strings that repeat heavily across lines (user, user agent, thread) are `Arc<str>` so a
/// parser can intern them; everything else is owned per event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened: the instant, with the UTC offset the source wrote it in.
    pub timestamp: DateTime<FixedOffset>,
    pub format: SourceFormat,
    pub action: Action,
    pub outcome: Outcome,
    /// Login name (`X-AUSERNAME`, audit `author.name`, e-mail for org events).
    /// `None` for anonymous requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Arc<str>>,
    /// Stable account id (DC user key, Cloud accountId) where the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Arc<str>>,
    /// The client address (first `X-Forwarded-For` entry when the log has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// The client as written when it is a host name rather than an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_host: Option<Arc<str>>,
    /// The address that connected to Tomcat when it differs from `client_ip` (a proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_ip: Option<IpAddr>,
    /// The raw `X-Forwarded-For` chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarded_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Arc<str>>,
    /// Request target (path and query) as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Processing time in milliseconds (converted from µs where `%D` is microseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referer: Option<String>,
    /// Tomcat worker thread (`%I`) or log4j thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Arc<str>>,
    /// Session id, where the pattern logs one (`%S`, `%{X-ASESSIONID}o`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "ObjectRef::is_empty", default)]
    pub object: ObjectRef,
    /// Decoded search text (site search `queryString`, CQL `text ~ "…"`/whole CQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest: Option<RestRead>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<Box<AuditDetail>>,
    pub origin: Origin,
}

impl Event {
    /// A blank event of `format` at `timestamp`, read from `origin`; parsers fill the rest.
    pub fn new(timestamp: DateTime<FixedOffset>, format: SourceFormat, origin: Origin) -> Event {
        Event {
            timestamp,
            format,
            action: Action::Other,
            outcome: Outcome::Unknown,
            user: None,
            user_id: None,
            client_ip: None,
            client_host: None,
            peer_ip: None,
            forwarded_for: None,
            user_agent: None,
            method: None,
            url: None,
            status: None,
            bytes: None,
            duration_ms: None,
            referer: None,
            thread: None,
            session_id: None,
            object: ObjectRef::default(),
            search_query: None,
            rest: None,
            audit: None,
            origin,
        }
    }

    /// The instant in UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        self.timestamp.with_timezone(&Utc)
    }

    /// Milliseconds since the Unix epoch (the ordering key for merging and windows).
    pub fn epoch_ms(&self) -> i64 {
        self.timestamp.timestamp_millis()
    }

    /// The client as text: the IP address, else the host name.
    pub fn client(&self) -> Option<String> {
        match (&self.client_ip, &self.client_host) {
            (Some(ip), _) => Some(ip.to_string()),
            (None, Some(h)) => Some(h.to_string()),
            _ => None,
        }
    }

    /// True for requests that are not user intent: static resources and background polling.
    pub fn is_noise(&self) -> bool {
        self.action.is_noise()
    }

    /// True when the request was made without a logged-in user.
    pub fn is_anonymous(&self) -> bool {
        self.user.is_none()
    }
}
