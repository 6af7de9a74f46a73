//! Faults a test scripts into the sandbox, and the log of what the sandbox received.
//!
//! Every request passes through [`layer`]: it is recorded (credentials redacted), and the
//! first scripted rule that matches it and has uses left answers instead of the API (or, for
//! a stall, delays it; for a cut, breaks its body off).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};

/// What the sandbox answers with instead of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with `Retry-After` and the API's error body; the request does no work.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// A server failure with this status (500, 502, 503, 504, …) and the API's error body.
    ServerError {
        /// The status to answer with.
        status: u16,
    },
    /// HockeyStack's monthly credit cap: HTTP 503 with `credits.limit_exceeded`.
    CreditsExhausted,
    /// Nothing for this long, then the real answer (longer than a client's read timeout, it
    /// is a silent server).
    Stall {
        /// How long to stay silent, in milliseconds.
        millis: u64,
    },
    /// The real answer, with its body broken off after this many bytes and the connection
    /// closed: a cut page or a cut streamed reply.
    CutBody {
        /// How many bytes of the body are sent.
        after_bytes: usize,
    },
    /// The HockeyStack agent provisioning run this request starts (`PUT …/agent`) ends in
    /// `provisioning_failed`, whatever the id; the request itself is answered as usual.
    ProvisioningFailed,
    /// This status and JSON body instead of the API's answer: for answers the sandbox's own
    /// world never produces, such as a value newly added to an open set or a documented null.
    Respond {
        /// The status to answer with.
        status: u16,
        /// The JSON body to send.
        body: serde_json::Value,
    },
}

/// A scripted fault: which requests it applies to and how many times. A rule posted with a
/// member it does not know (`pathPrefix` for `path_prefix`, say) is refused rather than
/// applied to every request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// Only requests with this method (`GET`, `POST`, …); any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this (for example
    /// `/api/revenue-agents/v1/deals/9001234567`), as sent or percent-decoded, so an id can be
    /// written as it is; any path when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// How many requests it answers before it is used up; every matching request when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule for every request, until cleared; narrow it with the other methods.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            method: None,
            path_prefix: None,
            times: None,
        }
    }

    /// Only for the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Only for requests with this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Only for requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    fn matches(&self, method: &str, path: &str, decoded_path: &str) -> bool {
        self.times != Some(0)
            && self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p) || decoded_path.starts_with(p))
    }
}

/// One request as the sandbox received it. Credentials are never recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    /// The method.
    pub method: String,
    /// The path, as sent (percent-encoding kept).
    pub path: String,
    /// The query string, as sent; empty when there was none.
    pub query: String,
    /// The body, as text (bytes that are not UTF-8 are replaced).
    pub body: String,
    /// Whether the request carried a credential header (its value is not kept).
    pub had_credential: bool,
    /// The fault that answered it, if one did.
    pub fault: Option<Fault>,
}

/// The most requests kept in the log; older ones are dropped first.
const LOG_LIMIT: usize = 10_000;
/// The most bytes of request bodies the log keeps, over all its requests: without it, ten
/// thousand bodies of a megabyte each would hold ten gigabytes. Older requests are dropped
/// first.
const LOG_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The largest request body read for the log.
const BODY_LIMIT: usize = 1024 * 1024;

/// The request log: the requests, oldest first, and the bytes of their bodies.
#[derive(Debug, Default)]
struct Log {
    requests: VecDeque<ReceivedRequest>,
    body_bytes: usize,
}

/// The scripted faults and the request log of one sandbox.
#[derive(Debug, Default)]
pub(crate) struct Script {
    rules: Mutex<Vec<FaultRule>>,
    log: Mutex<Log>,
}

