//! The route table of the URL classifier: slice-pattern matches on path segments (context
//! path and `/wiki` already removed) that set the action and extract the object fields.

use super::Classification;
use super::query::{
    cql_search_text, decode_form_nonempty, decode_path, ends_with_ignore_case, expand_has_body,
    has_param, param, params, parse_id, parse_u32_saturating, parse_u64_saturating,
};
use confwatch_event::{Action, Outcome, RestRead};

/// The HTTP method, reduced to what classification needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Post,
    Put,
    Delete,
    Patch,
    /// HEAD, OPTIONS and anything unusual: treated as a read.
    OtherRead,
    /// Not logged (old `AccessLogFilter` lines).
    Unknown,
}

impl Method {
    pub(super) fn parse(m: Option<&str>) -> Method {
        let Some(m) = m else {
            return Method::Unknown;
        };
        let is = |name: &str| m.eq_ignore_ascii_case(name);
        if is("GET") {
            Method::Get
        } else if is("POST") {
            Method::Post
        } else if is("PUT") {
            Method::Put
        } else if is("DELETE") {
            Method::Delete
        } else if is("PATCH") {
            Method::Patch
        } else if m.is_empty() || m == "-" {
            Method::Unknown
        } else {
            Method::OtherRead
        }
    }

    fn is_write(self) -> bool {
        matches!(
            self,
            Method::Post | Method::Put | Method::Delete | Method::Patch
        )
    }

    /// A submitted change: a write method, or (method not logged) a Struts `do…` action.
    fn submits(self, action_name: &str) -> bool {
        self.is_write() || (self == Method::Unknown && action_name.starts_with("do"))
    }
}

/// How the HTTP status becomes an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutcomeRule {
    /// `Outcome::from_http_status`.
    Http,
    /// Form login (`dologin.action`, `doauthenticate.action`): a redirect means success,
    /// the form shown again (200) or 401/403 means failure.
    FormLogin,
    /// JSON login (`/rest/gadget/1.0/login`): 200 either way, so only 401/403 are known.
    RestLogin,
    /// SSO hand-offs: the status says nothing about the identity provider's verdict.
    Unknown,
}

impl OutcomeRule {
    pub(super) fn outcome(self, status: Option<u16>) -> Outcome {
        let Some(s) = status else {
            return Outcome::Unknown;
        };
        match self {
            OutcomeRule::Http => Outcome::from_http_status(s),
            OutcomeRule::FormLogin => match s {
                302 | 303 => Outcome::Success,
                200 | 401 | 403 => Outcome::Failure,
                400..=599 => Outcome::Failure,
                _ => Outcome::Unknown,
            },
            OutcomeRule::RestLogin => match s {
                401 | 403 => Outcome::Failure,
                _ => Outcome::Unknown,
            },
            OutcomeRule::Unknown => Outcome::Unknown,
        }
    }
}

/// One request, split.
pub(super) struct Req<'a> {
    pub method: Method,
    pub segs: &'a [&'a str],
    pub query: &'a str,
}

use Action as A;
use OutcomeRule::Http;

/// Sets `c` from the request; returns how to read the status.
pub(super) fn route(r: &Req<'_>, c: &mut Classification) -> OutcomeRule {
    let rule = match r.segs {
        [] | ["home"] => set(c, A::Dashboard),
        ["display", rest @ ..] => display(rest, c),
        ["pages", name, ..] => pages(r, name, c),
        ["spaces", rest @ ..] => spaces(r, rest, c),
        ["rest", rest @ ..] => rest_api(r, rest, c),
        ["api", "v2", rest @ ..] => rest_v2(r, rest, c),
        ["download", rest @ ..] => download(r, rest, c),
        ["admin", rest @ ..] => admin(r, rest, c),
        ["plugins", rest @ ..] => plugins(r, rest, c),
        // Tiny links encode the page id; the classifier does not decode them.
        ["x", ..] => set(c, A::PageView),
        ["s" | "images" | "styles" | "includes" | "favicon.ico", ..] => set(c, A::Static),
        ["synchrony" | "synchrony-proxy", ..] | ["status"] => set(c, A::Polling),
        ["json", name, ..] => match *name {
            "startheartbeatactivity.action" | "stopheartbeatactivity.action" => set(c, A::Polling),
            n if n.starts_with("setup-restore") => set(c, A::ExploitAttempt),
            _ => set(c, A::Other),
        },
        // Post-install setup requests are the CVE-2023-22515/22518 pattern.
        ["setup", ..] => set(c, A::ExploitAttempt),
        // Velocity templates are never requested directly (CVE-2023-22527).
        ["template", .., last] if last.ends_with(".vm") => set(c, A::ExploitAttempt),
        ["users" | "people", ..] => set(c, A::PeopleDirectory),
        ["search"] => {
            c.search_query = param(r.query, "text").and_then(decode_form_nonempty);
            set(c, A::SiteSearch)
        }
        ["search", "searchsite.action" | "dosearchsite.action"] => site_search(r, c),
        ["collector", "pages.action"] => {
            page_params(r.query, c);
            set(c, A::SpacePageList)
        }
        ["spacedirectory", ..] => set(c, A::SpaceDirectory),
        ["exportword"] => {
            page_params(r.query, c);
            set(c, A::PageExportWord)
        }
        [name] if name.ends_with(".action") => root_action(r, name, c),
        _ => set(c, A::Other),
    };
    if c.action == A::Other
        && let Some(last) = r.segs.last()
        && is_static_file(last)
    {
        c.action = A::Static;
    }
    rule
}

