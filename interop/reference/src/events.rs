//! The events `ref-proxy` sends, built with the reference crate's own types. The load event is the
//! same browser-like GET as zap's bench/sample-request.ts, so both clients carry identical work.
use std::collections::HashMap;

use base64::Engine as _;
use zentinel_agent_protocol::{
    RequestBodyChunkEvent, RequestHeadersEvent, RequestMetadata, ResponseHeadersEvent,
};

const SAMPLE_URI: &str = "/products/42?ref=home&utm_source=newsletter";
const SAMPLE_HEADERS: [(&str, &str); 10] = [
    ("host", "shop.example"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-GB,en;q=0.5"),
    ("accept-encoding", "gzip, deflate, br"),
    ("cookie", "session=4f2a9c1e7b; theme=dark"),
    ("x-forwarded-for", "198.51.100.23"),
    ("x-request-id", "7d1c0b9e-2f43-4d8a-9a57-c2b8f1e6a0d3"),
    ("cache-control", "no-cache"),
    ("referer", "https://shop.example/catalog?page=2"),
];

/// RequestHeaders for `uri` with the sample's metadata and headers, plus `extra` headers.
pub fn request_headers(cid: &str, method: &str, uri: &str, extra: &[(String, String)]) -> RequestHeadersEvent {
    let mut headers: HashMap<String, Vec<String>> = SAMPLE_HEADERS
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect();
    for (name, value) in extra {
        headers.entry(name.clone()).or_default().push(value.clone());
    }
    RequestHeadersEvent {
        metadata: RequestMetadata {
            correlation_id: cid.to_string(),
            request_id: cid.to_string(),
            client_ip: "198.51.100.23".to_string(),
            client_port: 51514,
            server_name: Some("shop.example".to_string()),
            protocol: "HTTP/1.1".to_string(),
            tls_version: Some("TLSv1.3".to_string()),
            tls_cipher: Some("TLS_AES_128_GCM_SHA256".to_string()),
            route_id: Some("shop".to_string()),
            upstream_id: None,
            timestamp: "2026-01-01T00:00:00.000Z".to_string(),
            traceparent: None,
        },
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
    }
}

/// The benchmark's event: zap's sample GET.
pub fn sample_request_headers(cid: &str) -> RequestHeadersEvent {
    request_headers(cid, "GET", SAMPLE_URI, &[])
}

/// One whole request body in one chunk (the JSON form carries it as base64).
pub fn request_body_chunk(cid: &str, body: &[u8]) -> RequestBodyChunkEvent {
    RequestBodyChunkEvent {
        correlation_id: cid.to_string(),
        data: base64::engine::general_purpose::STANDARD.encode(body),
        is_last: true,
        total_size: Some(body.len()),
        chunk_index: 0,
        bytes_received: body.len(),
    }
}

pub fn response_headers(cid: &str, status: u16) -> ResponseHeadersEvent {
    let mut headers = HashMap::new();
    headers.insert("content-type".to_string(), vec!["text/html".to_string()]);
    ResponseHeadersEvent {
        correlation_id: cid.to_string(),
        status,
        headers,
    }
}
