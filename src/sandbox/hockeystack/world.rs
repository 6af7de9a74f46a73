//! HockeyStack's state: agents, conversations and their messages, message jobs, tasks and
//! the credit ledger, indexed so that every list answers in time proportional to its page
//! whatever the seed's size; and the form it is saved in.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which kind of CRM record an agent, a conversation or a job belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Deal,
    Company,
}

impl Kind {
    /// The path segment of its operations.
    pub(super) fn segment(self) -> &'static str {
        match self {
            Kind::Deal => "deals",
            Kind::Company => "companies",
        }
    }

    /// The field that names the record.
    pub(super) fn key(self) -> &'static str {
        match self {
            Kind::Deal => "deal_id",
            Kind::Company => "company_id",
        }
    }
}

/// A record's agent and its latest provisioning run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Agent {
    /// When the latest run started.
    pub(super) started: DateTime<Utc>,
    pub(super) runs: u32,
    /// A test scripted this run to fail (`Fault::ProvisioningFailed`).
    pub(super) forced_failure: bool,
    /// Seeded as already provisioned.
    pub(super) ready_from_start: bool,
    pub(super) job_id: String,
    pub(super) agent_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Conversation {
    pub(super) id: String,
    pub(super) owner: (Kind, String),
    pub(super) created_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Role {
    User,
    Assistant,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Message {
    pub(super) id: String,
    pub(super) role: Role,
    pub(super) content: String,
    pub(super) created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Job {
    pub(super) id: String,
    pub(super) owner: (Kind, String),
    pub(super) conversation: String,
    pub(super) created: DateTime<Utc>,
    pub(super) reply: String,
    pub(super) fail: bool,
    /// Its reply has been added to the conversation.
    pub(super) recorded: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CreditOp {
    pub(super) uuid: String,
    pub(super) feature: String,
    pub(super) credits: f64,
    pub(super) at: DateTime<Utc>,
    pub(super) metadata: Value,
}

/// Everything HockeyStack's half of the sandbox knows.
#[derive(Default)]
pub(super) struct World {
    /// The last number an id was made from; it only grows, across resets and restarts.
    pub(super) counter: u64,
    /// Ordered, so that a kind's agents list in id order, and a page of them is a range.
    pub(super) agents: BTreeMap<(Kind, String), Agent>,
    pub(super) conversations: HashMap<String, Conversation>,
    /// Each record's conversation ids, oldest first.
    pub(super) conversations_of: HashMap<(Kind, String), Vec<String>>,
    pub(super) messages: HashMap<String, Vec<Message>>,
    pub(super) jobs: HashMap<String, Job>,
    /// Live tasks, oldest first; `task_index` maps a lowercased task id to its position.
    pub(super) tasks: Vec<Value>,
    task_index: HashMap<String, usize>,
    pub(super) ledger: Vec<CreditOp>,
    pub(super) credits_used: f64,
}

/// A date-time as HockeyStack writes them.
pub(super) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A UUID-shaped id made from a number.
pub(super) fn uuid_for(n: u64) -> String {
    format!("{UUID_PREFIX}{n:012x}")
}

/// What every UUID the sandbox makes starts with; the rest is the number, in hex.
const UUID_PREFIX: &str = "3c90c3cc-0d44-4b50-8888-";

impl World {
    /// A new id: the prefix and the next number. A number whose id a seed already uses is
    /// passed over.
    pub(super) fn next(&mut self, prefix: &str) -> String {
        loop {
            self.counter += 1;
            let id = format!("{prefix}_{:06}", self.counter);
            if !self.conversations.contains_key(&id) && !self.jobs.contains_key(&id) {
                return id;
            }
        }
    }

    /// A new UUID-shaped id (tasks, credit operations).
    pub(super) fn next_uuid(&mut self) -> String {
        loop {
            self.counter += 1;
            let id = uuid_for(self.counter);
            if self.task_position(&id).is_none() {
                return id;
            }
        }
    }

    pub(super) fn add_task(&mut self, task: Value) {
        let id = task["task_id"].as_str().unwrap_or("").to_ascii_lowercase();
        self.task_index.insert(id, self.tasks.len());
        self.tasks.push(task);
    }

    /// The position of a live task, by its id in any letter case.
    pub(super) fn task_position(&self, id: &str) -> Option<usize> {
        self.task_index.get(&id.to_ascii_lowercase()).copied()
    }

    pub(super) fn remove_task(&mut self, position: usize) {
        let task = self.tasks.remove(position);
        if let Some(id) = task["task_id"].as_str() {
            self.task_index.remove(&id.to_ascii_lowercase());
        }
        for moved in self.task_index.values_mut() {
            if *moved > position {
                *moved -= 1;
            }
        }
    }

    pub(super) fn add_conversation(&mut self, conversation: Conversation, messages: Vec<Message>) {
        self.conversations_of
            .entry(conversation.owner.clone())
            .or_default()
            .push(conversation.id.clone());
        self.messages.insert(conversation.id.clone(), messages);
        self.conversations
            .insert(conversation.id.clone(), conversation);
    }

    pub(super) fn remove_conversation(&mut self, cid: &str) {
        if let Some(conversation) = self.conversations.remove(cid)
            && let Some(ids) = self.conversations_of.get_mut(&conversation.owner)
        {
            ids.retain(|id| id != cid);
        }
        self.messages.remove(cid);
    }

    /// Whether a conversation is the record's.
    pub(super) fn owns(&self, kind: Kind, id: &str, cid: &str) -> bool {
        self.conversations
            .get(cid)
            .is_some_and(|c| c.owner.0 == kind && c.owner.1 == id)
    }

    pub(super) fn record(&mut self, op: CreditOp) {
        self.credits_used += op.credits;
        self.ledger.push(op);
    }

    /// The highest number any id the sandbox made holds (`conv_000012`, a task's UUID).
    fn highest_id_number(&self) -> u64 {
        let counted = |id: &str| -> u64 {
            let digits = match id.rsplit_once('_') {
                Some((_, n)) => n.parse().ok(),
                None => id
                    .strip_prefix(UUID_PREFIX)
                    .and_then(|n| u64::from_str_radix(n, 16).ok()),
            };
            digits.unwrap_or(0)
        };
        let agents = self
            .agents
            .values()
            .flat_map(|a| [counted(&a.job_id), counted(&a.agent_id)]);
        let conversations = self.conversations.keys().map(|id| counted(id));
        let messages = self.messages.values().flatten().map(|m| counted(&m.id));
        let jobs = self.jobs.keys().map(|id| counted(id));
        let tasks = self
            .tasks
            .iter()
            .map(|t| counted(t["task_id"].as_str().unwrap_or_default()));
        let ledger = self.ledger.iter().map(|op| counted(&op.uuid));
        agents
            .chain(conversations)
            .chain(messages)
            .chain(jobs)
            .chain(tasks)
            .chain(ledger)
            .max()
            .unwrap_or(0)
    }

    /// The world in its saved form.
    pub(super) fn saved(&self) -> Saved {
        let mut conversations = Vec::with_capacity(self.conversations.len());
        // Each record's conversations in their order, so that lists read the same after a
        // restart.
        let mut owners: Vec<_> = self.conversations_of.iter().collect();
        owners.sort_by(|a, b| a.0.cmp(b.0));
        for (_, ids) in owners {
            for cid in ids {
                if let Some(c) = self.conversations.get(cid) {
                    conversations.push(SavedConversation {
                        conversation: c.clone(),
                        messages: self.messages.get(cid).cloned().unwrap_or_default(),
                    });
                }
            }
        }
        let mut jobs: Vec<Job> = self.jobs.values().cloned().collect();
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        Saved {
            counter: self.counter,
            agents: self
                .agents
                .iter()
                .map(|((kind, id), agent)| SavedAgent {
                    kind: *kind,
                    id: id.clone(),
                    agent: agent.clone(),
                })
                .collect(),
            conversations,
            jobs,
            tasks: self.tasks.clone(),
            ledger: self.ledger.clone(),
        }
    }

    /// The world a saved form describes, checked as it is read.
    pub(super) fn from_saved(saved: Saved) -> Result<World, String> {
        let mut world = World {
            counter: saved.counter,
            ..World::default()
        };
        for SavedAgent { kind, id, agent } in saved.agents {
            if world.agents.insert((kind, id.clone()), agent).is_some() {
                return Err(format!("the {kind:?} agent {id:?} appears twice"));
            }
        }
        for SavedConversation {
            conversation,
            messages,
        } in saved.conversations
        {
            if world.conversations.contains_key(&conversation.id) {
                return Err(format!("conversation {:?} appears twice", conversation.id));
            }
            world.add_conversation(conversation, messages);
        }
        for job in saved.jobs {
            world.jobs.insert(job.id.clone(), job);
        }
        for task in saved.tasks {
            let id = task["task_id"].as_str().unwrap_or_default().to_owned();
            if id.is_empty() {
                return Err("a task has no `task_id`".to_owned());
            }
            if world.task_position(&id).is_some() {
                return Err(format!("task {id:?} appears twice"));
            }
            world.add_task(task);
        }
        for op in saved.ledger {
            world.record(op);
        }
        // A document whose counter was lowered by hand must not make ids given out again.
        world.counter = world.counter.max(world.highest_id_number());
        Ok(world)
    }
}

/// HockeyStack's part of a state document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Saved {
    counter: u64,
    agents: Vec<SavedAgent>,
    conversations: Vec<SavedConversation>,
    jobs: Vec<Job>,
    tasks: Vec<Value>,
    ledger: Vec<CreditOp>,
}

#[derive(Serialize, Deserialize)]
struct SavedAgent {
    kind: Kind,
    id: String,
    #[serde(flatten)]
    agent: Agent,
}

#[derive(Serialize, Deserialize)]
struct SavedConversation {
    #[serde(flatten)]
    conversation: Conversation,
    messages: Vec<Message>,
}
