//! What a new dependent writes first, from README: the sandbox, both clients, a question to an
//! agent, a list followed across its pages. Exits non-zero on any failure.

use futures_util::TryStreamExt;
use revenue_agents::{
    Paginated,
    sandbox::{Sandbox, SandboxConfig},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let hs = sandbox.hockeystack_client()?;
    let me = hs.me().send().await?;
    let reply = hs.ask_deal("9001234567", "Any risk?").await?;
    assert!(!reply.text().is_empty(), "the agent answered nothing");

    let hr = sandbox.hyperrep_client()?;
    let organizations = hr.list_organizations().send().await?.into_inner().data;
    let organization = &organizations.first().ok_or("no organization")?.organization_id;
    let sales: Vec<_> = hr
        .list_sales()
        .organization_id(organization.clone())
        .items()
        .try_collect()
        .await?;
    println!(
        "workspace {}, a reply of {} characters, {} sales",
        me.workspace.name,
        reply.text().len(),
        sales.len()
    );
    sandbox.shutdown().await;
    Ok(())
}
