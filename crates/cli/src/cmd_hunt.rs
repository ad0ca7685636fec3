//! `confwatch hunt` (being built).

#[derive(clap::Args)]
pub struct HuntArgs {}

pub fn run(_args: HuntArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`confwatch hunt` is not available yet")
}
