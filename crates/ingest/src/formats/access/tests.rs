//! Tests of the access-log parser: real sample lines, every preset, edge cases, server.xml,
//! and property tests (round trip through a renderer, no panics on arbitrary input).

use super::*;
use confwatch_event::Event;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

const REAL_INSTALLER: &str =
    include_str!("../../../../../testdata/real/atlassian-docs/conf_access_log.example.log");
const REAL_XFF: &str =
    include_str!("../../../../../testdata/real/plaso/confluence_access_post7.11.log");
const UA_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36";

fn parser(pattern: &str) -> AccessLogParser {
    AccessLogParser::new(pattern, AccessLogOptions::default()).unwrap()
}

fn ctx() -> ParseCtx {
    ParseCtx::new(Arc::from("access.log"))
}

fn ev(p: &AccessLogParser, line: &str) -> Event {
    match p.parse_line(line, &mut ctx()) {
        LineOutcome::Event(e) => *e,
        other => panic!("expected an event for {line:?}, got {other:?}"),
    }
}

fn mismatch(p: &AccessLogParser, line: &str) -> String {
    match p.parse_line(line, &mut ctx()) {
        LineOutcome::Error(ParseError::PatternMismatch { detail, .. }) => detail,
        other => panic!("expected a mismatch for {line:?}, got {other:?}"),
    }
}

fn localhost6() -> IpAddr {
    IpAddr::V6(Ipv6Addr::LOCALHOST)
}

#[test]
fn real_installer_lines_every_field() {
    let p = parser(preset("installer").unwrap());
    let lines: Vec<&str> = REAL_INSTALLER.lines().collect();
    assert_eq!(lines.len(), 3);
    let e = ev(&p, lines[0]);
    assert_eq!(e.timestamp.to_rfc3339(), "2020-12-18T12:57:26+11:00");
    assert_eq!(e.format, SourceFormat::TomcatAccess);
    assert_eq!(e.user.as_deref(), Some("testuser"));
    assert_eq!(e.thread.as_deref(), Some("http-nio-8090-exec-6"));
    assert_eq!(e.client_ip, Some(localhost6()));
    assert_eq!(e.peer_ip, None);
    assert_eq!(e.client_host, None);
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.url.as_deref(), Some("/index.action"));
    assert_eq!(e.status, Some(200));
    assert_eq!(e.duration_ms, Some(1020.0));
    assert_eq!(e.bytes, Some(7881));
    assert_eq!(
        e.referer.as_deref(),
        Some(
            "http://localhost:8090/login.action?os_destination=%2Findex.action&permissionViolation=true"
        )
    );
    assert_eq!(e.user_agent.as_deref(), Some(UA_MAC));
    assert_eq!(e.forwarded_for, None);
    assert_eq!(e.origin.line, 0);

    let e = ev(&p, lines[2]);
    assert_eq!(e.timestamp.to_rfc3339(), "2020-12-18T13:02:20+11:00");
    assert_eq!(
        e.url.as_deref(),
        Some("/rest/quickreload/latest/2129924?since=1608256850024&_=1608256758069")
    );
    assert_eq!(e.duration_ms, Some(12.0));
    assert_eq!(e.bytes, Some(152));
    assert_eq!(e.thread.as_deref(), Some("http-nio-8090-exec-5"));
    for l in &lines {
        assert!(p.matches_line(l));
    }
}

#[test]
fn real_xff_line() {
    let p = parser(preset("xff").unwrap());
    let line = REAL_XFF.lines().next().unwrap();
    let e = ev(&p, line);
    assert_eq!(e.timestamp.to_rfc3339(), "2021-06-17T12:57:26+02:00");
    assert_eq!(
        e.client_ip,
        Some(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 15)))
    );
    assert_eq!(e.peer_ip, Some(localhost6()));
    assert_eq!(e.forwarded_for.as_deref(), Some("192.168.1.15"));
    assert_eq!(e.user.as_deref(), Some("testuser"));
    assert_eq!(e.thread.as_deref(), Some("http-nio-8080-exec-6"));
    assert_eq!(e.url.as_deref(), Some("/index.action"));
    assert_eq!(e.referer.as_deref(), Some("http://localhost/"));
    assert_eq!(e.user_agent.as_deref(), Some(UA_MAC));
    // The installer pattern must not accept the XFF line as valid, or sniffing could not
    // tell them apart: here the extra field shifts the thread into the client slot and the
    // request into the status slot.
    assert!(!parser(preset("installer").unwrap()).matches_line(line));
}

