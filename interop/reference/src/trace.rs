//! The reference crate logs through `tracing`; `--trace` shows its debug lines on stderr (tests read
//! them, e.g. "Request cancelled"). Off by default: logging would distort the benchmark.
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

pub fn install() {
    let filter = Targets::new().with_target("zentinel_agent_protocol", tracing::Level::DEBUG);
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false))
        .with(filter)
        .init();
}
