//! `ref-proxy` check mode: one short conversation through the reference pool, reported as one JSON
//! line of everything the agent answered, for zap's tests to judge.
//!
//! For request i of n: RequestHeaders (URI `/blocked/i` for every fourth, else `/item/i`); an
//! allowed request then gets a body chunk and response headers, except every fifth, which is
//! cancelled instead (ClientDisconnect). All requests run concurrently. Then one more request
//! shows that the connections still serve after the cancels. `--header name:value` adds a header to
//! every request, `--body TEXT` replaces the body text.
use serde_json::{json, Value};
use zentinel_agent_protocol::v2::{AgentPool, CancelReason};
use zentinel_agent_protocol::AgentResponse;

use crate::events;

fn answer(result: Result<AgentResponse, zentinel_agent_protocol::AgentProtocolError>) -> Value {
    match result {
        Ok(response) => json!({ "response": response }),
        Err(err) => json!({ "error": err.to_string() }),
    }
}

/// What every request of the check carries beyond the sample: extra headers and the body text.
pub struct CheckSettings {
    pub requests: usize,
    pub extra_headers: Vec<(String, String)>,
    pub body: Option<String>,
}

async fn one_request(pool: &AgentPool, agent: &str, s: &CheckSettings, i: usize) -> Value {
    let cid = format!("ref-{i}");
    let uri = if i % 4 == 3 { format!("/blocked/{i}") } else { format!("/item/{i}") };
    let headers = events::request_headers(&cid, "POST", &uri, &s.extra_headers);
    let first = pool.send_request_headers(agent, &cid, &headers).await;
    let allowed = matches!(&first, Ok(r) if matches!(r.decision, zentinel_agent_protocol::Decision::Allow));
    let mut out = json!({ "cid": cid, "uri": uri, "headers": answer(first) });
    if allowed && i % 5 == 4 {
        let cancel = pool.cancel_request(agent, &cid, CancelReason::ClientDisconnect).await;
        out["cancel"] = json!({ "ok": cancel.is_ok(), "error": cancel.err().map(|e| e.to_string()) });
    } else if allowed {
        let body = s.body.clone().unwrap_or_else(|| format!("body of {cid}"));
        let chunk = events::request_body_chunk(&cid, body.as_bytes());
        out["body_chunk"] = answer(pool.send_request_body_chunk(agent, &cid, &chunk).await);
        let response = events::response_headers(&cid, 200);
        out["response_headers"] = answer(pool.send_response_headers(agent, &cid, &response).await);
    }
    pool.clear_correlation_affinity(&cid);
    out
}

pub async fn run(pool: &AgentPool, agent: &str, transport: &str, encoding: Option<String>, s: &CheckSettings) -> Value {
    let capabilities = pool.agent_capabilities(agent).await;
    let requests = futures::future::join_all((0..s.requests).map(|i| one_request(pool, agent, s, i))).await;
    let after = events::request_headers("ref-after", "GET", "/after-cancels", &s.extra_headers);
    let after_cancels = answer(pool.send_request_headers(agent, "ref-after", &after).await);
    json!({
        "mode": "check",
        "transport": transport,
        "crate_version": crate::CRATE_VERSION,
        "encoding": encoding,
        "capabilities": capabilities,
        "requests": requests,
        "after_cancels": after_cancels,
    })
}
