//! What the crate tells `tracing` (feature `tracing`) and the `metrics` facade (feature
//! `metrics`): one span per request, an event for each retry and for each step of a wait, and
//! the request's duration, retries and rate-budget waits as metrics. Never a credential, a
//! body, an id from the path (the span names the path template) or a query value: any of them
//! may carry personal data. Without either feature every function here is an empty inline
//! call.
//!
//! The span carries OpenTelemetry's HTTP client attributes (`http.request.method`,
//! `url.template`, `server.address`, `server.port`, `http.response.status_code`,
//! `http.request.resend_count`, `error.type`, with `otel.name` and `otel.kind` for
//! `tracing-opentelemetry`) beside the crate's own names (`api`, `operation`, `method`, `path`,
//! `attempt`, `status`, `request_id`). `url.full` is left out: its path and query hold ids.

use std::{future::Future, time::Duration};

#[cfg(any(feature = "tracing", feature = "metrics"))]
use crate::record::Request;

/// The span of one request, across its attempts.
#[derive(Clone)]
pub(crate) struct RequestSpan {
    /// The API, for what a retry tells an observer of waits (`crate::notice`).
    api: &'static str,
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    request: Request,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// A method's name as a `'static` text (semantic conventions name the usual ones; others are
/// `_OTHER`).
#[cfg(any(feature = "tracing", feature = "metrics"))]
fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::PATCH => "PATCH",
        reqwest::Method::DELETE => "DELETE",
        reqwest::Method::HEAD => "HEAD",
        reqwest::Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}

impl RequestSpan {
    /// A span named `request` for one operation: `template` is its path template relative to
    /// the API's base URL, whose path is `base_path`; `url` the request's URL, read for its
    /// host and port only.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn new(
        api: &'static str,
        operation: &'static str,
        method: &reqwest::Method,
        base_path: &str,
        template: &'static str,
        url: &reqwest::Url,
    ) -> Self {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        let request = Request {
            operation,
            method: method_name(method),
            server_address: url.host_str().unwrap_or_default().to_owned(),
            server_port: url.port_or_known_default().unwrap_or_default(),
            started: std::time::Instant::now(),
        };
        Self {
            api,
            #[cfg(feature = "tracing")]
            span: {
                let url_template = format!("{base_path}{template}");
                tracing::info_span!(
                    "request",
                    api,
                    operation,
                    method = %method,
                    path = template,
                    attempt = tracing::field::Empty,
                    status = tracing::field::Empty,
                    request_id = tracing::field::Empty,
                    "otel.name" = format!("{} {url_template}", request.method),
                    "otel.kind" = "client",
                    "http.request.method" = request.method,
                    "url.template" = url_template,
                    "server.address" = request.server_address.as_str(),
                    "server.port" = request.server_port,
                    "http.response.status_code" = tracing::field::Empty,
                    "http.request.resend_count" = tracing::field::Empty,
                    "error.type" = tracing::field::Empty,
                )
            },
            #[cfg(any(feature = "tracing", feature = "metrics"))]
            request,
        }
    }

    /// A span that records nothing (for calls made outside an operation, and tests).
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Self {
            api: "",
            #[cfg(any(feature = "tracing", feature = "metrics"))]
            request: Request {
                operation: "",
                method: "GET",
                server_address: String::new(),
                server_port: 0,
                started: std::time::Instant::now(),
            },
            #[cfg(feature = "tracing")]
            span: tracing::Span::none(),
        }
    }

    /// Runs `future` inside the span.
    pub(crate) fn instrument<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        #[cfg(feature = "tracing")]
        {
            tracing::Instrument::instrument(future, self.span.clone())
        }
        #[cfg(not(feature = "tracing"))]
        {
            future
        }
    }

    /// Which attempt is under way, the first counted as 1.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn attempt(&self, attempt: u32) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("attempt", attempt);
            if attempt > 1 {
                self.span.record("http.request.resend_count", attempt - 1);
            }
        }
    }

    /// The answer's status and request id; the id is a server's text, so it is shortened and
    /// passed through `scrub` (the client's redaction) before it reaches a log.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn response(&self, response: &reqwest::Response, scrub: impl Fn(String) -> String) {
        #[cfg(feature = "tracing")]
        {
            let status = response.status().as_u16();
            self.span.record("status", status);
            self.span.record("http.response.status_code", status);
            if let Some(id) = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
            {
                self.span
                    .record("request_id", scrub(crate::error::snippet(id)).as_str());
            }
        }
    }

    /// The request is over: `status` is the last answer's (none when no answer came), and
    /// `error` says what went wrong, in the semantic conventions' low-cardinality words (the
    /// status code of a failed answer, `timeout`, `connect`, `rate_budget`, ...). Records the
    /// span's `error.type` and the `http.client.request.duration` metric.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn finish(&self, status: Option<u16>, error: Option<&str>) {
        #[cfg(feature = "tracing")]
        if let Some(error) = error {
            self.span.record("error.type", error);
        }
        #[cfg(feature = "metrics")]
        crate::metrics::request_done(
            crate::metrics::Span::Call,
            self.api,
            &self.request,
            status,
            error,
            self.request.started.elapsed(),
        );
    }

    /// One attempt is over, `started` when it was sent: its duration is the
    /// `http.client.request.duration` metric.
    #[cfg(feature = "metrics")]
    pub(crate) fn attempt_done(
        &self,
        outcome: Result<&reqwest::Response, &reqwest::Error>,
        started: std::time::Instant,
    ) {
        let (status, error) = outcome_words(outcome);
        crate::metrics::request_done(
            crate::metrics::Span::Attempt,
            self.api,
            &self.request,
            status,
            error.as_deref(),
            started.elapsed(),
        );
    }

    /// The request will be sent again after `delay`, for `reason`; an observer of waits is
    /// told too.
    pub(crate) fn retry(&self, reason: &str, delay: Duration) {
        crate::notice::tell(|| crate::notice::Waiting::Retry {
            api: self.api,
            reason: reason.to_owned(),
            wait: delay,
        });
        #[cfg(feature = "metrics")]
        crate::metrics::retried(self.api, self.request.operation, reason);
        #[cfg(feature = "tracing")]
        self.span.in_scope(|| {
            tracing::info!(
                reason,
                delay_ms = delay.as_millis() as u64,
                "retrying the request"
            )
        });
    }
}

