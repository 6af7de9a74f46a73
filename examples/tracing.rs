//! Every request, retry and wait step of the crate in your logs, with `tracing-subscriber`.
//!
//! ```sh
//! cargo run --example tracing --features sandbox,tracing
//! ```
//!
//! Runs the one-call ask against the built-in sandbox and prints one line per finished request
//! span (API, operation, method, path template, attempt, status, request id), per retry and
//! per wait step.

use std::time::Duration;

use revenue_agents::{
    PollPolicy,
    sandbox::{Sandbox, SandboxConfig},
};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .init();

    let sandbox = Sandbox::start(SandboxConfig {
        provisioning_time: Duration::from_millis(300),
        job_time: Duration::from_millis(200),
        ..SandboxConfig::default()
    })
    .await?;
    let client = sandbox.hockeystack_client()?;
    let quick = PollPolicy::new(Duration::from_millis(100), Duration::from_millis(200));
    let reply = client
        .ask_deal("9001234567", "What is the biggest risk?")
        .agent_policy(quick.clone())
        .job_policy(quick)
        .await?;
    println!("{}", reply.text());
    sandbox.shutdown().await;
    Ok(())
}
