//! The sandbox as a fixture at size: for 10k, 100k and 1M sales, how long it takes to start,
//! how much memory it holds, and what one 500-sale page costs at the start, deep in the list
//! and behind a date filter, measured from a client on loopback (medians of 20 requests).
//!
//! Then, with 100k contacts, companies and conversations, the first and last page of each
//! list and one record found by id; the same for HockeyStack's tasks and one deal's
//! conversations; and the requests a second 64 clients get at once.
//!
//! `cargo bench --bench sandbox --features sandbox` (add `-- 10000` for one size of sales).

use std::time::{Duration, Instant};

use revenue_agents::sandbox::{HockeyStackSeed, Sandbox, SandboxConfig, SeedSizes};

/// The process's resident memory, from the kernel.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The header that carries an API's credential, and its value.
type Auth = (&'static str, String);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = match std::env::args().skip(1).find_map(|a| a.parse().ok()) {
        Some(n) => vec![n],
        None => vec![10_000, 100_000, 1_000_000],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("sandbox at size: HyperRep sales, pages of 500, loopback, median of 20 requests");
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for n in sizes {
            let before = resident_mib();
            let started = Instant::now();
            let sandbox = Sandbox::start(SandboxConfig {
                seed: SeedSizes {
                    sales: n,
                    ..SeedSizes::default()
                },
                ..SandboxConfig::default()
            })
            .await
            .unwrap();
            let start_time = started.elapsed();
            let memory = resident_mib() - before;
            let org = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";
            let base = format!("{}/api/v2/organizations/{org}/sales", sandbox.hyperrep_url());
            let key = ("x-api-key", sandbox.hyperrep_key().to_owned());
            let deep = last_page_cursor(&http, &key, &base, n, 500).await;
            let mut timings = Vec::new();
            for query in [
                vec![("limit", "500".to_owned())],
                vec![("limit", "500".to_owned()), ("cursor", deep)],
                // The generated sales span the last 90 days: this window keeps about half.
                vec![
                    ("limit", "500".to_owned()),
                    (
                        "start_date",
                        (chrono::Utc::now() - chrono::Duration::days(45)).to_rfc3339(),
                    ),
                ],
            ] {
                timings.push(timed(&http, &key, &base, &query).await);
            }
            println!(
                "  {n:>9} sales: started in {:>6.2} s, +{:>7.1} MiB resident; page of 500: first {:>6.2} ms, last {:>6.2} ms, date-filtered {:>6.2} ms",
                start_time.as_secs_f64(),
                memory,
                timings[0].as_secs_f64() * 1e3,
                timings[1].as_secs_f64() * 1e3,
                timings[2].as_secs_f64() * 1e3,
            );
            sandbox.shutdown().await;
        }
        collections(&http).await;
        hockeystack_collections(&http).await;
        throughput().await;
    });
}

