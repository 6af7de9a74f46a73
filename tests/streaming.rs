//! Streamed replies against a small server that writes its answer over time, so that chunk
//! boundaries, a stall and a dropped stream are real (httpmock cannot stream a body).
#![cfg(feature = "hockeystack")]

use std::time::Duration;

use futures_util::StreamExt;
use revenue_agents::{
    ErrorKind, RetryPolicy,
    hockeystack::{Client, ReplyEvent, ToolArgs},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};

const TOKEN: &str = "hsr_live_test_token";

enum Step {
    Send(&'static [u8]),
    Pause(u64),
    /// Keep the connection open and silent.
    Stall,
    /// Write keep-alive comments until the client goes away; report how many were written.
    KeepAliveUntilClosed,
}

/// Serves one connection: reads the request, answers `head`, then follows the steps. Returns
/// the request as received and, for `KeepAliveUntilClosed`, the number of writes.
async fn serve(head: &'static str, steps: Vec<Step>) -> (String, JoinHandle<(String, usize)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}/api/revenue-agents/v1",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        let body_start = loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head_text = String::from_utf8_lossy(&request[..body_start]).to_lowercase();
        let length: usize = head_text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        while request.len() < body_start + length {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut writes = 0;
        for step in steps {
            match step {
                Step::Send(bytes) => socket.write_all(bytes).await.unwrap(),
                Step::Pause(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Step::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                Step::KeepAliveUntilClosed => loop {
                    if socket.write_all(b": keep-alive\n\n").await.is_err() {
                        break;
                    }
                    writes += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    if writes > 3000 {
                        break; // 30 s: the client never closed
                    }
                },
            }
        }
        (String::from_utf8_lossy(&request).into_owned(), writes)
    });
    (base, task)
}

fn client(base: &str, read_timeout: Duration) -> Client {
    Client::builder()
        .credential(TOKEN)
        .base_url(base)
        .read_timeout(read_timeout)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

#[tokio::test]
async fn events_arrive_typed_whatever_the_chunking_and_the_stream_ends_at_done() {
    let (base, server) = serve(
        SSE_HEAD,
        vec![
            Step::Send(b"event: text_del"),
            Step::Pause(20),
            Step::Send(b"ta\r\ndata: {\"delta\":\"The biggest \"}\r"),
            Step::Pause(20),
            Step::Send(b"\n\r\nevent: tool_use\ndata: {\"id\":\"t1\",\"name\":\"resolve_contact\",\"args\":{\"email\":\"sam@example.com\"}}\n\n"),
            Step::Send(b": keep-alive\n\nevent: reasoning_step\ndata: thinking\n\n"),
            Step::Send(b"event: tool_result\ndata: {\"id\":\"t1\",\"result\":{\"name\":\"Sam Lee\"}}\n\nevent: tool_use\ndata: {\"id\":\"t2\",\"args\":\"{broken\"}\n\n"),
            Step::Pause(20),
            Step::Send(b"event: text_delta\ndata: {\"delta\":\"risk is silence.\"}\n\nevent: done\ndata: {\"conversation_id\":\"c1\"}\n\n"),
            Step::Send(b"event: text_delta\ndata: {\"delta\":\"never read\"}\n\n"),
        ],
    )
    .await;
    let client = client(&base, Duration::from_secs(5));
    let stream = client
        .stream_deal_reply("D-1", "c1", "What is the biggest risk?")
        .await
        .unwrap();
    let events: Vec<ReplyEvent> = stream.map(|e| e.unwrap()).collect().await;
    assert_eq!(
        events,
        vec![
            ReplyEvent::TextDelta {
                text: "The biggest ".into()
            },
            ReplyEvent::ToolUse {
                id: Some("t1".into()),
                name: Some("resolve_contact".into()),
                args: ToolArgs::Json(serde_json::json!({"email": "sam@example.com"})),
            },
            ReplyEvent::Unknown {
                event: "reasoning_step".into(),
                data: "thinking".into()
            },
            ReplyEvent::ToolResult {
                id: Some("t1".into()),
                name: None,
                result: serde_json::json!({"name": "Sam Lee"}),
            },
            ReplyEvent::ToolUse {
                id: Some("t2".into()),
                name: None,
                args: ToolArgs::Text("{broken".into())
            },
            ReplyEvent::TextDelta {
                text: "risk is silence.".into()
            },
            ReplyEvent::Done {
                conversation_id: Some("c1".into()),
                data: serde_json::json!({"conversation_id": "c1"}),
            },
        ]
    );
    let (request, _) = server.await.unwrap();
    let lower = request.to_lowercase();
    assert!(
        request.starts_with(
            "POST /api/revenue-agents/v1/deals/D-1/conversations/c1/messages HTTP/1.1"
        ),
        "{request}"
    );
    assert!(lower.contains("accept: text/event-stream"), "{request}");
    assert!(
        lower.contains(&format!("authorization: bearer {TOKEN}")),
        "{request}"
    );
    assert!(!lower.contains("api-version"), "{request}");
    assert!(
        request.contains(r#""message":"What is the biggest risk?""#)
            && request.contains(r#""stream":true"#),
        "{request}"
    );
}

#[tokio::test]
async fn an_http_error_comes_back_before_any_event() {
    let (base, _server) = serve(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: req-42\r\nconnection: close\r\ncontent-length: 88\r\n\r\n",
        vec![Step::Send(br#"{"error":{"code":"auth.invalid_token","category":"unauthorized","message":"Bad token."}}"#)],
    )
    .await;
    let error = client(&base, Duration::from_secs(5))
        .stream_company_reply("C-1", "c1", "hello")
        .await
        .expect_err("a 401 is an error");
    assert_eq!(error.kind(), &ErrorKind::Unauthorized);
    assert_eq!(error.request_id(), Some("req-42"));
    assert_eq!(error.api_error().unwrap().message, "Bad token.");
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_silent_server_fails_with_a_read_timeout_after_the_events_so_far() {
    let (base, _server) = serve(
        SSE_HEAD,
        vec![
            Step::Send(b"event: text_delta\ndata: {\"delta\":\"partial\"}\n\n"),
            Step::Stall,
        ],
    )
    .await;
    let mut stream = client(&base, Duration::from_millis(300))
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ReplyEvent::TextDelta {
            text: "partial".into()
        }
    );
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::StreamInterrupted { conversation_id, events_received: 1, .. }
                if conversation_id == "c1"
        ),
        "{error:?}"
    );
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        stream.next().await.is_none(),
        "the stream ends after its error"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (base, server) = serve(
        SSE_HEAD,
        vec![
            Step::Send(b"event: text_delta\ndata: {\"delta\":\"hi\"}\n\n"),
            Step::KeepAliveUntilClosed,
        ],
    )
    .await;
    let mut stream = client(&base, Duration::from_secs(5))
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let (_, writes) = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server saw the close")
        .unwrap();
    assert!(writes < 3000, "the server kept writing to a dropped stream");
}

#[tokio::test]
async fn a_json_answer_where_a_stream_was_asked_for_is_reported() {
    let (base, _server) = serve(
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 2\r\n\r\n",
        vec![Step::Send(b"{}")],
    )
    .await;
    let error = client(&base, Duration::from_secs(5))
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidResponse { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_oversized_message_is_refused_before_sending() {
    let client = client(
        "http://127.0.0.1:9/api/revenue-agents/v1",
        Duration::from_secs(1),
    );
    let error = client
        .stream_deal_reply("D-1", "c1", "x".repeat(10_001))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidRequest { .. }),
        "{error:?}"
    );
    let error = client
        .stream_deal_reply("..", "c1", "hi")
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidRequest { .. }),
        "{error:?}"
    );
}