fn set(c: &mut Classification, a: Action) -> OutcomeRule {
    c.action = a;
    Http
}

fn is_static_file(seg: &str) -> bool {
    const EXT: [&str; 14] = [
        ".css", ".js", ".png", ".gif", ".jpg", ".jpeg", ".svg", ".woff", ".woff2", ".ttf", ".ico",
        ".map", ".eot", ".webp",
    ];
    EXT.iter().any(|e| ends_with_ignore_case(seg, e))
}

/// `pageId`, `spaceKey`/`key`, `title` from a Struts action's query.
fn page_params(q: &str, c: &mut Classification) {
    c.object.page_id = param(q, "pageId").and_then(parse_id);
    c.object.space_key = param(q, "spaceKey")
        .or_else(|| param(q, "key"))
        .and_then(decode_form_nonempty);
    c.object.title = param(q, "title").and_then(decode_form_nonempty);
}

fn site_search(r: &Req<'_>, c: &mut Classification) -> OutcomeRule {
    c.search_query = param(r.query, "queryString")
        .or_else(|| param(r.query, "text"))
        .and_then(decode_form_nonempty)
        // Newer Data Center search pages carry only `cql=`.
        .or_else(|| {
            param(r.query, "cql")
                .and_then(decode_form_nonempty)
                .and_then(|cql| cql_search_text(&cql))
        });
    c.object.space_key = param(r.query, "where")
        .or_else(|| param(r.query, "spaceKey"))
        .and_then(decode_form_nonempty)
        // `where=conf_all` / `conf_global` are scopes, not space keys.
        .filter(|k| !k.starts_with("conf_"));
    set(c, A::SiteSearch)
}

/// Single-segment `*.action` routes at the root.
fn root_action(r: &Req<'_>, name: &str, c: &mut Classification) -> OutcomeRule {
    match name {
        "index.action" | "dashboard.action" | "homepage.action" => set(c, A::Dashboard),
        "dologin.action" => {
            // A GET without credentials just renders the form.
            if matches!(r.method, Method::Get | Method::OtherRead)
                && !has_param(r.query, "os_username")
            {
                set(c, A::LoginPage)
            } else {
                c.action = A::Login;
                OutcomeRule::FormLogin
            }
        }
        "login.action" | "forgotuserpassword.action" => set(c, A::LoginPage),
        "logout.action" => set(c, A::Logout),
        "authenticate.action" => set(c, A::Websudo),
        "doauthenticate.action" => {
            c.action = A::Websudo;
            if r.method.is_write() {
                OutcomeRule::FormLogin
            } else {
                Http
            }
        }
        "dosearchsite.action" | "searchsite.action" => site_search(r, c),
        "browsepeople.action" | "dopeopledirectorysearch.action" => set(c, A::PeopleDirectory),
        "server-info.action" if r.query.contains("bootstrapStatusProvider") => {
            set(c, A::ExploitAttempt)
        }
        _ => set(c, A::Other),
    }
}

