//! The composite jobs, stated once as data: the one-call ask, the agent made ready and the
//! message job waited for. Each is one call of the library's own waits, so every door gets the
//! library's guarantees, defaults and progress; the command-line tool's commands and the MCP
//! server's tools are built from [`JOBS`] as they are from the operation model. Arguments are
//! named as the operations' are (`dealId` or `companyId`, `cid`, `jobId`), and take their
//! schemas from the operations that carry them.

use std::{pin::Pin, time::Duration};

use futures_core::Stream;
use futures_util::{StreamExt, stream};
use serde_json::{Map, Value, json};

use super::{Service, argument_schema, describe::agent_ids};
use crate::{
    error::{AgentRef, Error, JobRef},
    hockeystack::{Agent, AgentRecord, AskEvent, Client, Delivery, Reply},
    poll::{PollPolicy, ProgressStream},
};

/// The longest wait a call may ask for, in seconds.
pub(crate) const MAX_WAIT_SECONDS: u64 = 3600;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    AskAgent,
    EnsureAgent,
    WaitForJob,
}

/// Which of the library's waits a job runs, and so what its `wait_seconds` bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pacing {
    /// The agent's provisioning.
    Agent,
    /// A reply's job.
    Reply,
    /// The agent's provisioning, then the reply.
    AgentThenReply,
}

/// Where an argument's schema comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ArgumentSchema {
    /// An operation's argument as the model states it: (operation id, argument).
    Of(&'static str, &'static str),
    /// Seconds a wait may take at most (1 to [`MAX_WAIT_SECONDS`]).
    WaitSeconds,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// One argument of a job.
#[derive(Debug)]
pub(crate) struct JobArgument {
    pub(crate) name: &'static str,
    pub(crate) schema: ArgumentSchema,
    /// What it is, for a person and for an assistant. A wait's help is written from the
    /// job's pacing, with the library's figures.
    pub(crate) help: &'static str,
    /// Its value when left out, as JSON text; `None` when leaving it out means something of its
    /// own (a new conversation, the library's wait).
    pub(crate) default: Option<&'static str>,
    pub(crate) required: bool,
    /// Given on the command line as a word of its own rather than a flag.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) positional: bool,
}

/// One composite job.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) kind: JobKind,
    /// Its name: the MCP tool is `hockeystack_<name>`, and the command has it as an alias
    /// (`ask-agent`).
    pub(crate) name: &'static str,
    /// The spec's tag it belongs with: its MCP toolset.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) tag: &'static str,
    /// Where the command-line tool puts it under `hockeystack`.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) command: &'static [&'static str],
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) arguments: &'static [JobArgument],
    /// Exactly one of these arguments is given.
    pub(crate) exactly_one_of: &'static [&'static str],
    /// The operations that change something it may call: whether it writes (a read-only MCP
    /// server leaves it out) and what a person is asked before it runs follow from them.
    pub(crate) writes_with: &'static [&'static str],
    /// Whether running it twice has the effect of running it once.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) idempotent: bool,
    pub(crate) pacing: Pacing,
    /// Whether it hands out the reply's text as it arrives.
    pub(crate) gives_text: bool,
}

const DEAL: JobArgument = JobArgument {
    name: "dealId",
    schema: ArgumentSchema::Of("send_deal_message", "dealId"),
    help: "The deal whose agent to use (a CRM deal id). Name the deal or the company, not both.",
    default: None,
    required: false,
    positional: false,
};

const COMPANY: JobArgument = JobArgument {
    name: "companyId",
    schema: ArgumentSchema::Of("send_company_message", "companyId"),
    help: "The company whose agent to use (a CRM company id). Name the deal or the company, not both.",
    default: None,
    required: false,
    positional: false,
};

const WAIT: JobArgument = JobArgument {
    name: "wait_seconds",
    schema: ArgumentSchema::WaitSeconds,
    help: "",
    default: None,
    required: false,
    positional: false,
};

