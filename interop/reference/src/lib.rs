//! Shared plumbing of the two reference binaries: argument parsing, the tokio runtime, the ready
//! line, process CPU time and the optional debug log. Nothing here speaks the protocol: that is
//! the reference crate's job.
pub mod args;
pub mod cpu;
pub mod trace;

use std::io::Write;

/// A multi-threaded runtime; `ZAP_REF_THREADS` caps its worker threads (default: one per core),
/// so a benchmark can give both sides the same number of cores.
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = std::env::var("ZAP_REF_THREADS").ok().and_then(|v| v.parse::<usize>().ok()) {
        if n > 0 {
            builder.worker_threads(n);
        }
    }
    builder.build().expect("tokio runtime")
}

/// The one line a parent process waits for before it connects.
pub fn ready(endpoint: &str) {
    say(&format!("ready {endpoint}"));
}

/// One progress line on stdout, flushed at once (a parent acts on it).
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub mod check;
pub mod events;
pub mod load;

/// The reference crate this build is pinned to (Cargo.toml), reported in every JSON line.
pub const CRATE_VERSION: &str = "0.6.54";
