//! Ordinary days: what each person does on a working day (sessions, reading, searching,
//! the odd download or export), the service accounts' nightly jobs, the administrators'
//! routine, load-balancer health checks, and the per-person changes the [`Plan`] asks for.

use crate::browse::{Actor, Client, user_key};
use crate::format::{AuditRec, Req};
use crate::org::{COMMON_TOPICS, DEPTS, Org};
use crate::rng::Rng;
use crate::scenario::{Plan, Rule, is_weekend};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The day being generated.
pub struct DayCtx {
    pub seed: u64,
    pub day: u32,
    /// Weekday of day 0 (Monday = 0).
    pub start_wd: u32,
    /// Server-local midnight of this day, epoch ms.
    pub midnight_ms: i64,
    /// Server offset east of UTC, minutes.
    pub server_tz_min: i32,
    pub nodes: u8,
    pub days: u32,
}

impl DayCtx {
    fn weekday(&self) -> u32 {
        (self.start_wd + self.day) % 7
    }

    /// Epoch ms of `minutes` after local midnight in a zone `tz_min` east of UTC, this day.
    fn at_local(&self, tz_min: i32, minutes: f64) -> i64 {
        let shift = i64::from(self.server_tz_min - tz_min) * 60_000;
        self.midnight_ms + shift + (minutes * 60_000.0) as i64
    }
}

fn node_for(seed: u64, who: &str, session: u64, nodes: u8) -> u8 {
    let mut h = seed ^ 0x51_7c_c1_b7_27_22_0a_95;
    for b in who.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ session).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 33) % u64::from(nodes.max(1))) as u8
}

