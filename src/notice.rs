//! Why a call pauses, for whoever shows it to a person: a wait for a slot of the rate budget,
//! or a wait before sending a request again (a 429's `Retry-After`, a transient failure). A
//! program that wants to say so runs its calls inside [`observe_waits`]; the command-line tool
//! writes a line on standard error, the MCP server sends progress. Without an observer nothing
//! is kept or sent.

use std::{fmt, future::Future, sync::Arc, time::Duration};

/// A pause of a call, before it sends (again).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Waiting {
    /// For a slot of the client's rate budget.
    RateBudget {
        /// The API (`HockeyStack`).
        api: &'static str,
        /// The pool (`read` or `write`).
        pool: &'static str,
        /// How long.
        wait: Duration,
        /// Whether the budget is shared through Redis (else it is this process's own).
        shared: bool,
    },
    /// Before the request is sent again.
    Retry {
        /// The API.
        api: &'static str,
        /// Why: the status or failure that made it wait (`429 Too Many Requests`, ...).
        reason: String,
        /// How long.
        wait: Duration,
    },
}

impl fmt::Display for Waiting {
    /// A line for a person: what, how long, and the setting that governs it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = |d: &Duration| format!("{:.1} s", d.as_secs_f64());
        match self {
            Waiting::RateBudget {
                api,
                pool,
                wait,
                shared,
            } => {
                write!(
                    f,
                    "waiting {} for a slot of {api}'s {pool} rate budget (REVENUE_AGENTS_RATE_BUDGET)",
                    seconds(wait)
                )?;
                if !*shared {
                    f.write_str(
                        "; this process has its own budget, shared with others only through \
                         REVENUE_AGENTS_REDIS_URL",
                    )?;
                }
                Ok(())
            }
            Waiting::Retry { api, reason, wait } => write!(
                f,
                "{api} answered {reason}: sending again in {} (REVENUE_AGENTS_MAX_RETRIES, \
                 REVENUE_AGENTS_RETRY_MAX_WAIT)",
                seconds(wait)
            ),
        }
    }
}

type Observer = Arc<dyn Fn(&Waiting) + Send + Sync>;

tokio::task_local! {
    static OBSERVER: Observer;
}

/// Runs `future` with `observer` told of every pause of the calls it makes (pages fetched
/// ahead in other tasks included).
///
/// ```no_run
/// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
/// let tasks = revenue_agents::observe_waits(
///     |waiting| eprintln!("{waiting}"),
///     client.list_tasks().send(),
/// )
/// .await?;
/// # let _ = tasks; Ok(()) }
/// ```
pub async fn observe_waits<F: Future>(
    observer: impl Fn(&Waiting) + Send + Sync + 'static,
    future: F,
) -> F::Output {
    OBSERVER.scope(Arc::new(observer), future).await
}

/// Tells the observer of the task, if it has one.
pub(crate) fn tell(waiting: impl FnOnce() -> Waiting) {
    let _ = OBSERVER.try_with(|observer| observer(&waiting()));
}

/// The observer of this task, to hand on to a task it starts.
pub(crate) fn current() -> Option<Observer> {
    OBSERVER.try_with(Arc::clone).ok()
}

/// `future` with `observer` (from [`current`]), for a task started on a call's behalf.
pub(crate) async fn within<F: Future>(observer: Option<Observer>, future: F) -> F::Output {
    match observer {
        Some(observer) => OBSERVER.scope(observer, future).await,
        None => future.await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn an_observer_hears_the_pauses_of_its_calls_and_tasks_started_for_them() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        let waiting = || Waiting::Retry {
            api: "HyperRep",
            reason: "429 Too Many Requests".into(),
            wait: Duration::from_secs(2),
        };
        observe_waits(
            move |w: &Waiting| sink.lock().unwrap().push(w.to_string()),
            async move {
                tell(waiting);
                let handed = current();
                tokio::spawn(within(handed, async move { tell(waiting) }))
                    .await
                    .unwrap();
            },
        )
        .await;
        // Outside, nobody listens, and nothing fails.
        tell(waiting);
        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 2);
        assert!(heard[0].contains("sending again in 2.0 s"), "{heard:?}");
        let budget = Waiting::RateBudget {
            api: "HockeyStack",
            pool: "write",
            wait: Duration::from_millis(1500),
            shared: false,
        }
        .to_string();
        assert!(budget.contains("REVENUE_AGENTS_RATE_BUDGET") && budget.contains("REDIS_URL"));
    }
}