#[test]
fn docker_line() {
    let p = parser(preset("docker").unwrap());
    let line = "10.0.0.5 jdoe [17/Jun/2021:12:57:26 +0200] \"GET /pages/viewpage.action?pageId=1 HTTP/1.1\" 200 7881 1020 /pages/viewpage.action http-nio-8090-exec-6 \"Mozilla/5.0 (X11)\"";
    let e = ev(&p, line);
    assert_eq!(e.client_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
    assert_eq!(e.user.as_deref(), Some("jdoe"));
    assert_eq!(e.timestamp.to_rfc3339(), "2021-06-17T12:57:26+02:00");
    assert_eq!(e.method.as_deref(), Some("GET"));
    // %r's URI (with the query) wins over %U.
    assert_eq!(e.url.as_deref(), Some("/pages/viewpage.action?pageId=1"));
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes, Some(7881));
    assert_eq!(e.duration_ms, Some(1020.0));
    assert_eq!(e.thread.as_deref(), Some("http-nio-8090-exec-6"));
    assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (X11)"));
    assert!(!parser(preset("installer").unwrap()).matches_line(line));

    let micros = AccessLogParser::new(
        preset("docker").unwrap(),
        AccessLogOptions {
            duration_unit: DurationUnit::Micros,
        },
    )
    .unwrap();
    assert_eq!(ev(&micros, line).duration_ms, Some(1.02));
}

#[test]
fn xff_chain_takes_first_hop() {
    let p = parser(preset("xff").unwrap());
    let line = format!(
        "[17/Jun/2021:12:57:26 +0200] 203.0.113.9, 10.0.0.1, 10.0.0.2 alice http-nio-8090-exec-1 10.0.0.2 GET /x HTTP/1.1 200 5ms 10 - {UA_MAC}"
    );
    let e = ev(&p, &line);
    assert_eq!(e.client_ip, Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))));
    assert_eq!(e.peer_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))));
    assert_eq!(
        e.forwarded_for.as_deref(),
        Some("203.0.113.9, 10.0.0.1, 10.0.0.2")
    );
    assert_eq!(e.user.as_deref(), Some("alice"));
    assert_eq!(e.referer, None);

    // No XFF header: the client is %h and there is no peer.
    let line = format!(
        "[17/Jun/2021:12:57:26 +0200] - - http-nio-8090-exec-1 10.0.0.2 GET /x HTTP/1.1 200 5ms - - {UA_MAC}"
    );
    let e = ev(&p, &line);
    assert_eq!(e.client_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))));
    assert_eq!(e.peer_ip, None);
    assert_eq!(e.forwarded_for, None);
    assert_eq!(e.user, None);
    assert_eq!(e.bytes, Some(0));

    // Same address in XFF and %h (RemoteIpValve already rewrote %h): no peer.
    let line = format!(
        "[17/Jun/2021:12:57:26 +0200] 10.0.0.2 - http-nio-8090-exec-1 10.0.0.2 GET /x HTTP/1.1 200 5ms 1 - {UA_MAC}"
    );
    assert_eq!(ev(&p, &line).peer_ip, None);
}

#[test]
fn addresses_and_host_names() {
    let p = parser(preset("installer").unwrap());
    let mk =
        |h: &str| format!("[18/Dec/2020:12:57:26 +1100] bob t-1 {h} GET / HTTP/1.1 200 1ms 1 - UA");
    assert_eq!(ev(&p, &mk("::1")).client_ip, Some(localhost6()));
    assert_eq!(
        ev(&p, &mk("[2001:db8::7]")).client_ip,
        Some("2001:db8::7".parse().unwrap())
    );
    assert_eq!(
        ev(&p, &mk("fe80:0:0:0:0:0:0:1%eth0")).client_ip,
        Some("fe80::1".parse().unwrap())
    );
    let e = ev(&p, &mk("proxy.example.com"));
    assert_eq!(e.client_ip, None);
    assert_eq!(e.client_host.as_deref(), Some("proxy.example.com"));
    assert_eq!(e.client().as_deref(), Some("proxy.example.com"));
}

