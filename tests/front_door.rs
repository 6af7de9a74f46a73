//! The crate's own surface is the only one a user needs: one error type from every call,
//! request bodies in the obvious spelling, and progress a program can show. Each test is
//! written the way the README tells users to write it, against the sandbox.
#![cfg(all(feature = "sandbox", feature = "hockeystack", feature = "hyperrep"))]

mod common;

use common::{fast_sandbox, quick_waits};

use futures_util::{StreamExt, TryStreamExt};
use revenue_agents::{
    Error, ErrorKind, Paginated, Phase,
    hockeystack::{self, AgentStatus, TaskStatus, types as hs},
    hyperrep::{self, types as hr},
    sandbox::Sandbox,
};

#[tokio::test]
async fn the_kind_of_a_failed_generated_call_is_read_straight_from_send() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let hs = sandbox.hockeystack_client().unwrap();
    let hr = sandbox.hyperrep_client().unwrap();

    if let Err(e) = hs.get_deal_agent().deal_id("9999999999").send().await {
        assert_eq!(e.kind(), &ErrorKind::NotFound);
        assert_eq!(e.status(), Some(404));
    } else {
        panic!("no agent was ever initialized for that deal");
    }
    let e = hr
        .get_contact()
        .organization_id("HR_id_unknown")
        .contact_id("nobody")
        .send()
        .await
        .unwrap_err();
    // README: an organization the key cannot see is HyperRep's 400 `Invalid organization_id`.
    assert_eq!(
        (e.kind(), e.status()),
        (&ErrorKind::BadRequest, Some(400)),
        "{e:?}"
    );

    let wrong = hyperrep::Client::builder()
        .credential("not-the-key")
        .base_url(sandbox.hyperrep_url())
        .build()
        .unwrap();
    let e = wrong.list_organizations().send().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unauthorized);
    sandbox.shutdown().await;
}

/// A user's function: generated and hand-written calls mixed, `?` throughout.
async fn first_task_title(client: &hockeystack::Client) -> Result<Option<String>, Error> {
    client.me().send().await?;
    let tasks: Vec<hs::Task> = client.list_tasks().items().try_collect().await?;
    client
        .ensure_deal_agent("9001234567")
        .policy(quick_waits())
        .await?;
    Ok(tasks.into_iter().next().and_then(|t| t.task_title))
}

/// The same behind `Box<dyn Error>`, as a binary's `main` would hold it.
async fn boxed(client: &hockeystack::Client) -> Result<(), Box<dyn std::error::Error>> {
    client.get_deal_agent().deal_id("0000000000").send().await?;
    Ok(())
}

#[tokio::test]
async fn question_mark_and_downcasts_reach_the_one_error_type() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    first_task_title(&client).await.unwrap();

    let error = boxed(&client).await.unwrap_err();
    let ours = error
        .downcast_ref::<Error>()
        .expect("a generated call's error is revenue_agents::Error");
    assert_eq!(ours.kind(), &ErrorKind::NotFound);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_task_is_created_from_string_literals_and_closed() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let task = client
        .create_task()
        .body(
            hs::TaskCreate::builder()
                .task_type(hs::TaskType::Email)
                .task_title("Send the pricing sheet")
                .assignee_id("usr_204")
                .targets(hs::TaskTargetsInput::builder().deal_id("9001234567"))
                .priority(hockeystack::TaskPriority::High)
                .draft(
                    hs::TaskDraft::builder()
                        .subject("Pricing")
                        .body("Attached."),
                )
                .reason("The champion asked for it."),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(task.task_title.as_deref(), Some("Send the pricing sheet"));

    let closed = client
        .update_task()
        .task_id(task.task_id)
        .body(hs::TaskUpdate::builder().status(hs::TaskCloseStatus::Completed))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status, TaskStatus::Completed);
    client
        .delete_task()
        .task_id(task.task_id)
        .send()
        .await
        .unwrap();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_missing_required_field_is_named_before_anything_is_sent() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let e = client
        .create_task()
        .body(hs::TaskCreate::builder().task_title("No type, no assignee"))
        .send()
        .await
        .unwrap_err();
    let ErrorKind::InvalidRequest { reason } = e.kind() else {
        panic!("{e:?}");
    };
    assert!(
        reason.contains("task_type") || reason.contains("assignee_id"),
        "{reason}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_message_goes_out_with_a_nested_body_and_its_job_is_waited_for() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    client
        .ensure_deal_agent("9001234567")
        .policy(quick_waits())
        .await
        .unwrap();
    let conversation = client
        .create_deal_conversation()
        .deal_id("9001234567")
        .body(hs::CreateConversationRequest::builder().user_email("rep@example.com"))
        .send()
        .await
        .unwrap();
    let job = client
        .send_deal_message()
        .deal_id("9001234567")
        .cid(&conversation.conversation_id)
        .body(hs::SendMessageRequest::builder().message("What changed this week?"))
        .send()
        .await
        .unwrap();
    let messages = client
        .wait_for_deal_job("9001234567", &job.conversation_id, &job.job_id)
        .policy(quick_waits())
        .await
        .unwrap();
    assert!(!messages.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_provisioning_progress_bar_sees_every_phase_and_the_final_state() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    // `fail-` deals fail their first run in the sandbox, so the wait restarts once.
    let wait = client.ensure_deal_agent("fail-42").policy(quick_waits());
    let bar = tokio::spawn(wait.progress().collect::<Vec<_>>());
    let agent = wait.await.unwrap();
    assert_eq!(agent.status, AgentStatus::Active);

    let updates = bar.await.unwrap();
    let last = updates.last().unwrap();
    assert!(last.finished && last.next_delay.is_none());
    assert_eq!(last.agent_status(), Some(AgentStatus::Active));
    assert!(
        updates
            .iter()
            .any(|p| p.phase == Phase::RestartingProvisioning { run: 2 }),
        "{updates:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_hyperrep_listing_reads_like_the_docs() {
    let sandbox = Sandbox::start(fast_sandbox()).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let organization = &client.list_organizations().send().await.unwrap().data[0];
    let since = chrono::Utc::now() - chrono::Duration::days(30);
    let sales: Vec<hr::Sale> = client
        .list_sales()
        .organization_id(&organization.organization_id)
        .start_date(since)
        .limit(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(
        !sales.is_empty(),
        "the seeded organization has recent sales"
    );
    assert!(sales.iter().all(|s| s.created_at >= since));
    let company = client
        .create_company()
        .organization_id(&organization.organization_id)
        .body(
            hr::CompanyCreate::builder()
                .name("Ferris Aircraft")
                .domain("ferrisaircraft.com"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(company.name, "Ferris Aircraft");
    sandbox.shutdown().await;
}
