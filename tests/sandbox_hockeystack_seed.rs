//! A sandbox started with the caller's own HockeyStack workspace: agents active at once, the
//! seeded conversations and tasks served as given, and seeds that contradict themselves
//! refused with an error naming the record.
#![cfg(all(feature = "sandbox", feature = "hockeystack"))]

use futures_util::TryStreamExt;
use revenue_agents::{
    Paginated, hockeystack,
    sandbox::{HockeyStackSeed, Sandbox, SandboxConfig},
};
use serde_json::{Value, json};

fn seed() -> HockeyStackSeed {
    HockeyStackSeed {
        deal_agents: vec!["D-1".into()],
        company_agents: vec!["C-1".into()],
        conversations: vec![
            json!({
                "conversation_id": "conv_a", "deal_id": "D-1", "created_at": "2026-05-01T09:00:00Z",
                "messages": [
                    {"role": "user", "content": "What is the biggest risk?", "created_at": "2026-05-01T09:00:00Z"},
                    {"role": "assistant", "content": "The champion has gone quiet.", "created_at": "2026-05-01T09:00:05Z"}
                ]
            }),
            json!({"conversation_id": "conv_b", "company_id": "C-1", "messages": []}),
        ],
        tasks: vec![json!({
            "task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", "status": "pending",
            "task_type": "call", "task_title": "Call the champion", "priority": "high",
            "created_at": "2026-05-22T10:00:00Z", "targets": {"deal_id": "D-1"}
        })],
    }
}

async fn start(seed: HockeyStackSeed) -> std::io::Result<Sandbox> {
    Sandbox::start(SandboxConfig {
        hockeystack_seed: Some(seed),
        ..SandboxConfig::default()
    })
    .await
}

#[tokio::test]
async fn the_sandbox_serves_exactly_the_seeded_workspace() {
    let sandbox = start(seed()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let agent = client.get_deal_agent().deal_id("D-1").send().await.unwrap();
    assert_eq!(agent.status, hockeystack::AgentStatus::Active);
    let conversations: Vec<_> = client
        .list_deal_conversations()
        .deal_id("D-1")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].conversation_id, "conv_a");
    let messages: Vec<_> = client
        .list_deal_conversation_messages()
        .deal_id("D-1")
        .cid("conv_a")
        .items()
        .try_collect()
        .await
        .unwrap();
    let texts: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["What is the biggest risk?", "The champion has gone quiet."]
    );
    let tasks: Vec<_> = client.list_tasks().items().try_collect().await.unwrap();
    assert_eq!(tasks.len(), 1, "the demo tasks are replaced");
    assert_eq!(tasks[0].task_title.as_deref(), Some("Call the champion"));
    // The seeded agent answers at once: no provisioning wait before the first question.
    let reply = client
        .ask_deal("D-1", "And now?")
        .job_policy(revenue_agents::PollPolicy::new(
            std::time::Duration::from_millis(20),
            std::time::Duration::from_millis(40),
        ))
        .await
        .unwrap();
    assert!(!reply.text().is_empty());
    // The crate's PUT found the agent there (409): no new provisioning run began.
    let after = client.get_deal_agent().deal_id("D-1").send().await.unwrap();
    assert_eq!(after.status, hockeystack::AgentStatus::Active);
    assert_eq!(after.agent_id, agent.agent_id);
    sandbox.shutdown().await;
}

/// One way to make the seed contradict itself.
type Spoil = Box<dyn Fn(&mut HockeyStackSeed)>;

#[tokio::test]
async fn a_seed_that_contradicts_itself_is_refused_naming_the_record() {
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "Deal agent \"D-1\" is seeded twice",
            Box::new(|s| s.deal_agents.push("D-1".into())),
        ),
        (
            "an id is 1 to 64 characters",
            Box::new(|s| s.deal_agents.push(String::new())),
        ),
        (
            "conversation \"conv_c\": Deal \"D-9\" has no seeded agent",
            Box::new(|s| {
                s.conversations
                    .push(json!({"conversation_id": "conv_c", "deal_id": "D-9"}))
            }),
        ),
        (
            "conversation \"conv_a\" is seeded twice",
            Box::new(|s| {
                s.conversations
                    .push(json!({"conversation_id": "conv_a", "deal_id": "D-1"}))
            }),
        ),
        (
            "conversation \"conv_d\": give exactly one of `deal_id` and `company_id`",
            Box::new(|s| {
                s.conversations.push(
                    json!({"conversation_id": "conv_d", "deal_id": "D-1", "company_id": "C-1"}),
                )
            }),
        ),
        (
            "conversation \"conv_a\", message #0: `role` must be user or assistant",
            Box::new(|s| s.conversations[0]["messages"][0]["role"] = json!("system")),
        ),
        (
            "task #1: `task_id` must be a non-empty string",
            Box::new(|s| s.tasks.push(json!({"status": "pending"}))),
        ),
        (
            "task \"0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01\" is seeded twice",
            Box::new(|s| {
                let twin: Value = s.tasks[0].clone();
                s.tasks.push(twin)
            }),
        ),
        (
            "`created_at` must be a date-time",
            Box::new(|s| s.tasks[0]["created_at"] = json!("yesterday")),
        ),
    ];
    for (expected, spoil) in cases {
        let mut seed = seed();
        spoil(&mut seed);
        let error = match start(seed).await {
            Ok(_) => panic!("a seed with {expected:?} was accepted"),
            Err(error) => error,
        };
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains(expected),
            "{error} does not say {expected:?}"
        );
    }
}