#[test]
fn anonymous_and_dash_fields() {
    let p = parser(preset("installer").unwrap());
    let e = ev(
        &p,
        "[18/Dec/2020:12:57:26 +1100] anonymous http-nio-8090-exec-2 10.1.1.1 GET /login.action HTTP/1.1 302 0ms - - -",
    );
    assert_eq!(e.user, None);
    assert!(e.is_anonymous());
    assert_eq!(e.bytes, Some(0));
    assert_eq!(e.duration_ms, Some(0.0));
    assert_eq!(e.referer, None);
    assert_eq!(e.user_agent, None);
    assert_eq!(e.status, Some(302));
    let e = ev(&p, "[18/Dec/2020:12:57:26 +1100] - - - - 400 1ms - - -");
    assert_eq!(
        (e.user, e.method, e.url, e.thread, e.client_ip),
        (None, None, None, None, None)
    );
    assert_eq!(e.status, Some(400));
}

#[test]
fn malformed_request_lines() {
    let p = parser(preset("installer").unwrap());
    // Two-token request (no protocol).
    let e = ev(
        &p,
        "[18/Dec/2020:12:57:26 +1100] - t 1.2.3.4 GET /old 400 1ms 0 - curl/8",
    );
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.url.as_deref(), Some("/old"));
    assert_eq!(e.status, Some(400));
    // One junk token.
    let e = ev(
        &p,
        "[18/Dec/2020:12:57:26 +1100] - t 1.2.3.4 \\x16\\x03 400 1ms 0 - -",
    );
    assert_eq!(e.status, Some(400));
    assert_eq!(e.method.as_deref(), Some("\\x16\\x03"));
    assert_eq!(e.url, None);
    let docker = parser(preset("docker").unwrap());
    let e = ev(
        &docker,
        "::1 - [18/Dec/2020:12:57:26 +1100] \"GET HTTP/1.1\" 400 0 1 - - \"-\"",
    );
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.url, None);
    assert_eq!(e.user_agent, None);
    let e = ev(
        &docker,
        "::1 - [18/Dec/2020:12:57:26 +1100] \"-\" 400 0 1 /fallback - \"-\"",
    );
    assert_eq!(e.method, None);
    assert_eq!(e.url.as_deref(), Some("/fallback"));
}

