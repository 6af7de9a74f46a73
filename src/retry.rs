//! When a request is sent again, and after how long.
//!
//! The rules, from HockeyStack's rate-limit guide and the usual HTTP semantics:
//! - a 429 did no work, so any method may be repeated, after `Retry-After`;
//! - a transient server failure (408, 500, 502, 503, 504) is repeated only for GET, HEAD, PUT,
//!   DELETE and OPTIONS: a POST may already have done its work, and repeating it could create a
//!   second conversation, message or task;
//! - HockeyStack's 503 means the credit cap is reached: never repeated;
//! - a failed connection (nothing was sent) may be repeated for any method; other transport
//!   failures (a timeout after sending) only for the idempotent methods.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use crate::trace::RequestSpan;

/// Why a request is repeated, in a few words for the trace.
fn retry_reason(result: &reqwest::Result<reqwest::Response>) -> String {
    match result {
        Ok(response) => format!("status {}", response.status().as_u16()),
        Err(e) if e.is_connect() => "connection failed".to_owned(),
        Err(e) if e.is_timeout() => "timed out".to_owned(),
        Err(_) => "transport error".to_owned(),
    }
}

/// How the transport retries requests. The default retries up to 3 times.
///
/// ```
/// use std::time::Duration;
/// use revenue_agents::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_retries(5).max_wait(Duration::from_secs(120));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) max_wait: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            max_wait: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry: every answer goes straight back to the caller.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many times one request may be repeated.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The longest single wait the transport accepts. A 429 whose `Retry-After` asks for more
    /// is returned to the caller instead of stalling it.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The backoff for failures that come without a `Retry-After`: it starts at `initial`
    /// and doubles up to `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Whether backoff delays are randomised (between half and all of the delay), which keeps
    /// many clients from retrying in step. On by default; `Retry-After` is always honoured
    /// exactly.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    fn backoff_for(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        let delay = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        if self.jitter { jittered(delay) } else { delay }
    }
}

/// What a response or a failure means for the next step.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Hand the result to the caller.
    Return,
    /// Send the request again after this delay.
    RetryAfter(Duration),
}

/// The per-API part of the rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiRules {
    /// HockeyStack's 503 is the credit cap, which no retry cures.
    pub(crate) credits_on_503: bool,
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Decides whether to repeat a request. `retries_done` counts the repeats already made.
pub(crate) fn decide(
    policy: &RetryPolicy,
    rules: ApiRules,
    method: &Method,
    outcome: Result<(StatusCode, Option<Duration>), &reqwest::Error>,
    retries_done: u32,
) -> Decision {
    if retries_done >= policy.max_retries {
        return Decision::Return;
    }
    let delay = match outcome {
        Ok((StatusCode::TOO_MANY_REQUESTS, retry_after)) => {
            retry_after.unwrap_or_else(|| policy.backoff_for(retries_done))
        }
        Ok((StatusCode::SERVICE_UNAVAILABLE, _)) if rules.credits_on_503 => {
            return Decision::Return;
        }
        Ok((status, retry_after))
            if matches!(status.as_u16(), 408 | 500 | 502 | 503 | 504) && is_idempotent(method) =>
        {
            retry_after.unwrap_or_else(|| policy.backoff_for(retries_done))
        }
        Ok(_) => return Decision::Return,
        Err(e) if e.is_connect() => policy.backoff_for(retries_done),
        Err(e) if is_idempotent(method) && (e.is_timeout() || e.is_request()) => {
            policy.backoff_for(retries_done)
        }
        Err(_) => return Decision::Return,
    };
    if delay > policy.max_wait {
        Decision::Return
    } else {
        Decision::RetryAfter(delay)
    }
}

/// Sends with `send` until [`decide`] says to stop, sleeping between tries (on tokio's clock,
/// so tests run it in virtual time). `observe` sees every response, retried or not. A retry
/// whose wait would end after `deadline` is not made: the caller gets the answer in hand (a
/// 429 with its `Retry-After`, say) rather than a wait cut short.
pub(crate) async fn send_with_retries<F, Fut>(
    policy: &RetryPolicy,
    rules: ApiRules,
    method: &Method,
    deadline: Option<Instant>,
    span: &RequestSpan,
    mut send: F,
    mut observe: impl FnMut(&reqwest::Response),
) -> reqwest::Result<reqwest::Response>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = reqwest::Result<reqwest::Response>>,
{
    let mut retries_done = 0;
    loop {
        span.attempt(retries_done + 1);
        let result = send().await;
        let outcome = match &result {
            // The budget refused it before sending: nothing to repeat.
            Ok(response) if crate::budget::Refusal::of(response).is_some() => return result,
            Ok(response) => {
                observe(response);
                Ok((
                    response.status(),
                    crate::headers::retry_after(response.headers()),
                ))
            }
            Err(e) => Err(e),
        };
        match decide(policy, rules, method, outcome, retries_done) {
            Decision::Return => return result,
            Decision::RetryAfter(delay)
                if deadline.is_some_and(|deadline| {
                    Instant::now()
                        .checked_add(delay)
                        .is_none_or(|resume| resume > deadline)
                }) =>
            {
                return result;
            }
            Decision::RetryAfter(delay) => {
                span.retry(&retry_reason(&result), delay);
                drop(result);
                tokio::time::sleep(delay).await;
                retries_done += 1;
            }
        }
    }
}

