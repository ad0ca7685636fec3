//! What one client does, request by request: a browser session (login, dashboard, page
//! views with their static resources and background polling, searches, downloads, exports,
//! logout) or a script. Every method appends [`Req`]s at a moving clock.

use crate::format::{AuditRec, Req};
use crate::org::Org;
use crate::rng::Rng;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Who is making the requests, from where.
#[derive(Clone)]
pub struct Actor {
    pub user: Option<Arc<str>>,
    pub ip: Ipv4Addr,
    pub ua: Arc<str>,
    pub node: u8,
    pub tag: u16,
    /// The department of the person behind the account (restricted pages answer 403 to
    /// everybody else).
    pub dept: Option<usize>,
    /// Administrators can read restricted pages.
    pub admin: bool,
}

/// Percent-encodes a query value (`+` for space), as browsers do for form fields.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A client at work: appends requests to `out` and advances its clock.
pub struct Client<'a> {
    pub org: &'a Org,
    pub rng: Rng,
    pub t: i64,
    pub actor: Actor,
    pub out: &'a mut Vec<Req>,
    /// The page the browser is on (the `Referer` of the next request).
    pub here: Option<Arc<str>>,
    /// Static resources are cached after the first page of a session.
    pub warm: bool,
}

const STATIC_COLD: &[&str] = &[
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/superbatch/css/batch.css",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/superbatch/js/batch.js?locale=en-GB",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/contextbatch/css/main,atl.general,-_super/batch.css",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/contextbatch/js/main,atl.general,-_super/batch.js?locale=en-GB",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/resources/com.atlassian.auiplugin:aui-font/fonts/atlassian-icons.woff",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/images/logo/confluence-logo.svg",
    "/images/icons/profilepics/default.svg",
    "/favicon.ico",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/contextbatch/css/editor-v4,viewcontent/batch.css",
];

const STATIC_WARM: &[&str] = &[
    "/images/icons/profilepics/default.svg",
    "/s/en_GB/9012/4a8e2c6f1b/1/_/download/contextbatch/js/page,viewcontent/batch.js?locale=en-GB",
    "/download/resources/com.atlassian.confluence.plugins.confluence-like:view-likes/images/like.svg",
    "/images/icons/emoticons/smile.svg",
];

