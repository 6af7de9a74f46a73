//! Long work as MCP tasks, and the protocol revisions the server speaks: a client that offers
//! the tasks extension gets the ask and ensure tools as tasks it can poll, cancel and fetch;
//! one that does not gets the blocking call; each revision from 2025-06-18 to 2026-07-28 is
//! served to an rmcp client that speaks it.
#![cfg(feature = "mcp")]

mod common;

use std::time::Duration;

use revenue_agents::{
    PollPolicy,
    mcp::Server,
    sandbox::{Fault, FaultRule, Sandbox, SandboxConfig},
};
use rmcp::{
    ClientHandler, RoleClient,
    model::{
        CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities,
        ClientConfig, GetTaskParams, Implementation, ProtocolVersion, TaskPayload, TaskStatus,
    },
    service::{ClientLifecycleMode, ClientServiceExt, RunningService, ServiceExt},
};
use serde_json::{Value, json};

/// A client that declares the tasks extension (or not) and speaks one protocol revision.
#[derive(Clone)]
struct Client {
    tasks: bool,
    version: ProtocolVersion,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.tasks {
            ClientCapabilities::builder().enable_tasks().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("tasks-test", "1"))
            .with_protocol_version(self.version.clone())
    }
}

async fn connect(sandbox: &Sandbox, client: Client) -> RunningService<RoleClient, Client> {
    let quick = PollPolicy::new(Duration::from_millis(20), Duration::from_millis(40));
    let server = Server::builder()
        .hockeystack(sandbox.hockeystack_client().unwrap())
        .hyperrep(sandbox.hyperrep_client().unwrap())
        .waits(quick.clone(), quick)
        .build()
        .unwrap();
    let (server_io, client_io) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let lifecycle = if client.version.has_initialize() {
        ClientLifecycleMode::Initialize
    } else {
        ClientLifecycleMode::Discover {
            preferred_versions: vec![client.version.clone()],
        }
    };
    client
        .serve_with_lifecycle(client_io, lifecycle)
        .await
        .expect("the server speaks the client's revision")
}

fn ask(question: &str) -> CallToolRequestParams {
    CallToolRequestParams::new("hockeystack_ask_agent").with_arguments(
        json!({"dealId": "5550001", "question": question})
            .as_object()
            .cloned()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_from_a_client_that_offers_tasks_is_a_task_it_polls_and_fetches() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    for version in [ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2026_07_28] {
        let client = connect(
            &sandbox,
            Client {
                tasks: true,
                version: version.clone(),
            },
        )
        .await;
        let CallToolResponse::Task(created) =
            client.call_tool_once(ask("Next step?")).await.unwrap()
        else {
            panic!("{version}: the ask is not a task");
        };
        assert_eq!(created.task.status, TaskStatus::Working);
        let id = created.task.task_id.clone();
        let mut statuses = Vec::new();
        let result = loop {
            let polled = client
                .get_task(GetTaskParams::new(id.clone()))
                .await
                .unwrap();
            statuses.extend(polled.task.task.status_message.clone());
            match polled.task.payload {
                TaskPayload::Completed { result } => break Value::Object(result),
                TaskPayload::Working => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("{version}: {other:?}"),
            }
        };
        let answer = &result["structuredContent"];
        assert!(
            !answer["answer"].as_str().unwrap_or_default().is_empty(),
            "{result}"
        );
        assert_eq!(answer["dealId"], "5550001");
        assert!(
            !statuses.is_empty(),
            "{version}: the status follows the wait"
        );
        client.cancel().await.unwrap();
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_task_stops_waiting_for_its_job() {
    let sandbox = Sandbox::start(SandboxConfig {
        job_time: Duration::from_secs(600),
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    // The stream is refused, so the ask falls back to a job, which takes its time.
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 406,
            body: json!({"error": {"code": "request.not_acceptable", "message": "No streams."}}),
        })
        .method("POST")
        .path_prefix("/api/revenue-agents/v1/deals/5550001/conversations/")
        .times(1),
    );
    let client = connect(
        &sandbox,
        Client {
            tasks: true,
            version: ProtocolVersion::V_2025_11_25,
        },
    )
    .await;
    let CallToolResponse::Task(created) =
        client.call_tool_once(ask("Take your time.")).await.unwrap()
    else {
        panic!("the ask is not a task");
    };
    let id = created.task.task_id;
    let job_checks = || {
        sandbox
            .requests()
            .iter()
            .filter(|r| r.path.contains("/messages/jobs/"))
            .count()
    };
    // Wait until the job is being checked, then cancel.
    while job_checks() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client
        .cancel_task(CancelTaskParams::new(id.clone()))
        .await
        .unwrap();
    let status = loop {
        let polled = client
            .get_task(GetTaskParams::new(id.clone()))
            .await
            .unwrap();
        if polled.task.task.status.is_terminal() {
            break polled.task.task.status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, TaskStatus::Cancelled);
    let at_cancel = job_checks();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        job_checks(),
        at_cancel,
        "no check of the job after the cancel"
    );
    client.cancel().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_revision_is_served_and_a_client_without_tasks_gets_the_answer_in_the_call() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    for version in [
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
        ProtocolVersion::V_2026_07_28,
    ] {
        let client = connect(
            &sandbox,
            Client {
                tasks: false,
                version: version.clone(),
            },
        )
        .await;
        let info = client.peer_info().expect("the server introduced itself");
        assert_eq!(info.protocol_version, version);
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 59, "{version}");
        let CallToolResponse::Complete(answer) =
            client.call_tool_once(ask("Any risk?")).await.unwrap()
        else {
            panic!("{version}: a client without tasks got a task");
        };
        let answer = answer.structured_content.expect("structured content");
        assert!(
            !answer["answer"].as_str().unwrap_or_default().is_empty(),
            "{answer}"
        );
        client.cancel().await.unwrap();
    }
    sandbox.shutdown().await;
}
