//! Before a call that deletes data or spends credits, the MCP server asks the person through
//! the client (elicitation), and sends nothing unless the answer is yes: on the revisions with
//! server requests (2025-11-25) and on 2026-07-28, where the question comes back in an
//! `input_required` result. A client that cannot ask gets the call, with tool descriptions
//! that say what it does; `--confirm` chooses what is asked about. Each test runs the
//! `revenue-agents-mcp` binary against a sandbox of its own and reads the sandbox's request
//! log for what was sent.
#![cfg(feature = "mcp")]

mod common;

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
};

use revenue_agents::sandbox::Sandbox;
use rmcp::{
    ClientHandler, ErrorData as McpError, RoleClient,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig,
        ElicitRequestParams, ElicitResult, ElicitationAction, Implementation, InputResponses,
        ProtocolVersion,
    },
    service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService},
};
use serde_json::{Value, json};

/// What the person answers when asked.
#[derive(Clone, Copy, Debug)]
enum Says {
    Yes,
    No,
    Declines,
    Dismisses,
    /// The client fails to put the question (an error instead of an answer).
    CannotBeAsked,
}

/// A client that can ask its user (or not), speaks one revision, and records each question.
#[derive(Clone)]
struct Person {
    says: Says,
    can_ask: bool,
    version: ProtocolVersion,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Person {
    fn new(says: Says, version: ProtocolVersion) -> Self {
        Person {
            says,
            can_ask: true,
            version,
            asked: Arc::default(),
        }
    }

    fn questions(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.can_ask {
            ClientCapabilities::builder().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("confirm-test", "1"))
            .with_protocol_version(self.version.clone())
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        match self.says {
            Says::Yes => {
                Ok(ElicitResult::new(ElicitationAction::Accept)
                    .with_content(json!({"confirm": true})))
            }
            Says::No => Ok(ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({"confirm": false}))),
            Says::Declines => Ok(ElicitResult::new(ElicitationAction::Decline)),
            Says::Dismisses => Ok(ElicitResult::new(ElicitationAction::Cancel)),
            Says::CannotBeAsked => Err(McpError::internal_error("no window to ask in", None)),
        }
    }
}

/// The MCP binary against `sandbox`, with `args`, and `person` as its client.
async fn connect(
    sandbox: &Sandbox,
    person: Person,
    args: &[&str],
) -> (RunningService<RoleClient, Person>, tokio::process::Child) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
        .args(args)
        .env_clear()
        .env("HOCKEYSTACK_API_TOKEN", sandbox.hockeystack_token())
        .env("HOCKEYSTACK_BASE_URL", sandbox.hockeystack_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let lifecycle = if person.version.has_initialize() {
        ClientLifecycleMode::Initialize
    } else {
        ClientLifecycleMode::Discover {
            preferred_versions: vec![person.version.clone()],
        }
    };
    let client = person
        .serve_with_lifecycle(transport, lifecycle)
        .await
        .expect("the server speaks the client's revision");
    (client, child)
}

fn call(tool: &str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap())
}

fn delete_agent() -> CallToolRequestParams {
    call(
        "hockeystack_delete_deal_agent",
        json!({"dealId": "5550001"}),
    )
}

fn deletes(sandbox: &Sandbox) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count()
}

fn error_kind(result: &CallToolResult) -> Option<String> {
    result
        .structured_content
        .as_ref()
        .and_then(|c| c["error"]["kind"].as_str())
        .map(str::to_owned)
}

