//! No credential leaves a client in an error, whatever part of an answer a server echoes it
//! in: headers, every field of the error envelopes, redirects, failure text inside successful
//! answers, streamed events, undecodable bodies and their serde messages, snippets cut at
//! their limit. Each case is checked in `Display`, `Debug`, every accessor and the source chain.
#![cfg(all(feature = "hockeystack", feature = "hyperrep"))]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use httpmock::MockServer;
use revenue_agents::{
    AgentRef, Error, ErrorKind, JobRef, PollPolicy, RetryPolicy, hockeystack, hyperrep,
};
use serde_json::json;
use tokio::io::AsyncWriteExt;

/// Made-up credentials with no public prefix, so that any six characters of them in an
/// output are a leak.
const TOKEN: &str = "Zq8rT3kLmN0pXy7W2vB5cD9fHj4";
const KEY: &str = "Kx2Wq9rPz4Ls7Dn1Fb6Hm3Tv8Yc5";

/// Every text a user can read out of an error.
fn everything_said(error: &Error) -> String {
    let mut out = format!("{error}\n{error:?}\n{:?}", error.kind());
    out.push_str(&format!(
        "\n{:?}\n{:?}\n{:?}\n{:?}",
        error.request_id(),
        error.api_error(),
        error.body_snippet(),
        error.resume_cursor()
    ));
    let mut source = std::error::Error::source(error);
    while let Some(level) = source {
        out.push_str(&format!("\n{level}\n{level:?}"));
        source = level.source();
    }
    out
}

#[track_caller]
fn assert_clean(error: &Error, secret: &str) {
    let said = everything_said(error);
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(6) {
        let piece: String = window.iter().collect();
        assert!(!said.contains(&piece), "{piece:?} leaked in:\n{said}");
    }
}

fn hockeystack_client(server: &MockServer) -> hockeystack::Client {
    hockeystack::Client::builder()
        .credential(TOKEN)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn hyperrep_client(server: &MockServer) -> hyperrep::Client {
    hyperrep::Client::builder()
        .credential(KEY)
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn quick() -> PollPolicy {
    PollPolicy::new(Duration::from_millis(5), Duration::from_millis(10))
        .deadline(Duration::from_secs(5))
}

#[tokio::test]
async fn hockeystack_error_answers_that_echo_the_token_anywhere() {
    let server = MockServer::start_async().await;
    let echoed = format!("Bearer {TOKEN}");
    server
        .mock_async(|when, then| {
            when.method("GET").path("/me");
            then.status(401)
                .header("x-request-id", format!("req-{TOKEN}"))
                .json_body(json!({"error": {
                    "code": format!("auth.{TOKEN}"),
                    "category": TOKEN,
                    "message": format!("Token {echoed} is not valid"),
                }}));
        })
        .await;
    let error = hockeystack_client(&server).me().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Unauthorized);
    assert!(error.request_id().unwrap().starts_with("req-"), "{error:?}");
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn hyperrep_validation_problems_that_echo_the_key() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/api/v2/organizations");
            then.status(422).json_body(json!({"detail": [{
                "loc": ["header", KEY],
                "msg": format!("key {KEY} is malformed"),
                "type": format!("value_error.{KEY}"),
            }]}));
        })
        .await;
    let error = hyperrep_client(&server)
        .list_organizations()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Validation);
    assert_eq!(error.validation_problems().len(), 1);
    assert_clean(&error, KEY);
}

