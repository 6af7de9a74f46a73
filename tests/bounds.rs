//! Bounds that hold whatever a server sends: the size of an answer and of one streamed event,
//! and the time of one whole call, retries and `Retry-After` waits included.
#![cfg(all(feature = "hockeystack", feature = "hyperrep"))]

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use revenue_agents::{ErrorKind, RetryPolicy, hockeystack, hyperrep};
use tokio::io::AsyncWriteExt;

use common::raw_server;

const TOKEN: &str = "hsr_live_bounds_test";
const MIB: u64 = 1024 * 1024;

fn hockeystack_at(base: &str) -> revenue_agents::ClientBuilder<hockeystack::HockeyStack> {
    hockeystack::Client::builder()
        .credential(TOKEN)
        .base_url(base)
        .retry_policy(RetryPolicy::none())
}

/// Writes a chunked JSON array that never closes, 64 KiB a chunk, until the client goes away
/// or `cap` bytes are written; counts what it wrote.
async fn endless_json(socket: &mut tokio::net::TcpStream, written: &AtomicU64, cap: u64) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                transfer-encoding: chunked\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let piece = "0,".repeat(32 * 1024);
    let mut first = true;
    while written.load(Ordering::SeqCst) < cap {
        let data = if first {
            format!("{{\"tasks\":[{piece}")
        } else {
            piece.clone()
        };
        first = false;
        let chunk = format!("{:x}\r\n{data}\r\n", data.len());
        if socket.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
        written.fetch_add(data.len() as u64, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_answer_that_never_ends_stops_at_the_limit_and_the_connection_is_closed() {
    let written = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let done_tx = Arc::new(std::sync::Mutex::new(Some(done_tx)));
    let counter = written.clone();
    let (base, _) = raw_server(move |_, mut socket| {
        let counter = counter.clone();
        let done_tx = done_tx.clone();
        async move {
            endless_json(&mut socket, &counter, 512 * MIB).await;
            if let Some(tx) = done_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    })
    .await;
    let client = hockeystack_at(&base)
        .max_response_bytes(MIB)
        .build()
        .unwrap();
    let error = client.list_tasks().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::ResponseTooLarge { limit: MIB });
    assert_eq!(error.status(), Some(200));
    assert!(error.to_string().contains("1048576 bytes"), "{error}");
    // The client closed the connection: the server stopped long before its own cap.
    tokio::time::timeout(Duration::from_secs(30), done_rx)
        .await
        .expect("the server saw the connection close")
        .unwrap();
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < 64 * MIB,
        "the server wrote {sent} bytes before the close"
    );
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_limit_is_refused_before_its_body() {
    let (base, _) = raw_server(|_, mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    content-length: 104857600\r\nx-request-id: req-big\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        // The body never comes: a client that waited for it would hit its read timeout.
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let client = hockeystack_at(&base)
        .max_response_bytes(MIB)
        .read_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let error = client.me().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::ResponseTooLarge { limit: MIB });
    assert_eq!(error.request_id(), Some("req-big"));
}

#[tokio::test]
async fn an_answer_within_the_limit_is_read_in_any_number_of_pieces() {
    let (base, _) = raw_server(|_, mut socket| async move {
        let body = br#"{"tasks":[],"next_cursor":null}"#;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        for piece in body.chunks(3) {
            let chunk = format!(
                "{:x}\r\n{}\r\n",
                piece.len(),
                String::from_utf8_lossy(piece)
            );
            let _ = socket.write_all(chunk.as_bytes()).await;
            let _ = socket.flush().await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let client = hockeystack_at(&base)
        .max_response_bytes(body_len())
        .build()
        .unwrap();
    let page = client.list_tasks().send().await.unwrap().into_inner();
    assert!(page.tasks.is_empty() && page.next_cursor.is_none());

    fn body_len() -> u64 {
        br#"{"tasks":[],"next_cursor":null}"#.len() as u64
    }
}

#[tokio::test]
async fn a_streamed_event_that_never_ends_stops_at_the_limit() {
    let (base, _) = raw_server(|_, mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n\
                    event: text_delta\ndata: {\"delta\":\"first\"}\n\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // `data:` lines, each short, never followed by the blank line that ends an event.
        let lines = "data: 0123456789abcdef0123456789abcdef\n".repeat(1024);
        for _ in 0..(256 * MIB / lines.len() as u64) {
            if socket.write_all(lines.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let client = hockeystack_at(&base)
        .max_response_bytes(MIB)
        .build()
        .unwrap();
    let mut reply = client
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .unwrap();
    assert!(matches!(
        reply.next().await.unwrap().unwrap(),
        hockeystack::ReplyEvent::TextDelta { .. }
    ));
    let error = reply.next().await.unwrap().unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::ResponseTooLarge { limit: MIB });
    assert!(reply.next().await.is_none(), "nothing follows the error");
}

#[tokio::test]
async fn a_server_that_drips_its_answer_is_cut_at_the_call_deadline() {
    let (base, _) = raw_server(|_, mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    content-length: 100000\r\n\r\n{";
        let _ = socket.write_all(head.as_bytes()).await;
        // One byte every 50 ms: never silent for the read timeout, never done.
        for _ in 0..2000 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if socket.write_all(b" ").await.is_err() {
                return;
            }
        }
    })
    .await;
    let limit = Duration::from_millis(800);
    let client = hockeystack_at(&base)
        .read_timeout(Duration::from_secs(10))
        .call_timeout(limit)
        .build()
        .unwrap();
    let error = client.me().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::DeadlineExceeded { limit });
    assert!(error.is_timeout() && error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn one_call_can_have_its_own_deadline() {
    let (base, _) = raw_server(|_, socket| async move {
        // Holds the connection open and says nothing.
        let _open = socket;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let client = hyperrep::Client::builder()
        .credential("hr_key_bounds")
        .base_url(&base)
        .build()
        .unwrap();
    let limit = Duration::from_millis(300);
    let error = client
        .with_call_timeout(limit)
        .list_organizations()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::DeadlineExceeded { limit });

    // Zero would end every call at once: said as a setting, nothing sent.
    let error = client
        .with_call_timeout(Duration::ZERO)
        .list_organizations()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::InvalidSetting {
                setting: "call_timeout",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_retry_after_that_ends_past_the_deadline_is_not_waited_for() {
    let (base, served) = raw_server(|_, mut socket| async move {
        let answer = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 30\r\n\
                      content-length: 0\r\n\r\n";
        let _ = socket.write_all(answer.as_bytes()).await;
    })
    .await;
    // The default retry policy would wait 30 s (under its 60 s bound) and try again.
    let client = hockeystack::Client::builder()
        .credential(TOKEN)
        .base_url(&base)
        .call_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.me().send().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert_eq!(served.load(Ordering::SeqCst), 1, "one request, no retry");
}

#[tokio::test]
async fn the_deadline_bounds_a_call_whatever_the_retry_policy_allows() {
    let (base, served) = raw_server(|_, mut socket| async move {
        let answer = "HTTP/1.1 502 Bad Gateway\r\nretry-after: 0.2\r\n\
                      content-length: 0\r\n\r\n";
        let _ = socket.write_all(answer.as_bytes()).await;
    })
    .await;
    let client = hyperrep::Client::builder()
        .credential("hr_key_bounds")
        .base_url(&base)
        .retry_policy(RetryPolicy::default().max_retries(u32::MAX))
        .call_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let error = client.list_organizations().send().await.unwrap_err();
    // Either the last 502, returned because the next wait would pass the deadline, or the
    // deadline itself: never an endless run of retries.
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Server | ErrorKind::DeadlineExceeded { .. }
        ),
        "{error:?}"
    );
    let requests = served.load(Ordering::SeqCst);
    assert!((2..=6).contains(&requests), "{requests} requests in 1 s");
}

#[tokio::test]
async fn a_streamed_reply_can_be_given_a_total_time() {
    let (base, _) = raw_server(|_, mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        for _ in 0..600 {
            let event = "event: text_delta\ndata: {\"delta\":\"more \"}\n\n";
            if socket.write_all(event.as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let client = hockeystack_at(&base).build().unwrap();
    let limit = Duration::from_millis(600);
    let mut reply = client
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .unwrap()
        .total_timeout(limit);
    let mut deltas = 0;
    let error = loop {
        match reply.next().await.expect("the stream ends with an error") {
            Ok(_) => deltas += 1,
            Err(e) => break e,
        }
    };
    assert!(deltas >= 1, "events arrived before the limit");
    assert!(
        matches!(error.kind(), ErrorKind::StreamInterrupted { conversation_id, .. } if conversation_id == "c1"),
        "{error:?}"
    );
    let cause = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<revenue_agents::Error>())
        .expect("the deadline is the source");
    assert_eq!(cause.kind(), &ErrorKind::DeadlineExceeded { limit });
    assert!(error.is_timeout(), "{error:?}");
}
