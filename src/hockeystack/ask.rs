//! The one call that asks an agent a question: make sure the agent is active, open a
//! conversation, send, and read the reply as it is streamed or wait for its job, handing out
//! the reply's text as it arrives to whoever asks for it ([`Ask::stream`]).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::{Stream, future::BoxFuture};
use tokio::sync::{mpsc, watch};

use super::{
    AgentRecord, Client, MessageRole, ReplyEvent,
    messages::{Reply, fetch_job, wait_for_job},
    ready::ReadyAgents,
    stream::Started,
    types,
};
use crate::{
    error::{Error, ErrorKind, JobRef, TransportCause},
    poll::{Phase, PollPolicy, Progress, ProgressStream, Status, Step, Stopped, poll},
};

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
///
/// Await it for the [`Reply`], or turn it into a [`stream`](Self::stream) to get the reply's
/// text as it arrives as well; both keep every guarantee of [`Delivery`].
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
    /// the checks of the conversation. Its deadline bounds the whole reply, a streamed one
    /// included (counted from when the question is sent). Default
    /// [`PollPolicy::message_jobs`].
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

    /// The ask as a stream: the reply's text piece by piece as it arrives
    /// ([`AskEvent::Text`]), then the whole [`Reply`] ([`AskEvent::Reply`]), or an error.
    ///
    /// Whatever way the reply comes, the pieces joined are [`Reply::text`]: a streamed reply
    /// hands out its pieces as they are written; a reply waited for as a job, or read back
    /// from the conversation after a cut stream, hands out what the pieces so far lack. In the
    /// rare case that the stored reply does not begin with the pieces already handed out,
    /// [`AskEvent::Restart`] says so and the whole text follows. Dropping the stream stops the
    /// ask.
    ///
    /// ```no_run
    /// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
    /// use futures_util::StreamExt;
    /// use revenue_agents::hockeystack::AskEvent;
    ///
    /// let mut ask = client.ask_deal("9001234567", "What is blocking this deal?").stream();
    /// while let Some(event) = ask.next().await {
    ///     match event? {
    ///         AskEvent::Text(piece) => print!("{piece}"),
    ///         AskEvent::Restart => println!("\n(the reply as stored:)"),
    ///         AskEvent::Reply(reply) => println!("\n(conversation {})", reply.conversation_id),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> AskStream {
        let (sender, events) = mpsc::unbounded_channel();
        let inner = self.client.inner.clone();
        let text = TextOut::to(sender);
        AskStream {
            events,
            run: Some(Box::pin(async move {
                ask(self, text).await.map_err(|e| inner.guard(e))
            })),
            outcome: None,
        }
    }
}

impl<S: AgentRecord> IntoFuture for Ask<S> {
    type Output = Result<Reply, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let inner = self.client.inner.clone();
            ask(self, TextOut::nowhere())
                .await
                .map_err(|e| inner.guard(e))
        })
    }
}

/// What an [`AskStream`] hands out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AskEvent {
    /// The next piece of the reply's text.
    Text(String),
    /// The pieces handed out so far are not the start of the reply as it was stored (a
    /// streamed reply was cut, and the conversation holds another text): the whole text
    /// follows as new pieces.
    Restart,
    /// The reply, complete: the last event.
    Reply(Reply),
}

/// An [`Ask`] as a stream of [`AskEvent`]s; see [`Ask::stream`].
#[must_use = "streams do nothing unless polled"]
pub struct AskStream {
    events: mpsc::UnboundedReceiver<AskEvent>,
    /// The ask itself, until it ends.
    run: Option<BoxFuture<'static, Result<Reply, Error>>>,
    /// How it ended, handed out once every piece before it was.
    outcome: Option<Result<Reply, Error>>,
}

impl std::fmt::Debug for AskStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AskStream")
            .field("running", &self.run.is_some())
            .finish_non_exhaustive()
    }
}

impl Stream for AskStream {
    type Item = Result<AskEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            // Pieces first: the ask only goes on once everything it produced is taken.
            if let Poll::Ready(Some(event)) = this.events.poll_recv(cx) {
                return Poll::Ready(Some(Ok(event)));
            }
            let Some(run) = this.run.as_mut() else {
                return Poll::Ready(
                    this.outcome
                        .take()
                        .map(|outcome| outcome.map(AskEvent::Reply)),
                );
            };
            match run.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(outcome) => {
                    // Dropping the ask drops its sender: the pieces left are read, then the end.
                    this.run = None;
                    this.outcome = Some(outcome);
                }
            }
        }
    }
}

/// Where an ask's text goes, and how much of it went: the pieces of a streamed reply as they
/// come, and at the end whatever the reply holds beyond them.
struct TextOut {
    sender: Option<mpsc::UnboundedSender<AskEvent>>,
    sent: String,
}

impl TextOut {
    fn to(sender: mpsc::UnboundedSender<AskEvent>) -> Self {
        Self {
            sender: Some(sender),
            sent: String::new(),
        }
    }

    /// Nobody reads the text: nothing is kept.
    fn nowhere() -> Self {
        Self {
            sender: None,
            sent: String::new(),
        }
    }

    fn piece(&mut self, piece: &str) {
        if let Some(sender) = &self.sender
            && !piece.is_empty()
        {
            self.sent.push_str(piece);
            let _ = sender.send(AskEvent::Text(piece.to_owned()));
        }
    }

