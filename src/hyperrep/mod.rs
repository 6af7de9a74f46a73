//! HyperRep API v2: an organization's agents, conversations, contacts, companies, sales and
//! analytics, plus message and reply drafts.
//!
//! [`Client`] is generated from `openapi/hyperrep.yaml`; every operation is a method that
//! returns a request builder, finished with `.send().await`:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use revenue_agents::hyperrep;
//!
//! let client = hyperrep::Client::from_env()?; // HYPERREP_API_KEY
//! let organizations = client.list_organizations().send().await?;
//! for organization in &organizations.data {
//!     let agents = client
//!         .list_agents()
//!         .organization_id(organization.organization_id.as_str())
//!         .limit(50)
//!         .send()
//!         .await?;
//!     println!("{}: {} agents on the first page", organization.name, agents.data.len());
//! }
//! # Ok(()) }
//! ```
//!
//! Value sets the pages list without closing them (a message's [`MessageModality`] and
//! [`MessageDirection`], a sale stage's [`SaleStatusCode`]) are open enums: a value HyperRep
//! adds later decodes as `Unknown` with its text, never as a failed response. A conversation's
//! `folder`, which each organization defines, stays a string.

mod enums;

pub use enums::*;
pub use generated::*;

/// The generated client. Every public item is documented from the spec (build.rs fills in what
/// progenitor leaves bare), and `missing_docs` holds it to that. progenitor lists multi-line
/// parameter descriptions in a way clippy's doc lints dislike.
#[allow(clippy::doc_lazy_continuation)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/hyperrep.rs"));
}

/// Typed [`httpmock`] mocks of every HyperRep operation (feature `mock`), over the same types
/// the client uses: `server.get_task(|when, then| { ... })` after
/// `use revenue_agents::hyperrep::mock::MockServerExt`. See the README's "Testing your code".
#[cfg(feature = "mock")]
#[allow(clippy::all)]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/hyperrep_mock.rs"));
}

/// The operation model (see `crate::model`) and the typed paginators it describes.
mod operations {
    include!(concat!(env!("OUT_DIR"), "/hyperrep_operations.rs"));
}

#[cfg(any(feature = "mcp", feature = "cli"))]
pub(crate) use operations::TAGS;

/// The variable that names the HyperRep organization the tool uses when a command names none
/// (the sandbox's program prints it for its one organization).
#[cfg(any(feature = "cli", feature = "sandbox"))]
pub(crate) const ORGANIZATION_VARIABLE: &str = "HYPERREP_ORGANIZATION_ID";

/// Marker for HyperRep in [`ClientBuilder`](crate::ClientBuilder).
#[derive(Debug, Clone, Copy)]
pub struct HyperRep;

crate::config::api_client! {
    marker: HyperRep,
    client: Client,
    name: "HyperRep",
    default_base_url: "https://api.hyperrep.ai",
    credential_variable: "HYPERREP_API_KEY",
    base_url_variable: "HYPERREP_BASE_URL",
    auth_header: reqwest::header::HeaderName::from_static("x-api-key"),
    auth_value: |key| key.to_owned(),
    operations: operations::OPERATIONS,
    credits_on_503: false,
    default_budget: None,
}

/// The body of HyperRep's error answers. The spec gives a validation failure its own body
/// (`ValidationErrorEnvelope`); for the crate both are one type whose `detail` is either form,
/// since the status alone does not promise the form (see `build.rs`).
pub(crate) type ErrorBody = types::ErrorEnvelope;

impl crate::error::ApiError for types::ErrorEnvelope {
    fn body(&self) -> crate::error::ApiErrorBody {
        match &self.detail {
            types::ErrorEnvelopeDetail::String(message) => crate::error::ApiErrorBody {
                message: message.clone(),
                ..Default::default()
            },
            types::ErrorEnvelopeDetail::Array(problems) => crate::error::ApiErrorBody {
                message: "request validation failed".into(),
                problems: problems
                    .iter()
                    .map(|p| crate::error::ValidationProblem {
                        location: p
                            .loc
                            .iter()
                            .map(|part| match part {
                                types::ValidationErrorLocItem::String(s) => s.clone(),
                                types::ValidationErrorLocItem::Integer(i) => i.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("."),
                        message: p.msg.clone(),
                        kind: p.type_.clone(),
                    })
                    .collect(),
                ..Default::default()
            },
        }
    }
}
