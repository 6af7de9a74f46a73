//! No request can crash the sandbox: every route of both specs, read from `openapi/`, gets
//! hostile values in each path parameter, each query parameter and its body, and tampered
//! cursors on every list; each request must be answered with a status below 500, and the
//! sandbox must serve normally afterwards.
#![cfg(all(feature = "sandbox", feature = "hockeystack", feature = "hyperrep"))]

mod common;

use std::collections::HashMap;

use revenue_agents::sandbox::{HockeyStackSeed, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;

/// One operation of a spec: method, path template, path and query parameter names.
struct Route {
    method: reqwest::Method,
    template: String,
    path: Vec<String>,
    query: Vec<String>,
}

fn routes(spec: &str) -> Vec<Route> {
    let text =
        std::fs::read_to_string(format!("{}/openapi/{spec}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let doc: Yaml = serde_yaml_ng::from_str(&text).unwrap();
    let shared = &doc["components"]["parameters"];
    let resolve = |p: &Yaml| -> Yaml {
        match p["$ref"].as_str() {
            Some(r) => shared[r.rsplit('/').next().unwrap()].clone(),
            None => p.clone(),
        }
    };
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_mapping().unwrap() {
        let template = template.as_str().unwrap().to_owned();
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if method == "parameters" {
                continue;
            }
            let mut path = Vec::new();
            let mut query = Vec::new();
            let all = item["parameters"]
                .as_sequence()
                .into_iter()
                .flatten()
                .chain(operation["parameters"].as_sequence().into_iter().flatten());
            for parameter in all {
                let parameter = resolve(parameter);
                let name = parameter["name"].as_str().unwrap().to_owned();
                match parameter["in"].as_str() {
                    Some("path") => path.push(name),
                    Some("query") => query.push(name),
                    _ => {}
                }
            }
            out.push(Route {
                method: method.to_uppercase().parse().unwrap(),
                template: template.clone(),
                path,
                query,
            });
        }
    }
    assert!(out.len() > 20, "{spec}: {} routes", out.len());
    out
}

/// Values no server should choke on: numbers past every width, signs, dates past chrono's
/// range, encodings, controls, path tricks, and very long text.
fn hostile() -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        " ",
        "0",
        "-1",
        "-0",
        "1.5",
        "1e309",
        "NaN",
        "inf",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "340282366920938463463374607431768211456",
        "ffffffffffffffff",
        "00000000-ffffffffffffffff",
        "ffffffff-7fffffffffffffff",
        "a-b-c",
        "-",
        "..",
        ".",
        "%",
        "%00",
        "%2e%2e",
        "a/b",
        "\\",
        "\u{0}",
        "\r\n",
        "\u{202E}evil\u{200B}",
        "\u{E0041}",
        "😀",
        "null",
        "[]",
        "{}",
        "true",
        "0000-00-00",
        "0000-01-01",
        "0001-01-01T00:00:00Z",
        "9999-12-31",
        "9999-12-31T23:59:59.999999999Z",
        "+262142-12-31",
        "262142-1-1",
        "-262143-01-01",
        "1970-01-01T00:00:00+23:59",
        "9999999999",
        "9999999999999",
        "99999999999999",
        "2026-13-45",
        "2026-02-30T25:61:61Z",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("x".repeat(20_000));
    values.push("9".repeat(5_000));
    values
}

fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let mut bodies: Vec<(&'static str, Vec<u8>)> = vec![
        ("application/json", Vec::new()),
        ("application/json", b"not json".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"{}".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", br#"{"message": 1e999}"#.to_vec()),
        (
            "application/json",
            br#"{"message": null, "content": {}}"#.to_vec(),
        ),
        ("text/plain", b"{}".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00]),
    ];
    bodies.push(("application/json", "[".repeat(100_000).into_bytes()));
    let long = json!({
        "message": "m".repeat(300_000),
        "task_title": "t".repeat(300_000),
        "status": "x".repeat(10_000),
        "due_date": "+262142-12-31T23:59:59Z",
        "name": "\u{202E}",
        "limit": u64::MAX,
    });
    bodies.push(("application/json", long.to_string().into_bytes()));
    bodies
}

