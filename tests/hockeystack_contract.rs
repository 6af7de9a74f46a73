//! What a HockeyStack caller relies on beyond single operations: errors decode to the typed
//! envelope, unknown values and fields never break decoding, path parameters stay inside their
//! segment, and configuration mistakes are caught before any request.
#![cfg(feature = "hockeystack")]

mod common;

use common::{HS_TOKEN, hockeystack};
use httpmock::Method::{GET, PATCH, POST, PUT};
use revenue_agents::hockeystack::{self, AgentStatus, TaskPriority, TaskStatus, types};
use revenue_agents::{ApiErrorBody, Error, ErrorKind};
use serde_json::json;

const BASE: &str = "/api/revenue-agents/v1";

fn envelope(code: &str, category: &str, message: &str) -> serde_json::Value {
    json!({"error": {"code": code, "category": category, "message": message}})
}

/// Unwraps the API's error envelope of a failed call, with its status.
fn error_body<T: std::fmt::Debug>(result: Result<T, Error>) -> (u16, ApiErrorBody) {
    match result {
        Err(error) => match (error.status(), error.api_error()) {
            (Some(status), Some(body)) => (status, body.clone()),
            _ => panic!("expected an error envelope, got {error:?}"),
        },
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Whether the call was refused locally, before anything was sent.
fn refused<T>(result: &Result<T, Error>) -> bool {
    matches!(
        result.as_ref().map_err(Error::kind),
        Err(ErrorKind::InvalidRequest { .. })
    )
}

#[tokio::test]
async fn every_documented_error_status_decodes_to_the_envelope() {
    let (server, client) = hockeystack().await;
    let cases = [
        (400, "request.invalid", "invalid_request"),
        (401, "auth.invalid_token", "unauthorized"),
        (429, "rate_limit.exceeded", "rate_limited"),
    ];
    for (status, code, category) in cases {
        let mock = server
            .mock_async(|when, then| {
                when.method(GET).path(format!("{BASE}/credits/operations"));
                then.status(status)
                    .header("retry-after", "23")
                    .json_body(envelope(code, category, "explained"));
            })
            .await;
        let (got_status, detail) = error_body(client.credits_operations().send().await);
        assert_eq!((got_status, detail.code.as_deref()), (status, Some(code)));
        assert_eq!(detail.category.as_deref(), Some(category));
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn not_found_conflict_and_credit_cap_decode_to_the_envelope() {
    let (server, client) = hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-404/agent"));
            then.status(404)
                .json_body(envelope("resource.not_found", "not_found", "No agent."));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path(format!("{BASE}/deals/D-409/agent"));
            then.status(409)
                .json_body(envelope("agent.already_exists", "conflict", "Exists."));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path(format!("{BASE}/deals/D-503/agent"));
            then.status(503).json_body(envelope(
                "credits.limit_exceeded",
                "credits_exhausted",
                "Cap.",
            ));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(PATCH).path_prefix(format!("{BASE}/tasks/"));
            then.status(409)
                .json_body(envelope("task.terminal", "conflict", "Already closed."));
        })
        .await;

    let (status, detail) = error_body(client.get_deal_agent().deal_id("D-404").send().await);
    assert_eq!(
        (status, detail.category.as_deref()),
        (404, Some("not_found"))
    );
    let (status, detail) = error_body(client.init_deal_agent().deal_id("D-409").send().await);
    assert_eq!(
        (status, detail.code.as_deref()),
        (409, Some("agent.already_exists"))
    );
    let (status, detail) = error_body(client.init_deal_agent().deal_id("D-503").send().await);
    assert_eq!((status, detail.message.as_str()), (503, "Cap."));
    let task_id = types::TaskId("3c90c3cc-0d44-4b50-8888-8dd25736052a".parse().unwrap());
    let update = types::TaskUpdate::builder().status(types::TaskCloseStatus::Completed);
    let (status, _) = error_body(
        client
            .update_task()
            .task_id(task_id)
            .body(update)
            .send()
            .await,
    );
    assert_eq!(status, 409);
}

#[tokio::test]
async fn an_error_body_that_is_not_the_envelope_is_reported_not_panicked_on() {
    let (server, client) = hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/me"));
            then.status(401)
                .header("content-type", "text/plain")
                .body("Unauthorized");
        })
        .await;
    // The status decides the kind; the plain-text body is kept as a snippet.
    let error = client.me().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Unauthorized);
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.body_snippet(), Some("Unauthorized"));
}

