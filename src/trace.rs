//! What the crate tells `tracing` (feature `tracing`): one span per request, an event for each
//! retry and for each step of a wait. Never a credential, a body, an id from the path (the
//! span names the path template) or a query value: any of them may carry personal data.
//! Without the feature every function here is an empty inline call.

use std::{future::Future, time::Duration};

/// The span of one request, across its attempts.
#[derive(Clone)]
pub(crate) struct RequestSpan {
    /// The API, for what a retry tells an observer of waits (`crate::notice`).
    api: &'static str,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl RequestSpan {
    /// A span named `request` with the API, the operation, the method and the path template.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn new(
        api: &'static str,
        operation: &'static str,
        method: &reqwest::Method,
        template: &'static str,
    ) -> Self {
        Self {
            api,
            #[cfg(feature = "tracing")]
            span: tracing::info_span!(
                "request",
                api,
                operation,
                method = %method,
                path = template,
                attempt = tracing::field::Empty,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
            ),
        }
    }

    /// A span that records nothing (for calls made outside an operation, and tests).
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Self {
            api: "",
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
        self.span.record("attempt", attempt);
    }

    /// The answer's status and request id; the id is a server's text, so it is shortened and
    /// passed through `scrub` (the client's redaction) before it reaches a log.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn response(&self, response: &reqwest::Response, scrub: impl Fn(String) -> String) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("status", response.status().as_u16());
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

    /// The request will be sent again after `delay`, for `reason`; an observer of waits is
    /// told too.
    pub(crate) fn retry(&self, reason: &str, delay: Duration) {
        crate::notice::tell(|| crate::notice::Waiting::Retry {
            api: self.api,
            reason: reason.to_owned(),
            wait: delay,
        });
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
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn budget_wait(api: &'static str, pool: &'static str, wait: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        api,
        pool,
        wait_ms = wait.as_millis() as u64,
        "waiting for a slot of the rate budget"
    );
}
