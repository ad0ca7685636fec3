//! Privileged-group resolution against a real OpenLDAP `slapd` started on loopback with a
//! self-contained configuration (AD-like `sAMAccountName`, nested groups, posixGroup).
//! Skipped when `slapd` is not installed, unless `CONFWATCH_REQUIRE_SLAPD=1` (CI).

use chrono::DateTime;
use confwatch_detect::ldap::{LdapSettings, resolve_privileged};
use confwatch_detect::{HuntConfig, HuntOptions, Hunter, PrivilegeSource, RuleSet};
use confwatch_event::{Action, Event, Origin, SourceFormat};
use ldap3::LdapConn;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn find_slapd() -> Option<PathBuf> {
    [
        "/usr/sbin/slapd",
        "/usr/local/sbin/slapd",
        "/usr/libexec/slapd",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn schema_dir() -> Option<PathBuf> {
    [
        "/etc/ldap/schema",
        "/etc/openldap/schema",
        "/usr/local/etc/openldap/schema",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("core.schema").exists())
}

fn module_dir() -> Option<PathBuf> {
    [
        "/usr/lib/ldap",
        "/usr/lib64/openldap",
        "/usr/lib/openldap",
        "/usr/libexec/openldap",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("back_mdb.la").exists() || p.join("back_mdb.so").exists())
}

struct Slapd {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        // Only the slapd this test started, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_slapd(slapd: &Path) -> Slapd {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    let schema = schema_dir().expect("OpenLDAP schema folder");
    std::fs::write(
        t.join("ad-test.schema"),
        "attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'\n  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch\n  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )\nobjectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'adTestAccount' SUP top AUXILIARY MAY ( sAMAccountName ) )\n",
    )
    .unwrap();
    let mut conf = String::new();
    for s in ["core", "cosine", "inetorgperson", "nis"] {
        conf.push_str(&format!("include {}/{s}.schema\n", schema.display()));
    }
    conf.push_str(&format!("include {}/ad-test.schema\n", t.display()));
    if let Some(m) = module_dir() {
        conf.push_str(&format!(
            "modulepath {}\nmoduleload back_mdb\n",
            m.display()
        ));
    }
    conf.push_str(&format!(
        "pidfile {t}/slapd.pid\ndatabase mdb\nsuffix \"dc=corp,dc=test\"\nrootdn \"cn=admin,dc=corp,dc=test\"\nrootpw secret\ndirectory {t}/db\nmaxsize 104857600\n",
        t = t.display()
    ));
    std::fs::create_dir(t.join("db")).unwrap();
    std::fs::write(t.join("slapd.conf"), conf).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ldap://127.0.0.1:{port}/");
    // `-d 0` keeps slapd in the foreground so the test owns the process.
    let child = Command::new(slapd)
        .args([
            "-f",
            t.join("slapd.conf").to_str().unwrap(),
            "-h",
            &url,
            "-d",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut s = Slapd {
        child,
        url,
        _dir: dir,
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "slapd did not start"
        );
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!("slapd exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    seed(&s.url);
    s.url = s.url.trim_end_matches('/').to_owned();
    s
}

fn set(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn seed(url: &str) {
    let mut l = LdapConn::new(url).unwrap();
    l.simple_bind("cn=admin,dc=corp,dc=test", "secret")
        .unwrap()
        .success()
        .unwrap();
    let add = |l: &mut LdapConn, dn: &str, attrs: Vec<(&str, Vec<&str>)>| {
        let a: Vec<(String, HashSet<String>)> = attrs
            .into_iter()
            .map(|(k, v)| (k.to_string(), set(&v)))
            .collect();
        l.add(dn, a)
            .unwrap()
            .success()
            .unwrap_or_else(|e| panic!("{dn}: {e}"));
    };
    add(
        &mut l,
        "dc=corp,dc=test",
        vec![
            ("objectClass", vec!["dcObject", "organization"]),
            ("dc", vec!["corp"]),
            ("o", vec!["Corp"]),
        ],
    );
    add(
        &mut l,
        "ou=Users,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["organizationalUnit"]),
            ("ou", vec!["Users"]),
        ],
    );
    add(
        &mut l,
        "ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["organizationalUnit"]),
            ("ou", vec!["Groups"]),
        ],
    );
    for (uid, sam) in [
        ("alice", Some("Alice.Admin")),
        ("bob", Some("bob")),
        ("carol", Some("carol")),
        ("dave", None),
    ] {
        let mut attrs = vec![
            ("objectClass", vec!["inetOrgPerson", "adTestAccount"]),
            ("uid", vec![uid]),
            ("cn", vec![uid]),
            ("sn", vec![uid]),
        ];
        if let Some(s) = sam {
            attrs.push(("sAMAccountName", vec![s]));
        }
        add(
            &mut l,
            &format!("uid={uid},ou=Users,dc=corp,dc=test"),
            attrs,
        );
    }
    add(
        &mut l,
        "cn=Domain Admins,ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["groupOfNames"]),
            ("cn", vec!["Domain Admins"]),
            // A deleted account still listed as member must not break resolution.
            (
                "member",
                vec![
                    "uid=alice,ou=Users,dc=corp,dc=test",
                    "uid=ghost,ou=Users,dc=corp,dc=test",
                ],
            ),
        ],
    );
    add(
        &mut l,
        "cn=Tier0,ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["groupOfNames"]),
            ("cn", vec!["Tier0"]),
            ("member", vec!["uid=carol,ou=Users,dc=corp,dc=test"]),
        ],
    );
    add(
        &mut l,
        "cn=Enterprise Admins,ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["groupOfNames"]),
            ("cn", vec!["Enterprise Admins"]),
            ("member", vec!["cn=Tier0,ou=Groups,dc=corp,dc=test"]),
        ],
    );
    add(
        &mut l,
        "cn=Confluence Admins,ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["posixGroup"]),
            ("cn", vec!["Confluence Admins"]),
            ("gidNumber", vec!["5000"]),
            ("memberUid", vec!["dave"]),
        ],
    );
    add(
        &mut l,
        "cn=Staff,ou=Groups,dc=corp,dc=test",
        vec![
            ("objectClass", vec!["groupOfNames"]),
            ("cn", vec!["Staff"]),
            ("member", vec!["uid=bob,ou=Users,dc=corp,dc=test"]),
        ],
    );
    let _ = l.unbind();
}

