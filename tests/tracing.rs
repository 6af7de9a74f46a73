//! What the `tracing` feature shows: a span per request with the API, operation, method, path
//! template, attempt, status and request id; an event per retry and per wait step; and never
//! a credential, a path id or a query value.
#![cfg(all(feature = "tracing", feature = "hockeystack"))]

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{HS_TOKEN, hockeystack_client};
use httpmock::{Method::GET, MockServer};
use revenue_agents::{PollPolicy, RetryPolicy};
use serde_json::json;
use tracing_subscriber::fmt::{MakeWriter, format::FmtSpan};

const BASE: &str = "/api/revenue-agents/v1";

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

#[tokio::test]
async fn a_retried_request_shows_its_span_attempts_and_the_retry() {
    let (captured, _guard) = capture();
    let server = MockServer::start_async().await;
    let client = hockeystack_client(
        &server,
        RetryPolicy::default()
            .backoff(Duration::ZERO, Duration::ZERO)
            .jitter(false),
    );
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/deals/D-private-77/agent"));
            then.status(429)
                .header("retry-after", "0")
                .header("x-request-id", "req-1")
                .json_body(json!({"error": {"code": "rate_limit.exceeded", "category": "rate_limited", "message": "m"}}));
        })
        .await;
    let error = client
        .get_deal_agent()
        .deal_id("D-private-77")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(limited.calls_async().await, 4);

    let text = captured.text();
    for part in [
        "request",
        "api=\"HockeyStack\"",
        "operation=\"get_deal_agent\"",
        "method=GET",
        "path=\"/deals/{dealId}/agent\"",
        "attempt=4",
        "status=429",
        "request_id=\"req-1\"",
        "retrying the request",
        "reason=\"status 429\"",
        "delay_ms=0",
        // OpenTelemetry's HTTP client attributes, beside the crate's own names.
        "otel.kind=\"client\"",
        "otel.name=\"GET /api/revenue-agents/v1/deals/{dealId}/agent\"",
        "http.request.method=\"GET\"",
        "url.template=\"/api/revenue-agents/v1/deals/{dealId}/agent\"",
        "server.address=\"127.0.0.1\"",
        "server.port=",
        "http.response.status_code=429",
        "http.request.resend_count=3",
        "error.type=\"429\"",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
    assert_eq!(text.matches("retrying the request").count(), 3, "{text}");
    assert!(!text.contains(HS_TOKEN), "{text}");
    assert!(
        !text.contains("D-private-77"),
        "a path id was traced:\n{text}"
    );
}

#[tokio::test]
async fn query_values_and_bodies_never_reach_the_trace() {
    let (captured, _guard) = capture();
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, RetryPolicy::none());
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/tasks"));
            then.status(200).json_body(json!({
                "tasks": [], "next_cursor": null, "secret_field": "personal@example.com"
            }));
        })
        .await;
    client
        .list_tasks()
        .cursor("cursor-with-personal-data")
        .send()
        .await
        .unwrap();
    let text = captured.text();
    assert!(text.contains("operation=\"list_tasks\""), "{text}");
    assert!(text.contains("status=200"), "{text}");
    assert!(!text.contains("cursor-with-personal-data"), "{text}");
    assert!(!text.contains("personal@example.com"), "{text}");
}

#[tokio::test]
async fn every_wait_step_is_an_event_with_its_state_and_next_delay() {
    let (captured, _guard) = capture();
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, RetryPolicy::none());
    // The first matching mock with calls left answers: twice pending, then completed.
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{BASE}/deals/D/conversations/c/messages/jobs/j"));
            then.status(200)
                .json_body(json!({"status": "pending"}))
                .up_to_n_times(2);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{BASE}/deals/D/conversations/c/messages/jobs/j"));
            then.status(200).json_body(json!({
                "status": "completed",
                "result": {"messages": [{"role": "assistant", "content": "ok"}]}
            }));
        })
        .await;
    client
        .wait_for_deal_job("D", "c", "j")
        .policy(PollPolicy::new(
            Duration::from_millis(1),
            Duration::from_millis(1),
        ))
        .await
        .unwrap();
    let text = captured.text();
    for part in [
        "waiting",
        "phase=waiting for the reply",
        "state=\"pending\"",
        "next_delay_ms=1",
        "wait over",
        "state=\"completed\"",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
}

#[tokio::test]
async fn a_request_id_or_job_state_that_echoes_the_token_reaches_no_log() {
    let (captured, _guard) = capture();
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, RetryPolicy::none());
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{BASE}/me"));
            then.status(404)
                .header("x-request-id", format!("req-{HS_TOKEN}"));
        })
        .await;
    let job = server
        .mock_async(|when, then| {
            when.method(GET).path(format!(
                "{BASE}/deals/D-1/conversations/c1/messages/jobs/j1"
            ));
            then.status(200)
                .json_body(json!({"job_id": "j1", "status": format!("waiting-{HS_TOKEN}")}));
        })
        .await;
    assert!(client.me().send().await.is_err());
    let wait = client.wait_for_deal_job("D-1", "c1", "j1").policy(
        PollPolicy::new(Duration::from_millis(1), Duration::from_millis(1))
            .deadline(Duration::from_millis(300)),
    );
    // Read while the wait runs: the final update is the wait's own `timed_out`, so only the
    // updates before it carry the server's state.
    use futures_util::StreamExt;
    let progress = tokio::spawn(wait.progress().collect::<Vec<_>>());
    assert!(wait.await.is_err(), "the job never finishes");
    assert!(job.calls_async().await >= 1);
    let updates = progress.await.unwrap();
    assert!(
        updates.iter().any(|u| u.state.starts_with("waiting-")),
        "the server's state reached the progress: {updates:?}"
    );
    for update in &updates {
        assert!(!update.state.contains(HS_TOKEN), "{update:?}");
    }
    let logs = captured.text();
    assert!(logs.contains("req-"), "the request id is logged: {logs}");
    assert!(
        logs.contains("waiting-"),
        "the job's state is logged: {logs}"
    );
    assert!(!logs.contains(HS_TOKEN), "{logs}");
}
