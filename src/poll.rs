//! One poller for every wait: agent provisioning, message jobs.
//!
//! Delays start at a minimum, grow by a factor up to a maximum, may be jittered, and stop at an
//! overall deadline. A rate-limited check waits at least the server's `Retry-After`. Every
//! check publishes a [`Progress`] that a program can show. Everything runs on tokio's clock,
//! so dropping the future cancels the wait and tests run it in virtual time.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::Stream;
use tokio::{sync::watch, time::Instant};

use crate::error::{Error, ErrorKind};

/// How a wait paces its checks.
///
/// ```
/// use std::time::Duration;
/// use revenue_agents::PollPolicy;
///
/// // Check after 1 s, 2 s, 4 s, then every 5 s; give up after two minutes.
/// let policy = PollPolicy::new(Duration::from_secs(1), Duration::from_secs(5))
///     .factor(2.0)
///     .deadline(Duration::from_secs(120));
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) factor: f64,
    pub(crate) jitter: bool,
    pub(crate) deadline: Option<Duration>,
}

impl PollPolicy {
    /// Delays from `min` growing (×2 by default) to `max`; no jitter, no deadline.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min_delay: min,
            max_delay: max.max(min),
            factor: 2.0,
            jitter: false,
            deadline: None,
        }
    }

    /// HockeyStack's guidance for message jobs: start at 1 s and double up to 5 s. Gives up
    /// after 5 minutes, well inside the job's 60-minute retention.
    pub fn message_jobs() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(5)).deadline(Duration::from_secs(300))
    }

    /// For agent provisioning, which usually takes 3 to 8 minutes: first check after 5 s,
    /// growing by 1.5 to one check every 20 s (at most 20 s between the agent becoming active
    /// and the caller knowing, at about 3 read requests a minute). Gives up after 15 minutes.
    pub fn agent_provisioning() -> Self {
        Self::new(Duration::from_secs(5), Duration::from_secs(20))
            .factor(1.5)
            .deadline(Duration::from_secs(15 * 60))
    }

    /// How much each delay grows over the previous one (at least 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Randomise each delay between half and all of its value, so that many waiters do not
    /// check in step.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Give up (with [`ErrorKind::WaitTimedOut`]) once this much time has passed. A deadline
    /// too far away to reach (`Duration::MAX`) is the same as [`no_deadline`](Self::no_deadline).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Never give up on time alone.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// The delays between checks, without jitter: the first is the wait before the first check.
    /// Useful to see what a policy costs, e.g. how many requests a 5-minute wait makes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use revenue_agents::PollPolicy;
    ///
    /// let first: Vec<u64> = PollPolicy::message_jobs().delays().take(5).map(|d| d.as_secs()).collect();
    /// assert_eq!(first, [1, 2, 4, 5, 5]);
    /// ```
    pub fn delays(&self) -> impl Iterator<Item = Duration> + '_ {
        (0u32..).map(|attempt| self.delay_after(attempt))
    }

    /// The delay before check number `attempt + 1`, without jitter.
    pub(crate) fn delay_after(&self, attempt: u32) -> Duration {
        let grown = self.min_delay.as_secs_f64() * self.factor.powi(attempt.min(64) as i32);
        // Past what a `Duration` holds (a maximum of `Duration::MAX` meant as "no maximum"),
        // the maximum itself is the delay.
        Duration::try_from_secs_f64(grown.min(self.max_delay.as_secs_f64()))
            .map_or(self.max_delay, |delay| delay.min(self.max_delay))
    }
}

/// What a wait is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// An agent's first provisioning run is under way (or the agent already existed).
    Provisioning,
    /// An earlier provisioning run failed and this one, number `run`, was started.
    RestartingProvisioning {
        /// Which run this is, the first counted as 1.
        run: u32,
    },
    /// A message job is being answered.
    WaitingForJob,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::Provisioning => f.write_str("provisioning"),
            Phase::RestartingProvisioning { run } => write!(f, "provisioning (run {run})"),
            Phase::WaitingForJob => f.write_str("waiting for the reply"),
        }
    }
}

/// Where a wait stands, published after every check; the last one has `finished` set, so a
/// progress bar can complete.
///
/// `state` is what the server reported (`initializing`, `pending`, `active`, `completed`, …),
/// or `rate_limited`, `not_found` (an agent not visible yet), `timed_out` and `error` from the
/// wait itself. HockeyStack's waits read it typed with `agent_status()` and `job_status()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// What the wait is doing.
    pub phase: Phase,
    /// The latest state, as reported.
    pub state: String,
    /// Time since the wait began.
    pub elapsed: Duration,
    /// Checks made so far.
    pub attempts: u32,
    /// When the next check happens; `None` once the wait is over.
    pub next_delay: Option<Duration>,
    /// Whether this is the wait's last update (it succeeded, failed or gave up).
    pub finished: bool,
}

/// The outcome of one check.
pub(crate) enum Step<T> {
    /// Finished: stop and return this, reporting the final state.
    Done(T, Status),
    /// Not yet; the state to report.
    Pending(Status),
}

