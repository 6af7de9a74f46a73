//! Message jobs: an agent's reply, and the wait for a job that produces one.

use std::future::{Future, IntoFuture};

use futures_core::future::BoxFuture;
use tokio::sync::watch;

use super::{AgentRecord, Client, MessageJobStatus, MessageRole, types};
use crate::{
    error::{AgentRef, Error, ErrorKind, JobRef, WaitSubject},
    poll::{Phase, PollPolicy, Progress, ProgressStream, Scrub, Status, Step, Stopped, poll},
};

/// An agent's answer to one message.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The conversation, to send follow-up questions into.
    pub conversation_id: String,
    /// The job that produced the reply; `None` when the reply was streamed, which makes no
    /// job.
    pub job_id: Option<String>,
    /// What the turn produced, normally one assistant message.
    pub messages: Vec<types::Message>,
}

impl Reply {
    /// The text of the reply: the assistant messages (and those without a role), joined by
    /// blank lines.
    pub fn text(&self) -> String {
        self.messages
            .iter()
            .filter(|m| m.role.as_ref().is_none_or(|r| *r == MessageRole::Assistant))
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// A wait for a message job to finish. Await it for the reply's messages.
#[must_use = "a wait does nothing until awaited"]
pub struct WaitForJob {
    client: Client,
    job: JobRef,
    policy: PollPolicy,
    progress: watch::Sender<Option<Progress>>,
}

impl WaitForJob {
    /// How to pace the checks. Default [`PollPolicy::message_jobs`].
    pub fn policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The checks of this wait as they happen.
    pub fn progress(&self) -> ProgressStream {
        ProgressStream::new(self.progress.subscribe())
    }
}

impl IntoFuture for WaitForJob {
    type Output = Result<Vec<types::Message>, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let client = self.client;
            let job = self.job;
            let scrub = |text| client.inner.scrub(text);
            wait_for_job(&self.policy, &self.progress, &scrub, &job, || {
                fetch_job(&client, &job)
            })
            .await
            .map_err(|e| client.inner.guard(e))
        })
    }
}

/// One check of a job named at run time: the one place a [`JobRef`] chooses between deal
/// and company.
pub(crate) fn fetch_job(
    client: &Client,
    job: &JobRef,
) -> BoxFuture<'static, Result<types::MessageJob, Error>> {
    let (cid, job_id) = (job.conversation_id.as_str(), job.job_id.as_str());
    match &job.agent {
        AgentRef::Deal(id) => types::AgentState::fetch_job(client, id, cid, job_id),
        AgentRef::Company(id) => types::CompanyAgentState::fetch_job(client, id, cid, job_id),
    }
}

/// The job wait, over any fetch call, so that it is tested without a server.
pub(crate) async fn wait_for_job<F, Fut>(
    policy: &PollPolicy,
    progress: &watch::Sender<Option<Progress>>,
    scrub: Scrub<'_>,
    job: &JobRef,
    fetch: F,
) -> Result<Vec<types::Message>, Error>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<types::MessageJob, Error>>,
{
    let status = |state: &str| Status::new(Phase::WaitingForJob, state);
    let outcome = poll(
        policy,
        policy.min_delay,
        Phase::WaitingForJob,
        progress,
        || async {
            match fetch().await {
                Ok(found) => match found.status {
                    MessageJobStatus::Completed => match found.result {
                        Some(result) => Ok(Step::Done(Ok(result.messages), status("completed"))),
                        None => Ok(Step::Done(
                            Err(Error::new(ErrorKind::InvalidResponse {
                                reason: format!("{job} is completed but has no result"),
                            })),
                            status("completed"),
                        )),
                    },
                    MessageJobStatus::Failed => {
                        let detail = found.error.unwrap_or_else(|| types::ErrorDetail {
                            code: String::new(),
                            category: String::new(),
                            message: "no error details were given".to_owned(),
                        });
                        Ok(Step::Done(
                            Err(Error::new(ErrorKind::JobFailed {
                                job: job.clone(),
                                code: detail.code,
                                category: detail.category,
                                message: detail.message,
                            })),
                            status("failed"),
                        ))
                    }
                    // `pending`, or a status added after this crate: not finished.
                    other => Ok(Step::Pending(status(&scrub(other.as_str().to_owned())))),
                },
                Err(e) if *e.kind() == ErrorKind::NotFound => Ok(Step::Done(
                    Err(Error::new(ErrorKind::JobExpired { job: job.clone() })),
                    status("expired"),
                )),
                Err(e) => Err(e),
            }
        },
    )
    .await;
    match outcome {
        Ok(result) => result,
        Err(Stopped::TimedOut { elapsed, attempts }) => Err(Error::new(ErrorKind::WaitTimedOut {
            waiting_for: WaitSubject::Job(job.clone()),
            elapsed,
            attempts,
        })),
        Err(Stopped::Failed(e)) => Err(e),
    }
}

