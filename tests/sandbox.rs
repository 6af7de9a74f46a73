//! The sandbox behaves like the services, driven through the crate's own clients.
#![cfg(all(feature = "sandbox", feature = "hockeystack", feature = "hyperrep"))]

mod common;

use common::{fast_sandbox, quick_waits};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use revenue_agents::{
    ErrorKind, Paginated, RetryPolicy,
    hockeystack::{self, AgentStatus, ReplyEvent, TaskStatus, types},
    hyperrep,
    sandbox::{Sandbox, SandboxConfig, SeedSizes},
};

/// A client that shows the sandbox's answers as they are: no retries, no rate budget.
fn hs(sandbox: &Sandbox) -> hockeystack::Client {
    hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .retry_policy(RetryPolicy::none())
        .no_rate_budget()
        .build()
        .unwrap()
}

fn error<T: std::fmt::Debug>(
    result: Result<T, impl Into<revenue_agents::Error>>,
) -> revenue_agents::Error {
    result.map_err(Into::into).expect_err("an error")
}

#[tokio::test]
async fn wrong_credentials_get_the_documented_answers() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let wrong = hockeystack::Client::builder()
        .credential("hsr_live_wrong")
        .base_url(sandbox.hockeystack_url())
        .build()
        .unwrap();
    let e = error(wrong.me().send().await);
    assert_eq!(
        (e.kind(), e.status()),
        (&ErrorKind::Unauthorized, Some(401))
    );
    wrong.health().send().await.expect("health needs no token");

    let wrong = hyperrep::Client::builder()
        .credential("nope")
        .base_url(sandbox.hyperrep_url())
        .build()
        .unwrap();
    let e = error(wrong.list_organizations().send().await);
    assert_eq!(
        (e.kind(), e.status()),
        (&ErrorKind::Unauthorized, Some(403))
    );
    assert_eq!(e.api_error().unwrap().message, "Invalid API Key");
}

#[tokio::test]
async fn an_agent_provisions_over_time_and_a_second_put_conflicts() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = hs(&sandbox);
    assert_eq!(
        error(client.get_deal_agent().deal_id("D-1").send().await).kind(),
        &ErrorKind::NotFound
    );
    let started = client
        .init_deal_agent()
        .deal_id("D-1")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status, AgentStatus::Initializing);
    assert_eq!(
        error(client.init_deal_agent().deal_id("D-1").send().await).kind(),
        &ErrorKind::Conflict
    );
    let active = client
        .ensure_deal_agent("D-1")
        .policy(quick_waits())
        .await
        .unwrap();
    assert_eq!(active.status, AgentStatus::Active);
    assert!(active.agent_id.is_some());
}

#[tokio::test]
async fn provisioning_failures_are_retried_and_reported() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = hs(&sandbox);
    // `fail-` fails its first run only: ensure restarts it and succeeds.
    let agent = client
        .ensure_company_agent("fail-acme")
        .policy(quick_waits())
        .await
        .unwrap();
    assert_eq!(agent.status, AgentStatus::Active);
    // `broken-` fails every run.
    let e = client
        .ensure_deal_agent("broken-1")
        .policy(quick_waits())
        .max_provisioning_runs(2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::ProvisioningFailed {
                attempts: 2,
                message: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn jobs_complete_fail_and_expire() {
    let config = SandboxConfig {
        finished_retention: Duration::from_millis(300),
        ..fast_sandbox()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = hs(&sandbox);
    let reply = client
        .ask_deal("D-2", "What is the biggest risk?")
        .delivery(revenue_agents::hockeystack::Delivery::Job)
        .agent_policy(quick_waits())
        .job_policy(quick_waits())
        .await
        .unwrap();
    assert!(
        reply.text().contains("What is the biggest risk"),
        "{}",
        reply.text()
    );

    let failed = client
        .ask_deal("D-2", "#fail please")
        .delivery(revenue_agents::hockeystack::Delivery::Job)
        .conversation(reply.conversation_id.as_str())
        .job_policy(quick_waits())
        .await;
    assert!(matches!(
        failed.unwrap_err().kind(),
        ErrorKind::JobFailed { .. }
    ));

    sandbox.advance(Duration::from_millis(400)); // past the retention window
    let e = client
        .wait_for_deal_job(
            "D-2",
            reply.conversation_id.as_str(),
            reply.job_id.as_deref().expect("asked as a job"),
        )
        .policy(quick_waits())
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::JobExpired { .. }), "{e:?}");

    let messages: Vec<_> = client
        .list_deal_conversation_messages()
        .deal_id("D-2")
        .cid(reply.conversation_id.as_str())
        .items()
        .try_collect()
        .await
        .unwrap();
    let roles: Vec<_> = messages
        .iter()
        .map(|m| m.role.as_ref().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user"],
        "the failed job adds no reply"
    );
}

#[tokio::test]
async fn a_streamed_reply_has_deltas_a_tool_pair_and_done() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = hs(&sandbox);
    client
        .ensure_deal_agent("D-3")
        .policy(quick_waits())
        .await
        .unwrap();
    let conversation = client
        .create_deal_conversation()
        .deal_id("D-3")
        .send()
        .await
        .unwrap();
    let events: Vec<ReplyEvent> = client
        .stream_deal_reply("D-3", &conversation.conversation_id, "Next step?")
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ReplyEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(text.contains("Next step"), "{text}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ReplyEvent::ToolUse { id: Some(id), .. } if id == "tu_1"))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ReplyEvent::ToolResult { id: Some(id), .. } if id == "tu_1"))
    );
    assert!(matches!(events.last(), Some(ReplyEvent::Done { .. })));
}

