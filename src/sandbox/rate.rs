//! Rate limits as the sandbox enforces them (HockeyStack has them): per accepted credential,
//! a read and a write pool, each counting a rolling window (a minute unless scaled), and the
//! gate that puts them in front of an API's handlers, its refusal and its headers worded by
//! the API's contract. Counters a test can read.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    http::{HeaderValue, Method, StatusCode, header},
    response::Response,
};
use tokio::time::Instant;

use super::{
    clock::Clock,
    contract::{Contract, Problem, RatePool},
};

/// Requests seen by one token's pools: let through, and refused with a 429.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateCounts {
    /// Reads let through.
    pub reads: u64,
    /// Reads refused with a 429.
    pub reads_refused: u64,
    /// Writes let through.
    pub writes: u64,
    /// Writes refused with a 429.
    pub writes_refused: u64,
}

/// The requests one pool let through in the current window.
#[derive(Debug, Default)]
pub(crate) struct Window {
    hits: VecDeque<Instant>,
}

/// What a pool said about one request.
#[derive(Debug, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// When the pool has a slot again: at once while it has some, else when the oldest
    /// counted request leaves the window. On a refusal, also the wait.
    pub(crate) reset_in: Duration,
    pub(crate) allowed: bool,
}

impl Window {
    /// Counts a request if the pool allows it.
    pub(crate) fn take(&mut self, limit: u32, window: Duration, now: Instant) -> Verdict {
        while self
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.hits.pop_front();
        }
        let allowed = self.hits.len() < limit as usize;
        if allowed {
            self.hits.push_back(now);
        }
        let remaining = limit.saturating_sub(self.hits.len() as u32);
        // A limit of 0 refuses everything for a whole window.
        let reset_in = match self.hits.front() {
            Some(oldest) => window.saturating_sub(now.duration_since(*oldest)),
            None => window,
        };
        Verdict {
            limit,
            remaining,
            reset_in,
            allowed,
        }
    }
}

#[derive(Default)]
struct TokenPools {
    read: Window,
    write: Window,
    counts: RateCounts,
}

/// Every accepted token's pools.
pub(crate) struct RateLimits {
    read_limit: u32,
    write_limit: u32,
    window: Duration,
    tokens: Mutex<HashMap<String, TokenPools>>,
}

impl RateLimits {
    pub(crate) fn new(read_limit: u32, write_limit: u32, window: Duration) -> Self {
        Self {
            read_limit,
            write_limit,
            window,
            tokens: Mutex::default(),
        }
    }

    /// Counts one request of `token` (already accepted) in its pool.
    pub(crate) fn take(&self, token: &str, read: bool, now: Instant) -> Verdict {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let pools = match tokens.get_mut(token) {
            Some(pools) => pools,
            None => tokens.entry(token.to_owned()).or_default(),
        };
        let verdict = if read {
            pools.read.take(self.read_limit, self.window, now)
        } else {
            pools.write.take(self.write_limit, self.window, now)
        };
        let counter = match (read, verdict.allowed) {
            (true, true) => &mut pools.counts.reads,
            (true, false) => &mut pools.counts.reads_refused,
            (false, true) => &mut pools.counts.writes,
            (false, false) => &mut pools.counts.writes_refused,
        };
        *counter += 1;
        verdict
    }

    pub(crate) fn counts(&self, token: &str) -> RateCounts {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).map(|p| p.counts).unwrap_or_default()
    }
}

/// The pools in front of one API.
pub(crate) struct RateGate {
    pub(crate) limits: Arc<RateLimits>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) contract: Arc<dyn Contract>,
}

impl RateGate {
    /// Counts a request of `credential` in its pool: a refusal (429 with `Retry-After` and the
    /// pool's headers) when the pool is empty, otherwise the admission that puts the pool's
    /// headers on the answer.
    pub(crate) fn admit(
        &self,
        credential: &str,
        method: &Method,
    ) -> Result<Admission<'_>, Response> {
        let read = matches!(*method, Method::GET | Method::HEAD);
        let verdict = self.limits.take(credential, read, self.clock.instant());
        let pool = if read { "read" } else { "write" };
        // Whole seconds, rounded up: the moment the pool has a slot again.
        let reset_seconds =
            verdict.reset_in.as_secs() + u64::from(verdict.reset_in.subsec_nanos() > 0);
        let reset = self
            .clock
            .now()
            .timestamp()
            .saturating_add(i64::try_from(reset_seconds).unwrap_or(i64::MAX));
        let admission = Admission {
            gate: self,
            pool: RatePool {
                name: pool,
                limit: verdict.limit,
                remaining: verdict.remaining,
                reset,
            },
        };
        if verdict.allowed {
            return Ok(admission);
        }
        let mut refusal = self.contract.refuse(
            StatusCode::TOO_MANY_REQUESTS,
            Problem::RateLimited,
            "Rate limit exceeded.",
        );
        refusal
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(reset_seconds.max(1)));
        admission.stamp(&mut refusal);
        Err(refusal)
    }
}

/// A request the pools let through.
pub(crate) struct Admission<'a> {
    gate: &'a RateGate,
    pool: RatePool,
}

impl Admission<'_> {
    /// Puts the pool's headers on the answer, in the API's words.
    pub(crate) fn stamp(&self, response: &mut Response) {
        self.gate
            .contract
            .rate_headers(response.headers_mut(), &self.pool);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_window_refuses_past_its_limit_and_says_when_it_refills() {
        let mut w = Window::default();
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let first = w.take(2, MINUTE, t0);
        assert!(first.allowed);
        assert_eq!((first.remaining, first.reset_in), (1, MINUTE));
        let second = w.take(2, MINUTE, at(10));
        assert_eq!(
            (second.remaining, second.reset_in),
            (0, Duration::from_secs(50))
        );
        let refused = w.take(2, MINUTE, at(20));
        assert!(!refused.allowed);
        assert_eq!(refused.reset_in, Duration::from_secs(40));
        assert!(w.take(2, MINUTE, at(60)).allowed);
        assert!(!Window::default().take(0, MINUTE, t0).allowed);
    }

    #[test]
    fn each_token_has_its_own_pools_and_counts() {
        let limits = RateLimits::new(5, 1, Duration::from_secs(2));
        let now = Instant::now();
        assert!(limits.take("a", false, now).allowed);
        assert!(!limits.take("a", false, now).allowed);
        assert!(limits.take("b", false, now).allowed);
        assert!(limits.take("a", true, now).allowed);
        assert_eq!(
            limits.counts("a"),
            RateCounts {
                reads: 1,
                reads_refused: 0,
                writes: 1,
                writes_refused: 1
            }
        );
        assert_eq!(limits.counts("b").writes, 1);
        assert_eq!(limits.counts("nobody"), RateCounts::default());
        // The scaled window refills.
        assert!(
            limits
                .take("a", false, now + Duration::from_secs(2))
                .allowed
        );
    }
}