/// What a check saw, for the progress report.
pub(crate) struct Status {
    pub(crate) phase: Phase,
    pub(crate) state: String,
}

impl Status {
    /// `state` comes from a server: it is kept short and printable (a status of a megabyte,
    /// or with control characters, would otherwise reach every progress reader and log line).
    pub(crate) fn new(phase: Phase, state: impl Into<String>) -> Self {
        let state = state.into();
        let printable = state.len() <= 64 && state.chars().all(|c| c.is_ascii_graphic());
        Self {
            phase,
            state: if printable {
                state
            } else {
                crate::error::snippet(&state)
            },
        }
    }
}

/// How a wait shows a server's text (a status it reported) to progress readers and logs:
/// the client's redaction, or nothing for a wait tested without a client.
pub(crate) type Scrub<'a> = &'a (dyn Fn(String) -> String + Sync);

/// How a wait ended without its value.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The deadline passed; the subject is filled in by the caller.
    TimedOut { elapsed: Duration, attempts: u32 },
    /// A check failed.
    Failed(Error),
}

/// The longest `Retry-After` a wait honours before its next check: HockeyStack's rate window
/// is a minute, so a longer ask is either a fault or a state a check will report again.
const LONGEST_RETRY_AFTER_FLOOR: Duration = Duration::from_secs(60);

/// Checks with `probe` until it is done, the deadline passes or a check fails. The first
/// check happens after `first_delay`. A rate-limited check is not a failure: the next one
/// waits at least its `Retry-After`.
pub(crate) async fn poll<T, F, Fut>(
    policy: &PollPolicy,
    first_delay: Duration,
    phase: Phase,
    progress: &watch::Sender<Option<Progress>>,
    mut probe: F,
) -> Result<T, Stopped>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, Error>>,
{
    let start = Instant::now();
    let deadline = policy.deadline.and_then(|d| start.checked_add(d));
    let mut delay = first_delay;
    let mut attempts = 0u32;
    let mut phase = phase;
    let publish = |phase: Phase, state: String, attempts, next_delay: Option<Duration>| {
        crate::trace::wait_step(phase, &state, attempts, next_delay);
        progress.send_replace(Some(Progress {
            phase,
            state,
            elapsed: start.elapsed(),
            attempts,
            next_delay,
            finished: next_delay.is_none(),
        }));
    };
    loop {
        if let Some(deadline) = deadline {
            let now = Instant::now();
            if now >= deadline && attempts > 0 {
                publish(phase, "timed_out".to_owned(), attempts, None);
                return Err(Stopped::TimedOut {
                    elapsed: now - start,
                    attempts,
                });
            }
            // The last check happens at the deadline rather than after it.
            delay = delay.min(deadline.saturating_duration_since(now));
        }
        tokio::time::sleep(delay).await;
        attempts += 1;
        let (state, floor) = match probe().await {
            Ok(Step::Done(value, status)) => {
                publish(status.phase, status.state, attempts, None);
                return Ok(value);
            }
            Ok(Step::Pending(status)) => {
                phase = status.phase;
                (status.state, Duration::ZERO)
            }
            Err(e) if matches!(e.kind(), ErrorKind::RateLimited { .. }) => (
                "rate_limited".to_owned(),
                e.retry_after()
                    .unwrap_or(Duration::ZERO)
                    .min(LONGEST_RETRY_AFTER_FLOOR),
            ),
            Err(e) => {
                publish(phase, "error".to_owned(), attempts, None);
                return Err(Stopped::Failed(e));
            }
        };
        let next = policy.delay_after(attempts);
        delay = if policy.jitter {
            crate::retry::jittered(next)
        } else {
            next
        }
        .max(floor);
        publish(phase, state, attempts, Some(delay));
    }
}

/// A stream of [`Progress`] updates of one wait. It ends when the wait ends (or is dropped).
/// A slow reader sees the latest state, not every intermediate one.
pub struct ProgressStream {
    inner: Pin<Box<dyn Stream<Item = Progress> + Send>>,
}

impl ProgressStream {
    pub(crate) fn new(receiver: watch::Receiver<Option<Progress>>) -> Self {
        let updates = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                receiver.changed().await.ok()?;
                let latest = receiver.borrow_and_update().clone();
                if let Some(progress) = latest {
                    return Some((progress, receiver));
                }
            }
        });
        Self {
            inner: Box::pin(updates),
        }
    }
}

impl ProgressStream {
    /// The same updates, passed through `f`: a wait made of several waits (the one-call ask)
    /// uses it so that only its very last update is marked finished.
    pub(crate) fn map(self, f: impl FnMut(Progress) -> Progress + Send + 'static) -> Self {
        use futures_util::StreamExt;
        Self {
            inner: Box::pin(self.inner.map(f)),
        }
    }
}

impl Stream for ProgressStream {
    type Item = Progress;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Progress>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn secs(v: &[f64]) -> Vec<Duration> {
        v.iter().map(|s| Duration::from_secs_f64(*s)).collect()
    }

