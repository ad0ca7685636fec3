//! Live scanning over the Confluence REST API: Cloud (REST v2, cursor pagination through
//! `_links.next`) and Data Center / Server (REST v1, offset pagination with `start`/`limit`).
//!
//! Spaces → pages and blog posts (current body in storage format) → every earlier version,
//! footer and inline comments, attachments (downloaded and read like export attachments).
//! Credentials come from the environment only (`CONFWATCH_EMAIL` + `CONFWATCH_API_TOKEN` for
//! Cloud, `CONFWATCH_PAT` for Data Center), never from flags. TLS is verified (webpki roots);
//! plain `http://` is refused except to a loopback address. Requests run on a bounded pool;
//! 429 honours `Retry-After`, 5xx and transport errors back off exponentially, every request
//! has a timeout. A failing page, comment list or attachment is reported and the scan goes
//! on; only a failed or unauthorised space listing stops it. Links from the server are only
//! followed on the configured origin, so credentials never leave for another host.

use crate::collect::{Collector, IgnoreList, Report};
use crate::error::ScanError;
use crate::input::attach;
use crate::scanner::{BodyFormat, DocResult, Document, ScanOptions, Scanner};
use crate::state::{self, StateStore, StoredSpace};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use confwatch_event::finding::{ContentType, Location};
use rayon::prelude::*;
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which API dialect the site speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Confluence Cloud: `https://<site>.atlassian.net`, REST v2 under `/wiki/api/v2`.
    Cloud,
    /// Data Center / Server: `https://<host>[/<context>]`, REST v1 under `/rest/api`.
    DataCenter,
}

/// Credentials, read from the environment.
#[derive(Clone)]
pub enum Auth {
    Basic { email: String, token: String },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { email, .. } => write!(f, "Basic({email}, <token>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<token>)"),
        }
    }
}

/// Environment variable names.
pub const ENV_EMAIL: &str = "CONFWATCH_EMAIL";
pub const ENV_API_TOKEN: &str = "CONFWATCH_API_TOKEN";
pub const ENV_PAT: &str = "CONFWATCH_PAT";

impl Auth {
    /// Reads `CONFWATCH_EMAIL` + `CONFWATCH_API_TOKEN` (Cloud) or `CONFWATCH_PAT` (DC).
    pub fn from_env(flavor: Flavor) -> Result<Auth, ScanError> {
        Auth::from_lookup(flavor, |k| std::env::var(k).ok())
    }

    /// Like [`Auth::from_env`] with a custom lookup (tests).
    pub fn from_lookup(
        flavor: Flavor,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Auth, ScanError> {
        let need = |k: &str| {
            get(k)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ScanError::Config(format!("environment variable {k} is not set")))
        };
        match flavor {
            Flavor::Cloud => Ok(Auth::Basic {
                email: need(ENV_EMAIL)?,
                token: need(ENV_API_TOKEN)?,
            }),
            Flavor::DataCenter => Ok(Auth::Bearer(need(ENV_PAT)?)),
        }
    }

    fn header(&self) -> String {
        match self {
            Auth::Basic { email, token } => {
                format!(
                    "Basic {}",
                    base64_encode(format!("{email}:{token}").as_bytes())
                )
            }
            Auth::Bearer(t) => format!("Bearer {t}"),
        }
    }
}

