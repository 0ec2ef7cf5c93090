//! `ref-proxy --load`: the reference pool as a closed-loop load client, measured the way zap's
//! bench measures its rows: `inflight` loops each send the next RequestHeaders as soon as the last
//! one is answered; a warm-up, then a fixed window; latency percentiles and process CPU over the
//! window only.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zentinel_agent_protocol::v2::AgentPool;

use crate::{cpu, events};

pub struct LoadSettings {
    pub inflight: usize,
    pub warmup: Duration,
    pub window: Duration,
}

struct Shared {
    measuring: AtomicBool,
    stop: AtomicBool,
    errors: AtomicU64,
    next_cid: AtomicU64,
}

/// One closed loop; returns the latencies (µs) of the requests it completed inside the window.
async fn closed_loop(pool: Arc<AgentPool>, agent: Arc<str>, shared: Arc<Shared>) -> (Vec<u32>, Option<String>) {
    let mut latencies = Vec::new();
    let mut first_error = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let cid = format!("load-{}", shared.next_cid.fetch_add(1, Ordering::Relaxed));
        let event = events::sample_request_headers(&cid);
        let counted = shared.measuring.load(Ordering::Relaxed);
        let start = Instant::now();
        let result = pool.send_request_headers(&agent, &cid, &event).await;
        let took = start.elapsed();
        pool.clear_correlation_affinity(&cid);
        match result {
            Ok(_) => {
                // Counted only when it started and ended inside the window.
                if counted && shared.measuring.load(Ordering::Relaxed) {
                    latencies.push(took.as_micros().min(u32::MAX as u128) as u32);
                }
            }
            Err(err) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                first_error.get_or_insert_with(|| err.to_string());
            }
        }
    }
    (latencies, first_error)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints `window start` and `window end` on stdout as they happen, so a parent can sample the
/// agent's CPU over the same window; then returns the result line.
pub async fn run(pool: Arc<AgentPool>, agent: &str, transport: &str, encoding: Option<String>, s: LoadSettings) -> Value {
    let shared = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        errors: AtomicU64::new(0),
        next_cid: AtomicU64::new(0),
    });
    let agent: Arc<str> = Arc::from(agent);
    let loops: Vec<_> = (0..s.inflight)
        .map(|_| tokio::spawn(closed_loop(Arc::clone(&pool), Arc::clone(&agent), Arc::clone(&shared))))
        .collect();
    tokio::time::sleep(s.warmup).await;
    let cpu_start = cpu::process_cpu_us();
    let started = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    crate::say("window start");
    tokio::time::sleep(s.window).await;
    shared.measuring.store(false, Ordering::Relaxed);
    crate::say("window end");
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_us = cpu::process_cpu_us() - cpu_start;
    shared.stop.store(true, Ordering::Relaxed);

    let mut latencies = Vec::new();
    let mut first_error = None;
    for handle in loops {
        if let Ok((mut l, e)) = handle.await {
            latencies.append(&mut l);
            if first_error.is_none() {
                first_error = e;
            }
        }
    }
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    json!({
        "mode": "load",
        "transport": transport,
        "encoding": encoding,
        "crate_version": crate::CRATE_VERSION,
        "inflight": s.inflight,
        "requests": requests,
        "errors": shared.errors.load(Ordering::Relaxed),
        "first_error": first_error,
        "window_s": elapsed,
        "req_per_s": requests as f64 / elapsed,
        "p50_us": percentile(&latencies, 50.0),
        "p99_us": percentile(&latencies, 99.0),
        "p999_us": percentile(&latencies, 99.9),
        "cpu_us": cpu_us,
        "cpu_us_per_req": if requests == 0 { 0.0 } else { cpu_us as f64 / requests as f64 },
    })
}
