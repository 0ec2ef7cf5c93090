//! `ref-proxy`: the reference crate's own v2 proxy side (its AgentPool and clients) driving an agent,
//! so zap's agent side can be checked (and measured) against the reference proxy.
//!
//!   ref-proxy --endpoint <unix:/path | /path | grpc://host:port | http://host:port>
//!   ref-proxy --reverse-listen <path> --token <T>     the crate's ReverseConnectionListener (UDS):
//!                                                     prints `ready unix:<path>`, waits for one agent
//!   [--requests N] [--header name:value]… [--body TEXT]
//!                           check mode (default): N requests, see check.rs; one JSON line on stdout
//!   [--load --inflight K --warmup-ms W --duration-ms D]   closed-loop load, one JSON line
//!   [--connections C] [--timeout-ms T] [--trace]
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use zentinel_agent_protocol::v2::{
    AgentClientV2Uds, AgentPool, AgentPoolConfig, ReverseConnectionConfig, ReverseConnectionListener,
    UdsEncoding,
};
use zap_reference::args::Args;
use zap_reference::{check, load};

const USAGE: &str = "ref-proxy (--endpoint <unix:/path|grpc://host:port> | --reverse-listen <path> --token T) \
[--requests N] [--header name:value]... [--body TEXT] [--load --inflight K --warmup-ms W --duration-ms D] [--connections C] [--timeout-ms T] [--trace]";

const AGENT: &str = "agent";

fn main() {
    let mut args = Args::from_env(USAGE);
    let endpoint = args.value("--endpoint");
    let reverse = args.value("--reverse-listen");
    let token = args.value("--token");
    let requests = args.number("--requests", 20) as usize;
    let loading = args.flag("--load");
    let inflight = args.number("--inflight", 256) as usize;
    let warmup = Duration::from_millis(args.number("--warmup-ms", 1_000));
    let window = Duration::from_millis(args.number("--duration-ms", 5_000));
    let connections = args.number("--connections", 4) as usize;
    let timeout = Duration::from_millis(args.number("--timeout-ms", 10_000));
    let trace = args.flag("--trace");
    let body = args.value("--body");
    let mut extra_headers = Vec::new();
    while let Some(h) = args.value("--header") {
        match h.split_once(':') {
            Some((name, value)) => extra_headers.push((name.trim().to_string(), value.trim().to_string())),
            None => args.fail(&format!("--header wants name:value, got '{h}'")),
        }
    }
    if endpoint.is_some() == reverse.is_some() {
        args.fail("give exactly one of --endpoint and --reverse-listen");
    }
    if reverse.is_some() && token.is_none() {
        args.fail("--reverse-listen needs --token (the listener requires registration tokens)");
    }
    if loading && (inflight == 0 || window.is_zero()) {
        args.fail("--load needs --inflight and --duration-ms above 0");
    }
    args.finish();
    if trace {
        zap_reference::trace::install();
    }
    let config = AgentPoolConfig {
        connections_per_agent: connections.max(1),
        request_timeout: timeout,
        // The load loops keep `inflight` requests open over `connections` connections.
        max_concurrent_per_connection: inflight.max(100),
        ..AgentPoolConfig::default()
    };
    let runtime = zap_reference::runtime();
    let outcome = runtime.block_on(async move {
        let pool = Arc::new(AgentPool::with_config(config));
        let (transport, encoding) = match (&endpoint, &reverse) {
            (Some(endpoint), None) => connect(&pool, endpoint, timeout).await?,
            (None, Some(path)) => accept_reverse(&pool, path, token.unwrap_or_default()).await?,
            _ => unreachable!("checked above"),
        };
        let line = if loading {
            load::run(Arc::clone(&pool), AGENT, transport, encoding, load::LoadSettings { inflight, warmup, window }).await
        } else {
            check::run(&pool, AGENT, transport, encoding, &check::CheckSettings { requests, extra_headers, body }).await
        };
        let _ = pool.shutdown().await;
        Ok::<_, String>(line)
    });
    match outcome {
        Ok(line) => println!("{line}"),
        Err(err) => {
            eprintln!("ref-proxy: {err}");
            std::process::exit(1);
        }
    }
}

/// Adds the agent to the pool by endpoint (the crate picks UDS or gRPC from its form). For UDS a
/// separate client's handshake first tells which encoding the agent chose: the pool keeps that private.
async fn connect(pool: &AgentPool, endpoint: &str, timeout: Duration) -> Result<(&'static str, Option<String>), String> {
    let uds_path = endpoint.strip_prefix("unix:").or_else(|| endpoint.starts_with('/').then_some(endpoint));
    let (transport, encoding, pool_endpoint) = match uds_path {
        Some(path) => {
            let probe = AgentClientV2Uds::new("encoding-probe", path, timeout).await.map_err(|e| e.to_string())?;
            probe.connect().await.map_err(|e| format!("UDS handshake failed: {e}"))?;
            let encoding = match probe.encoding().await {
                UdsEncoding::Json => "json",
                UdsEncoding::MessagePack => "msgpack",
            };
            let _ = probe.close().await;
            ("uds", Some(encoding.to_string()), format!("unix:{path}"))
        }
        // The crate's gRPC client needs a full URI.
        None => ("grpc", None, endpoint.replacen("grpc://", "http://", 1)),
    };
    pool.add_agent(AGENT, pool_endpoint).await.map_err(|e| e.to_string())?;
    if !pool.is_agent_healthy(AGENT) {
        return Err(format!("no connection to the agent at {endpoint}"));
    }
    Ok((transport, encoding))
}

/// Binds the crate's reverse listener (tokens required), prints the ready line and waits for one
/// agent connection to register into the pool under its own agent id, renamed here to AGENT.
async fn accept_reverse(pool: &AgentPool, path: &str, token: String) -> Result<(&'static str, Option<String>), String> {
    let config = ReverseConnectionConfig {
        require_auth: true,
        auth_tokens: HashSet::from([token]),
        ..ReverseConnectionConfig::default()
    };
    let listener = ReverseConnectionListener::bind_uds(path, config).await.map_err(|e| e.to_string())?;
    zap_reference::ready(&format!("unix:{path}"));
    let agent_id = listener.accept_one(pool).await.map_err(|e| format!("reverse registration failed: {e}"))?;
    if agent_id != AGENT {
        return Err(format!("the agent registered as '{agent_id}'; start it with agent id '{AGENT}'"));
    }
    Ok(("reverse", Some("json".to_string())))
}
