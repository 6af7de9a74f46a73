//! HockeyStack's half of the sandbox, under its base path (`/api/revenue-agents/v1`): its
//! contract (bearer tokens, the `{"error": {code, category, message}}` envelope, rate-limit
//! headers), its state, and a handler for each operation of its model.

mod credits;
mod handlers;
mod render;
mod seed;
mod world;

use std::sync::{Arc, LazyLock};

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde_json::{json, value::RawValue};

use self::{
    render::Status,
    world::{Agent, Kind, Message, Role, World},
};
use super::{
    SandboxConfig,
    clock::Clock,
    contract::{self, Flaw, Place, Problem, RatePool},
    http::{self, json},
    persist::Changes,
    rate::{RateGate, RateLimits},
    routes::{Api, Handler, Started},
    shared::{Half, Ids, State},
};
use crate::{config::Api as _, hockeystack::HockeyStack, model::Operation};

/// The path of the API under its host, from the client's default base URL.
static BASE_PATH: LazyLock<String> =
    LazyLock::new(|| contract::base_path(HockeyStack::DEFAULT_BASE_URL));

/// HockeyStack's contract, with the tokens this sandbox accepts.
pub(super) struct Contract {
    tokens: Vec<String>,
}

impl contract::Contract for Contract {
    fn operations(&self) -> &'static [Operation] {
        HockeyStack::OPERATIONS
    }

    fn base_path(&self) -> &'static str {
        &BASE_PATH
    }

    fn credential_header(&self) -> HeaderName {
        header::AUTHORIZATION
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response> {
        http::header(headers, "authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|token| self.tokens.iter().any(|accepted| accepted == token))
            .map(str::to_owned)
            .ok_or_else(|| {
                self.refuse(
                    StatusCode::UNAUTHORIZED,
                    Problem::Unauthorized,
                    "The API token is missing, malformed or revoked.",
                )
            })
    }

    fn refuse(&self, status: StatusCode, problem: Problem, message: &str) -> Response {
        let (code, category) = match problem {
            Problem::Unauthorized => ("auth.invalid_token", "unauthorized"),
            Problem::BadRequest => ("request.invalid", "invalid_request"),
            Problem::NotFound => ("resource.not_found", "not_found"),
            Problem::MethodNotAllowed => ("request.method_not_allowed", "invalid_request"),
            Problem::Conflict(code) => (code, "conflict"),
            Problem::RateLimited => ("rate_limit.exceeded", "rate_limited"),
            Problem::ServerError => ("server.error", "server_error"),
            Problem::CreditsExhausted => ("credits.limit_exceeded", "credits_exhausted"),
        };
        json(
            status,
            &json!({"error": {"code": code, "category": category, "message": message}}),
        )
    }

    fn invalid(&self, _place: Place, name: &str, flaw: Flaw) -> Response {
        let message = if name.is_empty() {
            "The body must be a JSON object.".to_owned()
        } else {
            flaw.sentence(name)
        };
        self.refuse(StatusCode::BAD_REQUEST, Problem::BadRequest, &message)
    }

    fn rate_headers(&self, headers: &mut HeaderMap, pool: &RatePool) {
        headers.insert("x-ratelimit-pool", HeaderValue::from_static(pool.name));
        headers.insert("x-ratelimit-limit", HeaderValue::from(pool.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(pool.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(pool.reset));
    }
}

/// Every operation of the model and its handler.
const HANDLERS: &[(&str, Handler<Hs>)] = &[
    ("health", handlers::health),
    ("me", handlers::me),
    ("list_company_agents", handlers::list_agents),
    ("list_deal_agents", handlers::list_agents),
    ("init_company_agent", handlers::init_agent),
    ("init_deal_agent", handlers::init_agent),
    ("get_company_agent", handlers::get_agent),
    ("get_deal_agent", handlers::get_agent),
    ("delete_company_agent", handlers::delete_agent),
    ("delete_deal_agent", handlers::delete_agent),
    ("create_deal_conversation", handlers::create_conversation),
    ("create_company_conversation", handlers::create_conversation),
    ("list_deal_conversations", handlers::list_conversations),
    ("list_company_conversations", handlers::list_conversations),
    ("delete_deal_conversation", handlers::delete_conversation),
    ("delete_company_conversation", handlers::delete_conversation),
    ("list_deal_conversation_messages", handlers::list_messages),
    (
        "list_company_conversation_messages",
        handlers::list_messages,
    ),
    ("send_deal_message", handlers::send_message),
    ("send_company_message", handlers::send_message),
    ("get_deal_message_job", handlers::get_job),
    ("get_company_message_job", handlers::get_job),
    ("list_tasks", handlers::list_tasks),
    ("create_task", handlers::create_task),
    ("get_task", handlers::get_task),
    ("update_task", handlers::update_task),
    ("delete_task", handlers::delete_task),
    ("credits_balance", credits::balance),
    ("credits_usage", credits::usage),
    ("credits_operations", credits::operations),
];

/// HockeyStack's half: the world and what its handlers read of the configuration.
type Hs = Half<World>;

/// HockeyStack's half, seeded as the configuration says (a seed that contradicts itself is
/// refused, named), and its rate pools.
pub(super) fn start(
    config: &SandboxConfig,
    clock: Arc<Clock>,
    changes: Changes,
) -> Result<(Started, Arc<RateLimits>), String> {
    let hs = Hs::start(config, clock.clone())?;
    let mut tokens = vec![config.hockeystack_token.clone()];
    tokens.extend(config.extra_hockeystack_tokens.iter().cloned());
    let contract: Arc<dyn contract::Contract> = Arc::new(Contract { tokens });
    let rates = Arc::new(RateLimits::new(
        config.read_limit,
        config.write_limit,
        config.rate_window,
    ));
    let router = Api::new(contract.clone(), hs.clone(), HANDLERS, changes)
        .with_rate_limits(RateGate {
            limits: rates.clone(),
            clock,
            contract: contract.clone(),
        })
        .router();
    let started = Started {
        router,
        part: hs,
        contract,
    };
    Ok((started, rates))
}

impl Hs {
    fn base_path(&self) -> &'static str {
        &BASE_PATH
    }

    fn status(&self, id: &str, agent: &Agent, now: DateTime<Utc>) -> Status {
        render::status(id, agent, now, self.config.provisioning_time)
    }

    fn render_agent(
        &self,
        kind: Kind,
        id: &str,
        agent: &Agent,
        now: DateTime<Utc>,
    ) -> serde_json::Value {
        render::agent(
            &BASE_PATH,
            kind,
            id,
            agent,
            now,
            self.config.provisioning_time,
        )
    }

    /// Moves finished jobs' replies into their conversations and forgets jobs past retention.
    fn settle_jobs(&self, world: &mut World) {
        let config = &self.config;
        let mut finished = Vec::new();
        let clock = &self.clock;
        world.jobs.retain(|_, job| {
            let age = clock.since(job.created);
            if age < config.job_time {
                return age < config.pending_retention;
            }
            if !job.recorded && !job.fail {
                finished.push((job.conversation.clone(), job.reply.clone()));
            }
            job.recorded = true;
            age - config.job_time < config.finished_retention
        });
        let now = clock.now();
        for (cid, reply) in finished {
            let id = world.next("msg");
            if let Some(messages) = world.messages.get_mut(&cid) {
                messages.push(Message {
                    id,
                    role: Role::Assistant,
                    content: reply,
                    created_at: now,
                });
            }
        }
    }
}

impl State for World {
    const KEY: &'static str = "hockeystack";

    fn seeded(config: &SandboxConfig, epoch: DateTime<Utc>) -> Result<Self, String> {
        match &config.hockeystack_seed {
            Some(seed) => World::from_seed(seed, epoch),
            None => Ok(World::seeded(epoch)),
        }
    }

    fn save(&self) -> Result<Box<RawValue>, String> {
        serde_json::value::to_raw_value(&self.saved()).map_err(|e| e.to_string())
    }

    fn load(saved: &RawValue) -> Result<Self, String> {
        let saved: world::Saved = serde_json::from_str(saved.get()).map_err(|e| e.to_string())?;
        World::from_saved(saved)
    }
}

impl Ids for World {
    fn counter(&mut self) -> &mut u64 {
        &mut self.counter
    }
}
