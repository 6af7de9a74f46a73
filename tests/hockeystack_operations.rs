//! Every HockeyStack operation: the request the client sends (method, path, query, headers,
//! body) and the decoding of the documented example answer.
#![cfg(feature = "hockeystack")]

mod common;

use common::{hockeystack, hockeystack_headers, no_body, no_query};
use httpmock::Method::{DELETE, GET, PATCH, POST, PUT};
use revenue_agents::hockeystack::{
    AgentStatus, CreditGroupBy, MessageJobStatus, MessageRole, TaskPriority, TaskStatus, types,
};
use serde_json::json;

const BASE: &str = "/api/revenue-agents/v1";

fn path(p: &str) -> String {
    format!("{BASE}{p}")
}

/// The reference pages' company agent example, with the `status` their renderer hides.
fn company_agent_example() -> serde_json::Value {
    json!({
        "company_id": "<string>",
        "status": "active",
        "agent_id": "<string>",
        "created_at": "2023-11-07T05:31:56Z",
        "last_synced_at": "2023-11-07T05:31:56Z",
        "job_id": "<string>",
        "progress_stream_url": "<string>",
        "failed_at": "2023-11-07T05:31:56Z",
        "error": "<string>",
        "retry_with": "<string>"
    })
}

fn deal_agent_example(status: &str) -> serde_json::Value {
    let mut v = company_agent_example();
    let map = v.as_object_mut().unwrap();
    map.remove("company_id");
    map.insert("deal_id".into(), json!("D-1"));
    map.insert("status".into(), json!(status));
    v
}

/// The reference pages' task example, with the `status` and `priority` their renderer hides.
fn task_example() -> serde_json::Value {
    json!({
        "task_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "status": "pending",
        "priority": "high",
        "task_type": "<string>",
        "task_title": "<string>",
        "assignee_id": "<string>",
        "agent_id": "<string>",
        "targets": {
            "contact": {
                "email": "<string>", "linkedin_url": "<string>", "phone_number": "<string>",
                "name": "<string>", "title": "<string>"
            },
            "deal_id": "<string>", "company_id": "<string>", "meeting_id": "<string>"
        },
        "draft": {
            "talking_points": ["<string>"], "subject": "<string>", "body": "<string>",
            "message": "<string>"
        },
        "reason": "<string>",
        "due_date": "2023-11-07T05:31:56Z",
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z",
        "completed_at": "2023-11-07T05:31:56Z",
        "dismissed_at": "2023-11-07T05:31:56Z",
        "dismiss_reason": "<string>"
    })
}

const TASK_ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

fn task_id() -> types::TaskId {
    types::TaskId(TASK_ID.parse().unwrap())
}

#[tokio::test]
async fn health_needs_no_token() {
    let server = httpmock::MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(when.method(GET).path(path("/health")))
                .header_missing("authorization")
                .header_missing("api-version");
            then.status(200).json_body(json!({"status": "ok"}));
        })
        .await;
    let client = revenue_agents::hockeystack::Client::builder()
        .base_url(server.url(BASE))
        .build_without_credentials()
        .unwrap();
    let health = client.health().send().await.unwrap();
    assert_eq!(health.status.as_deref(), Some("ok"));
    mock.assert_async().await;
}

#[tokio::test]
async fn me_decodes_workspace_and_token() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(when.method(GET).path(path("/me"))));
            then.status(200)
                .header("x-ratelimit-pool", "read")
                .header("x-ratelimit-remaining", "599")
                .json_body(json!({
                    "workspace": {"id": "<string>", "name": "<string>"},
                    "token": {
                        "id": "<string>", "name": "<string>", "token_prefix": "<string>",
                        "created_at": "2023-11-07T05:31:56Z",
                        "last_used_at": "2023-11-07T05:31:56Z",
                        "expires_at": "2023-11-07T05:31:56Z"
                    }
                }));
        })
        .await;
    let me = client.me().send().await.unwrap();
    assert_eq!(me.workspace.name, "<string>");
    assert!(me.token.expires_at.is_some());
    assert_eq!(me.headers()["x-ratelimit-remaining"], "599");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_company_agents_sends_cursor_and_limit() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/companies/agents")))
                .query_param("cursor", "c1")
                .query_param("limit", "25");
            then.status(200).json_body(json!({
                "agents": [company_agent_example()],
                "next_cursor": "<string>"
            }));
        })
        .await;
    let page = client
        .list_company_agents()
        .cursor("c1")
        .limit(25)
        .send()
        .await
        .unwrap();
    assert_eq!(page.agents.len(), 1);
    assert_eq!(page.agents[0].status, AgentStatus::Active);
    assert_eq!(page.next_cursor.as_deref(), Some("<string>"));
    mock.assert_async().await;
}

