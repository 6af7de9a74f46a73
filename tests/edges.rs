//! The crate at its edges, against scripted loopback servers that answer as a hostile or broken
//! server would: redirects to other hosts, path values built to escape their segment, streams
//! and pages cut short, error bodies of every shape, and servers that never answer. Every case
//! asserts the typed outcome and that no credential reached a server it should not.
#![cfg(all(feature = "hockeystack", feature = "hyperrep"))]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{StreamExt, TryStreamExt};
use revenue_agents::{
    Error, ErrorKind, Paginated, PollPolicy, RetryPolicy, TransportCause, hockeystack, hyperrep,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

const TOKEN: &str = "hsr_live_edge_case_token";
const KEY: &str = "hr_edge_case_key";
const HS_BASE: &str = "/api/revenue-agents/v1";

/// One request as it arrived on the wire.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request target exactly as sent, before any decoding.
    target: String,
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
    fn carries_a_credential(&self) -> bool {
        let text = format!("{}{}", self.head, String::from_utf8_lossy(&self.body));
        text.contains(TOKEN) || text.contains(KEY)
    }
}

/// What the server does with one request.
enum Answer {
    /// Write these bytes, then close the connection.
    Raw(Vec<u8>),
    /// Write these bytes, then keep the connection open and silent.
    RawThenStall(Vec<u8>),
}

type Script = Arc<dyn Fn(&Seen, usize) -> Answer + Send + Sync>;

/// A loopback HTTP/1.1 server answering one request per connection from a script.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (script, record) = (script.clone(), record.clone());
                tokio::spawn(async move { serve(socket, script, record).await });
            }
        });
        Server { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Runs a call; returns its outcome and the request this server received for it, if any.
    async fn during<T>(&self, call: impl std::future::Future<Output = T>) -> (T, Option<Seen>) {
        let before = self.seen().len();
        let outcome = call.await;
        (outcome, self.seen().get(before).cloned())
    }

    fn hockeystack(&self, read_timeout: Duration) -> hockeystack::Client {
        hockeystack::Client::builder()
            .credential(TOKEN)
            .base_url(format!("{}{HS_BASE}", self.base))
            .retry_policy(RetryPolicy::none())
            .read_timeout(read_timeout)
            .build()
            .unwrap()
    }

    fn hyperrep(&self, read_timeout: Duration) -> hyperrep::Client {
        hyperrep::Client::builder()
            .credential(KEY)
            .base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .read_timeout(read_timeout)
            .build()
            .unwrap()
    }
}