/// `/display/KEY`, `/display/KEY/Title`, `/display/KEY/YYYY/MM/DD/Title`, `/display/~user`.
fn display(rest: &[&str], c: &mut Classification) -> OutcomeRule {
    let Some((key, tail)) = rest.split_first() else {
        return set(c, A::Other);
    };
    let key = decode_path(key);
    let personal = key.starts_with('~');
    c.object.space_key = Some(key);
    match tail {
        [] if personal => set(c, A::PeopleDirectory),
        [] => set(c, A::SpaceView),
        [y, m, d, more @ ..] if is_date(y, m, d) => {
            c.object.title = more.first().and_then(|t| decode_form_nonempty(t));
            set(c, A::BlogView)
        }
        [title, ..] => {
            c.object.title = decode_form_nonempty(title);
            set(c, A::PageView)
        }
    }
}

fn is_date(y: &str, m: &str, d: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(y, 4) && (digits(m, 2) || digits(m, 1)) && (digits(d, 2) || digits(d, 1))
}

/// `/pages/*.action`.
fn pages(r: &Req<'_>, name: &str, c: &mut Classification) -> OutcomeRule {
    page_params(r.query, c);
    match name {
        "viewpage.action" => {
            c.object.version = param(r.query, "pageVersion").and_then(|v| v.parse().ok());
            set(c, A::PageView)
        }
        "viewpagesrc.action" | "viewpagestorage.action" => set(c, A::PageSource),
        "viewpreviousversions.action" => set(c, A::PageHistory),
        "diffpagesbyversion.action" => {
            c.object.version = params(r.query, "selectedPageVersions")
                .filter_map(|v| v.parse::<u32>().ok())
                .max();
            set(c, A::PageDiff)
        }
        "diffpages.action" => set(c, A::PageDiff),
        "viewinfo.action" => set(c, A::PageInfo),
        "viewpageattachments.action" => set(c, A::AttachmentList),
        "downloadallattachments.action" => set(c, A::AttachmentDownload),
        "viewrecentblogposts.action" => set(c, A::BlogView),
        n if n.starts_with("listpages") => set(c, A::SpacePageList),
        "doattachfile.action" | "attachfile.action" if r.method != Method::Get => {
            set(c, A::AttachmentUpload)
        }
        "setcontentpermissions.action" | "setpagepermissions.action" => {
            if r.method.is_write() || r.method == Method::Unknown {
                set(c, A::PermissionChange)
            } else {
                set(c, A::Other)
            }
        }
        "createpage.action"
        | "createblogpost.action"
        | "editpage.action"
        | "editblogpost.action"
        | "removepage.action"
        | "removeblogpost.action"
        | "copypage.action"
        | "movepage.action"
        | "resumedraft.action"
        | "createpage-entervariables.action"
        | "revertpagebacktoversion.action" => set(c, A::ContentEdit),
        n if n.starts_with("do")
            && (n.contains("page") || n.contains("blogpost") || n.contains("draft")) =>
        {
            set(c, A::ContentEdit)
        }
        _ => set(c, A::Other),
    }
}

/// `/spaces/...`: Struts space actions, flying-PDF exports and Cloud-style space routes.
fn spaces(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    match rest {
        [] => set(c, A::SpaceDirectory),
        ["flyingpdf", name, ..] => {
            page_params(r.query, c);
            match *name {
                "pdfpageexport.action" => set(c, A::PageExportPdf),
                "flyingpdf.action" => set(c, A::SpaceExportStart),
                "doflyingpdf.action" => set(c, A::SpaceExportRun),
                _ => set(c, A::Other),
            }
        }
        [name, ..] if name.ends_with(".action") => {
            page_params(r.query, c);
            space_action(r, name, c)
        }
        [key, tail @ ..] => {
            c.object.space_key = Some(decode_path(key));
            space_route(tail, c)
        }
    }
}

fn space_action(r: &Req<'_>, name: &str, c: &mut Classification) -> OutcomeRule {
    match name {
        "viewspace.action" | "viewspacesummary.action" | "browsespace.action" => {
            set(c, A::SpaceView)
        }
        "exportspacewelcome.action"
        | "exportspacehtml.action"
        | "exportspacexml.action"
        | "exportspacecsv.action"
        | "exportspace.action" => set(c, A::SpaceExportStart),
        "doexportspace.action" => set(c, A::SpaceExportRun),
        "listattachmentsforspace.action" => set(c, A::AttachmentList),
        "spacepermissions.action"
        | "editspacepermissions.action"
        | "doeditspacepermissions.action" => permission(r, name, c),
        "spaceadmin.action" | "editspace.action" => set(c, A::AdminConsole),
        _ => set(c, A::Other),
    }
}

