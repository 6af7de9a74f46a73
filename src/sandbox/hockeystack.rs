//! The HockeyStack half of the sandbox: `/api/revenue-agents/v1/…`.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, RwLock},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
    routing::any,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{SandboxConfig, cursor_for, empty, json, offset_from, query_pairs, query_value};

const PREFIX: &str = "/api/revenue-agents/v1";

pub(super) fn router(
    config: SandboxConfig,
    clock: Arc<super::clock::Clock>,
    rates: Arc<super::rate::RateLimits>,
) -> Result<Router, String> {
    let world = match &config.hockeystack_seed {
        Some(seed) => World::from_seed(seed, clock.instant(), clock.utc())?,
        None => World::seeded(clock.utc()),
    };
    let state = Arc::new(Hs {
        config,
        epoch: clock.utc(),
        clock,
        rates,
        state: RwLock::new(world),
    });
    Ok(Router::new()
        .route(&format!("{PREFIX}/{{*rest}}"), any(handle))
        .with_state(state))
}

struct Hs {
    config: SandboxConfig,
    epoch: DateTime<Utc>,
    clock: Arc<super::clock::Clock>,
    rates: Arc<super::rate::RateLimits>,
    state: RwLock<World>,
}

impl Hs {
    /// The world, for reading: reads share it, so concurrent clients do not queue behind
    /// one another. A handler that panicked while holding the lock (a bug) leaves it
    /// poisoned; the sandbox goes on serving with the state as that handler left it, rather
    /// than failing every later request.
    fn world(&self) -> std::sync::RwLockReadGuard<'_, World> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The world, for changing it: one handler at a time.
    fn world_mut(&self) -> std::sync::RwLockWriteGuard<'_, World> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Kind {
    Deal,
    Company,
}

impl Kind {
    fn segment(self) -> &'static str {
        match self {
            Kind::Deal => "deals",
            Kind::Company => "companies",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Deal => "deal_id",
            Kind::Company => "company_id",
        }
    }
}

struct Agent {
    started: Instant,
    runs: u32,
    /// A test scripted this run to fail (`Fault::ProvisioningFailed`).
    forced_failure: bool,
    /// Seeded as already provisioned.
    ready_from_start: bool,
    job_id: String,
    agent_id: String,
}

struct Conversation {
    id: String,
    owner: (Kind, String),
    created_at: DateTime<Utc>,
}

struct Message {
    id: String,
    role: &'static str,
    content: String,
    created_at: DateTime<Utc>,
}

struct Job {
    id: String,
    owner: (Kind, String),
    conversation: String,
    created: Instant,
    reply: String,
    fail: bool,
    recorded: bool,
}

struct CreditOp {
    uuid: String,
    feature: &'static str,
    credits: f64,
    at: DateTime<Utc>,
    metadata: Value,
}

/// Everything the sandbox knows, indexed so that every list answers in time proportional to
/// its page (agents: to the offset, a walk without copies) whatever the seed's size.
#[derive(Default)]
struct World {
    counter: u64,
    /// Ordered, so that a kind's agents list in id order without a sort.
    agents: BTreeMap<(Kind, String), Agent>,
    conversations: HashMap<String, Conversation>,
    /// Each record's conversation ids, oldest first.
    conversations_of: HashMap<(Kind, String), Vec<String>>,
    messages: HashMap<String, Vec<Message>>,
    jobs: HashMap<String, Job>,
    /// Live tasks, oldest first; `task_index` maps a lowercased task id to its position.
    tasks: Vec<Value>,
    task_index: HashMap<String, usize>,
    ledger: Vec<CreditOp>,
    credits_used: f64,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn uuid_for(n: u64) -> String {
    format!("3c90c3cc-0d44-4b50-8888-{n:012x}")
}

impl World {
    fn seeded(now: DateTime<Utc>) -> Self {
        let mut world = World::default();
        for (i, (kind, title, deal)) in [
            (
                "email",
                "Send the revised pricing to the champion",
                "9001234567",
            ),
            (
                "call",
                "Call the economic buyer before the renewal review",
                "9001234567",
            ),
            (
                "linkedin",
                "Congratulate the new VP Operations",
                "9007654321",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            world.counter += 1;
            world.add_task(json!({
                    "task_id": uuid_for(world.counter),
                    "status": "pending",
                    "task_type": kind,
                    "task_title": title,
                    "priority": (["high", "urgent", "low"][i]),
                    "assignee_id": "usr_204",
                    "agent_id": "agt_seed",
                    "targets": {"deal_id": deal, "contact": {"name": "Sam Lee", "email": "sam@example.com"}},
                    "draft": {},
                    "reason": "Suggested by the deal agent.",
                    "due_date": null,
                    "created_at": timestamp(now - chrono::Duration::days(2 - i as i64)),
                    "updated_at": timestamp(now - chrono::Duration::days(2 - i as i64)),
                    "completed_at": null,
                    "dismissed_at": null,
                    "dismiss_reason": null
            }));
        }
        world
    }

    /// A workspace of the user's own; see `HockeyStackSeed`.
    fn from_seed(
        seed: &super::HockeyStackSeed,
        now: Instant,
        now_utc: DateTime<Utc>,
    ) -> Result<Self, String> {
        let mut world = World::default();
        for (kind, ids) in [
            (Kind::Deal, &seed.deal_agents),
            (Kind::Company, &seed.company_agents),
        ] {
            for id in ids {
                if !valid_crm_id(id) {
                    return Err(format!(
                        "{kind:?} agent {id:?}: an id is 1 to 64 characters"
                    ));
                }
                let agent_id = world.next("agt");
                let job_id = world.next("prov");
                let agent = Agent {
                    started: now,
                    runs: 1,
                    forced_failure: false,
                    ready_from_start: true,
                    job_id,
                    agent_id,
                };
                if world.agents.insert((kind, id.clone()), agent).is_some() {
                    return Err(format!("{kind:?} agent {id:?} is seeded twice"));
                }
            }
        }
        let text = |record: &Value, name: &str, what: &str| -> Result<String, String> {
            record[name]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("{what}: `{name}` must be a non-empty string"))
        };
        let when = |record: &Value, what: &str| -> Result<DateTime<Utc>, String> {
            match &record["created_at"] {
                Value::Null => Ok(now_utc),
                Value::String(s) => super::timestamp(s)
                    .ok_or_else(|| format!("{what}: `created_at` {s:?} is not a date-time")),
                other => Err(format!("{what}: `created_at` {other} is not a date-time")),
            }
        };
        for (i, record) in seed.conversations.iter().enumerate() {
            let id = text(record, "conversation_id", &format!("conversation #{i}"))?;
            let what = format!("conversation {id:?}");
            let owner = match (record["deal_id"].as_str(), record["company_id"].as_str()) {
                (Some(deal), None) => (Kind::Deal, deal.to_owned()),
                (None, Some(company)) => (Kind::Company, company.to_owned()),
                _ => {
                    return Err(format!(
                        "{what}: give exactly one of `deal_id` and `company_id`"
                    ));
                }
            };
            if !world.agents.contains_key(&owner) {
                return Err(format!(
                    "{what}: {:?} {:?} has no seeded agent",
                    owner.0, owner.1
                ));
            }
            if world.messages.contains_key(&id) {
                return Err(format!("{what} is seeded twice"));
            }
            let created_at = when(record, &what)?;
            let mut messages = Vec::new();
            for (m, message) in record["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let what = format!("{what}, message #{m}");
                let role = match message["role"].as_str() {
                    Some("user") => "user",
                    Some("assistant") => "assistant",
                    _ => return Err(format!("{what}: `role` must be user or assistant")),
                };
                let content = text(message, "content", &what)?;
                let created_at = when(message, &what)?;
                let id = world.next("msg");
                messages.push(Message {
                    id,
                    role,
                    content,
                    created_at,
                });
            }
            world.add_conversation(
                Conversation {
                    id,
                    owner,
                    created_at,
                },
                messages,
            );
        }
        let mut task_ids = std::collections::HashSet::new();
        for (i, task) in seed.tasks.iter().enumerate() {
            let id = text(task, "task_id", &format!("task #{i}"))?;
            let what = format!("task {id:?}");
            text(task, "status", &what)?;
            // The field list makes `created_at` optional and nullable; one that is given must
            // be a date-time.
            if !task["created_at"].is_null()
                && task["created_at"]
                    .as_str()
                    .and_then(super::timestamp)
                    .is_none()
            {
                return Err(format!("{what}: `created_at` must be a date-time or null"));
            }
            if !task_ids.insert(id.to_ascii_lowercase()) {
                return Err(format!("{what} is seeded twice"));
            }
            world.add_task(task.clone());
        }
        Ok(world)
    }

    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{:06}", self.counter)
    }

