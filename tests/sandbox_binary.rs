//! `revenue-agents-sandbox` as a user runs it: the lines it prints point a client at it, its
//! state survives a restart with `--state`, `--log` prints a line a request, and a state file
//! it cannot use stops it without being touched.
#![cfg(all(feature = "sandbox", unix))]

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::{Value, json};

const SANDBOX: &str = env!("CARGO_BIN_EXE_revenue-agents-sandbox");

/// A running sandbox program: the variables its start lines export, and its log lines.
struct Running {
    child: Child,
    exported: BTreeMap<String, String>,
    log: mpsc::Receiver<String>,
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(SANDBOX)
        .args(["--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exported = BTreeMap::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the sandbox stopped before it was ready"
        );
        if let Some(assignment) = line.trim().strip_prefix("export ") {
            let (name, value) = assignment.split_once('=').unwrap();
            exported.insert(name.to_owned(), value.to_owned());
        }
        if line.starts_with("# Ctrl-C") {
            break;
        }
    }
    // Keep reading, so that the program never blocks on a full pipe.
    std::thread::spawn(move || for _ in stdout.lines() {});
    let (send, log) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    Running {
        child,
        exported,
        log,
    }
}

impl Running {
    /// Ctrl-C, and its exit code.
    fn interrupt(self) -> Option<i32> {
        self.signal(libc::SIGINT).0
    }

    /// A signal, the exit code it ends the program with, and what it wrote on stderr.
    fn signal(mut self, signal: i32) -> (Option<i32>, String) {
        // SAFETY: kill(2) with a child's pid and a signal number has no memory effects.
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let code = self.child.wait().unwrap().code();
        // The reader ends with the pipe, once the program has exited.
        let stderr: Vec<String> = self.log.iter().collect();
        (code, stderr.join("\n"))
    }

    fn var(&self, name: &str) -> &str {
        self.exported
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not exported: {:?}", self.exported))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A HockeyStack request with what the start lines exported.
fn hockeystack(
    sandbox: &Running,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", sandbox.var("HOCKEYSTACK_BASE_URL"));
    let token = sandbox.var("HOCKEYSTACK_API_TOKEN").to_owned();
    runtime().block_on(async move {
        let mut request = reqwest::Client::new()
            .request(method, url)
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn state_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandbox-binary-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("state.json")
}

#[test]
fn its_start_lines_point_a_client_at_it_and_its_state_survives_a_restart() {
    let file = state_file("restart");
    let state = file.to_str().unwrap();
    let sandbox = start(&["--state", state, "--log"]);
    assert_eq!(
        sandbox.exported.keys().collect::<Vec<_>>(),
        [
            "HOCKEYSTACK_API_TOKEN",
            "HOCKEYSTACK_BASE_URL",
            "HYPERREP_API_KEY",
            "HYPERREP_BASE_URL",
            "HYPERREP_ORGANIZATION_ID"
        ]
    );
    let (status, task) = hockeystack(
        &sandbox,
        reqwest::Method::POST,
        "/tasks",
        Some(
            json!({"task_type": "call", "task_title": "Call Sam", "assignee_id": "usr_1", "targets": {"deal_id": "1"}}),
        ),
    );
    assert_eq!(status, 201, "{task}");
    let task_id = task["task_id"].as_str().unwrap().to_owned();
    let logged = sandbox.log.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        logged.contains("POST /api/revenue-agents/v1/tasks 201"),
        "{logged}"
    );
    assert!(
        !logged.contains(sandbox.var("HOCKEYSTACK_API_TOKEN")),
        "{logged}"
    );
    assert_eq!(sandbox.interrupt(), Some(0));
    assert!(file.exists(), "Ctrl-C saves the state");

    let sandbox = start(&["--state", state]);
    let (status, again) = hockeystack(
        &sandbox,
        reqwest::Method::GET,
        &format!("/tasks/{task_id}"),
        None,
    );
    assert_eq!((status, &again), (200, &task));
    assert_eq!(sandbox.interrupt(), Some(0));
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

#[test]
fn a_state_file_it_cannot_use_stops_it_and_is_left_alone() {
    let file = state_file("corrupt");
    std::fs::write(&file, "{\"format\": \"something else\"}").unwrap();
    let output = Command::new(SANDBOX)
        .args(["--port", "0", "--state", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"format\": \"something else\"}"
    );
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

#[test]
fn it_says_its_version_and_every_default() {
    let output = Command::new(SANDBOX).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("revenue-agents-sandbox {}", env!("CARGO_PKG_VERSION"))
    );
    let output = Command::new(SANDBOX).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let options = help
        .lines()
        .filter(|l| l.trim_start().starts_with("--"))
        .count();
    let with_defaults = help.lines().filter(|l| l.contains("[default: ")).count();
    assert!(options >= 13 && options == with_defaults, "{help}");
}

#[test]
fn sigterm_saves_the_state_as_ctrl_c_does_and_a_lost_save_is_an_error() {
    let file = state_file("sigterm");
    let state = file.to_str().unwrap();
    let sandbox = start(&["--state", state]);
    let (status, task) = hockeystack(
        &sandbox,
        reqwest::Method::POST,
        "/tasks",
        Some(
            json!({"task_type": "email", "task_title": "Write", "assignee_id": "usr_1", "targets": {"deal_id": "1"}}),
        ),
    );
    assert_eq!(status, 201);
    // At once, before the saver's own turn: the stop saves it.
    assert_eq!(sandbox.signal(libc::SIGTERM).0, Some(0));
    let sandbox = start(&["--state", state]);
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());
    let (status, _) = hockeystack(&sandbox, reqwest::Method::GET, &path, None);
    assert_eq!(status, 200, "the task made just before SIGTERM was saved");

    // The folder goes away under it: the last save fails, and the exit code says so.
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
    hockeystack(&sandbox, reqwest::Method::DELETE, &path, None);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = sandbox.signal(libc::SIGINT);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the state was not saved"), "{stderr}");
}
