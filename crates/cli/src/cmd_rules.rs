//! `confwatch rules` (being built).

#[derive(clap::Args)]
pub struct RulesArgs {}

pub fn run(_args: RulesArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`confwatch rules` is not available yet")
}
