//! The organisation being simulated: departments, people (with home time zone, working
//! hours, browser and addresses), spaces, pages with Zipf-like popularity, attachments,
//! and the service and administrator accounts. Built once from the seed.

use crate::rng::Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// A department: its share of the staff, its space keys and what its people search for.
pub struct DeptSpec {
    pub name: &'static str,
    pub share: f64,
    pub key: &'static str,
    pub sub_spaces: &'static [&'static str],
    pub topics: &'static [&'static str],
}

pub const DEPTS: &[DeptSpec] = &[
    DeptSpec {
        name: "engineering",
        share: 0.32,
        key: "ENG",
        sub_spaces: &["PLAT", "MOB", "WEB", "DATA", "API", "QA", "ARCH"],
        topics: &[
            "release notes",
            "architecture",
            "api design",
            "deployment",
            "kubernetes",
            "code review",
            "incident",
            "postmortem",
            "sprint",
            "roadmap",
            "design doc",
            "database migration",
            "feature flags",
            "on-call",
        ],
    },
    DeptSpec {
        name: "ops",
        share: 0.08,
        key: "OPS",
        sub_spaces: &["NET", "DC", "MON"],
        topics: &[
            "runbook",
            "monitoring",
            "backup",
            "failover",
            "change request",
            "firewall",
            "capacity",
            "on-call",
            "maintenance window",
            "dns",
        ],
    },
    DeptSpec {
        name: "security",
        share: 0.04,
        key: "SEC",
        sub_spaces: &["IR", "GRC"],
        topics: &[
            "incident response",
            "risk register",
            "pentest",
            "policy",
            "vulnerability",
            "phishing",
            "iso 27001",
            "access review",
        ],
    },
    DeptSpec {
        name: "hr",
        share: 0.05,
        key: "HR",
        sub_spaces: &["REC", "PAY"],
        topics: &[
            "holiday policy",
            "recruiting",
            "benefits",
            "performance review",
            "onboarding",
            "parental leave",
            "salary bands",
            "job description",
        ],
    },
    DeptSpec {
        name: "finance",
        share: 0.07,
        key: "FIN",
        sub_spaces: &["AP", "CTRL"],
        topics: &[
            "budget",
            "expense policy",
            "invoice",
            "quarter close",
            "forecast",
            "purchase order",
            "audit",
            "travel expenses",
        ],
    },
    DeptSpec {
        name: "sales",
        share: 0.14,
        key: "SALES",
        sub_spaces: &["EMEA", "NA", "APAC", "ENABLE"],
        topics: &[
            "pricing",
            "battlecard",
            "proposal template",
            "pipeline",
            "discount approval",
            "customer reference",
            "territory",
            "quota",
        ],
    },
    DeptSpec {
        name: "legal",
        share: 0.03,
        key: "LEGAL",
        sub_spaces: &["CONTR"],
        topics: &[
            "contract template",
            "nda",
            "gdpr",
            "trademark",
            "dpa",
            "litigation hold",
        ],
    },
    DeptSpec {
        name: "it",
        share: 0.06,
        key: "IT",
        sub_spaces: &["DESK", "ADM"],
        topics: &[
            "laptop setup",
            "printer",
            "software request",
            "network drive",
            "backup policy",
            "email",
            "onboarding checklist",
            "asset inventory",
        ],
    },
    DeptSpec {
        name: "marketing",
        share: 0.09,
        key: "MKT",
        sub_spaces: &["BRAND", "EVT"],
        topics: &[
            "brand guidelines",
            "campaign",
            "webinar",
            "press release",
            "social media",
            "event plan",
            "newsletter",
        ],
    },
    DeptSpec {
        name: "product",
        share: 0.12,
        key: "PROD",
        sub_spaces: &["RES", "SPEC"],
        topics: &[
            "requirements",
            "user research",
            "roadmap",
            "prd",
            "customer feedback",
            "pricing",
            "launch plan",
            "persona",
        ],
    },
];