struct Target {
    base: String,
    auth: (&'static str, String),
    /// Path parameter name → a value the sandbox knows.
    known: HashMap<String, String>,
}

impl Target {
    fn url(&self, route: &Route, path: &HashMap<String, String>, query: &[(&str, &str)]) -> String {
        let mut url = reqwest::Url::parse(&self.base).unwrap();
        {
            let mut segments = url.path_segments_mut().unwrap();
            for part in route.template.split('/').filter(|p| !p.is_empty()) {
                match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => segments.push(&path[name]),
                    None => segments.push(part),
                };
            }
        }
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        url.to_string()
    }

    async fn send(
        &self,
        http: &reqwest::Client,
        route: &Route,
        path: &HashMap<String, String>,
        query: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> (u16, Value) {
        let url = self.url(route, path, query);
        let mut request = http
            .request(route.method.clone(), &url)
            .header(self.auth.0, self.auth.1.as_str());
        if let Some((content_type, bytes)) = body {
            request = request
                .header("content-type", content_type)
                .body(bytes.to_vec());
        }
        let described = format!(
            "{} {} with body {:?}",
            route.method,
            &url[..url.len().min(300)],
            body.map(|(t, b)| (t, b.len()))
        );
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{described}: no answer ({})", e.without_url()));
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{described}: the answer broke off ({})", e.without_url()));
        assert!(status < 500, "{described}: status {status}");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

/// A HockeyStack workspace with two of everything, so every list has a second page.
fn seed() -> HockeyStackSeed {
    let conversation = |id: &str, owner: (&str, &str)| {
        json!({
            "conversation_id": id, owner.0: owner.1,
            "messages": [
                {"role": "user", "content": "one"},
                {"role": "assistant", "content": "two"},
            ]
        })
    };
    let task = |n: u32| {
        json!({
            "task_id": format!("0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e0{n}"),
            "status": "pending", "task_type": "call", "task_title": "Call",
            "created_at": "2026-05-22T10:00:00Z", "targets": {"deal_id": "D-1"},
        })
    };
    HockeyStackSeed {
        deal_agents: vec!["D-1".into(), "D-2".into()],
        company_agents: vec!["C-1".into(), "C-2".into()],
        conversations: vec![
            conversation("conv_d1", ("deal_id", "D-1")),
            conversation("conv_d2", ("deal_id", "D-1")),
            conversation("conv_c1", ("company_id", "C-1")),
            conversation("conv_c2", ("company_id", "C-1")),
        ],
        tasks: vec![task(1), task(2), task(3)],
    }
}

/// Sweeps one API; returns how many hostile requests were answered and on how many lists a
/// cursor was tampered with. Deletions come last, so that the known records serve every other
/// route first.
async fn sweep(http: &reqwest::Client, target: &Target, routes: &[Route]) -> (usize, usize) {
    let values = hostile();
    let bodies = hostile_bodies();
    let mut sent = 0;
    let mut tampered_lists = 0;
    let mut ordered: Vec<&Route> = routes.iter().collect();
    ordered.sort_by_key(|r| r.method == reqwest::Method::DELETE);
    for route in ordered {
        let known: HashMap<String, String> = route
            .path
            .iter()
            .map(|name| (name.clone(), target.known[name].clone()))
            .collect();
        // Each path parameter, the others known.
        for name in &route.path {
            for value in &values {
                let mut path = known.clone();
                path.insert(name.clone(), value.clone());
                target.send(http, route, &path, &[], None).await;
                sent += 1;
            }
        }
        // Each query parameter alone, then all of them at once.
        for value in &values {
            for name in &route.query {
                target
                    .send(
                        http,
                        route,
                        &known,
                        &[(name.as_str(), value.as_str())],
                        None,
                    )
                    .await;
                sent += 1;
            }
            // Together they must stay under what an HTTP client sends in one request line.
            if route.query.len() > 1 && value.len() < 1000 {
                let all: Vec<(&str, &str)> = route
                    .query
                    .iter()
                    .map(|n| (n.as_str(), value.as_str()))
                    .collect();
                target.send(http, route, &known, &all, None).await;
                sent += 1;
            }
        }
        // Bodies, on the methods that take one.
        if [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
        ]
        .contains(&route.method)
        {
            for (content_type, body) in &bodies {
                target
                    .send(http, route, &known, &[], Some((content_type, body)))
                    .await;
                sent += 1;
            }
        }
        // Tampered cursors: a real one with its offset replaced.
        if route.method == reqwest::Method::GET {
            for cursor_name in ["cursor", "after"] {
                if !route.query.iter().any(|q| q == cursor_name) {
                    continue;
                }
                let (_, page) = target
                    .send(http, route, &known, &[("limit", "1")], None)
                    .await;
                let Some(next) = page["next_cursor"]
                    .as_str()
                    .or(page["pagination"]["next_cursor"].as_str())
                    .map(str::to_owned)
                else {
                    continue; // a list of one page: nothing to tamper with
                };
                tampered_lists += 1;
                let tag = next.split('-').next().unwrap();
                for offset in [
                    "ffffffffffffffff",
                    "7fffffffffffffff",
                    "fffffffffffffffe",
                    "100000000",
                    "ffffffff",
                    "10000000000000000",
                    "-1",
                    "",
                ] {
                    let tampered = format!("{tag}-{offset}");
                    for limit in ["1", "200", "500"] {
                        target
                            .send(
                                http,
                                route,
                                &known,
                                &[(cursor_name, tampered.as_str()), ("limit", limit)],
                                None,
                            )
                            .await;
                        sent += 1;
                    }
                }
            }
        }
    }
    (sent, tampered_lists)
}

/// The first record's `field` of a HyperRep list.
async fn first(http: &reqwest::Client, sandbox: &Sandbox, path: &str, field: &str) -> String {
    let page: Value = http
        .get(format!("{}{path}", sandbox.hyperrep_url()))
        .header("x-api-key", sandbox.hyperrep_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"][0][field]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: no {field} in {page}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_crashes_the_sandbox_or_stops_it_serving() {
    let sandbox = Sandbox::start(SandboxConfig {
        read_limit: u32::MAX,
        write_limit: u32::MAX,
        included_credits: 1e12,
        on_demand_credit_limit: None,
        hockeystack_seed: Some(seed()),
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();

    let hockeystack = Target {
        base: sandbox.hockeystack_url(),
        auth: (
            "authorization",
            format!("Bearer {}", sandbox.hockeystack_token()),
        ),
        known: [
            ("dealId", "D-1"),
            ("companyId", "C-1"),
            ("cid", "conv_d1"),
            ("jobId", "job-unknown"),
            ("taskId", "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    // Company routes use the company's conversation.
    let hs_routes = routes("hockeystack.yaml");
    let (company, deal): (Vec<Route>, Vec<Route>) = hs_routes.into_iter().partition(|r| {
        r.template
            .starts_with("/companies/{companyId}/conversations/")
    });
    let (mut sent, mut tampered) = sweep(&http, &hockeystack, &deal).await;
    let mut company_target = hockeystack;
    company_target.known.insert("cid".into(), "conv_c1".into());
    let (more, lists) = sweep(&http, &company_target, &company).await;
    sent += more;
    tampered += lists;
    // Agents, conversations and messages of both kinds, and tasks.
    assert!(
        tampered >= 7,
        "{tampered} HockeyStack lists had a second page"
    );

    let org = common::first_organization(&sandbox.hyperrep_client().unwrap()).await;
    let base = format!("/api/v2/organizations/{org}");
    let conversation = first(
        &http,
        &sandbox,
        &format!("{base}/conversations"),
        "conversation_id",
    )
    .await;
    let mut known: HashMap<String, String> = HashMap::new();
    known.insert("organization_id".into(), org.clone());
    known.insert(
        "agent_id".into(),
        first(&http, &sandbox, &format!("{base}/agents"), "agent_id").await,
    );
    known.insert(
        "contact_id".into(),
        first(&http, &sandbox, &format!("{base}/contacts"), "contact_id").await,
    );
    known.insert(
        "company_id".into(),
        first(&http, &sandbox, &format!("{base}/companies"), "company_id").await,
    );
    known.insert(
        "sale_id".into(),
        first(&http, &sandbox, &format!("{base}/sales"), "sale_id").await,
    );
    known.insert(
        "message_id".into(),
        first(
            &http,
            &sandbox,
            &format!("{base}/conversations/{conversation}/messages"),
            "message_id",
        )
        .await,
    );
    known.insert("conversation_id".into(), conversation);
    let hyperrep = Target {
        base: sandbox.hyperrep_url(),
        auth: ("x-api-key", sandbox.hyperrep_key().to_owned()),
        known,
    };
    let (more, lists) = sweep(&http, &hyperrep, &routes("hyperrep.yaml")).await;
    sent += more;
    assert!(lists >= 8, "{lists} HyperRep lists had a second page");
    assert!(sent > 5_000, "{sent} hostile requests");

    // Still serving.
    let hs = sandbox.hockeystack_client().unwrap();
    assert!(hs.me().send().await.is_ok());
    assert!(hs.list_tasks().send().await.is_ok());
    assert!(hs.get_deal_agent().deal_id("D-2").send().await.is_ok());
    let hr = sandbox.hyperrep_client().unwrap();
    assert!(
        hr.list_agents()
            .organization_id(org.as_str())
            .send()
            .await
            .is_ok()
    );
    sandbox.shutdown().await;
}

/// Answers a request and checks it is not a failure of the sandbox itself.
async fn answered(request: reqwest::RequestBuilder, what: &str) -> Value {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no answer ({})", e.without_url()));
    let status = response.status().as_u16();
    assert!(status < 500 || status == 503, "{what}: status {status}");
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn credit_amounts_that_are_not_amounts_are_refused_at_start() {
    for (included, on_demand, named) in [
        (f64::NAN, None, "included_credits"),
        (-1.0, None, "included_credits"),
        (f64::INFINITY, None, "included_credits"),
        (10.0, Some(f64::NAN), "on_demand_credit_limit"),
        (10.0, Some(-0.5), "on_demand_credit_limit"),
        (10.0, Some(f64::NEG_INFINITY), "on_demand_credit_limit"),
    ] {
        let refused = Sandbox::start(SandboxConfig {
            included_credits: included,
            on_demand_credit_limit: on_demand,
            ..common::fast_sandbox()
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("{included} / {on_demand:?} was accepted"));
        assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
        assert!(refused.to_string().contains(named), "{refused}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_settings_and_a_clock_moved_to_its_end_do_not_crash_it() {
    use std::time::Duration;
    let durations = [
        Duration::ZERO,
        Duration::from_secs(1_000_000_000_000_000),
        Duration::MAX,
    ];
    for (i, duration) in durations.into_iter().enumerate() {
        let sandbox = Sandbox::start(SandboxConfig {
            provisioning_time: duration,
            job_time: duration,
            pending_retention: duration,
            finished_retention: duration,
            read_limit: [u32::MAX, 1, 0][i],
            write_limit: [0, u32::MAX, 1][i],
            included_credits: [f64::MAX, 0.0, f64::MIN_POSITIVE][i],
            on_demand_credit_limit: [None, Some(f64::MAX), Some(0.0)][i],
            ..common::fast_sandbox()
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let base = sandbox.hockeystack_url();
        let auth = format!("Bearer {}", sandbox.hockeystack_token());
        let flow = |http: &reqwest::Client| {
            let get = |path: &str| {
                http.get(format!("{base}{path}"))
                    .header("authorization", &auth)
            };
            let post = |path: &str, body: Value| {
                http.post(format!("{base}{path}"))
                    .header("authorization", &auth)
                    .json(&body)
            };
            vec![
                (
                    "PUT agent",
                    http.put(format!("{base}/deals/D-9/agent"))
                        .header("authorization", &auth),
                ),
                ("GET agent", get("/deals/D-9/agent")),
                (
                    "POST conversation",
                    post("/deals/D-9/conversations", json!({})),
                ),
                ("GET conversations", get("/deals/D-9/conversations")),
                ("GET tasks", get("/tasks")),
                ("GET balance", get("/credits/balance")),
                ("GET usage", get("/credits/usage?group_by=feature")),
                ("GET operations", get("/credits/operations")),
                ("GET me", get("/me")),
            ]
        };
        for (what, request) in flow(&http) {
            answered(request, what).await;
        }
        // A message and its job, when a conversation could be opened.
        let conversation = answered(
            http.post(format!("{base}/deals/D-9/conversations"))
                .header("authorization", &auth)
                .json(&json!({})),
            "POST conversation",
        )
        .await;
        if let Some(cid) = conversation["conversation_id"].as_str() {
            let job = answered(
                http.post(format!("{base}/deals/D-9/conversations/{cid}/messages"))
                    .header("authorization", &auth)
                    .json(&json!({"message": "hello"})),
                "POST message",
            )
            .await;
            if let Some(job_id) = job["job_id"].as_str() {
                let path = format!("{base}/deals/D-9/conversations/{cid}/messages/jobs/{job_id}");
                answered(http.get(&path).header("authorization", &auth), "GET job").await;
            }
        }
        // The clock moved as far as it goes, by hostile and by valid amounts.
        let clock = format!("{}/__sandbox/clock", sandbox.hyperrep_url());
        for body in [
            "{\"advance_secs\": -1}",
            "{\"advance_secs\": 1e308}",
            "{\"advance_secs\": \"soon\"}",
            "{\"advance_secs\": 18446744073709551615}",
            "[]",
            "not json",
        ] {
            let answer = http.post(&clock).body(body).send().await.unwrap();
            assert!(
                answer.status().as_u16() < 500,
                "clock {body}: {}",
                answer.status()
            );
        }
        for (what, request) in flow(&http) {
            answered(request, what).await;
        }
        let hr = sandbox.hyperrep_client().unwrap();
        assert!(hr.list_organizations().send().await.is_ok());
        sandbox.shutdown().await;
    }
}

/// Sends `head` (a request head, its blank line included), then reads the answer's status
/// line; a reset before it is a dropped connection.
async fn raw_status(addr: std::net::SocketAddr, head: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and stop reading before the head is all sent.
    let _ = socket.write_all(&head).await;
    // The answer's head is enough; whether the server then closes is not the question.
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read_head = async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), read_head).await;
    let text = String::from_utf8_lossy(&answer);
    text.lines()
        .next()
        .unwrap_or("(the connection was dropped)")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_url_or_header_is_answered_not_dropped() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let long = "a".repeat(1024 * 1024);
    let url = format!("GET /api/revenue-agents/v1/tasks?cursor={long} HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        raw_status(sandbox.addr(), url.into_bytes())
            .await
            .contains(" 414 "),
        "a 1 MB cursor"
    );
    let header =
        format!("GET /api/revenue-agents/v1/health HTTP/1.1\r\nHost: x\r\nX-Note: {long}\r\n\r\n");
    assert!(
        raw_status(sandbox.addr(), header.into_bytes())
            .await
            .contains(" 431 "),
        "a 1 MB header"
    );
    // And it still serves.
    let health = reqwest::get(format!("{}/health", sandbox.hockeystack_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refuses_a_url_no_server_takes_before_sending_it() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    let forged = "a".repeat(revenue_agents::config::MAX_URL_BYTES);
    let error = client.list_tasks().cursor(forged).send().await.unwrap_err();
    assert!(
        matches!(
            error.kind(),
            revenue_agents::ErrorKind::InvalidRequest { .. }
        ),
        "{error}"
    );
    assert!(!error.is_transient(), "{error}");
    assert!(sandbox.requests().is_empty(), "nothing was sent");
    // A short forged cursor is the server's to refuse: a 400, not a network failure.
    let error = client
        .list_tasks()
        .cursor("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
}
