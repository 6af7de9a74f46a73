//! Every door is the library: one table of scenarios, each run through the library, the
//! command-line tool (as a process, JSON and text) and the MCP server (as a process, over
//! stdio), each against a sandbox of its own with the same faults. Every door must give the
//! same answer, and leave the same writes in the sandbox's request log. A new door or a new
//! scenario is one row.
#![cfg(all(feature = "cli", feature = "mcp"))]

use std::{process::Stdio, time::Duration};

use futures_util::future::join_all;
use revenue_agents::{
    ErrorKind,
    hockeystack::{Delivery, Reply},
    sandbox::{Fault, FaultRule, HockeyStackSeed, ReceivedRequest, Sandbox, SandboxConfig},
};
use rmcp::{model::CallToolRequestParams, service::ServiceExt};
use serde_json::{Value, json};

const DEAL: &str = "9001234567";
const MESSAGES: &str = "/api/revenue-agents/v1/deals/9001234567/conversations/";

/// One situation a job meets.
struct Scenario {
    name: &'static str,
    /// The composite job (`ask_agent`, `ensure_agent`, `wait_for_job`), as the MCP tool names
    /// it, and its arguments beside the deal.
    job: &'static str,
    arguments: fn() -> Value,
    /// Whether the job waits for a message job that the sandbox is given first.
    given_a_job: bool,
    /// Whether the deal's agent is active from the start; otherwise it is provisioned, and
    /// provisioning takes `provisioning` on the sandbox's clock.
    active: bool,
    provisioning: Duration,
    faults: fn() -> Vec<FaultRule>,
    /// The outcome every door must give: an answer (`Ok(job id given)`) or an error's kind.
    expected: Result<bool, &'static str>,
    /// How many times the question is POSTed, faults' answers included.
    posts: usize,
}

fn on_messages(fault: Fault) -> FaultRule {
    FaultRule::new(fault)
        .method("POST")
        .path_prefix(MESSAGES)
        .times(1)
}

fn scenarios() -> Vec<Scenario> {
    let active = |name, faults, expected, posts| Scenario {
        name,
        job: "ask_agent",
        arguments: || json!({"question": "What is blocking this deal?"}),
        given_a_job: false,
        active: true,
        provisioning: Duration::from_millis(100),
        faults,
        expected,
        posts,
    };
    vec![
        // The stream breaks off after the question was stored: it is read back, never resent.
        active(
            "a stream cut after the question was stored",
            || vec![on_messages(Fault::CutBody { after_bytes: 60 })],
            Ok(false),
            1,
        ),
        // Refused before anything was stored: sent again, as a job.
        active(
            "a stream refused with 406",
            || {
                vec![on_messages(Fault::Respond {
                    status: 406,
                    body: json!({"error": {"code": "request.not_acceptable",
                        "category": "invalid_request", "message": "No event streams here."}}),
                })]
            },
            Ok(true),
            2,
        ),
        // A 429 did no work: sent again after Retry-After.
        active(
            "a 429 with Retry-After",
            || {
                vec![on_messages(Fault::RateLimited {
                    retry_after_secs: 1,
                })]
            },
            Ok(false),
            2,
        ),
        Scenario {
            name: "a failed job",
            arguments: || json!({"question": "Summarize the deal #fail", "delivery": "job"}),
            ..active("", Vec::new, Err("job_failed"), 1)
        },
        // Longer than the five minutes the doors used to wait, on the sandbox's clock.
        Scenario {
            name: "provisioning that takes six minutes",
            active: false,
            provisioning: Duration::from_secs(6 * 60),
            ..active("", Vec::new, Ok(false), 1)
        },
        Scenario {
            name: "an agent made ready",
            job: "ensure_agent",
            arguments: || json!({}),
            active: false,
            ..active("", Vec::new, Ok(false), 0)
        },
        Scenario {
            name: "a message job waited for",
            job: "wait_for_job",
            arguments: || json!({}),
            given_a_job: true,
            ..active("", Vec::new, Ok(true), 0)
        },
    ]
}

/// The doors a question can come through.
#[derive(Debug, Clone, Copy)]
enum Door {
    Library,
    ToolJson,
    ToolText,
    Mcp,
}

const DOORS: [Door; 4] = [Door::Library, Door::ToolJson, Door::ToolText, Door::Mcp];

/// What a door gave back, in one shape for every door.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// An answer's text (a reply's, or an agent's status) and whether a job gave it, when the
    /// door shows that.
    Answer {
        text: String,
        job: Option<bool>,
    },
    Failed(String),
}

impl Outcome {
    /// The same outcome, where both doors show it.
    fn agrees_with(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Answer { text, job }, Outcome::Answer { text: t, job: j }) => {
                text == t && (job.is_none() || j.is_none() || job == j)
            }
            (a, b) => a == b,
        }
    }
}