/// Terms everybody searches for now and then.
pub const COMMON_TOPICS: &[&str] = &[
    "holiday calendar",
    "org chart",
    "expense policy",
    "wifi",
    "office",
    "lunch",
    "all hands",
    "benefits",
    "travel policy",
    "meeting notes",
    "template",
    "handbook",
];

/// Shared spaces: (key, name, share of everybody's browsing).
pub const SHARED_SPACES: &[(&str, &str)] = &[
    ("COMPANY", "Company Intranet"),
    ("HELP", "IT Help Centre"),
    ("ONBOARD", "New Starter Guide"),
    ("NEWS", "Company News"),
];

/// Words for page titles.
const TITLE_WORDS: &[&str] = &[
    "Overview",
    "Guide",
    "Plan",
    "Process",
    "Checklist",
    "Meeting Notes",
    "Retrospective",
    "Requirements",
    "Design",
    "Status",
    "Report",
    "Policy",
    "FAQ",
    "How-to",
    "Roadmap",
    "Review",
    "Summary",
    "Decision Log",
    "Template",
    "Proposal",
    "Analysis",
    "Notes",
    "Budget",
    "Timeline",
    "Handover",
    "Standards",
    "Playbook",
    "Strategy",
    "Metrics",
    "Architecture",
    "Runbook",
    "Backlog",
    "Release",
    "Migration",
    "Onboarding",
];

const TITLE_QUALIFIERS: &[&str] = &[
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "2025",
    "2026",
    "Team",
    "Project Atlas",
    "Project Nova",
    "Customer Portal",
    "Billing",
    "Platform",
    "Mobile App",
    "Data Lake",
    "Partner",
    "Internal",
    "Weekly",
    "Monthly",
    "EMEA",
    "Vendor",
    "Office Move",
    "Hiring",
    "Compliance",
    "Cloud",
    "Network",
    "Support",
    "Pricing",
    "Payroll",
    "Security",
];

/// Titles of pages that hold (or seem to hold) credentials: what a credential hunt looks
/// for. Each is `(title, search words, attachment)`.
pub const SENSITIVE_PAGES: &[(&str, &[&str], Option<&str>)] = &[
    (
        "Service Account Passwords",
        &["password", "passwords", "credentials", "service account"],
        Some("service-accounts.xlsx"),
    ),
    (
        "VPN Access Setup",
        &["vpn", "access", "setup"],
        Some("corp-vpn.ovpn"),
    ),
    (
        "AWS Root Account and Access Keys",
        &["aws", "access keys", "secret", "root"],
        None,
    ),
    (
        "CI Deploy Tokens",
        &["token", "tokens", "deploy", "api key"],
        None,
    ),
    (
        "Database Credentials Production",
        &["credentials", "password", "database", "db"],
        None,
    ),
    (
        "SSH Keys for Jump Hosts",
        &["ssh", "private key", "keys", "jump host"],
        Some("jumphost-keys.zip"),
    ),
    (
        "Vault Unseal Procedure",
        &["vault", "secret", "unseal", "token"],
        None,
    ),
    (
        "Third-party API Keys",
        &["api key", "token", "secret", "keys"],
        None,
    ),
    (
        "Admin Passwords for Network Devices",
        &["password", "admin", "network", "credentials"],
        None,
    ),
    (
        "Azure Service Principal Secrets",
        &["azure", "secret", "credentials", "client secret"],
        None,
    ),
];

/// Help-desk knowledge-base pages (shared HELP space) that make "password reset" routine.
pub const HELPDESK_PAGES: &[(&str, &[&str])] = &[
    (
        "How to Reset a User Password",
        &["password reset", "password", "reset"],
    ),
    (
        "Unlock a Locked Account",
        &["account locked", "unlock", "password"],
    ),
    ("Reset MFA for a User", &["mfa", "reset", "authenticator"]),
    ("Password Policy", &["password", "policy", "password reset"]),
    (
        "Self-service Password Reset FAQ",
        &["password reset", "self-service", "password"],
    ),
];

