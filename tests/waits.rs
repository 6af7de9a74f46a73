//! The waits over real HTTP, with millisecond policies. Their timing (delays, deadlines,
//! number of checks) is tested in virtual time by the unit tests of `agents`, `messages` and
//! `poll`; here the point is that the right requests are sent in the right order.
#![cfg(feature = "hockeystack")]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use httpmock::Method::{GET, POST, PUT};
use revenue_agents::{AgentRef, ErrorKind, JobRef, PollPolicy, WaitSubject};
use serde_json::json;

const BASE: &str = "/api/revenue-agents/v1";

fn quick() -> PollPolicy {
    PollPolicy::new(Duration::from_millis(1), Duration::from_millis(2))
        .deadline(Duration::from_secs(10))
}

#[tokio::test]
async fn ask_deal_runs_the_whole_quickstart_flow() {
    let (server, client) = common::hockeystack().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path(format!("{BASE}/deals/D-1/agent"));
            then.status(409).json_body(json!({"error": {"code": "agent.already_exists", "category": "conflict", "message": "Exists."}}));
        })
        .await;
    let initializing = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-1/agent"));
            then.status(200)
                .json_body(json!({"deal_id": "D-1", "status": "initializing"}))
                .up_to_n_times(2);
        })
        .await;
    let active = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-1/agent"));
            then.status(200)
                .json_body(json!({"deal_id": "D-1", "status": "active", "agent_id": "agt"}));
        })
        .await;
    let conversation = conversation_opens(&server, "D-1", "c1").await;
    let send = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{BASE}/deals/D-1/conversations/c1/messages"))
                .json_body(json!({"message": "What is the biggest risk?"}));
            then.status(202).json_body(json!({"job_id": "j1", "conversation_id": "c1", "status": "pending", "poll_url": "x"}));
        })
        .await;
    let pending = server
        .mock_async(|when, then| {
            when.method(GET).path(format!(
                "{BASE}/deals/D-1/conversations/c1/messages/jobs/j1"
            ));
            then.status(200)
                .json_body(json!({"status": "pending"}))
                .up_to_n_times(3);
        })
        .await;
    let completed = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-1/conversations/c1/messages/jobs/j1"));
            then.status(200).json_body(json!({
                "status": "completed",
                "result": {"messages": [{"role": "assistant", "content": "Silence from the champion."}]}
            }));
        })
        .await;

    let ask = client
        .ask_deal("D-1", "What is the biggest risk?")
        .delivery(revenue_agents::hockeystack::Delivery::Job)
        .agent_policy(quick())
        .job_policy(quick());
    let progress = tokio::spawn(ask.progress().collect::<Vec<revenue_agents::Progress>>());
    let reply = ask.await.unwrap();
    assert_eq!(reply.text(), "Silence from the champion.");
    assert_eq!(
        (reply.conversation_id.as_str(), reply.job_id.as_deref()),
        ("c1", Some("j1"))
    );
    let updates = progress.await.unwrap();
    let states: Vec<&str> = updates.iter().map(|p| p.state.as_str()).collect();
    assert!(
        states.contains(&"initializing") && states.contains(&"pending"),
        "{states:?}"
    );
    // Typed: the phase of each update, the status as the crate's enums.
    assert!(
        updates
            .iter()
            .any(|p| p.phase == revenue_agents::Phase::Provisioning
                && p.agent_status()
                    == Some(revenue_agents::hockeystack::AgentStatus::Initializing))
    );
    assert!(
        updates
            .iter()
            .any(|p| p.phase == revenue_agents::Phase::WaitingForJob
                && p.job_status() == Some(revenue_agents::hockeystack::MessageJobStatus::Pending))
    );
    // A progress bar can finish: the last update is the final state, with no next check.
    let last = updates.last().unwrap();
    assert_eq!(
        (last.state.as_str(), last.finished, last.next_delay),
        ("completed", true, None)
    );
    assert!(updates[..updates.len() - 1].iter().all(|p| !p.finished));

    assert_eq!(put.calls_async().await, 1);
    assert_eq!(
        (initializing.calls_async().await, active.calls_async().await),
        (2, 1)
    );
    assert_eq!(
        (conversation.calls_async().await, send.calls_async().await),
        (1, 1)
    );
    assert_eq!(
        (pending.calls_async().await, completed.calls_async().await),
        (3, 1)
    );
}