#[tokio::test]
async fn a_redirect_whose_path_carries_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/me");
            then.status(302)
                .header("location", format!("https://elsewhere.example/{TOKEN}/me"));
        })
        .await;
    let error = hockeystack_client(&server).me().send().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Redirected { location: Some(l) } if l.contains("elsewhere.example")),
        "{error:?}"
    );
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn a_text_body_snippet_and_a_request_id_cut_in_the_middle_of_the_token() {
    let server = MockServer::start_async().await;
    // Both are cut at 200 characters, ten characters into the token.
    let request_id = format!("{}{TOKEN}", "r".repeat(190));
    let body = format!("{}{TOKEN} and more", "x".repeat(190));
    server
        .mock_async(|when, then| {
            when.method("GET").path("/me");
            then.status(500)
                .header("x-request-id", request_id.as_str())
                .header("content-type", "text/plain")
                .body(body.as_str());
        })
        .await;
    let error = hockeystack_client(&server).me().send().await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Server);
    assert!(error.body_snippet().unwrap().starts_with("xxxx"));
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn an_undecodable_success_whose_decoder_message_quotes_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/tasks");
            then.status(200).json_body(json!({"tasks": TOKEN}));
        })
        .await;
    let error = hockeystack_client(&server)
        .list_tasks()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Decode { .. }),
        "{error:?}"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the decoder's error stays"
    );
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn a_failed_job_whose_code_category_and_message_echo_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/deals/D-1/conversations/c1/messages/jobs/j1");
            then.status(200).json_body(json!({
                "job_id": "j1",
                "status": "failed",
                "error": {
                    "code": format!("agent.{TOKEN}"),
                    "category": TOKEN,
                    "message": format!("could not use {TOKEN}"),
                }
            }));
        })
        .await;
    let error = hockeystack_client(&server)
        .wait_for_job(JobRef {
            agent: AgentRef::Deal("D-1".into()),
            conversation_id: "c1".into(),
            job_id: "j1".into(),
        })
        .policy(quick())
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::JobFailed { .. }),
        "{error:?}"
    );
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn a_failed_provisioning_whose_message_echoes_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("PUT").path("/deals/D-1/agent");
            then.status(409).json_body(json!({"error": {
                "code": "agent.exists", "category": "conflict", "message": "exists"
            }}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/deals/D-1/agent");
            then.status(200).json_body(json!({
                "deal_id": "D-1",
                "status": "provisioning_failed",
                "error": format!("token {TOKEN} was refused by the CRM"),
            }));
        })
        .await;
    let error = hockeystack_client(&server)
        .ensure_deal_agent("D-1")
        .policy(quick())
        .max_provisioning_runs(1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::ProvisioningFailed {
                message: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn a_repeated_list_cursor_that_is_the_key() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/api/v2/organizations/o1/agents");
            then.status(200).json_body(json!({
                "data": [],
                "pagination": {"limit": 50, "cursor": null, "next_cursor": KEY, "has_more": true},
            }));
        })
        .await;
    use futures_util::TryStreamExt;
    use revenue_agents::Paginated;
    let error = hyperrep_client(&server)
        .list_agents()
        .organization_id("o1")
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RepeatedCursor { .. }),
        "{error:?}"
    );
    assert_clean(&error, KEY);
}

#[tokio::test]
async fn a_streamed_event_that_echoes_the_token() {
    let (base, _) = common::raw_server(|_, mut socket| async move {
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n\
             event: tool_use\ndata: not json, but {TOKEN}\n\n"
        );
        let _ = socket.write_all(answer.as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let client = hockeystack::Client::builder()
        .credential(TOKEN)
        .base_url(base)
        .build()
        .unwrap();
    let mut reply = client.stream_deal_reply("D-1", "c1", "hi").await.unwrap();
    let error = reply.next().await.unwrap().unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidResponse { .. }),
        "{error:?}"
    );
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn a_streamed_reply_refused_with_the_token_in_its_envelope() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/deals/D-1/conversations/c1/messages");
            then.status(403)
                .header("x-request-id", TOKEN)
                .json_body(json!({"error": {
                    "code": TOKEN, "category": TOKEN, "message": TOKEN
                }}));
        })
        .await;
    let error = hockeystack_client(&server)
        .stream_deal_reply("D-1", "c1", "hi")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Unauthorized);
    assert_clean(&error, TOKEN);
}