    fn credits_used(&self) -> f64 {
        self.credits_used
    }

    fn add_task(&mut self, task: Value) {
        let id = task["task_id"].as_str().unwrap_or("").to_ascii_lowercase();
        self.task_index.insert(id, self.tasks.len());
        self.tasks.push(task);
    }

    /// The position of a live task, by its id in any letter case.
    fn task_position(&self, id: &str) -> Option<usize> {
        self.task_index.get(&id.to_ascii_lowercase()).copied()
    }

    fn remove_task(&mut self, position: usize) {
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

    fn add_conversation(&mut self, conversation: Conversation, messages: Vec<Message>) {
        self.conversations_of
            .entry(conversation.owner.clone())
            .or_default()
            .push(conversation.id.clone());
        self.messages.insert(conversation.id.clone(), messages);
        self.conversations
            .insert(conversation.id.clone(), conversation);
    }

    fn remove_conversation(&mut self, cid: &str) {
        if let Some(conversation) = self.conversations.remove(cid)
            && let Some(ids) = self.conversations_of.get_mut(&conversation.owner)
        {
            ids.retain(|id| id != cid);
        }
        self.messages.remove(cid);
    }

    fn record(&mut self, op: CreditOp) {
        self.credits_used += op.credits;
        self.ledger.push(op);
    }
}

fn error(status: StatusCode, code: &str, category: &str, message: &str) -> Response {
    json(
        status,
        &json!({"error": {"code": code, "category": category, "message": message}}),
    )
}

fn not_found(message: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "resource.not_found",
        "not_found",
        message,
    )
}

fn bad_request(message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "request.invalid",
        "invalid_request",
        message,
    )
}

