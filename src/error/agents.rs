//! HockeyStack's names for its agents and their message jobs, as errors carry them.

use std::fmt;

/// Where an agent lives: its CRM deal or company.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentRef {
    /// A deal agent.
    Deal(String),
    /// A company agent.
    Company(String),
}

/// Everything needed to find a message job again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobRef {
    /// The deal or company whose agent runs the job.
    pub agent: AgentRef,
    /// The conversation.
    pub conversation_id: String,
    /// The job.
    pub job_id: String,
}

/// What a wait was waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WaitSubject {
    /// An agent to become active.
    Agent(AgentRef),
    /// A message job to finish.
    Job(JobRef),
}

impl AgentRef {
    /// The deal's or company's id.
    pub fn id(&self) -> &str {
        match self {
            AgentRef::Deal(id) | AgentRef::Company(id) => id,
        }
    }
}

impl fmt::Display for AgentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentRef::Deal(id) => write!(f, "deal {id}"),
            AgentRef::Company(id) => write!(f, "company {id}"),
        }
    }
}

impl fmt::Display for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job {} of conversation {} ({})",
            self.job_id, self.conversation_id, self.agent
        )
    }
}

impl fmt::Display for WaitSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitSubject::Agent(agent) => write!(f, "the agent of {agent} to become active"),
            WaitSubject::Job(job) => write!(f, "{job} to finish"),
        }
    }
}
