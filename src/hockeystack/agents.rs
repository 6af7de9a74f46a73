//! A deal's or a company's agent as one owned handle. The two kinds differ only in their
//! types, id parameter and operations, which [`AgentRecord`] states once for each; every
//! agent call (ensure, ask, stream, wait) is written once over it.

use futures_core::future::BoxFuture;

use super::{
    AgentStatus, Ask, Client, EnsureAgent, ReplyStream, WaitForJob, stream::stream_reply, types,
};
use crate::error::{AgentRef, Error, JobRef};

/// An agent's state answer, deal or company: [`types::AgentState`] or
/// [`types::CompanyAgentState`], and nothing else.
pub trait AgentRecord: sealed::Sealed + Sized + Send + 'static {
    /// The agent's status.
    fn status(&self) -> &AgentStatus;
    /// Why the last provisioning run failed, when it did.
    fn failure(&self) -> Option<&str>;
    #[doc(hidden)]
    fn agent_ref(id: &str) -> AgentRef;
    /// The id parameter's name in the spec's paths (`dealId`).
    #[doc(hidden)]
    const ID_PARAMETER: &'static str;
    /// The operation that sends a message (`send_deal_message`).
    #[doc(hidden)]
    const SEND_MESSAGE: &'static str;
    /// Checks an id as the generated calls do.
    #[doc(hidden)]
    fn check_id(id: &str) -> Result<(), String>;
    #[doc(hidden)]
    fn start(client: &Client, id: &str) -> BoxFuture<'static, Result<Self, Error>>;
    #[doc(hidden)]
    fn fetch(client: &Client, id: &str) -> BoxFuture<'static, Result<Self, Error>>;
    #[doc(hidden)]
    fn open_conversation(client: &Client, id: &str) -> BoxFuture<'static, Result<String, Error>>;
    #[doc(hidden)]
    fn send_message(
        client: &Client,
        id: &str,
        conversation_id: &str,
        message: String,
    ) -> BoxFuture<'static, Result<types::MessageJobAccepted, Error>>;
    #[doc(hidden)]
    fn fetch_job(
        client: &Client,
        id: &str,
        conversation_id: &str,
        job_id: &str,
    ) -> BoxFuture<'static, Result<types::MessageJob, Error>>;
    /// Every message of one of the agent's conversations, oldest first.
    #[doc(hidden)]
    fn list_messages(
        client: &Client,
        id: &str,
        conversation_id: &str,
    ) -> BoxFuture<'static, Result<Vec<types::Message>, Error>>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::types::AgentState {}
    impl Sealed for super::types::CompanyAgentState {}
}

/// The one place where deal and company agents differ.
macro_rules! agent_record {
    (
        $state:ty, $variant:ident, $id_type:ty, $id:ident, $id_parameter:literal,
        $start:ident, $fetch:ident, $open:ident, $send:ident, $job:ident, $messages:ident
    ) => {
        impl AgentRecord for $state {
            fn status(&self) -> &AgentStatus {
                &self.status
            }
            fn failure(&self) -> Option<&str> {
                self.error.as_deref()
            }
            fn agent_ref(id: &str) -> AgentRef {
                AgentRef::$variant(id.to_owned())
            }
            const ID_PARAMETER: &'static str = $id_parameter;
            const SEND_MESSAGE: &'static str = stringify!($send);
            fn check_id(id: &str) -> Result<(), String> {
                <$id_type>::try_from(id)
                    .map(drop)
                    .map_err(|e| format!("{}: {e}", stringify!($id)))
            }
            fn start(client: &Client, id: &str) -> BoxFuture<'static, Result<Self, Error>> {
                let call = client.$start().$id(id);
                Box::pin(async move { Ok(call.send().await?.into_inner()) })
            }
            fn fetch(client: &Client, id: &str) -> BoxFuture<'static, Result<Self, Error>> {
                let call = client.$fetch().$id(id);
                Box::pin(async move { Ok(call.send().await?.into_inner()) })
            }
            fn open_conversation(
                client: &Client,
                id: &str,
            ) -> BoxFuture<'static, Result<String, Error>> {
                let call = client.$open().$id(id);
                Box::pin(async move { Ok(call.send().await?.into_inner().conversation_id) })
            }
            fn send_message(
                client: &Client,
                id: &str,
                conversation_id: &str,
                message: String,
            ) -> BoxFuture<'static, Result<types::MessageJobAccepted, Error>> {
                let call = client
                    .$send()
                    .$id(id)
                    .cid(conversation_id)
                    .body(types::SendMessageRequest::builder().message(message));
                Box::pin(async move { Ok(call.send().await?.into_inner()) })
            }
            fn fetch_job(
                client: &Client,
                id: &str,
                conversation_id: &str,
                job_id: &str,
            ) -> BoxFuture<'static, Result<types::MessageJob, Error>> {
                let call = client.$job().$id(id).cid(conversation_id).job_id(job_id);
                Box::pin(async move { Ok(call.send().await?.into_inner()) })
            }
            fn list_messages(
                client: &Client,
                id: &str,
                conversation_id: &str,
            ) -> BoxFuture<'static, Result<Vec<types::Message>, Error>> {
                use crate::paginate::Paginated;
                use futures_util::TryStreamExt;
                let list = client.$messages().$id(id).cid(conversation_id);
                Box::pin(async move { list.items().try_collect().await })
            }
        }
    };
}