/// The create-task reference's field list marks only `task_id` and `status` required and every
/// other scalar nullable: a task with nothing else, and one with every nullable field null,
/// both decode.
#[tokio::test]
async fn tasks_with_only_their_required_fields_or_nulls_decode() {
    let mut seed = seed();
    seed.tasks = vec![
        json!({"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e02", "status": "pending"}),
        json!({
            "task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e03", "status": "completed",
            "task_type": null, "task_title": null, "priority": null, "assignee_id": null,
            "agent_id": null, "reason": null, "due_date": null, "created_at": null,
            "updated_at": null, "completed_at": null, "dismissed_at": null, "dismiss_reason": null
        }),
    ];
    let sandbox = start(seed).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let tasks: Vec<_> = client.list_tasks().items().try_collect().await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.created_at.is_none() && t.task_title.is_none())
    );
}

/// A workspace of 1 500 tasks and 600 conversations over three deals: pages walk every live
/// record once, in order, while records are deleted between them, and a task is found by its
/// id in any letter case.
#[tokio::test]
async fn lists_stay_whole_and_ordered_around_deletions() {
    let deals = ["D-1", "D-2", "D-3"];
    let task_id = |i: usize| format!("0b7e4d7c-2a7e-4c55-9d3e-{i:012x}");
    let seed = HockeyStackSeed {
        deal_agents: deals.iter().map(|d| d.to_string()).collect(),
        company_agents: vec![],
        conversations: (0..600)
            .map(|i| json!({"conversation_id": format!("conv_{i:04}"), "deal_id": deals[i % 3], "messages": []}))
            .collect(),
        tasks: (0..1500)
            .map(|i| json!({"task_id": task_id(i), "status": "pending"}))
            .collect(),
    };
    // 150 deletions are more than a minute's writes at HockeyStack's real limit, which both
    // the sandbox and the client's own rate budget keep by default.
    let sandbox = Sandbox::start(SandboxConfig {
        hockeystack_seed: Some(seed),
        write_limit: 10_000,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .no_rate_budget()
        .build()
        .unwrap();

    // Every tenth task goes, the first by its id in capitals.
    for i in (0..1500).step_by(10) {
        let id = if i == 0 {
            task_id(i).to_uppercase()
        } else {
            task_id(i)
        };
        client.delete_task().task_id(id).send().await.unwrap();
    }
    let listed: Vec<String> = client
        .list_tasks()
        .limit(200)
        .items()
        .map_ok(|t| t.task_id.to_string())
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = (0..1500).filter(|i| i % 10 != 0).map(task_id).collect();
    assert_eq!(listed, expected);
    let found = client
        .get_task()
        .task_id(task_id(7).to_uppercase())
        .send()
        .await
        .unwrap();
    assert_eq!(found.task_id.to_string(), task_id(7));
    let gone = client
        .get_task()
        .task_id(task_id(10))
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(404));

    // D-2's conversations, with one deleted and one opened since the seed.
    client
        .delete_deal_conversation()
        .deal_id("D-2")
        .cid("conv_0004")
        .send()
        .await
        .unwrap();
    let opened = client
        .create_deal_conversation()
        .deal_id("D-2")
        .send()
        .await
        .unwrap();
    let listed: Vec<String> = client
        .list_deal_conversations()
        .deal_id("D-2")
        .limit(37)
        .items()
        .map_ok(|c| c.conversation_id)
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<String> = (0..600)
        .filter(|i| i % 3 == 1 && *i != 4)
        .map(|i| format!("conv_{i:04}"))
        .collect();
    expected.push(opened.conversation_id.clone());
    assert_eq!(listed, expected);
    // Another deal's conversation is not D-2's to read.
    let foreign = client
        .list_deal_conversation_messages()
        .deal_id("D-2")
        .cid("conv_0000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(foreign.status(), Some(404));
}
