//! `ref-agent`: the reference crate's own v2 agent servers, serving a handler that mirrors zap's
//! `echo` example so zap's pool can be checked (and measured) against the reference agent side.
//! URIs containing `/blocked` get a 403; those containing `/slow` are answered after 1.5 s (and
//! announced on stderr), so a test can cancel a request the agent really holds.
//!
//!   ref-agent --uds <path>            UdsAgentServerV2 (JSON or MessagePack, as the proxy offers)
//!   ref-agent --grpc <host:port>      GrpcAgentServerV2 (port 0: any free port)
//!   [--id <agent-id>] [--trace]       --trace: the crate's own debug log on stderr (cancels show there)
//!
//! Prints one line `ready <endpoint>` on stdout once the listener accepts connections, then serves
//! until killed.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use zentinel_agent_protocol::v2::{
    AgentCapabilities, AgentFeatures, AgentHandlerV2, GrpcAgentServerV2, UdsAgentServerV2,
};
use zentinel_agent_protocol::{
    AgentResponse, EventType, HeaderOp, RequestBodyChunkEvent, RequestCompleteEvent,
    RequestHeadersEvent, ResponseBodyChunkEvent, ResponseHeadersEvent,
};
use zap_reference::args::Args;

/// How long a `/slow` request is held before its answer: long enough to cancel it first, even on a
/// loaded machine.
const SLOW_REPLY: Duration = Duration::from_millis(1_500);

/// zap's `echo` example, plus a 403 for any URI containing `/blocked`, and a held answer for any
/// URI containing `/slow`.
struct EchoHandler {
    id: String,
}

#[async_trait]
impl AgentHandlerV2 for EchoHandler {
    fn capabilities(&self) -> AgentCapabilities {
        AgentCapabilities::new(self.id.clone(), "ref-agent", env!("CARGO_PKG_VERSION"))
            .with_event(EventType::RequestHeaders)
            .with_event(EventType::RequestBodyChunk)
            .with_event(EventType::ResponseHeaders)
            .with_event(EventType::ResponseBodyChunk)
            .with_event(EventType::RequestComplete)
            .with_features(AgentFeatures {
                streaming_body: true,
                cancellation: true,
                ..AgentFeatures::simple()
            })
    }

    async fn on_request_headers(&self, event: RequestHeadersEvent) -> AgentResponse {
        if event.uri.contains("/slow") {
            // Test hook: a request still in flight when the proxy cancels it. The line tells the
            // test the event arrived (no sleeping on the test side).
            eprintln!("slow request {}", event.metadata.correlation_id);
            tokio::time::sleep(SLOW_REPLY).await;
        }
        if event.uri.contains("/blocked") {
            return AgentResponse::block(403, Some("blocked by ref-agent".to_string()));
        }
        AgentResponse::default_allow().add_request_header(HeaderOp::Set {
            name: "x-agent-echo".to_string(),
            value: format!("{} {}", event.method, event.uri),
        })
    }

    async fn on_request_body_chunk(&self, _event: RequestBodyChunkEvent) -> AgentResponse {
        AgentResponse::default_allow()
    }

    async fn on_response_headers(&self, _event: ResponseHeadersEvent) -> AgentResponse {
        AgentResponse::default_allow()
    }

    async fn on_response_body_chunk(&self, _event: ResponseBodyChunkEvent) -> AgentResponse {
        AgentResponse::default_allow()
    }

    async fn on_request_complete(&self, _event: RequestCompleteEvent) -> AgentResponse {
        AgentResponse::default_allow()
    }
}

fn main() {
    let mut args = Args::from_env("ref-agent --uds <path> | --grpc <host:port> [--id ID] [--trace]");
    let uds = args.value("--uds");
    let grpc = args.value("--grpc");
    let id = args.value("--id").unwrap_or_else(|| "ref-agent".to_string());
    let trace = args.flag("--trace");
    args.finish();
    if trace {
        zap_reference::trace::install();
    }
    let runtime = zap_reference::runtime();
    let handler = Box::new(EchoHandler { id: id.clone() });
    let result = runtime.block_on(async move {
        match (uds, grpc) {
            (Some(path), None) => serve_uds(id, PathBuf::from(path), handler).await,
            (None, Some(addr)) => serve_grpc(id, &addr, handler).await,
            _ => Err("give exactly one of --uds and --grpc".to_string()),
        }
    });
    if let Err(err) = result {
        eprintln!("ref-agent: {err}");
        std::process::exit(1);
    }
}

async fn serve_uds(id: String, path: PathBuf, handler: Box<EchoHandler>) -> Result<(), String> {
    let server = UdsAgentServerV2::new(id, path.clone(), handler);
    let serving = tokio::spawn(async move { server.run().await });
    // The crate binds inside run(): ready once a connection is accepted by the kernel.
    for _ in 0..500 {
        if serving.is_finished() {
            break;
        }
        if tokio::net::UnixStream::connect(&path).await.is_ok() {
            zap_reference::ready(&format!("unix:{}", path.display()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    match serving.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(format!("UDS server failed: {err}")),
        Err(err) => Err(format!("UDS server task failed: {err}")),
    }
}

async fn serve_grpc(id: String, addr: &str, handler: Box<EchoHandler>) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("bad --grpc address '{addr}': {e}"))?;
    // Bind here rather than in GrpcAgentServerV2::run so port 0 works and readiness is exact.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot bind {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let service = GrpcAgentServerV2::new(id, handler).into_service();
    zap_reference::ready(&format!("grpc://{bound}"));
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await
        .map_err(|e| format!("gRPC server failed: {e}"))
}