/// HockeyStack's composite jobs.
pub(crate) static JOBS: &[Job] = &[
    Job {
        kind: JobKind::AskAgent,
        name: "ask_agent",
        tag: "Conversations",
        command: &["ask"],
        title: "Ask a deal's or company's agent a question",
        description: "Makes sure the agent is active (provisioning it when there is none, \
            which takes minutes), opens a conversation unless cid names one, sends the question \
            once and reads the reply as it is streamed. A stream the service refuses is sent as \
            a job and waited for; a stream cut after the question was taken is never sent again: \
            the reply is read back from the conversation. The answer holds dealId or companyId, \
            cid, jobId (null when the reply was streamed), answer (the reply's text) and \
            messages; give the cid again to continue the conversation.",
        arguments: &[
            DEAL,
            COMPANY,
            JobArgument {
                name: "question",
                schema: ArgumentSchema::Of("send_deal_message", "message"),
                help: "The question, in plain language.",
                default: None,
                required: true,
                positional: true,
            },
            JobArgument {
                name: "cid",
                schema: ArgumentSchema::Of("send_deal_message", "cid"),
                help: "A conversation to continue (the cid an earlier answer gave); a new one \
                    is opened when left out. With a conversation given, the agent is taken to be \
                    active and no provisioning is asked for.",
                default: None,
                required: false,
                positional: false,
            },
            JobArgument {
                name: "delivery",
                schema: ArgumentSchema::OneOf(&["stream", "job"]),
                help: "How the reply comes: stream reads it as it is written; job sends the \
                    question as a job and polls it.",
                default: Some("\"stream\""),
                required: false,
                positional: false,
            },
            WAIT,
        ],
        exactly_one_of: &["dealId", "companyId"],
        writes_with: &[
            "init_deal_agent",
            "init_company_agent",
            "create_deal_conversation",
            "create_company_conversation",
            "send_deal_message",
            "send_company_message",
        ],
        idempotent: false,
        pacing: Pacing::AgentThenReply,
        gives_text: true,
    },
    Job {
        kind: JobKind::EnsureAgent,
        name: "ensure_agent",
        tag: "Agents",
        command: &["agents", "ensure"],
        title: "Make sure a deal's or company's agent is active",
        description: "Starts provisioning when there is no agent (it usually takes 3 to 8 \
            minutes), restarts a failed run, and waits until the agent is active. Returns the \
            agent.",
        arguments: &[DEAL, COMPANY, WAIT],
        exactly_one_of: &["dealId", "companyId"],
        writes_with: &["init_deal_agent", "init_company_agent"],
        idempotent: true,
        pacing: Pacing::Agent,
        gives_text: false,
    },
    Job {
        kind: JobKind::WaitForJob,
        name: "wait_for_job",
        tag: "Conversations",
        command: &["jobs", "wait"],
        title: "Wait for a message job to finish",
        description: "Waits for the job a message's 202 answer named. The answer holds dealId \
            or companyId, cid, jobId, answer (the reply's text) and messages, as the ask's does. \
            A failed job and one past its retention window are errors of their own.",
        arguments: &[
            DEAL,
            COMPANY,
            JobArgument {
                name: "cid",
                schema: ArgumentSchema::Of("get_deal_message_job", "cid"),
                help: "The conversation the message was sent to.",
                default: None,
                required: true,
                positional: false,
            },
            JobArgument {
                name: "jobId",
                schema: ArgumentSchema::Of("get_deal_message_job", "jobId"),
                help: "The job the message's 202 answer named.",
                default: None,
                required: true,
                positional: false,
            },
            WAIT,
        ],
        exactly_one_of: &["dealId", "companyId"],
        writes_with: &[],
        idempotent: true,
        pacing: Pacing::Reply,
        gives_text: false,
    },
];

/// How the jobs pace their waits: the library's policies unless a server was given others. A
/// call's `wait_seconds` replaces their deadlines.
#[derive(Debug, Clone)]
pub(crate) struct Waits {
    pub(crate) agent: PollPolicy,
    pub(crate) job: PollPolicy,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            agent: PollPolicy::agent_provisioning(),
            job: PollPolicy::message_jobs(),
        }
    }
}

impl Waits {
    /// The policies with a call's `wait_seconds` as their deadline, when it gives one.
    fn bounded(&self, arguments: &Map<String, Value>) -> Waits {
        match arguments.get(WAIT.name).and_then(Value::as_u64) {
            Some(seconds) => {
                let limit = Duration::from_secs(seconds.min(MAX_WAIT_SECONDS));
                Waits {
                    agent: self.agent.clone().deadline(limit),
                    job: self.job.clone().deadline(limit),
                }
            }
            None => self.clone(),
        }
    }
}

