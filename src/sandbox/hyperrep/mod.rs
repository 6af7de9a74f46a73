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

use std::sync::{Arc, LazyLock};

use axum::{
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
    persist::Changes,
    routes::{Api, Handler, Started},
    shared::{Half, Ids, State},
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

/// HyperRep's half: the organization. What either API creates is stamped with the clock,
/// and analytics windows end at it, so a test that moves it forward sees HyperRep move too.
type Hr = Half<Org>;

/// HyperRep's half, seeded as the configuration says; a seed that contradicts itself is
/// refused, named.
pub(super) fn start(
    config: &SandboxConfig,
    clock: Arc<Clock>,
    changes: Changes,
) -> Result<Started, String> {
    let hr = Hr::start(config, clock)?;
    let contract: Arc<dyn contract::Contract> = Arc::new(Contract {
        key: config.hyperrep_key.clone(),
    });
    let router = Api::new(contract.clone(), hr.clone(), HANDLERS, changes).router();
    Ok(Started {
        router,
        part: hr,
        contract,
    })
}

impl Hr {
    /// The agent a call names.
    fn agent(&self, org: &Org, call: &Call) -> Result<usize, Response> {
        org.agent(call.param("agent_id"))
            .ok_or_else(|| call.not_found("Agent not found"))
    }
}

impl State for Org {
    const KEY: &'static str = "hyperrep";

    fn seeded(config: &SandboxConfig, epoch: DateTime<Utc>) -> Result<Self, String> {
        match &config.hyperrep_seed {
            Some(seed) => Org::from_seed(seed),
            None => Ok(Org::seeded(&config.seed, epoch)),
        }
    }

    fn save(&self) -> Result<Box<RawValue>, String> {
        serde_json::value::to_raw_value(self).map_err(|e| e.to_string())
    }

    fn load(saved: &RawValue) -> Result<Self, String> {
        Org::from_saved(saved)
    }
}

impl Ids for Org {
    fn counter(&mut self) -> &mut u64 {
        &mut self.counter
    }
}
