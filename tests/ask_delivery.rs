//! The one-call ask reads the reply as a stream by default, and whatever happens to the
//! stream, the caller gets the reply and the question is sent once: a refused stream is sent
//! again as a job (nothing was stored), a server that answers with a job is waited for, and a
//! stream cut after the question went out is read back from the conversation.
#![cfg(all(feature = "sandbox", feature = "hockeystack"))]

use std::time::Duration;

use revenue_agents::{
    PollPolicy,
    hockeystack::Delivery,
    sandbox::{Fault, FaultRule, ReceivedRequest, Sandbox, SandboxConfig},
};

const DEAL: &str = "9001234567";
const PREFIX: &str = "/api/revenue-agents/v1";

fn quick() -> PollPolicy {
    PollPolicy::new(Duration::from_millis(20), Duration::from_millis(50))
        .deadline(Duration::from_secs(10))
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        provisioning_time: Duration::from_millis(50),
        job_time: Duration::from_millis(100),
        stream_chunk_delay: Duration::from_millis(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// An active agent and an open conversation, and the sandbox's record cleared of them.
async fn conversation(sandbox: &Sandbox) -> (revenue_agents::hockeystack::Client, String) {
    let client = sandbox.hockeystack_client().unwrap();
    let agent = client.deal_agent(DEAL);
    agent.ensure().policy(quick()).await.unwrap();
    let cid = agent.open_conversation().await.unwrap();
    sandbox.clear_requests();
    (client, cid)
}

/// One question into the conversation, with the quick pacing.
async fn ask(
    client: &revenue_agents::hockeystack::Client,
    cid: &str,
    question: &str,
    delivery: Delivery,
) -> Result<revenue_agents::hockeystack::Reply, revenue_agents::Error> {
    client
        .deal_agent(DEAL)
        .ask(question)
        .conversation(cid)
        .delivery(delivery)
        .job_policy(quick())
        .await
}

/// The requests that sent a message (the question), and those that polled a job.
fn sent(requests: &[ReceivedRequest]) -> (Vec<&ReceivedRequest>, usize) {
    let messages = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .collect();
    let polls = requests
        .iter()
        .filter(|r| r.path.contains("/jobs/"))
        .count();
    (messages, polls)
}

#[tokio::test]
async fn by_default_the_reply_is_streamed_in_one_request() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    let reply = ask(&client, &cid, "What is the biggest risk?", Delivery::Stream)
        .await
        .unwrap();
    assert!(
        reply.text().contains("What is the biggest risk"),
        "{}",
        reply.text()
    );
    assert_eq!(reply.job_id, None, "a streamed reply makes no job");
    assert_eq!(reply.conversation_id, cid);
    let requests = sandbox.requests();
    let (messages, polls) = sent(&requests);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].body.contains("\"stream\":true"));
    assert_eq!(
        (polls, requests.len()),
        (0, 1),
        "nothing but the one request"
    );
}

#[tokio::test]
async fn as_a_job_the_reply_is_polled() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    let reply = ask(&client, &cid, "What is the biggest risk?", Delivery::Job)
        .await
        .unwrap();
    assert!(reply.text().contains("What is the biggest risk"));
    assert!(reply.job_id.is_some());
    let requests = sandbox.requests();
    let (messages, polls) = sent(&requests);
    assert_eq!(messages.len(), 1);
    assert!(!messages[0].body.contains("stream"));
    assert!(polls >= 1);
}

#[tokio::test]
async fn a_stream_cut_after_the_question_is_read_back_from_the_conversation() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    sandbox.inject(
        FaultRule::new(Fault::CutBody { after_bytes: 80 })
            .method("POST")
            .path_prefix(format!("{PREFIX}/deals/{DEAL}/conversations/"))
            .times(1),
    );
    let reply = ask(&client, &cid, "Who should I call first?", Delivery::Stream)
        .await
        .unwrap();
    assert!(
        reply.text().contains("Who should I call first"),
        "{}",
        reply.text()
    );
    let requests = sandbox.requests();
    let (messages, _) = sent(&requests);
    assert_eq!(messages.len(), 1, "the question is never sent twice");
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path.ends_with("/messages")),
        "the reply came from the conversation"
    );
}

#[tokio::test]
async fn a_refused_stream_is_sent_again_as_a_job() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 406,
            body: serde_json::json!({"error": {"code": "request.not_acceptable", "message": "No streams here."}}),
        })
        .method("POST")
        .path_prefix(format!("{PREFIX}/deals/{DEAL}/conversations/"))
        .times(1),
    );
    let reply = ask(&client, &cid, "Any news?", Delivery::Stream)
        .await
        .unwrap();
    assert!(reply.text().contains("Any news"));
    assert!(reply.job_id.is_some(), "answered through a job");
    let requests = sandbox.requests();
    let (messages, _) = sent(&requests);
    assert_eq!(messages.len(), 2, "the refused stream, then the job");
    assert!(messages[0].body.contains("\"stream\":true") && !messages[1].body.contains("stream"));
    // The refusal stored nothing: the conversation holds the question once.
    let history = client
        .list_deal_conversation_messages()
        .deal_id(DEAL)
        .cid(cid.as_str())
        .send()
        .await
        .unwrap();
    let asked = history
        .messages
        .iter()
        .filter(|m| m.content == "Any news?")
        .count();
    assert_eq!(asked, 1);
}

#[tokio::test]
async fn a_job_in_place_of_the_stream_is_waited_for() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    // A first ask as a job leaves a job the sandbox knows; the stream request is then answered
    // with that job, as a server that does not stream would answer.
    let first = ask(&client, &cid, "First?", Delivery::Job).await.unwrap();
    let job = first.job_id.clone().unwrap();
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 202,
            body: serde_json::json!({
                "job_id": job, "conversation_id": cid, "status": "pending",
                "poll_url": format!("{PREFIX}/deals/{DEAL}/conversations/{cid}/messages/jobs/{job}"),
            }),
        })
        .method("POST")
        .path_prefix(format!("{PREFIX}/deals/{DEAL}/conversations/"))
        .times(1),
    );
    let reply = ask(&client, &cid, "Second?", Delivery::Stream)
        .await
        .unwrap();
    assert_eq!(reply.job_id.as_deref(), Some(job.as_str()));
    assert_eq!(reply.text(), first.text());
}

#[tokio::test]
async fn a_refusal_that_a_job_would_get_too_is_returned_as_it_is() {
    let sandbox = sandbox().await;
    let (client, cid) = conversation(&sandbox).await;
    sandbox.inject(
        FaultRule::new(Fault::CreditsExhausted)
            .method("POST")
            .path_prefix(format!("{PREFIX}/deals/{DEAL}/conversations/"))
            .times(1),
    );
    let error = ask(&client, &cid, "Anything?", Delivery::Stream)
        .await
        .unwrap_err();
    assert_eq!(*error.kind(), revenue_agents::ErrorKind::CreditsExhausted);
    let requests = sandbox.requests();
    assert_eq!(sent(&requests).0.len(), 1, "not sent again");
}