async fn handle(
    State(hs): State<Arc<Hs>>,
    failure: Option<axum::Extension<super::faults::FailProvisioning>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let forced_failure = failure.is_some();
    let path = uri.path().strip_prefix(PREFIX).unwrap_or("");
    let segments = super::path_segments(path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = query_pairs(uri.query());

    if segments == ["health"] {
        return match method {
            Method::GET => json(StatusCode::OK, &json!({"status": "ok"})),
            _ => empty(StatusCode::METHOD_NOT_ALLOWED),
        };
    }
    let token = super::header(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| {
            *t == hs.config.hockeystack_token
                || hs
                    .config
                    .extra_hockeystack_tokens
                    .iter()
                    .any(|extra| extra == t)
        });
    let Some(token) = token else {
        return error(
            StatusCode::UNAUTHORIZED,
            "auth.invalid_token",
            "unauthorized",
            "The API token is missing, malformed or revoked.",
        );
    };
    let read = matches!(method, Method::GET | Method::HEAD);
    let verdict = hs.rates.take(token, read, hs.clock.instant());
    let pool = if read { "read" } else { "write" };
    // Whole seconds, rounded up: the moment the pool has a slot again.
    let reset_seconds = verdict.reset_in.as_secs() + u64::from(verdict.reset_in.subsec_nanos() > 0);
    let reset = hs
        .clock
        .utc()
        .timestamp()
        .saturating_add(i64::try_from(reset_seconds).unwrap_or(i64::MAX));
    if !verdict.allowed {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit.exceeded",
            "rate_limited",
            "Rate limit exceeded.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(reset_seconds.max(1)));
        add_rate_headers(&mut r, pool, verdict.limit, 0, reset);
        return r;
    }
    let mut response = route(
        &hs,
        &method,
        &segments,
        &query,
        &headers,
        &body,
        forced_failure,
    )
    .await;
    add_rate_headers(&mut response, pool, verdict.limit, verdict.remaining, reset);
    response
}

fn add_rate_headers(
    response: &mut Response,
    pool: &'static str,
    limit: u32,
    remaining: u32,
    reset: i64,
) {
    let h = response.headers_mut();
    h.insert("x-ratelimit-pool", HeaderValue::from_static(pool));
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

fn kind_of(segment: &str) -> Option<Kind> {
    match segment {
        "deals" => Some(Kind::Deal),
        "companies" => Some(Kind::Company),
        _ => None,
    }
}

fn valid_crm_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= 64
}

async fn route(
    hs: &Hs,
    method: &Method,
    segments: &[&str],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
    forced_failure: bool,
) -> Response {
    match (method.clone(), segments) {
        (Method::GET, ["me"]) => me(hs),
        (Method::GET, [kind, "agents"]) if kind_of(kind).is_some() => {
            list_agents(hs, kind_of(kind).unwrap(), query)
        }
        (m, [kind, id, "agent"]) if kind_of(kind).is_some() => {
            // An id out of the documented bounds names nothing: 404, as for any unknown id.
            if !valid_crm_id(id) {
                return match m {
                    Method::DELETE => empty(StatusCode::NO_CONTENT),
                    Method::PUT => bad_request("The id must be 1 to 64 characters."),
                    _ => not_found("No agent has been initialized for this record."),
                };
            }
            let kind = kind_of(kind).unwrap();
            match m {
                Method::PUT => put_agent(hs, kind, id, forced_failure),
                Method::GET => get_agent(hs, kind, id),
                Method::DELETE => delete_agent(hs, kind, id),
                _ => empty(StatusCode::METHOD_NOT_ALLOWED),
            }
        }
        (m, [kind, id, "conversations"]) if kind_of(kind).is_some() => {
            let kind = kind_of(kind).unwrap();
            match m {
                Method::POST => create_conversation(hs, kind, id, body),
                Method::GET => list_conversations(hs, kind, id, query),
                _ => empty(StatusCode::METHOD_NOT_ALLOWED),
            }
        }
        (Method::DELETE, [kind, id, "conversations", cid]) if kind_of(kind).is_some() => {
            delete_conversation(hs, kind_of(kind).unwrap(), id, cid)
        }
        (m, [kind, id, "conversations", cid, "messages"]) if kind_of(kind).is_some() => {
            let kind = kind_of(kind).unwrap();
            match m {
                Method::GET => list_messages(hs, kind, id, cid, query),
                Method::POST => send_message(hs, kind, id, cid, headers, body).await,
                _ => empty(StatusCode::METHOD_NOT_ALLOWED),
            }
        }
        (Method::GET, [kind, id, "conversations", cid, "messages", "jobs", job])
            if kind_of(kind).is_some() =>
        {
            get_job(hs, kind_of(kind).unwrap(), id, cid, job)
        }
        (Method::GET, ["tasks"]) => list_tasks(hs, query),
        (Method::POST, ["tasks"]) => create_task(hs, body),
        (m, ["tasks", id]) => match m {
            Method::GET => get_task(hs, id),
            Method::PATCH => update_task(hs, id, body),
            Method::DELETE => delete_task(hs, id),
            _ => empty(StatusCode::METHOD_NOT_ALLOWED),
        },
        (Method::GET, ["credits", "balance"]) => balance(hs),
        (Method::GET, ["credits", "usage"]) => usage(hs, query),
        (Method::GET, ["credits", "operations"]) => operations(hs, query),
        _ => not_found("No such operation."),
    }
}

fn me(hs: &Hs) -> Response {
    json(
        StatusCode::OK,
        &json!({
            "workspace": {"id": "ws_sandbox", "name": "Sandbox workspace"},
            "token": {
                "id": "tok_sandbox",
                "name": "Sandbox token",
                "token_prefix": hs.config.hockeystack_token.chars().take(12).collect::<String>(),
                "created_at": timestamp(hs.epoch - chrono::Duration::days(30)),
                "last_used_at": timestamp(hs.clock.utc()),
                "expires_at": null
            }
        }),
    )
}

/// Reads `limit` (1..200, default 50) and the cursor parameter; an error answer otherwise.
fn page_params(
    query: &[(String, String)],
    cursor_name: &str,
    collection: &str,
) -> Result<(usize, usize), Response> {
    let limit = match query_value(query, "limit") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => return Err(bad_request("`limit` must be an integer from 1 to 200.")),
        },
    };
    let offset = match query_value(query, cursor_name) {
        None => 0,
        Some(c) => offset_from(collection, c).ok_or_else(|| bad_request("Invalid cursor."))?,
    };
    Ok((limit, offset))
}

/// One page of a list: the items after `offset` (skipped before they are rendered, so that
/// only the page is built), and a cursor to the next page when one more item follows.
fn page_of<T>(
    collection: &str,
    key: &str,
    items: impl Iterator<Item = T>,
    render: impl Fn(T) -> Value,
    limit: usize,
    offset: usize,
) -> Value {
    let mut rest = items.skip(offset);
    let page: Vec<Value> = rest.by_ref().take(limit).map(render).collect();
    let next = rest
        .next()
        .is_some()
        .then(|| cursor_for(collection, offset.saturating_add(limit)));
    json!({ key: page, "next_cursor": next })
}

