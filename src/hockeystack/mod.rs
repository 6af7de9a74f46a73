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

mod enums;

pub use enums::*;

pub use generated::*;

/// The generated client: field docs come from the spec, where the spec has them. progenitor
/// lists multi-line parameter descriptions in a way clippy's doc lints dislike.
#[allow(missing_docs, clippy::doc_lazy_continuation)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/hockeystack.rs"));
}

mod operations {
    include!(concat!(env!("OUT_DIR"), "/hockeystack_operations.rs"));
}

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
    public_operations: &["health"],
}