fn base64_encode(d: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(d.len().div_ceil(3) * 4);
    for c in d.chunks(3) {
        let b0 = u32::from(c.first().copied().unwrap_or(0));
        let b1 = u32::from(c.get(1).copied().unwrap_or(0));
        let b2 = u32::from(c.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        for i in 0..4usize {
            if i <= c.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                s.push(A.get(idx).copied().map(char::from).unwrap_or('A'));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// What to scan and how hard to push the server.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// Site URL: `https://acme.atlassian.net` (Cloud) or `https://wiki.acme.com/confluence` (DC).
    pub base_url: String,
    pub flavor: Flavor,
    pub auth: Auth,
    /// Space keys to scan; empty means every space the account can see.
    pub spaces: Vec<String>,
    pub history: bool,
    pub comments: bool,
    pub attachments: bool,
    /// Parallel requests at most.
    pub concurrency: usize,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries per request (429, 5xx, transport errors).
    pub max_retries: u32,
    /// First 5xx backoff; doubled per retry, capped at 30 s.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured; longer waits are capped to this.
    pub max_retry_after: Duration,
    /// Page size requested from listing endpoints.
    pub page_limit: u32,
    /// Only pages last modified at or after this ISO-8601 date or date-time (`2025-01-01`,
    /// `2025-01-01T12:00`, `2025-01-01T12:00:00+01:00`; without a zone it is UTC). Asked of
    /// the server (DC: CQL `lastmodified`; Cloud: newest first, listing stopped at the first
    /// older page) and checked again on each page's own timestamp.
    pub since: Option<String>,
}

impl RestConfig {
    /// Defaults: history, comments and attachments on; 4 parallel requests; 30 s timeout;
    /// 5 retries; 1 s first backoff; at most 120 s `Retry-After`.
    pub fn new(base_url: &str, flavor: Flavor, auth: Auth) -> RestConfig {
        RestConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            flavor,
            auth,
            spaces: Vec::new(),
            history: true,
            comments: true,
            attachments: true,
            concurrency: 4,
            timeout: Duration::from_secs(30),
            max_retries: 5,
            backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(120),
            page_limit: 100,
            since: None,
        }
    }
}

/// Counters and the errors the scan went on after.
#[derive(Debug, Default)]
pub struct RestStats {
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub spaces: u64,
    pub documents: u64,
    pub attachments: u64,
    /// `url: reason` for everything that could not be read.
    pub errors: Vec<String>,
}

/// Parses a `--since` value (see [`RestConfig::since`]).
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, ScanError> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            ScanError::Config(format!(
                "--since {s}: expected a date (2025-01-31) or date-time (2025-01-31T12:00[:00][Z|+01:00])"
            ))
        })
}

/// When a page or blog post was last modified (its current version's timestamp).
fn modified_at(item: &Value) -> Option<DateTime<Utc>> {
    let s = s(item, "/version/createdAt").or_else(|| s(item, "/version/when"))?;
    DateTime::parse_from_rfc3339(&s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// `"…"` for CQL, with `"` and `\` escaped.
fn cql_quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[derive(Debug)]
enum FetchError {
    Auth(u16),
    Status(u16),
    Malformed(String),
    Transport(String),
    RateLimited,
    Refused(String),
    /// Downloaded, but its content could not be read (a broken PDF).
    Unreadable(String),
}

impl FetchError {
    /// Errors that may go away on a later run (network, server, rate limit, token): a space
    /// that saw one is not recorded as complete.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Transport(_) | FetchError::RateLimited | FetchError::Auth(_) => true,
            FetchError::Status(s) => *s >= 500,
            FetchError::Malformed(_) | FetchError::Refused(_) | FetchError::Unreadable(_) => false,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Auth(s) => write!(f, "HTTP {s} (authentication)"),
            FetchError::Status(s) => write!(f, "HTTP {s}"),
            FetchError::Malformed(m) => write!(f, "malformed JSON: {m}"),
            FetchError::Transport(m) => write!(f, "transport error: {m}"),
            FetchError::RateLimited => f.write_str("still rate limited after retries"),
            FetchError::Refused(m) => write!(f, "refused: {m}"),
            FetchError::Unreadable(m) => write!(f, "attachment: {m}"),
        }
    }
}

/// Largest response body read (bodies and attachments).
const MAX_RESPONSE: u64 = 64 << 20;
/// Listing pages followed per listing at most (a server that loops is stopped).
const MAX_LIST_PAGES: usize = 100_000;

struct Client<'a> {
    agent: ureq::Agent,
    cfg: &'a RestConfig,
    auth: String,
    origin: String,
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    /// Transient failures reported so far (see [`FetchError::is_transient`]).
    transient: AtomicU64,
    errors: Mutex<Vec<String>>,
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() {
        return None;
    }
    Some(format!("{}://{host}", scheme.to_ascii_lowercase()))
}