/// A delay between half and all of `delay`. The randomness only needs to spread clients out,
/// so a per-process xorshift seeded from the clock does (no dependency for it).
pub(crate) fn jittered(delay: Duration) -> Duration {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
    // `mul_f64` panics when the product rounds past `Duration::MAX`.
    Duration::try_from_secs_f64(delay.as_secs_f64() * (0.5 + unit / 2.0))
        .map_or(delay, |jittered| jittered.min(delay))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    const HS: ApiRules = ApiRules {
        credits_on_503: true,
    };
    const HR: ApiRules = ApiRules {
        credits_on_503: false,
    };

    fn steady() -> RetryPolicy {
        RetryPolicy::default().jitter(false)
    }

    fn status(
        code: u16,
        retry_after: Option<u64>,
    ) -> Result<(StatusCode, Option<Duration>), &'static reqwest::Error> {
        Ok((
            StatusCode::from_u16(code).unwrap(),
            retry_after.map(Duration::from_secs),
        ))
    }

    #[test]
    fn a_429_is_retried_for_any_method_after_retry_after() {
        for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            assert_eq!(
                decide(&steady(), HS, &method, status(429, Some(23)), 0),
                Decision::RetryAfter(Duration::from_secs(23)),
                "{method}"
            );
        }
    }

    #[test]
    fn a_retry_after_beyond_the_bound_goes_back_to_the_caller() {
        assert_eq!(
            decide(&steady(), HS, &Method::GET, status(429, Some(61)), 0),
            Decision::Return
        );
    }

    #[test]
    fn server_failures_are_retried_only_for_idempotent_methods() {
        assert_eq!(
            decide(&steady(), HR, &Method::GET, status(502, None), 0),
            Decision::RetryAfter(Duration::from_millis(500))
        );
        assert_eq!(
            decide(&steady(), HR, &Method::PUT, status(500, None), 2),
            Decision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            decide(&steady(), HR, &Method::POST, status(500, None), 0),
            Decision::Return
        );
        assert_eq!(
            decide(&steady(), HR, &Method::PATCH, status(503, None), 0),
            Decision::Return
        );
    }

    #[test]
    fn hockeystack_credit_exhaustion_fails_fast() {
        assert_eq!(
            decide(&steady(), HS, &Method::GET, status(503, None), 0),
            Decision::Return
        );
        assert_eq!(
            decide(&steady(), HS, &Method::PUT, status(503, Some(1)), 0),
            Decision::Return
        );
    }

    #[test]
    fn successes_and_client_errors_are_returned() {
        for code in [200, 202, 204, 400, 401, 404, 409, 422] {
            assert_eq!(
                decide(&steady(), HS, &Method::GET, status(code, None), 0),
                Decision::Return
            );
        }
    }

    #[test]
    fn the_retry_budget_is_respected_and_none_disables_retries() {
        assert_eq!(
            decide(&steady(), HS, &Method::GET, status(429, Some(1)), 3),
            Decision::Return
        );
        assert_eq!(
            decide(
                &RetryPolicy::none(),
                HS,
                &Method::GET,
                status(429, Some(1)),
                0
            ),
            Decision::Return
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_stays_within_it() {
        let p = steady().backoff(Duration::from_millis(100), Duration::from_millis(350));
        let delays: Vec<_> = (0..4).map(|i| p.backoff_for(i).as_millis()).collect();
        assert_eq!(delays, [100, 200, 350, 350]);
        let j = p.clone().jitter(true);
        for i in 0..50 {
            let d = j.backoff_for(i % 4);
            assert!(
                d <= Duration::from_millis(350) && d >= Duration::from_millis(50),
                "{d:?}"
            );
        }
    }

    fn response(code: u16, retry_after: Option<&str>) -> reqwest::Response {
        let mut builder = http::Response::builder().status(code);
        if let Some(v) = retry_after {
            builder = builder.header("retry-after", v);
        }
        reqwest::Response::from(builder.body(Vec::<u8>::new()).unwrap())
    }

    /// Runs the loop over scripted answers; returns the final status, the number of sends and
    /// the virtual time at which each send happened.
    async fn script(method: Method, answers: Vec<reqwest::Response>) -> (u16, Vec<Duration>) {
        let start = tokio::time::Instant::now();
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let times = Arc::new(Mutex::new(Vec::new()));
        let result = send_with_retries(
            &steady(),
            HS,
            &method,
            None,
            &RequestSpan::none(),
            || {
                let answers = answers.clone();
                let times = times.clone();
                async move {
                    times.lock().unwrap().push(start.elapsed());
                    Ok(answers
                        .lock()
                        .unwrap()
                        .next()
                        .expect("no more scripted answers"))
                }
            },
            |_| {},
        )
        .await
        .unwrap();
        let times = times.lock().unwrap().clone();
        (result.status().as_u16(), times)
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_post_waits_retry_after_then_succeeds() {
        let (status, times) = script(
            Method::POST,
            vec![
                response(429, Some("23")),
                response(429, Some("2")),
                response(202, None),
            ],
        )
        .await;
        assert_eq!(status, 202);
        assert_eq!(
            times,
            [
                Duration::ZERO,
                Duration::from_secs(23),
                Duration::from_secs(25)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_get_backs_off_and_gives_up_after_the_budget() {
        let (status, times) =
            script(Method::GET, (0..4).map(|_| response(502, None)).collect()).await;
        assert_eq!(status, 502);
        let ms: Vec<_> = times.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 500, 1500, 3500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_post_is_not_repeated() {
        let (status, times) = script(Method::POST, vec![response(500, None)]).await;
        assert_eq!((status, times.len()), (500, 1));
    }
}