fn agent_json(hs: &Hs, kind: Kind, id: &str, agent: &Agent, now: Instant) -> Value {
    let elapsed = now.duration_since(agent.started);
    let mut v = json!({ kind.key(): id });
    // Durations from the configuration or a clock moved far ahead may not fit a date: such a
    // date is shown at the end of the range rather than overflowing.
    let now_utc = hs.clock.utc();
    let started_at = chrono::Duration::from_std(elapsed)
        .ok()
        .and_then(|elapsed| now_utc.checked_sub_signed(elapsed))
        .unwrap_or(now_utc);
    let done_at = chrono::Duration::from_std(hs.config.provisioning_time)
        .ok()
        .and_then(|time| started_at.checked_add_signed(time))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let fails = !agent.ready_from_start && agent.forced_failure
        || id.starts_with("broken-")
        || (id.starts_with("fail-") && agent.runs == 1);
    let o = v.as_object_mut().expect("object");
    if !agent.ready_from_start && elapsed < hs.config.provisioning_time {
        o.insert("status".into(), json!("initializing"));
        o.insert("agent_id".into(), json!(null));
        o.insert("job_id".into(), json!(agent.job_id));
        o.insert(
            "progress_stream_url".into(),
            json!(format!("{PREFIX}/{}/{id}/agent/progress", kind.segment())),
        );
    } else if fails {
        o.insert("status".into(), json!("provisioning_failed"));
        o.insert("agent_id".into(), json!(null));
        o.insert("job_id".into(), json!(agent.job_id));
        o.insert("failed_at".into(), json!(timestamp(done_at)));
        o.insert(
            "error".into(),
            json!(
                "The CRM sync did not finish (sandbox: ids starting with fail- or broken- fail)."
            ),
        );
        o.insert(
            "retry_with".into(),
            json!(format!("PUT {PREFIX}/{}/{id}/agent", kind.segment())),
        );
    } else {
        o.insert("status".into(), json!("active"));
        o.insert("agent_id".into(), json!(agent.agent_id));
        o.insert("created_at".into(), json!(timestamp(done_at)));
        o.insert("last_synced_at".into(), json!(timestamp(done_at)));
    }
    v
}

fn agent_status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("")
}

fn list_agents(hs: &Hs, kind: Kind, query: &[(String, String)]) -> Response {
    let collection = format!("{kind:?}-agents");
    let (limit, offset) = match page_params(query, "cursor", &collection) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = hs.world();
    let now = hs.clock.instant();
    let agents = world
        .agents
        .range((kind, String::new())..)
        .take_while(|((k, _), _)| *k == kind);
    let render = |((_, id), agent): (&(Kind, String), &Agent)| agent_json(hs, kind, id, agent, now);
    json(
        StatusCode::OK,
        &page_of(&collection, "agents", agents, render, limit, offset),
    )
}

fn charge(
    world: &mut World,
    hs: &Hs,
    feature: &'static str,
    credits: f64,
    metadata: Value,
) -> Result<(), Response> {
    let cap =
        hs.config.included_credits + hs.config.on_demand_credit_limit.unwrap_or(f64::INFINITY);
    if world.credits_used() + credits > cap {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "credits.limit_exceeded",
            "credits_exhausted",
            "The monthly credit limit has been reached.",
        ));
    }
    let n = {
        world.counter += 1;
        world.counter
    };
    world.record(CreditOp {
        uuid: uuid_for(n),
        feature,
        credits,
        at: hs.clock.utc(),
        metadata,
    });
    Ok(())
}

fn put_agent(hs: &Hs, kind: Kind, id: &str, forced_failure: bool) -> Response {
    let mut world = hs.world_mut();
    let now = hs.clock.instant();
    let key = (kind, id.to_owned());
    let restart = match world.agents.get(&key) {
        Some(agent)
            if agent_status(&agent_json(hs, kind, id, agent, now)) == "provisioning_failed" =>
        {
            true
        }
        Some(_) => {
            return error(
                StatusCode::CONFLICT,
                "agent.already_exists",
                "conflict",
                "An agent already exists for this record.",
            );
        }
        None => false,
    };
    if let Err(r) = charge(
        &mut world,
        hs,
        "agent_provisioning",
        20.0,
        json!({ kind.key(): id }),
    ) {
        return r;
    }
    let job_id = world.next("prov");
    let agent_id = world.next("agt");
    let agent = world.agents.entry(key).or_insert(Agent {
        started: now,
        runs: 0,
        forced_failure: false,
        ready_from_start: false,
        job_id: job_id.clone(),
        agent_id,
    });
    // A retry after a failed run starts a new run of the same agent.
    debug_assert!(restart || agent.runs == 0);
    agent.started = now;
    agent.runs += 1;
    agent.forced_failure = forced_failure;
    agent.ready_from_start = false;
    agent.job_id = job_id;
    let body = agent_json(hs, kind, id, agent, now);
    json(StatusCode::ACCEPTED, &body)
}

fn get_agent(hs: &Hs, kind: Kind, id: &str) -> Response {
    let world = hs.world();
    match world.agents.get(&(kind, id.to_owned())) {
        Some(agent) => json(
            StatusCode::OK,
            &agent_json(hs, kind, id, agent, hs.clock.instant()),
        ),
        None => not_found("No agent has been initialized for this record."),
    }
}

fn delete_agent(hs: &Hs, kind: Kind, id: &str) -> Response {
    let mut world = hs.world_mut();
    world.agents.remove(&(kind, id.to_owned()));
    if kind == Kind::Deal {
        let gone = world
            .conversations_of
            .remove(&(kind, id.to_owned()))
            .unwrap_or_default();
        for cid in gone {
            world.remove_conversation(&cid);
        }
    }
    empty(StatusCode::NO_CONTENT)
}

fn parse_object(body: &Bytes, required: bool) -> Result<serde_json::Map<String, Value>, Response> {
    if body.is_empty() && !required {
        return Ok(Default::default());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad_request("The body must be a JSON object.")),
    }
}