/// One person's day.
pub fn user_day(
    org: &Org,
    plan: &Plan,
    ctx: &DayCtx,
    u: usize,
    reqs: &mut Vec<Req>,
    audits: &mut Vec<AuditRec>,
) {
    let Some(user) = org.users.get(u) else { return };
    let rules: &[Rule] = plan.rules.get(u).map(Vec::as_slice).unwrap_or(&[]);
    let mut rng = Rng::derive(ctx.seed, 3, u as u64, u64::from(ctx.day));
    let d = ctx.day;

    let mut tag = 0u16;
    let mut factor = 1.0;
    let mut newcomer_week = false;
    let mut ip_override: Option<Ipv4Addr> = None;
    let mut surge_space: Option<usize> = None;
    let mut helpdesk_tag: Option<u16> = None;
    let mut insider: Option<(&[usize], u32, u16)> = None;
    let mut has_rules = false;
    let mut vpn_help: Option<u16> = None;
    for r in rules {
        has_rules = true;
        match r {
            Rule::Newcomer { day, tag: t } => {
                if d < *day {
                    return;
                }
                if d == *day {
                    onboard(org, ctx, u, *t, &mut rng, reqs, audits);
                }
                if d < day + 7 {
                    newcomer_week = true;
                    tag = *t;
                }
            }
            Rule::Dormant { from } => {
                if d >= *from {
                    return;
                }
            }
            Rule::Tagged { tag: t } => tag = *t,
            Rule::HelpdeskSearches { tag: t } => {
                helpdesk_tag = Some(*t);
                tag = *t;
            }
            Rule::Travel {
                from,
                to,
                ip,
                tag: t,
            } => {
                if (*from..*to).contains(&d) {
                    ip_override = Some(*ip);
                    tag = *t;
                }
            }
            Rule::Surge {
                day,
                factor: f,
                space,
                tag: t,
            } => {
                if d == *day {
                    factor = *f;
                    surge_space = Some(*space);
                    tag = *t;
                }
            }
            Rule::VpnHelp { day, tag: t } => {
                if d == *day {
                    vpn_help = Some(*t);
                }
            }
            Rule::Automation { ip, space, tag: t } => {
                if !is_weekend(ctx.start_wd, d) {
                    automation(org, ctx, u, *ip, *space, *t, reqs);
                }
            }
            Rule::Insider {
                days,
                spaces,
                per_day,
                tag: t,
            } => {
                if days.contains(&d) {
                    insider = Some((spaces.as_slice(), *per_day, *t));
                }
            }
        }
    }

    let wd = ctx.weekday();
    let weekend = is_weekend(ctx.start_wd, d) && !(wd == 5 && user.saturday);
    if weekend && insider.is_none() {
        // Now and then somebody looks something up at the weekend, from home.
        if rng.chance(0.04) {
            let actor = actor_for(
                user,
                user.home_ip,
                node_for(ctx.seed, &user.name, u64::from(d), ctx.nodes),
                tag,
            );
            let t0 = ctx.at_local(user.tz_min, rng.range(600, 1_260) as f64);
            let mut c = Client::new(org, rng.clone(), t0, actor, reqs);
            c.dashboard();
            for _ in 0..rng.range(1, 3) {
                if let Some(p) =
                    pick_space(org, user, &mut rng).and_then(|s| org.popular_page(s, &mut rng))
                {
                    c.think(30.0);
                    c.view_page(p, 60.0);
                }
            }
        }
        return;
    }
    // Sick days and a holiday week for some people (never for labelled ones: their label
    // must stay true).
    if !has_rules {
        if rng.chance(0.04) {
            return;
        }
        let mut vr = Rng::derive(ctx.seed, 4, u as u64, 0);
        if vr.chance(0.3) {
            let vs = vr.below(u64::from(ctx.days.max(1))) as u32;
            if (vs..vs + 7).contains(&d) {
                return;
            }
        }
    }

    let mut pages = if newcomer_week {
        rng.range(26, 34) as f64
    } else {
        user.pages_per_day * rng.lognormal(1.0, 0.35) * factor
    };
    if pages < 1.0 {
        pages = 1.0;
    }
    let pages = pages.round() as u32;
    let ip = ip_override.unwrap_or(if rng.chance(user.remote_share) {
        user.home_ip
    } else {
        user.office_ip
    });
    let n_sessions = 1 + u32::from(pages > 8) + u32::from(pages > 30);
    let day_start = user.start_min as f64 + rng.normal() * 20.0;
    let mut left = pages;
    for s in 0..n_sessions {
        let share = if s + 1 == n_sessions {
            left
        } else {
            pages / n_sessions
        };
        left = left.saturating_sub(share);
        let start_min = day_start
            + f64::from(s) * f64::from(user.work_min) / f64::from(n_sessions)
            + rng.range(0, 40) as f64;
        let node = node_for(
            ctx.seed,
            &user.name,
            u64::from(d) * 8 + u64::from(s),
            ctx.nodes,
        );
        let actor = actor_for(user, ip, node, tag);
        let t0 = ctx.at_local(user.tz_min, start_min);
        let srng = Rng::derive(ctx.seed, 5, u as u64, u64::from(d) * 8 + u64::from(s));
        let mut c = Client::new(org, srng, t0, actor, reqs);
        if s == 0 && rng.chance(0.5) {
            // People mistype their password now and then.
            if rng.chance(0.06) {
                c.login(false);
                c.think(8.0);
                c.login_scripted();
            } else {
                c.login(true);
            }
            c.think(1.0);
        }
        if s == 0 || rng.chance(0.5) {
            c.dashboard();
        }
        let mut done = 0;
        while done < share {
            c.think(35.0);
            let r = rng.f64();
            if let Some(htag) = helpdesk_tag.filter(|_| r < 0.2) {
                let _ = htag;
                let term = rng.pick_str(&[
                    "password reset",
                    "account locked",
                    "reset mfa",
                    "password reset",
                ]);
                c.search(term, None);
                if let Some(&p) = rng.pick(&org.helpdesk_pages) {
                    c.view_page(p, 50.0);
                }
                done += 1;
                continue;
            }
            if r < 0.06 {
                let topics = DEPTS
                    .get(user.dept)
                    .map(|x| x.topics)
                    .unwrap_or(COMMON_TOPICS);
                let term = if rng.chance(0.7) {
                    rng.pick_str(topics)
                } else {
                    rng.pick_str(COMMON_TOPICS)
                };
                let own = if rng.chance(0.2) {
                    user.habitual
                        .first()
                        .and_then(|&s| org.spaces.get(s))
                        .map(|s| s.key.to_string())
                } else {
                    None
                };
                c.search(term, own.as_deref());
                let word = term.split(' ').next_back().unwrap_or(term);
                let hits = org.search(word, 10);
                let click = hits.get(rng.index(hits.len().min(5))).copied().or_else(|| {
                    pick_space(org, user, &mut rng).and_then(|s| org.popular_page(s, &mut rng))
                });
                if let Some(p) = click {
                    c.think(5.0);
                    c.view_page(p, 60.0);
                }
                done += 1;
                continue;
            }
            if r < 0.09 {
                if let Some(s) = pick_space(org, user, &mut rng) {
                    c.space_home(s);
                    if let Some(p) = org.popular_page(s, &mut rng) {
                        c.page_tree(p);
                    }
                }
                continue;
            }
            if r < 0.105 {
                if let Some(p) = user
                    .habitual
                    .first()
                    .and_then(|&s| org.popular_page(s, &mut rng))
                {
                    c.edit_page(p);
                }
                continue;
            }
            if r < 0.11 {
                c.people();
                continue;
            }
            let space = if newcomer_week && rng.chance(0.5) {
                org.shared_spaces
                    .get(if rng.chance(0.6) {
                        2
                    } else {
                        rng.index(org.shared_spaces.len())
                    })
                    .copied()
            } else if surge_space.is_some() && rng.chance(0.6) {
                surge_space
            } else {
                pick_space(org, user, &mut rng)
            };
            // An old link to a page that was deleted or moved.
            if rng.chance(0.005) {
                let span = org.max_page_id.saturating_sub(org.min_page_id).max(1);
                let id = org.min_page_id + rng.below(span);
                if !org.page_by_id.contains_key(&id) {
                    c.req(
                        "GET",
                        format!("/pages/viewpage.action?pageId={id}"),
                        404,
                        5_900,
                        60,
                    );
                    continue;
                }
            }
            let Some(p) = space.and_then(|s| org.popular_page(s, &mut rng)) else {
                continue;
            };
            c.view_page(p, 55.0);
            done += 1;
            if let Some(a) = org
                .pages
                .get(p)
                .and_then(|x| rng.pick(&x.attachments).cloned())
                && rng.chance(0.08)
            {
                c.think(4.0);
                c.download_attachment(p, &a);
            }
            if rng.chance(0.004) {
                c.export_pdf(p);
            } else if rng.chance(0.002) {
                c.export_word(p);
            }
        }
        if s + 1 == n_sessions && rng.chance(0.3) {
            c.logout();
        }
    }

    // Looking up how to connect to the VPN: search, the set-up page, its configuration file.
    if let Some(vtag) = vpn_help {
        let node = node_for(ctx.seed, &user.name, u64::from(d) * 8 + 4, ctx.nodes);
        let actor = actor_for(user, ip, node, vtag);
        let t0 = ctx.at_local(user.tz_min, day_start + 45.0 + rng.range(0, 120) as f64);
        let srng = Rng::derive(ctx.seed, 16, u as u64, u64::from(d));
        let mut c = Client::new(org, srng, t0, actor, reqs);
        c.warm = true;
        let term = if rng.chance(0.5) { "vpn" } else { "vpn setup" };
        c.search(term, None);
        if let Some(&p) = org.search("vpn", 1).first() {
            c.view_page(p, 120.0);
            c.download_each_attachment(p, 10.0);
        }
    }

    // Some evenings people look something up from home.
    if rng.chance(0.03) {
        let node = node_for(ctx.seed, &user.name, u64::from(d) * 8 + 5, ctx.nodes);
        let actor = actor_for(user, user.home_ip, node, tag);
        let t0 = ctx.at_local(user.tz_min, rng.range(20 * 60, 22 * 60 + 30) as f64);
        let srng = Rng::derive(ctx.seed, 14, u as u64, u64::from(d));
        let mut c = Client::new(org, srng, t0, actor, reqs);
        c.dashboard();
        for _ in 0..rng.range(2, 6) {
            if let Some(p) =
                pick_space(org, user, &mut rng).and_then(|s| org.popular_page(s, &mut rng))
            {
                c.think(40.0);
                c.view_page(p, 70.0);
            }
        }
    }

    // The insider's extra reading: two stretches in working hours, same address and browser.
    if let Some((spaces, per_day, itag)) = insider {
        let half = per_day / 2;
        for (k, n) in [half, per_day - half].into_iter().enumerate() {
            let start_min =
                user.start_min as f64 + 90.0 + k as f64 * 200.0 + rng.range(0, 60) as f64;
            let node = node_for(
                ctx.seed,
                &user.name,
                u64::from(d) * 8 + 6 + k as u64,
                ctx.nodes,
            );
            let actor = actor_for(user, ip, node, itag);
            let t0 = ctx.at_local(user.tz_min, start_min);
            let srng = Rng::derive(ctx.seed, 6, u as u64, u64::from(d) * 8 + k as u64);
            let mut c = Client::new(org, srng, t0, actor, reqs);
            c.warm = true;
            for _ in 0..n {
                let Some(&s) = rng.pick(spaces) else { break };
                if let Some(p) = org.popular_page(s, &mut rng) {
                    c.think(40.0);
                    c.view_page(p, 50.0);
                }
            }
        }
    }
}

