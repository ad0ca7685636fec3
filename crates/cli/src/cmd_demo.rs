//! `confwatch demo`: writes a small built-in sample of Confluence logs to a temporary folder
//! and runs the main job on it, so a new user sees what confwatch does in seconds.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the sample logs in this folder instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

pub fn run(args: DemoArgs) -> Result<u8> {
    let tmp;
    let dir: &Path = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => {
            tmp = tempfile::tempdir().context("creating a temporary folder")?;
            tmp.path()
        }
    };
    let logs = dir.join("logs");
    std::fs::create_dir_all(logs.join("node1"))?;
    std::fs::write(
        logs.join("node1/conf_access_log.2026-03-02.log"),
        sample_access_log(),
    )?;
    println!(
        "confwatch demo: sample Confluence logs written to {}\n",
        logs.display()
    );
    let logs_arg = logs.display().to_string();
    println!("== confwatch events --stats {logs_arg}\n");
    crate::run_argv(["confwatch", "events", "--stats", "--no-progress", &logs_arg])?;
    println!("\n== confwatch hunt {logs_arg}\n");
    let code = crate::run_argv(["confwatch", "hunt", "--no-progress", &logs_arg])?;
    // Alerts are the point of the demo, not a failure.
    Ok(if code == crate::cmd_hunt::EXIT_ALERTS {
        0
    } else {
        code
    })
}

/// A working day of three colleagues and, at night, a stolen account hunting for
/// credentials from a new address and reading what it found.
fn sample_access_log() -> String {
    let mut out = String::new();
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";
    let mut line = |h: u32, m: u32, s: u32, user: &str, ip: &str, req: &str, status: u16| {
        let _ = writeln!(
            out,
            "[02/Mar/2026:{h:02}:{m:02}:{s:02} +0100] {user} http-nio-8090-exec-{} {ip} {req} HTTP/1.1 {status} {}ms {} https://wiki.corp.example/index.action {ua}",
            (h * 7 + m) % 50 + 1,
            20 + (m * 13 + s) % 400,
            1000 + (s * 977) % 90_000,
        );
    };
    for (i, (user, ip, space)) in [
        ("alice", "10.20.1.15", "ENG"),
        ("bob", "10.20.1.16", "OPS"),
        ("carol", "10.20.3.40", "HR"),
    ]
    .iter()
    .enumerate()
    {
        let h = 9 + i as u32;
        line(h, 0, 5, "-", ip, "GET /login.action", 200);
        line(h, 0, 20, user, ip, "POST /dologin.action", 302);
        line(h, 0, 21, user, ip, "GET /index.action", 200);
        for p in 0..6u32 {
            let m = 2 + p * 7;
            line(
                h,
                m,
                0,
                user,
                ip,
                &format!("GET /display/{space}/Page+{p}"),
                200,
            );
            line(
                h,
                m,
                1,
                user,
                ip,
                "GET /s/en_GB/9012/abc/_/download/batch/com.atlassian.auiplugin:ajs/com.atlassian.auiplugin:ajs.js",
                200,
            );
            line(
                h,
                m,
                30,
                user,
                ip,
                &format!("GET /rest/quickreload/latest/{}?since=1", 65000 + p),
                200,
            );
        }
        line(
            h,
            50,
            0,
            user,
            ip,
            "GET /dosearchsite.action?queryString=release+notes",
            200,
        );
        line(h, 55, 0, user, ip, "GET /logout.action", 302);
    }
    let attacker = "185.220.101.47";
    line(2, 13, 2, "-", attacker, "GET /login.action", 200);
    line(2, 13, 9, "bob", attacker, "POST /dologin.action", 302);
    for (k, term) in [
        "password",
        "vpn",
        "aws+secret",
        "api+key",
        "ssh+private+key",
    ]
    .iter()
    .enumerate()
    {
        line(
            2,
            14 + k as u32,
            0,
            "bob",
            attacker,
            &format!("GET /dosearchsite.action?queryString={term}"),
            200,
        );
    }
    line(
        2,
        20,
        0,
        "bob",
        attacker,
        "GET /rest/api/search?cql=siteSearch+~+%22credentials%22&limit=50",
        200,
    );
    for p in 0..12u32 {
        line(
            2,
            21 + p * 2,
            0,
            "bob",
            attacker,
            &format!("GET /pages/viewpage.action?pageId={}", 917_500 + p * 3),
            200,
        );
    }
    line(
        2,
        50,
        0,
        "bob",
        attacker,
        "GET /download/attachments/917503/network-diagram.vsdx?version=2&api=v2",
        200,
    );
    line(
        2,
        51,
        0,
        "bob",
        attacker,
        "GET /spaces/flyingpdf/pdfpageexport.action?pageId=917506",
        200,
    );
    line(
        2,
        53,
        0,
        "bob",
        attacker,
        "GET /spaces/exportspacewelcome.action?key=OPS",
        200,
    );
    line(
        2,
        54,
        0,
        "bob",
        attacker,
        "POST /spaces/doexportspace.action?key=OPS",
        302,
    );
    line(
        2,
        58,
        0,
        "bob",
        attacker,
        "GET /download/temp/Confluence-space-export-025800-17.xml.zip",
        200,
    );
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_by_key(|l| l.get(13..21).map(str::to_string));
    lines.join("\n") + "\n"
}
