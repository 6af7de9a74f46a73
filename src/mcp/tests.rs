//! The server's tools against the specs' operation tables, and its calls against the sandbox.
//! The same behaviours are checked through a real MCP client over stdio in `.ci/mcp`.

use std::time::Duration;

use rmcp::model::CallToolResult;
use serde_json::{Map, Value, json};

use super::Server;
use crate::{
    config::Api,
    hyperrep::HyperRep,
    poll::PollPolicy,
    sandbox::{Fault, FaultRule, Sandbox, SandboxConfig},
};

pub(super) const ORGANIZATION: &str =
    "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";

/// The sandbox with provisioning and jobs of 50 ms.
pub(super) async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        provisioning_time: Duration::from_millis(50),
        job_time: Duration::from_millis(50),
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts")
}

/// A server of both APIs of `sandbox`, checking waits every 20 to 40 ms.
pub(super) fn builder(sandbox: &Sandbox) -> super::ServerBuilder {
    let quick = PollPolicy::new(Duration::from_millis(20), Duration::from_millis(40));
    Server::builder()
        .hockeystack(sandbox.hockeystack_client().unwrap())
        .hyperrep(sandbox.hyperrep_client().unwrap())
        .waits(quick.clone(), quick)
}

fn server(sandbox: &Sandbox) -> Server {
    builder(sandbox).build().expect("every toolset exists")
}