    /// Runs a poll whose probe answers `pending` until `done_at` checks, recording when each
    /// check happened.
    async fn run(policy: PollPolicy, done_at: u32) -> (Result<u32, Stopped>, Vec<Duration>) {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let (tx, _rx) = watch::channel(None);
        let t = times.clone();
        let mut n = 0;
        let result = poll(
            &policy,
            policy.min_delay,
            Phase::WaitingForJob,
            &tx,
            move || {
                n += 1;
                t.lock().unwrap().push(start.elapsed());
                let k = n;
                async move {
                    Ok(if k >= done_at {
                        Step::Done(k, Status::new(Phase::WaitingForJob, "completed"))
                    } else {
                        Step::Pending(Status::new(Phase::WaitingForJob, "pending"))
                    })
                }
            },
        )
        .await;
        let times = times.lock().unwrap().clone();
        (result, times)
    }

    #[tokio::test(start_paused = true)]
    async fn delays_double_from_the_minimum_to_the_maximum() {
        let (result, times) = run(PollPolicy::message_jobs(), 6).await;
        assert_eq!(result.unwrap(), 6);
        assert_eq!(times, secs(&[1.0, 3.0, 7.0, 12.0, 17.0, 22.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_the_wait_with_a_last_check_at_the_deadline() {
        let policy = PollPolicy::new(Duration::from_secs(1), Duration::from_secs(5))
            .deadline(Duration::from_secs(10));
        let (result, times) = run(policy, u32::MAX).await;
        match result {
            Err(Stopped::TimedOut { elapsed, attempts }) => {
                assert_eq!((elapsed, attempts), (Duration::from_secs(10), 4));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(times, secs(&[1.0, 3.0, 7.0, 10.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_check_waits_for_retry_after() {
        let start = Instant::now();
        let (tx, _rx) = watch::channel(None);
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        let mut n = 0;
        let policy = PollPolicy::new(Duration::from_secs(1), Duration::from_secs(5));
        let result: Result<(), Stopped> = poll(
            &policy,
            Duration::ZERO,
            Phase::WaitingForJob,
            &tx,
            move || {
                n += 1;
                t.lock().unwrap().push(start.elapsed());
                let k = n;
                async move {
                    match k {
                        1 => {
                            let mut h = reqwest::header::HeaderMap::new();
                            h.insert("retry-after", "30".parse().unwrap());
                            Err(Error::from_status("HockeyStack", 429, &h, None, true))
                        }
                        _ => Ok(Step::Done(
                            (),
                            Status::new(Phase::WaitingForJob, "completed"),
                        )),
                    }
                }
            },
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(*times.lock().unwrap(), secs(&[0.0, 30.0]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_check_stops_the_wait() {
        let (tx, _rx) = watch::channel(None);
        let result: Result<(), Stopped> = poll(
            &PollPolicy::message_jobs(),
            Duration::ZERO,
            Phase::WaitingForJob,
            &tx,
            || async {
                Err(Error::from_status(
                    "HockeyStack",
                    401,
                    &Default::default(),
                    None,
                    true,
                ))
            },
        )
        .await;
        assert!(matches!(result, Err(Stopped::Failed(e)) if *e.kind() == ErrorKind::Unauthorized));
    }

    #[tokio::test(start_paused = true)]
    async fn progress_is_published_after_each_check() {
        use futures_util::StreamExt;
        let (tx, rx) = watch::channel(None);
        let mut stream = ProgressStream::new(rx);
        let collector = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(p) = stream.next().await {
                seen.push((p.state, p.attempts, p.next_delay, p.finished));
            }
            seen
        });
        let mut n = 0;
        let policy = PollPolicy::new(Duration::from_secs(1), Duration::from_secs(1));
        let _: Result<(), Stopped> =
            poll(&policy, Duration::ZERO, Phase::WaitingForJob, &tx, || {
                n += 1;
                let k = n;
                async move {
                    let status = Status::new(Phase::WaitingForJob, format!("s{k}"));
                    Ok(if k == 3 {
                        Step::Done((), status)
                    } else {
                        Step::Pending(status)
                    })
                }
            })
            .await;
        drop(tx);
        let seen = collector.await.unwrap();
        // The watch keeps the latest value: every update is seen because checks are 1 s apart.
        // The last one reports the final state and that the wait is over.
        let second = Some(Duration::from_secs(1));
        assert_eq!(
            seen,
            vec![
                ("s1".to_string(), 1, second, false),
                ("s2".to_string(), 2, second, false),
                ("s3".to_string(), 3, None, true),
            ]
        );
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_delay() {
        for _ in 0..1000 {
            let d = crate::retry::jittered(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_secs(10));
        }
    }

    #[test]
    fn factors_below_one_or_not_finite_are_clamped() {
        assert_eq!(
            PollPolicy::new(Duration::from_secs(1), Duration::from_secs(9))
                .factor(0.1)
                .factor,
            1.0
        );
        assert_eq!(
            PollPolicy::new(Duration::from_secs(1), Duration::from_secs(9))
                .factor(f64::NAN)
                .factor,
            1.0
        );
    }
}
