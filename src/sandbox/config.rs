//! How the sandbox is set up: timings, limits, credits, the seeds of both APIs, the state
//! file and the request log.

use std::time::Duration;

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The address to listen on: loopback (127.0.0.1) unless you need the APIs reachable from
    /// elsewhere, a container's host for example. Whatever it is, the sandbox's controls
    /// (`/__sandbox/…`: faults, the request log, the clock) answer requests from loopback only.
    pub host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// The HockeyStack token the sandbox accepts.
    pub hockeystack_token: String,
    /// More HockeyStack tokens it accepts, each with rate-limit pools of its own (one
    /// workspace's several tokens, say).
    pub extra_hockeystack_tokens: Vec<String>,
    /// The HyperRep key the sandbox accepts.
    pub hyperrep_key: String,
    /// How long agent provisioning takes (HockeyStack: 3 to 8 minutes).
    pub provisioning_time: Duration,
    /// How long a message job stays `pending`.
    pub job_time: Duration,
    /// How long a pending job is kept (HockeyStack: 60 minutes).
    pub pending_retention: Duration,
    /// How long a finished job is kept (HockeyStack: 15 minutes).
    pub finished_retention: Duration,
    /// The pause between the chunks of a streamed reply.
    pub stream_chunk_delay: Duration,
    /// Requests per minute of the read pool (GET, HEAD), per token.
    pub read_limit: u32,
    /// Requests per minute of the write pool, per token.
    pub write_limit: u32,
    /// The rolling window the pools count over: a minute, as the service counts; shorter to
    /// run several windows in a test.
    pub rate_window: Duration,
    /// The monthly included credits.
    pub included_credits: f64,
    /// The on-demand ceiling beyond the included credits; `None` for no ceiling.
    pub on_demand_credit_limit: Option<f64>,
    /// Sizes of the seeded HyperRep organization.
    pub seed: SeedSizes,
    /// Your own HyperRep organization instead of the generated one; `seed` is then unused.
    pub hyperrep_seed: Option<HyperRepSeed>,
    /// Your own HockeyStack workspace (agents, conversations, tasks) instead of the built-in
    /// demo tasks.
    pub hockeystack_seed: Option<HockeyStackSeed>,
    /// A file that keeps the state across restarts: read at start when it exists (a file that
    /// cannot be read or used stops the start, and is left as it is), written at start (so a
    /// place that cannot be written stops it too), shortly after each change and when the
    /// sandbox stops, each time whole (a new file renamed over the old). The seeds above are
    /// then only what a reset returns to.
    pub state_file: Option<std::path::PathBuf>,
    /// Print one line a request to stderr: time, method, path, status, duration, fault.
    pub log_requests: bool,
}

/// A HockeyStack workspace of your own. Agents are active from the start; conversations and
/// tasks are JSON objects as the API returns them. [`Sandbox::start`] refuses a seed that
/// contradicts itself (a duplicate id, a conversation of an agent that is not seeded, a task
/// without its required fields) with an error naming the record.
///
/// [`Sandbox::start`]: super::Sandbox::start
///
/// ```
/// use revenue_agents::sandbox::HockeyStackSeed;
/// use serde_json::json;
///
/// let seed = HockeyStackSeed {
///     deal_agents: vec!["9001234567".into()],
///     conversations: vec![json!({
///         "conversation_id": "conv_1", "deal_id": "9001234567",
///         "messages": [
///             {"role": "user", "content": "What is the biggest risk?"},
///             {"role": "assistant", "content": "The champion has gone quiet."}
///         ]
///     })],
///     tasks: vec![json!({
///         "task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", "status": "pending",
///         "task_type": "call", "task_title": "Call the champion",
///         "created_at": "2026-05-22T10:00:00Z", "targets": {"deal_id": "9001234567"}
///     })],
///     ..HockeyStackSeed::default()
/// };
/// # let _ = seed;
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HockeyStackSeed {
    /// CRM deal ids whose agent is provisioned and active.
    pub deal_agents: Vec<String>,
    /// CRM company ids whose agent is provisioned and active.
    pub company_agents: Vec<String>,
    /// Conversations: `conversation_id`, exactly one of `deal_id` and `company_id` (an agent
    /// seeded above), optionally `created_at`, and `messages`, each with `role` (`user` or
    /// `assistant`), `content` and optionally `created_at`.
    pub conversations: Vec<serde_json::Value>,
    /// Tasks as the API returns them: at least `task_id` (unique) and `status`; `created_at`,
    /// when given, a date-time or null.
    pub tasks: Vec<serde_json::Value>,
}