/// Browsers people use (full `User-Agent` strings).
pub const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
];

const FIRST: &[&str] = &[
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "daniel",
    "lisa",
    "matthew",
    "nancy",
    "anthony",
    "betty",
    "mark",
    "sandra",
    "paul",
    "ashley",
    "steven",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "ronald",
    "laura",
    "jason",
    "rebecca",
    "ryan",
    "sharon",
    "jacob",
    "cynthia",
    "gary",
    "kathleen",
    "nicolas",
    "amy",
    "eric",
    "angela",
    "jonathan",
    "anna",
    "stephen",
    "ruth",
    "larry",
    "brenda",
    "justin",
    "pamela",
    "scott",
    "nicole",
    "frank",
    "katherine",
    "lukas",
    "sofia",
    "mateo",
    "lea",
    "noah",
    "emma",
    "elias",
    "mia",
    "aarav",
    "priya",
    "wei",
    "yuki",
    "omar",
    "fatima",
    "ivan",
    "olga",
    "pierre",
    "chloe",
    "jonas",
    "ines",
];

const LAST: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "dubois",
    "moreau",
    "laurent",
    "bernard",
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "bianchi",
    "novak",
    "kowalski",
    "nowak",
    "jansen",
    "devries",
    "bakker",
    "sato",
    "suzuki",
    "tanaka",
    "patel",
    "sharma",
    "kumar",
    "singh",
    "chen",
    "wang",
    "li",
    "zhang",
    "kim",
    "park",
    "silva",
    "santos",
    "oliveira",
];

/// A space and the pages in it.
pub struct Space {
    pub key: Arc<str>,
    /// Index into [`DEPTS`], or `None` for shared and personal spaces.
    pub dept: Option<usize>,
    pub personal: bool,
    /// Indices into [`Org::pages`], most popular first.
    pub pages: Vec<usize>,
    /// Cumulative Zipf weights over `pages` (same length), for popularity sampling.
    pub cdf: Vec<f64>,
    /// The numeric space id (REST v2 uses it).
    pub id: u64,
}

pub struct Page {
    pub id: u64,
    pub space: usize,
    pub title: Arc<str>,
    /// `Title+Words` for `/display/` URLs and `Title-Words`-free `/spaces/` URLs.
    pub url_title: Arc<str>,
    pub attachments: Vec<Arc<str>>,
    pub blog: bool,
    /// Restricted pages answer 403 to people outside the owning department.
    pub restricted: bool,
    pub version: u32,
}

/// Where a person normally works from.
#[derive(Clone)]
pub struct User {
    pub name: Arc<str>,
    pub display: String,
    pub dept: usize,
    /// Minutes east of UTC of the person's home time zone.
    pub tz_min: i32,
    /// Local start of the working day, minutes after midnight.
    pub start_min: u32,
    /// Length of the working day in minutes.
    pub work_min: u32,
    /// Works on Saturday too.
    pub saturday: bool,
    /// Median page views per working day.
    pub pages_per_day: f64,
    pub ua: Arc<str>,
    pub office_ip: Ipv4Addr,
    pub home_ip: Ipv4Addr,
    /// Share of days worked from home.
    pub remote_share: f64,
    /// Spaces this person habitually reads (own department, shared, a few others): indices.
    pub habitual: Vec<usize>,
    pub home_space: Option<usize>,
    pub helpdesk: bool,
    pub heavy: bool,
}

/// Accounts that are not people.
pub struct ServiceAccounts {
    pub crawler: Arc<str>,
    pub crawler_ip: Ipv4Addr,
    pub crawler_ua: Arc<str>,
    pub exporter: Arc<str>,
    pub exporter_ip: Ipv4Addr,
    pub exporter_ua: Arc<str>,
}