fn create_conversation(hs: &Hs, kind: Kind, id: &str, body: &Bytes) -> Response {
    let options = match parse_object(body, false) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Some(email) = options.get("user_email")
        && !email
            .as_str()
            .is_some_and(|e| e.contains('@') && (1..=254).contains(&e.len()))
    {
        return bad_request("`user_email` must be an email address.");
    }
    let mut world = hs.world_mut();
    let now = hs.clock.instant();
    match world.agents.get(&(kind, id.to_owned())) {
        None => return not_found("No agent has been initialized for this record."),
        Some(agent) if agent_status(&agent_json(hs, kind, id, agent, now)) != "active" => {
            return error(
                StatusCode::CONFLICT,
                "agent.not_active",
                "conflict",
                "The agent is not active yet.",
            );
        }
        Some(_) => {}
    }
    let cid = world.next("conv");
    let created_at = hs.clock.utc();
    world.add_conversation(
        Conversation {
            id: cid.clone(),
            owner: (kind, id.to_owned()),
            created_at,
        },
        Vec::new(),
    );
    json(
        StatusCode::CREATED,
        &conversation_json(&cid, kind, id, created_at),
    )
}

fn conversation_json(cid: &str, kind: Kind, id: &str, created_at: DateTime<Utc>) -> Value {
    let (deal, company) = match kind {
        Kind::Deal => (json!(id), json!(null)),
        Kind::Company => (json!(null), json!(id)),
    };
    json!({"conversation_id": cid, "created_at": timestamp(created_at), "deal_id": deal, "company_id": company})
}

fn list_conversations(hs: &Hs, kind: Kind, id: &str, query: &[(String, String)]) -> Response {
    let collection = format!("conversations-{kind:?}-{id}");
    let (limit, offset) = match page_params(query, "cursor", &collection) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = hs.world();
    let ids = world
        .conversations_of
        .get(&(kind, id.to_owned()))
        .map_or(&[][..], Vec::as_slice);
    let render = |cid: &String| {
        let created_at = world
            .conversations
            .get(cid)
            .map_or_else(|| hs.clock.utc(), |c| c.created_at);
        conversation_json(cid, kind, id, created_at)
    };
    json(
        StatusCode::OK,
        &page_of(
            &collection,
            "conversations",
            ids.iter(),
            render,
            limit,
            offset,
        ),
    )
}

fn owns(world: &World, kind: Kind, id: &str, cid: &str) -> bool {
    world
        .conversations
        .get(cid)
        .is_some_and(|c| c.owner.0 == kind && c.owner.1 == id)
}

fn delete_conversation(hs: &Hs, kind: Kind, id: &str, cid: &str) -> Response {
    let mut world = hs.world_mut();
    if !owns(&world, kind, id, cid) {
        return not_found("No such conversation.");
    }
    world.remove_conversation(cid);
    empty(StatusCode::NO_CONTENT)
}

fn message_json(m: &Message) -> Value {
    json!({"id": m.id, "role": m.role, "content": m.content, "created_at": timestamp(m.created_at)})
}

fn list_messages(hs: &Hs, kind: Kind, id: &str, cid: &str, query: &[(String, String)]) -> Response {
    let collection = format!("messages-{cid}");
    let (limit, offset) = match page_params(query, "after", &collection) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let descending = match query_value(query, "order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return bad_request("`order` must be asc or desc."),
    };
    let mut world = hs.world_mut();
    if !owns(&world, kind, id, cid) {
        return not_found("No such conversation.");
    }
    settle_jobs(hs, &mut world);
    let messages = world.messages.get(cid).map_or(&[][..], Vec::as_slice);
    let mut page = if descending {
        page_of(
            &collection,
            "messages",
            messages.iter().rev(),
            message_json,
            limit,
            offset,
        )
    } else {
        page_of(
            &collection,
            "messages",
            messages.iter(),
            message_json,
            limit,
            offset,
        )
    };
    page["conversation_id"] = json!(cid);
    json(StatusCode::OK, &page)
}

/// The agent's answer, built from the question so that it reads like one.
fn reply_to(question: &str) -> String {
    let topic: String = question
        .trim()
        .trim_end_matches('?')
        .chars()
        .take(120)
        .collect();
    format!(
        "Looking at \"{topic}\": the champion has not replied in twelve days and the renewal \
         review is in three weeks, so the biggest risk is losing momentum before the review. \
         Suggested next step: ask the champion for a 15-minute call this week."
    )
}

fn wants_stream(headers: &HeaderMap, body: &serde_json::Map<String, Value>) -> bool {
    body.get("stream").and_then(Value::as_bool).unwrap_or(false)
        || super::header(headers, "accept").is_some_and(prefers_event_stream)
}