impl<'a> Client<'a> {
    pub fn new(org: &'a Org, rng: Rng, t: i64, actor: Actor, out: &'a mut Vec<Req>) -> Client<'a> {
        Client {
            org,
            rng,
            t,
            actor,
            out,
            here: None,
            warm: false,
        }
    }

    /// Advances the clock by about `mean_s` seconds (exponential).
    pub fn think(&mut self, mean_s: f64) {
        self.t += (self.rng.exp(mean_s) * 1000.0) as i64 + 200;
    }

    pub fn wait_ms(&mut self, ms: i64) {
        self.t += ms.max(0);
    }

    /// Appends one request at the current time.
    pub fn req(
        &mut self,
        method: &'static str,
        target: String,
        status: u16,
        bytes: u32,
        dur_ms: u32,
    ) {
        let thread = self.rng.range(1, 200) as u16;
        self.out.push(Req {
            t_ms: self.t,
            user: self.actor.user.clone(),
            client: self.actor.ip,
            ua: Arc::clone(&self.actor.ua),
            method,
            target,
            status,
            bytes,
            dur_ms,
            referer: self.here.clone(),
            thread,
            node: self.actor.node,
            tag: self.actor.tag,
            login_name: None,
        });
    }

    /// Records the name typed into the login form on the request just sent.
    fn mark_login(&mut self, name: Option<Arc<str>>) {
        if let Some(last) = self.out.last_mut() {
            last.login_name = name;
        }
    }

    /// Same as [`Client::req`] with a duration drawn for a page-like request.
    fn page_req(&mut self, method: &'static str, target: String, status: u16) {
        let bytes = if status == 200 {
            self.rng.range(18_000, 140_000) as u32
        } else {
            self.rng.range(4_000, 9_000) as u32
        };
        let dur = self.rng.lognormal(180.0, 0.7).clamp(15.0, 9_000.0) as u32;
        self.req(method, target, status, bytes, dur);
    }

    /// The static resources a page load pulls (fewer once the cache is warm).
    fn statics(&mut self) {
        let n = if self.warm {
            self.rng.range(0, 3)
        } else {
            self.rng.range(5, STATIC_COLD.len() as u64)
        };
        let list = if self.warm { STATIC_WARM } else { STATIC_COLD };
        for i in 0..n as usize {
            self.t += self.rng.range(5, 120) as i64;
            let path = list
                .get(i % list.len().max(1))
                .copied()
                .unwrap_or("/favicon.ico");
            let bytes = self.rng.range(900, 380_000) as u32;
            let dur = self.rng.range(1, 60) as u32;
            self.req("GET", path.to_string(), 200, bytes, dur);
        }
        self.warm = true;
    }

    /// Background calls a loaded page makes, then quick-reload polling while it is read.
    fn page_chatter(&mut self, page_id: Option<u64>, dwell_ms: i64) {
        let start = self.t;
        let now = self.t;
        self.t += self.rng.range(200, 900) as i64;
        self.req(
            "GET",
            format!("/rest/mywork/latest/status/notification/count?_={now}"),
            200,
            58,
            9,
        );
        if self.rng.chance(0.7) {
            self.t += self.rng.range(100, 2_000) as i64;
            self.req(
                "POST",
                "/rest/analytics/1.0/publish/bulk".to_string(),
                200,
                0,
                6,
            );
        }
        if let Some(id) = page_id {
            if self.rng.chance(0.5) {
                self.t += self.rng.range(50, 500) as i64;
                self.req(
                    "GET",
                    format!("/rest/likes/1.0/content/{id}/likes?commentLikes=true&_={now}"),
                    200,
                    120,
                    11,
                );
            }
            if self.rng.chance(0.3) {
                self.t += self.rng.range(50, 500) as i64;
                self.req(
                    "GET",
                    format!("/rest/highlighting/1.0/panel-items?pageId={id}&_={now}"),
                    200,
                    96,
                    8,
                );
            }
            // Quick reload asks every 30 s while the page is open (capped to keep volume sane).
            let polls = (dwell_ms / 30_000).min(5);
            for k in 1..=polls {
                self.t = start + k * 30_000 + self.rng.range(0, 900) as i64;
                let since = self.t - 30_000;
                self.req(
                    "GET",
                    format!("/rest/quickreload/latest/{id}?since={since}&_={start}"),
                    204,
                    0,
                    5,
                );
            }
        }
        self.t = self.t.max(start + dwell_ms);
    }

    /// `/login.action`, then the form post (302 on success, 200 when the form comes back).
    pub fn login(&mut self, success: bool) {
        let user = self.actor.user.take();
        self.here = None;
        self.req(
            "GET",
            "/login.action?os_destination=%2Findex.action".to_string(),
            200,
            11_500,
            40,
        );
        self.statics();
        self.think(6.0);
        self.here = Some(Arc::from("/login.action?os_destination=%2Findex.action"));
        if success {
            self.actor.user = user.clone();
            self.req("POST", "/dologin.action".to_string(), 302, 0, 160);
        } else {
            self.req("POST", "/dologin.action".to_string(), 200, 11_800, 140);
            self.actor.user = user.clone();
        }
        self.mark_login(user);
    }

    /// One failed form login for `name`, made by a script (no page assets, no cookies).
    pub fn failed_login_scripted(&mut self, name: Option<Arc<str>>) {
        let user = self.actor.user.take();
        self.here = Some(Arc::from("/login.action"));
        let dur = self.rng.range(90, 400) as u32;
        self.req("POST", "/dologin.action".to_string(), 200, 11_800, dur);
        self.mark_login(name);
        self.actor.user = user;
    }

    /// A successful form login by a script that already knows the password.
    pub fn login_scripted(&mut self) {
        self.here = Some(Arc::from("/login.action"));
        self.req("POST", "/dologin.action".to_string(), 302, 0, 180);
        let name = self.actor.user.clone();
        self.mark_login(name);
    }

    pub fn dashboard(&mut self) {
        self.page_req("GET", "/index.action".to_string(), 200);
        self.here = Some(Arc::from("/index.action"));
        self.statics();
        let dwell = (self.rng.exp(20.0) * 1000.0) as i64;
        self.page_chatter(None, dwell);
    }

    /// Reads a page (or blog post), with assets and polling. `status` 200 unless restricted.
    pub fn view_page(&mut self, page: usize, dwell_mean_s: f64) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let Some(sp) = self.org.spaces.get(p.space) else {
            return;
        };
        let style = self.rng.below(100);
        let target = if p.blog {
            format!(
                "/display/{}/2026/01/{:02}/{}",
                sp.key,
                1 + p.id % 28,
                p.url_title
            )
        } else if style < 45 {
            format!("/display/{}/{}", sp.key, p.url_title)
        } else if style < 80 {
            format!("/pages/viewpage.action?pageId={}", p.id)
        } else {
            format!("/spaces/{}/pages/{}/{}", sp.key, p.id, p.url_title)
        };
        let allowed = !p.restricted || self.viewer_in_dept(sp.dept);
        let status = if allowed { 200 } else { 403 };
        self.page_req("GET", target.clone(), status);
        let here: Arc<str> = Arc::from(target.as_str());
        self.here = Some(here);
        self.statics();
        let dwell = (self.rng.lognormal(dwell_mean_s, 0.9) * 1000.0) as i64;
        let id = p.id;
        self.page_chatter(
            if allowed { Some(id) } else { None },
            dwell.clamp(3_000, 900_000),
        );
    }

    fn viewer_in_dept(&self, dept: Option<usize>) -> bool {
        match dept {
            None => true,
            Some(d) => self.actor.admin || self.actor.dept == Some(d),
        }
    }

    /// Site search, maybe preceded by quick-nav typing, optionally limited to a space.
    pub fn search(&mut self, term: &str, space: Option<&str>) {
        if self.rng.chance(0.5) && term.len() > 3 {
            let cut = term.len().min(3 + self.rng.index(term.len() - 2));
            if let Some(prefix) = term.get(..cut) {
                self.req(
                    "GET",
                    format!("/rest/quicknav/1/search?query={}&_={}", enc(prefix), self.t),
                    200,
                    2_400,
                    35,
                );
                self.t += self.rng.range(300, 1_500) as i64;
            }
        }
        let target = match space {
            Some(k) => format!("/dosearchsite.action?queryString={}&where={}", enc(term), k),
            None => format!("/dosearchsite.action?queryString={}", enc(term)),
        };
        self.page_req("GET", target.clone(), 200);
        self.here = Some(Arc::from(target.as_str()));
        self.statics();
        self.think(8.0);
    }

    /// REST search with CQL `siteSearch ~ "term"`.
    pub fn rest_search(&mut self, term: &str, limit: u32) {
        let target = format!(
            "/rest/api/search?cql=siteSearch+~+%22{}%22+and+type%3Dpage&limit={limit}",
            enc(term)
        );
        let bytes = self.rng.range(3_000, 60_000) as u32;
        self.req("GET", target, 200, bytes, 140);
    }

    pub fn space_home(&mut self, space: usize) {
        let Some(sp) = self.org.spaces.get(space) else {
            return;
        };
        let target = if self.rng.chance(0.5) {
            format!("/display/{}", sp.key)
        } else {
            format!("/spaces/{}/overview", sp.key)
        };
        self.page_req("GET", target.clone(), 200);
        self.here = Some(Arc::from(target.as_str()));
        self.statics();
        self.think(10.0);
    }

    pub fn page_tree(&mut self, page: usize) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        self.req("GET", format!("/plugins/pagetree/naturalchildren.action?decorator=none&expandCurrent=true&mobile=false&sort=position&reverse=false&pageId={}&treeId=0&startDepth=0&_={}", p.id, self.t), 200, 3_100, 45);
    }

    pub fn download_attachment(&mut self, page: usize, name: &str) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let bytes = self.rng.range(40_000, 9_000_000) as u32;
        let dur = (bytes / 20_000).max(20);
        let target = format!(
            "/download/attachments/{}/{}?version={}&modificationDate={}&api=v2",
            p.id,
            enc(name),
            1 + p.version % 3,
            1_735_000_000_000u64 + p.id * 1_000
        );
        self.req("GET", target, 200, bytes, dur);
    }

    /// Downloads every attachment of `page` one after another, thinking `think_mean_s`
    /// seconds (on average) before each.
    pub fn download_each_attachment(&mut self, page: usize, think_mean_s: f64) {
        let names: Vec<Arc<str>> = self
            .org
            .pages
            .get(page)
            .map(|x| x.attachments.clone())
            .unwrap_or_default();
        for name in names {
            self.think(think_mean_s);
            self.download_attachment(page, &name);
        }
    }

    pub fn download_all_attachments(&mut self, page: usize) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let bytes = self.rng.range(200_000, 30_000_000) as u32;
        self.req(
            "GET",
            format!("/download/all_attachments?pageId={}", p.id),
            200,
            bytes,
            bytes / 30_000 + 50,
        );
    }

    pub fn export_pdf(&mut self, page: usize) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let bytes = self.rng.range(60_000, 2_500_000) as u32;
        let dur = self.rng.range(800, 6_000) as u32;
        self.req(
            "GET",
            format!("/spaces/flyingpdf/pdfpageexport.action?pageId={}", p.id),
            200,
            bytes,
            dur,
        );
    }

    pub fn export_word(&mut self, page: usize) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let bytes = self.rng.range(30_000, 900_000) as u32;
        let dur = self.rng.range(300, 3_000) as u32;
        self.req(
            "GET",
            format!("/exportword?pageId={}", p.id),
            200,
            bytes,
            dur,
        );
    }

    /// A whole space export through the UI or a script: the welcome screen, the chosen
    /// kind, the submit, progress polling and the download. Returns the audit record.
    pub fn space_export(&mut self, space: usize, author_id: &str) -> Option<AuditRec> {
        let sp = self.org.spaces.get(space)?;
        let key = Arc::clone(&sp.key);
        let kind = if self.rng.chance(0.6) { "xml" } else { "html" };
        self.page_req(
            "GET",
            format!("/spaces/exportspacewelcome.action?key={key}"),
            200,
        );
        self.here = Some(Arc::from(
            format!("/spaces/exportspacewelcome.action?key={key}").as_str(),
        ));
        self.think(4.0);
        self.page_req(
            "GET",
            format!("/spaces/exportspace{kind}.action?key={key}"),
            200,
        );
        self.here = Some(Arc::from(
            format!("/spaces/exportspace{kind}.action?key={key}").as_str(),
        ));
        self.think(6.0);
        self.req(
            "POST",
            format!("/spaces/doexportspace.action?key={key}"),
            302,
            0,
            300,
        );
        let task = self.rng.range(1_000_000, 9_999_999);
        let polls = self.rng.range(2, 8);
        for _ in 0..polls {
            self.t += self.rng.range(1_500, 4_000) as i64;
            self.req("GET", format!("/rest/api/longtask/{task}"), 200, 310, 8);
        }
        self.t += self.rng.range(500, 2_000) as i64;
        let stamp = chrono::DateTime::from_timestamp_millis(self.t)
            .map(|d| d.format("%Y%m%d-%H%M%S").to_string())
            .unwrap_or_default();
        let file = format!(
            "Confluence-space-export-{stamp}-{}.{kind}.zip",
            self.rng.range(100, 999)
        );
        let bytes = self.rng.range(2_000_000, 400_000_000) as u32;
        self.req(
            "GET",
            format!("/download/temp/{file}"),
            200,
            bytes,
            bytes / 50_000 + 100,
        );
        let author = self.actor.user.clone()?;
        Some(AuditRec {
            t_ms: self.t,
            action: "Space exported",
            action_key: "audit.logging.summary.space.export",
            area: "LOCAL_CONFIG_AND_ADMINISTRATION",
            category: "Import/Export",
            category_key: "audit.logging.category.import.export",
            author,
            author_id: author_id.to_string(),
            source: self.actor.ip,
            objects: vec![("Space", key.to_string(), sp.id.to_string())],
            changes: vec![],
            extra: vec![("Export type", kind.to_uppercase())],
            tag: self.actor.tag,
        })
    }

    pub fn edit_page(&mut self, page: usize) {
        let Some(p) = self.org.pages.get(page) else {
            return;
        };
        let id = p.id;
        self.page_req("GET", format!("/pages/editpage.action?pageId={id}"), 200);
        self.here = Some(Arc::from(
            format!("/pages/editpage.action?pageId={id}").as_str(),
        ));
        self.t += 2_000;
        self.req(
            "POST",
            "/json/startheartbeatactivity.action".to_string(),
            200,
            140,
            9,
        );
        self.think(90.0);
        self.req(
            "POST",
            "/json/stopheartbeatactivity.action".to_string(),
            200,
            20,
            7,
        );
        self.req("POST", "/pages/doeditpage.action".to_string(), 302, 0, 420);
    }

    pub fn people(&mut self) {
        self.page_req("GET", "/browsepeople.action".to_string(), 200);
        self.statics();
        self.think(15.0);
    }

    pub fn logout(&mut self) {
        self.req("GET", "/logout.action".to_string(), 302, 0, 25);
        self.here = None;
    }
}

/// Audit record for a user id: DC user keys look like 32 hex digits.
pub fn user_key(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("8a7f808a{:016x}{:08x}", h, (h >> 17) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_encodes_like_a_form() {
        assert_eq!(enc("password reset"), "password+reset");
        assert_eq!(enc("a&b=c\""), "a%26b%3Dc%22");
    }

    #[test]
    fn user_keys_are_stable_and_distinct() {
        assert_eq!(user_key("jdoe"), user_key("jdoe"));
        assert_ne!(user_key("jdoe"), user_key("jdoe2"));
        assert_eq!(user_key("jdoe").len(), 32);
    }
}
