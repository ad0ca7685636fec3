//! The labelled part of the simulation: attack scenarios, hard benign cases, the plan that
//! places them on days and accounts, what each attack episode sends, and the labels file.

use crate::browse::{Actor, Client, user_key};
use crate::format::{AuditRec, Req};
use crate::org::{DEPTS, Org, SENSITIVE_PAGES};
use crate::rng::Rng;
use serde::Serialize;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// A labelled attack scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    CredentialHunt,
    PrivilegedBrowsing,
    RestScrape,
    InsiderLowSlow,
    MassExport,
    BruteForceThenBrowse,
    PasswordSpray,
    AttachmentMassDownload,
    PageIdEnumeration,
    DormantAccount,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::CredentialHunt,
        Scenario::PrivilegedBrowsing,
        Scenario::RestScrape,
        Scenario::InsiderLowSlow,
        Scenario::MassExport,
        Scenario::BruteForceThenBrowse,
        Scenario::PasswordSpray,
        Scenario::AttachmentMassDownload,
        Scenario::PageIdEnumeration,
        Scenario::DormantAccount,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Scenario::CredentialHunt => "credential_hunt",
            Scenario::PrivilegedBrowsing => "privileged_browsing",
            Scenario::RestScrape => "rest_scrape",
            Scenario::InsiderLowSlow => "insider_low_slow",
            Scenario::MassExport => "mass_export",
            Scenario::BruteForceThenBrowse => "brute_force_then_browse",
            Scenario::PasswordSpray => "password_spray",
            Scenario::AttachmentMassDownload => "attachment_mass_download",
            Scenario::PageIdEnumeration => "page_id_enumeration",
            Scenario::DormantAccount => "dormant_account",
        }
    }

    /// ATT&CK techniques the scenario exercises.
    pub fn techniques(self) -> &'static [&'static str] {
        match self {
            Scenario::CredentialHunt => &["T1078", "T1213.001", "T1552"],
            Scenario::PrivilegedBrowsing => &["T1078.002", "T1213.001"],
            Scenario::RestScrape => &["T1078", "T1213.001", "T1119"],
            Scenario::InsiderLowSlow => &["T1213.001"],
            Scenario::MassExport => &["T1213.001", "T1119"],
            Scenario::BruteForceThenBrowse => &["T1110.001", "T1078", "T1213.001"],
            Scenario::PasswordSpray => &["T1110.003"],
            Scenario::AttachmentMassDownload => &["T1213.001", "T1119"],
            Scenario::PageIdEnumeration => &["T1213.001", "T1119"],
            Scenario::DormantAccount => &["T1078", "T1213.001"],
        }
    }
}

/// A hard benign case: unusual on purpose, must not alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BenignCase {
    SearchCrawler,
    NightlyExport,
    Newcomer,
    HeavyReader,
    HelpdeskPasswordReset,
    TeamSurge,
    TravelNewIp,
    AutomationScript,
    VpnHelpSearch,
}

impl BenignCase {
    pub const ALL: [BenignCase; 9] = [
        BenignCase::SearchCrawler,
        BenignCase::NightlyExport,
        BenignCase::Newcomer,
        BenignCase::HeavyReader,
        BenignCase::HelpdeskPasswordReset,
        BenignCase::TeamSurge,
        BenignCase::TravelNewIp,
        BenignCase::AutomationScript,
        BenignCase::VpnHelpSearch,
    ];

    pub fn id(self) -> &'static str {
        match self {
            BenignCase::SearchCrawler => "search_crawler",
            BenignCase::NightlyExport => "nightly_export",
            BenignCase::Newcomer => "newcomer",
            BenignCase::HeavyReader => "heavy_reader",
            BenignCase::HelpdeskPasswordReset => "helpdesk_password_reset",
            BenignCase::TeamSurge => "team_surge",
            BenignCase::TravelNewIp => "travel_new_ip",
            BenignCase::AutomationScript => "automation_script",
            BenignCase::VpnHelpSearch => "vpn_help_search",
        }
    }
}