/// An answer's status, and what went wrong in the semantic conventions' words: a failed
/// answer's status code, or the kind of failure when no answer came.
#[cfg(any(feature = "tracing", feature = "metrics"))]
pub(crate) fn outcome_words(
    outcome: Result<&reqwest::Response, &reqwest::Error>,
) -> (Option<u16>, Option<String>) {
    match outcome {
        Ok(response) => {
            let status = response.status();
            let failed = (status.is_client_error() || status.is_server_error())
                .then(|| status.as_str().to_owned());
            (Some(status.as_u16()), failed)
        }
        Err(error) => (None, Some(error_type(error).to_owned())),
    }
}

/// What went wrong with a request that got no answer, in the semantic conventions' words.
#[cfg(any(feature = "tracing", feature = "metrics"))]
pub(crate) fn error_type(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "_OTHER"
    }
}

/// One step of a wait: what the server said, and when the next check happens.
#[cfg(feature = "hockeystack")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn wait_step(
    phase: impl std::fmt::Display,
    state: &str,
    attempts: u32,
    next_delay: Option<Duration>,
) {
    #[cfg(feature = "tracing")]
    match next_delay {
        Some(delay) => tracing::info!(
            phase = %phase,
            state,
            attempts,
            next_delay_ms = delay.as_millis() as u64,
            "waiting"
        ),
        None => tracing::info!(phase = %phase, state, attempts, "wait over"),
    }
}

/// A request waits for a slot of the client's rate budget.
#[cfg_attr(
    not(any(feature = "tracing", feature = "metrics")),
    allow(unused_variables)
)]
pub(crate) fn budget_wait(api: &'static str, pool: &'static str, wait: Duration) {
    #[cfg(feature = "metrics")]
    crate::metrics::budget_waited(api, pool, wait);
    #[cfg(feature = "tracing")]
    tracing::info!(
        api,
        pool,
        wait_ms = wait.as_millis() as u64,
        "waiting for a slot of the rate budget"
    );
}