/// Whole seconds of a policy's deadline, for help texts.
fn seconds(policy: &PollPolicy) -> String {
    policy
        .deadline
        .map_or_else(|| "no limit".to_owned(), |d| format!("{} s", d.as_secs()))
}

impl Job {
    /// The job of this name.
    #[cfg(test)]
    pub(crate) fn named(name: &str) -> Option<&'static Job> {
        JOBS.iter().find(|job| job.name == name)
    }

    /// How long it may wait in all: a call's `wait_seconds` for each of its waits, or the
    /// policies' deadlines; `None` when a wait has no deadline.
    #[cfg(feature = "mcp")]
    pub(crate) fn longest_wait(
        &self,
        waits: &Waits,
        arguments: &Map<String, Value>,
    ) -> Option<Duration> {
        let waits = waits.bounded(arguments);
        match self.pacing {
            Pacing::Agent => waits.agent.deadline,
            Pacing::Reply => waits.job.deadline,
            Pacing::AgentThenReply => Some(waits.agent.deadline? + waits.job.deadline?),
        }
    }

    /// Whether it changes anything.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) fn writes(&self) -> bool {
        !self.writes_with.is_empty()
    }

    /// The gravest thing the operations it may call do that cannot be taken back.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) fn consequence(&self) -> Option<crate::model::Consequence> {
        self.writes_with
            .iter()
            .filter_map(|id| crate::model::find(self.service().operations(), id))
            .filter_map(crate::model::Operation::consequence)
            .max()
    }

    /// The API it belongs to.
    pub(crate) fn service(&self) -> Service {
        Service::HockeyStack
    }

    /// What its `wait_seconds` says, with the library's figures.
    fn wait_help(&self) -> String {
        let waits = Waits::default();
        let agent = format!(
            "{}, checked 5 s after it starts and then less often",
            seconds(&waits.agent)
        );
        let reply = format!(
            "{}, checked 1 s after the question and then less often",
            seconds(&waits.job)
        );
        let (what, default) = match self.pacing {
            Pacing::Agent => ("for the agent to be active", agent),
            Pacing::Reply => ("for the reply", reply),
            Pacing::AgentThenReply => (
                "for each wait: the agent, then the reply",
                format!("{agent} for the agent; {reply} for the reply"),
            ),
        };
        format!(
            "How long to wait at most, in seconds, {what}. By default the library's own waits: \
             {default}."
        )
    }

    /// The help of one argument.
    pub(crate) fn help(&self, argument: &JobArgument) -> String {
        match argument.schema {
            ArgumentSchema::WaitSeconds => self.wait_help(),
            _ => argument.help.to_owned(),
        }
    }

    /// One argument's JSON Schema, with its help as its description and its default.
    pub(crate) fn argument_schema(&self, argument: &JobArgument) -> Result<Value, String> {
        let mut schema = match argument.schema {
            ArgumentSchema::Of(operation, name) => {
                let model = self.service().operation(operation)?;
                argument_schema(model)?
                    .pointer(&format!("/properties/{name}"))
                    .cloned()
                    .ok_or_else(|| format!("{operation} has no argument {name}"))?
            }
            ArgumentSchema::WaitSeconds => {
                json!({"type": "integer", "minimum": 1, "maximum": MAX_WAIT_SECONDS})
            }
            ArgumentSchema::OneOf(words) => json!({"type": "string", "enum": words}),
        };
        let Value::Object(members) = &mut schema else {
            return Err(format!(
                "{}: the schema of {} is no object",
                self.name, argument.name
            ));
        };
        members.insert("description".into(), json!(self.help(argument)));
        if let Some(default) = argument.default {
            let default: Value = serde_json::from_str(default)
                .map_err(|e| format!("{}: the default of {}: {e}", self.name, argument.name))?;
            members.insert("default".into(), default);
        }
        Ok(schema)
    }

    /// The JSON Schema of its arguments.
    pub(crate) fn schema(&self) -> Result<Value, String> {
        let mut properties = Map::new();
        for argument in self.arguments {
            properties.insert(argument.name.into(), self.argument_schema(argument)?);
        }
        let required: Vec<&str> = self
            .arguments
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect();
        let mut schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        Ok(schema)
    }

    /// Starts the job with arguments checked against [`schema`](Self::schema): its progress
    /// goes to `watch`, and what it hands out comes back as a stream, its answer last. Arguments
    /// that do not name exactly one agent, or a question without text, are refused with
    /// every problem.
    pub(crate) fn start(
        &self,
        client: &Client,
        arguments: &Map<String, Value>,
        waits: &Waits,
        watch: impl FnOnce(ProgressStream),
    ) -> Result<Running, Vec<String>> {
        let agent = self.agent(arguments)?;
        let waits = waits.bounded(arguments);
        match agent {
            AgentRef::Deal(id) => self.start_with(client.deal_agent(id), arguments, waits, watch),
            AgentRef::Company(id) => {
                self.start_with(client.company_agent(id), arguments, waits, watch)
            }
        }
    }

    /// The deal or company the arguments name: exactly one of [`exactly_one_of`](Self::exactly_one_of).
    fn agent(&self, arguments: &Map<String, Value>) -> Result<AgentRef, Vec<String>> {
        let given: Vec<(&str, &str)> = self
            .exactly_one_of
            .iter()
            .filter_map(|name| Some((*name, arguments.get(*name)?.as_str()?)))
            .collect();
        match given.as_slice() {
            [("dealId", id)] => Ok(AgentRef::Deal((*id).to_owned())),
            [("companyId", id)] => Ok(AgentRef::Company((*id).to_owned())),
            [] => Err(vec![format!(
                "arguments: {} is required",
                self.exactly_one_of.join(" or ")
            )]),
            _ => Err(vec![format!(
                "arguments: give one of {}, not several",
                self.exactly_one_of.join(", ")
            )]),
        }
    }

    fn start_with<S: AgentRecord + serde::Serialize>(
        &self,
        agent: Agent<S>,
        arguments: &Map<String, Value>,
        waits: Waits,
        watch: impl FnOnce(ProgressStream),
    ) -> Result<Running, Vec<String>> {
        let text = |name: &str| {
            arguments
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let owner = agent_ids(&agent.to_ref());
        Ok(match self.kind {
            JobKind::AskAgent => {
                let question = text("question").unwrap_or_default();
                if question.trim().is_empty() {
                    return Err(vec!["question: is empty".into()]);
                }
                let delivery = match text("delivery").as_deref() {
                    Some("job") => Delivery::Job,
                    _ => Delivery::Stream,
                };
                let mut ask = agent
                    .ask(question)
                    .agent_policy(waits.agent)
                    .job_policy(waits.job)
                    .delivery(delivery);
                if let Some(cid) = text("cid") {
                    ask = ask.conversation(cid);
                }
                watch(ask.progress());
                Box::pin(ask.stream().map(move |event| {
                    event.map(|event| match event {
                        AskEvent::Text(piece) => JobEvent::Text(piece),
                        AskEvent::Restart => JobEvent::Restart,
                        AskEvent::Reply(reply) => {
                            JobEvent::Answer(reply_answer(owner.clone(), &reply))
                        }
                    })
                }))
            }
            JobKind::EnsureAgent => {
                let ensure = agent.ensure().policy(waits.agent);
                watch(ensure.progress());
                once(async move { Ok(serde_json::to_value(ensure.await?).unwrap_or(Value::Null)) })
            }
            JobKind::WaitForJob => {
                let job = JobRef {
                    agent: agent.to_ref(),
                    conversation_id: text("cid").unwrap_or_default(),
                    job_id: text("jobId").unwrap_or_default(),
                };
                let wait = agent
                    .wait_for_job(job.conversation_id.clone(), job.job_id.clone())
                    .policy(waits.job);
                watch(wait.progress());
                once(async move {
                    let messages = wait.await?;
                    Ok(reply_answer(
                        owner,
                        &Reply {
                            conversation_id: job.conversation_id,
                            job_id: Some(job.job_id),
                            messages,
                        },
                    ))
                })
            }
        })
    }
}