#[test]
fn quoted_fields_with_escapes() {
    let p = parser("combined");
    let line = r#"192.0.2.1 - carol [18/Dec/2020:12:57:26 +1100] "GET /a?q=\"x y\" HTTP/1.1" 200 12 "http://r/\"q\"" "Agent \"quoted\" with spaces""#;
    let e = ev(&p, line);
    assert_eq!(e.url.as_deref(), Some(r#"/a?q="x y""#));
    assert_eq!(e.referer.as_deref(), Some(r#"http://r/"q""#));
    assert_eq!(
        e.user_agent.as_deref(),
        Some(r#"Agent "quoted" with spaces"#)
    );
    assert_eq!(e.user.as_deref(), Some("carol"));
    assert_eq!(e.bytes, Some(12));
    assert_eq!(e.duration_ms, None);
}

#[test]
fn common_alias() {
    let p = parser("common");
    assert_eq!(p.pattern(), "common");
    let e = ev(
        &p,
        "::1 - - [18/Dec/2020:12:57:26 +1100] \"POST /dologin.action HTTP/1.1\" 302 -",
    );
    assert_eq!(e.method.as_deref(), Some("POST"));
    assert_eq!(e.url.as_deref(), Some("/dologin.action"));
    assert_eq!(e.status, Some(302));
    assert_eq!(e.bytes, Some(0));
    assert_eq!(e.user, None);
    assert_eq!(e.client_ip, Some(localhost6()));
    assert_eq!(preset("common"), Some(COMMON));
    assert_eq!(preset("nope"), None);
}

#[test]
fn custom_pattern_with_session_and_request_id() {
    let p = parser(
        "%{X-Request-Id}i %a %t %{X-ASESSIONID}o %u \"%m %U%q %H\" %s %B %{ms}T \"%{User-Agent}i\" %{X-AUSERNAME}o",
    );
    let line = "req-42 192.0.2.7 [18/Dec/2020:12:57:26 +1100] 1abcdEF bob \"GET /display/KEY/Page?x=1 HTTP/1.1\" 200 99 7 \"UA 1\" alice";
    let e = ev(&p, line);
    assert_eq!(e.session_id.as_deref(), Some("1abcdEF"));
    // X-AUSERNAME wins over %u.
    assert_eq!(e.user.as_deref(), Some("alice"));
    assert_eq!(e.client_ip, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))));
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.url.as_deref(), Some("/display/KEY/Page?x=1"));
    assert_eq!(e.duration_ms, Some(7.0));
    assert_eq!(e.user_agent.as_deref(), Some("UA 1"));

    let p = parser("%t %S %T %I");
    let e = ev(&p, "[18/Dec/2020:12:57:26 +1100] ABCDEF 0.250 exec-1");
    assert_eq!(e.session_id.as_deref(), Some("ABCDEF"));
    assert_eq!(e.duration_ms, Some(250.0));
    assert_eq!(e.thread.as_deref(), Some("exec-1"));
}

#[test]
fn presets_reject_each_others_lines() {
    let docker_line =
        "10.0.0.5 jdoe [17/Jun/2021:12:57:26 +0200] \"GET / HTTP/1.1\" 200 1 2 / t-1 \"UA\"";
    let samples = [
        ("installer", REAL_INSTALLER.lines().next().unwrap()),
        ("xff", REAL_XFF.lines().next().unwrap()),
        ("docker", docker_line),
    ];
    for (name, pat) in PRESETS {
        let p = parser(pat);
        for (sample_name, line) in samples {
            assert_eq!(
                p.matches_line(line),
                *name == sample_name,
                "{name} on {sample_name}"
            );
        }
    }
}

#[test]
fn xff_elsewhere_and_other_separators() {
    let p = parser("%a|%t|\"%{X-Forwarded-For}i\"|%r|%s|%{X-ASESSIONID}o");
    let line = "10.9.9.9|[18/Dec/2020:12:57:26 +1100]|\"2001:db8::1, 10.9.9.9\"|GET /a b HTTP/1.1|404|ABC123";
    let e = ev(&p, line);
    assert_eq!(e.client_ip, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(e.peer_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9))));
    assert_eq!(e.forwarded_for.as_deref(), Some("2001:db8::1, 10.9.9.9"));
    assert_eq!(e.url.as_deref(), Some("/a b"));
    assert_eq!(e.status, Some(404));
    assert_eq!(e.session_id.as_deref(), Some("ABC123"));
    // A forwarded entry with a port, and a host name as first hop.
    let e = ev(
        &p,
        "10.9.9.9|[18/Dec/2020:12:57:26 +1100]|\"198.51.100.4:51234\"|GET / HTTP/1.1|200|-",
    );
    assert_eq!(
        e.client_ip,
        Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4)))
    );
    assert_eq!(e.session_id, None);
    let e = ev(
        &p,
        "10.9.9.9|[18/Dec/2020:12:57:26 +1100]|\"unknown, 10.0.0.1\"|GET / HTTP/1.1|200|-",
    );
    assert_eq!(e.client_ip, None);
    assert_eq!(e.client_host.as_deref(), Some("unknown"));
    assert_eq!(e.peer_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9))));
}