agent_record!(
    types::AgentState,
    Deal,
    types::DealId,
    deal_id,
    "dealId",
    init_deal_agent,
    get_deal_agent,
    create_deal_conversation,
    send_deal_message,
    get_deal_message_job,
    list_deal_conversation_messages
);
agent_record!(
    types::CompanyAgentState,
    Company,
    types::CompanyId,
    company_id,
    "companyId",
    init_company_agent,
    get_company_agent,
    create_company_conversation,
    send_company_message,
    get_company_message_job,
    list_company_conversation_messages
);

/// The agent of one deal ([`Client::deal_agent`]) or one company ([`Client::company_agent`]).
/// It owns a clone of its client (which shares connections and limits), so it and every
/// future it returns can be moved into a task.
///
/// ```no_run
/// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
/// use futures_util::StreamExt;
/// use revenue_agents::hockeystack::ReplyEvent;
///
/// let agent = client.deal_agent("9001234567");
/// let state = agent.ensure().await?; // provisions it if needed, and waits until active
/// println!("agent {:?} is {}", state.agent_id, state.status);
///
/// let reply = agent.ask("What is the biggest risk on this deal?").await?;
/// println!("{}", reply.text());
///
/// // The same conversation, streamed as it is written.
/// let mut events = agent.stream_reply(&reply.conversation_id, "Who should I call first?").await?;
/// while let Some(event) = events.next().await {
///     if let ReplyEvent::TextDelta { text } = event? {
///         print!("{text}");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Agent<S> {
    client: Client,
    id: String,
    record: std::marker::PhantomData<fn() -> S>,
}

impl<S: AgentRecord> Agent<S> {
    /// The deal's or company's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The agent as errors and job references name it.
    pub fn to_ref(&self) -> AgentRef {
        S::agent_ref(&self.id)
    }

    /// Makes sure the agent is active: starts provisioning (a 409 means the agent exists),
    /// polls until it is `active`, and restarts a failed run up to
    /// [`max_provisioning_runs`](EnsureAgent::max_provisioning_runs) times.
    pub fn ensure(&self) -> EnsureAgent<S> {
        EnsureAgent::new(self.client.clone(), self.id.clone())
    }

    /// Asks the agent a question and waits for the reply: makes sure the agent is active,
    /// opens a conversation (unless [`Ask::conversation`] names one), sends the question and
    /// waits for the job. The reply carries the conversation id for follow-ups.
    pub fn ask(&self, question: impl Into<String>) -> Ask<S> {
        Ask::new(self.client.clone(), self.id.clone(), question.into())
    }

    /// Sends a message to one of the agent's conversations and streams the reply as it is
    /// produced, instead of polling a job. An HTTP error comes back here, before any event.
    pub fn stream_reply(
        &self,
        conversation_id: impl Into<String>,
        message: impl Into<String>,
    ) -> BoxFuture<'static, Result<ReplyStream, Error>> {
        Box::pin(stream_reply::<S>(
            self.client.clone(),
            self.id.clone(),
            conversation_id.into(),
            message.into(),
        ))
    }

    /// Opens a conversation with the agent and returns its id. The agent must be active.
    pub fn open_conversation(&self) -> BoxFuture<'static, Result<String, Error>> {
        S::open_conversation(&self.client, &self.id)
    }

    /// Waits for one of the agent's message jobs to finish and returns the reply's messages.
    pub fn wait_for_job(
        &self,
        conversation_id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> WaitForJob {
        self.client.wait_for_job(JobRef {
            agent: self.to_ref(),
            conversation_id: conversation_id.into(),
            job_id: job_id.into(),
        })
    }
}

impl Client {
    /// The agent of a deal in the connected CRM.
    pub fn deal_agent(&self, deal_id: impl Into<String>) -> Agent<types::AgentState> {
        self.agent(deal_id.into())
    }

    /// The agent of a company (account) in the connected CRM.
    pub fn company_agent(&self, company_id: impl Into<String>) -> Agent<types::CompanyAgentState> {
        self.agent(company_id.into())
    }

    fn agent<S: AgentRecord>(&self, id: String) -> Agent<S> {
        Agent {
            client: self.clone(),
            id,
            record: std::marker::PhantomData,
        }
    }

    /// Makes sure the deal's agent is active; the same as `deal_agent(id).ensure()`
    /// ([`Agent::ensure`]).
    pub fn ensure_deal_agent(&self, deal_id: impl Into<String>) -> EnsureAgent<types::AgentState> {
        self.deal_agent(deal_id).ensure()
    }

    /// Makes sure the company's agent is active; the same as `company_agent(id).ensure()`.
    pub fn ensure_company_agent(
        &self,
        company_id: impl Into<String>,
    ) -> EnsureAgent<types::CompanyAgentState> {
        self.company_agent(company_id).ensure()
    }
}