fn actor_for(user: &crate::org::User, ip: Ipv4Addr, node: u8, tag: u16) -> Actor {
    Actor {
        user: Some(Arc::clone(&user.name)),
        ip,
        ua: Arc::clone(&user.ua),
        node,
        tag,
        dept: Some(user.dept),
        admin: false,
    }
}

/// A space to read in: mostly the person's habitual spaces, own department first, rarely
/// somewhere new.
fn pick_space(org: &Org, user: &crate::org::User, rng: &mut Rng) -> Option<usize> {
    if rng.chance(0.015) {
        let s = rng.index(org.spaces.len());
        if org.spaces.get(s).is_some_and(|sp| !sp.personal) {
            return Some(s);
        }
    }
    let own = org
        .dept_spaces
        .get(user.dept)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let r = rng.f64();
    if r < 0.45 {
        own.first().copied()
    } else if r < 0.68 && own.len() > 1 {
        rng.pick(own).copied()
    } else if r < 0.86 {
        rng.pick(&org.shared_spaces).copied()
    } else {
        rng.pick(&user.habitual).copied()
    }
}

/// An administrator creates the newcomer's account and adds it to its groups.
fn onboard(
    org: &Org,
    ctx: &DayCtx,
    u: usize,
    tag: u16,
    rng: &mut Rng,
    reqs: &mut Vec<Req>,
    audits: &mut Vec<AuditRec>,
) {
    let (Some(user), Some(admin)) = (org.users.get(u), org.admins.first()) else {
        return;
    };
    let owner = org.users.get(admin.owner);
    let actor = Actor {
        user: Some(Arc::clone(&admin.name)),
        ip: admin.ip,
        ua: owner
            .map(|o| Arc::clone(&o.ua))
            .unwrap_or_else(|| Arc::from("-")),
        node: 0,
        tag: 0,
        dept: owner.map(|o| o.dept),
        admin: true,
    };
    let t0 = ctx.at_local(ctx.server_tz_min, 8.0 * 60.0 + rng.range(0, 40) as f64);
    let mut c = Client::new(org, rng.clone(), t0, actor, reqs);
    c.req(
        "GET",
        "/admin/users/createuser.action".into(),
        200,
        21_000,
        120,
    );
    c.think(40.0);
    c.req(
        "POST",
        "/admin/users/docreateuser.action".into(),
        302,
        0,
        310,
    );
    let author_id = user_key(&admin.name);
    let uid = user_key(&user.name);
    let dept_group = format!(
        "{}-team",
        DEPTS.get(user.dept).map(|d| d.name).unwrap_or("staff")
    );
    let base = AuditRec {
        t_ms: c.t,
        action: "User created",
        action_key: "audit.logging.summary.user.created",
        area: "USER_MANAGEMENT",
        category: "Users and groups",
        category_key: "audit.logging.category.user.management",
        author: Arc::clone(&admin.name),
        author_id,
        source: admin.ip,
        objects: vec![("User", user.display.clone(), uid.clone())],
        changes: vec![
            ("Display name", user.display.clone()),
            ("Email", format!("{}@corp.example", user.name)),
            ("Username", user.name.to_string()),
        ],
        extra: vec![],
        tag,
    };
    audits.push(base.clone());
    for (i, group) in ["confluence-users".to_string(), dept_group]
        .into_iter()
        .enumerate()
    {
        audits.push(AuditRec {
            t_ms: base.t_ms + 4_000 * (i as i64 + 1),
            action: "User added to group",
            action_key: "audit.logging.summary.group.membership.added",
            objects: vec![
                ("Group", group.clone(), group),
                ("User", user.name.to_string(), uid.clone()),
            ],
            changes: vec![],
            ..base.clone()
        });
    }
}