/// An administrator account (listed in `privileged.txt`) and the person who owns it.
pub struct Admin {
    pub name: Arc<str>,
    pub owner: usize,
    pub ip: Ipv4Addr,
}

pub struct Org {
    /// The server's UTC offset in minutes; most people live in it.
    pub server_tz_min: i32,
    pub users: Vec<User>,
    pub spaces: Vec<Space>,
    pub pages: Vec<Page>,
    pub page_by_id: HashMap<u64, usize>,
    /// Search word → pages whose title matches it.
    pub index: HashMap<String, Vec<usize>>,
    pub sensitive: Vec<usize>,
    pub helpdesk_pages: Vec<usize>,
    pub service: ServiceAccounts,
    pub admins: Vec<Admin>,
    /// Spaces of each department (indices), by department index.
    pub dept_spaces: Vec<Vec<usize>>,
    pub shared_spaces: Vec<usize>,
    pub min_page_id: u64,
    pub max_page_id: u64,
}

impl Org {
    pub fn space_of(&self, page: usize) -> Option<&Space> {
        self.pages.get(page).and_then(|p| self.spaces.get(p.space))
    }

    /// A page of `space`, drawn by popularity.
    pub fn popular_page(&self, space: usize, rng: &mut Rng) -> Option<usize> {
        let sp = self.spaces.get(space)?;
        let total = sp.cdf.last().copied()?;
        let x = rng.f64() * total;
        let i = sp.cdf.partition_point(|&c| c < x);
        sp.pages
            .get(i.min(sp.pages.len().saturating_sub(1)))
            .copied()
    }

    /// Pages found by searching `term` (title words), at most `max`.
    pub fn search(&self, term: &str, max: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if let Some(hits) = self.index.get(&term.to_lowercase()) {
            out.extend(hits.iter().take(max));
        }
        out
    }

    pub fn build(seed: u64, n_users: u32, server_tz_min: i32) -> Org {
        let mut rng = Rng::derive(seed, 1, 0, 0);
        let n_users = n_users.max(1) as usize;

        // --- people ---
        let mut users: Vec<User> = Vec::with_capacity(n_users);
        let mut taken: HashMap<String, u32> = HashMap::new();
        let total_share: f64 = DEPTS.iter().map(|d| d.share).sum();
        for i in 0..n_users {
            // Departments by share, deterministic order so small organisations still have
            // every department represented in turn.
            let dept = if i < DEPTS.len() {
                i
            } else {
                let mut x = rng.f64() * total_share;
                let mut d = 0;
                for (j, spec) in DEPTS.iter().enumerate() {
                    if x < spec.share {
                        d = j;
                        break;
                    }
                    x -= spec.share;
                    d = j;
                }
                d
            };
            let first = rng.pick_str(FIRST);
            let last = rng.pick_str(LAST);
            let base = format!("{}{}", first.chars().next().unwrap_or('x'), last);
            let n = taken.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}{n}") };
            let display = format!("{} {}", capital(first), capital(last));
            // Mostly on the server's time zone; some remote people elsewhere.
            let tz_min = if rng.chance(0.88) {
                server_tz_min
            } else {
                server_tz_min + *rng.pick(&[-60i32, -360, 270, 60, -300, 480]).unwrap_or(&0)
            };
            let start_min = (rng.normal() * 40.0 + 510.0).clamp(420.0, 630.0) as u32;
            let work_min = rng.range(450, 560) as u32;
            let heavy = rng.chance(0.015);
            let pages_per_day = if heavy {
                rng.range(70, 120) as f64
            } else {
                rng.lognormal(14.0, 0.55).clamp(3.0, 60.0)
            };
            let ua: Arc<str> = Arc::from(rng.pick_str(BROWSERS));
            let office_ip = Ipv4Addr::new(
                10,
                20,
                (dept as u8) * 8 + rng.below(8) as u8,
                rng.range(10, 250) as u8,
            );
            let home_ip = home_address(&mut rng);
            let remote_share = if tz_min != server_tz_min {
                1.0
            } else {
                rng.f64() * 0.5
            };
            users.push(User {
                name: Arc::from(name.as_str()),
                display,
                dept,
                tz_min,
                start_min,
                work_min,
                saturday: rng.chance(0.05),
                pages_per_day,
                ua,
                office_ip,
                home_ip,
                remote_share,
                habitual: Vec::new(),
                home_space: None,
                helpdesk: false,
                heavy,
            });
        }
        // Help-desk staff: the first few IT people.
        let mut helpdesk = 0;
        let want_helpdesk = (n_users / 150).clamp(1, 6);
        for u in users.iter_mut() {
            if helpdesk < want_helpdesk && DEPTS.get(u.dept).map(|d| d.name) == Some("it") {
                u.helpdesk = true;
                helpdesk += 1;
            }
        }