fn slapd_or_skip() -> Option<PathBuf> {
    match find_slapd() {
        Some(p) => Some(p),
        None if std::env::var("CONFWATCH_REQUIRE_SLAPD").is_ok_and(|v| v == "1") => {
            panic!("slapd is required (CONFWATCH_REQUIRE_SLAPD=1) but not installed")
        }
        None => {
            eprintln!("skipping: slapd not installed");
            None
        }
    }
}

#[test]
fn privileged_groups_resolve_from_slapd() {
    let Some(bin) = slapd_or_skip() else { return };
    let server = start_slapd(&bin);
    let settings = LdapSettings {
        url: server.url.clone(),
        base_dn: None,
        bind_dn: Some("cn=admin,dc=corp,dc=test".into()),
        password: Some("secret".into()),
        groups: vec!["Confluence Admins".into()],
        starttls: false,
        timeout: Duration::from_secs(5),
    };
    let got = resolve_privileged(&settings).unwrap();
    let mut names: Vec<&str> = got.accounts.names().collect();
    names.sort_unstable();
    // alice by sAMAccountName (direct), carol through the nested Tier0 group, dave by
    // posix memberUid; bob is only in Staff.
    assert_eq!(names, vec!["alice.admin", "carol", "dave"]);
    assert!(
        got.groups_missing.contains(&"Schema Admins".to_string()),
        "{:?}",
        got.groups_missing
    );
    assert!(got.groups_found.contains(&"Enterprise Admins".to_string()));

    // Wrong password: a clear error, not an empty list.
    let bad = LdapSettings {
        password: Some("nope".into()),
        ..settings.clone()
    };
    let e = resolve_privileged(&bad).unwrap_err().to_string();
    assert!(e.starts_with("LDAP: bind"), "{e}");

    // The resolved accounts drive the privileged-reading rule.
    let rules = RuleSet::builtin();
    let mut h = Hunter::new(&rules, &HuntConfig::default(), HuntOptions::default()).unwrap();
    assert!(got.accounts.is_privileged("Alice.Admin"));
    h.set_privilege_source(Box::new(got.accounts));
    let t = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+01:00").unwrap();
    for (i, user) in ["Alice.Admin", "bob"].iter().enumerate() {
        let mut e = Event::new(
            t,
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("a.log"),
                line: i as u64 + 1,
            },
        );
        e.action = Action::PageView;
        e.user = Some(Arc::from(*user));
        e.status = Some(200);
        e.object.page_id = Some(7);
        h.process(&e);
    }
    let report = h.finish();
    let users: Vec<&str> = report
        .alerts
        .iter()
        .filter(|a| a.rule_id == "confluence_privileged_content_read")
        .filter_map(|a| a.user.as_deref())
        .collect();
    assert_eq!(users, vec!["Alice.Admin"]);
}
