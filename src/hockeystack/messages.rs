//! Message jobs: waiting for a job's reply, and the one call that asks an agent a question
//! (make sure the agent is active, open a conversation, send, and read the reply as it is
//! streamed or wait for its job).

use std::future::{Future, IntoFuture};

use futures_core::future::BoxFuture;
use tokio::sync::watch;

use super::{
    AgentRecord, Client, MessageJobStatus, MessageRole, ReplyEvent, ready::ReadyAgents,
    stream::Started, types,
};
use crate::{
    AgentRef, Error, ErrorKind, JobRef, PollPolicy, Progress, ProgressStream, WaitSubject,
    poll::{Phase, Scrub, Status, Step, Stopped, poll},
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
fn fetch_job(
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

/// How [`Ask`] gets the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Ask for the reply as an event stream and read it as it is written: one request, and
    /// the reply the moment it is complete. The default. Nothing is lost when the stream is
    /// not what was asked for: a server that answers with a job instead is waited for as a
    /// job; a stream refused with 400, 405, 406, 415 or 501 (nothing stored) is sent again as
    /// a job; a stream that is cut, malformed or lost after the question may have been sent is
    /// never sent again: the reply is read from the conversation's messages, paced by the job
    /// policy.
    #[default]
    Stream,
    /// Send the question as a job and poll the job (1, 2, 4, then every 5 s by default), so
    /// the reply is seen up to one interval after it is ready.
    Job,
}

/// One question to an agent, from start to reply. See [`Agent::ask`](super::Agent::ask).
#[must_use = "a question does nothing until awaited"]
pub struct Ask<S> {
    client: Client,
    id: String,
    question: String,
    conversation_id: Option<String>,
    delivery: Delivery,
    agent_policy: PollPolicy,
    job_policy: PollPolicy,
    progress: watch::Sender<Option<Progress>>,
    record: std::marker::PhantomData<fn() -> S>,
}

impl<S: AgentRecord> Ask<S> {
    pub(crate) fn new(client: Client, id: String, question: String) -> Self {
        Ask {
            client,
            id,
            question,
            conversation_id: None,
            delivery: Delivery::default(),
            agent_policy: PollPolicy::agent_provisioning(),
            job_policy: PollPolicy::message_jobs(),
            progress: watch::channel(None).0,
            record: std::marker::PhantomData,
        }
    }

    /// Continue this conversation instead of opening a new one. The agent is then assumed to
    /// be active, and no provisioning request is sent.
    pub fn conversation(mut self, conversation_id: impl Into<String>) -> Self {
        self.conversation_id = Some(conversation_id.into());
        self
    }

    /// How to get the reply: streamed as it is written (the default) or as a polled job.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How to pace the wait for the agent. Default [`PollPolicy::agent_provisioning`].
    pub fn agent_policy(mut self, policy: PollPolicy) -> Self {
        self.agent_policy = policy;
        self
    }

    /// How to pace the wait for the reply: the job's checks, or, when a streamed reply was cut,
    /// the checks of the conversation. Default [`PollPolicy::message_jobs`].
    pub fn job_policy(mut self, policy: PollPolicy) -> Self {
        self.job_policy = policy;
        self
    }

    /// The checks of both waits as they happen (agent states, then job states). Only the
    /// last update of the whole ask is marked `finished`: an agent that became active is a
    /// step, not the end.
    pub fn progress(&self) -> ProgressStream {
        ProgressStream::new(self.progress.subscribe()).map(|mut update| {
            if update.phase != Phase::WaitingForJob && update.state == "active" {
                update.finished = false;
            }
            update
        })
    }
}

impl<S: AgentRecord> IntoFuture for Ask<S> {
    type Output = Result<Reply, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let inner = self.client.inner.clone();
            ask(self).await.map_err(|e| inner.guard(e))
        })
    }
}

