//! Pacing before the server says no: a budget of requests per pool (HockeyStack counts reads
//! and writes apart, each over a rolling minute) that every request of a client takes a slot
//! from before it is sent, retries included. A full pool makes the request wait, within the
//! call's deadline; past it the call fails with [`ErrorKind::RateBudgetExhausted`] and nothing
//! is sent. The server's `X-RateLimit-*` headers correct the count, and a 429's `Retry-After`
//! pauses the whole pool for every task of every clone of the client.
//!
//! The budget lives in the process by default. With feature `redis` it can live in Redis, so
//! that every process using one credential shares it ([`RateBudget::shared_through_redis`]).
//!
//! [`ErrorKind::RateBudgetExhausted`]: crate::ErrorKind::RateBudgetExhausted

mod local;
#[cfg(feature = "redis")]
mod redis;
mod turns;

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::time::Instant;

use crate::{
    error::{Error, ErrorKind},
    limits::saturated,
};
use local::LocalStore;
#[cfg(feature = "redis")]
pub use redis::RedisUnavailable;
use turns::Turns;

/// A rate-limit pool. HockeyStack charges `GET` and `HEAD` to reads and every other method
/// to writes; a budget set for HyperRep splits its requests the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pool {
    /// `GET` and `HEAD`.
    Read,
    /// `POST`, `PUT`, `PATCH` and `DELETE`.
    Write,
}

impl Pool {
    /// The pool a request of this method is charged to.
    pub fn of(method: &reqwest::Method) -> Self {
        if *method == reqwest::Method::GET || *method == reqwest::Method::HEAD {
            Pool::Read
        } else {
            Pool::Write
        }
    }

    /// `read` or `write`, as HockeyStack's `X-RateLimit-Pool` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Read => "read",
            Pool::Write => "write",
        }
    }
}

impl fmt::Display for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most `requests` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolLimit {
    pub(crate) requests: u32,
    pub(crate) window: Duration,
}

impl PoolLimit {
    /// How long a request counts here: the window and a margin of 3 % (20 ms to 1 s). The
    /// server counts a request when it arrives, the budget when it leaves; two requests a
    /// window apart can arrive less than a window apart when the first was slower on its
    /// way, and the margin absorbs that.
    pub(crate) fn counted_for(&self) -> Duration {
        let margin =
            (self.window * 3 / 100).clamp(Duration::from_millis(20), Duration::from_secs(1));
        self.window.saturating_add(margin)
    }
}

/// How many requests a client may send, per pool, in any window of a given length. Clones
/// share one count; give the same budget to several clients of one credential to share it
/// between them, or make it shared through Redis to share it between processes.
///
/// ```
/// # #[cfg(feature = "hockeystack")] {
/// use revenue_agents::{RateBudget, hockeystack};
///
/// // Half of HockeyStack's documented rates, leaving the rest to another program.
/// let budget = RateBudget::per_minute(300, 30);
/// let client = hockeystack::Client::builder()
///     .credential("hsr_live_0123abcd")
///     .rate_budget(budget)
///     .build()?;
/// # }
/// # Ok::<(), revenue_agents::Error>(())
/// ```
#[derive(Clone)]
pub struct RateBudget {
    read: Option<PoolLimit>,
    write: Option<PoolLimit>,
    store: Arc<Store>,
    turns: Arc<Turns>,
    /// What an unreachable Redis does, kept whatever order the builder's calls come in.
    #[cfg(feature = "redis")]
    unreachable: redis::RedisUnavailable,
}

enum Store {
    Local(LocalStore),
    #[cfg(feature = "redis")]
    Redis(Box<redis::RedisStore>),
}

impl fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = |l: Option<PoolLimit>| {
            l.map_or("unlimited".to_owned(), |l| {
                format!("{} per {:?}", l.requests, l.window)
            })
        };
        f.debug_struct("RateBudget")
            .field("read", &limit(self.read))
            .field("write", &limit(self.write))
            .field(
                "shared",
                &match &*self.store {
                    Store::Local(_) => "in this process",
                    #[cfg(feature = "redis")]
                    Store::Redis(_) => "through Redis",
                },
            )
            .finish()
    }
}

