//! The crate's metrics through the `metrics` facade (feature `metrics`): whatever recorder
//! the program installs (Prometheus, OpenTelemetry, StatsD) receives them; without one they
//! cost a branch. Names and labels follow OpenTelemetry's HTTP client conventions where one
//! exists; labels are low-cardinality words, never an id, a credential or a server's text.
//!
//! - `http.client.request.duration` (histogram, seconds): each attempt, from sending to the
//!   answer's headers, as the conventions define it, labelled `http.request.method`,
//!   `server.address`, `server.port`, `http.response.status_code` (when an answer came),
//!   `error.type` (when it failed), `revenue_agents.api` and `revenue_agents.operation`.
//! - `revenue_agents.call.duration` (histogram, seconds): the whole call with the same labels
//!   for its last answer: every attempt, the waits between them and for the rate budget.
//! - `revenue_agents.retries` (counter): each repeat of a request, labelled by API, operation
//!   and reason (`status 429`, `connect`, ...).
//! - `revenue_agents.rate_budget.wait` (histogram, seconds): each wait for a slot of the rate
//!   budget, labelled by API and pool (`read`, `write`).

use std::time::Duration;

/// Which duration is recorded.
#[derive(Clone, Copy)]
pub(crate) enum Span {
    /// One attempt.
    Attempt,
    /// The whole call.
    Call,
}

/// The duration of an attempt or a call of `request`, once it is over.
pub(crate) fn request_done(
    span: Span,
    api: &'static str,
    request: &crate::record::Request,
    status: Option<u16>,
    error: Option<&str>,
    elapsed: Duration,
) {
    let mut labels = vec![
        metrics::Label::new("http.request.method", request.method),
        metrics::Label::new("server.address", request.server_address.clone()),
        metrics::Label::new("server.port", request.server_port.to_string()),
        metrics::Label::new("revenue_agents.api", api),
        metrics::Label::new("revenue_agents.operation", request.operation),
    ];
    if let Some(status) = status {
        labels.push(metrics::Label::new(
            "http.response.status_code",
            status.to_string(),
        ));
    }
    if let Some(error) = error {
        labels.push(metrics::Label::new("error.type", error.to_owned()));
    }
    let name = match span {
        Span::Attempt => "http.client.request.duration",
        Span::Call => "revenue_agents.call.duration",
    };
    metrics::histogram!(name, labels).record(elapsed.as_secs_f64());
}

/// A request is sent again.
pub(crate) fn retried(api: &'static str, operation: &'static str, reason: &str) {
    metrics::counter!(
        "revenue_agents.retries",
        "revenue_agents.api" => api,
        "revenue_agents.operation" => operation,
        "reason" => reason.to_owned()
    )
    .increment(1);
}

/// A request waited for a slot of the rate budget.
pub(crate) fn budget_waited(api: &'static str, pool: &'static str, wait: Duration) {
    metrics::histogram!(
        "revenue_agents.rate_budget.wait",
        "revenue_agents.api" => api,
        "pool" => pool
    )
    .record(wait.as_secs_f64());
}