async fn ask<S: AgentRecord>(ask: Ask<S>) -> Result<Reply, Error> {
    let client = &ask.client;
    let id = ask.id.as_str();
    let conversation_id = match ask.conversation_id {
        Some(id) => id,
        None => {
            // An agent this client saw active recently is not provisioned again: that PUT would
            // spend one of the 60 writes a minute on every question.
            let agent = S::agent_ref(id);
            let memory = ReadyAgents::of(client);
            let known = memory.is_some_and(|m| m.knows(&agent));
            let ensure = || {
                super::EnsureAgent::<S>::new(client.clone(), id.to_owned())
                    .policy(ask.agent_policy.clone())
                    .with_progress(ask.progress.clone())
            };
            if !known {
                ensure().await?;
                memory.inspect(|m| m.remember(agent.clone()));
            }
            match S::open_conversation(client, id).await {
                Ok(id) => id,
                // Removed or provisioning again since it was seen active: make sure once more.
                Err(e)
                    if known && matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Conflict) =>
                {
                    memory.inspect(|m| m.forget(&agent));
                    ensure().await?;
                    memory.inspect(|m| m.remember(agent));
                    S::open_conversation(client, id).await?
                }
                Err(e) => return Err(e),
            }
        }
    };
    let turn = Turn {
        client,
        id,
        conversation_id,
        question: ask.question,
        policy: &ask.job_policy,
        progress: &ask.progress,
    };
    match ask.delivery {
        Delivery::Job => turn.sent_as_job::<S>().await,
        Delivery::Stream => turn.streamed::<S>().await,
    }
}

/// One question sent into one conversation, and how to wait for its reply.
struct Turn<'a> {
    client: &'a Client,
    id: &'a str,
    conversation_id: String,
    question: String,
    policy: &'a PollPolicy,
    progress: &'a watch::Sender<Option<Progress>>,
}

/// Statuses with which a server refuses a streamed message before storing anything, so that
/// sending it again as a job cannot make it twice.
const STREAM_REFUSED: [u16; 5] = [400, 405, 406, 415, 501];

impl Turn<'_> {
    /// Sends the question as a job and waits for it.
    async fn sent_as_job<S: AgentRecord>(self) -> Result<Reply, Error> {
        let accepted = S::send_message(
            self.client,
            self.id,
            &self.conversation_id,
            self.question.clone(),
        )
        .await?;
        self.job_reply::<S>(accepted).await
    }

    /// Waits for the job a message started.
    async fn job_reply<S: AgentRecord>(
        self,
        accepted: types::MessageJobAccepted,
    ) -> Result<Reply, Error> {
        let client = self.client;
        let job = JobRef {
            agent: S::agent_ref(self.id),
            conversation_id: accepted.conversation_id.clone(),
            job_id: accepted.job_id.clone(),
        };
        let scrub = |text| client.inner.scrub(text);
        let messages = wait_for_job(self.policy, self.progress, &scrub, &job, || {
            fetch_job(client, &job)
        })
        .await?;
        Ok(Reply {
            conversation_id: job.conversation_id,
            job_id: Some(job.job_id),
            messages,
        })
    }

    /// A step of a streamed reply, for the ask's progress (the job's steps come from its wait).
    fn report(&self, start: tokio::time::Instant, state: &str, finished: bool) {
        self.progress.send_replace(Some(Progress {
            phase: Phase::WaitingForJob,
            state: state.to_owned(),
            elapsed: start.elapsed(),
            attempts: 1,
            next_delay: None,
            finished,
        }));
    }

    /// Asks for the reply as a stream, falling back without loss (see [`Delivery::Stream`]).
    async fn streamed<S: AgentRecord>(self) -> Result<Reply, Error> {
        let start = tokio::time::Instant::now();
        self.report(start, "streaming", false);
        let started = super::stream::start_reply::<S>(
            self.client.clone(),
            self.id.to_owned(),
            self.conversation_id.clone(),
            self.question.clone(),
        )
        .await;
        let stream = match started {
            Ok(Started::Stream(stream)) => stream,
            Ok(Started::Job(accepted)) => return self.job_reply::<S>(accepted).await,
            Err(e) if e.status().is_some_and(|s| STREAM_REFUSED.contains(&s)) => {
                return self.sent_as_job::<S>().await;
            }
            // The question may have been taken: never send it again.
            Err(e) if taken_maybe(&e) => return self.read_back::<S>(e).await,
            // Not sent, or refused (a credential, a rate limit, the credit cap, a server
            // error): the same error a job would get.
            Err(e) => return Err(e),
        };
        match read_reply(stream).await {
            Ok(messages) if !messages.is_empty() => {
                self.report(start, "completed", true);
                Ok(Reply {
                    conversation_id: self.conversation_id,
                    job_id: None,
                    messages,
                })
            }
            Ok(_) => {
                let empty = Error::new(ErrorKind::InvalidResponse {
                    reason: "the streamed reply ended without text or messages".into(),
                });
                self.read_back::<S>(empty).await
            }
            Err(cut) => self.read_back::<S>(cut).await,
        }
    }

    /// The reply read from the conversation after a stream that may have delivered the
    /// question: the messages after the last user message with the question's text, once one
    /// from the agent is among them. The question is never sent again. If the wait ends
    /// without it, the stream's own error is returned, with the wait's as its source.
    async fn read_back<S: AgentRecord>(self, cause: Error) -> Result<Reply, Error> {
        let status = |state: &str| Status::new(Phase::WaitingForJob, state);
        let outcome = poll(
            self.policy,
            self.policy.min_delay,
            Phase::WaitingForJob,
            self.progress,
            || async {
                let messages =
                    S::list_messages(self.client, self.id, &self.conversation_id).await?;
                let reply = reply_after(messages, &self.question);
                Ok(match reply {
                    Some(reply) => Step::Done(reply, status("completed")),
                    None => Step::Pending(status("reading the conversation")),
                })
            },
        )
        .await;
        match outcome {
            Ok(messages) => Ok(Reply {
                conversation_id: self.conversation_id,
                job_id: None,
                messages,
            }),
            // The stream's error names the conversation, where the reply may still appear.
            Err(Stopped::TimedOut { .. }) => Err(cause),
            Err(Stopped::Failed(e)) if std::error::Error::source(&cause).is_none() => {
                Err(cause.with_source(e))
            }
            Err(Stopped::Failed(_)) => Err(cause),
        }
    }
}

