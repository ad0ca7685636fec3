//! `confwatch scan` (being built).

#[derive(clap::Args)]
pub struct ScanArgs {}

pub fn run(_args: ScanArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`confwatch scan` is not available yet")
}
