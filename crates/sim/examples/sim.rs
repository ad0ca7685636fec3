//! Runs the simulator from the command line before `confwatch simulate` is wired in:
//! `cargo run -p confwatch-sim --example sim -- OUT USERS DAYS SEED [FORMATS]`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let formats = confwatch_sim::parse_formats(&arg(4, "installer,dc-audit"))?;
    let cfg = confwatch_sim::SimConfig {
        users: arg(1, "200").parse()?,
        days: arg(2, "14").parse()?,
        seed: arg(3, "1").parse()?,
        access: formats.access,
        audit: formats.audit,
        security_log: formats.security_log,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let s = confwatch_sim::simulate(&cfg, &PathBuf::from(arg(0, "sim-out")))?;
    eprintln!(
        "{} access lines, {} audit records, {} files, {} labels in {:.1?}",
        s.access_lines,
        s.audit_records,
        s.files.len(),
        s.labels,
        t.elapsed()
    );
    Ok(())
}
