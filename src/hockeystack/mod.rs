//! HockeyStack Revenue Agents API v1: AI agents attached to CRM deals and companies.
//!
//! [`Client`] is generated from `openapi/hockeystack.yaml`; every operation is a method that
//! returns a request builder, finished with `.send().await`:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use revenue_agents::hockeystack;
//!
//! let client = hockeystack::Client::from_env()?; // HOCKEYSTACK_API_TOKEN
//! let me = client.me().send().await?;
//! println!("workspace: {}", me.workspace.name);
//!
//! let agent = client.get_deal_agent().deal_id("9001234567").send().await?;
//! println!("agent is {}", agent.status);
//! # Ok(()) }
//! ```
//!
//! Status-like enums ([`AgentStatus`], [`MessageJobStatus`], [`TaskStatus`], …) are open: a
//! value HockeyStack adds later decodes as `Unknown` instead of failing the response.
//!
//! A message's text is sent as `message`, the name HockeyStack's API reference uses; its
//! quickstart spells the same field `content`. The spec's body is a `oneOf` of the two
//! spellings and the sandbox accepts both; the crate offers the reference's spelling only
//! ([`types::builder::SendMessageRequest::message`]), and refuses a message without text
//! before it is sent.

mod agents;
mod ask;
mod ensure;
mod enums;
mod messages;
mod ready;
mod stream;

pub use agents::{Agent, AgentRecord};
pub use ask::{Ask, AskEvent, AskStream, Delivery};
pub use ensure::{DEFAULT_PROVISIONING_RUNS, EnsureAgent};
pub use enums::*;
pub use messages::{Reply, WaitForJob};
pub use stream::{ReplyEvent, ReplyStream, ToolArgs};

pub use generated::*;

/// The generated client. Every public item is documented from the spec (build.rs fills in what
/// progenitor leaves bare), and `missing_docs` holds it to that. progenitor lists multi-line
/// parameter descriptions in a way clippy's doc lints dislike.
#[allow(clippy::doc_lazy_continuation)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/hockeystack.rs"));
}

/// Typed [`httpmock`] mocks of every HockeyStack operation (feature `mock`), over the same types
/// the client uses: `server.get_task(|when, then| { ... })` after
/// `use revenue_agents::hockeystack::mock::MockServerExt`. See the README's "Testing your code".
#[cfg(feature = "mock")]
#[allow(clippy::all)]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/hockeystack_mock.rs"));
}

/// The operation model (see `crate::model`) and the typed paginators it describes.
mod operations {
    include!(concat!(env!("OUT_DIR"), "/hockeystack_operations.rs"));
}

/// An operation of HockeyStack's model; the ids the hand-written calls name are checked by a
/// test against the spec.
pub(crate) fn operation(id: &str) -> &'static crate::model::Operation {
    crate::model::find(operations::OPERATIONS, id)
        .unwrap_or_else(|| panic!("the HockeyStack spec has no operation {id}"))
}

#[cfg(any(feature = "mcp", feature = "cli"))]
pub(crate) use operations::TAGS;

/// Marker for HockeyStack in [`ClientBuilder`](crate::ClientBuilder).
#[derive(Debug, Clone, Copy)]
pub struct HockeyStack;

crate::config::api_client! {
    marker: HockeyStack,
    client: Client,
    name: "HockeyStack",
    default_base_url: "https://app.hockeystack.com/api/revenue-agents/v1",
    credential_variable: "HOCKEYSTACK_API_TOKEN",
    base_url_variable: "HOCKEYSTACK_BASE_URL",
    auth_header: reqwest::header::AUTHORIZATION,
    auth_value: |token| format!("Bearer {token}"),
    operations: operations::OPERATIONS,
    credits_on_503: true,
    default_budget: Some(crate::budget::RateBudget::hockeystack()),
}

/// The body of HockeyStack's error answers.
pub(crate) type ErrorBody = types::ErrorEnvelope;

impl crate::error::ApiError for types::ErrorEnvelope {
    fn body(&self) -> crate::error::ApiErrorBody {
        crate::error::ApiErrorBody {
            code: Some(self.error.code.clone()),
            category: Some(self.error.category.clone()),
            message: self.error.message.clone(),
            problems: Vec::new(),
        }
    }
}