/// A person's own script: every working morning it reads the pages of a report and
/// updates one.
fn automation(
    org: &Org,
    ctx: &DayCtx,
    u: usize,
    ip: Ipv4Addr,
    space: usize,
    tag: u16,
    reqs: &mut Vec<Req>,
) {
    let (Some(user), Some(sp)) = (org.users.get(u), org.spaces.get(space)) else {
        return;
    };
    let mut rng = Rng::derive(ctx.seed, 15, u as u64, u64::from(ctx.day));
    let actor = Actor {
        user: Some(Arc::clone(&user.name)),
        ip,
        ua: Arc::from("python-requests/2.28.2"),
        node: node_for(ctx.seed, &user.name, u64::from(ctx.day) * 8 + 7, ctx.nodes),
        tag,
        dept: Some(user.dept),
        admin: false,
    };
    let t0 = ctx.at_local(user.tz_min, 7.0 * 60.0 + rng.range(0, 4) as f64);
    let mut c = Client::new(org, rng.clone(), t0, actor, reqs);
    c.req(
        "GET",
        format!(
            "/rest/api/content/search?cql=space%3D{}+and+label%3Dstatus-report&limit=25",
            sp.key
        ),
        200,
        14_000,
        180,
    );
    // The same report pages every day: the most popular pages of the space.
    let n = rng.range(15, 25) as usize;
    for &p in sp.pages.iter().take(n) {
        let Some(page) = org.pages.get(p) else {
            continue;
        };
        c.wait_ms(rng.range(200, 900) as i64);
        c.req(
            "GET",
            format!("/rest/api/content/{}?expand=body.storage,version", page.id),
            200,
            rng.range(4_000, 60_000) as u32,
            70,
        );
    }
    if let Some(page) = sp.pages.first().and_then(|&p| org.pages.get(p)) {
        c.wait_ms(rng.range(500, 2_000) as i64);
        c.req(
            "PUT",
            format!("/rest/api/content/{}", page.id),
            200,
            3_400,
            420,
        );
    }
}