/// What a door did to the sandbox: every write, with the fault that answered it.
fn writes(log: &[ReceivedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            let path: String = r
                .path
                .split('/')
                .map(|segment| match segment.split_once('_') {
                    Some((kind @ ("conv" | "job" | "msg"), _)) => format!("{kind}_*"),
                    _ => segment.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let fault = r.fault.as_ref().map_or("served".to_owned(), |f| {
                serde_json::to_value(f).unwrap()["kind"].to_string()
            });
            format!("{} {path} ({fault})", r.method)
        })
        .collect()
}

async fn sandbox(scenario: &Scenario) -> Sandbox {
    let config = SandboxConfig {
        provisioning_time: scenario.provisioning,
        job_time: Duration::from_millis(100),
        stream_chunk_delay: Duration::from_millis(1),
        hockeystack_seed: scenario.active.then(|| HockeyStackSeed {
            deal_agents: vec![DEAL.into()],
            ..HockeyStackSeed::default()
        }),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    for rule in (scenario.faults)() {
        sandbox.inject(rule);
    }
    sandbox
}

/// The job's arguments, with the deal and, for a wait, the job the sandbox was given.
async fn arguments(scenario: &Scenario, sandbox: &Sandbox) -> Value {
    let mut arguments = (scenario.arguments)();
    arguments["dealId"] = json!(DEAL);
    if scenario.given_a_job {
        let client = sandbox.hockeystack_client().unwrap();
        let agent = client.deal_agent(DEAL);
        let cid = agent.open_conversation().await.unwrap();
        let accepted = client
            .send_deal_message()
            .deal_id(DEAL)
            .cid(cid.as_str())
            .body(
                revenue_agents::hockeystack::types::SendMessageRequest::builder()
                    .message("Any risk?"),
            )
            .send()
            .await
            .unwrap()
            .into_inner();
        arguments["cid"] = json!(cid);
        arguments["jobId"] = json!(accepted.job_id);
        sandbox.clear_requests();
    }
    arguments
}

/// Moves the sandbox's clock past provisioning once the door has asked for an agent, as the
/// minutes would pass on the real service.
async fn let_provisioning_pass(sandbox: &Sandbox, scenario: &Scenario) {
    if scenario.active {
        return;
    }
    // A request is in the log once it has been answered, so a provisioning run that the log
    // shows accepted has started, and moving the clock past it finishes it.
    for _ in 0..2000 {
        if sandbox
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.status == 202)
        {
            sandbox.advance(scenario.provisioning);
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the door never asked for the agent");
}

fn environment(sandbox: &Sandbox) -> [(&'static str, String); 2] {
    [
        (
            "HOCKEYSTACK_API_TOKEN",
            sandbox.hockeystack_token().to_owned(),
        ),
        ("HOCKEYSTACK_BASE_URL", sandbox.hockeystack_url()),
    ]
}

fn kind_of(error: &revenue_agents::Error) -> String {
    match error.kind() {
        ErrorKind::JobFailed { .. } => "job_failed".into(),
        ErrorKind::StreamInterrupted { .. } => "stream_interrupted".into(),
        other => format!("{other:?}"),
    }
}

/// A job's JSON answer: a reply's text, or an agent's status.
fn from_json(answer: &Value) -> Outcome {
    match answer.get("error") {
        Some(error) => Outcome::Failed(error["kind"].as_str().unwrap_or("?").to_owned()),
        None => Outcome::Answer {
            text: answer
                .get("answer")
                .or_else(|| answer.get("status"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            job: Some(answer.get("jobId").is_some_and(|id| !id.is_null())),
        },
    }
}

/// The command line a person types for a job and its arguments.
fn command_line(job: &str, arguments: &Value) -> Vec<String> {
    let path: &[&str] = match job {
        "ask_agent" => &["ask"],
        "ensure_agent" => &["agents", "ensure"],
        _ => &["jobs", "wait"],
    };
    let mut line: Vec<String> = ["--json-errors", "hockeystack"]
        .iter()
        .chain(path)
        .map(|w| (*w).to_owned())
        .collect();
    for (name, value) in arguments.as_object().unwrap() {
        if name == "question" {
            continue;
        }
        let flag = match name.as_str() {
            "dealId" => "--deal-id".to_owned(),
            "jobId" => "--job-id".to_owned(),
            other => format!("--{other}"),
        };
        line.extend([flag, value.as_str().unwrap().to_owned()]);
    }
    if let Some(question) = arguments.get("question").and_then(Value::as_str) {
        line.push(question.to_owned());
    }
    line
}

async fn through(door: Door, scenario: &Scenario) -> (Outcome, Vec<String>) {
    let sandbox = sandbox(scenario).await;
    let arguments = arguments(scenario, &sandbox).await;
    let (outcome, ()) = tokio::join!(
        run(door, scenario.job, &arguments, &sandbox),
        let_provisioning_pass(&sandbox, scenario)
    );
    (outcome, writes(&sandbox.requests()))
}

/// The library's own call for a job.
async fn library(job: &str, arguments: &Value, sandbox: &Sandbox) -> Outcome {
    let client = sandbox.hockeystack_client().unwrap();
    let text = |name: &str| arguments[name].as_str().unwrap_or_default().to_owned();
    let reply = match job {
        "ask_agent" => {
            let delivery = match arguments["delivery"].as_str() {
                Some("job") => Delivery::Job,
                _ => Delivery::Stream,
            };
            client
                .ask_deal(DEAL, text("question"))
                .delivery(delivery)
                .await
        }
        "ensure_agent" => {
            return match client.ensure_deal_agent(DEAL).await {
                Ok(agent) => Outcome::Answer {
                    text: agent.status.to_string(),
                    job: Some(false),
                },
                Err(error) => Outcome::Failed(kind_of(&error)),
            };
        }
        _ => client
            .wait_for_deal_job(DEAL, text("cid"), text("jobId"))
            .await
            .map(|messages| Reply {
                conversation_id: text("cid"),
                job_id: Some(text("jobId")),
                messages,
            }),
    };
    match reply {
        Ok(reply) => Outcome::Answer {
            text: reply.text(),
            job: Some(reply.job_id.is_some()),
        },
        Err(error) => Outcome::Failed(kind_of(&error)),
    }
}

async fn run(door: Door, job: &str, arguments: &Value, sandbox: &Sandbox) -> Outcome {
    match door {
        Door::Library => library(job, arguments, sandbox).await,
        Door::ToolJson | Door::ToolText => {
            let mut args = command_line(job, arguments);
            let as_text = matches!(door, Door::ToolText) && job == "ask_agent";
            if job == "ask_agent" && !as_text {
                args.insert(3, "--json".to_owned());
            }
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents"))
                .args(&args)
                .env_clear()
                .envs(environment(sandbox))
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .unwrap();
            let stdout = String::from_utf8(output.stdout).unwrap();
            let stderr = String::from_utf8(output.stderr).unwrap();
            if !output.status.success() {
                let error: Value =
                    serde_json::from_str(&stderr).unwrap_or_else(|e| panic!("{e}: {stderr}"));
                return from_json(&error);
            }
            if !as_text {
                return from_json(&serde_json::from_str(&stdout).unwrap());
            }
            // The text as printed, which does not show whether a job answered.
            Outcome::Answer {
                text: stdout.trim_end_matches('\n').to_owned(),
                job: None,
            }
        }
        Door::Mcp => {
            let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-mcp"))
                .env_clear()
                .envs(environment(sandbox))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
            let client = ().serve(transport).await.expect("the server initializes");
            let result = client
                .call_tool(
                    CallToolRequestParams::new(format!("hockeystack_{job}"))
                        .with_arguments(arguments.as_object().cloned().unwrap()),
                )
                .await
                .expect("the call is answered");
            from_json(result.structured_content.as_ref().unwrap())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_door_gives_the_same_answer_and_the_same_writes() {
    let scenarios = scenarios();
    let runs = scenarios.iter().flat_map(|scenario| {
        DOORS
            .iter()
            .map(move |door| async move { (scenario, *door, through(*door, scenario).await) })
    });
    let results = join_all(runs).await;
    let mut table = String::new();
    for scenario in &scenarios {
        let of_scenario: Vec<_> = results
            .iter()
            .filter(|(s, _, _)| s.name == scenario.name)
            .collect();
        let (_, _, (first_outcome, first_writes)) = of_scenario[0];
        for (_, door, (outcome, writes)) in &of_scenario {
            table.push_str(&format!("{} | {door:?} | {outcome:?}\n", scenario.name));
            match (&scenario.expected, outcome) {
                (Ok(job), Outcome::Answer { text, job: given }) => {
                    assert!(!text.is_empty(), "{}: {door:?} gave no text", scenario.name);
                    assert!(
                        given.is_none_or(|g| g == *job),
                        "{}: {door:?} job id",
                        scenario.name
                    );
                }
                (Err(kind), Outcome::Failed(failed)) => {
                    assert_eq!(failed, kind, "{}: {door:?}", scenario.name)
                }
                (expected, other) => panic!(
                    "{}: {door:?} gave {other:?}, expected {expected:?}",
                    scenario.name
                ),
            }
            assert!(
                outcome.agrees_with(first_outcome),
                "{}: {door:?} answers {outcome:?}, the library {first_outcome:?}",
                scenario.name
            );
            assert_eq!(
                writes, first_writes,
                "{}: {door:?} wrote otherwise than the library",
                scenario.name
            );
            let posts = writes
                .iter()
                .filter(|w| w.starts_with("POST") && w.contains("/messages"))
                .count();
            assert_eq!(
                posts, scenario.posts,
                "{}: {door:?} {writes:?}",
                scenario.name
            );
        }
    }
    eprintln!("{table}");
}