const REVISIONS: [ProtocolVersion; 2] =
    [ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2026_07_28];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_is_sent_only_after_the_person_says_yes() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    for version in REVISIONS {
        for says in [
            Says::No,
            Says::Declines,
            Says::Dismisses,
            Says::CannotBeAsked,
        ] {
            let person = Person::new(says, version.clone());
            let (client, _child) = connect(&sandbox, person.clone(), &[]).await;
            match client.call_tool(delete_agent()).await {
                Ok(result) => assert_eq!(
                    error_kind(&result).as_deref(),
                    Some("not_confirmed"),
                    "{version} {says:?}: {result:?}"
                ),
                // On 2026-07-28 the client answers the question itself, in its retry; one that
                // cannot put it to its user does not retry, and the call ends there.
                Err(error) => assert!(
                    matches!(says, Says::CannotBeAsked) && !version.has_initialize(),
                    "{version} {says:?}: {error}"
                ),
            }
            assert_eq!(deletes(&sandbox), 0, "{version} {says:?}: nothing was sent");
            let questions = person.questions();
            assert_eq!(questions.len(), 1, "{version} {says:?}: asked once");
            assert!(
                questions[0].contains("hockeystack_delete_deal_agent")
                    && questions[0].contains("5550001")
                    && questions[0].contains("deletes data"),
                "the question says what would happen: {}",
                questions[0]
            );
            client.cancel().await.unwrap();
        }
        let person = Person::new(Says::Yes, version.clone());
        let (client, _child) = connect(&sandbox, person.clone(), &[]).await;
        let result = client.call_tool(delete_agent()).await.unwrap();
        assert_ne!(result.is_error, Some(true), "{version}: {result:?}");
        assert_eq!(deletes(&sandbox), 1, "{version}: sent once, after the yes");
        assert_eq!(person.questions().len(), 1);
        client.cancel().await.unwrap();
        sandbox.clear_requests();
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_an_agent_spends_credits_and_is_asked_about_first() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let person = Person::new(Says::No, ProtocolVersion::V_2025_11_25);
    let (client, _child) = connect(&sandbox, person.clone(), &[]).await;
    let ask = call(
        "hockeystack_ask_agent",
        json!({"dealId": "5550001", "question": "What next?"}),
    );
    let result = client.call_tool(ask.clone()).await.unwrap();
    assert_eq!(error_kind(&result).as_deref(), Some("not_confirmed"));
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "no write was sent: {:?}",
        sandbox.requests()
    );
    assert!(
        person.questions()[0].contains("credits"),
        "{:?}",
        person.questions()
    );
    // Reading is never asked about.
    let read = client
        .call_tool(call("hockeystack_credits_balance", json!({})))
        .await
        .unwrap();
    assert_ne!(read.is_error, Some(true), "{read:?}");
    assert_eq!(person.questions().len(), 1);
    client.cancel().await.unwrap();

    // Asked only about deletions, the ask runs without a question.
    let person = Person::new(Says::No, ProtocolVersion::V_2025_11_25);
    let (client, _child) = connect(&sandbox, person.clone(), &["--confirm", "destructive"]).await;
    let result = client.call_tool(ask).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert!(person.questions().is_empty());
    let result = client.call_tool(delete_agent()).await.unwrap();
    assert_eq!(error_kind(&result).as_deref(), Some("not_confirmed"));
    assert_eq!(person.questions().len(), 1);
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_and_a_client_that_cannot_ask_run_the_call_and_the_tools_say_what_they_do() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let mut person = Person::new(Says::No, ProtocolVersion::V_2025_11_25);
    person.can_ask = false;
    let (client, _child) = connect(&sandbox, person.clone(), &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let described = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.description.clone())
            .unwrap_or_default()
    };
    let delete = described("hockeystack_delete_deal_agent");
    assert!(
        delete.contains("deletes data") && delete.contains("confirm"),
        "{delete}"
    );
    assert!(described("hockeystack_ask_agent").contains("credits"));
    assert!(described("hockeystack_send_deal_message").contains("credits"));
    assert!(!described("hockeystack_list_tasks").contains("confirm"));
    let annotations = tools
        .iter()
        .find(|t| t.name == "hockeystack_delete_deal_agent")
        .and_then(|t| t.annotations.clone())
        .unwrap();
    assert_eq!(annotations.destructive_hint, Some(true));
    let result = client.call_tool(delete_agent()).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(deletes(&sandbox), 1);
    client.cancel().await.unwrap();

    let person = Person::new(Says::No, ProtocolVersion::V_2025_11_25);
    let (client, _child) = connect(&sandbox, person.clone(), &["--confirm", "never"]).await;
    let tools = client.list_all_tools().await.unwrap();
    let delete = tools
        .iter()
        .find(|t| t.name == "hockeystack_delete_deal_agent")
        .and_then(|t| t.description.clone())
        .unwrap();
    assert!(!delete.contains("confirm"), "{delete}");
    let result = client.call_tool(delete_agent()).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(deletes(&sandbox), 2);
    assert!(person.questions().is_empty());
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compact_mode_asks_about_the_operation_it_calls() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let person = Person::new(Says::Declines, ProtocolVersion::V_2025_11_25);
    let (client, _child) = connect(&sandbox, person.clone(), &["--compact"]).await;
    let result = client
        .call_tool(call(
            "call_operation",
            json!({"tool": "hockeystack_delete_deal_agent", "arguments": {"dealId": "5550001"}}),
        ))
        .await
        .unwrap();
    assert_eq!(error_kind(&result).as_deref(), Some("not_confirmed"));
    assert_eq!(deletes(&sandbox), 0);
    assert!(person.questions()[0].contains("hockeystack_delete_deal_agent"));
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_in_a_retry_counts_only_for_the_call_it_was_asked_about() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let person = Person::new(Says::Yes, ProtocolVersion::V_2026_07_28);
    let (client, _child) = connect(&sandbox, person, &[]).await;
    let CallToolResponse::InputRequired(asked) =
        client.call_tool_once(delete_agent()).await.unwrap()
    else {
        panic!("a deletion first asks");
    };
    let state = asked.request_state.clone().expect("a state to echo");
    let yes: InputResponses = [(
        "confirm".to_owned(),
        json!({"action": "accept", "content": {"confirm": true}}),
    )]
    .into();
    // The yes given for deal 5550001, carried over to another deal: asked again, not sent.
    let mut other = call(
        "hockeystack_delete_deal_agent",
        json!({"dealId": "5550002"}),
    );
    other.input_responses = Some(yes.clone());
    other.request_state = Some(state.clone());
    let again = client.call_tool_once(other).await.unwrap();
    assert!(
        matches!(again, CallToolResponse::InputRequired(_)),
        "{again:?}"
    );
    // A state the server never gave: asked again.
    let mut made_up = delete_agent();
    made_up.input_responses = Some(yes.clone());
    made_up.request_state = Some("confirm-0-0000000000000000".into());
    let again = client.call_tool_once(made_up).await.unwrap();
    assert!(
        matches!(again, CallToolResponse::InputRequired(_)),
        "{again:?}"
    );
    assert_eq!(deletes(&sandbox), 0);
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_confirm_setting_that_is_not_one_of_the_three_stops_start_up() {
    let listed = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
        .args(["--sandbox", "--confirm=destructive", "--list-tools"])
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(listed.status.success(), "the --flag=value form is read");
    for (args, env) in [
        (vec!["--confirm", "sometimes"], None),
        (vec![], Some("sometimes")),
        (vec!["--confirm"], None),
    ] {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"));
        command.args(&args).env_clear().arg("--sandbox");
        if let Some(value) = env {
            command.env("REVENUE_AGENTS_MCP_CONFIRM", value);
        }
        let output = command.stdin(Stdio::null()).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.contains("confirm") || stderr.contains("CONFIRM"),
            "{args:?}: {stderr}"
        );
    }
}