#[test]
fn simple_date_format_time() {
    let p = parser("%{yyyy-MM-dd HH:mm:ss.SSS Z}t %h \"%r\" %s");
    let e = ev(
        &p,
        "2021-06-17 12:57:26.042 +0200 10.0.0.1 \"GET / HTTP/1.1\" 200",
    );
    assert_eq!(e.timestamp.to_rfc3339(), "2021-06-17T12:57:26.042+02:00");
    assert_eq!(e.status, Some(200));
    let d = mismatch(&p, "2021-06-17 12:57 +0200 10.0.0.1 \"GET / HTTP/1.1\" 200");
    assert!(d.contains("date format"), "{d}");
    // Directly followed by another field: the format says where the time ends.
    let e = ev(&parser("%{end:yyyyMMddHHmmss}t%h"), "20210617125726::1");
    assert_eq!(e.timestamp.to_rfc3339(), "2021-06-17T12:57:26+00:00");
    assert_eq!(e.client_ip, Some(localhost6()));
}

#[test]
fn epoch_time_formats() {
    let e = ev(&parser("%{msec}t %h"), "1608256646000 ::1");
    assert_eq!(e.epoch_ms(), 1_608_256_646_000);
    let e = ev(&parser("%{begin:sec}t %h"), "1608256646 ::1");
    assert_eq!(e.epoch_ms(), 1_608_256_646_000);
}

#[test]
fn errors_name_the_field() {
    let p = parser(preset("installer").unwrap());
    let d = mismatch(
        &p,
        "[18/Dec/2020:12:57:26 +1100] u t 1.2.3.4 GET / HTTP/1.1 OK 1ms 1 - UA",
    );
    assert!(d.contains("`%s`") && d.contains("status"), "{d}");
    let d = mismatch(&p, "18/Dec/2020 u t");
    assert!(d.contains("`%t`"), "{d}");
    let d = mismatch(
        &p,
        "[18/Dec/2020:12:57:26 +1100] u t 1.2.3.4 GET / HTTP/1.1 200 1 1 - UA",
    );
    assert!(d.contains("`%D`"), "{d}");
    assert!(matches!(
        p.parse_line(
            "[18/Dek/2020:12:57:26 +1100] u t 1.2.3.4 GET / HTTP/1.1 200 1ms 1 - UA",
            &mut ctx()
        ),
        LineOutcome::Error(ParseError::BadTimestamp(_))
    ));
    assert!(matches!(p.parse_line("   ", &mut ctx()), LineOutcome::Skip));
    assert!(matches!(p.parse_line("", &mut ctx()), LineOutcome::Skip));
    let docker = parser(preset("docker").unwrap());
    let d = mismatch(
        &docker,
        "1.2.3.4 u [18/Dec/2020:12:57:26 +1100] \"GET / HTTP/1.1\" 200 1 1 / t \"UA",
    );
    assert!(d.contains("closing"), "{d}");
}

#[test]
fn crlf_and_origin() {
    let p = parser(preset("installer").unwrap());
    let mut c = ctx();
    c.set_line(7);
    let line = format!("{}\r", REAL_INSTALLER.lines().next().unwrap());
    let LineOutcome::Event(e) = p.parse_line(&line, &mut c) else {
        panic!()
    };
    assert_eq!(e.user_agent.as_deref(), Some(UA_MAC));
    assert_eq!(e.origin.line, 7);
    assert_eq!(&*e.origin.file, "access.log");
}

#[test]
fn interned_strings_are_shared() {
    let p = parser(preset("installer").unwrap());
    let mut c = ctx();
    let mut lines = REAL_INSTALLER.lines();
    let (LineOutcome::Event(a), LineOutcome::Event(b)) = (
        p.parse_line(lines.next().unwrap(), &mut c),
        p.parse_line(lines.next().unwrap(), &mut c),
    ) else {
        panic!()
    };
    assert!(Arc::ptr_eq(
        a.user.as_ref().unwrap(),
        b.user.as_ref().unwrap()
    ));
    assert!(Arc::ptr_eq(
        a.user_agent.as_ref().unwrap(),
        b.user_agent.as_ref().unwrap()
    ));
}

