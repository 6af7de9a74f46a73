//! The composite jobs, each one call of the crate's own waits: the one-call ask and the agent
//! made ready, with JSON arguments named as the operations' are (`dealId` or `companyId`,
//! `cid`). Their progress is the waits' progress.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::describe::agent_ids;
use crate::{AgentRef, Error, PollPolicy, ProgressStream, hockeystack::Delivery};

/// How long a composite job waits at most, in seconds, when the call does not say.
pub(crate) const DEFAULT_WAIT_SECONDS: u64 = 300;

/// The longest wait a call may ask for, in seconds.
pub(crate) const MAX_WAIT_SECONDS: u64 = 3600;

/// How the composite jobs pace their waits (a call's `wait_seconds` sets the deadline) and
/// how the ask gets its reply.
#[derive(Debug, Clone)]
pub(crate) struct Waits {
    pub(crate) agent: PollPolicy,
    pub(crate) job: PollPolicy,
    pub(crate) delivery: Delivery,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            agent: PollPolicy::agent_provisioning(),
            job: PollPolicy::message_jobs(),
            delivery: Delivery::default(),
        }
    }
}

/// The deal or company the arguments name; exactly one of `dealId` and `companyId`.
pub(crate) fn agent_of(arguments: &Map<String, Value>) -> Result<AgentRef, Vec<String>> {
    let text = |name: &str| {
        arguments
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match (text("dealId"), text("companyId")) {
        (Some(deal), None) => Ok(AgentRef::Deal(deal)),
        (None, Some(company)) => Ok(AgentRef::Company(company)),
        (Some(_), Some(_)) => Err(vec!["arguments: give dealId or companyId, not both".into()]),
        (None, None) => Err(vec!["arguments: dealId or companyId is required".into()]),
    }
}

pub(crate) fn deadline(arguments: &Map<String, Value>) -> Duration {
    Duration::from_secs(
        arguments
            .get("wait_seconds")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_WAIT_SECONDS),
    )
}

/// Runs `$run` with the handle of the agent an [`AgentRef`] names: the one place where a
/// tool's `dealId` or `companyId` chooses the kind.
macro_rules! with_agent {
    ($client:expr, $agent:expr, |$handle:ident| $run:expr) => {
        match $agent {
            AgentRef::Deal(id) => {
                let $handle = $client.deal_agent(id.as_str());
                $run
            }
            AgentRef::Company(id) => {
                let $handle = $client.company_agent(id.as_str());
                $run
            }
        }
    };
}
#[cfg(feature = "cli")]
pub(crate) use with_agent;

/// Asks the agent and waits for the answer. `watch` receives the wait's progress.
pub(crate) async fn ask(
    client: &crate::hockeystack::Client,
    agent: AgentRef,
    arguments: &Map<String, Value>,
    waits: &Waits,
    watch: impl FnOnce(ProgressStream),
) -> Result<Value, Error> {
    let question = arguments
        .get("question")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let cid = arguments.get("cid").and_then(Value::as_str);
    let wait = deadline(arguments);
    let reply = with_agent!(client, &agent, |handle| {
        let mut ask = handle
            .ask(question)
            .agent_policy(waits.agent.clone().deadline(wait))
            .job_policy(waits.job.clone().deadline(wait))
            .delivery(waits.delivery);
        if let Some(cid) = cid {
            ask = ask.conversation(cid);
        }
        watch(ask.progress());
        ask.await?
    });
    let mut answer = agent_ids(&agent);
    answer.insert("answer".into(), json!(reply.text()));
    answer.insert("cid".into(), json!(reply.conversation_id));
    // A streamed reply has no job.
    if let Some(job) = &reply.job_id {
        answer.insert("jobId".into(), json!(job));
    }
    answer.insert(
        "messages".into(),
        serde_json::to_value(&reply.messages).unwrap_or(Value::Null),
    );
    Ok(Value::Object(answer))
}

/// Makes sure the agent is active and returns it.
pub(crate) async fn ensure(
    client: &crate::hockeystack::Client,
    agent: AgentRef,
    arguments: &Map<String, Value>,
    waits: &Waits,
    watch: impl FnOnce(ProgressStream),
) -> Result<Value, Error> {
    let policy = waits.agent.clone().deadline(deadline(arguments));
    let state = with_agent!(client, &agent, |handle| {
        let ensure = handle.ensure().policy(policy);
        watch(ensure.progress());
        serde_json::to_value(ensure.await?)
    });
    Ok(state.unwrap_or(Value::Null))
}
