//! The request log: every request to the APIs as the sandbox received it and answered it
//! (status, time, how long the answer took to start), credentials never recorded. The
//! outermost layer reads each request's body once, within a limit, and records the request
//! when its answer is ready; with `--log` (or [`SandboxConfig::log_requests`]) it also prints
//! one line a request.
//!
//! [`SandboxConfig::log_requests`]: super::SandboxConfig::log_requests

use std::{
    collections::VecDeque,
    io::Write,
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};

use super::{clock::Clock, contract::Apis, faults::Fault};

/// One request as the sandbox received and answered it. Credentials are never recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// The status it was answered with.
    pub status: u16,
    /// When it arrived, by the sandbox's clock (RFC 3339).
    pub received_at: String,
    /// How long its answer took to start, in milliseconds (a streamed body goes on after).
    pub duration_ms: f64,
}

/// The most requests kept in the log; older ones are dropped first.
const LOG_LIMIT: usize = 10_000;
/// The most bytes of request bodies the log keeps, over all its requests: without it, ten
/// thousand bodies of a megabyte each would hold ten gigabytes. Older requests are dropped
/// first.
const LOG_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The largest request body the sandbox reads.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// The log of one sandbox.
#[derive(Debug)]
pub(crate) struct Log {
    entries: Mutex<Entries>,
    /// Print one line a request to stderr.
    print: bool,
}

#[derive(Debug, Default)]
struct Entries {
    requests: VecDeque<ReceivedRequest>,
    body_bytes: usize,
}

impl Log {
    pub(crate) fn new(print: bool) -> Self {
        Self {
            entries: Mutex::default(),
            print,
        }
    }

    pub(crate) fn requests(&self) -> Vec<ReceivedRequest> {
        self.entries
            .lock()
            .map(|log| log.requests.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut log) = self.entries.lock() {
            *log = Entries::default();
        }
    }

    fn record(&self, request: ReceivedRequest) {
        if self.print {
            // A closed stderr must not stop the sandbox.
            let _ = writeln!(std::io::stderr().lock(), "{}", line(&request));
        }
        if let Ok(mut log) = self.entries.lock() {
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

/// One request as a line: time, method, path and query, status, duration, and the fault.
fn line(r: &ReceivedRequest) -> String {
    let query = if r.query.is_empty() {
        String::new()
    } else {
        format!("?{}", r.query)
    };
    let fault = match &r.fault {
        Some(fault) => format!(
            "  (fault: {})",
            serde_json::to_string(fault).unwrap_or_default()
        ),
        None => String::new(),
    };
    format!(
        "{} {} {}{} {} {:.1}ms{fault}",
        r.received_at, r.method, r.path, query, r.status, r.duration_ms
    )
}

/// How long a request's body may take to arrive (a client that announces a body and sends
/// none is answered, not waited for).
const BODY_TIME: std::time::Duration = std::time::Duration::from_secs(30);

fn refusal(status: StatusCode, message: &str) -> Response {
    super::http::detail(status, message)
}

/// What the log layer needs.
pub(crate) struct LogGate {
    pub(crate) log: Arc<Log>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) apis: Apis,
}

/// The outermost layer of the APIs: reads the body (413 past [`BODY_LIMIT`]), passes the
/// request on, and records it with its answer's status.
pub(crate) async fn layer(
    State(gate): State<Arc<LogGate>>,
    request: Request,
    next: Next,
) -> Response {
    let started = tokio::time::Instant::now();
    let received_at = gate
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (parts, body) = request.into_parts();
    let mut entry = ReceivedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: String::new(),
        had_credential: gate.apis.carries_credential(&parts.headers),
        fault: None,
        status: 0,
        received_at,
        duration_ms: 0.0,
    };
    let read = tokio::time::timeout(BODY_TIME, axum::body::to_bytes(body, BODY_LIMIT)).await;
    let response = match read {
        Ok(Ok(bytes)) => {
            entry.body = String::from_utf8_lossy(&bytes).into_owned();
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large: at most 1 MiB is read",
        ),
        Err(_) => refusal(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive within 30 seconds",
        ),
    };
    entry.status = response.status().as_u16();
    entry.fault = response.extensions().get::<Fault>().cloned();
    entry.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    gate.log.record(entry);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: usize, body: String) -> ReceivedRequest {
        ReceivedRequest {
            method: "POST".into(),
            path: format!("/{n}"),
            query: String::new(),
            body,
            had_credential: false,
            fault: None,
            status: 200,
            received_at: "2026-12-05T10:00:00.000Z".into(),
            duration_ms: 1.26,
        }
    }

    #[test]
    fn the_log_holds_a_bounded_number_of_body_bytes() {
        let log = Log::new(false);
        for n in 0..200 {
            log.record(request(n, "b".repeat(BODY_LIMIT)));
        }
        let kept = log.requests();
        let bytes: usize = kept.iter().map(|r| r.body.len()).sum();
        assert!(bytes <= LOG_BODY_BYTES, "{bytes} bytes kept");
        // The newest are kept.
        assert_eq!(kept.last().unwrap().path, "/199");
        assert_eq!(kept.len(), LOG_BODY_BYTES / BODY_LIMIT);
    }

    #[test]
    fn a_line_says_what_came_and_how_it_was_answered() {
        let mut r = request(7, String::new());
        r.query = "limit=5".into();
        r.fault = Some(Fault::ServerError { status: 502 });
        assert_eq!(
            line(&r),
            "2026-12-05T10:00:00.000Z POST /7?limit=5 200 1.3ms  (fault: {\"kind\":\"server_error\",\"status\":502})"
        );
    }
}