/// What a running job hands out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JobEvent {
    /// The next piece of the reply's text.
    Text(String),
    /// The text so far is not the start of the reply: its whole text follows.
    Restart,
    /// The job's answer, last.
    Answer(Value),
}

/// A running job's events.
pub(crate) type Running = Pin<Box<dyn Stream<Item = Result<JobEvent, Error>> + Send>>;

fn once(answer: impl Future<Output = Result<Value, Error>> + Send + 'static) -> Running {
    Box::pin(stream::once(
        async move { answer.await.map(JobEvent::Answer) },
    ))
}

/// A reply as the jobs answer it, whatever its delivery: the agent's id, `cid`, `jobId` (null
/// when the reply was streamed), the `answer`'s text and the `messages`.
fn reply_answer(mut answer: Map<String, Value>, reply: &Reply) -> Value {
    answer.insert("cid".into(), json!(reply.conversation_id));
    answer.insert("jobId".into(), json!(reply.job_id));
    answer.insert("answer".into(), json!(reply.text()));
    answer.insert(
        "messages".into(),
        serde_json::to_value(&reply.messages).unwrap_or(Value::Null),
    );
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hockeystack::types;

    #[test]
    fn what_a_job_writes_with_are_operations_that_write() {
        for job in JOBS {
            for id in job.writes_with {
                let operation = crate::model::find(job.service().operations(), id)
                    .unwrap_or_else(|| panic!("{}: no operation {id}", job.name));
                assert!(operation.writes(), "{}: {id} writes nothing", job.name);
            }
        }
        let spends = Some(crate::model::Consequence::SpendsCredits);
        assert_eq!(Job::named("ask_agent").unwrap().consequence(), spends);
        assert_eq!(Job::named("ensure_agent").unwrap().consequence(), spends);
        assert_eq!(Job::named("wait_for_job").unwrap().consequence(), None);
    }

    #[test]
    fn every_job_has_a_schema_and_distinct_names() {
        let mut names = Vec::new();
        for job in JOBS {
            let schema = job.schema().unwrap();
            for argument in job.arguments {
                let description = schema
                    .pointer(&format!("/properties/{}/description", argument.name))
                    .and_then(Value::as_str)
                    .unwrap();
                assert!(!description.is_empty(), "{} {}", job.name, argument.name);
            }
            for name in job.exactly_one_of {
                assert!(job.arguments.iter().any(|a| a.name == *name));
            }
            names.push(job.name);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JOBS.len());
    }

    #[test]
    fn a_wait_says_the_library_figures_it_defaults_to() {
        let ask = Job::named("ask_agent").unwrap();
        let help = ask.help(&WAIT);
        assert!(help.contains("900 s, checked 5 s after"), "{help}");
        assert!(help.contains("300 s, checked 1 s after"), "{help}");
        let wait = Job::named("wait_for_job").unwrap().help(&WAIT);
        assert!(wait.contains("300 s"), "{wait}");
    }

    #[test]
    fn the_agent_is_exactly_one_of_deal_and_company() {
        let ask = Job::named("ask_agent").unwrap();
        let args = |value: Value| value.as_object().unwrap().clone();
        assert_eq!(
            ask.agent(&args(json!({"dealId": "9"}))),
            Ok(AgentRef::Deal("9".into()))
        );
        assert_eq!(
            ask.agent(&args(json!({"companyId": "acme"}))),
            Ok(AgentRef::Company("acme".into()))
        );
        assert!(ask.agent(&args(json!({}))).unwrap_err()[0].contains("dealId or companyId"));
        assert!(
            ask.agent(&args(json!({"dealId": "9", "companyId": "acme"})))
                .unwrap_err()[0]
                .contains("not several")
        );
    }

    #[test]
    fn a_given_wait_bounds_both_waits_and_none_keeps_the_library_s() {
        let waits = Waits::default();
        let given = waits.bounded(json!({"wait_seconds": 42}).as_object().unwrap());
        assert_eq!(given.agent.deadline, Some(Duration::from_secs(42)));
        assert_eq!(given.job.deadline, Some(Duration::from_secs(42)));
        let none = waits.bounded(&Map::new());
        assert_eq!(none.agent.deadline, Some(Duration::from_secs(900)));
        assert_eq!(none.job.deadline, Some(Duration::from_secs(300)));
    }

    #[test]
    fn one_answer_shape_whatever_the_delivery() {
        let messages: Vec<types::Message> =
            serde_json::from_value(json!([{"role": "assistant", "content": "Yes."}])).unwrap();
        let owner = agent_ids(&AgentRef::Deal("9".into()));
        let streamed = reply_answer(
            owner.clone(),
            &Reply {
                conversation_id: "c".into(),
                job_id: None,
                messages: messages.clone(),
            },
        );
        let job = reply_answer(
            owner,
            &Reply {
                conversation_id: "c".into(),
                job_id: Some("j".into()),
                messages,
            },
        );
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&streamed), keys(&job));
        assert_eq!(streamed["jobId"], Value::Null);
        assert_eq!(job["answer"], "Yes.");
    }
}