/// HockeyStack's documented reads per minute for one token.
pub const HOCKEYSTACK_READS_PER_MINUTE: u32 = 600;
/// HockeyStack's documented writes per minute for one token.
pub const HOCKEYSTACK_WRITES_PER_MINUTE: u32 = 60;

const MINUTE: Duration = Duration::from_secs(60);

impl RateBudget {
    /// At most `reads` reads and `writes` writes in any minute, kept in this process. A
    /// limit of zero is refused when the client is built.
    pub fn per_minute(reads: u32, writes: u32) -> Self {
        Self {
            read: Some(PoolLimit {
                requests: reads,
                window: MINUTE,
            }),
            write: Some(PoolLimit {
                requests: writes,
                window: MINUTE,
            }),
            store: Arc::new(Store::Local(LocalStore::default())),
            turns: Arc::default(),
            #[cfg(feature = "redis")]
            unreachable: redis::RedisUnavailable::default(),
        }
    }

    /// HockeyStack's documented rates: 600 reads and 60 writes a minute per token.
    pub fn hockeystack() -> Self {
        Self::per_minute(HOCKEYSTACK_READS_PER_MINUTE, HOCKEYSTACK_WRITES_PER_MINUTE)
    }

    /// The same numbers of requests over another window (for a sandbox whose minute is
    /// scaled, say). Shorter than a millisecond is refused when the client is built.
    pub fn window(mut self, window: Duration) -> Self {
        let window = saturated(window);
        for limit in [&mut self.read, &mut self.write].into_iter().flatten() {
            limit.window = window;
        }
        self
    }

    /// Checks the numbers before a client takes the budget.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (pool, limit) in [(Pool::Read, self.read), (Pool::Write, self.write)] {
            if let Some(limit) = limit {
                if limit.requests == 0 {
                    return Err(format!("a {pool} limit of 0 would refuse every request"));
                }
                if limit.window < Duration::from_millis(1) {
                    return Err(format!(
                        "a {pool} window of {:?} is too short to count in",
                        limit.window
                    ));
                }
            }
        }
        Ok(())
    }

    fn limit(&self, pool: Pool) -> Option<PoolLimit> {
        match pool {
            Pool::Read => self.read,
            Pool::Write => self.write,
        }
    }

    /// This budget as one client of one credential uses it.
    pub(crate) fn bind(&self, api: &'static str, credential: Option<&str>) -> BoundBudget {
        BoundBudget {
            budget: self.clone(),
            api,
            key: credential_key(api, credential),
        }
    }
}

/// A stable, non-reversible key for a credential: SHA-256 with feature `redis`, where the
/// key leaves the process; otherwise the standard library's fixed-key hasher, enough to
/// keep the credentials of one process apart. Never the credential itself.
fn credential_key(api: &str, credential: Option<&str>) -> CredentialKey {
    #[cfg(feature = "redis")]
    {
        redis::credential_key(api, credential)
    }
    #[cfg(not(feature = "redis"))]
    {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        api.hash(&mut hasher);
        credential.hash(&mut hasher);
        CredentialKey(hasher.finish(), ())
    }
}

/// A credential's key: a number for the local store, and the text Redis keys derive from.
#[derive(Clone)]
pub(crate) struct CredentialKey(u64, KeyText);

#[cfg(feature = "redis")]
type KeyText = String;
#[cfg(not(feature = "redis"))]
type KeyText = ();

/// A budget bound to one client's API and credential.
#[derive(Clone)]
pub(crate) struct BoundBudget {
    budget: RateBudget,
    api: &'static str,
    key: CredentialKey,
}

/// A request the budget did not let through: put in the place of the answer, so that it
/// reaches the caller as an error without anything being sent.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// The pool stays full past the call's deadline.
    Exhausted { pool: Pool, refills_in: Duration },
    /// The shared budget could not be reached and the client is set to fail then.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Unavailable { reason: String },
}

impl Refusal {
    /// A stand-in answer that carries the refusal; no server ever sent it.
    pub(crate) fn into_response(self) -> reqwest::Response {
        let mut response = http::Response::new(reqwest::Body::from(Vec::new()));
        *response.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
        response.extensions_mut().insert(self);
        reqwest::Response::from(response)
    }