#[tokio::test]
async fn init_company_agent_puts_without_body() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(no_query(hockeystack_headers(
                when.method(PUT).path(path("/companies/4815162342/agent")),
            )));
            let mut body = company_agent_example();
            body["status"] = json!("initializing");
            then.status(202).json_body(body);
        })
        .await;
    let state = client
        .init_company_agent()
        .company_id("4815162342")
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 202);
    assert_eq!(state.status, AgentStatus::Initializing);
    assert_eq!(state.company_id, "<string>");
    mock.assert_async().await;
}

#[tokio::test]
async fn get_company_agent_decodes_state() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path("/companies/4815162342/agent")),
            ));
            then.status(200).json_body(company_agent_example());
        })
        .await;
    let state = client
        .get_company_agent()
        .company_id("4815162342")
        .send()
        .await
        .unwrap();
    assert_eq!(state.agent_id.as_deref(), Some("<string>"));
    assert_eq!(state.error.as_deref(), Some("<string>"));
    assert_eq!(state.retry_with.as_deref(), Some("<string>"));
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_company_agent_accepts_204() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(hockeystack_headers(
                when.method(DELETE)
                    .path(path("/companies/4815162342/agent")),
            ));
            then.status(204);
        })
        .await;
    let done = client
        .delete_company_agent()
        .company_id("4815162342")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    mock.assert_async().await;
}

#[tokio::test]
async fn list_deal_agents_decodes_a_page() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path("/deals/agents")),
            ));
            then.status(200).json_body(json!({
                "agents": [deal_agent_example("provisioning_failed")],
                "next_cursor": null
            }));
        })
        .await;
    let page = client.list_deal_agents().send().await.unwrap();
    assert_eq!(page.agents[0].status, AgentStatus::ProvisioningFailed);
    assert_eq!(page.agents[0].deal_id, "D-1");
    assert!(page.next_cursor.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn init_deal_agent_puts_without_body() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(no_query(hockeystack_headers(
                when.method(PUT).path(path("/deals/9001234567/agent")),
            )))
            .header_missing("content-type");
            then.status(202)
                .json_body(json!({"deal_id": "9001234567", "status": "initializing"}));
        })
        .await;
    let state = client
        .init_deal_agent()
        .deal_id("9001234567")
        .send()
        .await
        .unwrap();
    assert_eq!(state.status, AgentStatus::Initializing);
    assert!(state.agent_id.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn get_deal_agent_decodes_state() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path("/deals/9001234567/agent")),
            ));
            then.status(200).json_body(deal_agent_example("active"));
        })
        .await;
    let state = client
        .get_deal_agent()
        .deal_id("9001234567")
        .send()
        .await
        .unwrap();
    assert_eq!(state.status, AgentStatus::Active);
    assert_eq!(
        state.last_synced_at.unwrap().to_rfc3339(),
        "2023-11-07T05:31:56+00:00"
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_deal_agent_accepts_204() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(hockeystack_headers(
                when.method(DELETE).path(path("/deals/9001234567/agent")),
            ));
            then.status(204);
        })
        .await;
    client
        .delete_deal_agent()
        .deal_id("9001234567")
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn create_deal_conversation_posts_user_email() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(POST)
                    .path(path("/deals/9001234567/conversations")),
            )
            .header("content-type", "application/json")
            .json_body(json!({"user_email": "jsmith@example.com"}));
            then.status(201).json_body(json!({
                "conversation_id": "<string>",
                "created_at": "2023-11-07T05:31:56Z",
                "deal_id": "9001234567",
                "company_id": null
            }));
        })
        .await;
    let conversation = client
        .create_deal_conversation()
        .deal_id("9001234567")
        .body(
            types::CreateConversationRequest::builder()
                .user_email(Some("jsmith@example.com".parse().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.conversation_id, "<string>");
    assert!(conversation.company_id.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn create_deal_conversation_without_options_sends_an_empty_object() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(POST).path(path("/deals/D-1/conversations")))
                .json_body(json!({}));
            then.status(200)
                .json_body(json!({"conversation_id": "c", "created_at": "2026-05-22T10:02:11Z"}));
        })
        .await;
    let conversation = client
        .create_deal_conversation()
        .deal_id("D-1")
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.conversation_id, "c");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_deal_conversations_sends_cursor() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/deals/D-1/conversations")))
                .query_param("cursor", "abc==")
                .query_param_missing("limit");
            then.status(200).json_body(json!({
                "conversations": [{"conversation_id": "c1", "created_at": "2023-11-07T05:31:56Z",
                                   "deal_id": "D-1", "company_id": null}],
                "next_cursor": "n2"
            }));
        })
        .await;
    let page = client
        .list_deal_conversations()
        .deal_id("D-1")
        .cursor("abc==")
        .send()
        .await
        .unwrap();
    assert_eq!(page.conversations[0].conversation_id, "c1");
    assert_eq!(page.next_cursor.as_deref(), Some("n2"));
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_deal_conversation_accepts_204() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(hockeystack_headers(
                when.method(DELETE)
                    .path(path("/deals/D-1/conversations/c1")),
            ));
            then.status(204);
        })
        .await;
    client
        .delete_deal_conversation()
        .deal_id("D-1")
        .cid("c1")
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn list_deal_conversation_messages_uses_after_and_order() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(GET)
                    .path(path("/deals/D-1/conversations/c1/messages")),
            )
            .query_param("after", "m50")
            .query_param("order", "desc")
            .query_param("limit", "200")
            .query_param_missing("cursor");
            then.status(200).json_body(json!({
                "conversation_id": "<string>",
                "messages": [{"content": "<string>", "id": "<string>",
                              "created_at": "2023-11-07T05:31:56Z"}],
                "next_cursor": "<string>"
            }));
        })
        .await;
    let page = client
        .list_deal_conversation_messages()
        .deal_id("D-1")
        .cid("c1")
        .after("m50")
        .order(types::MessageOrder::Desc)
        .limit(200)
        .send()
        .await
        .unwrap();
    assert_eq!(page.messages[0].content, "<string>");
    assert!(page.messages[0].role.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn send_deal_message_posts_the_message_and_returns_the_job() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(POST)
                    .path(path("/deals/D-1/conversations/c1/messages")),
            )
            .header("accept", "application/json")
            .json_body(json!({"message": "What is the biggest risk?"}));
            then.status(202).json_body(json!({
                "job_id": "8c1f", "conversation_id": "c1", "status": "pending",
                "poll_url": "/api/revenue-agents/v1/deals/D-1/conversations/c1/messages/jobs/8c1f"
            }));
        })
        .await;
    let job = client
        .send_deal_message()
        .deal_id("D-1")
        .cid("c1")
        .body(types::SendMessageRequest::builder().message("What is the biggest risk?"))
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 202);
    assert_eq!(job.job_id, "8c1f");
    assert_eq!(job.status, MessageJobStatus::Pending);
    mock.assert_async().await;
}

