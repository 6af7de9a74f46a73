//! How a user of the crate tests their own code against the sandbox: seed it with the data the
//! code expects, script the failures it must survive (a 429, a reply stream cut mid-way), and
//! assert on what the code did, including what it sent. The "application" below is the kind
//! of code a user writes; the test is the kind they would write for it.
#![cfg(all(feature = "sandbox", feature = "hockeystack"))]

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use revenue_agents::{
    ErrorKind, Paginated, RetryPolicy, hockeystack,
    hockeystack::ReplyEvent,
    sandbox::{Fault, FaultRule, HockeyStackSeed, Sandbox, SandboxConfig},
};
use serde_json::json;

// ---- the application under test -----------------------------------------------------------

/// Counts the open tasks about one deal.
async fn open_tasks_for(
    client: &hockeystack::Client,
    deal: &str,
) -> Result<usize, revenue_agents::Error> {
    let tasks: Vec<_> = client.list_tasks().limit(50).items().try_collect().await?;
    Ok(tasks
        .iter()
        .filter(|t| t.status == hockeystack::TaskStatus::Pending)
        .filter(|t| t.targets.as_ref().and_then(|x| x.deal_id.as_deref()) == Some(deal))
        .count())
}

/// Streams the agent's answer; if the stream is cut, asks again without streaming, so the
/// user always gets a whole answer.
async fn whole_answer(
    client: &hockeystack::Client,
    deal: &str,
    conversation: &str,
    question: &str,
) -> Result<String, revenue_agents::Error> {
    let mut text = String::new();
    let mut events = client
        .stream_deal_reply(deal, conversation, question)
        .await?;
    while let Some(event) = events.next().await {
        match event {
            Ok(ReplyEvent::TextDelta { text: piece }) => text.push_str(&piece),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::StreamInterrupted { .. }) => {
                let reply = client
                    .ask_deal(deal, question)
                    .delivery(revenue_agents::hockeystack::Delivery::Job)
                    .job_policy(revenue_agents::PollPolicy::new(
                        Duration::from_millis(20),
                        Duration::from_millis(40),
                    ))
                    .await?;
                return Ok(reply.text());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(text)
}

// ---- the user's tests -----------------------------------------------------------------------

async fn seeded_sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        job_time: Duration::from_millis(50),
        stream_chunk_delay: Duration::from_millis(1),
        hockeystack_seed: Some(HockeyStackSeed {
            deal_agents: vec!["D-7".into()],
            conversations: vec![json!({"conversation_id": "conv_7", "deal_id": "D-7"})],
            tasks: (0..3)
                .map(|i| {
                    json!({
                        "task_id": format!("0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e0{i}"),
                        "status": if i == 2 { "completed" } else { "pending" },
                        "task_type": "call", "task_title": format!("Task {i}"),
                        "created_at": "2026-05-22T10:00:00Z", "targets": {"deal_id": "D-7"}
                    })
                })
                .collect(),
            ..HockeyStackSeed::default()
        }),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn my_task_count_survives_a_rate_limit() {
    let sandbox = seeded_sandbox().await;
    let client = hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .retry_policy(RetryPolicy::default().max_retries(2))
        .build()
        .unwrap();
    sandbox.inject(
        FaultRule::new(Fault::RateLimited {
            retry_after_secs: 0,
        })
        .method("GET")
        .path_prefix("/api/revenue-agents/v1/tasks")
        .times(1),
    );
    assert_eq!(open_tasks_for(&client, "D-7").await.unwrap(), 2);
    let listed: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/tasks"))
        .collect();
    assert_eq!(listed.len(), 2, "one 429, then the retry");
    assert!(listed[0].fault.is_some() && listed[1].fault.is_none());
    assert!(listed.iter().all(|r| r.query.contains("limit=50")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn my_answer_is_whole_even_when_the_stream_is_cut() {
    let sandbox = seeded_sandbox().await;
    let client = sandbox.hockeystack_client().unwrap();
    sandbox.inject(
        FaultRule::new(Fault::CutBody { after_bytes: 60 })
            .method("POST")
            .path_prefix("/api/revenue-agents/v1/deals/D-7/conversations/conv_7/messages")
            .times(1),
    );
    let answer = whole_answer(&client, "D-7", "conv_7", "What is the risk?")
        .await
        .unwrap();
    // Whole: the very reply the agent gave to the stream that was cut (which the conversation
    // keeps), not the 60 bytes that got through.
    let stored: Vec<_> = client
        .list_deal_conversation_messages()
        .deal_id("D-7")
        .cid("conv_7")
        .items()
        .try_collect()
        .await
        .unwrap();
    let given = stored
        .iter()
        .rev()
        .find(|m| m.role == Some(hockeystack::MessageRole::Assistant))
        .expect("the agent's reply is in the conversation");
    assert_eq!(answer, given.content);
    // What my code sent: the streamed question, then the same question as a plain message.
    let posts: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].body.contains("\"stream\":true") && posts[0].fault.is_some());
    assert!(!posts[1].body.contains("\"stream\":true"));
    assert!(posts.iter().all(|p| p.body.contains("What is the risk?")));
    sandbox.shutdown().await;
}