/// Whether an `Accept` header ranks `text/event-stream` above JSON. Generated clients send
/// `application/json, text/event-stream` (every type the spec lists, equally); they get the
/// job their method is typed for, and only a caller that prefers the stream gets one.
fn prefers_event_stream(accept: &str) -> bool {
    let (mut stream, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        // A weight that is not a number in 0..=1 ranks the type last.
        let quality = match parts.find_map(|p| p.trim().strip_prefix("q=")) {
            None => 1.0,
            Some(q) => q
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0),
        };
        match media.as_str() {
            "text/event-stream" => stream = stream.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    stream > 0.0 && stream > json
}

async fn send_message(
    hs: &Hs,
    kind: Kind,
    id: &str,
    cid: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let body = match parse_object(body, true) {
        Ok(b) => b,
        Err(r) => return r,
    };
    // The reference pages name the field `message`, the quickstart's curl example `content`:
    // both are accepted, `message` first.
    let Some(text) = ["message", "content"]
        .iter()
        .find_map(|name| body.get(*name).and_then(Value::as_str))
        .map(str::to_owned)
    else {
        return bad_request("`message` is required.");
    };
    if text.is_empty() || text.chars().count() > 10_000 {
        return bad_request("`message` must be 1 to 10000 characters.");
    }
    let stream = wants_stream(headers, &body);
    let (job_id, reply) = {
        let mut world = hs.world_mut();
        if !owns(&world, kind, id, cid) {
            return not_found("No such conversation.");
        }
        if let Err(r) = charge(
            &mut world,
            hs,
            "agent_message",
            5.0,
            json!({"conversation_id": cid}),
        ) {
            return r;
        }
        let message_id = world.next("msg");
        world.messages.get_mut(cid).expect("owned").push(Message {
            id: message_id,
            role: "user",
            content: text.clone(),
            created_at: hs.clock.utc(),
        });
        let job_id = world.next("job");
        let reply = reply_to(&text);
        if !stream {
            world.jobs.insert(
                job_id.clone(),
                Job {
                    id: job_id.clone(),
                    owner: (kind, id.to_owned()),
                    conversation: cid.to_owned(),
                    created: hs.clock.instant(),
                    reply: reply.clone(),
                    fail: text.contains("#fail"),
                    recorded: false,
                },
            );
        } else {
            let message_id = world.next("msg");
            world.messages.get_mut(cid).expect("owned").push(Message {
                id: message_id,
                role: "assistant",
                content: reply.clone(),
                created_at: hs.clock.utc(),
            });
        }
        (job_id, reply)
    };
    if stream {
        return event_stream(cid.to_owned(), reply, hs.config.stream_chunk_delay);
    }
    let segment = kind.segment();
    json(
        StatusCode::ACCEPTED,
        &json!({
            "job_id": job_id,
            "conversation_id": cid,
            "status": "pending",
            "poll_url": format!("{PREFIX}/{segment}/{id}/conversations/{cid}/messages/jobs/{job_id}")
        }),
    )
}

fn event_stream(cid: String, reply: String, delay: Duration) -> Response {
    let mut events: Vec<String> = Vec::new();
    let words: Vec<&str> = reply.split_inclusive(' ').collect();
    let half = words.len() / 2;
    let delta = |piece: &str| format!("event: text_delta\ndata: {}\n\n", json!({"delta": piece}));
    for chunk in words[..half].chunks(4) {
        events.push(delta(&chunk.concat()));
    }
    events.push(format!(
        "event: tool_use\ndata: {}\n\n",
        json!({"id": "tu_1", "name": "resolve_contact", "args": {"email": "sam@example.com"}})
    ));
    events.push(format!(
        "event: tool_result\ndata: {}\n\n",
        json!({"id": "tu_1", "name": "resolve_contact", "result": {"name": "Sam Lee", "title": "VP Operations"}})
    ));
    for chunk in words[half..].chunks(4) {
        events.push(delta(&chunk.concat()));
    }
    events.push(format!(
        "event: done\ndata: {}\n\n",
        json!({"conversation_id": cid, "messages": [{"role": "assistant", "content": reply}]})
    ));
    let stream = futures_util::stream::unfold(
        (events.into_iter(), true),
        move |(mut events, first)| async move {
            let next = events.next()?;
            if !first {
                tokio::time::sleep(delay).await;
            }
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(next)),
                (events, false),
            ))
        },
    );
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Moves finished jobs' replies into their conversations and forgets jobs past retention.
fn settle_jobs(hs: &Hs, world: &mut World) {
    let now = hs.clock.instant();
    let config = &hs.config;
    let mut finished = Vec::new();
    world.jobs.retain(|_, job| {
        let age = now.duration_since(job.created);
        if age < config.job_time {
            return age < config.pending_retention;
        }
        if !job.recorded && !job.fail {
            finished.push((job.conversation.clone(), job.reply.clone()));
        }
        job.recorded = true;
        age - config.job_time < config.finished_retention
    });
    for (cid, reply) in finished {
        let id = world.next("msg");
        if let Some(messages) = world.messages.get_mut(&cid) {
            messages.push(Message {
                id,
                role: "assistant",
                content: reply,
                created_at: hs.clock.utc(),
            });
        }
    }
}

fn get_job(hs: &Hs, kind: Kind, id: &str, cid: &str, job_id: &str) -> Response {
    let mut world = hs.world_mut();
    settle_jobs(hs, &mut world);
    let Some(job) = world
        .jobs
        .get(job_id)
        .filter(|j| j.owner == (kind, id.to_owned()) && j.conversation == cid)
    else {
        return not_found("No such job, or it is past its retention window.");
    };
    let done = hs.clock.instant().duration_since(job.created) >= hs.config.job_time;
    let base = json!({"job_id": job.id, "conversation_id": job.conversation});
    let mut v = base;
    if !done {
        v["status"] = json!("pending");
    } else if job.fail {
        v["status"] = json!("failed");
        v["error"] = json!({"code": "agent.failed", "category": "agent_error", "message": "The agent could not answer (sandbox: the message contained #fail)."});
    } else {
        v["status"] = json!("completed");
        v["result"] = json!({"conversation_id": job.conversation, "messages": [{"role": "assistant", "content": job.reply}]});
    }
    json(StatusCode::OK, &v)
}

fn list_tasks(hs: &Hs, query: &[(String, String)]) -> Response {
    let (limit, offset) = match page_params(query, "cursor", "tasks") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = hs.world();
    json(
        StatusCode::OK,
        &page_of(
            "tasks",
            "tasks",
            world.tasks.iter(),
            Value::clone,
            limit,
            offset,
        ),
    )
}

fn optional_string(
    body: &serde_json::Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, Response> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        _ => Err(bad_request(&format!(
            "`{name}` must be a string of at most {max} characters."
        ))),
    }
}