#[tokio::test]
async fn a_follow_up_in_a_known_conversation_sends_no_provisioning_request() {
    let (server, client) = common::hockeystack().await;
    let anything_else = server
        .mock_async(|when, then| {
            when.any_request()
                .is_true(|req| !req.uri().path().contains("/conversations/c7/messages"));
            then.status(500);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{BASE}/companies/C-1/conversations/c7/messages"));
            then.status(202).json_body(json!({"job_id": "j2", "conversation_id": "c7", "status": "pending", "poll_url": "x"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!(
                "{BASE}/companies/C-1/conversations/c7/messages/jobs/j2"
            ));
            then.status(200).json_body(
                json!({"status": "completed", "result": {"messages": [{"content": "ok"}]}}),
            );
        })
        .await;
    let reply = client
        .ask_company("C-1", "And now?")
        .delivery(revenue_agents::hockeystack::Delivery::Job)
        .conversation("c7")
        .job_policy(quick())
        .await
        .unwrap();
    assert_eq!(reply.text(), "ok");
    assert_eq!(anything_else.calls_async().await, 0);
}

#[tokio::test]
async fn a_job_past_its_retention_is_reported_as_expired() {
    let (server, client) = common::hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-1/conversations/c1/messages/jobs/old"));
            then.status(404).json_body(json!({"error": {"code": "job.not_found", "category": "not_found", "message": "Gone."}}));
        })
        .await;
    let error = client
        .wait_for_deal_job("D-1", "c1", "old")
        .policy(quick())
        .await
        .unwrap_err();
    let job = JobRef {
        agent: AgentRef::Deal("D-1".into()),
        conversation_id: "c1".into(),
        job_id: "old".into(),
    };
    assert_eq!(error.kind(), &ErrorKind::JobExpired { job });
}