    /// The refusal a stand-in answer carries, if it is one.
    pub(crate) fn of(response: &reqwest::Response) -> Option<&Refusal> {
        response.extensions().get::<Refusal>()
    }

    pub(crate) fn into_error(self, api: &'static str) -> Error {
        match self {
            Refusal::Exhausted { pool, refills_in } => Error::new(ErrorKind::RateBudgetExhausted {
                pool: pool.as_str().to_owned(),
                refills_in,
            }),
            Refusal::Unavailable { reason } => {
                Error::new(ErrorKind::RateBudgetUnavailable { reason })
            }
        }
        .with_api(api)
    }
}

impl BoundBudget {
    /// Waits for a slot of the request's pool, until `deadline` at most. Tasks of this
    /// process that wait for one pool are served in the order they came.
    pub(crate) async fn take(&self, pool: Pool, deadline: Option<Instant>) -> Result<(), Refusal> {
        let Some(limit) = self.budget.limit(pool) else {
            return Ok(());
        };
        let line = self.budget.turns.line(self.key.0, pool);
        let refused = |at: Option<Instant>| Refusal::Exhausted {
            pool,
            refills_in: at.map_or(Duration::ZERO, |at| {
                at.saturating_duration_since(Instant::now())
            }),
        };
        // Those ahead wait for a slot that comes after this call's deadline: no point in
        // queueing behind them.
        let ahead = line.next_slot();
        if let (Some(deadline), Some(at)) = (deadline, ahead)
            && at > deadline
        {
            return Err(refused(ahead));
        }
        let Some(_turn) = line.wait_turn(deadline).await else {
            return Err(refused(line.next_slot()));
        };
        // Cleared however this turn ends, a call dropped while it waits included.
        let _clear = turns::ClearsNextSlot(&line);
        self.take_in_turn(pool, limit, deadline, &line).await
    }

