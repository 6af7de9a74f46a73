//! The sandbox's state lasts and can be taken, put back and reset; its request log says how
//! each request was answered; its routes are the operation models'. Driven over plain HTTP,
//! as a client in another language would.
#![cfg(feature = "sandbox")]

use std::{path::PathBuf, time::Duration};

use revenue_agents::sandbox::{Fault, FaultRule, Sandbox, SandboxConfig, Snapshot};
use serde_json::{Value, json};

/// A sandbox that provisions agents and finishes jobs at once.
fn instant(state_file: Option<PathBuf>) -> SandboxConfig {
    SandboxConfig {
        provisioning_time: Duration::ZERO,
        job_time: Duration::ZERO,
        stream_chunk_delay: Duration::ZERO,
        state_file,
        ..SandboxConfig::default()
    }
}

/// A folder of its own for one test, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("sandbox-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Plain HTTP to one sandbox, with its credentials.
struct Http {
    client: reqwest::Client,
    hockeystack: String,
    hyperrep: String,
    token: String,
    key: String,
    root: String,
}

impl Http {
    fn new(sandbox: &Sandbox) -> Self {
        Http {
            client: reqwest::Client::new(),
            hockeystack: sandbox.hockeystack_url(),
            hyperrep: sandbox.hyperrep_url(),
            token: sandbox.hockeystack_token().to_owned(),
            key: sandbox.hyperrep_key().to_owned(),
            root: format!("http://{}", sandbox.addr()),
        }
    }