/// HockeyStack's lists at 100k: tasks, and one deal's conversations.
async fn hockeystack_collections(http: &reqwest::Client) {
    const N: usize = 100_000;
    let task_id = |i: usize| format!("0b7e4d7c-2a7e-4c55-9d3e-{i:012x}");
    let seed = HockeyStackSeed {
        deal_agents: vec!["D-1".into()],
        company_agents: vec![],
        conversations: (0..N)
            .map(|i| serde_json::json!({"conversation_id": format!("conv_{i}"), "deal_id": "D-1", "messages": []}))
            .collect(),
        tasks: (0..N)
            .map(|i| serde_json::json!({"task_id": task_id(i), "status": "pending", "task_type": "call", "task_title": format!("Task {i}")}))
            .collect(),
    };
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig {
        hockeystack_seed: Some(seed),
        read_limit: u32::MAX,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    println!(
        "HockeyStack, 100k tasks and 100k conversations of one deal: started in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let key = (
        "authorization",
        format!("Bearer {}", sandbox.hockeystack_token()),
    );
    let base = sandbox.hockeystack_url();
    for (collection, url) in [
        ("tasks", format!("{base}/tasks")),
        ("conversations", format!("{base}/deals/D-1/conversations")),
    ] {
        let deep = last_page_cursor(http, &key, &url, N, 200).await;
        let (first_page, last_page) = first_and_last(http, &key, &url, 200, deep).await;
        println!(
            "  {collection:>13}: page of 200 first {:>6.2} ms, last {:>6.2} ms",
            first_page.as_secs_f64() * 1e3,
            last_page.as_secs_f64() * 1e3,
        );
    }
    let by_id = timed(http, &key, &format!("{base}/tasks/{}", task_id(N - 1)), &[]).await;
    println!(
        "          the last task by id {:>6.3} ms",
        by_id.as_secs_f64() * 1e3
    );
    sandbox.shutdown().await;
}

/// Requests a second from 64 clients at once, each on its own connection (the median of three
/// one-second rounds):
/// a HockeyStack task by id and a page of 50 tasks, a HyperRep page of 50 sales.
async fn throughput() {
    let sandbox = Sandbox::start(SandboxConfig {
        read_limit: u32::MAX,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let hs = (
        "authorization",
        format!("Bearer {}", sandbox.hockeystack_token()),
    );
    let hr = ("x-api-key", sandbox.hyperrep_key().to_owned());
    let first_task = get_json(
        &reqwest::Client::new(),
        &hs,
        &format!("{}/tasks", sandbox.hockeystack_url()),
        &[],
    )
    .await["tasks"][0]["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let org = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";
    println!(
        "sandbox throughput, 64 clients at once, each on its own connection (median of 3 seconds):"
    );
    for (what, key, url) in [
        (
            "HockeyStack task by id",
            &hs,
            format!("{}/tasks/{first_task}", sandbox.hockeystack_url()),
        ),
        (
            "HockeyStack page of 50 tasks",
            &hs,
            format!("{}/tasks?limit=50", sandbox.hockeystack_url()),
        ),
        (
            "HyperRep page of 50 sales",
            &hr,
            format!(
                "{}/api/v2/organizations/{org}/sales?limit=50",
                sandbox.hyperrep_url()
            ),
        ),
    ] {
        let mut rates = vec![];
        for _ in 0..3 {
            let until = Instant::now() + Duration::from_secs(1);
            let clients = (0..64).map(|_| {
                let (key, url) = (key.clone(), url.clone());
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut done = 0u64;
                    while Instant::now() < until {
                        fetch_ok(&http, &key, &url, &[]).await;
                        done += 1;
                    }
                    done
                })
            });
            let mut total = 0;
            for client in clients.collect::<Vec<_>>() {
                total += client.await.unwrap();
            }
            rates.push(total);
        }
        rates.sort_unstable();
        println!("  {what:>30}: {:>8} requests/s", rates[1]);
    }
    sandbox.shutdown().await;
}

/// One GET, which must succeed.
async fn get_ok(
    http: &reqwest::Client,
    key: &Auth,
    url: &str,
    query: &[(&str, String)],
) -> reqwest::Response {
    let answer = http
        .get(url)
        .header(key.0, &key.1)
        .query(query)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{url}: {}", answer.status());
    answer
}

/// One GET's JSON answer.
async fn get_json(
    http: &reqwest::Client,
    key: &Auth,
    url: &str,
    query: &[(&str, String)],
) -> serde_json::Value {
    get_ok(http, key, url, query).await.json().await.unwrap()
}

/// The cursor of the last page of `page` items of a list of `n`: a cursor is an offset in the ordered
/// list, so it is built from the first page's.
async fn last_page_cursor(
    http: &reqwest::Client,
    key: &Auth,
    url: &str,
    n: usize,
    page: usize,
) -> String {
    let first = get_json(http, key, url, &[("limit", page.to_string())]).await;
    let cursor = first["pagination"]["next_cursor"]
        .as_str()
        .or(first["next_cursor"].as_str())
        .unwrap();
    let (tag, _) = cursor.split_once('-').unwrap();
    format!("{tag}-{:x}", n.saturating_sub(page))
}

/// The median times of the first page and of the page at cursor `deep`.
async fn first_and_last(
    http: &reqwest::Client,
    key: &Auth,
    url: &str,
    page: usize,
    deep: String,
) -> (Duration, Duration) {
    let limit = ("limit", page.to_string());
    (
        timed(http, key, url, std::slice::from_ref(&limit)).await,
        timed(http, key, url, &[limit, ("cursor", deep)]).await,
    )
}

/// One successful GET, its body read to the end.
async fn fetch_ok(http: &reqwest::Client, key: &Auth, url: &str, query: &[(&str, String)]) {
    get_ok(http, key, url, query).await.bytes().await.unwrap();
}

/// The median time of 20 GETs of `url` with `query`.
async fn timed(
    http: &reqwest::Client,
    key: &Auth,
    url: &str,
    query: &[(&str, String)],
) -> Duration {
    let mut runs = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        fetch_ok(http, key, url, query).await;
        runs.push(t.elapsed());
    }
    median(runs)
}

async fn collections(http: &reqwest::Client) {
    const N: usize = 100_000;
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig {
        seed: SeedSizes {
            contacts: N,
            companies: N,
            conversations: N,
            messages_per_conversation: 2,
            ..SeedSizes::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    println!(
        "100k contacts, companies and conversations: started in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let org = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";
    let key = ("x-api-key", sandbox.hyperrep_key().to_owned());
    for (collection, id_field) in [
        ("contacts", "contact_id"),
        ("companies", "company_id"),
        ("conversations", "conversation_id"),
    ] {
        let url = format!(
            "{}/api/v2/organizations/{org}/{collection}",
            sandbox.hyperrep_url()
        );
        let deep = last_page_cursor(http, &key, &url, N, 500).await;
        let last = get_json(
            http,
            &key,
            &url,
            &[("limit", "500".to_owned()), ("cursor", deep.clone())],
        )
        .await;
        let last_id = last["data"][499][id_field].as_str().unwrap().to_owned();
        let (first_page, last_page) = first_and_last(http, &key, &url, 500, deep).await;
        let by_id = timed(http, &key, &format!("{url}/{last_id}"), &[]).await;
        println!(
            "  {collection:>13}: page of 500 first {:>6.2} ms, last {:>6.2} ms; the last one by id {:>6.3} ms",
            first_page.as_secs_f64() * 1e3,
            last_page.as_secs_f64() * 1e3,
            by_id.as_secs_f64() * 1e3,
        );
    }
    sandbox.shutdown().await;
}
