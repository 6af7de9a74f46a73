//! The command-line tool as a user runs it: the binary as a process, against a sandbox this
//! test starts (its base URLs and credentials in the child's environment, nothing else of
//! the test's environment passed on).
#![cfg(feature = "cli")]

mod common;

use std::{process::Stdio, time::Duration};

use revenue_agents::sandbox::{Sandbox, SandboxConfig, SeedSizes};
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::Command,
};

const BIN: &str = env!("CARGO_BIN_EXE_revenue-agents");

/// What one run printed and how it ended.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", self.stdout))
    }

    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// A sandbox and the environment that points the tool at it.
struct Shell {
    sandbox: Sandbox,
}

impl Shell {
    async fn start() -> Self {
        Self::with(quick()).await
    }

    async fn with(config: SandboxConfig) -> Self {
        Self {
            sandbox: Sandbox::start(config).await.unwrap(),
        }
    }

    /// The variables that point the tool at the sandbox, as a user would set them.
    fn environment(&self) -> [(&'static str, String); 4] {
        [
            (
                "HOCKEYSTACK_API_TOKEN",
                self.sandbox.hockeystack_token().to_owned(),
            ),
            ("HOCKEYSTACK_BASE_URL", self.sandbox.hockeystack_url()),
            ("HYPERREP_API_KEY", self.sandbox.hyperrep_key().to_owned()),
            ("HYPERREP_BASE_URL", self.sandbox.hyperrep_url()),
        ]
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .envs(self.environment())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args).output().await.unwrap())
    }

    async fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).await.unwrap();
        drop(stdin);
        finish(child.wait_with_output().await.unwrap())
    }

    /// The seeded HyperRep organization's id, read through the tool.
    async fn organization(&self) -> String {
        let run = self.run(&["hyperrep", "organizations", "list"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["data"][0]["organization_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// A run with an empty environment: no credential, no base URL.
async fn bare(args: &[&str]) -> Run {
    finish(
        Command::new(BIN)
            .args(args)
            .env_clear()
            .output()
            .await
            .unwrap(),
    )
}

/// A sandbox whose agents and jobs are ready in a moment.
fn quick() -> SandboxConfig {
    SandboxConfig {
        provisioning_time: Duration::from_millis(200),
        job_time: Duration::from_millis(100),
        stream_chunk_delay: Duration::from_millis(1),
        ..SandboxConfig::default()
    }
}

fn finish(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_of_every_hockeystack_toolset_answers_from_the_api() {
    let shell = Shell::start().await;
    let me = shell.run(&["hockeystack", "service", "me"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert!(me.json().is_object());

    let agent = shell
        .run(&["hockeystack", "agents", "ensure", "--deal-id", "9001234567"])
        .await;
    assert_eq!(agent.code, 0, "{}", agent.stderr);
    assert_eq!(agent.json()["status"], "active");

    let opened = shell
        .run(&[
            "hockeystack",
            "conversations",
            "create-deal",
            "--deal-id",
            "9001234567",
        ])
        .await;
    assert_eq!(opened.code, 0, "{}", opened.stderr);
    assert!(
        opened.json()["conversation_id"].is_string(),
        "{}",
        opened.stdout
    );

    let created = shell
        .run(&[
            "hockeystack",
            "tasks",
            "create",
            "--task-type",
            "call",
            "--task-title",
            "Call the champion",
            "--assignee-id",
            "usr_1",
            "--targets",
            r#"{"deal_id": "9001234567"}"#,
        ])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let task_id = created.json()["task_id"].as_str().unwrap().to_owned();
    let got = shell
        .run(&["hockeystack", "tasks", "get", "--task-id", &task_id])
        .await;
    assert_eq!(got.json()["task_title"], "Call the champion");

    let balance = shell.run(&["hockeystack", "credits", "balance"]).await;
    assert_eq!(balance.code, 0, "{}", balance.stderr);
    assert!(balance.json().is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_of_every_hyperrep_toolset_answers_from_the_api() {
    let shell = Shell::start().await;
    let org = shell.organization().await;
    let o = ["--organization-id", org.as_str()];
    let agents = shell
        .run(&[&["hyperrep", "agents", "list"][..], &o].concat())
        .await;
    assert_eq!(agents.code, 0, "{}", agents.stderr);
    let agent = agents.json()["data"][0]["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conversations = shell
        .run(
            &[
                &["hyperrep", "conversations", "list", "--limit", "2"][..],
                &o,
            ]
            .concat(),
        )
        .await;
    assert_eq!(conversations.json()["data"].as_array().unwrap().len(), 2);
    let conversation = conversations.json()["data"][0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (group, verb, extra) in [
        ("contacts", "list", vec![]),
        ("companies", "list", vec![]),
        ("sales", "list", vec![]),
        (
            "drafts",
            "list-response",
            vec!["--conversation-id", conversation.as_str()],
        ),
        (
            "analytics",
            "get-agent",
            vec![
                "--agent-id",
                agent.as_str(),
                "--start-date",
                "2026-01-01T00:00:00Z",
                "--end-date",
                "2026-12-01T00:00:00Z",
            ],
        ),
    ] {
        let run = shell
            .run(&[&["hyperrep", group, verb][..], &o, &extra].concat())
            .await;
        assert_eq!(run.code, 0, "hyperrep {group} {verb}: {}", run.stderr);
        assert!(
            run.json().is_object(),
            "hyperrep {group} {verb}: {}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_streams_every_item_once_a_line_across_pages() {
    let shell = Shell::start().await;
    let org = shell.organization().await;
    let all = shell
        .run(&[
            "hyperrep",
            "contacts",
            "list",
            "--organization-id",
            &org,
            "--limit",
            "7",
            "--all",
        ])
        .await;
    assert_eq!(all.code, 0, "{}", all.stderr);
    let items = all.lines();
    // The default seed has 200 contacts, in pages of 7.
    assert_eq!(items.len(), 200);
    let mut ids: Vec<&str> = items
        .iter()
        .map(|i| i["contact_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "an item came twice");

    let some = shell
        .run(&[
            "hyperrep",
            "contacts",
            "list",
            "--organization-id",
            &org,
            "--max-items",
            "12",
        ])
        .await;
    assert_eq!(some.lines().len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_cut_by_head_ends_quietly_and_stops_fetching() {
    let shell = Shell::with(SandboxConfig {
        seed: SeedSizes {
            contacts: 5_000,
            ..SeedSizes::default()
        },
        ..quick()
    })
    .await;
    let org = shell.organization().await;
    shell.sandbox.clear_requests();
    let pipeline = format!(
        "set -o pipefail; \"$0\" hyperrep contacts list --organization-id {org} --limit 10 --all | head -n 3"
    );
    let run = finish(
        Command::new("bash")
            .args(["-c", &pipeline, BIN])
            .env_clear()
            .envs(shell.environment())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(run.code, 0, "the tool failed: {}", run.stderr);
    assert_eq!(run.stderr, "", "a closed pipe is not an error");
    assert_eq!(run.lines().len(), 3);
    let pages = shell
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/contacts"))
        .count();
    // 500 pages exist; the tool stops at the first write after `head` leaves (the pipe's
    // buffer holds a few dozen pages).
    assert!(pages < 100, "{pages} pages fetched after the reader left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_streams_the_reply_and_names_the_conversation() {
    let shell = Shell::start().await;
    let mut child = shell
        .command(&[
            "hockeystack",
            "ask",
            "--deal-id",
            "9001234567",
            "What is blocking this deal?",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut answer = String::new();
    stdout.read_line(&mut answer).await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    assert!(answer.contains("What is blocking this deal"), "{answer}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--cid conv_"), "{stderr}");
    // The reply came as an event stream, not by polling a job.
    let requests = shell.sandbox.requests();
    assert!(!requests.iter().any(|r| r.path.contains("/jobs/")));
    assert!(
        requests
            .iter()
            .any(|r| r.path.ends_with("/messages") && r.body.contains("\"stream\":true"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_without_streaming_waits_for_the_job_and_can_answer_json() {
    let shell = Shell::start().await;
    let run = shell
        .run(&[
            "hockeystack",
            "ask",
            "--company-id",
            "c1",
            "--no-stream",
            "--json",
            "Any news?",
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer = run.json();
    assert!(answer["answer"].as_str().unwrap().contains("Any news"));
    assert_eq!(answer["companyId"], "c1");
    let cid = answer["cid"].as_str().unwrap().to_owned();
    let job = answer["jobId"].as_str().unwrap().to_owned();
    let waited = shell
        .run(&[
            "hockeystack",
            "jobs",
            "wait",
            "--company-id",
            "c1",
            "--cid",
            &cid,
            "--job-id",
            &job,
        ])
        .await;
    assert_eq!(waited.code, 0, "{}", waited.stderr);
    assert!(!waited.json()["messages"].as_array().unwrap().is_empty());
    // The conversation and the job as words of their own, as an operation's ids may be.
    let by_words = shell
        .run(&[
            "hockeystack",
            "jobs",
            "wait",
            "--company-id",
            "c1",
            &cid,
            &job,
        ])
        .await;
    assert_eq!(by_words.code, 0, "{}", by_words.stderr);
    assert_eq!(by_words.json(), waited.json());
    let missing = shell
        .run(&["hockeystack", "jobs", "wait", "--company-id", "c1", &cid])
        .await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("job-id"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_and_bad_values_are_refused_before_anything_is_sent() {
    let shell = Shell::start().await;
    let unknown = shell
        .run(&["hockeystack", "tasks", "list", "--limitt", "5"])
        .await;
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("--limitt"), "{}", unknown.stderr);

    let out_of_bounds = shell
        .run(&["hockeystack", "tasks", "list", "--limit", "500"])
        .await;
    assert_eq!(out_of_bounds.code, 2);
    assert!(
        out_of_bounds.stderr.contains("--limit"),
        "{}",
        out_of_bounds.stderr
    );
    let not_a_number = shell
        .run(&["hockeystack", "tasks", "list", "--limit", "ten"])
        .await;
    assert_eq!(not_a_number.code, 2);
    assert!(
        not_a_number.stderr.contains("not an integer"),
        "{}",
        not_a_number.stderr
    );
    let not_listed = shell
        .run(&[
            "hockeystack",
            "tasks",
            "update",
            "--task-id",
            "3c90c3cc-0d44-4b50-8888-000000000001",
            "--status",
            "done",
        ])
        .await;
    assert_eq!(not_listed.code, 2);
    assert!(
        not_listed.stderr.contains("completed"),
        "the values are named: {}",
        not_listed.stderr
    );
    let missing_body_member = shell
        .run(&["hockeystack", "tasks", "create", "--task-type", "call"])
        .await;
    assert_eq!(missing_body_member.code, 2);
    assert!(
        missing_body_member
            .stderr
            .contains("--task-title: is required"),
        "{}",
        missing_body_member.stderr
    );

    let as_json = shell
        .run(&[
            "--json-errors",
            "hockeystack",
            "tasks",
            "list",
            "--limit",
            "0",
        ])
        .await;
    let error: Value = serde_json::from_str(as_json.stderr.trim()).unwrap();
    assert_eq!(error["error"]["exit_code"], 2);
    assert!(
        shell
            .sandbox
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/tasks")),
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_have_their_own_exit_codes() {
    let shell = Shell::start().await;
    let missing = shell
        .run(&[
            "hockeystack",
            "tasks",
            "get",
            "--task-id",
            "3c90c3cc-0d44-4b50-8888-0000000000ff",
        ])
        .await;
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    let refused = shell
        .command(&["hockeystack", "tasks", "list"])
        .env("HOCKEYSTACK_API_TOKEN", "hsr_live_wrong")
        .output()
        .await
        .unwrap();
    assert_eq!(finish(refused).code, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_credential_is_named_and_no_secret_is_printed() {
    let shell = Shell::start().await;
    let run = finish(
        shell
            .command(&["hockeystack", "tasks", "list"])
            .env_remove("HOCKEYSTACK_API_TOKEN")
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("HOCKEYSTACK_API_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--sandbox"), "{}", run.stderr);
    assert!(!run.stderr.contains(shell.sandbox.hyperrep_key()));

    // A public operation needs none.
    let health = finish(
        shell
            .command(&["hockeystack", "service", "health"])
            .env_remove("HOCKEYSTACK_API_TOKEN")
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(health.code, 0, "{}", health.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_comes_whole_from_standard_input_and_flags_override_it() {
    let shell = Shell::start().await;
    let body = r#"{"task_type": "email", "task_title": "From a file", "assignee_id": "usr_2",
                   "targets": {"deal_id": "9001234567"}}"#;
    let run = shell
        .run_with_input(
            &[
                "hockeystack",
                "tasks",
                "create",
                "--body-file",
                "-",
                "--task-title",
                "From a flag",
            ],
            body,
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["task_title"], "From a flag");
    assert_eq!(run.json()["task_type"], "email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_mode_reaches_any_path_and_names_the_closest_when_none_matches() {
    let shell = Shell::start().await;
    let paged = shell
        .run(&[
            "api",
            "hockeystack",
            "GET",
            "/tasks",
            "--field",
            "limit=1",
            "--paginate",
        ])
        .await;
    assert_eq!(paged.code, 0, "{}", paged.stderr);
    assert!(paged.lines().len() >= 3, "every seeded task, one a page");
    let one = shell
        .run(&[
            "api",
            "hockeystack",
            "GET",
            "/tasks/3c90c3cc-0d44-4b50-8888-000000000001",
        ])
        .await;
    assert_eq!(
        one.json()["task_id"],
        "3c90c3cc-0d44-4b50-8888-000000000001"
    );
    let unknown = shell.run(&["api", "hockeystack", "GET", "/task"]).await;
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("GET /tasks"), "{}", unknown.stderr);
    let bad_value = shell
        .run(&["api", "hockeystack", "GET", "/tasks?limit=0"])
        .await;
    assert_eq!(bad_value.code, 2, "{}", bad_value.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_flag_needs_no_environment() {
    let run = bare(&["--sandbox", "hockeystack", "tasks", "list", "--limit", "1"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["tasks"].as_array().unwrap().len(), 1);
    // The sandbox ends with the command, so no conversation is offered to continue.
    let asked = bare(&[
        "--sandbox",
        "hockeystack",
        "ask",
        "--deal-id",
        "9001234567",
        "Any risk?",
    ])
    .await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    assert!(asked.stdout.contains("Any risk"), "{}", asked.stdout);
    assert!(!asked.stderr.contains("--cid"), "{}", asked.stderr);
}

#[tokio::test]
async fn help_of_a_generated_command_carries_the_spec() {
    let run = bare(&["hockeystack", "tasks", "update", "--help"]).await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("PATCH /tasks/{taskId}"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--dismiss-reason"));
    assert!(
        run.stdout.contains("completed, dismissed, cancelled"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("at most 2000 characters"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn completions_and_the_man_page_are_generated_from_the_same_tree() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef revenue-agents"),
        ("fish", "complete -c revenue-agents"),
    ] {
        let run = bare(&["completions", shell]).await;
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains(marker), "{shell}");
        assert!(
            run.stdout.contains("tasks"),
            "{shell}: the generated commands are in it"
        );
        // clap_complete's fish script completes two levels of subcommands, not the flags of
        // the third.
        if shell != "fish" {
            assert!(
                run.stdout.contains("task-title"),
                "{shell}: the generated flags are in it"
            );
        }
    }
    let man = bare(&["man"]).await;
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH revenue-agents"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_wait_with_its_own_exit_code() {
    // A company whose agent does not finish provisioning within the test.
    let slow = Shell::with(SandboxConfig {
        provisioning_time: Duration::from_secs(600),
        ..quick()
    })
    .await;
    let child = slow
        .command(&["hockeystack", "agents", "ensure", "--company-id", "slow-1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the provisioning request has reached the sandbox, then interrupt.
    for _ in 0..200 {
        if slow.sandbox.requests().iter().any(|r| r.method == "PUT") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let pid = libc::pid_t::try_from(child.id().unwrap()).unwrap();
    // SAFETY: kill(2) with a live child's pid and a signal number reads no memory of ours.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0, "{}", std::io::Error::last_os_error());
    let run = finish(child.wait_with_output().await.unwrap());
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
}

#[tokio::test]
async fn version_names_the_crate_release() {
    let run = bare(&["--version"]).await;
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.trim(),
        format!("revenue-agents {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Every exit code of the table, each from a failure of its kind, against the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_failure_exits_with_its_own_code() {
    use revenue_agents::sandbox::{Fault, FaultRule};
    let shell = Shell::start().await;
    let json_error = |run: &Run| -> Value {
        serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{e}: {}", run.stderr))
    };
    let no_retries = |args: &[&str]| {
        let mut command = shell.command(args);
        command.env("REVENUE_AGENTS_MAX_RETRIES", "0");
        command
    };

    // 1: standard output cannot be written (a full disk).
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let child = shell
        .command(&["hockeystack", "tasks", "list"])
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = finish(child.wait_with_output().await.unwrap());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write standard output"),
        "{}",
        run.stderr
    );

    // 6: the API refused the request (a cursor it did not give).
    let run = shell
        .run(&[
            "--json-errors",
            "hockeystack",
            "tasks",
            "list",
            "--cursor",
            "forged",
        ])
        .await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert_eq!(json_error(&run)["error"]["status"], 400);

    // 7: rate limited, no retry left.
    shell.sandbox.inject(
        FaultRule::new(Fault::RateLimited {
            retry_after_secs: 30,
        })
        .times(1),
    );
    let run = finish(
        no_retries(&["--json-errors", "hockeystack", "tasks", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert_eq!(json_error(&run)["error"]["retry_after_seconds"], 30.0);

    // 8: the API failed.
    shell
        .sandbox
        .inject(FaultRule::new(Fault::ServerError { status: 500 }).times(1));
    let run = finish(
        no_retries(&["--json-errors", "hockeystack", "tasks", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(run.code, 8, "{}", run.stderr);

    // 9: no connection.
    let closed = common::closed_port();
    let run = finish(
        no_retries(&["--json-errors", "hockeystack", "tasks", "list"])
            .env(
                "HOCKEYSTACK_BASE_URL",
                format!("http://127.0.0.1:{}/api/revenue-agents/v1", closed.port),
            )
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(run.code, 9, "{}", run.stderr);
    assert_eq!(json_error(&run)["error"]["kind"], "transport");

    // 10: a wait ended without success (the job failed).
    let run = shell
        .run(&[
            "--json-errors",
            "hockeystack",
            "ask",
            "--deal-id",
            "9001234567",
            "--delivery",
            "job",
            "Summarize #fail",
        ])
        .await;
    assert_eq!(run.code, 10, "{}", run.stderr);
    assert_eq!(json_error(&run)["error"]["kind"], "job_failed");
}

/// What bash's own completion machinery offers for a command line: the generated script
/// sourced, the words set as a shell sets them, the completion function called.
async fn bash_completes(script: &str, words: &[&str]) -> Vec<String> {
    let dir =
        std::env::temp_dir().join(format!("revenue-agents-completion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("complete.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD=$((${{#COMP_WORDS[@]}}-1))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         _revenue__agents revenue-agents \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" ")
    );
    let output = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bash_completes_verbs_flags_and_values_past_the_first_word() {
    let script = bare(&["completions", "bash"]).await.stdout;
    let offered = bash_completes(&script, &["revenue-agents", "hockeystack", "ta"]).await;
    assert_eq!(offered, ["tasks"]);
    let offered = bash_completes(&script, &["revenue-agents", "hockeystack", "tasks", "li"]).await;
    assert!(offered.contains(&"list".to_owned()), "{offered:?}");
    let offered = bash_completes(
        &script,
        &["revenue-agents", "hockeystack", "tasks", "list", "--li"],
    )
    .await;
    assert_eq!(offered, ["--limit"]);
    let offered = bash_completes(
        &script,
        &[
            "revenue-agents",
            "hockeystack",
            "tasks",
            "create",
            "--task-type",
            "",
        ],
    )
    .await;
    assert_eq!(offered, ["call", "email", "linkedin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_man_page_another_names_is_written() {
    let parent = std::env::temp_dir().join(format!("revenue-agents-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    // A directory that does not exist yet is made, as `~/.local/share/man/man1` may not be.
    let dir = parent.join("share/man/man1");
    let run = bare(&["man", "--dir", dir.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(pages.contains(&"revenue-agents-hockeystack-tasks-list.1".to_owned()));
    let mut named = 0;
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        // Every page says which version it documents, in its title line.
        let title = text
            .lines()
            .find(|l| l.starts_with(".TH"))
            .unwrap_or_default();
        assert!(title.contains(env!("CARGO_PKG_VERSION")), "{page}: {title}");
        for line in text.lines() {
            // A page names another as `revenue\-agents\-hockeystack(1)`.
            if let Some(name) = line
                .strip_suffix("(1)")
                .filter(|l| l.starts_with("revenue\\-agents"))
            {
                named += 1;
                let file = format!("{}.1", name.replace("\\-", "-"));
                assert!(
                    pages.contains(&file),
                    "{page} names {file}, which is not written"
                );
            }
        }
    }
    assert!(named > 50, "{named} references");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_words_values_are_listed_and_one_verb_scheme_holds() {
    let shell = Shell::start().await;
    // An id in the path as a word of its own, in the path's order.
    let task = "3c90c3cc-0d44-4b50-8888-000000000001";
    let by_word = shell.run(&["hockeystack", "tasks", "get", task]).await;
    assert_eq!(by_word.code, 0, "{}", by_word.stderr);
    assert_eq!(by_word.json()["task_id"], task);
    let by_flag = shell
        .run(&["hockeystack", "tasks", "get", "--task-id", task])
        .await;
    assert_eq!(by_flag.json(), by_word.json());
    let both = shell
        .run(&["hockeystack", "tasks", "get", task, "--task-id", task])
        .await;
    assert_eq!(both.code, 2, "one way, not both");

    // A malformed id says what it must be, not its pattern.
    let wrong = shell.run(&["hockeystack", "tasks", "get", "nope"]).await;
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("must be a UUID"), "{}", wrong.stderr);
    assert!(!wrong.stderr.contains("[0-9a-fA-F]"), "{}", wrong.stderr);

    // The values an open set knows today are in the help, and others are not refused.
    let help = bare(&["hockeystack", "tasks", "create", "--help"])
        .await
        .stdout;
    assert!(
        help.contains("known values: urgent, high, medium, low"),
        "{help}"
    );

    // The same verb for the same act, whatever the tag; the old name still answers.
    let companies = bare(&["hyperrep", "companies", "--help"]).await.stdout;
    let contacts = bare(&["hyperrep", "contacts", "--help"]).await.stdout;
    for verb in ["list ", "create ", "get "] {
        assert!(companies.contains(&format!("  {verb}")), "{companies}");
        assert!(contacts.contains(&format!("  {verb}")), "{contacts}");
    }
    let old = bare(&["hyperrep", "companies", "get-company", "--help"]).await;
    assert_eq!(old.code, 0);

    // With the organization from the environment, one word is the contact, not the
    // organization.
    let shell = Shell::start().await;
    let org = shell.organization().await;
    let listed = shell
        .run(&[
            "hyperrep",
            "contacts",
            "list",
            "--organization-id",
            &org,
            "--limit",
            "1",
        ])
        .await;
    let contact = listed.json()["data"][0]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = finish(
        shell
            .command(&["hyperrep", "contacts", "get", &contact])
            .env("HYPERREP_ORGANIZATION_ID", &org)
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert_eq!(got.json()["contact_id"], contact.as_str());

    // Where a value left out comes from, for the organization named once.
    let sales = bare(&["hyperrep", "sales", "list", "--help"]).await.stdout;
    assert!(
        sales
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("from HYPERREP_ORGANIZATION_ID or the profile's hyperrep_organization_id"),
        "{sales}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_where_and_what_to_do_next() {
    let shell = Shell::start().await;
    // No server: the URL tried, and how to start one.
    let closed = common::closed_port();
    let refused = finish(
        shell
            .command(&["hockeystack", "tasks", "list"])
            .env("REVENUE_AGENTS_MAX_RETRIES", "0")
            .env(
                "HOCKEYSTACK_BASE_URL",
                format!("http://127.0.0.1:{}/api/revenue-agents/v1", closed.port),
            )
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(refused.code, 9);
    assert!(
        refused
            .stderr
            .contains(&format!("127.0.0.1:{}", closed.port))
            && refused.stderr.contains("revenue-agents-sandbox")
            && refused.stderr.contains("--sandbox"),
        "{}",
        refused.stderr
    );
    // A base URL without the API's path.
    let bare_base = finish(
        shell
            .command(&["hockeystack", "tasks", "list"])
            .env(
                "HOCKEYSTACK_BASE_URL",
                format!("http://{}", shell.sandbox.addr()),
            )
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(bare_base.code, 5);
    assert!(
        bare_base.stderr.contains("HOCKEYSTACK_BASE_URL")
            && bare_base.stderr.contains("/api/revenue-agents/v1"),
        "{}",
        bare_base.stderr
    );
    // One API's base URL given for the other: refused in words that are not its own.
    let crossed = finish(
        shell
            .command(&["hyperrep", "organizations", "list"])
            .env("HYPERREP_BASE_URL", shell.sandbox.hockeystack_url())
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(crossed.code, 4, "{}", crossed.stderr);
    assert!(
        crossed
            .stderr
            .contains("does HYPERREP_BASE_URL point at HyperRep"),
        "{}",
        crossed.stderr
    );
    // The raw mode takes a path copied whole from the documentation.
    let raw = shell
        .run(&[
            "api",
            "hockeystack",
            "GET",
            "/api/revenue-agents/v1/tasks?limit=1",
        ])
        .await;
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    assert_eq!(raw.json()["tasks"].as_array().unwrap().len(), 1);
    // A job that is not there: mistyped, or past its window.
    let wait = shell
        .run(&[
            "hockeystack",
            "jobs",
            "wait",
            "--deal-id",
            "9001234567",
            "--cid",
            "conv_x",
            "--job-id",
            "job_1",
        ])
        .await;
    assert_eq!(wait.code, 10);
    assert!(
        wait.stderr.contains("one of its ids is wrong"),
        "{}",
        wait.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_as_json_lines_tables_chosen_fields_or_a_jq_filter_in_the_server_s_key_order() {
    let shell = Shell::start().await;
    // One page, with its keys in the server's order (`tasks` before `next_cursor`, as it is
    // sent, not sorted).
    let page = shell
        .run(&["hockeystack", "tasks", "list", "--limit", "2"])
        .await;
    let first_key = page.stdout.split('"').nth(1).unwrap();
    assert_eq!(first_key, "tasks", "{}", page.stdout);
    let task = shell
        .run(&[
            "hockeystack",
            "tasks",
            "get",
            "3c90c3cc-0d44-4b50-8888-000000000001",
        ])
        .await;
    assert!(task.stdout.starts_with(r#"{"task_id":"#), "{}", task.stdout);

    // A table of chosen fields, across every page.
    let table = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--all",
            "--output",
            "table",
            "--fields",
            "task_id,status,targets.deal_id",
        ])
        .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["TASK_ID", "STATUS", "TARGETS.DEAL_ID"]
    );
    assert!(
        lines.len() > 2 && lines[1].contains("pending"),
        "{}",
        table.stdout
    );

    // A field the spec does not name is refused before anything is sent, with the ones it does
    // (a typo would otherwise be a column of nulls).
    let sent = shell.sandbox.requests().len();
    let typo = shell
        .run(&["hockeystack", "tasks", "list", "--fields", "task_id,stauts"])
        .await;
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("`stauts`") && typo.stderr.contains("task_title"),
        "{}",
        typo.stderr
    );
    assert_eq!(shell.sandbox.requests().len(), sent, "nothing was sent");

    // JSON lines of one page's items, the cursor to go on on standard error.
    let jsonl = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--limit",
            "2",
            "--output",
            "jsonl",
            "--fields",
            "task_id",
        ])
        .await;
    let records = jsonl.lines();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].as_object().unwrap().len(), 1);
    assert!(jsonl.stderr.contains("--cursor"), "{}", jsonl.stderr);

    // Every page as one JSON array.
    let array = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--max-items",
            "3",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(array.json().as_array().unwrap().len(), 3);

    // A jq filter, with no jq on the machine.
    let ids = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--all",
            "--jq",
            "select(.priority == \"urgent\") | .task_id",
        ])
        .await;
    assert_eq!(ids.code, 0, "{}", ids.stderr);
    assert!(ids.lines().iter().all(Value::is_string) && !ids.lines().is_empty());
    let wrong = shell
        .run(&["hockeystack", "tasks", "list", "--jq", ".tasks["])
        .await;
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("--jq"), "{}", wrong.stderr);
    // -r writes a string as its text, as jq -r does, for a shell variable.
    let raw_ids = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--max-items",
            "2",
            "--jq",
            ".task_id",
            "-r",
        ])
        .await;
    assert_eq!(raw_ids.code, 0, "{}", raw_ids.stderr);
    let lines: Vec<&str> = raw_ids.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", raw_ids.stdout);
    assert!(
        lines.iter().all(|l| !l.starts_with('"') && l.len() == 36),
        "{}",
        raw_ids.stdout
    );

    // The fields are chosen first, then the filter runs on them.
    let both = shell
        .run(&[
            "hockeystack",
            "tasks",
            "list",
            "--all",
            "--fields",
            "status",
            "--jq",
            "{s: .status, p: .priority}",
        ])
        .await;
    assert_eq!(both.code, 0, "{}", both.stderr);
    assert!(
        both.lines()
            .iter()
            .all(|l| l["s"].is_string() && l["p"].is_null()),
        "{}",
        both.stdout
    );
    // A filter that compiles but fails on an answer is no usage error: the call was made.
    let failing = shell
        .run(&["hockeystack", "tasks", "list", "--jq", ".tasks | tonumber"])
        .await;
    assert_eq!(failing.code, 1, "{}", failing.stderr);
    assert!(failing.stderr.contains("--jq failed"), "{}", failing.stderr);

    // --pretty indents each item of a list followed, too.
    let pretty = shell
        .run(&[
            "--pretty",
            "hockeystack",
            "tasks",
            "list",
            "--max-items",
            "1",
        ])
        .await;
    assert!(
        pretty.stdout.starts_with("{\n  \"task_id\""),
        "{}",
        pretty.stdout
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_hold_accounts_and_the_default_organization() {
    use std::os::unix::fs::PermissionsExt;
    let shell = Shell::start().await;
    let organization = shell.organization().await;
    let dir = std::env::temp_dir().join(format!("revenue-agents-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("hyperrep.key");
    std::fs::write(&key_file, format!("{}\n", shell.sandbox.hyperrep_key())).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_profile = \"local\"\n\n\
             [profiles.local]\n\
             hockeystack_base_url = \"{}\"\n\
             hockeystack_token_env = \"LOCAL_TOKEN\"\n\
             hyperrep_base_url = \"{}\"\n\
             hyperrep_key_file = \"{}\"\n\
             hyperrep_organization_id = \"{organization}\"\n\n\
             [profiles.other]\n\
             hyperrep_base_url = \"https://example.invalid\"\n",
            shell.sandbox.hockeystack_url(),
            shell.sandbox.hyperrep_url(),
            key_file.display(),
        ),
    )
    .unwrap();
    let run = |args: &[&str], extra: &[(&str, String)]| {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("REVENUE_AGENTS_CONFIG", &config)
            .env("LOCAL_TOKEN", shell.sandbox.hockeystack_token())
            .envs(extra.iter().map(|(k, v)| (*k, v.clone())))
            .stdin(Stdio::null());
        async move { finish(command.output().await.unwrap()) }
    };

    // The default profile: credentials from a variable and a file, the organization given.
    let sales = run(&["hyperrep", "sales", "list", "--limit", "1"], &[]).await;
    assert_eq!(sales.code, 0, "{}", sales.stderr);
    assert_eq!(sales.json()["data"].as_array().unwrap().len(), 1);
    let me = run(&["hockeystack", "service", "me"], &[]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);

    // Another profile by name; a name the file lacks is refused, naming those it has.
    let unknown = run(&["--profile", "nope", "hyperrep", "sales", "list"], &[]).await;
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("\"local\""), "{}", unknown.stderr);

    // A key file that others may read is refused, never used.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = run(&["hyperrep", "sales", "list"], &[]).await;
    assert_eq!(open.code, 3, "{}", open.stderr);
    assert!(open.stderr.contains("chmod 600"), "{}", open.stderr);
    assert!(!open.stderr.contains(shell.sandbox.hyperrep_key()));
    // It stops only the commands of its own API.
    let other_api = run(&["hockeystack", "service", "me"], &[]).await;
    assert_eq!(other_api.code, 0, "{}", other_api.stderr);

    // A config file named that is not there stops the command, as one that cannot be read.
    let absent = [(
        "REVENUE_AGENTS_CONFIG",
        dir.join("absent.toml").display().to_string(),
    )];
    let gone = run(&["hockeystack", "service", "me"], &absent).await;
    assert_eq!(gone.code, 3, "{}", gone.stderr);
    assert!(gone.stderr.contains("absent.toml"), "{}", gone.stderr);

    // Without a profile, HYPERREP_ORGANIZATION_ID names the organization once.
    std::fs::write(dir.join("empty.toml"), "").unwrap();
    let no_profile = [
        (
            "REVENUE_AGENTS_CONFIG",
            dir.join("empty.toml").display().to_string(),
        ),
        ("HYPERREP_API_KEY", shell.sandbox.hyperrep_key().to_owned()),
        ("HYPERREP_BASE_URL", shell.sandbox.hyperrep_url()),
    ];
    let missing = run(&["hyperrep", "sales", "list"], &no_profile).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("HYPERREP_ORGANIZATION_ID"),
        "{}",
        missing.stderr
    );
    let mut with_default = no_profile.to_vec();
    with_default.push(("HYPERREP_ORGANIZATION_ID", organization.clone()));
    let listed = run(
        &["hyperrep", "sales", "list", "--limit", "1"],
        &with_default,
    )
    .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_says_why_with_verbose_and_keeps_quiet_in_a_pipe_without() {
    use revenue_agents::sandbox::{Fault, FaultRule};
    let shell = Shell::start().await;
    let budget = ("REVENUE_AGENTS_RATE_BUDGET", "read=1,write=1,window=1");
    let list = |verbose: bool| {
        let mut args = vec!["hockeystack", "tasks", "list", "--all", "--limit", "1"];
        if verbose {
            args.insert(0, "--verbose");
        }
        let mut command = shell.command(&args);
        command.env(budget.0, budget.1);
        async move { finish(command.output().await.unwrap()) }
    };
    let told = list(true).await;
    assert_eq!(told.code, 0, "{}", told.stderr);
    assert!(
        told.stderr.contains("rate budget") && told.stderr.contains("REVENUE_AGENTS_RATE_BUDGET"),
        "{}",
        told.stderr
    );
    assert!(
        told.stderr.contains("REVENUE_AGENTS_REDIS_URL"),
        "{}",
        told.stderr
    );
    let quiet = list(false).await;
    assert_eq!(quiet.code, 0);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);

    shell.sandbox.inject(
        FaultRule::new(Fault::RateLimited {
            retry_after_secs: 1,
        })
        .times(1),
    );
    let retried = shell
        .run(&["--verbose", "hockeystack", "tasks", "list"])
        .await;
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert!(
        retried.stderr.contains("429") && retried.stderr.contains("sending again in 1.0 s"),
        "{}",
        retried.stderr
    );
}

/// `script` running `line` on a terminal of its own, with the tool's environment.
fn script(shell: &Shell, line: &str) -> Command {
    let mut command = Command::new("script");
    command
        .args(["-qec", line, "/dev/null"])
        .env_clear()
        .envs(shell.environment())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The command line as `script` runs it on a terminal of its own, fed `input`.
async fn on_a_terminal(shell: &Shell, args: &[&str], input: &str) -> Run {
    let line = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = script(shell, &line).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("answered")
        .unwrap();
    drop(stdin);
    finish(output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_asks_first_and_a_script_needs_yes() {
    let shell = Shell::start().await;
    let deletes = || {
        shell
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    };
    let delete = ["hockeystack", "agents", "delete-deal", "5550001"];

    let scripted = shell.run(&delete).await;
    assert_eq!(scripted.code, 2, "{}", scripted.stderr);
    assert!(
        scripted.stderr.contains("--yes") && scripted.stderr.contains("deletes data"),
        "{}",
        scripted.stderr
    );
    assert_eq!(deletes(), 0, "nothing sent without --yes");

    let answered_no = on_a_terminal(&shell, &delete, "n\n").await;
    assert_eq!(answered_no.code, 2, "{}", answered_no.stdout);
    assert!(
        answered_no.stdout.contains("Go ahead? [y/N]"),
        "the question is asked: {}",
        answered_no.stdout
    );
    assert_eq!(deletes(), 0, "nothing sent on a no");

    assert!(
        answered_no
            .stdout
            .contains("not sent: no confirmation to remove the deal agent"),
        "{}",
        answered_no.stdout
    );
    let answered_yes = on_a_terminal(&shell, &delete, "y\n").await;
    assert_eq!(answered_yes.code, 0, "{}", answered_yes.stdout);
    assert_eq!(deletes(), 1, "sent on a yes");
    assert!(
        answered_yes.stdout.contains("done: remove the deal agent"),
        "a deletion on a terminal says it was done: {}",
        answered_yes.stdout
    );

    let with_yes = shell.run(&[&delete[..], &["--yes"]].concat()).await;
    assert_eq!(with_yes.code, 0, "{}", with_yes.stderr);
    assert_eq!(deletes(), 2);

    // Commands that delete nothing take no --yes and ask nothing.
    let listed = shell.run(&["hockeystack", "tasks", "list", "--yes"]).await;
    assert_eq!(listed.code, 2, "{}", listed.stderr);
    let listed = shell.run(&["hockeystack", "tasks", "list"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_said_while_the_spinner_turns_gets_a_line_of_its_own() {
    use revenue_agents::sandbox::{Fault, FaultRule};
    use tokio::io::AsyncReadExt;
    let shell = Shell::start().await;
    let line = format!("'{BIN}' hockeystack agents ensure --deal-id 8800001");
    let mut child = script(&shell, &line).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut shown = Vec::new();
    let mut chunk = [0u8; 4096];
    // Once the spinner shows the provisioning, its next check is refused once with a
    // Retry-After, and the retry is said while the spinner turns.
    let mut injected = false;
    loop {
        let read = tokio::time::timeout(Duration::from_secs(60), stdout.read(&mut chunk))
            .await
            .expect("the tool answers")
            .unwrap();
        if read == 0 {
            break;
        }
        shown.extend_from_slice(&chunk[..read]);
        if !injected && String::from_utf8_lossy(&shown).contains("provisioning") {
            shell.sandbox.inject(
                FaultRule::new(Fault::RateLimited {
                    retry_after_secs: 1,
                })
                .method("GET")
                .times(1),
            );
            injected = true;
        }
    }
    assert!(child.wait().await.unwrap().success());
    let shown = String::from_utf8_lossy(&shown);
    assert!(injected, "the spinner showed: {shown:?}");
    let said = shown
        .split('\n')
        .find(|line| line.contains("sending again in"))
        .unwrap_or_else(|| panic!("the retry is said: {shown:?}"))
        .trim_end_matches('\r');
    // What the terminal shows of that line: the text after the last carriage return or
    // erase-line sequence the spinner drew.
    let visible = said
        .rsplit('\r')
        .next()
        .unwrap_or(said)
        .rsplit("\u{1b}[2K")
        .next()
        .unwrap_or(said);
    assert!(
        visible.starts_with("revenue-agents: "),
        "the spinner shares the line: {said:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_that_are_not_date_times_or_out_of_order_are_refused_before_sending() {
    let shell = Shell::start().await;
    let org = shell.organization().await;
    let sales = |start: &'static str, end: &'static str| {
        let org = org.clone();
        let shell = &shell;
        async move {
            shell
                .run(&[
                    "hyperrep",
                    "sales",
                    "list",
                    "--organization-id",
                    &org,
                    "--start-date",
                    start,
                    "--end-date",
                    end,
                    "--all",
                ])
                .await
        }
    };
    let sent_before = shell.sandbox.requests().len();
    let word = sales("yesterday", "2026-11-01T00:00:00Z").await;
    assert_eq!(word.code, 2, "{}", word.stderr);
    assert!(word.stderr.contains("--start-date"), "{}", word.stderr);
    assert!(
        word.stderr.contains("2026-04-01T00:00:00Z"),
        "{}",
        word.stderr
    );
    let date_only = sales("2026-10-01", "2026-11-01").await;
    assert_eq!(date_only.code, 2, "{}", date_only.stderr);
    let reversed = sales("2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z").await;
    assert_eq!(reversed.code, 2, "{}", reversed.stderr);
    assert!(
        reversed.stderr.contains("start_date"),
        "{}",
        reversed.stderr
    );
    let due = shell
        .run(&[
            "hockeystack",
            "tasks",
            "create",
            "--task-type",
            "call",
            "--task-title",
            "Call back",
            "--assignee-id",
            "usr_1",
            "--targets",
            r#"{"deal_id": "9001234567"}"#,
            "--due-date",
            "tomorrow",
        ])
        .await;
    assert_eq!(due.code, 2, "{}", due.stderr);
    assert!(due.stderr.contains("--due-date"), "{}", due.stderr);
    assert_eq!(
        shell.sandbox.requests().len(),
        sent_before,
        "nothing reached the sandbox"
    );
    // The same window in order is taken.
    let ordered = sales("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z").await;
    assert_eq!(ordered.code, 0, "{}", ordered.stderr);
}