#[tokio::test]
async fn provisioning_that_keeps_failing_ends_with_the_servers_text() {
    let (server, client) = common::hockeystack().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path(format!("{BASE}/companies/C-9/agent"));
            then.status(202)
                .json_body(json!({"company_id": "C-9", "status": "initializing"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/companies/C-9/agent"));
            then.status(200).json_body(json!({"company_id": "C-9", "status": "provisioning_failed", "error": "CRM unreachable"}));
        })
        .await;
    let error = client
        .ensure_company_agent("C-9")
        .policy(quick())
        .max_provisioning_runs(2)
        .await
        .unwrap_err();
    match error.kind() {
        ErrorKind::ProvisioningFailed {
            agent,
            attempts,
            message,
        } => {
            assert_eq!(agent, &AgentRef::Company("C-9".into()));
            assert_eq!(
                (*attempts, message.as_deref()),
                (2, Some("CRM unreachable"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(put.calls_async().await, 2);
}

#[tokio::test]
async fn a_wait_that_reaches_its_deadline_names_what_to_resume() {
    let (server, client) = common::hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!(
                "{BASE}/deals/D-1/conversations/c1/messages/jobs/j1"
            ));
            then.status(200).json_body(json!({"status": "pending"}));
        })
        .await;
    let policy = PollPolicy::new(Duration::from_millis(1), Duration::from_millis(2))
        .deadline(Duration::from_millis(30));
    let error = client
        .wait_for_deal_job("D-1", "c1", "j1")
        .policy(policy)
        .await
        .unwrap_err();
    match error.kind() {
        ErrorKind::WaitTimedOut {
            waiting_for: WaitSubject::Job(job),
            ..
        } => {
            assert_eq!(
                (job.conversation_id.as_str(), job.job_id.as_str()),
                ("c1", "j1")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_timeout());
}

#[tokio::test]
async fn asking_again_does_not_provision_again_until_the_agent_is_gone() {
    let (server, client) = common::hockeystack().await;
    let put = agent_provisions_at_once(&server, "D-2").await;
    let conversation = conversation_opens(&server, "D-2", "c2").await;
    answer_messages(&server, "D-2", "c2", "j2").await;

    // Three questions, each in a new conversation, from the client and a clone of it.
    for asker in [client.clone(), client.clone(), client] {
        asker
            .ask_deal("D-2", "Anything new?")
            .delivery(revenue_agents::hockeystack::Delivery::Job)
            .agent_policy(quick())
            .job_policy(quick())
            .await
            .unwrap();
    }
    assert_eq!(
        put.calls_async().await,
        1,
        "the agent was provisioned again"
    );
    assert_eq!(conversation.calls_async().await, 3);
}

#[tokio::test]
async fn an_agent_removed_since_it_was_seen_is_provisioned_again() {
    let (server, client) = common::hockeystack().await;
    let put = agent_provisions_at_once(&server, "D-3").await;
    let mut conversation = conversation_opens(&server, "D-3", "c3").await;
    answer_messages(&server, "D-3", "c3", "j3").await;
    let ask = || {
        client
            .ask_deal("D-3", "Anything new?")
            .delivery(revenue_agents::hockeystack::Delivery::Job)
            .agent_policy(quick())
            .job_policy(quick())
    };
    ask().await.unwrap();
    assert_eq!(put.calls_async().await, 1);

    // The agent is deleted: the next conversation is refused once with 404.
    conversation.delete_async().await;
    let gone = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{BASE}/deals/D-3/conversations"));
            then.status(404).json_body(json!({"error": {"code": "resource.not_found", "category": "not_found", "message": "No agent."}}))
                .up_to_n_times(1);
        })
        .await;
    conversation = conversation_opens(&server, "D-3", "c3").await;
    ask().await.unwrap();
    assert_eq!(gone.calls_async().await, 1);
    assert_eq!(
        put.calls_async().await,
        2,
        "the removed agent was not provisioned again"
    );
    assert_eq!(conversation.calls_async().await, 1);
}

/// Answers the PUT of the deal's agent with an agent that is already active.
async fn agent_provisions_at_once<'a>(
    server: &'a httpmock::MockServer,
    deal: &str,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(PUT).path(format!("{BASE}/deals/{deal}/agent"));
            then.status(202)
                .json_body(json!({"deal_id": deal, "status": "active", "agent_id": "agt"}));
        })
        .await
}

/// Opens conversation `cid` for every conversation POST on the deal.
async fn conversation_opens<'a>(
    server: &'a httpmock::MockServer,
    deal: &str,
    cid: &str,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{BASE}/deals/{deal}/conversations"));
            then.status(201)
                .json_body(json!({"conversation_id": cid, "created_at": "2026-05-22T10:02:11Z"}));
        })
        .await
}

/// Accepts every message to the conversation and answers its job at once.
async fn answer_messages(server: &httpmock::MockServer, deal: &str, cid: &str, job: &str) {
    let messages = format!("{BASE}/deals/{deal}/conversations/{cid}/messages");
    let accepted =
        json!({"job_id": job, "conversation_id": cid, "status": "pending", "poll_url": "x"});
    server
        .mock_async(|when, then| {
            when.method(POST).path(messages.clone());
            then.status(202).json_body(accepted);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{messages}/jobs/{job}"));
            then.status(200).json_body(json!({
                "status": "completed",
                "result": {"messages": [{"role": "assistant", "content": "Fine."}]}
            }));
        })
        .await;
}