        // --- spaces and pages ---
        let mut spaces: Vec<Space> = Vec::new();
        let mut pages: Vec<Page> = Vec::new();
        let mut dept_spaces: Vec<Vec<usize>> = vec![Vec::new(); DEPTS.len()];
        let mut shared_spaces = Vec::new();
        let mut next_id: u64 = 65_538 + rng.below(4096) * 4;
        let min_page_id = next_id;
        let mut space_id: u64 = 98_305;
        let mut dept_count = vec![0usize; DEPTS.len()];
        for u in &users {
            if let Some(c) = dept_count.get_mut(u.dept) {
                *c += 1;
            }
        }
        let mut new_space = |key: String,
                             dept: Option<usize>,
                             personal: bool,
                             n_pages: usize,
                             rng: &mut Rng,
                             spaces: &mut Vec<Space>,
                             pages: &mut Vec<Page>| {
            let si = spaces.len();
            space_id += 1 + rng.below(64);
            let mut idx = Vec::with_capacity(n_pages);
            let mut used_titles: HashMap<String, u32> = HashMap::new();
            for _ in 0..n_pages {
                next_id += 1 + rng.below(12) * if rng.chance(0.3) { 64 } else { 1 };
                let mut title = format!(
                    "{} {}",
                    rng.pick_str(TITLE_QUALIFIERS),
                    rng.pick_str(TITLE_WORDS)
                );
                let c = used_titles.entry(title.clone()).or_insert(0);
                *c += 1;
                if *c > 1 {
                    title = format!("{title} {c}");
                }
                let n_att = if rng.chance(0.25) { rng.range(1, 4) } else { 0 };
                let attachments = (0..n_att)
                    .map(|_| Arc::from(attachment_name(rng).as_str()))
                    .collect();
                let blog = rng.chance(0.06);
                idx.push(pages.len());
                pages.push(Page {
                    id: next_id,
                    space: si,
                    url_title: Arc::from(title.replace(' ', "+").as_str()),
                    title: Arc::from(title.as_str()),
                    attachments,
                    blog,
                    restricted: dept.is_some() && rng.chance(0.04),
                    version: rng.range(1, 30) as u32,
                });
            }
            spaces.push(Space {
                key: Arc::from(key.as_str()),
                dept,
                personal,
                pages: idx,
                cdf: Vec::new(),
                id: space_id,
            });
            si
        };
        for (d, spec) in DEPTS.iter().enumerate() {
            let people = dept_count.get(d).copied().unwrap_or(0);
            let n_sub = (people / 25).min(spec.sub_spaces.len());
            let main = new_space(
                spec.key.to_string(),
                Some(d),
                false,
                page_count(people, &mut rng),
                &mut rng,
                &mut spaces,
                &mut pages,
            );
            if let Some(v) = dept_spaces.get_mut(d) {
                v.push(main);
            }
            for sub in spec.sub_spaces.iter().take(n_sub) {
                let s = new_space(
                    format!("{}{}", spec.key, sub),
                    Some(d),
                    false,
                    page_count(people / 2, &mut rng),
                    &mut rng,
                    &mut spaces,
                    &mut pages,
                );
                if let Some(v) = dept_spaces.get_mut(d) {
                    v.push(s);
                }
            }
        }
        for (key, _name) in SHARED_SPACES {
            let n = 40 + (n_users / 8).min(400);
            let s = new_space(
                key.to_string(),
                None,
                false,
                n,
                &mut rng,
                &mut spaces,
                &mut pages,
            );
            shared_spaces.push(s);
        }
        // Personal spaces for about a fifth of the people.
        for ui in 0..users.len() {
            if rng.chance(0.2) {
                let key = match users.get(ui) {
                    Some(u) => format!("~{}", u.name),
                    None => continue,
                };
                let n = rng.range(2, 15) as usize;
                let s = new_space(key, None, true, n, &mut rng, &mut spaces, &mut pages);
                if let Some(u) = users.get_mut(ui) {
                    u.home_space = Some(s);
                }
            }
        }
        // Sensitive and help-desk pages: put into ops/it/eng and HELP spaces, with fixed titles.
        let mut sensitive = Vec::new();
        for (i, (title, _words, att)) in SENSITIVE_PAGES.iter().enumerate() {
            let dept_name = ["ops", "it", "engineering"]
                .get(i % 3)
                .copied()
                .unwrap_or("ops");
            let d = DEPTS.iter().position(|s| s.name == dept_name).unwrap_or(0);
            let Some(&space) = dept_spaces.get(d).and_then(|v| v.get(i % v.len().max(1))) else {
                continue;
            };
            next_id += 1 + rng.below(40);
            sensitive.push(pages.len());
            if let Some(sp) = spaces.get_mut(space) {
                // Put them mid-popularity, not at the top: they are not everyday reading.
                let at = (sp.pages.len() / 3).min(sp.pages.len());
                sp.pages.insert(at, pages.len());
            }
            pages.push(Page {
                id: next_id,
                space,
                title: Arc::from(*title),
                url_title: Arc::from(title.replace(' ', "+").as_str()),
                attachments: att.iter().map(|a| Arc::from(*a)).collect(),
                blog: false,
                restricted: false,
                version: rng.range(3, 40) as u32,
            });
        }
        let mut helpdesk_pages = Vec::new();
        if let Some(&help) = shared_spaces.get(1) {
            for (title, _) in HELPDESK_PAGES {
                next_id += 1 + rng.below(40);
                helpdesk_pages.push(pages.len());
                if let Some(sp) = spaces.get_mut(help) {
                    sp.pages.insert(0, pages.len());
                }
                pages.push(Page {
                    id: next_id,
                    space: help,
                    title: Arc::from(*title),
                    url_title: Arc::from(title.replace(' ', "+").as_str()),
                    attachments: Vec::new(),
                    blog: false,
                    restricted: false,
                    version: rng.range(3, 20) as u32,
                });
            }
        }
        let max_page_id = next_id;
        for sp in spaces.iter_mut() {
            // Zipf-like popularity with exponent ~1.1.
            let mut acc = 0.0;
            sp.cdf = (0..sp.pages.len())
                .map(|r| {
                    acc += 1.0 / ((r + 1) as f64).powf(1.1);
                    acc
                })
                .collect();
        }