    /// Hands out what the reply's text holds beyond the pieces sent, or all of it again after
    /// a [`AskEvent::Restart`] when it does not begin with them.
    fn finish(&mut self, reply: &Reply) {
        let Some(sender) = &self.sender else {
            return;
        };
        let whole = reply.text();
        let rest = match whole.strip_prefix(self.sent.as_str()) {
            Some(rest) => rest.to_owned(),
            None => {
                let _ = sender.send(AskEvent::Restart);
                self.sent.clear();
                whole
            }
        };
        self.piece(&rest);
    }
}

async fn ask<S: AgentRecord>(ask: Ask<S>, mut text: TextOut) -> Result<Reply, Error> {
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
        text: &mut text,
        start: tokio::time::Instant::now(),
    };
    let reply = match ask.delivery {
        Delivery::Job => turn.sent_as_job::<S>().await,
        Delivery::Stream => turn.streamed::<S>().await,
    }?;
    text.finish(&reply);
    Ok(reply)
}

/// One question sent into one conversation, and how to wait for its reply.
struct Turn<'a> {
    client: &'a Client,
    id: &'a str,
    conversation_id: String,
    question: String,
    policy: &'a PollPolicy,
    progress: &'a watch::Sender<Option<Progress>>,
    text: &'a mut TextOut,
    /// When the question went out: the policy's deadline counts from here.
    start: tokio::time::Instant,
}

/// Statuses with which a server refuses a streamed message before storing anything, so that
/// sending it again as a job cannot make it twice.
const STREAM_REFUSED: [u16; 5] = [400, 405, 406, 415, 501];

impl Turn<'_> {
    /// The job policy with the time this turn has left of its deadline.
    fn remaining_policy(&self) -> PollPolicy {
        match self.policy.deadline {
            Some(deadline) => self
                .policy
                .clone()
                .deadline(deadline.saturating_sub(self.start.elapsed())),
            None => self.policy.clone(),
        }
    }

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
        let policy = self.remaining_policy();
        let messages = wait_for_job(&policy, self.progress, &scrub, &job, || {
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
    fn report(&self, state: &str, finished: bool) {
        self.progress.send_replace(Some(Progress {
            phase: Phase::WaitingForJob,
            state: state.to_owned(),
            elapsed: self.start.elapsed(),
            attempts: 1,
            next_delay: None,
            finished,
        }));
    }

    /// Asks for the reply as a stream, falling back without loss (see [`Delivery::Stream`]).
    async fn streamed<S: AgentRecord>(self) -> Result<Reply, Error> {
        self.report("streaming", false);
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
        let stream = match self.remaining_policy().deadline {
            Some(left) => stream.total_timeout(left),
            None => stream,
        };
        match read_reply(stream, self.text).await {
            Ok(messages) if !messages.is_empty() => {
                self.report("completed", true);
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
        let policy = self.remaining_policy();
        let outcome = poll(
            &policy,
            policy.min_delay,
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
            TransportCause::Connect | TransportCause::ConnectTimeout
        ),
        _ => false,
    }
}

/// The messages of a streamed reply: those its `done` event carries, or, when it carries
/// none that decode, one assistant message with the streamed text. Each piece of text is
/// handed to `text` as it arrives.
async fn read_reply(
    mut stream: super::ReplyStream,
    text_out: &mut TextOut,
) -> Result<Vec<types::Message>, Error> {
    use futures_util::StreamExt;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            ReplyEvent::TextDelta { text: piece } => {
                text_out.piece(&piece);
                text.push_str(&piece);
            }
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
    use super::*;

    fn reply(messages: serde_json::Value) -> Reply {
        Reply {
            conversation_id: "c".into(),
            job_id: None,
            messages: serde_json::from_value(messages).unwrap(),
        }
    }

    fn taken(events: &mut mpsc::UnboundedReceiver<AskEvent>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(event) = events.try_recv() {
            out.push(match event {
                AskEvent::Text(piece) => piece,
                AskEvent::Restart => "<restart>".into(),
                AskEvent::Reply(_) => "<reply>".into(),
            });
        }
        out
    }

    #[test]
    fn a_reply_that_continues_the_pieces_hands_out_only_what_they_lack() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let mut text = TextOut::to(sender);
        text.piece("The champion ");
        text.finish(&reply(
            serde_json::json!([{"role": "assistant", "content": "The champion went quiet."}]),
        ));
        assert_eq!(taken(&mut events), ["The champion ", "went quiet."]);
    }

    #[test]
    fn a_stored_reply_other_than_the_pieces_restarts_the_text() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let mut text = TextOut::to(sender);
        text.piece("Half a tho");
        text.finish(&reply(
            serde_json::json!([{"role": "assistant", "content": "A whole thought."}]),
        ));
        assert_eq!(
            taken(&mut events),
            ["Half a tho", "<restart>", "A whole thought."]
        );
    }

    #[test]
    fn a_job_reply_is_handed_out_whole_and_a_complete_stream_adds_nothing() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let whole = reply(serde_json::json!([{"role": "assistant", "content": "All of it."}]));
        TextOut::to(sender.clone()).finish(&whole);
        assert_eq!(taken(&mut events), ["All of it."]);
        let mut streamed = TextOut::to(sender);
        streamed.piece("All of it.");
        streamed.finish(&whole);
        assert_eq!(taken(&mut events), ["All of it."]);
    }
}
