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

use crate::collect::Collector;
use crate::error::ScanError;
use crate::input::attach;
use crate::scanner::{BodyFormat, DocResult, Document, Scanner};
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
    /// Only pages last modified at or after this ISO-8601 date/time prefix (e.g. `2025-01-01`).
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

#[derive(Debug)]
enum FetchError {
    Auth(u16),
    Status(u16),
    Malformed(String),
    Transport(String),
    RateLimited,
    Refused(String),
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
            errors: Mutex::new(Vec::new()),
        })
    }

    fn report(&self, url: &str, e: &FetchError) {
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
    /// returned.
    fn list(&self, first: &str, relative_to_base: bool) -> Result<Vec<Value>, FetchError> {
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
                Some(items) => out.extend(items.iter().cloned()),
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
    fn list_or_report(&self, first: &str, relative_to_base: bool) -> Vec<Value> {
        match self.list(first, relative_to_base) {
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

/// Scans everything the account can see (or `cfg.spaces`). Returns the statistics and the
/// errors the scan went on after; an unusable space listing (including 401/403) is an error.
pub fn scan_rest(
    scanner: &Scanner,
    cfg: &RestConfig,
    collector: &mut Collector,
) -> Result<RestStats, ScanError> {
    let client = Client::new(cfg)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.concurrency.clamp(1, 64))
        .build()
        .map_err(|e| ScanError::Config(e.to_string()))?;
    let limit = cfg.page_limit.clamp(1, 250);
    let spaces_url = match cfg.flavor {
        Flavor::Cloud => {
            let mut u = format!("{}/wiki/api/v2/spaces?limit={limit}", client.origin);
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
    let relative_to_base = cfg.flavor == Flavor::DataCenter;
    let spaces = client
        .list(&spaces_url, relative_to_base)
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
    let mut stats = RestStats::default();
    for sp in spaces {
        let space = SpaceRef {
            id: s(&sp, "/id").unwrap_or_default(),
            key: s(&sp, "/key").unwrap_or_default(),
            name: s(&sp, "/name"),
        };
        if space.key.is_empty() || (!cfg.spaces.is_empty() && !cfg.spaces.contains(&space.key)) {
            continue;
        }
        stats.spaces += 1;
        for kind in ["page", "blogpost"] {
            let url = match cfg.flavor {
                Flavor::Cloud => format!(
                    "{}/wiki/api/v2/spaces/{}/{kind}s?body-format=storage&limit={limit}",
                    client.origin,
                    enc(&space.id)
                ),
                Flavor::DataCenter => format!(
                    "{}/rest/api/content?spaceKey={}&type={kind}&status=current&expand=body.storage,version&limit={limit}&start=0",
                    cfg.base_url,
                    enc(&space.key)
                ),
            };
            let items = client.list_or_report(&url, relative_to_base);
            let items: Vec<Value> = items
                .into_iter()
                .filter(|it| {
                    match (
                        &cfg.since,
                        s(it, "/version/createdAt").or_else(|| s(it, "/version/when")),
                    ) {
                        (Some(since), Some(when)) => when.as_str() >= since.as_str(),
                        _ => true,
                    }
                })
                .collect();
            // Pages in parallel on the bounded pool; results added in listing order.
            for chunk in items.chunks(64) {
                let scanned: Vec<Vec<Scanned>> = pool.install(|| {
                    chunk
                        .par_iter()
                        .map(|it| scan_item(&client, scanner, &space, kind, it))
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
    }
    stats.requests = client.requests.load(Ordering::Relaxed);
    stats.retries = client.retries.load(Ordering::Relaxed);
    stats.rate_limited = client.rate_limited.load(Ordering::Relaxed);
    stats.errors = client.errors.into_inner().unwrap_or_default();
    Ok(stats)
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
            for c in client.list_or_report(&u, rel) {
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
        for a in client.list_or_report(&u, rel) {
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
                    for part in attach::extract(&title, &data) {
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