/// Permission screens: viewing is [`Action::AdminConsole`], submitting is
/// [`Action::PermissionChange`] (so `permission_change` never fires on a mere look).
fn permission(r: &Req<'_>, name: &str, c: &mut Classification) -> OutcomeRule {
    if r.method.submits(name) {
        set(c, A::PermissionChange)
    } else {
        set(c, A::AdminConsole)
    }
}

/// `/spaces/KEY/...` (DC 8+ and Cloud); the space key is already set.
fn space_route(tail: &[&str], c: &mut Classification) -> OutcomeRule {
    match tail {
        [] | ["overview", ..] => set(c, A::SpaceView),
        ["pages"] => set(c, A::SpacePageList),
        ["pages", "edit-v2" | "edit" | "resumedraft", id, ..] => {
            c.object.page_id = parse_id(id);
            set(c, A::ContentEdit)
        }
        ["pages", "create" | "createpage", ..] => set(c, A::ContentEdit),
        ["pages", id, more @ ..] => match parse_id(id) {
            Some(pid) => {
                c.object.page_id = Some(pid);
                c.object.title = more.first().and_then(|t| decode_form_nonempty(t));
                set(c, A::PageView)
            }
            None => set(c, A::Other),
        },
        ["blog"] => set(c, A::SpacePageList),
        ["blog", more @ ..] => {
            let after_date = match more {
                [y, m, d, rest @ ..] if is_date(y, m, d) => rest,
                _ => more,
            };
            if let [id, title @ ..] = after_date {
                c.object.page_id = parse_id(id);
                c.object.title = title.first().and_then(|t| decode_form_nonempty(t));
            }
            set(c, A::BlogView)
        }
        ["history", id, ..] => {
            c.object.page_id = parse_id(id);
            set(c, A::PageHistory)
        }
        ["settings" | "spacesettings", ..] => set(c, A::AdminConsole),
        _ => set(c, A::Other),
    }
}

/// `/download/...`.
fn download(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    match rest {
        ["attachments", more @ ..] => {
            if let [id, name @ ..] = more {
                c.object.page_id = parse_id(id);
                c.object.attachment = name
                    .first()
                    .map(|n| decode_path(n))
                    .filter(|n| !n.is_empty());
            }
            c.object.version = param(r.query, "version").and_then(|v| v.parse().ok());
            set(c, A::AttachmentDownload)
        }
        ["all_attachments", ..] => {
            page_params(r.query, c);
            set(c, A::AttachmentDownload)
        }
        ["temp" | "export", .., file] => {
            c.object.attachment = Some(decode_path(file)).filter(|n| !n.is_empty());
            set(c, A::SpaceExportDownload)
        }
        ["temp" | "export"] => set(c, A::SpaceExportDownload),
        [
            "thumbnails" | "resources" | "batch" | "contextbatch" | "superbatch",
            ..,
        ] => set(c, A::Static),
        _ => set(c, A::Other),
    }
}

/// `/admin/...`.
fn admin(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    let last = rest.last().copied().unwrap_or("");
    match rest {
        ["backup.action" | "dobackup.action"] => set(c, A::SiteExport),
        ["users" | "groups", ..] => {
            if r.method.submits(last) {
                set(c, A::UserManagement)
            } else {
                set(c, A::AdminConsole)
            }
        }
        ["permissions", ..] => permission(r, last, c),
        [first, ..] if first.contains("audit") => set(c, A::AuditLogAccess),
        [first, ..] if first.contains("plugin") => {
            if r.method.submits(last) {
                set(c, A::AppChange)
            } else {
                set(c, A::AdminConsole)
            }
        }
        _ => {
            if r.method.submits(last) {
                set(c, A::ConfigChange)
            } else {
                set(c, A::AdminConsole)
            }
        }
    }
}