#[tokio::test]
async fn tasks_follow_their_state_machine() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = hs(&sandbox);
    let seeded = client.list_tasks().send().await.unwrap();
    let id = seeded.tasks[0].task_id;
    let dismiss = types::TaskUpdate::builder().status(types::TaskCloseStatus::Dismissed);
    let e = error(
        client
            .update_task()
            .task_id(types::TaskId(id))
            .body(dismiss)
            .send()
            .await,
    );
    assert_eq!(
        e.kind(),
        &ErrorKind::BadRequest,
        "dismissing needs a reason"
    );
    let complete = types::TaskUpdate::builder().status(types::TaskCloseStatus::Completed);
    let done = client
        .update_task()
        .task_id(types::TaskId(id))
        .body(complete.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert!(done.completed_at.is_some());
    let e = error(
        client
            .update_task()
            .task_id(types::TaskId(id))
            .body(complete)
            .send()
            .await,
    );
    assert_eq!(e.kind(), &ErrorKind::Conflict, "a final task cannot change");
    client
        .delete_task()
        .task_id(types::TaskId(id))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error(client.get_task().task_id(types::TaskId(id)).send().await).kind(),
        &ErrorKind::NotFound
    );
    assert_eq!(
        client.list_tasks().send().await.unwrap().tasks.len(),
        seeded.tasks.len() - 1
    );
}

#[tokio::test]
async fn credits_run_out_with_a_503() {
    let config = SandboxConfig {
        included_credits: 30.0,
        on_demand_credit_limit: Some(0.0),
        ..fast_sandbox()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = hs(&sandbox);
    client
        .init_deal_agent()
        .deal_id("D-4")
        .send()
        .await
        .unwrap(); // 20 credits
    let e = error(client.init_deal_agent().deal_id("D-5").send().await); // 20 more: over the cap
    assert_eq!(e.kind(), &ErrorKind::CreditsExhausted);
    let balance = client.credits_balance().send().await.unwrap();
    assert_eq!(balance.monthly_used_credits, 20.0);
    let usage = client.credits_usage().send().await.unwrap();
    assert_eq!(usage.total_credits_used, 20.0);
}

#[tokio::test]
async fn credit_windows_follow_the_sandbox_clock() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    // Two months on: a charge now is stamped by the sandbox clock, and the default window (the
    // last 30 days) must end at that clock's now to hold it.
    sandbox.advance(Duration::from_secs(60 * 24 * 3600));
    let client = hs(&sandbox);
    client
        .init_deal_agent()
        .deal_id("D-clock")
        .send()
        .await
        .unwrap();
    let usage = client.credits_usage().send().await.unwrap();
    assert!(usage.total_credits_used > 0.0, "{usage:?}");
    let ledger = client.credits_operations().send().await.unwrap();
    assert!(!ledger.operations.is_empty(), "{ledger:?}");
}

