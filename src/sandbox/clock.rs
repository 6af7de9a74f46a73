//! The sandbox's clock: real time (Tokio's, so paused tests run in virtual time) plus however
//! far a test has moved it forward. HockeyStack's provisioning runs, message jobs, job
//! retention and rate-limit windows all read it, and HyperRep stamps what it creates and ends
//! its analytics windows with it, so a test can skip a wait instead of sleeping.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct Clock {
    ahead_nanos: AtomicU64,
}

impl Clock {
    fn ahead(&self) -> Duration {
        Duration::from_nanos(self.ahead_nanos.load(Ordering::Relaxed))
    }

    /// Now, for measuring how long something has run.
    pub(crate) fn instant(&self) -> Instant {
        Instant::now() + self.ahead()
    }

    /// Now, for timestamps in answers.
    pub(crate) fn utc(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.ahead()).unwrap_or_default()
    }

    /// Moves the clock forward; it never goes back. Saturates at about 584 years ahead.
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .ahead_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// How far ahead of real time it is.
    pub(crate) fn ahead_of_real_time(&self) -> Duration {
        self.ahead()
    }
}

/// `POST /__sandbox/clock` with `{"advance_secs": 30}` moves the clock forward;
/// `GET /__sandbox/clock` says how far ahead of real time it is (`{"ahead_secs": 30.0}`).
pub(crate) fn admin(clock: std::sync::Arc<Clock>) -> axum::Router {
    use axum::{body::Bytes, extract::State, http::StatusCode, routing::get};
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_secs: f64,
    }
    async fn advance(
        State(clock): State<std::sync::Arc<Clock>>,
        body: Bytes,
    ) -> axum::response::Response {
        match serde_json::from_slice::<Advance>(&body) {
            Ok(Advance { advance_secs }) if advance_secs.is_finite() && advance_secs >= 0.0 => {
                clock.advance(Duration::from_secs_f64(advance_secs.min(1e12)));
                super::empty(StatusCode::NO_CONTENT)
            }
            Ok(_) => super::json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"detail": "advance_secs must be a number of seconds, 0 or more"}),
            ),
            Err(e) => super::json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"detail": format!("expected {{\"advance_secs\": N}}: {e}")}),
            ),
        }
    }
    async fn read(State(clock): State<std::sync::Arc<Clock>>) -> axum::response::Response {
        super::json(
            StatusCode::OK,
            &serde_json::json!({"ahead_secs": clock.ahead_of_real_time().as_secs_f64()}),
        )
    }
    axum::Router::new()
        .route("/__sandbox/clock", get(read).post(advance))
        .with_state(clock)
}