/// `/plugins/...`.
fn plugins(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    match rest {
        ["viewsource", "viewpagesrc.action"] | ["viewstorage", "viewpagestorage.action"] => {
            page_params(r.query, c);
            set(c, A::PageSource)
        }
        ["drag-and-drop", "upload.action"] => {
            page_params(r.query, c);
            set(c, A::AttachmentUpload)
        }
        ["pagetree", ..] => {
            page_params(r.query, c);
            set(c, A::SpacePageList)
        }
        ["servlet", servlet @ ..] => match servlet {
            ["upm", ..] => {
                if r.method.is_write() {
                    set(c, A::AppChange)
                } else {
                    set(c, A::AdminConsole)
                }
            }
            ["streams", ..] | ["notifications-miniview", ..] => set(c, A::Polling),
            ["samlsso", ..] => {
                c.action = if r.method.is_write() {
                    A::Login
                } else {
                    A::LoginPage
                };
                OutcomeRule::Unknown
            }
            ["samlconsumer", ..] | ["oidc", "callback", ..] => {
                c.action = A::Login;
                OutcomeRule::Unknown
            }
            ["oidc", ..] | ["external-login", ..] => {
                c.action = A::LoginPage;
                OutcomeRule::Unknown
            }
            ["audit", ..] => set(c, A::AuditLogAccess),
            ["confluence", "editor", ..] => set(c, A::ContentEdit),
            // Connect app iframes can render anything.
            ["ac", ..] => set(c, A::Other),
            _ => set(c, A::Static),
        },
        _ => set(c, A::Other),
    }
}

/// The fields a REST read asks for (`expand`/`body-format`, `limit`, `start`/`cursor`).
fn rest_read(q: &str, api_version: u8) -> RestRead {
    let body_expanded = if api_version >= 2 {
        has_param(q, "body-format")
    } else {
        expand_has_body(q)
    };
    let start = if api_version >= 2 {
        has_param(q, "cursor").then_some(1)
    } else {
        param(q, "start").and_then(parse_u64_saturating)
    };
    RestRead {
        body_expanded,
        limit: param(q, "limit").and_then(parse_u32_saturating),
        start,
        api_version,
    }
}

/// `/rest/...`.
fn rest_api(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    match rest {
        ["api", api @ ..] => {
            c.rest = Some(rest_read(r.query, 1));
            rest_v1(r, api, c)
        }
        [
            "quickreload" | "mywork" | "analytics" | "webResources" | "troubleshooting" | "nps"
            | "highlighting" | "shortcuts" | "helptips" | "experimental" | "synchrony-interop"
            | "featurediscovery",
            ..,
        ] => set(c, A::Polling),
        ["likes", ..] if !r.method.is_write() => set(c, A::Polling),
        ["searchv3", _, "search", ..] => {
            c.search_query = param(r.query, "queryString")
                .or_else(|| param(r.query, "query"))
                .and_then(decode_form_nonempty);
            set(c, A::RestSearch)
        }
        ["quicknav", _, "search", ..] => {
            c.search_query = param(r.query, "query").and_then(decode_form_nonempty);
            set(c, A::QuickSearch)
        }
        ["prototype", _, "search", more @ ..] => {
            c.search_query = param(r.query, "query").and_then(decode_form_nonempty);
            match more {
                [site] if site.starts_with("site") => set(c, A::RestSearch),
                _ => set(c, A::QuickSearch),
            }
        }
        ["gadget", _, "login"] => {
            c.action = A::Login;
            OutcomeRule::RestLogin
        }
        ["plugins", _, ..] => {
            if r.method.is_write() {
                set(c, A::AppChange)
            } else {
                set(c, A::AdminConsole)
            }
        }
        ["auditing", ..] => set(c, A::AuditLogAccess),
        _ => set(c, A::RestOther),
    }
}

/// `/rest/api/...` (v1); `c.rest` is already set.
fn rest_v1(r: &Req<'_>, api: &[&str], c: &mut Classification) -> OutcomeRule {
    let w = r.method.is_write();
    match api {
        ["content"] => {
            if w {
                return set(c, A::ContentEdit);
            }
            c.object.space_key = param(r.query, "spaceKey").and_then(decode_form_nonempty);
            c.object.title = param(r.query, "title").and_then(decode_form_nonempty);
            set(c, A::RestContentList)
        }
        ["content", "search"] | ["search"] => {
            c.search_query = param(r.query, "cql")
                .and_then(decode_form_nonempty)
                .and_then(|cql| cql_search_text(&cql));
            set(c, A::RestSearch)
        }
        ["search", "user", ..] => set(c, A::RestUserRead),
        ["content", "scan"] => {
            c.object.space_key = param(r.query, "spaceKey").and_then(decode_form_nonempty);
            set(c, A::RestContentList)
        }
        ["content", "blueprint", ..] if w => set(c, A::ContentEdit),
        ["content", id, sub @ ..] => {
            c.object.page_id = parse_id(id);
            c.object.version = param(r.query, "version").and_then(|v| v.parse().ok());
            rest_content_item(r, sub, c)
        }
        ["space", ..] => rest_space(r, api, c),
        ["user" | "group", ..] => {
            if w {
                set(c, A::UserManagement)
            } else {
                set(c, A::RestUserRead)
            }
        }
        ["admin", "user" | "group", ..] => {
            if w {
                set(c, A::UserManagement)
            } else {
                set(c, A::RestUserRead)
            }
        }
        ["longtask", ..] => set(c, A::Polling),
        ["audit", ..] => set(c, A::AuditLogAccess),
        ["settings", ..] if w => set(c, A::ConfigChange),
        _ => set(c, A::RestOther),
    }
}