#[tokio::test]
async fn get_deal_message_job_decodes_a_completed_job() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path("/deals/D-1/conversations/c1/messages/jobs/8c1f")),
            ));
            then.status(200).json_body(json!({
                "status": "completed",
                "result": {"conversation_id": "c1",
                           "messages": [{"role": "assistant", "content": "Silence from the champion."}]}
            }));
        })
        .await;
    let job = client
        .get_deal_message_job()
        .deal_id("D-1")
        .cid("c1")
        .job_id("8c1f")
        .send()
        .await
        .unwrap();
    assert_eq!(job.status, MessageJobStatus::Completed);
    let result = job.result.as_ref().unwrap();
    assert_eq!(result.messages[0].role, Some(MessageRole::Assistant));
    assert_eq!(result.messages[0].content, "Silence from the champion.");
    mock.assert_async().await;
}

#[tokio::test]
async fn a_failed_job_arrives_as_a_200_with_its_error() {
    let (server, client) = hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path("/companies/C-1/conversations/c1/messages/jobs/j9"));
            then.status(200).json_body(json!({
                "status": "failed",
                "error": {"code": "agent.timeout", "category": "internal", "message": "Too slow."}
            }));
        })
        .await;
    let job = client
        .get_company_message_job()
        .company_id("C-1")
        .cid("c1")
        .job_id("j9")
        .send()
        .await
        .unwrap();
    assert_eq!(job.status, MessageJobStatus::Failed);
    let error = job.error.as_ref().unwrap();
    assert_eq!(
        (error.code.as_str(), error.category.as_str()),
        ("agent.timeout", "internal")
    );
}