        // --- habitual spaces ---
        for (ui, u) in users.iter_mut().enumerate() {
            let mut h: Vec<usize> = dept_spaces.get(u.dept).cloned().unwrap_or_default();
            h.extend(shared_spaces.iter().copied());
            // One or two other departments' main spaces: cross-team work.
            let n_other = rng.range(1, 2);
            for _ in 0..n_other {
                let d = rng.index(DEPTS.len());
                if let Some(&s) = dept_spaces.get(d).and_then(|v| v.first())
                    && !h.contains(&s)
                {
                    h.push(s);
                }
            }
            if let Some(s) = u.home_space {
                h.push(s);
            }
            let _ = ui;
            u.habitual = h;
        }

        // --- search index ---
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (pi, p) in pages.iter().enumerate() {
            for w in p.title.split(' ') {
                let w = w.to_lowercase();
                if w.len() > 2 && w.chars().all(|c| c.is_ascii_alphanumeric()) {
                    let v = index.entry(w).or_default();
                    if v.len() < 200 {
                        v.push(pi);
                    }
                }
            }
        }
        for (i, (_, words, _)) in SENSITIVE_PAGES.iter().enumerate() {
            if let Some(&pi) = sensitive.get(i) {
                for w in *words {
                    index.entry(w.to_string()).or_default().insert(0, pi);
                }
            }
        }
        for (i, (_, words)) in HELPDESK_PAGES.iter().enumerate() {
            if let Some(&pi) = helpdesk_pages.get(i) {
                for w in *words {
                    index.entry(w.to_string()).or_default().insert(0, pi);
                }
            }
        }
        let page_by_id = pages.iter().enumerate().map(|(i, p)| (p.id, i)).collect();