/// `/rest/api/content/{id}/...`.
fn rest_content_item(r: &Req<'_>, sub: &[&str], c: &mut Classification) -> OutcomeRule {
    let m = r.method;
    match sub {
        ["child", "attachment", more @ ..] => match (m, more) {
            (Method::Post | Method::Put, _) => set(c, A::AttachmentUpload),
            (Method::Delete | Method::Patch, _) => set(c, A::ContentEdit),
            (_, [_, "download", ..]) => set(c, A::AttachmentDownload),
            _ => set(c, A::RestAttachmentList),
        },
        ["child" | "descendant", ..] => {
            if m.is_write() {
                set(c, A::ContentEdit)
            } else {
                set(c, A::RestContentList)
            }
        }
        ["restriction", ..] if m.is_write() => set(c, A::PermissionChange),
        ["version", v, ..] => {
            c.object.version = v.parse().ok();
            if m.is_write() {
                set(c, A::ContentEdit)
            } else {
                set(c, A::RestContentRead)
            }
        }
        _ => {
            if m.is_write() {
                set(c, A::ContentEdit)
            } else {
                set(c, A::RestContentRead)
            }
        }
    }
}

/// `/rest/api/space[/KEY[/...]]`.
fn rest_space(r: &Req<'_>, api: &[&str], c: &mut Classification) -> OutcomeRule {
    let w = r.method.is_write();
    if let ["space", key, ..] = api {
        c.object.space_key = Some(decode_path(key));
    } else {
        c.object.space_key = param(r.query, "spaceKey").and_then(decode_form_nonempty);
    }
    match api {
        ["space", _, "permission", ..] if w => set(c, A::PermissionChange),
        _ if w => set(c, A::ConfigChange),
        ["space", _, "content", ..] => set(c, A::RestContentList),
        _ => set(c, A::RestSpaceRead),
    }
}

/// `/api/v2/...` (Cloud REST v2).
fn rest_v2(r: &Req<'_>, rest: &[&str], c: &mut Classification) -> OutcomeRule {
    c.rest = Some(rest_read(r.query, 2));
    if let [kind, id, ..] = rest
        && matches!(*kind, "pages" | "blogposts")
    {
        c.object.page_id = parse_id(id);
    }
    let w = r.method.is_write();
    match rest {
        ["spaces", ..] if w => set(c, A::ConfigChange),
        _ if w => set(c, A::ContentEdit),
        ["spaces"] | ["spaces", _] | ["spaces", _, "permissions" | "properties", ..] => {
            set(c, A::RestSpaceRead)
        }
        ["spaces", _, ..] => set(c, A::RestV2List),
        ["attachments"] | [_, _, "attachments", ..] => set(c, A::RestAttachmentList),
        ["users-bulk" | "user" | "users", ..] => set(c, A::RestUserRead),
        [coll] if is_v2_content(coll) => set(c, A::RestV2List),
        [coll, _, sub @ ..] if is_v2_content(coll) || *coll == "attachments" => match sub {
            [] | ["versions", _, ..] => set(c, A::RestV2Read),
            _ => set(c, A::RestV2List),
        },
        _ => set(c, A::RestOther),
    }
}

fn is_v2_content(coll: &str) -> bool {
    matches!(
        coll,
        "pages"
            | "blogposts"
            | "custom-content"
            | "whiteboards"
            | "databases"
            | "folders"
            | "embeds"
            | "footer-comments"
            | "inline-comments"
            | "labels"
    )
}