/// The enterprise-search crawler's nightly run over every non-personal space.
pub fn crawler_night(org: &Org, plan: &Plan, ctx: &DayCtx, reqs: &mut Vec<Req>) {
    if !plan.crawler_on {
        return;
    }
    let mut rng = Rng::derive(ctx.seed, 7, 0, u64::from(ctx.day));
    let sa = &org.service;
    let actor = Actor {
        user: Some(Arc::clone(&sa.crawler)),
        ip: sa.crawler_ip,
        ua: Arc::clone(&sa.crawler_ua),
        node: 0,
        tag: plan.crawler_tag,
        dept: None,
        admin: true,
    };
    let t0 = ctx.at_local(ctx.server_tz_min, 60.0 + rng.range(0, 10) as f64);
    let crng = Rng::derive(ctx.seed, 8, 0, u64::from(ctx.day));
    let mut c = Client::new(org, crng, t0, actor, reqs);
    let n_spaces = org.spaces.iter().filter(|s| !s.personal).count();
    for start in (0..n_spaces.max(1)).step_by(100) {
        c.req(
            "GET",
            format!("/rest/api/space?type=global&limit=100&start={start}"),
            200,
            31_000,
            90,
        );
        c.wait_ms(rng.range(100, 400) as i64);
    }
    for sp in org.spaces.iter().filter(|s| !s.personal) {
        let mut start = 0;
        while start < sp.pages.len() {
            let bytes = rng.range(150_000, 1_200_000) as u32;
            c.req("GET", format!("/rest/api/content?spaceKey={}&type=page&expand=body.storage,version,space,ancestors&limit=50&start={start}", sp.key), 200, bytes, rng.range(200, 1_800) as u32);
            // The connector throttles itself to spare the server.
            c.wait_ms(rng.range(1_500, 6_000) as i64);
            start += 50;
        }
    }
    c.req("GET", "/rest/api/search?cql=lastmodified+%3E%3D+now%28%22-1d%22%29+and+type%3Dpage&limit=100&start=0".into(), 200, 60_000, 400);
    let changed = (org.pages.len() / 50).max(5);
    for _ in 0..changed {
        let Some(p) = rng.pick(&org.pages) else { break };
        c.wait_ms(rng.range(100, 500) as i64);
        c.req(
            "GET",
            format!(
                "/rest/api/content/{}?expand=body.storage,version,space",
                p.id
            ),
            200,
            rng.range(4_000, 80_000) as u32,
            60,
        );
        if !p.attachments.is_empty() {
            c.wait_ms(rng.range(100, 400) as i64);
            c.req(
                "GET",
                format!("/rest/api/content/{}/child/attachment?limit=50", p.id),
                200,
                3_200,
                40,
            );
        }
    }
}