async fn serve(mut socket: TcpStream, script: Script, record: Arc<Mutex<Vec<Seen>>>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    let body_start = loop {
        let Ok(n) = socket.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while request.len() < body_start + length {
        let Ok(n) = socket.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let mut words = head.split_whitespace();
    let seen = Seen {
        method: words.next().unwrap_or_default().to_owned(),
        target: words.next().unwrap_or_default().to_owned(),
        head: head.clone(),
        body: request[body_start..].to_vec(),
    };
    let index = {
        let mut all = record.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    match script(&seen, index) {
        Answer::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
            let _ = socket.shutdown().await;
        }
        Answer::RawThenStall(bytes) => {
            let _ = socket.write_all(&bytes).await;
            // Bounded: the test's client gives up long before.
            tokio::time::sleep(Duration::from_secs(20)).await;
        }
    }
}

/// A complete HTTP answer with a body and a content length.
fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Whatever\r\nconnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json(status: u16, body: &str) -> Answer {
    Answer::Raw(http(
        status,
        &[("content-type", "application/json")],
        body.as_bytes(),
    ))
}

fn no_credential_in(error: &Error) {
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains(TOKEN) && !text.contains(KEY),
        "credential in {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects: never followed, whatever the status, method or target.

#[tokio::test]
async fn redirects_are_never_followed_and_name_their_target() {
    let elsewhere = Server::start(|_, _| json(200, "{}")).await;
    let target = format!("{}/collect?token=stolen#x", elsewhere.base);
    let mut cases = 0;
    for status in [301u16, 302, 303, 307, 308] {
        for same_host in [false, true] {
            let location = if same_host {
                "/api/v2/moved".to_owned()
            } else {
                target.clone()
            };
            let api = Server::start(move |_, _| {
                Answer::Raw(http(status, &[("location", &location)], b""))
            })
            .await;
            let hs = api.hockeystack(Duration::from_secs(5));
            let hr = api.hyperrep(Duration::from_secs(5));
            let results: Vec<Result<(), Error>> = vec![
                hs.me().send().await.map(drop),
                hs.create_deal_conversation()
                    .deal_id("D-1")
                    .send()
                    .await
                    .map(drop),
                hs.stream_deal_reply("D-1", "c1", "hello").await.map(drop),
                hs.list_tasks()
                    .items()
                    .try_collect::<Vec<_>>()
                    .await
                    .map(drop),
                hr.list_organizations().send().await.map(drop),
                hr.create_company()
                    .organization_id("org")
                    .body(hyperrep::types::CompanyCreate::builder().name("Acme"))
                    .send()
                    .await
                    .map(drop),
            ];
            for result in results {
                let error = result.unwrap_err();
                let ErrorKind::Redirected { location } = error.kind() else {
                    panic!("{status}: expected a redirect error, got {error:?}");
                };
                let location = location.as_deref().unwrap();
                if same_host {
                    assert_eq!(location, "/api/v2/moved");
                } else {
                    // Named without its query and fragment, which may carry secrets.
                    assert_eq!(location, format!("{}/collect", elsewhere.base));
                }
                assert_eq!(error.status(), Some(status));
                no_credential_in(&error);
                cases += 1;
            }
            // Each call reached the API host once and was not repeated there either.
            assert_eq!(api.seen().len(), 6, "{status}");
        }
    }
    assert_eq!(cases, 60);
    assert!(
        elsewhere.seen().is_empty(),
        "a redirect was followed to another host"
    );
}

// ---------------------------------------------------------------------------------------------
// Path parameters: one segment on the wire, or refused naming the parameter.

const HOSTILE: &[&str] = &[
    "a/b",
    "a\\b",
    "%2F",
    "%5C",
    "%2e%2e",
    ".%2E",
    "..",
    ".",
    "",
    "../../me",
    "..\\..\\me",
    "a/../../b",
    "x\ny",
    "tab\there",
    "a b",
    " ",
    "\u{0}",
    "\u{7f}",
    "?q=1",
    "#frag",
    "a;b=c",
    "a+b",
    "ü/é",
    "%",
    "%zz",
    "./.",
    "...",
];

fn percent_decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Checks one hostile value in one path position: refused locally naming the parameter, or
/// received by the server as exactly the template's segments with the value intact.
fn check_path(
    value: &str,
    parameter: &str,
    template: &[&str],
    position: usize,
    result: Result<(), Error>,
    seen: Option<Seen>,
) {
    match (result, seen) {
        (Err(error), None) => {
            let ErrorKind::InvalidRequest { reason } = error.kind() else {
                panic!("{value:?}: expected a local refusal, got {error:?}");
            };
            assert!(
                reason.contains(parameter),
                "{value:?}: {reason} does not name {parameter}"
            );
        }
        (_, Some(seen)) => {
            let segments: Vec<&str> = seen.path().split('/').skip(1).collect();
            assert_eq!(
                segments.len(),
                template.len(),
                "{value:?} changed the route: {}",
                seen.target
            );
            for (i, (want, got)) in template.iter().zip(&segments).enumerate() {
                if i == position {
                    assert_eq!(
                        percent_decode(got),
                        value.as_bytes(),
                        "{value:?} arrived as {got:?}"
                    );
                } else if !want.starts_with('{') {
                    assert_eq!(want, got, "{value:?}: {}", seen.target);
                }
            }
        }
        (Ok(()), None) => panic!("{value:?}: succeeded without a request"),
    }
}

#[tokio::test]
async fn every_path_parameter_stays_one_segment_whatever_it_holds() {
    let server = Server::start(|_, _| json(404, r#"{"detail":"Not found"}"#)).await;
    let hs = server.hockeystack(Duration::from_secs(5));
    let hr = server.hyperrep(Duration::from_secs(5));
    let hs_job = [
        "api",
        "revenue-agents",
        "v1",
        "deals",
        "{deal_id}",
        "conversations",
        "{cid}",
        "messages",
        "jobs",
        "{job_id}",
    ];
    let hr_contact = [
        "api",
        "v2",
        "organizations",
        "{organization_id}",
        "contacts",
        "{contact_id}",
    ];
    let mut cases = 0;
    for value in HOSTILE {
        for (position, parameter) in [(6, "cid"), (9, "job_id")] {
            let (cid, job) = if parameter == "cid" {
                (*value, "j1")
            } else {
                ("c1", *value)
            };
            let call = hs
                .get_deal_message_job()
                .deal_id("D-1")
                .cid(cid)
                .job_id(job);
            let (result, seen) = server.during(call.send()).await;
            let result = result.map(drop);
            check_path(value, parameter, &hs_job, position, result, seen);
            cases += 1;
        }
        for (position, parameter) in [(3, "organization_id"), (5, "contact_id")] {
            let (org, contact) = if parameter == "organization_id" {
                (*value, "c1")
            } else {
                ("org", *value)
            };
            let call = hr.get_contact().organization_id(org).contact_id(contact);
            let (result, seen) = server.during(call.send()).await;
            let result = result.map(drop);
            check_path(value, parameter, &hr_contact, position, result, seen);
            cases += 1;
        }
        // The hand-written streaming call builds its path the same way.
        let (result, seen) = server
            .during(hs.stream_deal_reply("D-1", *value, "hi"))
            .await;
        let result = result.map(drop);
        let template = [
            "api",
            "revenue-agents",
            "v1",
            "deals",
            "{deal_id}",
            "conversations",
            "{cid}",
            "messages",
        ];
        check_path(value, "cid", &template, 6, result, seen);
        cases += 1;
    }
    assert_eq!(cases, HOSTILE.len() * 5);
}

// ---------------------------------------------------------------------------------------------
// Streams and pages cut short.

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

#[tokio::test]
async fn a_reply_cut_at_any_stage_ends_with_an_error_never_a_clean_end() {
    let events = concat!(
        "event: text_delta\ndata: {\"delta\":\"Hel\"}\n\n",
        "event: tool_use\ndata: {\"id\":\"t1\",\"name\":\"crm\",\"args\":{\"q\":1}}\n\n",
        "event: tool_result\ndata: {\"id\":\"t1\",\"result\":{\"ok\":true}}\n\n",
        "event: text_delta\ndata: {\"delta\":\"lo\"}\n\n",
        "event: done\ndata: {\"conversation_id\":\"c1\"}\n\n",
    );
    let done_at = events.find("event: done").unwrap();
    // Every byte position before `done` is complete: headers only, mid-line, mid-event,
    // between events.
    for cut in 0..done_at + 20 {
        let body = events[..cut].to_owned();
        let server = Server::start(move |_, _| {
            let mut bytes = SSE_HEAD.as_bytes().to_vec();
            bytes.extend_from_slice(body.as_bytes());
            Answer::Raw(bytes)
        })
        .await;
        let client = server.hockeystack(Duration::from_secs(5));
        let mut stream = client
            .stream_deal_reply("D-1", "c1", "hello")
            .await
            .unwrap();
        let mut received = Vec::new();
        let outcome = loop {
            match stream.next().await {
                Some(Ok(event)) => received.push(event),
                Some(Err(error)) => break Some(error),
                None => break None,
            }
        };
        let error = outcome.unwrap_or_else(|| panic!("cut at {cut}: the stream ended cleanly"));
        match error.kind() {
            ErrorKind::StreamInterrupted {
                conversation_id,
                events_received,
                agent,
            } => {
                assert_eq!(conversation_id, "c1");
                assert_eq!(*agent, revenue_agents::AgentRef::Deal("D-1".into()));
                assert_eq!(*events_received, received.len());
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
        // Only whole events were handed out, and no text is raw JSON.
        for event in &received {
            if let hockeystack::ReplyEvent::TextDelta { text } = event {
                assert!(!text.contains('{'), "cut at {cut}: {text:?}");
            }
        }
        assert!(stream.next().await.is_none(), "nothing after the error");
    }
}

#[tokio::test]
async fn reading_a_cut_reply_as_text_fails_instead_of_returning_part_of_it() {
    let server = Server::start(|_, _| {
        let mut bytes = SSE_HEAD.as_bytes().to_vec();
        bytes.extend_from_slice(b"event: text_delta\ndata: {\"delta\":\"half an ans\"}\n\n");
        Answer::Raw(bytes)
    })
    .await;
    let client = server.hockeystack(Duration::from_secs(5));
    let stream = client
        .stream_deal_reply("D-1", "c1", "hello")
        .await
        .unwrap();
    let error = stream.text().await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::StreamInterrupted { .. }));
}

#[tokio::test]
async fn a_page_body_cut_mid_json_is_an_error_with_the_cursor_to_resume() {
    let page1 = r#"{"tasks":[],"next_cursor":"c2"}"#;
    let page2 = r#"{"tasks":[{"task_id":"3c90c3cc-0d44-4b50-8888-8dd25736052a","#;
    for declared_length in [false, true] {
        let server = Server::start(move |seen, _| {
            if !seen.target.contains("cursor=c2") {
                return json(200, page1);
            }
            let mut head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    .to_owned();
            if declared_length {
                // Promises more than it sends: the connection closes mid-body.
                head.push_str("content-length: 4000\r\n");
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(page2.as_bytes());
            Answer::Raw(bytes)
        })
        .await;
        let client = server.hockeystack(Duration::from_secs(5));
        let results: Vec<_> = client.list_tasks().items().collect().await;
        assert_eq!(results.len(), 1, "no item of the cut page is handed out");
        let error = results[0].as_ref().unwrap_err();
        assert_eq!(error.resume_cursor(), Some("c2"));
        if declared_length {
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::Transport {
                        cause: TransportCause::Reset
                    }
                ),
                "{error:?}"
            );
        } else {
            assert!(
                matches!(error.kind(), ErrorKind::Decode { .. }),
                "{error:?}"
            );
            assert_eq!(error.status(), Some(200));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The status decides the kind, whatever the body.

#[tokio::test]
async fn every_error_status_keeps_its_kind_whatever_the_body() {
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("", Vec::new()),
        ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec()),
        ("text/plain", b"upstream said no".to_vec()),
        ("application/json", b"{\"unexpected\": true}".to_vec()),
        ("application/json", b"{\"error\": {\"code\": \"x.y\", \"category\": \"z\", \"message\": \"From HockeyStack.\"}}".to_vec()),
        ("application/json", b"{\"detail\": \"From HyperRep.\"}".to_vec()),
        ("application/octet-stream", vec![0xff, 0x00, 0xfe, b'\n', 0x07]),
        // A proxy that echoes the request's headers back.
        ("text/plain", b"ECHO".to_vec()),
    ];
    let statuses = [
        400u16, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503, 504,
    ];
    let mut cases = 0;
    for status in statuses {
        for (content_type, body) in &bodies {
            let (content_type, served) = (content_type.to_string(), body.clone());
            let server = Server::start(move |seen, _| {
                let mut headers = vec![("x-request-id", "req-42"), ("retry-after", "7")];
                if !content_type.is_empty() {
                    headers.push(("content-type", &content_type));
                }
                let body = if served == b"ECHO" {
                    seen.head.as_bytes().to_vec()
                } else {
                    served.clone()
                };
                Answer::Raw(http(status, &headers, &body))
            })
            .await;
            for (api, result) in [
                (
                    "HockeyStack",
                    server
                        .hockeystack(Duration::from_secs(5))
                        .me()
                        .send()
                        .await
                        .map(drop),
                ),
                (
                    "HyperRep",
                    server
                        .hyperrep(Duration::from_secs(5))
                        .list_organizations()
                        .send()
                        .await
                        .map(drop),
                ),
            ] {
                let error = result.unwrap_err();
                let expected = match status {
                    401 | 403 => ErrorKind::Unauthorized,
                    404 => ErrorKind::NotFound,
                    409 => ErrorKind::Conflict,
                    400 => ErrorKind::BadRequest,
                    422 => ErrorKind::Validation,
                    429 => ErrorKind::RateLimited {
                        retry_after: Some(Duration::from_secs(7)),
                    },
                    503 if api == "HockeyStack" => ErrorKind::CreditsExhausted,
                    500..=599 => ErrorKind::Server,
                    _ => ErrorKind::UnexpectedStatus,
                };
                assert_eq!(error.kind(), &expected, "{api} {status}: {error:?}");
                assert_eq!(error.status(), Some(status));
                assert_eq!(error.request_id(), Some("req-42"));
                no_credential_in(&error);
                let own_envelope = match api {
                    "HockeyStack" => String::from_utf8_lossy(body).contains("From HockeyStack"),
                    _ => String::from_utf8_lossy(body).contains("From HyperRep"),
                };
                if own_envelope {
                    // Read on every status, documented for this call or not.
                    let message = &error.api_error().unwrap().message;
                    assert!(message.starts_with("From "), "{api} {status}: {message}");
                } else if body == b"ECHO" {
                    assert!(error.body_snippet().unwrap().contains("<redacted>"));
                } else if !body.is_empty() {
                    let snippet = error.body_snippet().unwrap();
                    assert!(!snippet.is_empty() && snippet.len() <= 800);
                    assert!(!snippet.contains('\n') && !snippet.contains('\u{7}'));
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, statuses.len() * bodies.len() * 2);
}

#[tokio::test]
async fn an_undecodable_success_body_keeps_its_status_and_a_snippet() {
    let server = Server::start(|_, _| {
        Answer::Raw(http(
            200,
            &[("content-type", "text/html"), ("x-request-id", "r-1")],
            b"<html>maintenance</html>",
        ))
    })
    .await;
    let error = server
        .hockeystack(Duration::from_secs(5))
        .me()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Decode { snippet } if snippet.contains("maintenance"))
    );
    assert_eq!(error.status(), Some(200));
    assert_eq!(error.request_id(), Some("r-1"));
}

// ---------------------------------------------------------------------------------------------
// Nothing waits forever.

fn assert_read_timeout(what: &str, error: &Error) {
    assert!(error.is_timeout(), "{what}: {error:?}");
    no_credential_in(error);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_every_call_path() {
    let silent = Server::start(|_, _| Answer::RawThenStall(Vec::new())).await;
    let hs = silent.hockeystack(Duration::from_millis(300));
    let hr = silent.hyperrep(Duration::from_millis(300));

    let error = hs.me().send().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Transport {
            cause: TransportCause::ReadTimeout
        }
    );
    assert_read_timeout("plain call", &error);

    let error = hr
        .list_sales()
        .organization_id("org")
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_read_timeout("page", &error);

    let error = hs
        .wait_for_deal_job("D-1", "c1", "j1")
        .policy(PollPolicy::new(
            Duration::from_millis(1),
            Duration::from_millis(2),
        ))
        .await
        .unwrap_err();
    assert_read_timeout("wait", &error);

    let error = hs.stream_deal_reply("D-1", "c1", "hi").await.unwrap_err();
    assert_read_timeout("stream before its head", &error);

    let error = hs.ask_deal("D-1", "anything?").await.unwrap_err();
    assert_read_timeout("ask", &error);

    // A stream whose head arrived and then goes silent.
    let stalled = Server::start(|_, _| {
        let mut bytes = SSE_HEAD.as_bytes().to_vec();
        bytes.extend_from_slice(b"event: text_delta\ndata: {\"delta\":\"a\"}\n\n");
        Answer::RawThenStall(bytes)
    })
    .await;
    let mut stream = stalled
        .hockeystack(Duration::from_millis(300))
        .stream_deal_reply("D-1", "c1", "hi")
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::StreamInterrupted { .. }));
    assert_read_timeout("stream mid-way", &error);
}

#[tokio::test]
async fn a_resumed_list_whose_server_repeats_the_cursor_stops_with_the_repeat_error() {
    let server = Server::start(|_, _| {
        json(
            200,
            r#"{"data":[],"pagination":{"limit":50,"cursor":"again","next_cursor":"again","has_more":true}}"#,
        )
    })
    .await;
    let client = server.hyperrep(Duration::from_secs(5));
    let results: Vec<_> = client
        .list_agents()
        .organization_id("org")
        .pages_from("again")
        .collect()
        .await;
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::RepeatedCursor {
            cursor: "again".into()
        }
    );
    assert!(server.seen().len() <= 2, "the list looped");
}

// ---------------------------------------------------------------------------------------------
// Bad input from the caller fails before sending.

#[tokio::test]
async fn bad_input_fails_before_sending_naming_the_field() {
    let server = Server::start(|_, _| json(200, "{}")).await;
    let hs = server.hockeystack(Duration::from_secs(5));
    let hr = server.hyperrep(Duration::from_secs(5));
    let reason = |result: Result<(), Error>| match result.unwrap_err().kind() {
        ErrorKind::InvalidRequest { reason } => reason.clone(),
        other => panic!("expected a local refusal, got {other:?}"),
    };

    for limit in [0, -3, 201, 10_000] {
        let why = reason(hs.list_tasks().limit(limit).send().await.map(drop));
        assert!(why.contains("limit") && why.contains("200"), "{why}");
    }
    let why = reason(
        hr.list_sales()
            .organization_id("org")
            .limit(501)
            .send()
            .await
            .map(drop),
    );
    assert!(why.contains("limit") && why.contains("500"), "{why}");

    let start = "2026-05-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let end = "2026-04-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let why = reason(
        hr.list_sales()
            .organization_id("org")
            .start_date(start)
            .end_date(end)
            .send()
            .await
            .map(drop),
    );
    assert!(
        why.contains("start_date") && why.contains("end_date"),
        "{why}"
    );
    let why = reason(
        hr.get_conversation_analytics()
            .organization_id("org")
            .start_date(start)
            .end_date(end)
            .send()
            .await
            .map(drop),
    );
    assert!(why.contains("start_date"), "{why}");

    let why = reason(hs.get_deal_agent().deal_id("").send().await.map(drop));
    assert!(why.contains("deal_id"), "{why}");
    // The field and the rule it broke.
    let long = "9".repeat(65);
    let why = reason(hs.get_deal_agent().deal_id(&long).send().await.map(drop));
    assert!(why.contains("deal_id") && why.contains("64"), "{why}");
    let why = reason(
        hr.get_agent()
            .organization_id("org")
            .agent_id("")
            .send()
            .await
            .map(drop),
    );
    assert!(why.contains("agent_id"), "{why}");

    assert!(server.seen().is_empty(), "{:?}", server.seen());
    // An equal pair is a valid (empty) window.
    hr.list_sales()
        .organization_id("org")
        .start_date(start)
        .end_date(start)
        .send()
        .await
        .ok();
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn no_request_carries_a_credential_anywhere_but_its_header() {
    let server = Server::start(|_, _| json(500, "{}")).await;
    let _ = server.hockeystack(Duration::from_secs(5)).me().send().await;
    let _ = server
        .hyperrep(Duration::from_secs(5))
        .list_organizations()
        .send()
        .await;
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in seen {
        assert!(!request.target.contains(TOKEN) && !request.target.contains(KEY));
        assert!(request.body.is_empty());
        assert!(request.carries_a_credential());
        assert_eq!(request.method, "GET");
    }
}

#[tokio::test]
async fn an_undocumented_success_status_with_a_readable_body_is_a_success() {
    // PUT agent is documented as 202; a service answering 200 has still done the work.
    let server =
        Server::start(|_, _| json(200, r#"{"deal_id": "D-1", "status": "initializing"}"#)).await;
    let state = server
        .hockeystack(Duration::from_secs(5))
        .init_deal_agent()
        .deal_id("D-1")
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), reqwest::StatusCode::OK);
    assert_eq!(state.status, hockeystack::AgentStatus::Initializing);
    // A redirect stays an error (see above), and so does a 2xx whose body is not the
    // documented one.
    let garbage = Server::start(|_, _| json(200, r#"{"unexpected": true}"#)).await;
    let error = garbage
        .hockeystack(Duration::from_secs(5))
        .init_deal_agent()
        .deal_id("D-1")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Decode { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(200));
}