#[tokio::test]
async fn the_write_pool_answers_429_with_retry_after_and_headers() {
    let config = SandboxConfig {
        write_limit: 2,
        ..fast_sandbox()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = hs(&sandbox);
    client
        .delete_deal_agent()
        .deal_id("x")
        .send()
        .await
        .unwrap();
    client
        .delete_deal_agent()
        .deal_id("y")
        .send()
        .await
        .unwrap();
    let limit = client.rate_limit().unwrap();
    assert_eq!(
        (limit.pool.as_deref(), limit.limit, limit.remaining),
        (Some("write"), Some(2), Some(0))
    );
    let e = error(client.delete_deal_agent().deal_id("z").send().await);
    assert!(
        matches!(e.kind(), ErrorKind::RateLimited { retry_after: Some(d) } if *d > Duration::ZERO && *d <= Duration::from_secs(60))
    );
    client.me().send().await.expect("the read pool is separate");
}

#[tokio::test]
async fn hyperrep_pages_through_a_large_seed_without_loss_or_repeats() {
    let config = SandboxConfig {
        seed: SeedSizes {
            sales: 2_345,
            ..SeedSizes::default()
        },
        ..fast_sandbox()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&client).await;
    let sales: Vec<_> = client
        .list_sales()
        .organization_id(org.as_str())
        .limit(500)
        .items()
        .try_collect()
        .await
        .unwrap();
    let ids: std::collections::HashSet<_> = sales.iter().map(|s| s.sale_id.clone()).collect();
    assert_eq!((sales.len(), ids.len()), (2_345, 2_345));

    let now = chrono::Utc::now();
    let recent = client
        .list_sales()
        .organization_id(org.as_str())
        .start_date(now - chrono::Duration::days(30))
        .end_date(now)
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert!(
        !recent.is_empty() && recent.len() < sales.len() / 2,
        "{}",
        recent.len()
    );
    assert!(
        recent
            .iter()
            .all(|s| s.created_at >= now - chrono::Duration::days(30))
    );
}

#[tokio::test]
async fn hyperrep_validates_like_the_service() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&client).await;
    let e = error(
        client
            .list_contacts()
            .organization_id(org.as_str())
            .limit(501)
            .send()
            .await,
    );
    // A page size beyond the documented 500 never reaches the service.
    assert!(
        matches!(e.kind(), ErrorKind::InvalidRequest { reason } if reason.contains("limit")),
        "{e:?}"
    );
    let e = error(
        client
            .list_contacts()
            .organization_id(org.as_str())
            .cursor("not-a-cursor")
            .send()
            .await,
    );
    assert_eq!(
        (e.kind(), e.api_error().unwrap().message.as_str()),
        (&ErrorKind::BadRequest, "Invalid cursor")
    );
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let e = error(
        client
            .get_conversation_analytics()
            .organization_id(org.as_str())
            .start_date(tomorrow)
            .end_date(tomorrow)
            .send()
            .await,
    );
    assert_eq!(
        e.api_error().unwrap().message,
        "start_date and end_date cannot be in the future"
    );
    let e = error(
        client
            .get_conversation()
            .organization_id(org.as_str())
            .conversation_id("missing")
            .send()
            .await,
    );
    assert_eq!(
        (e.kind(), e.api_error().unwrap().message.as_str()),
        (&ErrorKind::NotFound, "Conversation not found")
    );

    let both = hyperrep::types::MessageDraftCreate::builder()
        .modality(hyperrep::types::DraftModality::Email)
        .subject("Hi")
        .to_email("diana@example.com")
        .autosend_draft(true)
        .add_notification(Some(true));
    let e = error(
        client
            .create_message_draft()
            .organization_id(org.as_str())
            .body(both)
            .send()
            .await,
    );
    assert_eq!(e.kind(), &ErrorKind::BadRequest);
    let saved = hyperrep::types::MessageDraftCreate::builder()
        .modality(hyperrep::types::DraftModality::Email)
        .subject("Hi")
        .to_email("diana@example.com")
        .folder("Sales Follow-up");
    let draft = client
        .create_message_draft()
        .organization_id(org.as_str())
        .body(saved)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (draft.folder.as_str(), draft.scheduled_to_send),
        ("sales-follow-up", false)
    );
}

#[tokio::test]
async fn hyperrep_follows_the_sandbox_clock_like_hockeystack() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&client).await;
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let analytics = |day: chrono::DateTime<chrono::Utc>| {
        client
            .get_conversation_analytics()
            .organization_id(org.as_str())
            .start_date(day)
            .end_date(day)
            .send()
    };
    // Tomorrow is in the future until the clock moves two days on; then it is the past.
    assert!(analytics(tomorrow).await.is_err());
    sandbox.advance(Duration::from_secs(2 * 24 * 3600));
    analytics(tomorrow).await.unwrap();
    let contact = client
        .create_contact()
        .organization_id(org.as_str())
        .body(hyperrep::types::ContactCreate {
            name: Some("Grace Hopper".parse().unwrap()),
            email: Some("grace@example.com".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let created = contact.created_at;
    assert!(created > tomorrow, "{created} is not two days on");
    sandbox.shutdown().await;
}
