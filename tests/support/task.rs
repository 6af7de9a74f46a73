//! A task to create, numbered: the write the rate-budget tests and benchmark repeat. Shared
//! by `#[path]` between tests and benches.

use revenue_agents::hockeystack::types;

/// Task number `n`, an email follow-up on the sandbox's documented deal.
pub fn task(n: usize) -> types::builder::TaskCreate {
    types::TaskCreate::builder()
        .task_type(types::TaskType::Email)
        .task_title(format!("Follow up {n}"))
        .assignee_id("usr_204")
        .targets(types::TaskTargetsInput::builder().deal_id("9001234567"))
}
