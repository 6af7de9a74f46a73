//! An agent is one owned handle: the deal or company is chosen once, and every call through it
//! (ensure, ask, stream, wait) goes to that agent's paths. Everything the crate returns owns
//! what it needs, so it can be moved into a task after the client is gone.
#![cfg(all(feature = "hockeystack", feature = "sandbox"))]

mod common;

use std::future::IntoFuture;

use futures_util::TryStreamExt;
use revenue_agents::{AgentRef, hockeystack::ReplyEvent, sandbox::Sandbox};

/// Compiles only for values that borrow nothing and may cross threads.
fn owned<T: Send + 'static>(_: T) {}

#[tokio::test]
async fn every_future_and_stream_owns_its_client() {
    let client = revenue_agents::hockeystack::Client::builder()
        .credential("hsr_live_owned")
        .build()
        .unwrap();
    let deal = client.deal_agent("D-1");
    let company = client.company_agent("C-1");
    // Each one is made from a borrowed client and must not keep the borrow.
    owned(deal.clone());
    owned(deal.ensure().into_future());
    owned(company.ensure().into_future());
    owned(deal.ask("q").into_future());
    owned(company.ask("q").conversation("c").into_future());
    owned(deal.stream_reply("c", "m"));
    owned(deal.open_conversation());
    owned(deal.wait_for_job("c", "j").into_future());
    owned(client.ensure_deal_agent("D").into_future());
    owned(client.ask_company("C", "q").into_future());
    owned(client.stream_company_reply("C", "c", "m"));
    owned(client.wait_for_deal_job("D", "c", "j").into_future());
    owned(client.list_tasks().send());
    owned(revenue_agents::Paginated::items(client.list_tasks()));
    drop(client);
}

#[tokio::test]
async fn a_deal_agent_and_a_company_agent_each_keep_to_their_own_paths() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let deal = client.deal_agent("9001234567");
    let company = client.company_agent("acme-corp");
    assert_eq!(deal.to_ref(), AgentRef::Deal("9001234567".into()));
    assert_eq!(company.to_ref(), AgentRef::Company("acme-corp".into()));
    assert_eq!(company.id(), "acme-corp");
    // The client may go: the handles own clones of it.
    drop(client);

    // Each handle runs in a task of its own.
    let asked = tokio::spawn(
        deal.ask("What is the biggest risk?")
            .agent_policy(common::quick_waits())
            .job_policy(common::quick_waits())
            .into_future(),
    );
    let ensured = tokio::spawn(company.ensure().policy(common::quick_waits()).into_future());
    let reply = asked.await.unwrap().unwrap();
    assert!(!reply.text().is_empty());
    let state = ensured.await.unwrap().unwrap();
    assert_eq!(state.company_id, "acme-corp");

    // A follow-up, streamed, in the conversation the ask opened.
    let events: Vec<ReplyEvent> = deal
        .stream_reply(reply.conversation_id.clone(), "Who should I call first?")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ReplyEvent::TextDelta { .. }))
    );
    assert!(matches!(events.last(), Some(ReplyEvent::Done { .. })));

    // A conversation of the company's agent, answered by a job waited for through the handle.
    let conversation = company.open_conversation().await.unwrap();
    let sent = sandbox
        .hockeystack_client()
        .unwrap()
        .send_company_message()
        .company_id("acme-corp")
        .cid(conversation.as_str())
        .body(
            revenue_agents::hockeystack::types::SendMessageRequest::builder()
                .message("Summarise the account"),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let messages = company
        .wait_for_job(conversation.as_str(), sent.job_id.as_str())
        .policy(common::quick_waits())
        .await
        .unwrap();
    assert!(!messages.is_empty());

    // Every request went to the agent's own kind of path.
    let paths: Vec<String> = sandbox
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/deals/") || p.contains("/companies/"))
        .collect();
    assert!(
        paths
            .iter()
            .filter(|p| p.contains("/deals/"))
            .all(|p| p.contains("/deals/9001234567/")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .filter(|p| p.contains("/companies/"))
            .all(|p| p.contains("/companies/acme-corp/")),
        "{paths:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_streamed_reply_checks_the_handles_id_before_sending() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let before = sandbox.requests().len();
    let too_long = "9".repeat(65);
    let error = client
        .deal_agent(too_long)
        .stream_reply("conv", "hi")
        .await
        .map(drop)
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            revenue_agents::ErrorKind::InvalidRequest { .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("deal_id"), "{error}");
    assert_eq!(sandbox.requests().len(), before, "nothing is sent");
    sandbox.shutdown().await;
}