impl Script {
    pub(crate) fn inject(&self, rule: FaultRule) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.push(rule);
        }
    }

    pub(crate) fn clear_faults(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
        }
    }

    pub(crate) fn requests(&self) -> Vec<ReceivedRequest> {
        self.log
            .lock()
            .map(|log| log.requests.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn clear_requests(&self) {
        if let Ok(mut log) = self.log.lock() {
            *log = Log::default();
        }
    }

    /// The fault for a request, using up one of its rule's turns.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let mut rules = self.rules.lock().ok()?;
        let rule = rules
            .iter_mut()
            .find(|r| r.matches(method, path, &decoded))?;
        if let Some(times) = &mut rule.times {
            *times -= 1;
        }
        Some(rule.fault.clone())
    }

    fn record(&self, request: ReceivedRequest) {
        if let Ok(mut log) = self.log.lock() {
            log.body_bytes += request.body.len();
            log.requests.push_back(request);
            while log.requests.len() > LOG_LIMIT || log.body_bytes > LOG_BODY_BYTES {
                let Some(oldest) = log.requests.pop_front() else {
                    break;
                };
                log.body_bytes -= oldest.body.len();
            }
        }
    }
}

/// The axum middleware: records the request, then answers with a scripted fault or passes it
/// on.
pub(crate) async fn layer(
    State(script): State<Arc<Script>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    if path.starts_with(ADMIN) {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        if !from_this_machine(peer) {
            return super::json(
                StatusCode::FORBIDDEN,
                &serde_json::json!({"detail": "the sandbox's controls answer requests from loopback only"}),
            );
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let fault = script.take(&method, &path);
    script.record(ReceivedRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        had_credential: parts.headers.contains_key(header::AUTHORIZATION)
            || parts.headers.contains_key("x-api-key"),
        fault: fault.clone(),
    });
    let hockeystack = path.starts_with("/api/revenue-agents/");
    let request = Request::from_parts(parts, Body::from(bytes));
    match fault {
        None => next.run(request).await,
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut response = error_body(
                hockeystack,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit.exceeded",
                "rate_limited",
                "Rate limit exceeded.",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after_secs.to_string()).expect("digits"),
            );
            response
        }
        Some(Fault::ServerError { status }) => error_body(
            hockeystack,
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "server.error",
            "server_error",
            "The sandbox was told to fail.",
        ),
        Some(Fault::CreditsExhausted) => error_body(
            hockeystack,
            StatusCode::SERVICE_UNAVAILABLE,
            "credits.limit_exceeded",
            "credits_exhausted",
            "The monthly credit limit has been reached.",
        ),
        Some(Fault::Respond { status, body }) => super::json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
        ),
        Some(Fault::ProvisioningFailed) => {
            let mut request = request;
            request.extensions_mut().insert(FailProvisioning);
            next.run(request).await
        }
        Some(Fault::Stall { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        Some(Fault::CutBody { after_bytes }) => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            // Streamed bodies end in their own time; this waits for the whole answer.
            let whole = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let kept = whole.slice(..after_bytes.min(whole.len()));
            parts.headers.remove(header::CONTENT_LENGTH);
            // The kept part goes out first; only then does the body fail, which makes the
            // server drop the connection mid-answer (failing at once could drop it before
            // the head is written, which a client sees as a refused request instead).
            use futures_util::StreamExt;
            let kept = futures_util::stream::iter([Ok::<_, std::io::Error>(kept)]);
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the sandbox was told to cut this body",
                ))
            });
            Response::from_parts(parts, Body::from_stream(kept.chain(cut)))
        }
    }
}

/// Marks a request whose provisioning run must fail ([`Fault::ProvisioningFailed`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailProvisioning;

/// The path prefix of the sandbox's own controls.
pub(crate) const ADMIN: &str = "/__sandbox";

fn error_body(
    hockeystack: bool,
    status: StatusCode,
    code: &str,
    category: &str,
    message: &str,
) -> Response {
    let body = if hockeystack {
        serde_json::json!({"error": {"code": code, "category": category, "message": message}})
    } else {
        serde_json::json!({ "detail": message })
    };
    super::json(status, &body)
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

/// The admin routes, for the binary and for tests in other languages:
/// `POST /__sandbox/faults` (a [`FaultRule`] as JSON), `DELETE /__sandbox/faults`,
/// `GET /__sandbox/requests`, `DELETE /__sandbox/requests`. The sandbox only ever listens on
/// loopback, so they are reachable from this machine only.
pub(crate) fn admin(script: Arc<Script>) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/__sandbox/faults",
            axum::routing::post(add_fault).delete(clear_faults),
        )
        .route("/__sandbox/requests", get(requests).delete(clear_requests))
        .with_state(script)
}