#[tokio::test]
async fn create_company_conversation_posts_user_email() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(POST).path(path("/companies/C-1/conversations")))
                .json_body(json!({"user_email": "jsmith@example.com"}));
            then.status(200).json_body(json!({
                "conversation_id": "<string>", "created_at": "2023-11-07T05:31:56Z",
                "deal_id": "<string>", "company_id": "<string>"
            }));
        })
        .await;
    let conversation = client
        .create_company_conversation()
        .company_id("C-1")
        .body(
            types::CreateConversationRequest::builder()
                .user_email(Some("jsmith@example.com".parse().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.company_id.as_deref(), Some("<string>"));
    mock.assert_async().await;
}

#[tokio::test]
async fn list_company_conversations_sends_limit() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/companies/C-1/conversations")))
                .query_param("limit", "1")
                .query_param_missing("cursor");
            then.status(200)
                .json_body(json!({"conversations": [], "next_cursor": null}));
        })
        .await;
    let page = client
        .list_company_conversations()
        .company_id("C-1")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.conversations.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_company_conversation_accepts_a_bodiless_200() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(DELETE)
                    .path(path("/companies/C-1/conversations/c1")),
            );
            then.status(200);
        })
        .await;
    let done = client
        .delete_company_conversation()
        .company_id("C-1")
        .cid("c1")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    mock.assert_async().await;
}

#[tokio::test]
async fn list_company_conversation_messages_uses_after() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(GET)
                    .path(path("/companies/C-1/conversations/c1/messages")),
            )
            .query_param("after", "m1")
            .query_param("order", "asc");
            then.status(200).json_body(json!({
                "conversation_id": "c1",
                "messages": [{"id": "m2", "role": "user", "content": "hi",
                              "created_at": "2026-05-22T10:02:12Z"}],
                "next_cursor": null
            }));
        })
        .await;
    let page = client
        .list_company_conversation_messages()
        .company_id("C-1")
        .cid("c1")
        .after("m1")
        .order(types::MessageOrder::Asc)
        .send()
        .await
        .unwrap();
    assert_eq!(page.messages[0].role, Some(MessageRole::User));
    mock.assert_async().await;
}

#[tokio::test]
async fn send_company_message_posts_the_message() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(
                when.method(POST)
                    .path(path("/companies/C-1/conversations/c1/messages")),
            )
            .json_body(json!({"message": "Summarise the account."}));
            then.status(202).json_body(json!({
                "job_id": "j1", "conversation_id": "c1", "status": "pending", "poll_url": "jobs/j1"
            }));
        })
        .await;
    let job = client
        .send_company_message()
        .company_id("C-1")
        .cid("c1")
        .body(types::SendMessageRequest::builder().message("Summarise the account."))
        .send()
        .await
        .unwrap();
    assert_eq!(job.poll_url, "jobs/j1");
    mock.assert_async().await;
}

#[tokio::test]
async fn get_company_message_job_decodes_pending() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET)
                    .path(path("/companies/C-1/conversations/c1/messages/jobs/j1")),
            ));
            then.status(200)
                .json_body(json!({"job_id": "j1", "conversation_id": "c1", "status": "pending"}));
        })
        .await;
    let job = client
        .get_company_message_job()
        .company_id("C-1")
        .cid("c1")
        .job_id("j1")
        .send()
        .await
        .unwrap();
    assert_eq!(job.status, MessageJobStatus::Pending);
    assert!(job.result.is_none() && job.error.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn list_tasks_sends_cursor_and_limit() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/tasks")))
                .query_param("cursor", "t1")
                .query_param("limit", "50");
            then.status(200)
                .json_body(json!({"tasks": [task_example()], "next_cursor": null}));
        })
        .await;
    let page = client
        .list_tasks()
        .cursor("t1")
        .limit(50)
        .send()
        .await
        .unwrap();
    assert_eq!(page.tasks[0].status, TaskStatus::Pending);
    assert_eq!(page.tasks[0].priority, Some(TaskPriority::High));
    mock.assert_async().await;
}

#[tokio::test]
async fn create_task_posts_the_documented_body() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(POST).path(path("/tasks"))).json_body(json!({
                "task_type": "email",
                "task_title": "Send pricing",
                "assignee_id": "usr_204",
                "targets": {"deal_id": "D-1"},
                "priority": "medium",
                "draft": {"subject": "Pricing", "body": "Attached."},
                "due_date": "2026-05-29T17:00:00Z"
            }));
            then.status(201).json_body(task_example());
        })
        .await;
    let task = client
        .create_task()
        .body(
            types::TaskCreate::builder()
                .task_type(types::TaskType::Email)
                .task_title("Send pricing")
                .assignee_id("usr_204")
                .targets(types::TaskTargetsInput::builder().deal_id("D-1"))
                .draft(
                    types::TaskDraft::builder()
                        .subject("Pricing")
                        .body("Attached."),
                )
                .due_date(
                    "2026-05-29T17:00:00Z"
                        .parse::<chrono::DateTime<chrono::Utc>>()
                        .unwrap(),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(task.status(), 201);
    assert_eq!(task.task_id.to_string(), TASK_ID);
    mock.assert_async().await;
}

#[tokio::test]
async fn get_task_decodes_the_reference_example() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path(&format!("/tasks/{TASK_ID}"))),
            ));
            then.status(200).json_body(task_example());
        })
        .await;
    let task = client.get_task().task_id(task_id()).send().await.unwrap();
    assert_eq!(task.task_type.as_deref(), Some("<string>"));
    let targets = task.targets.as_ref().unwrap();
    assert_eq!(
        targets.contact.as_ref().unwrap().name.as_deref(),
        Some("<string>")
    );
    assert_eq!(
        task.draft.as_ref().unwrap().talking_points,
        vec!["<string>".to_string()]
    );
    assert_eq!(task.dismiss_reason.as_deref(), Some("<string>"));
    mock.assert_async().await;
}