        // --- admin accounts: a Domain-Admin-like account per IT administrator ---
        let mut admins = vec![];
        let it = DEPTS.iter().position(|d| d.name == "it").unwrap_or(0);
        for (ui, u) in users.iter().enumerate() {
            if u.dept == it && !u.helpdesk && admins.len() < 3 {
                admins.push(Admin {
                    name: Arc::from(format!("da-{}", u.name).as_str()),
                    owner: ui,
                    ip: Ipv4Addr::new(10, 40, 0, 10 + admins.len() as u8),
                });
            }
        }
        if admins.is_empty() {
            admins.push(Admin {
                name: Arc::from("da-admin"),
                owner: 0,
                ip: Ipv4Addr::new(10, 40, 0, 10),
            });
        }
        admins.push(Admin {
            name: Arc::from("confadmin"),
            owner: admins.first().map(|a| a.owner).unwrap_or(0),
            ip: Ipv4Addr::new(10, 40, 0, 20),
        });

        Org {
            server_tz_min,
            users,
            spaces,
            pages,
            page_by_id,
            index,
            sensitive,
            helpdesk_pages,
            service: ServiceAccounts {
                crawler: Arc::from("svc-search-crawler"),
                crawler_ip: Ipv4Addr::new(10, 30, 0, 15),
                crawler_ua: Arc::from("python-requests/2.31.0"),
                exporter: Arc::from("svc-backup-export"),
                exporter_ip: Ipv4Addr::new(10, 30, 0, 21),
                exporter_ua: Arc::from("Apache-HttpClient/4.5.14 (Java/17.0.12)"),
            },
            admins,
            dept_spaces,
            shared_spaces,
            min_page_id,
            max_page_id,
        }
    }
}

fn page_count(people: usize, rng: &mut Rng) -> usize {
    (30 + people * 4 + rng.below(60) as usize).min(900)
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn attachment_name(rng: &mut Rng) -> String {
    const STEMS: &[&str] = &[
        "diagram",
        "architecture",
        "budget",
        "report",
        "screenshot",
        "slides",
        "export",
        "contract",
        "invoice",
        "roadmap",
        "minutes",
        "plan",
        "data",
        "checklist",
    ];
    const EXTS: &[&str] = &["png", "pdf", "xlsx", "docx", "pptx", "png", "csv", "zip"];
    format!(
        "{}-{}.{}",
        rng.pick_str(STEMS),
        rng.range(1, 99),
        rng.pick_str(EXTS)
    )
}

/// A residential-looking public address (broadband ranges in Europe), not a Tor or cloud one.
fn home_address(rng: &mut Rng) -> Ipv4Addr {
    let first = *rng
        .pick(&[84u8, 91, 78, 62, 87, 93, 95, 109, 176, 188])
        .unwrap_or(&84);
    Ipv4Addr::new(
        first,
        rng.range(1, 254) as u8,
        rng.range(0, 255) as u8,
        rng.range(1, 254) as u8,
    )
}