/// Parses `all`, `none` or a comma list of ids from `known`.
pub fn parse_list<T: Copy>(
    s: &str,
    known: &[T],
    id: fn(T) -> &'static str,
) -> Result<Vec<T>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(known.to_vec());
    }
    if s.eq_ignore_ascii_case("none") || s.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match known.iter().find(|k| id(**k) == part) {
            Some(k) => out.push(*k),
            None => {
                let names: Vec<&str> = known.iter().map(|k| id(*k)).collect();
                return Err(format!(
                    "unknown name `{part}` (known: {})",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// One line of `labels.jsonl`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Label {
    pub scenario: String,
    /// `attack` or `benign`.
    pub kind: String,
    pub users: Vec<String>,
    pub source_ips: Vec<String>,
    /// First and last request or audit record of the instance (RFC 3339, server offset).
    pub start: String,
    pub end: String,
    pub description: String,
    pub techniques: Vec<String>,
    /// Access-log requests written for this instance.
    #[serde(default)]
    pub requests: u64,
    /// Audit records written for this instance.
    #[serde(default)]
    pub audit_records: u64,
}

impl Label {
    /// True for attacks (which must be detected), false for hard benign cases.
    pub fn is_attack(&self) -> bool {
        self.kind == "attack"
    }

    /// `start` and `end` as instants, or `None` when either does not parse.
    pub fn window(
        &self,
    ) -> Option<(
        chrono::DateTime<chrono::FixedOffset>,
        chrono::DateTime<chrono::FixedOffset>,
    )> {
        let s = chrono::DateTime::parse_from_rfc3339(&self.start).ok()?;
        let e = chrono::DateTime::parse_from_rfc3339(&self.end).ok()?;
        Some((s, e))
    }
}

/// A label being built: what it is, and the bounds seen while writing.
pub struct LabelMeta {
    pub scenario: &'static str,
    pub attack: bool,
    pub users: Vec<String>,
    pub source_ips: Vec<String>,
    pub description: String,
    pub techniques: Vec<&'static str>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub requests: u64,
    pub audit_records: u64,
}

/// What changes about one person's ordinary days.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Not active before `day`; reads ~30 pages a day, onboarding material first, for a week.
    Newcomer {
        day: u32,
        tag: u16,
    },
    /// Not active from day `from` on (the wake-up is a separate episode).
    Dormant {
        from: u32,
    },
    /// Every line of the person is tagged (heavy readers, help desk).
    Tagged {
        tag: u16,
    },
    HelpdeskSearches {
        tag: u16,
    },
    Travel {
        from: u32,
        to: u32,
        ip: Ipv4Addr,
        tag: u16,
    },
    Surge {
        day: u32,
        factor: f64,
        space: usize,
        tag: u16,
    },
    /// On `day`, searches for VPN help and reads (and downloads) the VPN set-up page.
    VpnHelp {
        day: u32,
        tag: u16,
    },
    /// A script the person runs every working morning with their own account.
    Automation {
        ip: Ipv4Addr,
        space: usize,
        tag: u16,
    },
    /// Extra pages a day in spaces never visited before.
    Insider {
        days: Vec<u32>,
        spaces: Vec<usize>,
        per_day: u32,
        tag: u16,
    },
}

/// A one-off attack episode.
#[derive(Debug, Clone)]
pub enum Episode {
    CredentialHunt {
        user: usize,
        ip: Ipv4Addr,
    },
    PrivilegedBrowsing {
        admin: usize,
        spaces: Vec<usize>,
    },
    RestScrape {
        user: usize,
        ip: Ipv4Addr,
        spaces: Vec<usize>,
    },
    MassExport {
        user: usize,
        spaces: Vec<usize>,
    },
    BruteForce {
        user: usize,
        ip: Ipv4Addr,
    },
    Spray {
        ip: Ipv4Addr,
        /// The accounts tried, one attempt each (filled in once every other label exists).
        targets: Vec<usize>,
    },
    AttachmentMass {
        user: usize,
        spaces: Vec<usize>,
    },
    Enumeration {
        user: usize,
        ip: Ipv4Addr,
    },
    DormantWake {
        user: usize,
        ip: Ipv4Addr,
        spaces: Vec<usize>,
    },
}

pub struct Scheduled {
    pub day: u32,
    /// Minutes after server-local midnight.
    pub start_min: u32,
    pub episode: Episode,
    pub tag: u16,
}

/// Where everything labelled happens.
pub struct Plan {
    pub labels: Vec<LabelMeta>,
    pub rules: Vec<Vec<Rule>>,
    pub episodes: Vec<Scheduled>,
    /// Label tag of the crawler and the nightly export (0 = the account does not exist).
    pub crawler_tag: u16,
    pub exporter_tag: u16,
    pub crawler_on: bool,
    pub exporter_on: bool,
}

impl Plan {
    fn label(
        &mut self,
        scenario: &'static str,
        attack: bool,
        users: Vec<String>,
        ips: Vec<String>,
        description: String,
        techniques: &[&'static str],
    ) -> u16 {
        self.labels.push(LabelMeta {
            scenario,
            attack,
            users,
            source_ips: ips,
            description,
            techniques: techniques.to_vec(),
            first_ms: None,
            last_ms: None,
            requests: 0,
            audit_records: 0,
        });
        self.labels.len() as u16
    }

    /// Places the chosen scenarios and benign cases on accounts and days.
    pub fn build(
        org: &Org,
        seed: u64,
        start_wd: u32,
        days: u32,
        scenarios: &[Scenario],
        benign: &[BenignCase],
        instances: u32,
    ) -> Plan {
        let mut rng = Rng::derive(seed, 2, 0, 0);
        let is_weekend_idx = |d: u32| is_weekend(start_wd, d);
        let mut plan = Plan {
            labels: Vec::new(),
            rules: vec![Vec::new(); org.users.len()],
            episodes: Vec::new(),
            crawler_tag: 0,
            exporter_tag: 0,
            crawler_on: false,
            exporter_on: false,
        };
        let days = days.max(1);
        // Attacks happen after a learning period: the second half of the run.
        let attack_lo = days / 2;
        let attack_hi = days.saturating_sub(1).max(attack_lo);
        let admin_owners: Vec<usize> = org.admins.iter().map(|a| a.owner).collect();
        // Ordinary people on the server's time zone: the pool accounts are drawn from.
        let mut pool: Vec<usize> = (0..org.users.len())
            .filter(|&i| {
                org.users
                    .get(i)
                    .is_some_and(|u| u.tz_min == org.server_tz_min && !u.heavy && !u.helpdesk)
                    && !admin_owners.contains(&i)
            })
            .collect();
        rng.shuffle(&mut pool);
        // The automation owner is an engineer, taken from the end of the pool so that it
        // does not disturb which accounts the other cases get.
        let eng = DEPTS
            .iter()
            .position(|d| d.name == "engineering")
            .unwrap_or(0);
        let automation_owner = pool
            .iter()
            .rposition(|&u| org.users.get(u).is_some_and(|x| x.dept == eng))
            .map(|i| pool.remove(i));
        let mut take = {
            let mut next = 0usize;
            let all = (0..org.users.len()).collect::<Vec<_>>();
            move || -> usize {
                let v = pool
                    .get(next)
                    .copied()
                    .or_else(|| all.get(next % all.len().max(1)).copied())
                    .unwrap_or(0);
                next += 1;
                v
            }
        };
        let name = |i: usize| {
            org.users
                .get(i)
                .map(|u| u.name.to_string())
                .unwrap_or_default()
        };
        let working_day = |d: u32| !org.users.is_empty() && !is_weekend_idx(d);

        // --- benign cases ---
        for case in benign {
            match case {
                BenignCase::SearchCrawler => {
                    plan.crawler_on = true;
                    plan.crawler_tag = plan.label("search_crawler", false, vec![org.service.crawler.to_string()], vec![org.service.crawler_ip.to_string()],
                        "Enterprise-search connector: every night it lists every space through the REST API with expand=body.storage and reads changed pages, thousands of pages a night, python-requests user agent, fixed internal address.".into(), &[]);
                }
                BenignCase::NightlyExport => {
                    plan.exporter_on = true;
                    plan.exporter_tag = plan.label("nightly_export", false, vec![org.service.exporter.to_string()], vec![org.service.exporter_ip.to_string()],
                        "Backup job: every night around 02:30 it exports one or two spaces (export screen, doexportspace, progress polling, zip download) and the audit log records each export.".into(), &[]);
                }
                BenignCase::Newcomer => {
                    let n = (org.users.len() / 400).max(1);
                    for _ in 0..n {
                        let u = take();
                        let lo = (days / 5).max(1).min(days.saturating_sub(1));
                        let hi = (days * 7 / 10).max(lo);
                        let mut day = rng.range(u64::from(lo), u64::from(hi)) as u32;
                        while is_weekend_idx(day) && day + 1 < days {
                            day += 1;
                        }
                        let tag = plan.label("newcomer", false, vec![name(u)], vec![], format!("New starter: no activity before day {day}, account created that day (audit), then about 30 pages a day for the first week in onboarding, shared and own-department spaces, all of them first visits."), &[]);
                        if let Some(r) = plan.rules.get_mut(u) {
                            r.push(Rule::Newcomer { day, tag });
                        }
                    }
                }
                BenignCase::HeavyReader => {
                    for (i, u) in org.users.iter().enumerate() {
                        if u.heavy {
                            let tag = plan.label("heavy_reader", false, vec![u.name.to_string()], vec![], format!("Routinely reads {:.0} pages a working day, every day of the run.", u.pages_per_day), &[]);
                            if let Some(r) = plan.rules.get_mut(i) {
                                r.push(Rule::Tagged { tag });
                            }
                        }
                    }
                }
                BenignCase::HelpdeskPasswordReset => {
                    let staff: Vec<usize> = org
                        .users
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.helpdesk)
                        .map(|(i, _)| i)
                        .collect();
                    if !staff.is_empty() {
                        let tag = plan.label("helpdesk_password_reset", false, staff.iter().map(|&i| name(i)).collect(), vec![], "IT help-desk staff search \"password reset\", \"account locked\" and \"reset mfa\" several times a day and read the help-centre articles: credential words, but routine.".into(), &[]);
                        for i in staff {
                            if let Some(r) = plan.rules.get_mut(i) {
                                r.push(Rule::HelpdeskSearches { tag });
                            }
                        }
                    }
                }
                BenignCase::TeamSurge => {
                    let fin = DEPTS.iter().position(|d| d.name == "finance").unwrap_or(0);
                    let members: Vec<usize> = org
                        .users
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.dept == fin)
                        .map(|(i, _)| i)
                        .collect();
                    let mut day = rng.range(u64::from(attack_lo), u64::from(attack_hi)) as u32;
                    while !working_day(day) && day > 0 {
                        day -= 1;
                    }
                    let space = org
                        .dept_spaces
                        .get(fin)
                        .and_then(|v| v.first())
                        .copied()
                        .unwrap_or(0);
                    let tag = plan.label("team_surge", false, members.iter().map(|&i| name(i)).collect(), vec![], format!("Quarter close: the whole finance department reads about three times its usual number of pages on day {day}, mostly in its own spaces."), &[]);
                    for i in members {
                        if let Some(r) = plan.rules.get_mut(i) {
                            r.push(Rule::Surge {
                                day,
                                factor: 3.0,
                                space,
                                tag,
                            });
                        }
                    }
                }
                BenignCase::VpnHelpSearch => {
                    let n = (org.users.len() / 100).max(1);
                    for _ in 0..n {
                        let u = take();
                        let mut day = rng.range(0, u64::from(days.saturating_sub(1))) as u32;
                        while !working_day(day) && day > 0 {
                            day -= 1;
                        }
                        let tag = plan.label("vpn_help_search", false, vec![name(u)], vec![], format!("On day {day} an ordinary employee who has to work remotely searches \"vpn\" or \"vpn setup\", reads the VPN set-up page (a credential-bearing page) and downloads its client configuration: once, in working hours, from the usual address."), &[]);
                        if let Some(r) = plan.rules.get_mut(u) {
                            r.push(Rule::VpnHelp { day, tag });
                        }
                    }
                }
                BenignCase::AutomationScript => {
                    let Some(u) = automation_owner else { continue };
                    let ip = Ipv4Addr::new(10, 20, 250, rng.range(2, 250) as u8);
                    let space = org
                        .users
                        .get(u)
                        .and_then(|x| x.habitual.first())
                        .copied()
                        .unwrap_or(0);
                    let tag = plan.label("automation_script", false, vec![name(u)], vec![ip.to_string()], "An engineer's own python-requests script runs every working morning at about 07:00 from a build machine: a CQL search, 15-25 page reads with expand=body.storage, and one page update (a status report). Scripted REST reading with a user account, but routine from the first day.".into(), &[]);
                    if let Some(r) = plan.rules.get_mut(u) {
                        r.push(Rule::Automation { ip, space, tag });
                    }
                }
                BenignCase::TravelNewIp => {
                    let n = (org.users.len() / 500).max(1);
                    for _ in 0..n {
                        let u = take();
                        let ip = Ipv4Addr::new(
                            *rng.pick(&[217u8, 81, 46, 151]).unwrap_or(&217),
                            rng.range(1, 254) as u8,
                            rng.range(0, 255) as u8,
                            rng.range(2, 254) as u8,
                        );
                        let mut from = rng
                            .range(u64::from(attack_lo.saturating_sub(3)), u64::from(attack_hi))
                            as u32;
                        // Travel starts on a working day, so the trip is visible in a short run.
                        while !working_day(from) && from > 0 {
                            from -= 1;
                        }
                        let to = (from + 3).min(days);
                        let tag = plan.label("travel_new_ip", false, vec![name(u)], vec![ip.to_string()], format!("Business trip: days {from} to {} from a hotel network never seen before, usual browser and usual reading.", to.saturating_sub(1)), &[]);
                        if let Some(r) = plan.rules.get_mut(u) {
                            r.push(Rule::Travel { from, to, ip, tag });
                        }
                    }
                }
            }
        }

        // --- attacks ---
        let other_spaces = |u: usize, rng: &mut Rng, n: usize| -> Vec<usize> {
            let habit: &[usize] = org
                .users
                .get(u)
                .map(|x| x.habitual.as_slice())
                .unwrap_or(&[]);
            let mut cands: Vec<usize> = org
                .spaces
                .iter()
                .enumerate()
                .filter(|(i, s)| s.dept.is_some() && !habit.contains(i) && s.pages.len() >= 20)
                .map(|(i, _)| i)
                .collect();
            rng.shuffle(&mut cands);
            cands.truncate(n);
            cands
        };
        for _ in 0..instances.max(1) {
            for sc in scenarios {
                let mut day = rng.range(u64::from(attack_lo), u64::from(attack_hi)) as u32;
                let tech = sc.techniques();
                match sc {
                    Scenario::CredentialHunt => {
                        let u = take();
                        let ip = Ipv4Addr::new(185, 220, 101, rng.range(2, 250) as u8);
                        let start = rng.range(60, 230) as u32;
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![ip.to_string()], format!("LAPSUS$-like credential hunt on day {day}: night login from a Tor-exit-like address never used by the account, searches for password, vpn, aws, secret, token and similar, then reads the pages (and attachments) the searches found."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::CredentialHunt { user: u, ip },
                            tag,
                        });
                    }
                    Scenario::PrivilegedBrowsing => {
                        let admin = rng.index(org.admins.len().saturating_sub(1).max(1));
                        let aname = org
                            .admins
                            .get(admin)
                            .map(|a| a.name.to_string())
                            .unwrap_or_default();
                        let aip = org
                            .admins
                            .get(admin)
                            .map(|a| a.ip.to_string())
                            .unwrap_or_default();
                        let sensitive: Vec<usize> = ["hr", "finance", "legal", "security"]
                            .iter()
                            .filter_map(|n| DEPTS.iter().position(|d| d.name == *n))
                            .filter_map(|d| org.dept_spaces.get(d).and_then(|v| v.first()).copied())
                            .collect();
                        let start = rng.range(17 * 60, 21 * 60) as u32;
                        while !working_day(day) && day > 0 {
                            day -= 1;
                        }
                        let tag = plan.label(sc.id(), true, vec![aname.clone()], vec![aip], format!("Privileged account {aname} (listed in privileged.txt, normally used only for administration screens) reads dozens of pages in HR, finance, legal and security spaces on day {day}."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::PrivilegedBrowsing {
                                admin,
                                spaces: sensitive,
                            },
                            tag,
                        });
                    }
                    Scenario::RestScrape => {
                        let u = take();
                        let ip =
                            Ipv4Addr::new(52, 57, rng.range(1, 250) as u8, rng.range(2, 250) as u8);
                        let spaces = other_spaces(u, &mut rng, 3);
                        let mut sp = org
                            .users
                            .get(u)
                            .and_then(|x| x.habitual.first())
                            .copied()
                            .into_iter()
                            .collect::<Vec<_>>();
                        sp.extend(spaces);
                        let start = rng.range(19 * 60, 22 * 60) as u32;
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![ip.to_string()], format!("REST scrape on day {day}: the account's credentials used by a python-requests script from a cloud address, listing spaces and paging through their content with expand=body.storage (REST v1) and body-format=storage (v2)."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::RestScrape {
                                user: u,
                                ip,
                                spaces: sp,
                            },
                            tag,
                        });
                    }
                    Scenario::InsiderLowSlow => {
                        let u = take();
                        let n_days = 6u32.min(days);
                        let first = attack_lo.min(days.saturating_sub(n_days));
                        let first = rng.range(
                            u64::from(first),
                            u64::from(days.saturating_sub(n_days).max(first)),
                        ) as u32;
                        let ds: Vec<u32> = (first..days)
                            .filter(|d| !is_weekend_idx(*d))
                            .take(n_days as usize)
                            .collect();
                        let spaces = other_spaces(u, &mut rng, 6);
                        let per_day = rng.range(30, 40) as u32;
                        let keys: Vec<String> = spaces
                            .iter()
                            .filter_map(|&s| org.spaces.get(s).map(|x| x.key.to_string()))
                            .collect();
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![], format!("Low-and-slow insider: on {} working days from day {first}, about {per_day} extra pages a day in spaces the person never visited before ({}), in working hours, from the usual address and browser.", ds.len(), keys.join(", ")), tech);
                        if let Some(r) = plan.rules.get_mut(u) {
                            r.push(Rule::Insider {
                                days: ds,
                                spaces,
                                per_day,
                                tag,
                            });
                        }
                    }
                    Scenario::MassExport => {
                        let u = take();
                        let mut spaces = org
                            .users
                            .get(u)
                            .map(|x| x.habitual.iter().take(2).copied().collect::<Vec<_>>())
                            .unwrap_or_default();
                        spaces.extend(other_spaces(u, &mut rng, 2));
                        let start = rng.range(15 * 60, 18 * 60) as u32;
                        while !working_day(day) && day > 0 {
                            day -= 1;
                        }
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![], format!("Mass export on day {day}: a burst of PDF and Word page exports, then whole-space exports (zip downloads, audit records)."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::MassExport { user: u, spaces },
                            tag,
                        });
                    }
                    Scenario::BruteForceThenBrowse => {
                        let u = take();
                        let ip = Ipv4Addr::new(
                            45,
                            155,
                            rng.range(200, 210) as u8,
                            rng.range(2, 250) as u8,
                        );
                        let start = rng.range(0, 300) as u32;
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![ip.to_string()], format!("Brute force on day {day}: one address posts the login form 60-200 times (failures, answered 200), then succeeds (302) and browses the account's spaces and beyond."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::BruteForce { user: u, ip },
                            tag,
                        });
                    }
                    Scenario::PasswordSpray => {
                        let ip = Ipv4Addr::new(
                            193,
                            32,
                            rng.range(160, 170) as u8,
                            rng.range(2, 250) as u8,
                        );
                        let attempts = (org.users.len() as u32 / 4).clamp(20, 150);
                        let start = rng.range(120, 1200) as u32;
                        let tag = plan.label(sc.id(), true, Vec::new(), vec![ip.to_string()], format!("Password spray on day {day}: one address tries one password against {attempts} accounts through the login form, all failing. Failed logins are anonymous in the access log (the security log, when written, names them); the listed users are the targets."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::Spray {
                                ip,
                                targets: vec![attempts as usize],
                            },
                            tag,
                        });
                    }
                    Scenario::AttachmentMassDownload => {
                        let u = take();
                        let mut spaces = org
                            .users
                            .get(u)
                            .map(|x| x.habitual.iter().take(2).copied().collect::<Vec<_>>())
                            .unwrap_or_default();
                        spaces.extend(other_spaces(u, &mut rng, 4));
                        let start = rng.range(10 * 60, 16 * 60) as u32;
                        while !working_day(day) && day > 0 {
                            day -= 1;
                        }
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![], format!("Attachment mass download on day {day}: 150-300 attachment downloads (and some download-all zips) across several spaces, 2-25 s apart (about an hour in all)."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::AttachmentMass { user: u, spaces },
                            tag,
                        });
                    }
                    Scenario::PageIdEnumeration => {
                        let u = take();
                        let ip = Ipv4Addr::new(10, 20, 200, rng.range(2, 250) as u8);
                        let start = rng.range(18 * 60, 23 * 60) as u32;
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![ip.to_string()], format!("Page-id enumeration on day {day}: curl walks sequential pageId values of viewpage.action; most ids do not exist (404) or are restricted (403)."), tech);
                        plan.episodes.push(Scheduled {
                            day,
                            start_min: start,
                            episode: Episode::Enumeration { user: u, ip },
                            tag,
                        });
                    }
                    Scenario::DormantAccount => {
                        let u = take();
                        let from = (days / 6).clamp(1, days.saturating_sub(1).max(1));
                        let wake = rng.range(
                            u64::from((days * 3 / 4).max(from + 1)),
                            u64::from(days.saturating_sub(1).max(from + 1)),
                        ) as u32;
                        let ip = home_like(&mut rng);
                        let spaces = other_spaces(u, &mut rng, 10);
                        let start = rng.range(9 * 60, 20 * 60) as u32;
                        let tag = plan.label(sc.id(), true, vec![name(u)], vec![ip.to_string()], format!("Dormant account: active until day {from}, silent until day {wake}, then logs in from a new address and reads 80-150 pages across many spaces."), tech);
                        if let Some(r) = plan.rules.get_mut(u) {
                            r.push(Rule::Dormant { from });
                        }
                        plan.episodes.push(Scheduled {
                            day: wake,
                            start_min: start,
                            episode: Episode::DormantWake {
                                user: u,
                                ip,
                                spaces,
                            },
                            tag,
                        });
                    }
                }
            }
        }
        // Spray targets: accounts no other label names, so that an alert about somebody
        // else's case is never credited to the spray (or the other way round).
        let named: std::collections::HashSet<String> = plan
            .labels
            .iter()
            .filter(|l| l.scenario != "password_spray")
            .flat_map(|l| l.users.iter().cloned())
            .collect();
        let mut free: Vec<usize> = (0..org.users.len())
            .filter(|&i| {
                org.users
                    .get(i)
                    .is_some_and(|u| !named.contains(u.name.as_ref()))
            })
            .collect();
        rng.shuffle(&mut free);
        let mut cursor = 0usize;
        for ep in plan.episodes.iter_mut() {
            if let Episode::Spray { targets, .. } = &mut ep.episode {
                let want = targets.first().copied().unwrap_or(20);
                let chosen: Vec<usize> = free
                    .iter()
                    .cycle()
                    .skip(cursor)
                    .take(want.min(free.len()))
                    .copied()
                    .collect();
                cursor += chosen.len();
                let names: Vec<String> = chosen
                    .iter()
                    .filter_map(|&i| org.users.get(i).map(|u| u.name.to_string()))
                    .collect();
                if let Some(l) = usize::from(ep.tag)
                    .checked_sub(1)
                    .and_then(|i| plan.labels.get_mut(i))
                {
                    l.users = names;
                }
                *targets = chosen;
            }
        }
        plan
    }
}