#[tokio::test]
async fn update_task_patches_status_and_reason() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(PATCH).path(path(&format!("/tasks/{TASK_ID}"))))
                .json_body(json!({"status": "dismissed", "dismiss_reason": "Contact left."}));
            let mut task = task_example();
            task["status"] = json!("dismissed");
            then.status(200).json_body(task);
        })
        .await;
    let task = client
        .update_task()
        .task_id(task_id())
        .body(
            types::TaskUpdate::builder()
                .status(types::TaskCloseStatus::Dismissed)
                .dismiss_reason(Some("Contact left.".parse().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(task.status, TaskStatus::Dismissed);
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_task_accepts_204() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_body(hockeystack_headers(
                when.method(DELETE).path(path(&format!("/tasks/{TASK_ID}"))),
            ));
            then.status(204);
        })
        .await;
    client
        .delete_task()
        .task_id(task_id())
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn credits_balance_decodes_the_reference_example() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hockeystack_headers(
                when.method(GET).path(path("/credits/balance")),
            ));
            then.status(200).json_body(json!({
                "as_of": "2023-11-07T05:31:56Z", "resets_at": "2023-11-07T05:31:56Z",
                "included_credits": 123, "on_demand_credit_limit": null,
                "on_demand_uncapped": true, "monthly_used_credits": 123.5,
                "on_demand_used_credits": 123, "remaining_included_credits": 123,
                "remaining_on_demand_credits": null, "is_limit_exceeded": true
            }));
        })
        .await;
    let balance = client.credits_balance().send().await.unwrap();
    assert!(balance.on_demand_uncapped && balance.is_limit_exceeded);
    assert_eq!(balance.on_demand_credit_limit, None);
    assert_eq!(balance.monthly_used_credits, 123.5);
    mock.assert_async().await;
}

#[tokio::test]
async fn credits_usage_sends_window_and_grouping() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/credits/usage")))
                .query_param("from", "2026-05-01")
                .query_param("to", "2026-06-01T00:00:00+02:00")
                .query_param("group_by", "feature,day");
            then.status(200).json_body(json!({
                "from": "2023-11-07T05:31:56Z", "to": "2023-11-07T05:31:56Z",
                "group_by": "feature,day", "total_credits_used": 123,
                "groups": [{"credits_used": 123, "operation_count": 123,
                            "feature": "<string>", "day": "<string>"}]
            }));
        })
        .await;
    let usage = client
        .credits_usage()
        .from("2026-05-01")
        .to("2026-06-01T00:00:00+02:00")
        .group_by(CreditGroupBy::FeatureAndDay)
        .send()
        .await
        .unwrap();
    assert_eq!(usage.group_by, CreditGroupBy::FeatureAndDay);
    assert_eq!(usage.groups[0].operation_count, Some(123));
    mock.assert_async().await;
}

#[tokio::test]
async fn credits_operations_sends_filters_and_paging() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            hockeystack_headers(when.method(GET).path(path("/credits/operations")))
                .query_param("from", "2026-05-01")
                .query_param("feature", "agent_message")
                .query_param("cursor", "op50")
                .query_param("limit", "10")
                .query_param_missing("to");
            then.status(200).json_body(json!({
                "operations": [{"operation_uuid": "<string>", "operation_type": "<string>",
                                "feature": "<string>", "credits": 123, "metadata": {},
                                "timestamp": "2023-11-07T05:31:56Z"}],
                "next_cursor": "<string>"
            }));
        })
        .await;
    let page = client
        .credits_operations()
        .from("2026-05-01")
        .feature("agent_message")
        .cursor("op50")
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.operations[0].credits, Some(123.0));
    assert!(page.operations[0].metadata.is_empty());
    mock.assert_async().await;
}