/// The backup job: one or two space exports a night.
pub fn export_night(
    org: &Org,
    plan: &Plan,
    ctx: &DayCtx,
    reqs: &mut Vec<Req>,
    audits: &mut Vec<AuditRec>,
) {
    if !plan.exporter_on {
        return;
    }
    let sa = &org.service;
    let actor = Actor {
        user: Some(Arc::clone(&sa.exporter)),
        ip: sa.exporter_ip,
        ua: Arc::clone(&sa.exporter_ua),
        node: 0,
        tag: plan.exporter_tag,
        dept: None,
        admin: true,
    };
    let mut rng = Rng::derive(ctx.seed, 11, 0, u64::from(ctx.day));
    let t0 = ctx.at_local(ctx.server_tz_min, 150.0 + rng.range(0, 5) as f64);
    let global: Vec<usize> = (0..org.spaces.len())
        .filter(|&i| org.spaces.get(i).is_some_and(|s| !s.personal))
        .collect();
    let author = user_key(&sa.exporter);
    let mut c = Client::new(org, rng.clone(), t0, actor, reqs);
    let per_night = 1 + usize::from(rng.chance(0.5));
    for k in 0..per_night {
        let i = (ctx.day as usize * 2 + k) % global.len().max(1);
        if let Some(&s) = global.get(i) {
            if let Some(rec) = c.space_export(s, &author) {
                audits.push(rec);
            }
            c.think(30.0);
        }
    }
}