async fn add_fault(State(script): State<Arc<Script>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => {
            script.inject(rule);
            super::empty(StatusCode::NO_CONTENT)
        }
        Err(e) => super::json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "detail": format!("not a fault rule: {e}") }),
        ),
    }
}

async fn clear_faults(State(script): State<Arc<Script>>) -> Response {
    script.clear_faults();
    super::empty(StatusCode::NO_CONTENT)
}

async fn requests(State(script): State<Arc<Script>>) -> Response {
    super::json(
        StatusCode::OK,
        &serde_json::to_value(script.requests()).expect("requests serialise"),
    )
}

async fn clear_requests(State(script): State<Arc<Script>>) -> Response {
    script.clear_requests();
    super::empty(StatusCode::NO_CONTENT)
}

/// Whether a peer may use the controls: a loopback address, also as an IPv4 address mapped
/// into IPv6 (how a local client appears when the sandbox listens on `::`). An unknown peer
/// may not.
fn from_this_machine(peer: Option<std::net::IpAddr>) -> bool {
    peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controls_are_for_loopback_peers_only() {
        for allowed in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(from_this_machine(allowed.parse().ok()), "{allowed}");
        }
        for refused in [
            "10.0.0.7",
            "192.168.1.20",
            "172.16.0.1",
            "0.0.0.0",
            "::",
            "fe80::1",
            "::ffff:10.0.0.7",
            "203.0.113.9",
        ] {
            assert!(!from_this_machine(refused.parse().ok()), "{refused}");
        }
        assert!(!from_this_machine(None), "an unknown peer");
    }

    #[test]
    fn rules_match_by_method_and_prefix_and_run_out() {
        let script = Script::default();
        script.inject(
            FaultRule::new(Fault::ServerError { status: 502 })
                .method("get")
                .path_prefix("/api/v2/organizations")
                .times(2),
        );
        assert_eq!(script.take("POST", "/api/v2/organizations"), None);
        assert_eq!(script.take("GET", "/api/revenue-agents/v1/me"), None);
        for _ in 0..2 {
            assert_eq!(
                script.take("GET", "/api/v2/organizations/x/sales"),
                Some(Fault::ServerError { status: 502 })
            );
        }
        assert_eq!(script.take("GET", "/api/v2/organizations"), None);
    }

    #[test]
    fn the_log_holds_a_bounded_number_of_body_bytes() {
        let script = Script::default();
        let request = |n: usize| ReceivedRequest {
            method: "POST".into(),
            path: format!("/{n}"),
            query: String::new(),
            body: "b".repeat(BODY_LIMIT),
            had_credential: false,
            fault: None,
        };
        for n in 0..200 {
            script.record(request(n));
        }
        let kept = script.requests();
        let bytes: usize = kept.iter().map(|r| r.body.len()).sum();
        assert!(bytes <= LOG_BODY_BYTES, "{bytes} bytes kept");
        // The newest are kept.
        assert_eq!(kept.last().unwrap().path, "/199");
        assert_eq!(kept.len(), LOG_BODY_BYTES / BODY_LIMIT);
    }

    #[test]
    fn rules_read_from_json_as_the_admin_route_takes_them() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"fault": {"kind": "rate_limited", "retry_after_secs": 2}, "times": 1}"#,
        )
        .unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::RateLimited {
                retry_after_secs: 2
            })
            .times(1)
        );
        // A misspelt member would otherwise leave the rule matching every request.
        let misspelt = serde_json::from_str::<FaultRule>(
            r#"{"fault": {"kind": "cut_body", "after_bytes": 5}, "pathPrefix": "/x"}"#,
        );
        assert!(misspelt.unwrap_err().to_string().contains("pathPrefix"));
    }
}
