//! HyperRep's half of the sandbox, under `/api/v2/organizations`: its contract (an
//! `X-API-KEY`, the `{"detail": …}` envelope, FastAPI's validation errors, the organization id
//! every path carries), its seeded organization, and a handler for each operation of its
//! model.

mod analytics;
mod handlers;
mod lists;
mod org;
mod render;
mod seed;

use std::sync::{Arc, LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::{
    Router,
    http::{HeaderMap, HeaderName, StatusCode},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde_json::{json, value::RawValue};

use self::org::Org;
use super::{
    SandboxConfig,
    clock::Clock,
    contract::{self, Flaw, Place, Problem},
    http::{self, Call, detail, json},
    persist::{Changes, Install, Part},
    routes::{Api, Handler},
};
use crate::{config::Api as _, hyperrep::HyperRep, model::Operation};

/// The organization, and below the first agent, carry the ids of HyperRep's own documentation
/// examples, so that its curl examples run against the sandbox as printed.
pub(super) const ORG_ID: &str =
    "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";
const DOCUMENTED_AGENT_ID: &str = "gAAAAABexampleAgentIdReturnedByApi5qN8xLm3sV6kRt2cY9hJ4uW1dF7";

/// The path of the API under its host, from the client's default base URL.
static BASE_PATH: LazyLock<String> =
    LazyLock::new(|| contract::base_path(HyperRep::DEFAULT_BASE_URL));

/// HyperRep's contract, with the key this sandbox accepts.
pub(super) struct Contract {
    key: String,
}

impl contract::Contract for Contract {
    fn operations(&self) -> &'static [Operation] {
        HyperRep::OPERATIONS
    }

    fn base_path(&self) -> &'static str {
        &BASE_PATH
    }

    fn credential_header(&self) -> HeaderName {
        HeaderName::from_static("x-api-key")
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response> {
        match http::header(headers, "x-api-key") {
            None => Err(detail(StatusCode::FORBIDDEN, "Missing API Key")),
            Some(key) if key != self.key => Err(detail(StatusCode::FORBIDDEN, "Invalid API Key")),
            Some(key) => Ok(key.to_owned()),
        }
    }

    fn refuse(&self, status: StatusCode, _problem: Problem, message: &str) -> Response {
        detail(status, message)
    }

    /// A FastAPI-style validation failure: 422 with where and what.
    fn invalid(&self, place: Place, name: &str, flaw: Flaw) -> Response {
        let (message, kind) = match &flaw {
            Flaw::Missing => ("field required".to_owned(), "value_error.missing"),
            Flaw::NotObject => ("value is not a valid dict".to_owned(), "type_error.dict"),
            Flaw::NotString => ("str type expected".to_owned(), "type_error.str"),
            Flaw::Length { max, .. } => (
                format!("ensure this value has at most {max} characters"),
                "value_error.any_str.max_length",
            ),
            Flaw::NotBool => (
                "value could not be parsed to a boolean".to_owned(),
                "type_error.bool",
            ),
            Flaw::NotList => ("value is not a valid list".to_owned(), "type_error.list"),
            Flaw::NotEmail => (
                "value is not a valid email address".to_owned(),
                "value_error.email",
            ),
            Flaw::NotDateTime => ("invalid datetime format".to_owned(), "value_error.datetime"),
            Flaw::NotInteger { .. } => (
                "value is not a valid integer".to_owned(),
                "type_error.integer",
            ),
            Flaw::Below { min, .. } => (
                format!("ensure this value is greater than or equal to {min}"),
                "value_error.number.not_ge",
            ),
            Flaw::Above { max, .. } => (
                format!("ensure this value is less than or equal to {max}"),
                "value_error.number.not_le",
            ),
            Flaw::NotOneOf(values) => (
                format!(
                    "value is not a valid enumeration member; permitted: {}",
                    values
                        .iter()
                        .map(|v| format!("'{v}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "type_error.enum",
            ),
        };
        let mut location = vec![place.name()];
        if !name.is_empty() {
            location.push(name);
        }
        json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"detail": [{"loc": location, "msg": message, "type": kind}]}),
        )
    }

    /// Every path below the organizations names this sandbox's one organization; HyperRep
    /// words another as a rejected value, which the spec lists under 400.
    fn check_path(&self, params: &[(&'static str, String)]) -> Result<(), Response> {
        match params.iter().find(|(name, _)| *name == "organization_id") {
            Some((_, id)) if id != ORG_ID => {
                Err(detail(StatusCode::BAD_REQUEST, "Invalid organization_id"))
            }
            _ => Ok(()),
        }
    }
}

/// Every operation of the model and its handler.
const HANDLERS: &[(&str, Handler<Hr>)] = &[
    ("list_organizations", handlers::list_organizations),
    ("list_agents", handlers::list_agents),
    ("get_agent", handlers::get_agent),
    (
        "list_agent_conversations",
        handlers::list_agent_conversations,
    ),
    ("list_agent_sales", handlers::list_agent_sales),
    ("get_agent_analytics", analytics::agent_all),
    (
        "get_agent_conversation_analytics",
        analytics::agent_conversations,
    ),
    ("get_agent_sales_analytics", analytics::agent_sales),
    ("list_conversations", handlers::list_conversations),
    ("get_conversation", handlers::get_conversation),
    ("list_conversation_messages", handlers::list_messages),
    ("get_conversation_message", handlers::get_message),
    ("create_response_draft", handlers::create_response_draft),
    ("list_response_drafts", handlers::list_response_drafts),
    ("list_contacts", handlers::list_contacts),
    ("create_contact", handlers::create_contact),
    ("get_contact", handlers::get_contact),
    (
        "list_contact_conversations",
        handlers::list_contact_conversations,
    ),
    ("list_companies", handlers::list_companies),
    ("create_company", handlers::create_company),
    ("get_company", handlers::get_company),
    ("list_sales", handlers::list_sales),
    ("get_sale", handlers::get_sale),
    ("create_message_draft", handlers::create_message_draft),
    (
        "create_messages_draft_legacy",
        handlers::create_messages_draft_legacy,
    ),
    ("get_conversation_analytics", analytics::conversations),
    ("get_response_rate_analytics", analytics::response_rate),
];

/// HyperRep's state.
pub(super) struct Hr {
    config: SandboxConfig,
    /// When the sandbox started: the generated organization's dates end there, also after a
    /// reset.
    epoch: DateTime<Utc>,
    /// What is created is stamped with it, and analytics windows end at it, so a test that
    /// moves it forward sees HyperRep move too.
    clock: Arc<Clock>,
    org: RwLock<Org>,
}

/// What [`start`] makes.
pub(super) struct Started {
    pub(super) router: Router,
    pub(super) part: Arc<dyn Part>,
    pub(super) contract: Arc<dyn contract::Contract>,
}

/// HyperRep's half, seeded as the configuration says; a seed that contradicts itself is
/// refused, named.
pub(super) fn start(
    config: &SandboxConfig,
    clock: Arc<Clock>,
    changes: Changes,
) -> Result<Started, String> {
    let epoch = clock.now();
    let org = match &config.hyperrep_seed {
        Some(seed) => Org::from_seed(seed)?,
        None => Org::seeded(&config.seed, epoch),
    };
    let contract: Arc<dyn contract::Contract> = Arc::new(Contract {
        key: config.hyperrep_key.clone(),
    });
    let hr = Arc::new(Hr {
        config: config.clone(),
        epoch,
        clock,
        org: RwLock::new(org),
    });
    let router = Api::new(contract.clone(), hr.clone(), HANDLERS, changes).router();
    Ok(Started {
        router,
        part: hr,
        contract,
    })
}

impl Hr {
    /// The organization, for reading: reads share it. A handler that panicked while holding
    /// the lock (a bug) leaves it poisoned; the sandbox goes on serving rather than failing
    /// every later request.
    fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.org
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organization, for changing it: one handler at a time.
    fn org_mut(&self) -> RwLockWriteGuard<'_, Org> {
        self.org
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The agent a call names.
    fn agent(&self, org: &Org, call: &Call) -> Result<usize, Response> {
        org.agent(call.param("agent_id"))
            .ok_or_else(|| call.not_found("Agent not found"))
    }

    /// Puts `org` in place, its id counter never below the one it replaces.
    fn install(&self, mut org: Org) {
        let mut current = self.org_mut();
        org.counter = org.counter.max(current.counter);
        *current = org;
    }
}

impl Part for Hr {
    fn key(&self) -> &'static str {
        "hyperrep"
    }

    fn save(&self) -> Result<Box<RawValue>, String> {
        serde_json::value::to_raw_value(&*self.org()).map_err(|e| e.to_string())
    }

    fn read<'a>(&'a self, saved: &RawValue) -> Result<Install<'a>, String> {
        let org = Org::from_saved(saved)?;
        Ok(Box::new(move || self.install(org)))
    }

    fn reset(&self) {
        let org = match &self.config.hyperrep_seed {
            // The seed was checked when the sandbox started.
            Some(seed) => Org::from_seed(seed).unwrap_or_default(),
            None => Org::seeded(&self.config.seed, self.epoch),
        };
        self.install(org);
    }
}
