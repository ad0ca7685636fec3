//! `confwatch events`.

#[derive(clap::Args)]
pub struct EventsArgs {}

pub fn run(_args: EventsArgs) -> anyhow::Result<u8> {
    Ok(0)
}