fn is_loopback(origin: &str) -> bool {
    let hostport = origin.split_once("://").map(|x| x.1).unwrap_or("");
    let host = if hostport.starts_with('[') {
        hostport.split_inclusive(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn retry_after(v: Option<&str>) -> Option<Duration> {
    v.and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

impl<'a> Client<'a> {
    fn new(cfg: &'a RestConfig) -> Result<Client<'a>, ScanError> {
        let origin = origin_of(&cfg.base_url)
            .ok_or_else(|| ScanError::Config(format!("not a URL: {}", cfg.base_url)))?;
        if origin.starts_with("http://") && !is_loopback(&origin) {
            return Err(ScanError::Config(format!(
                "refusing to send credentials over plain HTTP to {origin}; use https://"
            )));
        }
        if !origin.starts_with("http://") && !origin.starts_with("https://") {
            return Err(ScanError::Config(format!(
                "unsupported URL scheme: {origin}"
            )));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            // Redirects could carry the Authorization header elsewhere.
            .max_redirects(0)
            .user_agent(concat!("confwatch/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            auth: cfg.auth.header(),
            cfg,
            origin,
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            transient: AtomicU64::new(0),
            errors: Mutex::new(Vec::new()),
        })
    }

    fn report(&self, url: &str, e: &FetchError) {
        if e.is_transient() {
            self.transient.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut v) = self.errors.lock()
            && v.len() < 10_000
        {
            v.push(format!("{url}: {e}"));
        }
    }

    /// Resolves a server-given link; only links on our origin are followed.
    fn resolve(&self, link: &str, relative_to_base: bool) -> Result<String, FetchError> {
        if link.starts_with("http://") || link.starts_with("https://") {
            return match origin_of(link) {
                Some(o) if o == self.origin => Ok(link.to_owned()),
                _ => Err(FetchError::Refused(format!("link to another host: {link}"))),
            };
        }
        let path = if link.starts_with('/') {
            link.to_owned()
        } else {
            format!("/{link}")
        };
        Ok(if relative_to_base {
            format!("{}{path}", self.cfg.base_url)
        } else {
            format!("{}{path}", self.origin)
        })
    }

    fn get_bytes(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 0u32;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let res = self
                .agent
                .get(url)
                .header("Authorization", &self.auth)
                .header("Accept", "application/json")
                .call();
            let wait = match res {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    match status {
                        200..=299 => {
                            return resp
                                .body_mut()
                                .with_config()
                                .limit(MAX_RESPONSE)
                                .read_to_vec()
                                .map_err(|e| FetchError::Transport(e.to_string()));
                        }
                        401 | 403 => return Err(FetchError::Auth(status)),
                        429 => {
                            self.rate_limited.fetch_add(1, Ordering::Relaxed);
                            if attempt >= self.cfg.max_retries {
                                return Err(FetchError::RateLimited);
                            }
                            let h = resp
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok());
                            retry_after(h)
                                .unwrap_or(self.cfg.backoff)
                                .min(self.cfg.max_retry_after)
                        }
                        500..=599 => {
                            if attempt >= self.cfg.max_retries {
                                return Err(FetchError::Status(status));
                            }
                            self.backoff(attempt)
                        }
                        _ => return Err(FetchError::Status(status)),
                    }
                }
                Err(e) => {
                    if attempt >= self.cfg.max_retries {
                        return Err(FetchError::Transport(e.to_string()));
                    }
                    self.backoff(attempt)
                }
            };
            attempt += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(wait);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.cfg
            .backoff
            .checked_mul(factor)
            .unwrap_or(Duration::from_secs(30))
            .min(Duration::from_secs(30))
    }

    fn get_json(&self, url: &str) -> Result<Value, FetchError> {
        let b = self.get_bytes(url)?;
        serde_json::from_slice(&b).map_err(|e| FetchError::Malformed(e.to_string()))
    }

    /// Follows a listing's pagination, returning every `results` item. Errors after the
    /// first page end the listing and are reported; an auth error on the first page is
    /// returned. With `stop`, the first item it matches ends the listing (newest-first
    /// listings stop at the first page older than `--since`).
    fn list(
        &self,
        first: &str,
        relative_to_base: bool,
        stop: Option<&dyn Fn(&Value) -> bool>,
    ) -> Result<Vec<Value>, FetchError> {
        let mut out = Vec::new();
        let mut url = first.to_owned();
        let mut seen = std::collections::HashSet::new();
        for n in 0..MAX_LIST_PAGES {
            if !seen.insert(url.clone()) {
                self.report(&url, &FetchError::Refused("pagination loops".into()));
                break;
            }
            let v = match self.get_json(&url) {
                Ok(v) => v,
                Err(e) if n == 0 => return Err(e),
                Err(e) => {
                    self.report(&url, &e);
                    break;
                }
            };
            match v.get("results").and_then(Value::as_array) {
                Some(items) => {
                    for it in items {
                        if stop.is_some_and(|f| f(it)) {
                            return Ok(out);
                        }
                        out.push(it.clone());
                    }
                }
                None => {
                    let e = FetchError::Malformed("no `results` array".into());
                    if n == 0 {
                        return Err(e);
                    }
                    self.report(&url, &e);
                    break;
                }
            }
            let next = v
                .pointer("/_links/next")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            match next {
                Some(l) => match self.resolve(l, relative_to_base) {
                    Ok(u) => url = u,
                    Err(e) => {
                        self.report(l, &e);
                        break;
                    }
                },
                None => break,
            }
        }
        Ok(out)
    }

    /// A listing whose failure is reported and treated as empty.
    fn list_or_report(
        &self,
        first: &str,
        relative_to_base: bool,
        stop: Option<&dyn Fn(&Value) -> bool>,
    ) -> Vec<Value> {
        match self.list(first, relative_to_base, stop) {
            Ok(v) => v,
            Err(e) => {
                self.report(first, &e);
                Vec::new()
            }
        }
    }
}

fn s(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn version_of(v: &Value) -> Option<u32> {
    v.pointer("/version/number")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// A space to scan.
#[derive(Debug, Clone)]
struct SpaceRef {
    id: String,
    key: String,
    name: Option<String>,
}

/// One scanned body, ready for the collector.
struct Scanned {
    space: String,
    space_name: Option<String>,
    page_key: String,
    result: DocResult,
}

/// What every document of one page shares.
struct PageCtx<'s> {
    space: &'s SpaceRef,
    page_id: String,
    title: Option<String>,
    link: Option<String>,
}

impl PageCtx<'_> {
    fn location(&self, item: &Value, ct: ContentType, flavor: Flavor) -> Location {
        let author = match flavor {
            Flavor::Cloud => s(item, "/version/authorId"),
            Flavor::DataCenter => {
                s(item, "/version/by/username").or_else(|| s(item, "/version/by/displayName"))
            }
        };
        let modified = s(item, "/version/createdAt").or_else(|| s(item, "/version/when"));
        Location {
            space_key: Some(self.space.key.clone()),
            space_name: self.space.name.clone(),
            page_id: Some(self.page_id.clone()),
            content_type: Some(ct),
            title: self.title.clone(),
            version: version_of(item),
            status: s(item, "/status"),
            author,
            last_modified: modified,
            link: self.link.clone(),
            ..Location::default()
        }
    }
}

fn storage_body(item: &Value) -> Option<&str> {
    item.pointer("/body/storage/value").and_then(Value::as_str)
}

/// The client, worker pool and listing settings of one scan.
struct Crawler<'a> {
    client: Client<'a>,
    pool: rayon::ThreadPool,
    limit: u32,
    rel: bool,
}

impl<'a> Crawler<'a> {
    fn new(cfg: &'a RestConfig) -> Result<Crawler<'a>, ScanError> {
        let client = Client::new(cfg)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.concurrency.clamp(1, 64))
            .build()
            .map_err(|e| ScanError::Config(e.to_string()))?;
        Ok(Crawler {
            client,
            pool,
            limit: cfg.page_limit.clamp(1, 250),
            rel: cfg.flavor == Flavor::DataCenter,
        })
    }

    /// The spaces to scan, in the server's order; an unusable listing is an error.
    fn spaces(&self) -> Result<Vec<SpaceRef>, ScanError> {
        let cfg = self.client.cfg;
        let limit = self.limit;
        let spaces_url = match cfg.flavor {
            Flavor::Cloud => {
                let mut u = format!("{}/wiki/api/v2/spaces?limit={limit}", self.client.origin);
                if !cfg.spaces.is_empty() {
                    let keys: Vec<String> = cfg.spaces.iter().map(|k| enc(k)).collect();
                    u.push_str(&format!("&keys={}", keys.join(",")));
                }
                u
            }
            Flavor::DataCenter => {
                let mut u = format!("{}/rest/api/space?limit={limit}&start=0", cfg.base_url);
                for k in &cfg.spaces {
                    u.push_str(&format!("&spaceKey={}", enc(k)));
                }
                u
            }
        };
        let listed = self
            .client
            .list(&spaces_url, self.rel, None)
            .map_err(|e| match e {
                FetchError::Auth(status) => ScanError::Auth {
                    url: spaces_url.clone(),
                    status,
                },
                other => ScanError::Http {
                    url: spaces_url.clone(),
                    message: other.to_string(),
                },
            })?;
        Ok(listed
            .iter()
            .map(|sp| SpaceRef {
                id: s(sp, "/id").unwrap_or_default(),
                key: s(sp, "/key").unwrap_or_default(),
                name: s(sp, "/name"),
            })
            .filter(|sp| {
                !sp.key.is_empty() && (cfg.spaces.is_empty() || cfg.spaces.contains(&sp.key))
            })
            .collect())
    }

    /// The first listing URL of a space's pages or blog posts, modified since `since` when
    /// given: DC asks CQL for `lastmodified` a day early (CQL dates are in the account's time
    /// zone, which the client does not know) and the exact time is checked per page; Cloud v2
    /// has no date filter, so the listing is sorted newest first and stopped at the first
    /// older page.
    fn listing_url(&self, space: &SpaceRef, kind: &str, since: Option<DateTime<Utc>>) -> String {
        let cfg = self.client.cfg;
        let limit = self.limit;
        match (cfg.flavor, since) {
            (Flavor::Cloud, None) => format!(
                "{}/wiki/api/v2/spaces/{}/{kind}s?body-format=storage&limit={limit}",
                self.client.origin,
                enc(&space.id)
            ),
            (Flavor::Cloud, Some(_)) => format!(
                "{}/wiki/api/v2/spaces/{}/{kind}s?body-format=storage&sort=-modified-date&limit={limit}",
                self.client.origin,
                enc(&space.id)
            ),
            (Flavor::DataCenter, None) => format!(
                "{}/rest/api/content?spaceKey={}&type={kind}&status=current&expand=body.storage,version&limit={limit}&start=0",
                cfg.base_url,
                enc(&space.key)
            ),
            (Flavor::DataCenter, Some(t)) => {
                let day = (t - TimeDelta::days(1)).format("%Y-%m-%d").to_string();
                let cql = format!(
                    "space = {} and type = {kind} and lastmodified >= {}",
                    cql_quote(&space.key),
                    cql_quote(&day)
                );
                format!(
                    "{}/rest/api/content/search?cql={}&expand=body.storage,version&limit={limit}&start=0",
                    cfg.base_url,
                    enc(&cql)
                )
            }
        }
    }

    /// Scans one space (pages and blog posts modified since `since`, or all) into
    /// `collector`. Returns whether it completed: no transient failure (network, 5xx, rate
    /// limit, token) while crawling it.
    fn crawl_space(
        &self,
        scanner: &Scanner,
        space: &SpaceRef,
        since: Option<DateTime<Utc>>,
        collector: &mut Collector,
        stats: &mut RestStats,
    ) -> bool {
        let client = &self.client;
        let before = client.transient.load(Ordering::Relaxed);
        stats.spaces += 1;
        let older = |it: &Value| match (since, modified_at(it)) {
            (Some(t), Some(m)) => m < t,
            _ => false,
        };
        for kind in ["page", "blogpost"] {
            let url = self.listing_url(space, kind, since);
            // Only Cloud's newest-first listing can stop early; DC's CQL listing has no order.
            let stop: Option<&dyn Fn(&Value) -> bool> =
                if since.is_some() && client.cfg.flavor == Flavor::Cloud {
                    Some(&older)
                } else {
                    None
                };
            let items: Vec<Value> = client
                .list_or_report(&url, self.rel, stop)
                .into_iter()
                .filter(|it| !older(it))
                .collect();
            // Pages in parallel on the bounded pool; results added in listing order.
            for chunk in items.chunks(64) {
                let scanned: Vec<Vec<Scanned>> = self.pool.install(|| {
                    chunk
                        .par_iter()
                        .map(|it| scan_item(client, scanner, space, kind, it))
                        .collect()
                });
                for docs in scanned {
                    for d in docs {
                        stats.documents += 1;
                        collector.add(
                            &scanner.rules,
                            &d.space,
                            d.space_name.as_deref(),
                            &d.page_key,
                            d.result,
                        );
                    }
                }
            }
        }
        client.transient.load(Ordering::Relaxed) == before
    }

    fn finish(self, stats: &mut RestStats) {
        stats.requests = self.client.requests.load(Ordering::Relaxed);
        stats.retries = self.client.retries.load(Ordering::Relaxed);
        stats.rate_limited = self.client.rate_limited.load(Ordering::Relaxed);
        stats.errors = self.client.errors.into_inner().unwrap_or_default();
    }
}

/// Scans everything the account can see (or `cfg.spaces`). Returns the statistics and the
/// errors the scan went on after; an unusable space listing (including 401/403) is an error.
pub fn scan_rest(
    scanner: &Scanner,
    cfg: &RestConfig,
    collector: &mut Collector,
) -> Result<RestStats, ScanError> {
    let since = cfg.since.as_deref().map(parse_since).transpose()?;
    let crawler = Crawler::new(cfg)?;
    let spaces = crawler.spaces()?;
    let mut stats = RestStats::default();
    for space in &spaces {
        crawler.crawl_space(scanner, space, since, collector, &mut stats);
    }
    crawler.finish(&mut stats);
    Ok(stats)
}

/// How a scan with a state store uses it.
pub struct StateRun<'s> {
    pub store: &'s mut StateStore,
    /// Scan each space only for content modified since its last complete scan (watermark,
    /// less [`StateRun::overlap`]); a space never scanned completely is scanned in full.
    /// An explicit [`RestConfig::since`] wins.
    pub incremental: bool,
    /// The run's start time (what a completion records as the watermark).
    pub now: DateTime<Utc>,
    /// Subtracted from a watermark, for clock skew between this host and the server.
    pub overlap: TimeDelta,
}

impl<'s> StateRun<'s> {
    /// Starts now, 10 minutes' overlap.
    pub fn new(store: &'s mut StateStore, incremental: bool) -> StateRun<'s> {
        StateRun {
            store,
            incremental,
            now: Utc::now(),
            overlap: TimeDelta::minutes(10),
        }
    }
}

/// What a scan with a state store did.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub run_id: i64,
    /// An interrupted run was continued.
    pub resumed: bool,
    /// When the run first started (its watermark if it completes).
    pub started_at: String,
    /// Spaces completed earlier in this run and not scanned again (findings from the store).
    pub skipped: Vec<String>,
    /// Spaces scanned now and completed.
    pub completed: Vec<String>,
    /// Spaces that saw a transient failure; the next run scans them again.
    pub incomplete: Vec<String>,
    /// Every space completed: the watermarks moved.
    pub finished: bool,
    pub watermarks_advanced: u64,
}

fn state_err(e: state::StateError) -> ScanError {
    ScanError::Config(e.to_string())
}

/// Like [`scan_rest`], remembering progress in a state store: spaces an interrupted run of
/// the same site and scope completed are skipped (their findings come from the store), the
/// others are scanned whole, and only when every space completed do the watermarks move to
/// the run's start. Progress lines (resumed, skipped, incremental window) go to `progress`
/// as they happen, so they are seen even if this run is interrupted too.
pub fn scan_rest_with_state(
    scanner: &Scanner,
    cfg: &RestConfig,
    options: &ScanOptions,
    ignore: &IgnoreList,
    run: StateRun<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<(Report, RestStats, RunSummary), ScanError> {
    let explicit = cfg.since.as_deref().map(parse_since).transpose()?;
    let site = cfg.base_url.clone();
    let mut keys = cfg.spaces.clone();
    keys.sort();
    keys.dedup();
    let mode = match (&explicit, run.incremental) {
        (Some(t), _) => format!("since={}", state::fmt_time(*t)),
        (None, true) => "incremental".to_owned(),
        (None, false) => "full".to_owned(),
    };
    // A run resumes only the same question: same dialect, spaces, content kinds and window.
    let scope = format!(
        "{:?};spaces={};history={};comments={};attachments={};{mode}",
        cfg.flavor,
        keys.join(","),
        cfg.history,
        cfg.comments,
        cfg.attachments
    );
    let handle = run
        .store
        .begin_run(&site, &scope, run.now)
        .map_err(state_err)?;
    let mut summary = RunSummary {
        run_id: handle.id,
        resumed: handle.resumed,
        started_at: state::fmt_time(handle.started_at),
        ..RunSummary::default()
    };
    if handle.abandoned > 0 {
        progress(&format!(
            "state: {} interrupted run(s) of {site} with other options abandoned",
            handle.abandoned
        ));
    }
    if handle.resumed {
        progress(&format!(
            "state: resuming the interrupted run started {} ({} space(s) already complete)",
            summary.started_at,
            handle.done_spaces.len()
        ));
    }
    let crawler = Crawler::new(cfg)?;
    let spaces = crawler.spaces()?;
    let mut stats = RestStats::default();
    let mut parts: Vec<Report> = Vec::new();
    for space in &spaces {
        if handle.done_spaces.contains(&space.key) {
            let stored = run
                .store
                .space_findings(handle.id, &space.key)
                .map_err(state_err)?
                .unwrap_or_default();
            progress(&format!(
                "state: space {} completed earlier in this run, skipped ({} finding(s) from the state store)",
                space.key,
                stored.findings.len()
            ));
            parts.push(stored.into_report());
            summary.skipped.push(space.key.clone());
            continue;
        }
        let since = match (explicit, run.incremental) {
            (Some(t), _) => Some(t),
            (None, true) => match run.store.watermark(&site, &space.key).map_err(state_err)? {
                Some(w) => {
                    let from = w - run.overlap;
                    progress(&format!(
                        "state: space {}: incremental, content modified since {} (last complete scan {}, less {} min overlap)",
                        space.key,
                        state::fmt_time(from),
                        state::fmt_time(w),
                        run.overlap.num_minutes()
                    ));
                    Some(from)
                }
                None => {
                    progress(&format!(
                        "state: space {}: no earlier complete scan, scanning all of it",
                        space.key
                    ));
                    None
                }
            },
            (None, false) => None,
        };
        let mut collector = Collector::new(options.clone(), ignore.clone());
        let complete = crawler.crawl_space(scanner, space, since, &mut collector, &mut stats);
        let report = collector.finish();
        if complete {
            run.store
                .space_done(
                    handle.id,
                    &space.key,
                    since,
                    &StoredSpace::from_report(&report),
                )
                .map_err(state_err)?;
            progress(&format!(
                "state: space {} complete ({} finding(s)), recorded",
                space.key,
                report.findings.len()
            ));
            summary.completed.push(space.key.clone());
        } else {
            progress(&format!(
                "state: space {} did not complete (network, server or token errors); the next run with this --state scans it again",
                space.key
            ));
            summary.incomplete.push(space.key.clone());
        }
        parts.push(report);
    }
    crawler.finish(&mut stats);
    if summary.incomplete.is_empty() {
        summary.watermarks_advanced = run
            .store
            .finish_run(&handle, &site, Utc::now().max(run.now))
            .map_err(state_err)?;
        summary.finished = true;
    }
    Ok((
        state::merge_reports(parts, options.max_locations),
        stats,
        summary,
    ))
}

fn scan_doc(
    scanner: &Scanner,
    ctx: &PageCtx<'_>,
    body: &str,
    format: BodyFormat,
    loc: Location,
    file_name: Option<&str>,
) -> Scanned {
    let result = scanner.scan(&Document {
        body,
        format,
        meta: loc,
        file_name,
    });
    Scanned {
        space: ctx.space.key.clone(),
        space_name: ctx.space.name.clone(),
        page_key: ctx.page_id.clone(),
        result,
    }
}

/// Scans one page or blog post: current body, older versions, comments, attachments.
fn scan_item(
    client: &Client<'_>,
    scanner: &Scanner,
    space: &SpaceRef,
    kind: &str,
    item: &Value,
) -> Vec<Scanned> {
    let cfg = client.cfg;
    let flavor = cfg.flavor;
    let rel = flavor == Flavor::DataCenter;
    let Some(id) = s(item, "/id") else {
        return Vec::new();
    };
    let webui = s(item, "/_links/webui").map(|w| match flavor {
        Flavor::Cloud => format!("{}/wiki{w}", client.origin),
        Flavor::DataCenter => format!("{}{w}", cfg.base_url),
    });
    let ctx = PageCtx {
        space,
        page_id: id.clone(),
        title: s(item, "/title"),
        link: webui,
    };
    let ct = if kind == "blogpost" {
        ContentType::BlogPost
    } else {
        ContentType::Page
    };
    let mut out = Vec::new();
    match storage_body(item) {
        Some(b) => out.push(scan_doc(
            scanner,
            &ctx,
            b,
            BodyFormat::Storage,
            ctx.location(item, ct, flavor),
            None,
        )),
        None => client.report(
            &format!("{kind} {id}"),
            &FetchError::Malformed("no body.storage.value".into()),
        ),
    }
    let current = version_of(item).unwrap_or(1);
    if cfg.history {
        for n in 1..current {
            let url = match flavor {
                Flavor::Cloud => format!(
                    "{}/wiki/api/v2/{kind}s/{}?version={n}&body-format=storage",
                    client.origin,
                    enc(&id)
                ),
                Flavor::DataCenter => format!(
                    "{}/rest/api/content/{}?status=historical&version={n}&expand=body.storage,version",
                    cfg.base_url,
                    enc(&id)
                ),
            };
            match client.get_json(&url) {
                Ok(v) => match storage_body(&v) {
                    Some(b) => {
                        let mut loc = ctx.location(&v, ct, flavor);
                        if loc.version.is_none() {
                            loc.version = Some(n);
                        }
                        loc.status.get_or_insert_with(|| "historical".to_owned());
                        out.push(scan_doc(scanner, &ctx, b, BodyFormat::Storage, loc, None));
                    }
                    None => {
                        client.report(&url, &FetchError::Malformed("no body.storage.value".into()))
                    }
                },
                Err(e) => client.report(&url, &e),
            }
        }
    }
    if cfg.comments {
        let urls: Vec<String> = match flavor {
            Flavor::Cloud => ["footer-comments", "inline-comments"]
                .iter()
                .map(|c| {
                    format!(
                        "{}/wiki/api/v2/{kind}s/{}/{c}?body-format=storage&limit=100",
                        client.origin,
                        enc(&id)
                    )
                })
                .collect(),
            Flavor::DataCenter => vec![format!(
                "{}/rest/api/content/{}/child/comment?expand=body.storage,version&depth=all&limit=100&start=0",
                cfg.base_url,
                enc(&id)
            )],
        };
        for u in urls {
            for c in client.list_or_report(&u, rel, None) {
                if let Some(b) = storage_body(&c) {
                    let mut loc = ctx.location(&c, ContentType::Comment, flavor);
                    loc.title = Some(format!(
                        "Comment on {}",
                        ctx.title.clone().unwrap_or_default()
                    ));
                    out.push(scan_doc(scanner, &ctx, b, BodyFormat::Storage, loc, None));
                }
            }
        }
    }
    if cfg.attachments {
        let u = match flavor {
            Flavor::Cloud => format!(
                "{}/wiki/api/v2/{kind}s/{}/attachments?limit=100",
                client.origin,
                enc(&id)
            ),
            Flavor::DataCenter => format!(
                "{}/rest/api/content/{}/child/attachment?expand=version&limit=100&start=0",
                cfg.base_url,
                enc(&id)
            ),
        };
        for a in client.list_or_report(&u, rel, None) {
            let title = s(&a, "/title").unwrap_or_else(|| "attachment".to_owned());
            let link = match flavor {
                Flavor::Cloud => s(&a, "/downloadLink")
                    .or_else(|| s(&a, "/_links/download"))
                    .map(|l| format!("/wiki{l}")),
                Flavor::DataCenter => s(&a, "/_links/download"),
            };
            let Some(link) = link else {
                client.report(
                    &title,
                    &FetchError::Malformed("attachment without download link".into()),
                );
                continue;
            };
            let url = match client.resolve(&link, rel) {
                Ok(u) => u,
                Err(e) => {
                    client.report(&link, &e);
                    continue;
                }
            };
            match client.get_bytes(&url) {
                Ok(data) => {
                    let parts = match attach::extract_checked(&title, &data) {
                        Ok(p) => p,
                        Err(e) => {
                            client.report(&url, &FetchError::Unreadable(e.to_string()));
                            Vec::new()
                        }
                    };
                    for part in parts {
                        let mut loc = ctx.location(&a, ContentType::Attachment, flavor);
                        loc.title = ctx.title.clone();
                        loc.attachment = Some(match &part.member {
                            Some(m) => format!("{title}!{m}"),
                            None => title.clone(),
                        });
                        out.push(scan_doc(
                            scanner,
                            &ctx,
                            &part.text,
                            part.format,
                            loc,
                            Some(&title),
                        ));
                    }
                }
                Err(e) => client.report(&url, &e),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_from_environment_lookup() {
        let env = |k: &str| match k {
            ENV_EMAIL => Some("alice@example.com".to_owned()),
            ENV_API_TOKEN => Some("tok".to_owned()),
            _ => None,
        };
        let a = Auth::from_lookup(Flavor::Cloud, env).unwrap();
        assert_eq!(a.header(), "Basic YWxpY2VAZXhhbXBsZS5jb206dG9r");
        assert!(!format!("{a:?}").contains("tok>") || format!("{a:?}").contains("<token>"));
        assert!(Auth::from_lookup(Flavor::DataCenter, env).is_err());
    }

    #[test]
    fn plain_http_only_to_loopback_and_links_stay_on_origin() {
        let auth = Auth::Bearer("x".into());
        let cfg = RestConfig::new("http://wiki.example.org", Flavor::DataCenter, auth.clone());
        assert!(matches!(Client::new(&cfg), Err(ScanError::Config(_))));
        let cfg = RestConfig::new("http://127.0.0.1:8090/confluence", Flavor::DataCenter, auth);
        let c = Client::new(&cfg).unwrap();
        assert_eq!(
            c.resolve("/rest/api/space?start=25", true).unwrap(),
            "http://127.0.0.1:8090/confluence/rest/api/space?start=25"
        );
        assert!(c.resolve("https://evil.example/steal", true).is_err());
        assert_eq!(retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }
}