fn arguments(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

async fn call(server: &Server, name: &str, args: Value) -> (bool, Value) {
    let result: CallToolResult = server
        .call(name, arguments(args), None)
        .await
        .expect("a known tool");
    let value = result
        .structured_content
        .clone()
        .expect("structured content");
    (result.is_error == Some(true), value)
}

#[test]
fn every_operation_of_both_specs_is_one_tool_named_after_it() {
    let all = super::all_tools().expect("the specs make tools");
    let names: Vec<String> = all.iter().map(|(_, d)| d.tool.name.to_string()).collect();
    // Read from the specs as written, not from the model the tools come from.
    let mut operations = 0;
    for prefix in ["hockeystack", "hyperrep"] {
        let path = format!("{}/openapi/{prefix}.yaml", env!("CARGO_MANIFEST_DIR"));
        let spec: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for item in spec["paths"].as_object().unwrap().values() {
            for (method, operation) in item.as_object().unwrap() {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                operations += 1;
                let name = format!("{prefix}_{id}");
                assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
                let def = &all.iter().find(|(_, d)| d.tool.name == name).unwrap().1;
                assert_eq!(def.writes, method != "get", "{name}");
            }
        }
    }
    let composites = [
        "hockeystack_ask_agent",
        "hockeystack_ensure_agent",
        "hockeystack_wait_for_job",
    ];
    assert_eq!(names.len(), operations + composites.len());
    for name in composites {
        assert!(names.iter().any(|n| n == name), "{name}");
    }
}

#[test]
fn a_deprecated_operation_says_so_in_its_tool() {
    let all = super::all_tools().unwrap();
    let legacy = &all
        .iter()
        .find(|(_, d)| d.tool.name == "hyperrep_create_messages_draft_legacy")
        .unwrap()
        .1
        .tool;
    assert!(legacy.title.as_deref().unwrap().ends_with("(deprecated)"));
    assert!(
        legacy
            .description
            .as_deref()
            .unwrap()
            .starts_with("Deprecated")
    );
    let current = &all
        .iter()
        .find(|(_, d)| d.tool.name == "hyperrep_create_message_draft")
        .unwrap()
        .1
        .tool;
    assert!(!current.title.as_deref().unwrap().contains("deprecated"));
}

#[test]
fn input_schemas_are_self_contained_described_objects() {
    for (_, def) in super::all_tools().unwrap() {
        let schema = &def.schema;
        let text = schema.to_string();
        assert!(!text.contains("$ref"), "{}", def.tool.name);
        fn keys(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(members) => {
                    for (key, member) in members {
                        out.push(key.clone());
                        keys(member, out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
                _ => {}
            }
        }
        let mut all_keys = Vec::new();
        keys(schema, &mut all_keys);
        let openapi_only = |k: &&String| k.starts_with("x-") || *k == "nullable" || *k == "example";
        assert!(
            !all_keys.iter().any(|k| openapi_only(&k)),
            "{}: OpenAPI-only keywords",
            def.tool.name
        );
        assert_eq!(schema["type"], "object", "{}", def.tool.name);
        assert_eq!(schema["additionalProperties"], false, "{}", def.tool.name);
        for (property, spec) in schema["properties"].as_object().unwrap() {
            assert!(
                spec.get("description").and_then(Value::as_str).is_some(),
                "{}.{property}",
                def.tool.name
            );
        }
        assert_eq!(Value::Object((*def.tool.input_schema).clone()), *schema);
    }
}

#[test]
fn toolsets_and_read_only_choose_what_is_offered() {
    let offered = |builder: super::ServerBuilder| -> Vec<(String, bool)> {
        let client = crate::hockeystack::Client::from_credential("hsr_live_test").unwrap();
        let hr = crate::hyperrep::Client::from_credential("key").unwrap();
        builder
            .hockeystack(client)
            .hyperrep(hr)
            .build()
            .unwrap()
            .tools()
            .into_iter()
            .map(|tool| (tool.name.to_owned(), tool.writes))
            .collect()
    };
    // The tools that change nothing, read from the specs as written (their GET operations)
    // and the one composite job that only reads (waiting for a message job), not from the flag
    // the server filters by.
    let mut reading: Vec<String> = vec!["hockeystack_wait_for_job".into()];
    for prefix in ["hockeystack", "hyperrep"] {
        let path = format!("{}/openapi/{prefix}.yaml", env!("CARGO_MANIFEST_DIR"));
        let spec: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for item in spec["paths"].as_object().unwrap().values() {
            if let Some(id) = item["get"]["operationId"].as_str() {
                reading.push(format!("{prefix}_{id}"));
            }
        }
    }
    reading.sort();
    let mut read_only: Vec<String> = offered(Server::builder().read_only(true))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    read_only.sort();
    assert_eq!(read_only, reading);
    let tasks = offered(Server::builder().toolsets(["hockeystack_tasks"]));
    assert_eq!(tasks.len(), 5);
    assert!(
        tasks
            .iter()
            .all(|(n, _)| n.ends_with("_task") || n == "hockeystack_list_tasks")
    );
    // Every HyperRep operation but the deprecated one, which is offered when asked for.
    let hyperrep = offered(Server::builder().toolsets(["hyperrep"]));
    let deprecated = HyperRep::OPERATIONS
        .iter()
        .filter(|op| op.deprecated)
        .count();
    assert_eq!(deprecated, 1);
    assert_eq!(hyperrep.len(), HyperRep::OPERATIONS.len() - deprecated);
    assert!(!hyperrep.iter().any(|(n, _)| n.ends_with("_legacy")));
    let with_old = offered(Server::builder().toolsets(["hyperrep"]).deprecated(true));
    assert_eq!(with_old.len(), HyperRep::OPERATIONS.len());
    let named = offered(Server::builder().tools(["hyperrep_create_messages_draft_legacy"]));
    assert_eq!(named.len(), 1);

    let error = Server::builder()
        .toolsets(["hyperrep_sales"])
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("needs a hyperrep client"),
        "{error}"
    );
    let error = Server::builder().toolsets(["sales"]).build().unwrap_err();
    assert!(
        error.to_string().contains("hyperrep_sales"),
        "names the toolsets: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_list_ends_on_a_page_boundary_and_continues_from_its_cursor() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    let list = |extra: Value| {
        let mut args = json!({"organization_id": ORGANIZATION, "limit": 10});
        args.as_object_mut().unwrap().extend(arguments(extra));
        args
    };
    let (failed, first) = call(
        &server,
        "hyperrep_list_sales",
        list(json!({"max_items": 25})),
    )
    .await;
    assert!(!failed, "{first}");
    assert_eq!(
        (first["count"].as_u64(), first["pages"].as_u64()),
        (Some(25), Some(3))
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more sales exist")
        .to_owned();
    let (_, second) = call(
        &server,
        "hyperrep_list_sales",
        list(json!({"max_items": 25, "cursor": cursor})),
    )
    .await;
    let (_, whole) = call(
        &server,
        "hyperrep_list_sales",
        list(json!({"max_items": 50})),
    )
    .await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sale_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut halves = ids(&first);
    halves.extend(ids(&second));
    assert_eq!(halves, ids(&whole));

    // The last page was asked for with the remaining count, not fetched whole and cut.
    let limits: Vec<String> = sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sales"))
        .take(3)
        .map(|r| r.query.clone())
        .collect();
    assert!(limits[2].contains("limit=5"), "{limits:?}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_fails_midway_returns_what_it_had_and_where_to_resume() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    let tasks = "/api/revenue-agents/v1/tasks";
    let page = json!({"tasks": [{"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", "status": "pending",
        "task_type": "call", "task_title": "Call", "created_at": "2026-05-22T10:00:00Z",
        "targets": {"deal_id": "1"}}], "next_cursor": "page-2"});
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 200,
            body: page,
        })
        .path_prefix(tasks)
        .times(1),
    );
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 400,
            body: json!({"error": {"code": "validation.invalid", "category": "validation",
                                   "message": "cursor is stale"}}),
        })
        .path_prefix(tasks),
    );
    let (failed, answer) = call(&server, "hockeystack_list_tasks", json!({"max_items": 100})).await;
    assert!(failed);
    let error = &answer["error"];
    assert_eq!(error["kind"], "bad_request");
    assert_eq!(error["resume_cursor"], "page-2");
    assert_eq!(error["partial"]["count"], 1);
    assert_eq!(error["partial"]["next_cursor"], "page-2");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_its_items_is_an_error_not_an_empty_list() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    sandbox.inject(FaultRule::new(Fault::Respond {
        status: 200,
        body: json!({"next_cursor": null}),
    }));
    let (failed, answer) = call(&server, "hockeystack_list_tasks", json!({"max_items": 10})).await;
    assert!(failed);
    assert_eq!(answer["error"]["kind"], "invalid_response", "{answer}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_a_server_echoes_never_reaches_the_assistant() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    let token = sandbox.hockeystack_token().to_owned();
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 200,
            body: json!({"workspace": {"id": "w", "name": format!("echo {token}")}}),
        })
        .times(1),
    );
    let (failed, answer) = call(&server, "hockeystack_me", json!({})).await;
    assert!(!failed);
    assert!(!answer.to_string().contains(&token), "{answer}");
    assert!(answer.to_string().contains("<redacted>"));
    sandbox.inject(
        FaultRule::new(Fault::Respond {
            status: 400,
            body: json!({"error": {"code": "x", "category": "validation", "message": token}}),
        })
        .times(1),
    );
    let (failed, answer) = call(&server, "hockeystack_me", json!({})).await;
    assert!(failed);
    assert!(!answer.to_string().contains(&token), "{answer}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do_next() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    sandbox.inject(
        FaultRule::new(Fault::RateLimited {
            retry_after_secs: 120,
        })
        .times(10),
    );
    let (failed, answer) = call(&server, "hyperrep_list_organizations", json!({})).await;
    assert!(failed);
    let error = &answer["error"];
    assert_eq!(error["kind"], "rate_limited", "{answer}");
    assert_eq!(error["retry_after_seconds"], 120.0);
    assert_eq!(error["retryable"], true);
    sandbox.clear_faults();

    // Nothing is sent for a path parameter that cannot stay one segment.
    sandbox.clear_requests();
    let (failed, answer) = call(
        &server,
        "hockeystack_get_deal_agent",
        json!({"dealId": ".."}),
    )
    .await;
    assert!(failed);
    assert_eq!(answer["error"]["kind"], "invalid_request");
    assert!(sandbox.requests().is_empty());
    // Other characters are encoded into the one segment.
    let (failed, answer) = call(
        &server,
        "hockeystack_get_deal_agent",
        json!({"dealId": "a/../b"}),
    )
    .await;
    assert!(failed);
    assert_eq!(answer["error"]["kind"], "not_found", "{answer}");
    assert_eq!(
        sandbox.requests()[0].path,
        "/api/revenue-agents/v1/deals/a%2F..%2Fb/agent"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_named_and_nothing_is_sent() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    sandbox.clear_requests();
    let (failed, answer) = call(
        &server,
        "hockeystack_create_task",
        json!({"task_title": "", "task_type": 3, "priority": "urgent"}),
    )
    .await;
    assert!(failed);
    let problems: Vec<&str> = answer["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "task_title:",
        "task_type:",
        "assignee_id: is required",
        "targets: is required",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} in {problems:?}"
        );
    }
    let (failed, _) = call(&server, "hockeystack_ask_agent", json!({"question": "Hi?"})).await;
    assert!(failed, "an ask needs a deal or a company");
    assert!(sandbox.requests().is_empty());
    assert!(server.call("no_such_tool", Map::new(), None).await.is_err());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ask_tool_answers_and_continues_its_conversation() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    let (failed, first) = call(
        &server,
        "hockeystack_ask_agent",
        json!({"companyId": "4400123", "question": "What changed this week?"}),
    )
    .await;
    assert!(!failed, "{first}");
    assert!(!first["answer"].as_str().unwrap().is_empty());
    assert_eq!(first["companyId"], "4400123");
    let cid = first["cid"].as_str().unwrap();
    let (failed, second) = call(
        &server,
        "hockeystack_ask_agent",
        json!({"companyId": "4400123", "question": "And next week?", "cid": cid}),
    )
    .await;
    assert!(!failed, "{second}");
    assert_eq!(second["cid"], cid);
    assert!(
        second["answer"].as_str().unwrap().contains("And next week"),
        "{second}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_is_served_on_loopback_only() {
    let client = crate::hyperrep::Client::from_credential("key").unwrap();
    let server = Server::builder().hyperrep(client).build().unwrap();
    let mut bound = None;
    let refused = server
        .serve_http("0.0.0.0:0".parse().unwrap(), |addr| bound = Some(addr))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("loopback"), "{refused}");
    assert!(bound.is_none(), "nothing was bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_pages_with_new_cursors_end_the_gathering_instead_of_running_forever() {
    use httpmock::Method::GET;
    let mock = httpmock::MockServer::start_async().await;
    let page = |cursor: Option<&str>, next: &str| {
        let next = next.to_owned();
        let cursor = cursor.map(str::to_owned);
        let server = &mock;
        async move {
            server
                .mock_async(|when, then| {
                    let when = when.method(GET).path("/tasks");
                    match &cursor {
                        Some(c) => when.query_param("cursor", c.as_str()),
                        None => when.query_param_missing("cursor"),
                    };
                    then.status(200)
                        .json_body(json!({"tasks": [], "next_cursor": next}));
                })
                .await
        }
    };
    page(None, "c1").await;
    page(Some("c1"), "c2").await;
    page(Some("c2"), "c3").await;
    page(Some("c3"), "c4").await;
    let client = crate::hockeystack::Client::builder()
        .credential("hsr_live_test")
        .base_url(mock.base_url())
        .build()
        .unwrap();
    let server = Server::builder().hockeystack(client).build().unwrap();
    let (failed, answer) = call(&server, "hockeystack_list_tasks", json!({"max_items": 3})).await;
    assert!(!failed, "{answer}");
    assert_eq!(answer["pages"], 3);
    assert_eq!(answer["count"], 0);
    assert_eq!(answer["next_cursor"], "c3", "the walk can go on from here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_answer_is_an_error_not_a_shorter_result() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    // The answer breaks off after 40 bytes of its body.
    sandbox.inject(FaultRule::new(Fault::CutBody { after_bytes: 40 }).path_prefix("/api/v2"));
    let (failed, answer) = call(
        &server,
        "hyperrep_list_sales",
        json!({"organization_id": ORGANIZATION, "limit": 5}),
    )
    .await;
    assert!(failed, "{answer}");
    assert_eq!(answer["error"]["kind"], "transport", "{answer}");
    assert_eq!(answer["error"]["retryable"], true);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_cursor_is_the_caller_s_mistake_however_long() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    for cursor in ["forged".to_owned(), "a".repeat(1024 * 1024)] {
        let (failed, answer) = call(
            &server,
            "hockeystack_list_tasks",
            json!({"cursor": cursor, "max_items": 5}),
        )
        .await;
        assert!(failed, "{answer}");
        let kind = answer["error"]["kind"].as_str().unwrap();
        assert!(
            ["bad_request", "invalid_request"].contains(&kind),
            "{}: {answer:.300}",
            cursor.len()
        );
        assert_eq!(answer["error"]["retryable"], false, "{answer:.300}");
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_a_message_too_long_deep_or_broken_is_answered_under_its_id() {
    let sandbox = sandbox().await;
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let serving = tokio::spawn(server(&sandbox).serve_http(
        "127.0.0.1:0".parse().unwrap(),
        move |addr| {
            let _ = bound_tx.send(addr);
        },
    ));
    let addr = bound_rx.await.unwrap();
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        http.post(format!("http://{addr}/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"x":{}{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":"big","method":"ping","params":{{"x":"{}"}}}}"#,
        "a".repeat(17 * 1024 * 1024)
    );
    for (body, status, id, code) in [
        (deep.into_bytes(), 400, json!(3), -32600),
        (long.into_bytes(), 413, json!("big"), -32600),
        (b"{not json".to_vec(), 400, Value::Null, -32700),
        (
            br#"[{"jsonrpc":"2.0","id":9,"method":"ping"}]"#.to_vec(),
            400,
            Value::Null,
            -32600,
        ),
    ] {
        let answer = post(body).await.unwrap();
        assert_eq!(answer.status(), status);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(
            (&answer["id"], &answer["error"]["code"]),
            (&id, &json!(code)),
            "{answer}"
        );
    }
    serving.abort();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_keep_the_server_s_key_order() {
    let sandbox = sandbox().await;
    let server = server(&sandbox);
    let (failed, task) = call(
        &server,
        "hockeystack_get_task",
        json!({"taskId": "3c90c3cc-0d44-4b50-8888-000000000001"}),
    )
    .await;
    assert!(!failed, "{task}");
    // As the sandbox sends it: the id first, not sorted (agent_id would come first).
    let keys: Vec<&String> = task.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "task_id", "{keys:?}");
    assert_eq!(keys[1], "status", "{keys:?}");
    sandbox.shutdown().await;
}