#[tokio::test]
async fn unknown_enum_values_and_fields_decode() {
    let (server, client) = hockeystack().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-1/agent"));
            then.status(200).json_body(json!({
                "deal_id": "D-1",
                "status": "paused_for_review",
                "brand_new_field": {"nested": [1, 2, 3]}
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/tasks"));
            then.status(200).json_body(json!({
                "tasks": [{
                    "task_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
                    "status": "snoozed",
                    "priority": "critical",
                    "task_type": "meeting",
                    "created_at": "2026-05-22T10:05:00Z",
                    "unannounced": true
                }, {
                    "task_id": "4c90c3cc-0d44-4b50-8888-8dd25736052a",
                    "status": "completed",
                    "priority": null,
                    "task_type": null,
                    "created_at": "2026-05-22T10:05:00Z"
                }],
                "next_cursor": null,
                "total_estimate": 2
            }));
        })
        .await;

    let agent = client.get_deal_agent().deal_id("D-1").send().await.unwrap();
    assert!(!agent.status.is_known());
    assert_eq!(agent.status.as_str(), "paused_for_review");
    assert_ne!(agent.status, AgentStatus::Active);

    let page = client.list_tasks().send().await.unwrap();
    let (new, old) = (&page.tasks[0], &page.tasks[1]);
    assert_eq!(new.status.to_string(), "snoozed");
    assert_eq!(
        new.priority.as_ref().map(TaskPriority::as_str),
        Some("critical")
    );
    assert_eq!(new.task_type.as_deref(), Some("meeting"));
    assert_eq!(old.status, TaskStatus::Completed);
    assert_eq!(old.priority, None);
}

#[tokio::test]
async fn path_parameters_stay_inside_their_segment() {
    let (server, client) = hockeystack().await;
    let deal = "a%2Fb%3Fc=1%23d";
    let list = server
        .mock_async(|when, then| {
            when.method(GET).is_true(move |req| {
                req.uri().path() == format!("{BASE}/deals/{deal}/conversations")
            });
            then.status(200)
                .json_body(json!({"conversations": [], "next_cursor": null}));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            when.is_true(move |req| {
                req.uri().path() == format!("{BASE}/deals/{deal}/conversations/x%2F..%2Fy")
            });
            then.status(204);
        })
        .await;
    // Anything else reaching the server is a test failure.
    let stray = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599);
        })
        .await;

    client
        .list_deal_conversations()
        .deal_id("a/b?c=1#d")
        .send()
        .await
        .unwrap();
    client
        .delete_deal_conversation()
        .deal_id("a/b?c=1#d")
        .cid("x/../y")
        .send()
        .await
        .unwrap();
    list.assert_async().await;
    delete.assert_async().await;

    // `.` and `..` as a whole id would be folded away by URL normalisation: refused locally.
    for id in [".", ".."] {
        let result = client.get_deal_agent().deal_id(id).send().await;
        assert!(refused(&result), "{id}: {result:?}");
        let result = client
            .get_deal_message_job()
            .deal_id("D-1")
            .cid("c")
            .job_id(id)
            .send()
            .await;
        assert!(refused(&result), "{id}: {result:?}");
    }
    assert_eq!(stray.calls_async().await, 0);
}

#[tokio::test]
async fn ids_outside_the_documented_bounds_are_refused_before_sending() {
    let (server, client) = hockeystack().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let too_long = "9".repeat(65);
    assert!(refused(
        &client
            .get_deal_agent()
            .deal_id(too_long.as_str())
            .send()
            .await
    ));
    assert!(refused(
        &client.get_company_agent().company_id("").send().await
    ));
    let too_long_message = "x".repeat(10_001);
    let body = types::SendMessageRequest::builder().message(too_long_message.as_str());
    assert!(refused(
        &client
            .send_deal_message()
            .deal_id("D")
            .cid("c")
            .body(body)
            .send()
            .await
    ));
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn a_client_without_credentials_refuses_everything_but_health() {
    let server = httpmock::MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({}));
        })
        .await;
    let client = hockeystack::Client::builder()
        .base_url(server.url(BASE))
        .build_without_credentials()
        .unwrap();
    let result = client.me().send().await;
    assert!(refused(&result), "{result:?}");
    let message = result.unwrap_err().to_string();
    assert!(message.contains("HOCKEYSTACK_API_TOKEN"), "{message}");
    client.health().send().await.unwrap();
    assert_eq!(any.calls_async().await, 1);
}

#[test]
fn a_missing_or_blank_token_is_an_error_naming_the_variable() {
    for builder in [
        hockeystack::Client::builder(),
        hockeystack::Client::builder().credential("  "),
    ] {
        let error = builder.build().unwrap_err();
        assert!(matches!(
            error.kind(),
            revenue_agents::ErrorKind::MissingCredentials {
                variable: "HOCKEYSTACK_API_TOKEN",
                ..
            }
        ));
        assert!(error.to_string().contains("HOCKEYSTACK_API_TOKEN"));
    }
}

#[test]
fn a_token_that_cannot_be_a_header_is_refused_without_echoing_it() {
    let error = hockeystack::Client::from_credential("hsr_live_ab\ncd").unwrap_err();
    assert!(matches!(
        error.kind(),
        revenue_agents::ErrorKind::InvalidCredentials { .. }
    ));
    assert!(!format!("{error} {error:?}").contains("hsr_live_ab"));
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let error = hockeystack::Client::builder()
        .credential(HS_TOKEN)
        .base_url("http://app.hockeystack.com/api/revenue-agents/v1")
        .build()
        .unwrap_err();
    assert!(matches!(
        error.kind(),
        revenue_agents::ErrorKind::InvalidBaseUrl { .. }
    ));
}

#[test]
fn the_token_never_appears_in_debug_output() {
    let builder = hockeystack::Client::builder().credential(HS_TOKEN);
    assert!(!format!("{builder:?}").contains(HS_TOKEN));
    let client = builder.build().unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains(HS_TOKEN), "{debug}");
    assert!(!debug.contains("test_token"), "{debug}");
    // One short line: no operation tables, no HTTP client internals.
    assert_eq!(debug, format!("hockeystack::Client({})", client.base_url()));
}

#[tokio::test]
async fn the_production_base_url_is_the_default() {
    let client = hockeystack::Client::from_credential(HS_TOKEN).unwrap();
    assert_eq!(
        client.base_url(),
        "https://app.hockeystack.com/api/revenue-agents/v1"
    );
}

#[tokio::test]
async fn a_post_carries_json_and_the_credential_only_in_its_header() {
    let (server, client) = hockeystack().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{BASE}/deals/D/conversations"))
                .header("content-type", "application/json")
                .is_true(|req| {
                    !req.uri().to_string().contains("test_token")
                        && !String::from_utf8_lossy(req.body().as_ref()).contains("test_token")
                });
            then.status(201)
                .json_body(json!({"conversation_id": "c", "created_at": "2026-05-22T10:02:11Z"}));
        })
        .await;
    client
        .create_deal_conversation()
        .deal_id("D")
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
}
