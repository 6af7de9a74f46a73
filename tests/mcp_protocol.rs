//! The MCP server as an MCP client meets it: the `revenue-agents-mcp` binary over stdio, and
//! the server in-process, both driven by rmcp's client. `.ci/mcp` runs the same behaviours
//! under the official Python client.
#![cfg(feature = "mcp")]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use revenue_agents::{PollPolicy, mcp::Server, sandbox::Sandbox};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResult, NumberOrString, ProgressNotificationParam,
        ProgressToken, RequestMetaObject,
    },
    service::{NotificationContext, RunningService},
};
use serde_json::{Map, Value, json};

fn arguments(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn structured(result: &CallToolResult) -> &Value {
    result
        .structured_content
        .as_ref()
        .expect("structured content")
}

async fn call<S: rmcp::Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    name: &'static str,
    args: Value,
) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments(args)))
        .await
        .expect("the call is answered")
}

/// `revenue-agents-mcp --sandbox` with piped stdio and no credential in its environment.
fn binary(extra: &[&str]) -> tokio::process::Child {
    // Nothing of the developer's environment (a REVENUE_AGENTS_MCP_* setting, a credential)
    // reaches it.
    tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
        .arg("--sandbox")
        .args(extra)
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_both_apis_over_stdio() {
    let mut child = binary(&["--sandbox-job-seconds", "0.05"]);
    let transport = (
        child.stdout.take().expect("piped"),
        child.stdin.take().expect("piped"),
    );
    let client = ().serve(transport).await.expect("the server initializes");
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("revenue-agents-mcp")
    );

    let tools = client.list_all_tools().await.expect("tools are listed");
    assert_eq!(tools.len(), 59);
    let create = tools
        .iter()
        .find(|t| t.name == "hockeystack_create_task")
        .expect("one tool per operation");
    assert_eq!(
        create.annotations.as_ref().unwrap().read_only_hint,
        Some(false)
    );

    let me = call(&client, "hockeystack_me", json!({})).await;
    assert_ne!(me.is_error, Some(true));
    assert!(structured(&me)["workspace"].is_object());
    let organizations = call(&client, "hyperrep_list_organizations", json!({})).await;
    assert!(structured(&organizations)["data"][0]["organization_id"].is_string());

    let refused = call(&client, "hockeystack_list_tasks", json!({"limit": 0})).await;
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(structured(&refused)["error"]["kind"], "invalid_arguments");
    let unknown = client
        .call_tool(CallToolRequestParams::new("hockeystack_nothing"))
        .await;
    assert!(unknown.is_err(), "an unknown tool is a protocol error");
    let again = call(&client, "hockeystack_health", json!({})).await;
    assert_ne!(again.is_error, Some(true), "the server still serves");

    client.cancel().await.expect("the session closes");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits when its input closes")
        .expect("an exit status");
    assert!(status.success(), "{status}");
}

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<ProgressNotificationParam>>>);

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.lock().unwrap().push(params);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ask_tool_reports_progress_before_its_answer() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let quick = PollPolicy::new(Duration::from_millis(20), Duration::from_millis(40));
    let server = Server::builder()
        .hockeystack(sandbox.hockeystack_client().unwrap())
        .waits(quick.clone(), quick)
        .build()
        .unwrap();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(async move {
        let running = server.serve(server_io).await?;
        running.waiting().await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    let recorder = Recorder::default();
    let client = recorder.clone().serve(client_io).await.unwrap();

    let mut meta = RequestMetaObject::default();
    meta.set_progress_token(ProgressToken(NumberOrString::Number(7)));
    let mut request = CallToolRequestParams::new("hockeystack_ask_agent").with_arguments(
        arguments(json!({"dealId": "5550001", "question": "What is the next step?"})),
    );
    request.meta = Some(meta);
    let answer = client.call_tool(request).await.unwrap();
    assert_ne!(answer.is_error, Some(true), "{answer:?}");
    let answer = structured(&answer);
    assert!(!answer["answer"].as_str().unwrap().is_empty());
    assert_eq!(answer["dealId"], "5550001");

    let mut updates = recorder.0.lock().unwrap().clone();
    assert!(!updates.is_empty(), "progress arrived before the answer");
    // rmcp's client puts its own token on the request; every update carries that one.
    assert!(
        updates
            .iter()
            .all(|u| u.progress_token == updates[0].progress_token)
    );
    // rmcp's client hands each notification to its own task, so they may be recorded out of
    // the order they came in; their progress numbers say that order, and never repeat.
    updates.sort_by(|a, b| a.progress.total_cmp(&b.progress));
    assert!(
        updates.windows(2).all(|w| w[1].progress > w[0].progress),
        "{:?}",
        updates
            .iter()
            .map(|u| (u.progress, u.message.clone()))
            .collect::<Vec<_>>()
    );
    let messages: Vec<&str> = updates
        .iter()
        .map(|u| u.message.as_deref().unwrap_or_default())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("completed")),
        "{messages:?}"
    );
    // The reply's text arrives as progress too, in order, before the answer.
    let streamed: String = messages
        .iter()
        .filter_map(|m| m.strip_prefix("reply: "))
        .collect();
    assert_eq!(streamed, answer["answer"].as_str().unwrap(), "{messages:?}");
    for update in &updates {
        let message = update.message.as_deref().unwrap_or_default();
        assert!(!message.contains(sandbox.hockeystack_token()));
    }

    client.cancel().await.unwrap();
    serving.await.unwrap().unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_answers_and_the_binary_keeps_serving() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let mut child = binary(&[]);
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap()).lines();
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "this is not JSON",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hockeystack_me","arguments":[1,2]}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hockeystack_health"}}"#,
    ];
    for line in lines {
        input
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    input.flush().await.unwrap();

    let mut answers = std::collections::HashMap::new();
    while answers.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(20), output.next_line())
            .await
            .expect("the server answers")
            .unwrap()
            .expect("the server is still there");
        let message: Value = serde_json::from_str(&line).expect("the server writes JSON only");
        if let Some(id) = message["id"].as_u64() {
            answers.insert(id, message);
        }
    }
    for id in [2, 3] {
        assert_eq!(answers[&id]["error"]["code"], -32602, "{}", answers[&id]);
        assert!(
            answers[&id]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`name`")
        );
    }
    assert_eq!(answers[&4]["result"]["structuredContent"]["status"], "ok");
    drop(input);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits when its input closes")
        .unwrap();
    assert!(status.success());
}