/// Administrators at work with their privileged accounts: consoles and permission
/// changes, never content.
pub fn admin_day(org: &Org, ctx: &DayCtx, reqs: &mut Vec<Req>, audits: &mut Vec<AuditRec>) {
    if is_weekend(ctx.start_wd, ctx.day) {
        return;
    }
    for (i, a) in org.admins.iter().enumerate() {
        let mut rng = Rng::derive(ctx.seed, 12, i as u64, u64::from(ctx.day));
        if !rng.chance(0.4) {
            continue;
        }
        let owner = org.users.get(a.owner);
        let actor = Actor {
            user: Some(Arc::clone(&a.name)),
            ip: a.ip,
            ua: owner
                .map(|o| Arc::clone(&o.ua))
                .unwrap_or_else(|| Arc::from("-")),
            node: node_for(ctx.seed, &a.name, u64::from(ctx.day), ctx.nodes),
            tag: 0,
            dept: owner.map(|o| o.dept),
            admin: true,
        };
        let t0 = ctx.at_local(ctx.server_tz_min, rng.range(600, 960) as f64);
        let mut c = Client::new(org, rng.clone(), t0, actor, reqs);
        c.login(true);
        for target in [
            "/admin/console.action",
            "/admin/viewgeneralconfig.action",
            "/admin/users/browseusers.action",
            "/admin/systeminfo.action",
            "/admin/plugins/monitoring/index.action",
        ] {
            if rng.chance(0.6) {
                c.think(20.0);
                c.req(
                    "GET",
                    target.to_string(),
                    200,
                    rng.range(9_000, 60_000) as u32,
                    rng.range(60, 900) as u32,
                );
            }
        }
        if rng.chance(0.3) {
            let Some(sp) = rng.pick(&org.spaces).filter(|s| !s.personal) else {
                continue;
            };
            c.think(15.0);
            c.req(
                "GET",
                format!("/spaces/spacepermissions.action?key={}", sp.key),
                200,
                33_000,
                240,
            );
            c.think(30.0);
            c.req(
                "POST",
                format!("/spaces/doeditspacepermissions.action?key={}", sp.key),
                302,
                0,
                380,
            );
            let group = format!(
                "{}-team",
                sp.dept
                    .and_then(|d| DEPTS.get(d))
                    .map(|d| d.name)
                    .unwrap_or("staff")
            );
            audits.push(AuditRec {
                t_ms: c.t,
                action: "Space permission added",
                action_key: "audit.logging.summary.space.permission.added",
                area: "PERMISSIONS",
                category: "Permissions",
                category_key: "audit.logging.category.permissions",
                author: Arc::clone(&a.name),
                author_id: user_key(&a.name),
                source: a.ip,
                objects: vec![
                    ("Group", group.clone(), group.clone()),
                    ("Space", sp.key.to_lowercase(), sp.id.to_string()),
                ],
                changes: vec![
                    ("Group", group),
                    ("Space", sp.key.to_string()),
                    (
                        "Type",
                        rng.pick_str(&["VIEWSPACE", "EDITSPACE", "COMMENT", "CREATEATTACHMENT"])
                            .to_string(),
                    ),
                ],
                extra: vec![],
                tag: 0,
            });
        }
        c.think(10.0);
        c.logout();
    }
}

/// Load-balancer health checks: `GET /status` once a minute on every node.
pub fn health_checks(ctx: &DayCtx, reqs: &mut Vec<Req>) {
    let ua: Arc<str> = Arc::from("HAProxy health check");
    for node in 0..ctx.nodes {
        let mut rng = Rng::derive(ctx.seed, 13, u64::from(node), u64::from(ctx.day));
        for m in 0..1_440i64 {
            reqs.push(Req {
                t_ms: ctx.midnight_ms
                    + m * 60_000
                    + i64::from(node) * 7_000
                    + rng.range(0, 900) as i64,
                user: None,
                client: crate::format::HEALTH_CHECKER,
                ua: Arc::clone(&ua),
                method: "GET",
                target: "/status".to_string(),
                status: 200,
                bytes: 22,
                dur_ms: rng.range(1, 6) as u32,
                referer: None,
                thread: rng.range(1, 200) as u16,
                node,
                tag: 0,
                login_name: None,
            });
        }
    }
}