fn create_task(hs: &Hs, body: &Bytes) -> Response {
    let body = match parse_object(body, true) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let task_type = body.get("task_type").and_then(Value::as_str);
    if !matches!(task_type, Some("call" | "email" | "linkedin")) {
        return bad_request("`task_type` must be call, email or linkedin.");
    }
    let title = body.get("task_title").and_then(Value::as_str).unwrap_or("");
    if title.is_empty() || title.chars().count() > 500 {
        return bad_request("`task_title` must be 1 to 500 characters.");
    }
    let assignee = body
        .get("assignee_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if assignee.is_empty() || assignee.chars().count() > 64 {
        return bad_request("`assignee_id` must be 1 to 64 characters.");
    }
    let targets = match body.get("targets") {
        Some(Value::Object(t)) => match clean_targets(t) {
            Ok(t) => t,
            Err(r) => return r,
        },
        _ => return bad_request("`targets` must be an object."),
    };
    let priority = match body.get("priority") {
        None => "medium",
        Some(p) => match p.as_str() {
            Some(p @ ("urgent" | "high" | "medium" | "low")) => p,
            _ => return bad_request("`priority` must be urgent, high, medium or low."),
        },
    };
    let reason = match optional_string(&body, "reason", 2000) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let due_date = match body.get("due_date") {
        None | Some(Value::Null) => None,
        // Stored in one spelling, so that the task reads back as a spec date-time whatever
        // form the caller wrote.
        Some(Value::String(s)) => match super::timestamp(s) {
            Some(t) => Some(timestamp(t)),
            None => return bad_request("`due_date` must be an RFC 3339 date-time."),
        },
        _ => return bad_request("`due_date` must be an RFC 3339 date-time."),
    };
    let draft = match body.get("draft") {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(d)) => match clean_draft(d) {
            Ok(d) => d,
            Err(r) => return r,
        },
        _ => return bad_request("`draft` must be an object."),
    };
    let mut world = hs.world_mut();
    if let Err(r) = charge(
        &mut world,
        hs,
        "task_creation",
        2.0,
        json!({"task_title": title}),
    ) {
        return r;
    }
    world.counter += 1;
    let now = timestamp(hs.clock.utc());
    let task = json!({
        "task_id": uuid_for(world.counter),
        "status": "pending",
        "task_type": task_type,
        "task_title": title,
        "priority": priority,
        "assignee_id": assignee,
        "agent_id": null,
        "targets": targets,
        "draft": draft,
        "reason": reason,
        "due_date": due_date,
        "created_at": now,
        "updated_at": now,
        "completed_at": null,
        "dismissed_at": null,
        "dismiss_reason": null
    });
    world.add_task(task.clone());
    json(StatusCode::CREATED, &task)
}

/// Keeps the documented target fields, checking their types; at least one must be named.
fn clean_targets(t: &serde_json::Map<String, Value>) -> Result<Value, Response> {
    let mut out = serde_json::Map::new();
    for key in ["deal_id", "company_id", "meeting_id"] {
        if let Some(v) = optional_string(t, key, 256)? {
            out.insert(key.to_owned(), json!(v));
        }
    }
    match t.get("contact") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            let mut contact = serde_json::Map::new();
            for key in ["email", "linkedin_url", "phone_number", "name", "title"] {
                contact.insert(key.to_owned(), json!(optional_string(c, key, 512)?));
            }
            out.insert("contact".to_owned(), Value::Object(contact));
        }
        Some(_) => return Err(bad_request("`targets.contact` must be an object.")),
    }
    if out.is_empty() {
        return Err(bad_request(
            "`targets` must name at least one of contact, deal_id, company_id, meeting_id.",
        ));
    }
    Ok(Value::Object(out))
}

/// Keeps the documented draft fields, checking their types.
fn clean_draft(d: &serde_json::Map<String, Value>) -> Result<Value, Response> {
    let mut out = serde_json::Map::new();
    for key in ["subject", "body", "message"] {
        if let Some(v) = optional_string(d, key, 20_000)? {
            out.insert(key.to_owned(), json!(v));
        }
    }
    match d.get("talking_points") {
        None | Some(Value::Null) => {}
        Some(Value::Array(points)) if points.iter().all(Value::is_string) => {
            out.insert("talking_points".to_owned(), Value::Array(points.clone()));
        }
        Some(_) => {
            return Err(bad_request(
                "`draft.talking_points` must be a list of strings.",
            ));
        }
    }
    Ok(Value::Object(out))
}

fn find_task(world: &World, id: &str) -> Result<usize, Response> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(not_found("No such task."));
    }
    world
        .task_position(id)
        .ok_or_else(|| not_found("No such task."))
}

fn get_task(hs: &Hs, id: &str) -> Response {
    let world = hs.world();
    match find_task(&world, id) {
        Ok(position) => json(StatusCode::OK, &world.tasks[position]),
        Err(r) => r,
    }
}

fn update_task(hs: &Hs, id: &str, body: &Bytes) -> Response {
    let body = match parse_object(body, true) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let status = match body.get("status").and_then(Value::as_str) {
        Some(s @ ("completed" | "dismissed" | "cancelled")) => s,
        _ => return bad_request("`status` must be completed, dismissed or cancelled."),
    };
    let reason = match optional_string(&body, "dismiss_reason", 2000) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if status == "dismissed" && reason.as_deref().is_none_or(str::is_empty) {
        return bad_request("`dismiss_reason` is required to dismiss a task.");
    }
    let mut world = hs.world_mut();
    let task = match find_task(&world, id) {
        Ok(position) => &mut world.tasks[position],
        Err(r) => return r,
    };
    if task["status"] != "pending" {
        return error(
            StatusCode::CONFLICT,
            "task.terminal",
            "conflict",
            "The task is already in a final state.",
        );
    }
    let now = timestamp(hs.clock.utc());
    task["status"] = json!(status);
    task["updated_at"] = json!(now);
    match status {
        "completed" => task["completed_at"] = json!(now),
        "dismissed" => {
            task["dismissed_at"] = json!(now);
            task["dismiss_reason"] = json!(reason);
        }
        _ => {}
    }
    json(StatusCode::OK, &*task)
}