const SERVER_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Server port="8000" shutdown="SHUTDOWN">
  <Service name="Tomcat-Standalone">
    <Connector port="8090" connectionTimeout="20000" redirectPort="8443"
               maxThreads="48" protocol="org.apache.coyote.http11.Http11NioProtocol"/>
    <Engine name="Standalone" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false">
        <Context path="" docBase="../confluence" reloadable="false" useHttpOnly="true">
          <Manager pathname=""/>
          <Valve className="org.apache.catalina.valves.StuckThreadDetectionValve" threshold="60"/>
          <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs"
                 maxDays="30" pattern="%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i"
                 prefix="conf_access_log" requestAttributesEnabled="true" rotatable="true" suffix=".log"/>
          <!--
          <Valve className="org.apache.catalina.valves.AccessLogValve" pattern="%h %l %u %t &quot;%r&quot;"/>
          -->
          <Valve pattern='%h %{X-AUSERNAME}o %t &quot;%r&quot; %s %b %D %U %I &quot;%{User-Agent}i&quot;'
                 prefix="confluence_access" className = 'org.apache.catalina.valves.AccessLogValve'>
          </Valve>
          <Valve className="org.apache.catalina.valves.ExtendedAccessLogValve" pattern="date time cs-uri"/>
          <Valve className="org.apache.catalina.valves.AccessLogValve" prefix="plain"/>
        </Context>
      </Host>
    </Engine>
  </Service>
</Server>
"#;