impl Client {
    /// Waits for a deal message job to finish and returns the reply's messages; the same as
    /// `deal_agent(id).wait_for_job(cid, job)`. A job that failed is
    /// [`ErrorKind::JobFailed`]; one past its retention window is [`ErrorKind::JobExpired`].
    pub fn wait_for_deal_job(
        &self,
        deal_id: impl Into<String>,
        conversation_id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> WaitForJob {
        self.deal_agent(deal_id)
            .wait_for_job(conversation_id, job_id)
    }

    /// Waits for a company message job; see [`wait_for_deal_job`](Self::wait_for_deal_job).
    pub fn wait_for_company_job(
        &self,
        company_id: impl Into<String>,
        conversation_id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> WaitForJob {
        self.company_agent(company_id)
            .wait_for_job(conversation_id, job_id)
    }

    /// Waits for any message job, for example one named by a timeout error's [`JobRef`].
    pub fn wait_for_job(&self, job: JobRef) -> WaitForJob {
        WaitForJob {
            client: self.clone(),
            job,
            policy: PollPolicy::message_jobs(),
            progress: watch::channel(None).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Mutex, time::Duration};

    use tokio::time::Instant;

    use super::*;

    fn job(value: serde_json::Value) -> Result<types::MessageJob, Error> {
        Ok(serde_json::from_value(value).unwrap())
    }

    fn pending() -> Result<types::MessageJob, Error> {
        job(serde_json::json!({"status": "pending"}))
    }

    fn job_ref() -> JobRef {
        JobRef {
            agent: AgentRef::Deal("D".into()),
            conversation_id: "c1".into(),
            job_id: "j1".into(),
        }
    }

    /// Runs a job wait over scripted answers; returns the outcome and the second of each check.
    async fn script(
        policy: PollPolicy,
        answers: Vec<Result<types::MessageJob, Error>>,
    ) -> (Result<Vec<types::Message>, Error>, Vec<u64>) {
        let start = Instant::now();
        let mut answers = answers;
        answers.reverse();
        let answers = Mutex::new(answers);
        let times = Mutex::new(Vec::new());
        let (tx, _rx) = watch::channel(None);
        let result = wait_for_job(&policy, &tx, &|text| text, &job_ref(), || async {
            times.lock().unwrap().push(start.elapsed().as_secs());
            answers.lock().unwrap().pop().expect("unexpected poll")
        })
        .await;
        (result, times.into_inner().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn pending_three_times_then_completed() {
        let completed = job(serde_json::json!({
            "status": "completed",
            "result": {"messages": [{"role": "assistant", "content": "Risky."}]}
        }));
        let (result, times) = script(
            PollPolicy::message_jobs(),
            vec![pending(), pending(), pending(), completed],
        )
        .await;
        assert_eq!(result.unwrap()[0].content, "Risky.");
        assert_eq!(times, [1, 3, 7, 12], "1 s, then doubling up to 5 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_job_is_a_typed_error() {
        let failed = job(serde_json::json!({
            "status": "failed",
            "error": {"code": "agent.timeout", "category": "internal", "message": "Too slow."}
        }));
        let (result, _) = script(PollPolicy::message_jobs(), vec![pending(), failed]).await;
        let error = result.unwrap_err();
        assert_eq!(
            error.kind(),
            &ErrorKind::JobFailed {
                job: job_ref(),
                code: "agent.timeout".into(),
                category: "internal".into(),
                message: "Too slow.".into()
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_404_means_the_job_expired() {
        let gone = Err(Error::from_status(
            "HockeyStack",
            404,
            &Default::default(),
            None,
            true,
        ));
        let (result, _) = script(PollPolicy::message_jobs(), vec![gone]).await;
        assert_eq!(
            result.unwrap_err().kind(),
            &ErrorKind::JobExpired { job: job_ref() }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_completed_job_without_result_is_reported() {
        let (result, _) = script(
            PollPolicy::message_jobs(),
            vec![job(serde_json::json!({"status": "completed"}))],
        )
        .await;
        assert!(matches!(
            result.unwrap_err().kind(),
            ErrorKind::InvalidResponse { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_gives_a_timeout_with_the_ids_to_resume() {
        let policy = PollPolicy::message_jobs().deadline(Duration::from_secs(20));
        let (result, times) = script(policy, (0..10).map(|_| pending()).collect()).await;
        let error = result.unwrap_err();
        assert_eq!(
            error.kind(),
            &ErrorKind::WaitTimedOut {
                waiting_for: WaitSubject::Job(job_ref()),
                elapsed: Duration::from_secs(20),
                attempts: 6
            }
        );
        assert_eq!(times, [1, 3, 7, 12, 17, 20]);
        let text = error.to_string();
        assert!(
            text.contains("j1") && text.contains("c1") && text.contains("deal D"),
            "{text}"
        );
    }

    #[test]
    fn reply_text_joins_assistant_messages() {
        let reply = Reply {
            conversation_id: "c".into(),
            job_id: Some("j".into()),
            messages: serde_json::from_value(serde_json::json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a1"},
                {"content": "a2"}
            ]))
            .unwrap(),
        };
        assert_eq!(reply.text(), "a1\n\na2");
    }
}