    async fn hs(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.hockeystack))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request).await
    }

    async fn hr(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.hyperrep))
            .header("x-api-key", &self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request).await
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> (u16, String) {
        let mut request = self
            .client
            .request(method, format!("{}/__sandbox{path}", self.root));
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

async fn read(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const ORG: &str =
    "/api/v2/organizations/gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";

/// What one session of work leaves: an agent, a conversation with a question and its answer,
/// a task, and a HyperRep contact.
struct Made {
    conversation: String,
    task: String,
    contact: String,
}

async fn make_things(http: &Http) -> Made {
    use reqwest::Method;
    let (status, _) = http.hs(Method::PUT, "/deals/9001234567/agent", None).await;
    assert!(status == 202 || status == 409, "{status}");
    let (status, conversation) = http
        .hs(
            Method::POST,
            "/deals/9001234567/conversations",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    let conversation = conversation["conversation_id"].as_str().unwrap().to_owned();
    let (status, _) = http
        .hs(
            Method::POST,
            &format!("/deals/9001234567/conversations/{conversation}/messages"),
            Some(json!({"message": "What is the biggest risk?"})),
        )
        .await;
    assert_eq!(status, 202);
    let (status, task) = http
        .hs(
            Method::POST,
            "/tasks",
            Some(json!({"task_type": "call", "task_title": "Call Sam", "assignee_id": "usr_1", "targets": {"deal_id": "9001234567"}})),
        )
        .await;
    assert_eq!(status, 201, "{task}");
    let (status, contact) = http
        .hr(
            Method::POST,
            &format!("{ORG}/contacts"),
            Some(json!({"name": "Lee Park"})),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    Made {
        conversation,
        task: task["task_id"].as_str().unwrap().to_owned(),
        contact: contact["contact_id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn a_restart_with_a_state_file_keeps_every_record_and_id() {
    use reqwest::Method;
    let folder = Folder::new("restart");
    let file = folder.file("state.json");
    let sandbox = Sandbox::start(instant(Some(file.clone()))).await.unwrap();
    let http = Http::new(&sandbox);
    let made = make_things(&http).await;
    let (_, messages_before) = http
        .hs(
            Method::GET,
            &format!(
                "/deals/9001234567/conversations/{}/messages",
                made.conversation
            ),
            None,
        )
        .await;
    assert_eq!(messages_before["messages"].as_array().unwrap().len(), 2);
    sandbox.shutdown().await;
    assert!(file.exists(), "the state is saved when the sandbox stops");

    let sandbox = Sandbox::start(instant(Some(file.clone()))).await.unwrap();
    let http = Http::new(&sandbox);
    let (status, agent) = http.hs(Method::GET, "/deals/9001234567/agent", None).await;
    assert_eq!((status, agent["status"].as_str()), (200, Some("active")));
    let (_, messages_after) = http
        .hs(
            Method::GET,
            &format!(
                "/deals/9001234567/conversations/{}/messages",
                made.conversation
            ),
            None,
        )
        .await;
    assert_eq!(messages_after, messages_before);
    let (status, task) = http
        .hs(Method::GET, &format!("/tasks/{}", made.task), None)
        .await;
    assert_eq!(
        (status, task["task_title"].as_str()),
        (200, Some("Call Sam"))
    );
    let (status, contact) = http
        .hr(
            Method::GET,
            &format!("{ORG}/contacts/{}", made.contact),
            None,
        )
        .await;
    assert_eq!((status, contact["name"].as_str()), (200, Some("Lee Park")));
    let (_, balance) = http.hs(Method::GET, "/credits/balance", None).await;
    assert_eq!(
        balance["monthly_used_credits"],
        json!(27.0),
        "the ledger is kept"
    );

    // What the restarted sandbox makes never takes an id given out before.
    let again = make_things(&http).await;
    assert_ne!(again.conversation, made.conversation);
    assert_ne!(again.task, made.task);
    assert_ne!(again.contact, made.contact);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_state_file_that_cannot_be_used_is_refused_and_left_as_it_was() {
    let folder = Folder::new("corrupt");
    for (name, content) in [
        (
            "truncated.json",
            r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clo"#,
        ),
        ("other.json", r#"{"hello": "world"}"#),
        (
            "future.json",
            r#"{"format": "revenue-agents-sandbox-state", "version": 2}"#,
        ),
        (
            "broken-part.json",
            r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clock": "2026-01-01T00:00:00Z",
                "apis": {"hockeystack": {"counter": "many"}, "hyperrep": {}}}"#,
        ),
        ("empty.json", ""),
    ] {
        let file = folder.file(name);
        std::fs::write(&file, content).unwrap();
        let refused = Sandbox::start(instant(Some(file.clone())))
            .await
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert_eq!(refused.kind(), std::io::ErrorKind::InvalidData, "{name}");
        assert!(refused.to_string().contains(name), "{name}: {refused}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            content,
            "{name} was changed"
        );
        if content.is_empty() {
            // Nothing in it to keep: the refusal says the way on.
            assert!(refused.to_string().contains("remove it"), "{refused}");
        }
    }
    // A folder where the file should be is refused too.
    let refused = Sandbox::start(instant(Some(folder.0.clone()))).await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn a_snapshot_puts_back_what_changed_and_a_reset_returns_to_the_seed() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    let (_, seeded) = http.hs(Method::GET, "/tasks", None).await;
    let before = sandbox.snapshot().unwrap();
    let made = make_things(&http).await;
    let (_, with_task) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(with_task["tasks"].as_array().unwrap().len(), 4);

    sandbox.restore(&before).unwrap();
    let (_, restored) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(restored, seeded);
    let (status, _) = http.hs(Method::GET, "/deals/9001234567/agent", None).await;
    assert_eq!(status, 404, "the agent made after the snapshot is gone");

    // Ids given out before the restore are not given out again.
    let again = make_things(&http).await;
    assert_ne!(again.task, made.task);
    assert_ne!(again.conversation, made.conversation);
    assert_ne!(again.contact, made.contact);

    sandbox.reset();
    let (_, reset) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(reset, seeded);

    // A snapshot goes through its JSON text, and one of another kind is refused whole.
    let text = sandbox.snapshot().unwrap().as_json().to_owned();
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["format"], "revenue-agents-sandbox-state");
    assert_eq!(document["version"], 1);
    sandbox
        .restore(&Snapshot::from_json(text).unwrap())
        .unwrap();
    let mut broken = document.clone();
    broken["apis"]["hyperrep"] = json!({"agents": "none"});
    let refused =
        Snapshot::from_json(broken.to_string()).and_then(|snapshot| sandbox.restore(&snapshot));
    assert!(refused.unwrap_err().to_string().contains("hyperrep"));
    let (_, unchanged) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(unchanged, seeded, "a refused snapshot changes nothing");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_controls_reset_read_and_install_the_state() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    let (status, state) = http.control(Method::GET, "/state", None).await;
    assert_eq!(status, 200);
    make_things(&http).await;
    let (_, tasks) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 4);

    let (status, _) = http
        .control(Method::PUT, "/state", Some(state.clone()))
        .await;
    assert_eq!(status, 204);
    let (_, tasks) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 3);

    make_things(&http).await;
    let (status, _) = http.control(Method::POST, "/reset", None).await;
    assert_eq!(status, 204);
    let (_, tasks) = http.hs(Method::GET, "/tasks", None).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 3);

    let (status, said) = http
        .control(Method::PUT, "/state", Some("{\"format\": \"nope\"}".into()))
        .await;
    assert_eq!(status, 400, "{said}");
    assert!(said.contains("not a sandbox state"), "{said}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_request_log_says_how_each_request_was_answered() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    http.hs(Method::GET, "/tasks", None).await;
    http.hs(Method::GET, "/tasks/not-a-task", None).await;
    sandbox.inject(FaultRule::new(Fault::ServerError { status: 502 }).times(1));
    http.hr(Method::GET, &format!("{ORG}/agents"), None).await;
    let log = sandbox.requests();
    let answered: Vec<(&str, u16)> = log.iter().map(|r| (r.path.as_str(), r.status)).collect();
    assert_eq!(
        answered,
        [
            ("/api/revenue-agents/v1/tasks", 200),
            ("/api/revenue-agents/v1/tasks/not-a-task", 404),
            (&*format!("{ORG}/agents"), 502),
        ]
    );
    assert_eq!(log[2].fault, Some(Fault::ServerError { status: 502 }));
    for request in &log {
        assert!(request.duration_ms >= 0.0 && request.duration_ms.is_finite());
        assert!(
            chrono::DateTime::parse_from_rfc3339(&request.received_at).is_ok(),
            "{}",
            request.received_at
        );
        assert!(request.had_credential);
    }
    // The log over HTTP carries the same.
    let (_, text) = http.control(Method::GET, "/requests", None).await;
    let over_http: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(over_http[1]["status"], 404);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn routes_are_the_operation_models_and_refusals_the_api_s() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    // A path of the model with a method it does not take.
    let (status, body) = http.hs(Method::PATCH, "/credits/balance", None).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["category"], "invalid_request", "{body}");
    let (status, body) = http
        .hr(Method::DELETE, &format!("{ORG}/agents"), None)
        .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (405, Some("Method Not Allowed"))
    );
    // A path that is not the model's.
    let (status, body) = http.hs(Method::GET, "/deals/1/agent/extra", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource.not_found"))
    );
    // The literal route wins over the template with an id in its place.
    let (status, body) = http.hs(Method::GET, "/deals/agents", None).await;
    assert_eq!(status, 200, "{body}");
    // A page size outside the spec's bounds, in each API's words.
    let (status, body) = http.hs(Method::GET, "/tasks?limit=201", None).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from 1 to 200"),
        "{body}"
    );
    let (status, body) = http
        .hr(Method::GET, &format!("{ORG}/sales?limit=501"), None)
        .await;
    assert_eq!(
        (status, &body["detail"][0]["type"]),
        (422, &json!("value_error.number.not_le"))
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn agent_pages_start_where_the_last_ended_even_when_agents_go() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    let ids: Vec<String> = (0..7).map(|i| format!("90000000{i}")).collect();
    for id in &ids {
        let (status, _) = http
            .hs(Method::PUT, &format!("/companies/{id}/agent"), None)
            .await;
        assert_eq!(status, 202);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/companies/agents?limit=3&cursor={c}"),
            None => "/companies/agents?limit=3".into(),
        };
        let (status, page) = http.hs(Method::GET, &query, None).await;
        assert_eq!(status, 200, "{page}");
        for agent in page["agents"].as_array().unwrap() {
            seen.push(agent["company_id"].as_str().unwrap().to_owned());
        }
        if seen.len() == 3 {
            // An agent of the first page goes; the next page still starts after the last seen.
            http.hs(
                Method::DELETE,
                &format!("/companies/{}/agent", ids[0]),
                None,
            )
            .await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    // A cursor of another list is refused.
    let cursor = cursor.expect("more than one page");
    let (status, _) = http
        .hs(Method::GET, &format!("/deals/agents?cursor={cursor}"), None)
        .await;
    assert_eq!(status, 400);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_clock_control_refuses_to_go_past_a_century() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    for far in ["1e30", "3200000000"] {
        let (status, said) = http
            .control(
                Method::POST,
                "/clock",
                Some(format!("{{\"advance_secs\": {far}}}")),
            )
            .await;
        assert_eq!(status, 400, "{far}: {said}");
        assert!(said.contains("100 years"), "{said}");
    }
    let (_, ahead) = http.control(Method::GET, "/clock", None).await;
    assert_eq!(
        ahead, r#"{"ahead_secs":0.0}"#,
        "a refused move moves nothing"
    );
    let (status, _) = http
        .control(
            Method::POST,
            "/clock",
            Some(r#"{"advance_secs": 86400}"#.into()),
        )
        .await;
    assert_eq!(status, 204);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_state_whose_counter_was_lowered_by_hand_gives_out_no_id_twice() {
    use reqwest::Method;
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let http = Http::new(&sandbox);
    let made = make_things(&http).await;
    let mut document: Value = serde_json::from_str(sandbox.snapshot().unwrap().as_json()).unwrap();
    document["apis"]["hockeystack"]["counter"] = json!(0);
    document["apis"]["hyperrep"]["counter"] = json!(0);
    sandbox
        .restore(&Snapshot::from_json(document.to_string()).unwrap())
        .unwrap();
    let again = make_things(&http).await;
    assert_ne!(again.task, made.task);
    assert_ne!(again.conversation, made.conversation);
    assert_ne!(again.contact, made.contact);
    let (_, ledger) = http.hs(Method::GET, "/credits/operations", None).await;
    let mut uuids: Vec<&str> = ledger["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["operation_uuid"].as_str().unwrap())
        .collect();
    let count = uuids.len();
    uuids.sort_unstable();
    uuids.dedup();
    assert_eq!(
        uuids.len(),
        count,
        "a credit operation's id was given out twice"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_state_file_in_a_place_that_cannot_be_written_stops_the_start() {
    let folder = Folder::new("unwritable");
    let file = folder.file("missing-folder/state.json");
    let refused = Sandbox::start(instant(Some(file.clone())))
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("missing-folder"), "{refused}");
    assert!(!file.exists());
}

/// A client that announces a body and never sends it is answered, not waited for (in virtual
/// time: the sandbox's wait of 30 seconds passes at once).
#[tokio::test(start_paused = true)]
async fn a_body_that_never_arrives_is_answered_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sandbox = Sandbox::start(instant(None)).await.unwrap();
    let mut socket = tokio::net::TcpStream::connect(sandbox.addr())
        .await
        .unwrap();
    let head = format!(
        "POST /api/revenue-agents/v1/tasks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: 10\r\n\r\n",
        sandbox.hockeystack_token()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = socket.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(sandbox.requests()[0].status, 408);
}