#[test]
fn server_xml_patterns() {
    let pats = patterns_from_server_xml(SERVER_XML).unwrap();
    assert_eq!(
        pats,
        vec![
            PRESETS[0].1.to_string(),
            PRESETS[2].1.to_string(),
            "common".to_string()
        ]
    );
    for p in &pats {
        assert!(
            AccessLogParser::new(p, AccessLogOptions::default()).is_ok(),
            "{p}"
        );
    }
    assert_eq!(
        patterns_from_server_xml("<Server/>").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn presets_compile() {
    for (name, pat) in PRESETS {
        assert_eq!(preset(name), Some(*pat));
        assert!(
            AccessLogParser::new(pat, AccessLogOptions::default()).is_ok(),
            "{name}"
        );
    }
    assert!(parser("combined").matches_line(
        "1.2.3.4 - - [18/Dec/2020:12:57:26 +1100] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl/8\""
    ));
}

/// Renders one line for a pattern from field values, as Tomcat would.
#[derive(Debug, Clone)]
struct Fields {
    ts: DateTime<FixedOffset>,
    user: Option<String>,
    thread: String,
    ip: IpAddr,
    xff: Option<(IpAddr, Vec<IpAddr>)>,
    method: String,
    path: String,
    query: Option<String>,
    status: u16,
    bytes: u64,
    duration: u32,
    referer: Option<String>,
    ua: String,
}

impl Fields {
    fn uri(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    fn render(&self, preset_name: &str) -> String {
        let t = self.ts.format("[%d/%b/%Y:%H:%M:%S %z]");
        let user = self.user.as_deref().unwrap_or("-");
        let req = format!("{} {} HTTP/1.1", self.method, self.uri());
        let referer = self.referer.as_deref().unwrap_or("-");
        let (ip, thread, status, bytes, d, ua) = (
            self.ip,
            &self.thread,
            self.status,
            self.bytes,
            self.duration,
            &self.ua,
        );
        let xff = match &self.xff {
            Some((first, rest)) => {
                let mut s = first.to_string();
                for r in rest {
                    s.push_str(", ");
                    s.push_str(&r.to_string());
                }
                s
            }
            None => "-".to_string(),
        };
        let esc_ua = ua.replace('\\', "\\\\").replace('"', "\\\"");
        match preset_name {
            "installer" => {
                format!("{t} {user} {thread} {ip} {req} {status} {d}ms {bytes} {referer} {ua}")
            }
            "xff" => format!(
                "{t} {xff} {user} {thread} {ip} {req} {status} {d}ms {bytes} {referer} {ua}"
            ),
            "docker" => format!(
                "{ip} {user} {t} \"{req}\" {status} {bytes} {d} {} {thread} \"{esc_ua}\"",
                self.path
            ),
            _ => format!("{ip} - {user} {t} \"{req}\" {status} {bytes} \"{referer}\" \"{esc_ua}\""),
        }
    }

    fn check(&self, preset_name: &str, e: &Event) {
        assert_eq!(e.timestamp, self.ts);
        assert_eq!(e.timestamp.offset(), self.ts.offset());
        assert_eq!(e.user.as_deref(), self.user.as_deref());
        assert_eq!(e.method.as_deref(), Some(self.method.as_str()));
        assert_eq!(e.url.as_deref(), Some(self.uri().as_str()));
        assert_eq!(e.status, Some(self.status));
        assert_eq!(e.bytes, Some(self.bytes));
        assert_eq!(e.user_agent.as_deref(), Some(self.ua.as_str()));
        match (preset_name, &self.xff) {
            ("xff", Some((first, _))) => {
                assert_eq!(e.client_ip, Some(*first));
                assert_eq!(e.peer_ip, Some(self.ip).filter(|ip| ip != first));
            }
            _ => {
                assert_eq!(e.client_ip, Some(self.ip));
                assert_eq!(e.peer_ip, None);
            }
        }
        if preset_name != "combined" {
            assert_eq!(e.thread.as_deref(), Some(self.thread.as_str()));
            assert_eq!(e.duration_ms, Some(f64::from(self.duration)));
        }
        if preset_name != "docker" {
            assert_eq!(e.referer.as_deref(), self.referer.as_deref());
        }
    }
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from),
    ]
}

prop_compose! {
    fn arb_ts()(secs in 0i64..4_102_444_800, off_min in -(14 * 60)..=(14 * 60)) -> DateTime<FixedOffset> {
        let off = FixedOffset::east_opt(off_min * 60).unwrap();
        DateTime::from_timestamp(secs, 0).unwrap().with_timezone(&off)
    }
}

prop_compose! {
    fn arb_fields()(
        ts in arb_ts(),
        user in proptest::option::of("[a-z][a-z0-9._@-]{0,15}"),
        thread in "http-nio-[0-9]{4}-exec-[0-9]{1,3}",
        ip in arb_ip(),
        xff in proptest::option::of((arb_ip(), proptest::collection::vec(arb_ip(), 0..3))),
        method in "GET|POST|PUT|DELETE|HEAD|OPTIONS|PROPFIND",
        path in "(/[A-Za-z0-9._~%+-]{1,12}){1,5}",
        query in proptest::option::of("[A-Za-z0-9=&%._-]{1,30}"),
        status in 100u16..600,
        bytes in 0u64..10_000_000_000,
        duration in 0u32..10_000_000,
        referer in proptest::option::of("https?://[a-z.]{1,20}(/[A-Za-z0-9?=&%._-]{0,20})?"),
        ua in "[A-Za-z][ -~]{0,80}",
    ) -> Fields {
        let user = user.filter(|u| u != "anonymous");
        Fields { ts, user, thread, ip, xff, method, path, query, status, bytes, duration, referer, ua }
    }
}

proptest! {
    #[test]
    fn round_trip_every_preset(f in arb_fields()) {
        for name in ["installer", "xff", "docker", "combined"] {
            let p = parser(preset(name).unwrap());
            let line = f.render(name);
            prop_assert!(p.matches_line(&line), "{name}: {line}");
            f.check(name, &ev(&p, &line));
        }
    }

    #[test]
    fn round_trip_shuffled_custom_pattern(
        f in arb_fields(),
        order in Just((0..9).collect::<Vec<usize>>()).prop_shuffle(),
        session in "[A-F0-9]{8,32}",
    ) {
        // Fields in any order, space-separated, User-Agent last (it takes the rest).
        let mut pat = Vec::new();
        let mut line = Vec::new();
        let req = format!("{} {} HTTP/1.1", f.method, f.uri());
        for i in order {
            let (code, value) = match i {
                0 => ("%t", f.ts.format("[%d/%b/%Y:%H:%M:%S %z]").to_string()),
                1 => ("%{X-AUSERNAME}o", f.user.clone().unwrap_or_else(|| "-".into())),
                2 => ("%I", f.thread.clone()),
                3 => ("%a", f.ip.to_string()),
                4 => ("%s", f.status.to_string()),
                5 => ("%b", f.bytes.to_string()),
                6 => ("%D", f.duration.to_string()),
                7 => ("%{X-ASESSIONID}o", session.clone()),
                _ => ("\"%r\"", format!("\"{req}\"")),
            };
            pat.push(code);
            line.push(value);
        }
        pat.push("%{User-Agent}i");
        line.push(f.ua.clone());
        let p = AccessLogParser::new(
            &pat.join(" "),
            AccessLogOptions { duration_unit: DurationUnit::Micros },
        ).unwrap();
        let e = ev(&p, &line.join(" "));
        prop_assert_eq!(e.timestamp, f.ts);
        prop_assert_eq!(e.user.as_deref(), f.user.as_deref());
        prop_assert_eq!(e.thread.as_deref(), Some(f.thread.as_str()));
        prop_assert_eq!(e.client_ip, Some(f.ip));
        prop_assert_eq!(e.status, Some(f.status));
        prop_assert_eq!(e.bytes, Some(f.bytes));
        let d = e.duration_ms.unwrap();
        prop_assert!((d - f64::from(f.duration) / 1000.0).abs() < 1e-9, "{d}");
        prop_assert_eq!(e.session_id.as_deref(), Some(session.as_str()));
        let uri = f.uri();
        prop_assert_eq!(e.url.as_deref(), Some(uri.as_str()));
        prop_assert_eq!(e.user_agent.as_deref(), Some(f.ua.as_str()));
    }

    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
        for name in ["installer", "xff", "docker", "combined", "common"] {
            let p = parser(preset(name).unwrap());
            let _ = p.parse_line(&s, &mut ctx());
            let _ = p.matches_line(&s);
        }
    }

    #[test]
    fn never_panics_on_near_miss_lines(f in arb_fields(), cut in 0usize..400, junk in "[ \"\\[\\]\\\\,-]{0,4}") {
        for name in ["installer", "xff", "docker", "combined"] {
            let p = parser(preset(name).unwrap());
            let mut line = f.render(name);
            let mut at = cut.min(line.len());
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            line.insert_str(at, &junk);
            let _ = p.parse_line(&line, &mut ctx());
            line.truncate(at);
            let _ = p.parse_line(&line, &mut ctx());
        }
    }

    #[test]
    fn arbitrary_patterns_never_panic(pat in "[%{}a-zA-Z \"\\[\\]:-]{0,30}", s in "[ -~]{0,80}") {
        if let Ok(p) = AccessLogParser::new(&pat, AccessLogOptions::default()) {
            let _ = p.parse_line(&s, &mut ctx());
        }
        let _ = patterns_from_server_xml(&pat);
        let _ = patterns_from_server_xml(&s);
    }
}