/// Whether a streamed request that failed may still have delivered the question: its answer
/// could not be read (cut, malformed, too large, too slow), rather than refused or never sent.
fn taken_maybe(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::InvalidResponse { .. }
        | ErrorKind::Decode { .. }
        | ErrorKind::ResponseTooLarge { .. }
        | ErrorKind::DeadlineExceeded { .. } => true,
        ErrorKind::Transport { cause } => !matches!(
            cause,
            crate::TransportCause::Connect | crate::TransportCause::ConnectTimeout
        ),
        _ => false,
    }
}

/// The messages of a streamed reply: those its `done` event carries, or, when it carries
/// none that decode, one assistant message with the streamed text.
async fn read_reply(mut stream: super::ReplyStream) -> Result<Vec<types::Message>, Error> {
    use futures_util::StreamExt;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            ReplyEvent::TextDelta { text: piece } => text.push_str(&piece),
            ReplyEvent::Done { data, .. } => {
                let carried: Option<Vec<types::Message>> = data
                    .get("messages")
                    .and_then(|m| serde_json::from_value(m.clone()).ok());
                if let Some(messages) = carried.filter(|m| !m.is_empty()) {
                    return Ok(messages);
                }
                break;
            }
            _ => {}
        }
    }
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let message = serde_json::from_value(serde_json::json!({"role": "assistant", "content": text}))
        .map_err(|e| {
            Error::new(ErrorKind::InvalidResponse {
                reason: e.to_string(),
            })
        })?;
    Ok(vec![message])
}

/// The messages after the last user message with this text, when one of them is the agent's.
fn reply_after(messages: Vec<types::Message>, question: &str) -> Option<Vec<types::Message>> {
    let asked = messages
        .iter()
        .rposition(|m| m.role == Some(MessageRole::User) && m.content == question)?;
    let after: Vec<types::Message> = messages.into_iter().skip(asked + 1).collect();
    after
        .iter()
        .any(|m| m.role.as_ref().is_none_or(|r| *r == MessageRole::Assistant))
        .then_some(after)
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

    /// Asks a deal's agent a question and waits for the reply; the same as
    /// `deal_agent(id).ask(question)` ([`Agent::ask`](super::Agent::ask)).
    ///
    /// ```no_run
    /// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
    /// let reply = client.ask_deal("9001234567", "What is the biggest risk on this deal?").await?;
    /// println!("{}", reply.text());
    /// let follow_up = client
    ///     .ask_deal("9001234567", "Who should I call first?")
    ///     .conversation(reply.conversation_id)
    ///     .await?;
    /// # let _ = follow_up; Ok(()) }
    /// ```
    pub fn ask_deal(
        &self,
        deal_id: impl Into<String>,
        question: impl Into<String>,
    ) -> Ask<types::AgentState> {
        self.deal_agent(deal_id).ask(question)
    }

    /// Asks a company's agent a question; see [`ask_deal`](Self::ask_deal).
    pub fn ask_company(
        &self,
        company_id: impl Into<String>,
        question: impl Into<String>,
    ) -> Ask<types::CompanyAgentState> {
        self.company_agent(company_id).ask(question)
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
