//! Hostile values through every door: each command of the tool (as a process) and each MCP
//! tool (through the server's own call path) gets, argument by argument, values a careless
//! script or a confused assistant sends: empty, huge, negative, not numbers, JSON where text is
//! meant, control and invisible characters, a path, another resource's id, bytes that are not
//! UTF-8 (the tool), JSON nested deep (MCP). Each must end in a documented exit code or error
//! kind, never a panic or a hang, and the sandbox must still serve afterwards. The sandbox's
//! own routes have their sweep in `sandbox_hostile.rs`.
#![cfg(all(feature = "cli", feature = "mcp", unix))]

mod common;

use std::{
    ffi::OsString,
    os::unix::ffi::OsStringExt,
    process::Stdio,
    time::{Duration, Instant},
};

use revenue_agents::{
    mcp::Server,
    sandbox::{Sandbox, SandboxConfig},
};
use serde_json::{Value, json};

const TOOL: &str = env!("CARGO_BIN_EXE_revenue-agents");

/// Values for a command-line flag; one is not UTF-8.
fn hostile_words() -> Vec<OsString> {
    let mut words: Vec<OsString> = [
        "",
        " ",
        "-1",
        "0",
        "99999999999999999999999",
        "1e308",
        "NaN",
        "null",
        "[]",
        "{\"a\":",
        "\u{7}\u{1b}[31mred\u{202e}txet",
        "../../../etc/passwd",
        "%2e%2e%2fme",
        "conv_000001",
        "job_000001",
        "3c90c3cc-0d44-4b50-8888-000000000001",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    words.push(OsString::from("x".repeat(64 * 1024)));
    words.push(OsString::from(format!(
        "{}{}",
        "[".repeat(200),
        "]".repeat(200)
    )));
    words.push(OsString::from_vec(b"caf\xe9".to_vec()));
    words
}

/// The exit codes the tool documents.
const EXIT_CODES: [i32; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// A command of the tool: its words, and its flags that take a value (required ones marked).
#[derive(Debug)]
struct ToolCommand {
    words: Vec<String>,
    flags: Vec<(String, bool)>,
    positional: bool,
}

fn help(words: &[String]) -> String {
    let output = std::process::Command::new(TOOL)
        .args(words)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// The subcommands a help text lists.
fn subcommands(text: &str) -> Vec<String> {
    text.split("Commands:")
        .nth(1)
        .unwrap_or("")
        .split("\n\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every leaf command of both APIs, read from the tool's own help.
fn commands() -> Vec<ToolCommand> {
    let mut found = Vec::new();
    let mut pending: Vec<Vec<String>> = vec![vec!["hockeystack".into()], vec!["hyperrep".into()]];
    while let Some(words) = pending.pop() {
        let text = help(&words);
        let below = subcommands(&text);
        if !below.is_empty() {
            for name in below {
                let mut next = words.clone();
                next.push(name);
                pending.push(next);
            }
            continue;
        }
        let mut flags = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim_start();
            let Some(rest) = line.strip_prefix("--") else {
                continue;
            };
            let mut parts = rest.split_whitespace();
            let name = parts.next().unwrap_or("").to_owned();
            if parts.next().is_none_or(|v| !v.starts_with('<')) || name == "body-file" {
                continue;
            }
            let required = lines
                .get(i + 1)
                .is_some_and(|next| next.contains("[required"));
            flags.push((name, required));
        }
        let positional = text.contains("<QUESTION>");
        found.push(ToolCommand {
            words,
            flags,
            positional,
        });
    }
    found
}

/// A value that passes for any required flag well enough to let the hostile one be read.
fn benign(flag: &str) -> &'static str {
    match flag {
        "deal-id" => "9001234567",
        "targets" | "draft" => "{\"deal_id\": \"9001234567\"}",
        "task-type" => "call",
        "organization-id" => "org_1",
        _ => "1",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_the_tool_answers_hostile_values_with_a_documented_code() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let environment = [
        (
            "HOCKEYSTACK_API_TOKEN",
            sandbox.hockeystack_token().to_owned(),
        ),
        ("HOCKEYSTACK_BASE_URL", sandbox.hockeystack_url()),
        ("HYPERREP_API_KEY", sandbox.hyperrep_key().to_owned()),
        ("HYPERREP_BASE_URL", sandbox.hyperrep_url()),
        // One try each: a sweep is about answers, not patience.
        ("REVENUE_AGENTS_MAX_RETRIES", "0".to_owned()),
    ];
    let commands = commands();
    assert!(commands.len() > 50, "{} commands found", commands.len());
    let words = hostile_words();
    let mut lines: Vec<Vec<OsString>> = Vec::new();
    for (c, command) in commands.iter().enumerate() {
        for (f, (flag, _)) in command.flags.iter().enumerate() {
            // A bounded sweep: each flag meets three of the values, a different three for
            // each flag, so that every value meets many commands.
            for k in 0..3 {
                let value = &words[(c * 7 + f * 3 + k) % words.len()];
                let mut args: Vec<OsString> = command.words.iter().map(OsString::from).collect();
                for (other, required) in &command.flags {
                    if *required && other != flag {
                        args.push(format!("--{other}").into());
                        args.push(benign(other).into());
                    }
                }
                args.push(format!("--{flag}").into());
                args.push(value.clone());
                if command.positional {
                    args.push("Any risk?".into());
                }
                lines.push(args);
            }
        }
    }
    let started = Instant::now();
    let runs = lines.len();
    let environment = &environment;
    // Four at a time: each process mostly waits for its answer.
    futures_util::StreamExt::for_each_concurrent(
        futures_util::stream::iter(lines),
        4,
        |args| async move {
            let child = tokio::process::Command::new(TOOL)
                .args(&args)
                .env_clear()
                .envs(environment.iter().cloned())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
                .await
                .unwrap_or_else(|_| panic!("hangs: {args:.200?}"))
                .unwrap();
            let code = output.status.code().unwrap_or(-1);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                EXIT_CODES.contains(&code) && !stderr.contains("panicked"),
                "{args:.200?}: exit {code}: {stderr:.500}"
            );
        },
    )
    .await;
    eprintln!(
        "tool sweep: {runs} runs of {} commands in {:?}",
        commands.len(),
        started.elapsed()
    );
    let still = sandbox.hockeystack_client().unwrap().health().send().await;
    assert!(still.is_ok(), "the sandbox still serves");
    sandbox.shutdown().await;
}

/// Values for an MCP argument.
fn hostile_values() -> Vec<Value> {
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    vec![
        json!(""),
        json!(" "),
        json!(-1),
        json!(0),
        json!(1e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(true),
        Value::Null,
        json!([]),
        json!({}),
        json!({"nested": {"deeper": [1, "two", null]}}),
        deep,
        json!("x".repeat(200_000)),
        json!("\u{0}\u{7}\u{1b}[31mred\u{202e}txet\u{e0041}"),
        json!("../../../etc/passwd"),
        json!("%2e%2e%2fme"),
        json!("conv_000001"),
        json!("3c90c3cc-0d44-4b50-8888-000000000001"),
    ]
}

/// The error kinds an MCP result can carry: the library's, and the server's own.
const KINDS: &[&str] = &[
    "invalid_arguments",
    "missing_credentials",
    "invalid_credentials",
    "invalid_setting",
    "invalid_base_url",
    "invalid_request",
    "unauthorized",
    "not_found",
    "conflict",
    "bad_request",
    "validation",
    "rate_limited",
    "credits_exhausted",
    "server_error",
    "unexpected_status",
    "redirected",
    "job_failed",
    "job_expired",
    "provisioning_failed",
    "wait_timed_out",
    "repeated_cursor",
    "missing_cursor",
    "invalid_response",
    "transport",
    "stream_interrupted",
    "response_too_large",
    "deadline_exceeded",
    "rate_budget_exhausted",
    "rate_budget_unavailable",
    "decode",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mcp_tool_answers_hostile_arguments_with_a_documented_kind() {
    let sandbox = Sandbox::start(SandboxConfig {
        read_limit: u32::MAX,
        write_limit: u32::MAX,
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    let quick =
        revenue_agents::PollPolicy::new(Duration::from_millis(10), Duration::from_millis(20))
            .deadline(Duration::from_secs(2));
    let server = Server::builder()
        .hockeystack(sandbox.hockeystack_client().unwrap())
        .hyperrep(sandbox.hyperrep_client().unwrap())
        .waits(quick.clone(), quick)
        .build()
        .unwrap();
    let (server_io, client_io) = tokio::io::duplex(1024 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = rmcp::ServiceExt::serve(server, server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = rmcp::ServiceExt::serve((), client_io).await.unwrap();
    let tools: Vec<(String, Value)> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| {
            (
                tool.name.to_string(),
                Value::Object((*tool.input_schema).clone()),
            )
        })
        .collect();
    let values = hostile_values();
    let mut calls = 0;
    let started = Instant::now();
    for (t, (name, schema)) in tools.iter().enumerate() {
        let properties: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for (p, property) in properties.iter().enumerate() {
            for k in 0..4 {
                let value = values[(t * 5 + p * 4 + k) % values.len()].clone();
                let arguments = json!({ property: value });
                let request = rmcp::model::CallToolRequestParams::new(name.clone())
                    .with_arguments(arguments.as_object().cloned().unwrap());
                let result =
                    tokio::time::timeout(Duration::from_secs(30), client.call_tool(request))
                        .await
                        .unwrap_or_else(|_| panic!("hangs: {name} {property}"))
                        .unwrap_or_else(|e| {
                            panic!("{name} {property}: not answered as a result: {e}")
                        });
                let answer = result.structured_content.unwrap_or(Value::Null);
                if let Some(error) = answer.get("error") {
                    let kind = error["kind"].as_str().unwrap_or("?");
                    assert!(
                        KINDS.contains(&kind),
                        "{name} {property}={:.200}: {answer:.500}",
                        arguments[property].to_string()
                    );
                }
                calls += 1;
            }
        }
    }
    eprintln!(
        "MCP sweep: {calls} calls of {} tools in {:?}",
        tools.len(),
        started.elapsed()
    );
    client.cancel().await.unwrap();
    let still = sandbox.hockeystack_client().unwrap().health().send().await;
    assert!(still.is_ok(), "the sandbox still serves");
    sandbox.shutdown().await;
}