/// Throughput of the installer pattern. Run with
/// `cargo test -p confwatch-ingest --release access_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn access_throughput() {
    let p = parser(preset("installer").unwrap());
    let lines: Vec<&str> = REAL_INSTALLER.lines().collect();
    let mut c = ctx();
    let n = 3_000_000;
    let start = std::time::Instant::now();
    let mut ok = 0usize;
    for i in 0..n {
        if let LineOutcome::Event(e) = p.parse_line(lines[i % lines.len()], &mut c) {
            ok += usize::from(e.status.is_some());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, n);
    println!("installer pattern: {:.0} lines/s", n as f64 / secs);
    let start = std::time::Instant::now();
    let mut m = 0usize;
    for i in 0..n {
        m += usize::from(p.matches_line(lines[i % lines.len()]));
    }
    assert_eq!(m, n);
    println!(
        "matches_line: {:.0} lines/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
}

/// Speed of `scan` alone on real-shaped lines: the first 100,000 lines of the ingestion
/// benchmark's log (`bench/out/access-100mb.log`), best of five passes.
#[test]
#[ignore = "timing; run with --ignored --release after generating the benchmark log"]
fn timing_scan_bench_log() {
    let Some(text) = crate::test_support::bench_log() else {
        return;
    };
    let p = parser(preset("installer").unwrap());
    let lines: Vec<&str> = text.lines().take(100_000).collect();
    assert!(lines.iter().all(|l| p.scan(l).is_ok()));
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        for l in &lines {
            let _ = std::hint::black_box(p.scan(l));
        }
        best = best.min(start.elapsed());
    }
    eprintln!("{:?} per line", best / u32::try_from(lines.len()).unwrap());
}
