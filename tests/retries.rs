//! The transport's retries against a real HTTP server. The timing of backoff and
//! `Retry-After` is covered in virtual time by the unit tests of `retry`; here the waits are
//! zero and what is checked is which requests are repeated and how often.
#![cfg(feature = "hockeystack")]

mod common;

use std::time::Duration;

use common::hockeystack_client;
use httpmock::{
    Method::{GET, POST},
    MockServer,
};
use revenue_agents::{ErrorKind, RetryPolicy};
use serde_json::json;

const BASE: &str = "/api/revenue-agents/v1";

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::ZERO, Duration::ZERO)
        .jitter(false)
}

fn envelope(code: &str) -> serde_json::Value {
    json!({"error": {"code": code, "category": "c", "message": "m"}})
}

#[tokio::test]
async fn a_rate_limited_post_is_repeated_after_retry_after_and_succeeds() {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, quick());
    // The first matching mock with calls left answers: one 429, then acceptance.
    let limited = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{BASE}/deals/D/conversations"));
            then.status(429)
                .header("retry-after", "0")
                .header("x-ratelimit-pool", "write")
                .header("x-ratelimit-remaining", "0")
                .json_body(envelope("rate_limit.exceeded"))
                .up_to_n_times(1);
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{BASE}/deals/D/conversations"));
            then.status(201)
                .header("x-ratelimit-pool", "write")
                .header("x-ratelimit-remaining", "58")
                .json_body(json!({"conversation_id": "c", "created_at": "2026-05-22T10:02:11Z"}));
        })
        .await;
    let conversation = client
        .create_deal_conversation()
        .deal_id("D")
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.conversation_id, "c");
    assert_eq!(
        (limited.calls_async().await, accepted.calls_async().await),
        (1, 1)
    );
    let rate = client
        .rate_limit()
        .expect("rate-limit headers were recorded");
    assert_eq!(
        (rate.pool.as_deref(), rate.remaining),
        (Some("write"), Some(58))
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_is_returned_at_once() {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, quick().max_wait(Duration::from_secs(5)));
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/me"));
            then.status(429)
                .header("retry-after", "3600")
                .json_body(envelope("rate_limit.exceeded"));
        })
        .await;
    let error = client.me().send().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn a_failing_get_is_repeated_up_to_the_budget() {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, quick().max_retries(2));
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/tasks"));
            then.status(502).body("bad gateway");
        })
        .await;
    let error = client.list_tasks().send().await.unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        (&ErrorKind::Server, Some(502))
    );
    assert_eq!(mock.calls_async().await, 3, "one try and two retries");
}

#[tokio::test]
async fn a_post_that_failed_on_the_server_is_never_repeated() {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, quick());
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{BASE}/tasks"));
            then.status(500).json_body(envelope("internal"));
        })
        .await;
    let body = revenue_agents::hockeystack::types::TaskCreate::builder()
        .task_type(revenue_agents::hockeystack::types::TaskType::Call)
        .task_title("Call Sam")
        .assignee_id("u1")
        .targets(revenue_agents::hockeystack::types::TaskTargetsInput::builder().deal_id("D"));
    let result = client.create_task().body(body).send().await;
    assert!(result.is_err());
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn credit_exhaustion_fails_fast_even_for_put() {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, quick());
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT").path(format!("{BASE}/deals/D/agent"));
            then.status(503)
                .json_body(envelope("credits.limit_exceeded"));
        })
        .await;
    let error = client
        .init_deal_agent()
        .deal_id("D")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::CreditsExhausted);
    assert_eq!(
        error.api_error().unwrap().code.as_deref(),
        Some("credits.limit_exceeded")
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_transport() {
    let closed = common::closed_port();
    let port = closed.port;
    let client = |retry| {
        revenue_agents::hockeystack::Client::builder()
            .credential("hsr_live_test_token")
            .base_url(format!("http://127.0.0.1:{port}"))
            .retry_policy(retry)
            .build()
            .unwrap()
    };
    let error = client(quick()).me().send().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Transport {
            cause: revenue_agents::TransportCause::Connect
        }
    );
    assert!(!format!("{error} {error:?}").contains("hsr_live_test_token"));

    // The server comes up while the client backs off: the retry finds it. Without retries the
    // same call fails.
    let patient = RetryPolicy::default()
        .backoff(Duration::from_millis(300), Duration::from_millis(300))
        .jitter(false)
        .max_retries(5);
    assert!(client(RetryPolicy::none()).me().send().await.is_err());
    let late_server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The port, held closed until now, is opened.
        drop(closed);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut socket, _) = listener.accept().await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let body = r#"{"workspace":{"id":"ws_1","name":"Acme"},"token":{"id":"t","name":"n","created_at":"2026-01-01T00:00:00Z"}}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
    });
    let me = client(patient).me().send().await;
    assert!(me.is_ok(), "the retry reached the server: {me:?}");
    late_server.await.unwrap();
}