fn delete_task(hs: &Hs, id: &str) -> Response {
    let mut world = hs.world_mut();
    match find_task(&world, id) {
        Ok(position) => {
            world.remove_task(position);
            empty(StatusCode::NO_CONTENT)
        }
        Err(r) => r,
    }
}

fn balance(hs: &Hs) -> Response {
    let world = hs.world();
    let used = world.credits_used();
    let included = hs.config.included_credits;
    let on_demand_used = (used - included).max(0.0);
    let limit = hs.config.on_demand_credit_limit;
    let now = hs.clock.utc();
    let next_month = {
        use chrono::Datelike;
        let (y, m) = if now.month() == 12 {
            (now.year() + 1, 1)
        } else {
            (now.year(), now.month() + 1)
        };
        chrono::NaiveDate::from_ymd_opt(y, m, 1)
            .expect("valid date")
            .and_hms_opt(0, 0, 0)
            .expect("valid time")
            .and_utc()
    };
    json(
        StatusCode::OK,
        &json!({
            "as_of": timestamp(now),
            "resets_at": timestamp(next_month),
            "included_credits": included,
            "on_demand_credit_limit": limit,
            "on_demand_uncapped": limit.is_none(),
            "monthly_used_credits": used,
            "on_demand_used_credits": on_demand_used,
            "remaining_included_credits": (included - used).max(0.0),
            "remaining_on_demand_credits": limit.map(|l| (l - on_demand_used).max(0.0)),
            "is_limit_exceeded": limit.is_some_and(|l| used >= included + l)
        }),
    )
}

/// Reads `from` and `to` (dates or RFC 3339 timestamps); defaults to the 30 days up to `now`,
/// the sandbox clock's (charges are stamped by it, so a default window that ended at the wall
/// clock's now would miss every charge made after `Sandbox::advance`).
fn window(
    query: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Response> {
    let parse = |name: &str| -> Result<Option<DateTime<Utc>>, Response> {
        match query_value(query, name) {
            None => Ok(None),
            Some(v) => super::timestamp(v).map(Some).ok_or_else(|| {
                bad_request(&format!(
                    "`{name}` must be a date or an RFC 3339 timestamp."
                ))
            }),
        }
    };
    let to = parse("to")?.unwrap_or(now);
    let from = match parse("from")? {
        Some(from) => from,
        None => to
            .checked_sub_signed(chrono::Duration::days(30))
            .ok_or_else(|| bad_request("`to` is too early."))?,
    };
    if to < from {
        return Err(bad_request("`to` must not be earlier than `from`."));
    }
    Ok((from, to))
}

fn usage(hs: &Hs, query: &[(String, String)]) -> Response {
    let (from, to) = match window(query, hs.clock.utc()) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let group_by = match query_value(query, "group_by").unwrap_or("feature") {
        g @ ("feature" | "day" | "feature,day") => g.to_owned(),
        _ => return bad_request("`group_by` must be feature, day or feature,day."),
    };
    let world = hs.world();
    let mut groups: std::collections::BTreeMap<(String, String), (f64, i64)> = Default::default();
    let mut total = 0.0;
    for op in world.ledger.iter().filter(|op| op.at >= from && op.at < to) {
        total += op.credits;
        let feature = if group_by.contains("feature") {
            op.feature.to_owned()
        } else {
            String::new()
        };
        let day = if group_by.contains("day") {
            op.at.format("%Y-%m-%d").to_string()
        } else {
            String::new()
        };
        let entry = groups.entry((feature, day)).or_default();
        entry.0 += op.credits;
        entry.1 += 1;
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|((feature, day), (credits, count))| {
            let mut g = json!({"credits_used": credits, "operation_count": count});
            if !feature.is_empty() {
                g["feature"] = json!(feature);
            }
            if !day.is_empty() {
                g["day"] = json!(day);
            }
            g
        })
        .collect();
    json(
        StatusCode::OK,
        &json!({"from": timestamp(from), "to": timestamp(to), "group_by": group_by, "total_credits_used": total, "groups": groups}),
    )
}

fn operations(hs: &Hs, query: &[(String, String)]) -> Response {
    let (from, to) = match window(query, hs.clock.utc()) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let feature = query_value(query, "feature");
    if feature.is_some_and(|f| f.is_empty() || f.chars().count() > 64) {
        return bad_request("`feature` must be 1 to 64 characters.");
    }
    let (limit, offset) = match page_params(query, "cursor", "credit-operations") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = hs.world();
    let operations = world
        .ledger
        .iter()
        .filter(|op| op.at >= from && op.at < to && feature.is_none_or(|f| f == op.feature));
    let render = |op: &CreditOp| {
        json!({
            "operation_uuid": op.uuid,
            "operation_type": "debit",
            "feature": op.feature,
            "credits": op.credits,
            "metadata": op.metadata,
            "timestamp": timestamp(op.at)
        })
    };
    json(
        StatusCode::OK,
        &page_of(
            "credit-operations",
            "operations",
            operations,
            render,
            limit,
            offset,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::prefers_event_stream;

    #[test]
    fn the_stream_goes_only_to_a_caller_that_prefers_it() {
        for accept in [
            "text/event-stream",
            "TEXT/EVENT-STREAM",
            "text/event-stream, application/json;q=0.5",
            "application/json;q=0.1, text/event-stream",
        ] {
            assert!(prefers_event_stream(accept), "{accept}");
        }
        for accept in [
            "application/json",
            "application/json, text/event-stream",
            "text/event-stream, application/json",
            "text/event-stream, */*",
            "text/event-stream;q=0",
            "text/event-stream;q=NaN, application/json;q=0.2",
            "*/*",
            "",
        ] {
            assert!(!prefers_event_stream(accept), "{accept}");
        }
    }
}