#[test]
fn it_says_its_version() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("revenue-agents-mcp {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_tool_listing_whose_reader_has_gone_ends_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
        .args(["--sandbox", "--list-tools"])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head` that has read enough: the pipe is closed before the listing is written
    // (the sandbox starts first), so every write meets a closed pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_however_long_deep_or_broken() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let mut child = binary(&[]);
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap()).lines();
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{{"name":"hockeystack_health","arguments":{{"x":"{}"}}}}}}"#,
        "a".repeat(17 * 1024 * 1024)
    );
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"hockeystack_health","arguments":{{"x":{}1{}}}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let lines = [
        initialize.to_owned(),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
        long,
        deep,
        r#"[{"jsonrpc":"2.0","id":4,"method":"ping"}]"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":5}"#.to_owned(),
        // JSON-RPC, but not MCP: rmcp would answer these under no id at all.
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"x"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":9,"method":"ping","params":5}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#.to_owned(),
        // Broken JSON whose id can still be read.
        r#"{"jsonrpc":"2.0","id":77,"method":"tools/list""#.to_owned(),
        "{not json".to_owned(),
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"hockeystack_health"}}"#
            .to_owned(),
    ];
    let writer = tokio::spawn(async move {
        for line in lines {
            input.write_all(line.as_bytes()).await.unwrap();
            input.write_all(b"\n").await.unwrap();
        }
        input.flush().await.unwrap();
        input
    });

    // Twelve answers: the initialization, ten refusals and the call after them.
    let mut answers = std::collections::HashMap::new();
    let mut nulls = 0;
    for _ in 0..12 {
        let line = tokio::time::timeout(Duration::from_secs(30), output.next_line())
            .await
            .expect("the server answers every request")
            .unwrap()
            .expect("the server is still there");
        let message: Value = serde_json::from_str(&line).expect("the server writes JSON only");
        nulls += usize::from(message["id"].is_null());
        answers.insert(message["id"].to_string(), message);
    }
    assert_eq!(
        nulls, 3,
        "the batch, the object id and the broken line: {answers:?}"
    );
    let code = |id: &str| answers[id]["error"]["code"].as_i64();
    assert_eq!(code("\"long\""), Some(-32600), "{}", answers["\"long\""]);
    assert!(
        answers["\"long\""]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("16 MiB")
    );
    assert_eq!(code("3"), Some(-32600), "{}", answers["3"]);
    assert!(
        answers["3"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 levels")
    );
    assert_eq!(code("5"), Some(-32600));
    for id in ["8", "9", "1.5"] {
        assert_eq!(code(id), Some(-32600), "{}", answers[id]);
    }
    assert!(
        answers["8"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`params` must be an object"),
        "{}",
        answers["8"]
    );
    assert_eq!(code("77"), Some(-32700), "{}", answers["77"]);
    // Neither the batch nor the broken line has an id to give: both are answered under null,
    // the parse error last.
    assert_eq!(code("null"), Some(-32700), "{}", answers["null"]);
    assert_eq!(
        answers["6"]["result"]["structuredContent"]["status"], "ok",
        "the server still serves"
    );
    let input = writer.await.unwrap();
    drop(input);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits when its input closes")
        .expect("an exit status");
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_for_its_rate_budget_says_so_as_progress() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let tight = revenue_agents::hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .rate_budget(
            revenue_agents::RateBudget::per_minute(1, 1).window(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    let server = Server::builder().hockeystack(tight).build().unwrap();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let recorder = Recorder::default();
    let client = recorder.clone().serve(client_io).await.unwrap();
    let mut meta = RequestMetaObject::default();
    meta.set_progress_token(ProgressToken(NumberOrString::Number(3)));
    let mut request = CallToolRequestParams::new("hockeystack_list_tasks")
        .with_arguments(arguments(json!({"limit": 1, "max_items": 3})));
    request.meta = Some(meta);
    let answer = client.call_tool(request).await.unwrap();
    assert_ne!(answer.is_error, Some(true), "{answer:?}");
    let messages: Vec<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|u| u.message.clone())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("rate budget")),
        "{messages:?}"
    );
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}