fn home_like(rng: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::new(
        *rng.pick(&[79u8, 89, 92, 213]).unwrap_or(&79),
        rng.range(1, 254) as u8,
        rng.range(0, 255) as u8,
        rng.range(2, 254) as u8,
    )
}

/// Is day `day` of a run whose day 0 has weekday `start_wd` (Monday = 0) a weekend day?
pub fn is_weekend(start_wd: u32, day: u32) -> bool {
    (start_wd + day) % 7 >= 5
}

/// Sends one attack episode's requests (and audit records) starting at `t0` (epoch ms).
pub fn run_episode(
    org: &Org,
    sc: &Scheduled,
    seed: u64,
    t0: i64,
    nodes: u8,
    reqs: &mut Vec<Req>,
    audits: &mut Vec<AuditRec>,
) {
    let mut rng = Rng::derive(seed, 9, u64::from(sc.tag), u64::from(sc.day));
    let node = rng.below(u64::from(nodes.max(1))) as u8;
    let user_actor = |u: usize, ip: Option<Ipv4Addr>, ua: Option<&str>| -> Actor {
        let p = org.users.get(u);
        Actor {
            user: p.map(|p| Arc::clone(&p.name)),
            ip: ip
                .or(p.map(|p| p.office_ip))
                .unwrap_or(Ipv4Addr::new(10, 20, 0, 1)),
            ua: match ua {
                Some(s) => Arc::from(s),
                None => p
                    .map(|p| Arc::clone(&p.ua))
                    .unwrap_or_else(|| Arc::from("-")),
            },
            node,
            tag: sc.tag,
            dept: p.map(|p| p.dept),
            admin: false,
        }
    };
    let crng = Rng::derive(seed, 10, u64::from(sc.tag), 0);
    match &sc.episode {
        Episode::CredentialHunt { user, ip } => {
            let actor = user_actor(
                *user,
                Some(*ip),
                Some("Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"),
            );
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.login(true);
            c.think(2.0);
            c.dashboard();
            let mut terms = vec![
                "password",
                "passwords",
                "vpn",
                "aws",
                "secret",
                "token",
                "api key",
                "credentials",
                "ssh",
                "private key",
            ];
            rng.shuffle(&mut terms);
            let n = rng.range(6, terms.len() as u64) as usize;
            // "password" always comes first: it is the term every credential hunt starts with.
            let mut order = vec!["password"];
            order.extend(terms.into_iter().filter(|t| *t != "password").take(n));
            for term in order {
                c.think(12.0);
                if rng.chance(0.35) {
                    c.rest_search(term, 50);
                } else {
                    c.search(term, None);
                }
                let hits = org.search(term, 6);
                let k = rng.range(1, 3) as usize;
                for &p in hits.iter().take(k) {
                    c.think(4.0);
                    c.view_page(p, 40.0);
                    c.download_each_attachment(p, 3.0);
                }
            }
            // Make sure every sensitive page was seen: targeted reading of the results.
            for &p in org.sensitive.iter().take(SENSITIVE_PAGES.len()) {
                if rng.chance(0.5) {
                    c.think(6.0);
                    c.view_page(p, 30.0);
                }
            }
        }
        Episode::PrivilegedBrowsing { admin, spaces } => {
            let Some(a) = org.admins.get(*admin) else {
                return;
            };
            let owner = org.users.get(a.owner);
            let actor = Actor {
                user: Some(Arc::clone(&a.name)),
                ip: a.ip,
                ua: owner
                    .map(|o| Arc::clone(&o.ua))
                    .unwrap_or_else(|| Arc::from("-")),
                node,
                tag: sc.tag,
                dept: owner.map(|o| o.dept),
                admin: true,
            };
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.login(true);
            c.dashboard();
            for term in ["salary", "termination", "acquisition"] {
                if rng.chance(0.6) {
                    c.think(10.0);
                    c.search(term, None);
                }
            }
            let n = rng.range(40, 80);
            for _ in 0..n {
                let Some(&s) = rng.pick(spaces) else { break };
                if let Some(p) = org.popular_page(s, &mut rng) {
                    c.think(8.0);
                    c.view_page(p, 35.0);
                }
            }
            c.logout();
        }
        Episode::RestScrape { user, ip, spaces } => {
            let actor = user_actor(*user, Some(*ip), Some("python-requests/2.31.0"));
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.req(
                "GET",
                "/rest/api/space?limit=100&start=0".into(),
                200,
                48_000,
                210,
            );
            for &s in spaces {
                let Some(sp) = org.spaces.get(s) else {
                    continue;
                };
                let total = sp.pages.len();
                let v2 = rng.chance(0.35);
                if v2 {
                    c.wait_ms(rng.range(200, 900) as i64);
                    c.req(
                        "GET",
                        format!("/api/v2/spaces?keys={}", sp.key),
                        200,
                        1_800,
                        60,
                    );
                    let mut fetched = 0;
                    let mut first = true;
                    while fetched < total {
                        c.wait_ms(rng.range(300, 1_500) as i64);
                        let target = if first {
                            format!(
                                "/api/v2/spaces/{}/pages?body-format=storage&limit=250",
                                sp.id
                            )
                        } else {
                            format!(
                                "/api/v2/spaces/{}/pages?body-format=storage&limit=250&cursor=b64{fetched:x}",
                                sp.id
                            )
                        };
                        first = false;
                        let bytes = rng.range(400_000, 3_000_000) as u32;
                        c.req("GET", target, 200, bytes, rng.range(400, 3_000) as u32);
                        fetched += 250;
                    }
                } else {
                    let mut start = 0;
                    while start < total {
                        c.wait_ms(rng.range(300, 1_500) as i64);
                        let bytes = rng.range(200_000, 2_000_000) as u32;
                        c.req("GET", format!("/rest/api/content?spaceKey={}&type=page&expand=body.storage,version&limit=100&start={start}", sp.key), 200, bytes, rng.range(300, 2_500) as u32);
                        start += 100;
                    }
                    // And some single pages with their bodies.
                    for _ in 0..rng.range(10, 30) {
                        if let Some(p) =
                            org.popular_page(s, &mut rng).and_then(|p| org.pages.get(p))
                        {
                            c.wait_ms(rng.range(200, 800) as i64);
                            c.req(
                                "GET",
                                format!(
                                    "/rest/api/content/{}?expand=body.storage,version,ancestors",
                                    p.id
                                ),
                                200,
                                rng.range(5_000, 90_000) as u32,
                                120,
                            );
                        }
                    }
                }
            }
        }
        Episode::MassExport { user, spaces } => {
            let actor = user_actor(*user, None, None);
            let author = user_key(org.users.get(*user).map(|u| u.name.as_ref()).unwrap_or(""));
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.dashboard();
            let n = rng.range(30, 60);
            for i in 0..n {
                let Some(&s) = rng.pick(spaces) else { break };
                if let Some(p) = org.popular_page(s, &mut rng) {
                    c.wait_ms(rng.range(5_000, 40_000) as i64);
                    if i % 4 == 3 {
                        c.export_word(p)
                    } else {
                        c.export_pdf(p)
                    }
                }
            }
            for &s in spaces.iter().take(3) {
                c.think(20.0);
                if let Some(rec) = c.space_export(s, &author) {
                    audits.push(rec);
                }
            }
        }
        Episode::BruteForce { user, ip } => {
            let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
            let actor = user_actor(*user, Some(*ip), Some(ua));
            let mut c = Client::new(org, crng, t0, actor, reqs);
            let tries = rng.range(60, 200);
            for i in 0..tries {
                if i % 25 == 0 {
                    let u = c.actor.user.take();
                    c.req("GET", "/login.action".into(), 200, 11_500, 35);
                    c.actor.user = u;
                }
                c.wait_ms(rng.range(2_000, 15_000) as i64);
                let victim = c.actor.user.clone();
                c.failed_login_scripted(victim);
            }
            c.wait_ms(rng.range(2_000, 9_000) as i64);
            c.login_scripted();
            c.dashboard();
            let habit: Vec<usize> = org
                .users
                .get(*user)
                .map(|u| u.habitual.clone())
                .unwrap_or_default();
            let n = rng.range(30, 60);
            for _ in 0..n {
                let s = if rng.chance(0.6) {
                    rng.pick(&habit).copied()
                } else {
                    Some(rng.index(org.spaces.len()))
                };
                if let Some(p) = s.and_then(|s| org.popular_page(s, &mut rng)) {
                    c.think(15.0);
                    c.view_page(p, 25.0);
                }
            }
        }
        Episode::Spray { ip, targets } => {
            let actor = Actor {
                user: None,
                ip: *ip,
                ua: Arc::from(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
                ),
                node,
                tag: sc.tag,
                dept: None,
                admin: false,
            };
            let mut c = Client::new(org, crng, t0, actor, reqs);
            for &i in targets {
                c.wait_ms(rng.range(5_000, 40_000) as i64);
                let target = org.users.get(i).map(|u| Arc::clone(&u.name));
                c.failed_login_scripted(target);
            }
        }
        Episode::AttachmentMass { user, spaces } => {
            let actor = user_actor(*user, None, None);
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.dashboard();
            let target = rng.range(150, 300);
            let mut done = 0;
            let mut guard = 0;
            while done < target && guard < 5_000 {
                guard += 1;
                let Some(&s) = rng.pick(spaces) else { break };
                let Some(sp) = org.spaces.get(s) else {
                    continue;
                };
                let Some(&p) = rng.pick(&sp.pages) else {
                    continue;
                };
                let atts: Vec<Arc<str>> = org
                    .pages
                    .get(p)
                    .map(|x| x.attachments.clone())
                    .unwrap_or_default();
                if atts.is_empty() {
                    continue;
                }
                if rng.chance(0.1) {
                    c.wait_ms(rng.range(3_000, 20_000) as i64);
                    c.download_all_attachments(p);
                    done += atts.len() as u64;
                    continue;
                }
                for a in atts {
                    c.wait_ms(rng.range(2_000, 25_000) as i64);
                    c.download_attachment(p, &a);
                    done += 1;
                }
            }
        }
        Episode::Enumeration { user, ip } => {
            let actor = user_actor(*user, Some(*ip), Some("curl/8.5.0"));
            let mut c = Client::new(org, crng, t0, actor, reqs);
            let n = rng.range(300, 600);
            let span = org.max_page_id.saturating_sub(org.min_page_id).max(1);
            let first = org.min_page_id + rng.below(span / 2);
            let dept = org.users.get(*user).map(|u| u.dept);
            for id in first..first + n {
                c.wait_ms(rng.range(150, 1_200) as i64);
                let (status, bytes) = match org.page_by_id.get(&id).and_then(|&i| org.pages.get(i))
                {
                    Some(p)
                        if p.restricted && org.spaces.get(p.space).and_then(|s| s.dept) != dept =>
                    {
                        (403, 6_100)
                    }
                    Some(_) => (200, rng.range(20_000, 120_000) as u32),
                    None => (404, 5_900),
                };
                c.req(
                    "GET",
                    format!("/pages/viewpage.action?pageId={id}"),
                    status,
                    bytes,
                    rng.range(20, 300) as u32,
                );
            }
        }
        Episode::DormantWake { user, ip, spaces } => {
            let actor = user_actor(*user, Some(*ip), None);
            let mut c = Client::new(org, crng, t0, actor, reqs);
            c.login(true);
            c.dashboard();
            let n = rng.range(80, 150);
            for _ in 0..n {
                let Some(&s) = rng.pick(spaces) else { break };
                if let Some(p) = org.popular_page(s, &mut rng) {
                    c.think(12.0);
                    c.view_page(p, 25.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lists() {
        let all = parse_list("all", &Scenario::ALL, Scenario::id).unwrap();
        assert_eq!(all.len(), 10);
        assert!(
            parse_list("none", &Scenario::ALL, Scenario::id)
                .unwrap()
                .is_empty()
        );
        let two = parse_list("rest_scrape, mass_export", &Scenario::ALL, Scenario::id).unwrap();
        assert_eq!(two, vec![Scenario::RestScrape, Scenario::MassExport]);
        assert!(parse_list("nope", &Scenario::ALL, Scenario::id).is_err());
        assert_eq!(
            parse_list("newcomer", &BenignCase::ALL, BenignCase::id).unwrap(),
            vec![BenignCase::Newcomer]
        );
    }
}