/// A HyperRep organization of your own, each record as the API returns it (JSON objects with
/// at least the fields named below). [`Sandbox::start`] refuses a seed that contradicts itself
/// (a duplicate id, a reference to a record that is not there, a missing id or timestamp)
/// with an error naming the record.
///
/// [`Sandbox::start`]: super::Sandbox::start
///
/// ```
/// use revenue_agents::sandbox::HyperRepSeed;
/// use serde_json::json;
///
/// let seed = HyperRepSeed {
///     agents: vec![json!({"agent_id": "a-1", "name": "Dana"})],
///     contacts: vec![json!({"contact_id": "c-1", "name": "Lee", "created_at": "2026-05-01T09:00:00Z"})],
///     conversations: vec![json!({
///         "conversation_id": "v-1", "agent_id": "a-1", "contact_id": "c-1",
///         "start_at": "2026-05-02T09:00:00Z", "last_activity_at": "2026-05-02T09:30:00Z",
///         "folder": "Inbox", "is_read": false,
///         "messages": [{"message_id": "m-1", "sent_at": "2026-05-02T09:00:00Z", "content": "Hello"}]
///     })],
///     sales: vec![json!({"sale_id": "s-1", "owner_id": "a-1", "created_at": "2026-05-03T10:00:00Z"})],
///     ..HyperRepSeed::default()
/// };
/// # let _ = seed;
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HyperRepSeed {
    /// Agents: `agent_id`.
    pub agents: Vec<serde_json::Value>,
    /// Contacts: `contact_id`; `company_id`, when present, must name a seeded company.
    pub contacts: Vec<serde_json::Value>,
    /// Companies: `company_id`.
    pub companies: Vec<serde_json::Value>,
    /// Conversations: `conversation_id`, `agent_id`, `contact_id`, `start_at`, and their
    /// `messages` (each with `message_id` and `sent_at`; `agent_id`, when present, must name a
    /// seeded agent).
    pub conversations: Vec<serde_json::Value>,
    /// Sales: `sale_id`, `owner_id` (a seeded agent), `created_at`; `company_id`, when
    /// present, must name a seeded company.
    pub sales: Vec<serde_json::Value>,
}

/// Sizes of the seeded HyperRep organization. The data is deterministic for given sizes; its
/// timestamps are relative to the sandbox's start (the last 90 days).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSizes {
    /// Agents (sales representatives).
    pub agents: usize,
    /// Companies.
    pub companies: usize,
    /// Contacts.
    pub contacts: usize,
    /// Conversations.
    pub conversations: usize,
    /// Messages in each conversation.
    pub messages_per_conversation: usize,
    /// Sales, each with a status history.
    pub sales: usize,
}

impl Default for SeedSizes {
    fn default() -> Self {
        Self {
            agents: 5,
            companies: 40,
            contacts: 200,
            conversations: 300,
            messages_per_conversation: 4,
            sales: 500,
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            hockeystack_token: "hsr_live_sandbox".to_owned(),
            extra_hockeystack_tokens: Vec::new(),
            hyperrep_key: "hr_sandbox_key".to_owned(),
            provisioning_time: Duration::from_secs(3),
            job_time: Duration::from_secs(1),
            pending_retention: Duration::from_secs(60 * 60),
            finished_retention: Duration::from_secs(15 * 60),
            stream_chunk_delay: Duration::from_millis(40),
            read_limit: 600,
            write_limit: 60,
            rate_window: Duration::from_secs(60),
            included_credits: 10_000.0,
            on_demand_credit_limit: Some(2_500.0),
            seed: SeedSizes::default(),
            hyperrep_seed: None,
            hockeystack_seed: None,
            state_file: None,
            log_requests: false,
        }
    }
}

impl SandboxConfig {
    /// Credit amounts are counts of credits: a negative one, NaN or infinity would make every
    /// balance and every spending check meaningless, so the sandbox refuses to start on one.
    pub(super) fn check_amounts(&self) -> Result<(), String> {
        let amounts = [
            ("included_credits", Some(self.included_credits)),
            ("on_demand_credit_limit", self.on_demand_credit_limit),
        ];
        for (name, amount) in amounts {
            if let Some(amount) = amount
                && !(amount.is_finite() && amount >= 0.0)
            {
                return Err(format!(
                    "{name} must be a finite number of credits, 0 or more, not {amount}"
                ));
            }
        }
        Ok(())
    }
}