    /// Asks the store until it gives a slot; the caller holds the pool's turn.
    async fn take_in_turn(
        &self,
        pool: Pool,
        limit: PoolLimit,
        deadline: Option<Instant>,
        line: &turns::Line,
    ) -> Result<(), Refusal> {
        loop {
            let wait = match &*self.budget.store {
                Store::Local(store) => store.try_take(self.key.0, pool, limit),
                #[cfg(feature = "redis")]
                Store::Redis(store) => store.try_take(&self.key, pool, limit).await?,
            };
            let Err(wait) = wait else {
                return Ok(());
            };
            // A slot freeing this instant is tried again at once; others after their wait.
            let wait = wait.max(Duration::from_millis(1));
            let at = Instant::now().checked_add(wait);
            if deadline.is_some_and(|d| at.is_none_or(|at| at > d)) {
                return Err(Refusal::Exhausted {
                    pool,
                    refills_in: wait,
                });
            }
            line.set_next_slot(at);
            crate::trace::budget_wait(self.api, pool.as_str(), wait);
            crate::notice::tell(|| crate::notice::Waiting::RateBudget {
                api: self.api,
                pool: pool.as_str(),
                wait,
                shared: !matches!(&*self.budget.store, Store::Local(_)),
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from an answer: the count the server reports, and a 429's pause.
    pub(crate) async fn observe(&self, request_pool: Pool, response: &reqwest::Response) {
        let headers = response.headers();
        let pool = match crate::headers::RateLimit::from_headers(headers)
            .and_then(|r| r.pool)
            .as_deref()
        {
            Some("read") => Pool::Read,
            Some("write") => Pool::Write,
            _ => request_pool,
        };
        let Some(limit) = self.budget.limit(pool) else {
            return;
        };
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let pause = crate::headers::retry_after(headers).unwrap_or(Duration::from_secs(1));
            let until = Instant::now() + saturated(pause).min(limit.window);
            match &*self.budget.store {
                Store::Local(store) => store.pause(self.key.0, pool, until),
                #[cfg(feature = "redis")]
                Store::Redis(store) => store.pause(&self.key, pool, until).await,
            }
        }
        let Some(reported) = crate::headers::RateLimit::from_headers(headers) else {
            return;
        };
        let (Some(remaining), Some(reset)) = (reported.remaining, reported.reset) else {
            return;
        };
        // At most `remaining` more may go before the reset, whatever this budget's own limit:
        // the rest of it counts as used until then.
        let used = limit
            .requests
            .saturating_sub(u32::try_from(remaining).unwrap_or(u32::MAX));
        // The reset is wall-clock seconds; the budget runs on the monotonic clock.
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let until =
            Instant::now() + Duration::from_secs(reset.saturating_sub(now_unix)).min(limit.window);
        match &*self.budget.store {
            Store::Local(store) => store.correct(self.key.0, pool, used, until),
            #[cfg(feature = "redis")]
            Store::Redis(store) => store.correct(&self.key, pool, used, until).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_writes_per_ten_seconds() -> BoundBudget {
        RateBudget::per_minute(600, 2)
            .window(Duration::from_secs(10))
            .bind("hockeystack", Some("hsr_test_token"))
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_tasks_are_served_in_the_order_they_came() {
        let budget = two_writes_per_ten_seconds();
        let start = Instant::now();
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        // One task arrives every second for half a minute: far more than the pool holds, so
        // all but the first two wait, and newcomers keep arriving as slots free.
        for task in 0..30u32 {
            let (budget, done) = (budget.clone(), done.clone());
            tokio::spawn(async move {
                budget.take(Pool::Write, None).await.unwrap();
                done.send((task, Instant::now() - start)).unwrap();
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        drop(done);
        let mut order = Vec::new();
        let mut longest = Duration::ZERO;
        while let Some((task, at)) = finished.recv().await {
            longest = longest.max(at.saturating_sub(Duration::from_secs(task.into())));
            order.push(task);
        }
        assert_eq!(order, (0..30).collect::<Vec<_>>());
        // Two slots a window (10.3 s with the margin) for 30 tasks: the last of them is served
        // in the 15th window, about 144 s after the start, having come at 29 s.
        assert!(longest < Duration::from_secs(120), "{longest:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_does_not_let_a_newcomer_overtake_a_task_already_waiting() {
        let budget = RateBudget::per_minute(600, 1)
            .window(Duration::from_secs(10))
            .bind("hockeystack", Some("hsr_test_token"));
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        let waiter = |name: &'static str| {
            let (budget, done) = (budget.clone(), done.clone());
            tokio::spawn(async move {
                budget.take(Pool::Write, None).await.unwrap();
                done.send(name).unwrap();
            })
        };
        budget.take(Pool::Write, None).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let first = waiter("first");
        // A 429 holds the pool until 20 s, past the slot the first waiter was waiting for; a
        // newcomer comes while the pause lasts.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let too_many = http::Response::builder()
            .status(429)
            .header("Retry-After", "15")
            .body(reqwest::Body::from(Vec::new()))
            .unwrap();
        budget
            .observe(Pool::Write, &reqwest::Response::from(too_many))
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let newcomer = waiter("newcomer");
        drop(done);
        let (a, b) = (finished.recv().await, finished.recv().await);
        assert_eq!((a, b), (Some("first"), Some("newcomer")));
        first.await.unwrap();
        newcomer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_whose_deadline_comes_before_the_next_slot_is_refused_at_once() {
        let budget = two_writes_per_ten_seconds();
        budget.take(Pool::Write, None).await.unwrap();
        budget.take(Pool::Write, None).await.unwrap();
        let first_in_line = tokio::spawn({
            let budget = budget.clone();
            async move { budget.take(Pool::Write, None).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let asked = Instant::now();
        let refused = budget
            .take(Pool::Write, Some(asked + Duration::from_secs(2)))
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), asked, "refused without waiting");
        match refused {
            Refusal::Exhausted { pool, refills_in } => {
                assert_eq!(pool, Pool::Write);
                // The first slot frees 10.3 s after the start, 9.3 s from now.
                assert_eq!(refills_in, Duration::from_millis(9300));
            }
            other => panic!("{other:?}"),
        }
        first_in_line.await.unwrap().unwrap();
    }
}
