//! Making sure a deal's or company's agent is active: start provisioning (a 409 means it
//! exists), then poll until `active`, restarting a failed run a bounded number of times.

use std::{
    future::{Future, IntoFuture},
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use futures_core::future::BoxFuture;
use tokio::sync::watch;

use super::{AgentRecord, AgentStatus, Client};
use crate::{
    error::{AgentRef, Error, ErrorKind, WaitSubject},
    poll::{Phase, PollPolicy, Progress, ProgressStream, Scrub, Status, Step, Stopped, poll},
};

/// The provisioning runs [`EnsureAgent`] starts at most, the first included.
pub const DEFAULT_PROVISIONING_RUNS: u32 = 3;

/// A wait for an agent to be active. Await it; before that, [`progress`](Self::progress)
/// gives a stream of its checks.
///
/// ```no_run
/// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
/// use futures_util::StreamExt;
///
/// let wait = client.deal_agent("9001234567").ensure();
/// let mut progress = wait.progress();
/// tokio::spawn(async move {
///     while let Some(p) = progress.next().await {
///         eprintln!("agent {} after {:?} ({} checks)", p.state, p.elapsed, p.attempts);
///     }
/// });
/// let agent = wait.await?;
/// println!("agent {:?} is active", agent.agent_id);
/// # Ok(()) }
/// ```
#[must_use = "a wait does nothing until awaited"]
pub struct EnsureAgent<S> {
    client: Client,
    id: String,
    policy: PollPolicy,
    max_runs: u32,
    progress: watch::Sender<Option<Progress>>,
    record: std::marker::PhantomData<fn() -> S>,
}

impl<S: AgentRecord> EnsureAgent<S> {
    pub(crate) fn new(client: Client, id: String) -> Self {
        Self {
            client,
            id,
            policy: PollPolicy::agent_provisioning(),
            max_runs: DEFAULT_PROVISIONING_RUNS,
            progress: watch::channel(None).0,
            record: std::marker::PhantomData,
        }
    }

    /// How to pace the checks. Default [`PollPolicy::agent_provisioning`].
    pub fn policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How many provisioning runs to start at most, the first included (at least 1). Default
    /// [`DEFAULT_PROVISIONING_RUNS`].
    pub fn max_provisioning_runs(mut self, runs: u32) -> Self {
        self.max_runs = runs.max(1);
        self
    }

    /// The checks of this wait as they happen.
    pub fn progress(&self) -> ProgressStream {
        ProgressStream::new(self.progress.subscribe())
    }

    pub(crate) fn with_progress(mut self, progress: watch::Sender<Option<Progress>>) -> Self {
        self.progress = progress;
        self
    }
}

impl<S: AgentRecord> IntoFuture for EnsureAgent<S> {
    type Output = Result<S, Error>;
    type IntoFuture = BoxFuture<'static, Result<S, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(ensure(
            self.client,
            self.id,
            self.policy,
            self.max_runs,
            self.progress,
        ))
    }
}

async fn ensure<S: AgentRecord>(
    client: Client,
    id: String,
    policy: PollPolicy,
    max_runs: u32,
    progress: watch::Sender<Option<Progress>>,
) -> Result<S, Error> {
    ensure_with(
        policy,
        max_runs,
        &progress,
        &|text| client.inner.scrub(text),
        S::agent_ref(&id),
        || S::start(&client, &id),
        || S::fetch(&client, &id),
    )
    .await
    .map_err(|e| client.inner.guard(e))
}

/// The state machine, over any start and fetch calls, so that it is tested without a server.
pub(crate) async fn ensure_with<S, Start, StartFut, Fetch, FetchFut>(
    policy: PollPolicy,
    max_runs: u32,
    progress: &watch::Sender<Option<Progress>>,
    scrub: Scrub<'_>,
    agent: AgentRef,
    start: Start,
    fetch: Fetch,
) -> Result<S, Error>
where
    S: AgentRecord,
    Start: Fn() -> StartFut,
    StartFut: Future<Output = Result<S, Error>>,
    Fetch: Fn() -> FetchFut,
    FetchFut: Future<Output = Result<S, Error>>,
{
    let runs = Arc::new(AtomicU32::new(0));
    let first_delay = match start().await {
        Ok(state) if *state.status() == AgentStatus::Active => return Ok(state),
        Ok(state) => {
            runs.store(1, Ordering::Relaxed);
            // Said at once: the first check is a while away (5 s by default).
            progress.send_replace(Some(Progress {
                phase: Phase::Provisioning,
                state: Status::new(
                    Phase::Provisioning,
                    scrub(state.status().as_str().to_owned()),
                )
                .state,
                elapsed: Duration::ZERO,
                attempts: 0,
                next_delay: Some(policy.min_delay),
                finished: false,
            }));
            policy.min_delay
        }
        // It exists already: look at once, it may well be active.
        Err(e) if *e.kind() == ErrorKind::Conflict => Duration::ZERO,
        Err(e) => return Err(e),
    };
    // The phase of the run in progress: the first, or a restart after a failed one.
    let phase = |runs: u32| match runs {
        0 | 1 => Phase::Provisioning,
        run => Phase::RestartingProvisioning { run },
    };
    let initial = phase(runs.load(Ordering::Relaxed));
    let outcome = poll(&policy, first_delay, initial, progress, || {
        let runs = runs.clone();
        let start = &start;
        let fetch = &fetch;
        async move {
            let current = phase(runs.load(Ordering::Relaxed));
            match fetch().await {
                Ok(state) => match state.status() {
                    AgentStatus::Active => Ok(Step::Done(
                        Ok(state),
                        Status::new(current, AgentStatus::Active.as_str()),
                    )),
                    AgentStatus::ProvisioningFailed => {
                        if runs.load(Ordering::Relaxed) >= max_runs {
                            let status =
                                Status::new(current, AgentStatus::ProvisioningFailed.as_str());
                            return Ok(Step::Done(Err(state.failure().map(str::to_owned)), status));
                        }
                        match start().await {
                            Ok(_) => {}
                            Err(e) if *e.kind() == ErrorKind::Conflict => {}
                            Err(e) => return Err(e),
                        }
                        let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
                        Ok(Step::Pending(Status::new(
                            phase(run),
                            AgentStatus::ProvisioningFailed.as_str(),
                        )))
                    }
                    // `initializing`, or a status added after this crate: not ready yet.
                    other => Ok(Step::Pending(Status::new(
                        current,
                        scrub(other.as_str().to_owned()),
                    ))),
                },
                // Provisioning was just started: the agent may not be visible yet.
                Err(e) if *e.kind() == ErrorKind::NotFound && runs.load(Ordering::Relaxed) > 0 => {
                    Ok(Step::Pending(Status::new(current, "not_found")))
                }
                Err(e) => Err(e),
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(state)) => Ok(state),
        Ok(Err(message)) => Err(Error::new(ErrorKind::ProvisioningFailed {
            agent,
            attempts: runs.load(Ordering::Relaxed),
            message,
        })),
        Err(Stopped::TimedOut { elapsed, attempts }) => Err(Error::new(ErrorKind::WaitTimedOut {
            waiting_for: WaitSubject::Agent(agent),
            elapsed,
            attempts,
        })),
        Err(Stopped::Failed(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::time::Instant;

    use super::*;
    use crate::hockeystack::types;

    fn state(status: &str) -> Result<types::AgentState, Error> {
        Ok(serde_json::from_value(serde_json::json!({
            "deal_id": "D", "status": status, "error": "CRM sync timed out"
        }))
        .unwrap())
    }

    fn status_error(status: u16) -> Result<types::AgentState, Error> {
        Err(Error::from_status(
            "HockeyStack",
            status,
            &Default::default(),
            None,
            true,
        ))
    }

    /// A scripted server: the answers of PUT and GET in order, and the virtual time of each call.
    struct Script {
        puts: Mutex<Vec<Result<types::AgentState, Error>>>,
        gets: Mutex<Vec<Result<types::AgentState, Error>>>,
        calls: Mutex<Vec<(&'static str, Duration)>>,
        start: Instant,
    }

    impl Script {
        fn new(
            puts: Vec<Result<types::AgentState, Error>>,
            gets: Vec<Result<types::AgentState, Error>>,
        ) -> Self {
            let rev = |mut v: Vec<_>| {
                v.reverse();
                Mutex::new(v)
            };
            Self {
                puts: rev(puts),
                gets: rev(gets),
                calls: Mutex::default(),
                start: Instant::now(),
            }
        }

        async fn run(&self, policy: PollPolicy, max_runs: u32) -> Result<types::AgentState, Error> {
            let (tx, _rx) = watch::channel(None);
            ensure_with(
                policy,
                max_runs,
                &tx,
                &|text| text,
                AgentRef::Deal("D".into()),
                || async {
                    self.calls
                        .lock()
                        .unwrap()
                        .push(("PUT", self.start.elapsed()));
                    self.puts.lock().unwrap().pop().expect("unexpected PUT")
                },
                || async {
                    self.calls
                        .lock()
                        .unwrap()
                        .push(("GET", self.start.elapsed()));
                    self.gets.lock().unwrap().pop().expect("unexpected GET")
                },
            )
            .await
        }

        fn calls(&self) -> Vec<(&'static str, u64)> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .map(|(m, t)| (*m, t.as_secs()))
                .collect()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_run_is_reported_at_once_not_at_the_first_check() {
        let (tx, mut rx) = watch::channel(None);
        let wait = tokio::spawn(async move {
            ensure_with::<types::AgentState, _, _, _, _>(
                steady(),
                3,
                &tx,
                &|text| text,
                AgentRef::Deal("D".into()),
                || async { state("initializing") },
                || async { state("active") },
            )
            .await
        });
        rx.changed().await.unwrap();
        let first = rx.borrow_and_update().clone().unwrap();
        assert_eq!(
            (first.state.as_str(), first.attempts, first.elapsed),
            ("initializing", 0, Duration::ZERO)
        );
        assert_eq!(first.next_delay, Some(Duration::from_secs(5)));
        assert!(wait.await.unwrap().is_ok());
    }

    fn steady() -> PollPolicy {
        PollPolicy::new(Duration::from_secs(5), Duration::from_secs(20)).factor(2.0)
    }

    #[tokio::test(start_paused = true)]
    async fn initializing_initializing_active() {
        let script = Script::new(
            vec![state("initializing")],
            vec![
                state("initializing"),
                state("initializing"),
                state("active"),
            ],
        );
        let agent = script.run(steady(), 3).await.unwrap();
        assert_eq!(agent.status, AgentStatus::Active);
        assert_eq!(
            script.calls(),
            [("PUT", 0), ("GET", 5), ("GET", 15), ("GET", 35)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_409_means_the_agent_exists_and_is_checked_at_once() {
        let script = Script::new(vec![status_error(409)], vec![state("active")]);
        script.run(steady(), 3).await.unwrap();
        assert_eq!(script.calls(), [("PUT", 0), ("GET", 0)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_run_is_restarted_then_succeeds() {
        let script = Script::new(
            vec![state("initializing"), state("initializing")],
            vec![
                state("provisioning_failed"),
                state("initializing"),
                state("active"),
            ],
        );
        script.run(steady(), 3).await.unwrap();
        assert_eq!(
            script.calls(),
            [("PUT", 0), ("GET", 5), ("PUT", 5), ("GET", 15), ("GET", 35)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_failures_end_with_the_servers_text() {
        let script = Script::new(
            vec![state("initializing"), state("initializing")],
            vec![state("provisioning_failed"), state("provisioning_failed")],
        );
        let error = script.run(steady(), 2).await.unwrap_err();
        match error.kind() {
            ErrorKind::ProvisioningFailed {
                agent,
                attempts,
                message,
            } => {
                assert_eq!(agent, &AgentRef::Deal("D".into()));
                assert_eq!(*attempts, 2);
                assert_eq!(message.as_deref(), Some("CRM sync timed out"));
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("CRM sync timed out"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_gives_a_timeout_that_names_the_agent() {
        let script = Script::new(
            vec![state("initializing")],
            (0..10).map(|_| state("initializing")).collect(),
        );
        let error = script
            .run(steady().deadline(Duration::from_secs(60)), 3)
            .await
            .unwrap_err();
        match error.kind() {
            ErrorKind::WaitTimedOut {
                waiting_for,
                elapsed,
                attempts,
            } => {
                assert_eq!(waiting_for, &WaitSubject::Agent(AgentRef::Deal("D".into())));
                assert_eq!((*elapsed, *attempts), (Duration::from_secs(60), 5));
            }
            other => panic!("{other:?}"),
        }
        // 5, 15, 35, 55, then the last check at the deadline.
        assert_eq!(script.calls().last(), Some(&("GET", 60)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_that_fails_otherwise_is_returned() {
        let script = Script::new(vec![status_error(503)], vec![]);
        let error = script.run(steady(), 3).await.unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::CreditsExhausted);
    }

    #[tokio::test(start_paused = true)]
    async fn an_agent_not_yet_visible_after_a_start_is_waited_for() {
        let script = Script::new(
            vec![state("initializing")],
            vec![status_error(404), state("active")],
        );
        script.run(steady(), 3).await.unwrap();
        assert_eq!(script.calls(), [("PUT", 0), ("GET", 5), ("GET", 15)]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_status_counts_as_not_ready() {
        let script = Script::new(
            vec![state("initializing")],
            vec![state("warming_up"), state("active")],
        );
        let agent = script.run(steady(), 3).await.unwrap();
        // Not returned as ready, not failed: checked again, and active at the next check.
        assert_eq!(agent.status, AgentStatus::Active);
        assert_eq!(script.calls(), [("PUT", 0), ("GET", 5), ("GET", 15)]);
    }
}
