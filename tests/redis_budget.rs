//! The rate budget shared through a real Redis by real processes. Each test starts its own
//! `redis-server` on a free loopback port with persistence off and stops it after. Without
//! `redis-server` on the machine each test writes `SKIPPED` and how to install it to standard
//! error (which `cargo test` shows) and returns, unless `REVENUE_AGENTS_REQUIRE_REDIS=1` (set
//! by `.ci/run`) makes that a failure.
#![cfg(all(feature = "redis", feature = "hockeystack", feature = "sandbox"))]

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use revenue_agents::{
    ErrorKind, RateBudget,
    budget::RedisUnavailable,
    hockeystack,
    sandbox::{Sandbox, SandboxConfig},
};

#[path = "support/redis_server.rs"]
mod redis_server;
use redis_server::start_redis;

#[path = "support/task.rs"]
mod task;
use task::task;

const WINDOW: Duration = Duration::from_secs(2);
const WRITES_PER_WINDOW: u32 = 12;

fn shared_budget(url: &str) -> RateBudget {
    RateBudget::per_minute(600, WRITES_PER_WINDOW)
        .window(WINDOW)
        .shared_through_redis(url)
        .unwrap()
}

/// Runs as a child process of `several_processes_share_one_budget_without_a_429`: a few
/// tasks writing through one client whose budget lives in Redis. It is not a test of its own,
/// so `cargo test` lists it as ignored; the parent runs it with `--ignored --exact`.
#[test]
#[ignore = "a worker process that several_processes_share_one_budget_without_a_429 starts"]
fn budget_worker() {
    let url = std::env::var("WORKER_REDIS_URL")
        .expect("started by several_processes_share_one_budget_without_a_429, which sets it");
    let base = std::env::var("WORKER_BASE_URL").unwrap();
    let token = std::env::var("WORKER_TOKEN").unwrap();
    let id: usize = std::env::var("WORKER_ID").unwrap().parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let client = hockeystack::Client::builder()
            .credential(token)
            .base_url(base)
            .rate_budget(shared_budget(&url))
            .build()
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..4 {
            let client = client.clone();
            tasks.spawn(async move {
                for n in 0..3 {
                    client
                        .create_task()
                        .body(task(id * 100 + t * 10 + n))
                        .send()
                        .await
                        .unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_processes_share_one_budget_without_a_429() {
    let Some(redis) = start_redis() else { return };
    let sandbox = Sandbox::start(SandboxConfig {
        write_limit: WRITES_PER_WINDOW,
        rate_window: WINDOW,
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    let workers: Vec<Child> = (0..4)
        .map(|id| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "budget_worker",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env("WORKER_REDIS_URL", &redis.url)
                .env("WORKER_BASE_URL", sandbox.hockeystack_url())
                .env("WORKER_TOKEN", sandbox.hockeystack_token())
                .env("WORKER_ID", id.to_string())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut worker in workers {
        let status = tokio::task::spawn_blocking(move || worker.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "a worker failed: {status:?}");
    }
    // 4 processes × 4 tasks × 3 writes, 12 a window between them: the server refused none.
    let counts = sandbox.rate_counts(sandbox.hockeystack_token());
    assert_eq!(counts.writes, 48, "{counts:?}");
    assert_eq!(counts.writes_refused, 0, "{counts:?}");

    // Redis holds the budget under a hash of the credential, never the credential.
    let connection = redis_keys(&redis.url).await;
    assert!(!connection.is_empty());
    assert!(
        connection
            .iter()
            .all(|k| !k.contains(sandbox.hockeystack_token()) && !k.contains("sandbox")),
        "{connection:?}"
    );
    sandbox.shutdown().await;
    redis.stop();
}

async fn redis_keys(url: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_goes_away_the_chosen_behaviour_holds() {
    let Some(redis) = start_redis() else { return };
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = |budget: RateBudget| {
        hockeystack::Client::builder()
            .credential(sandbox.hockeystack_token())
            .base_url(sandbox.hockeystack_url())
            .rate_budget(budget)
            .call_timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let fallback = client(
        RateBudget::hockeystack()
            .shared_through_redis(&redis.url)
            .unwrap(),
    );
    let strict = client(
        RateBudget::hockeystack()
            .shared_through_redis(&redis.url)
            .unwrap()
            .when_redis_is_unreachable(RedisUnavailable::Fail),
    );
    fallback.create_task().body(task(1)).send().await.unwrap();
    strict.create_task().body(task(2)).send().await.unwrap();
    redis.stop();

    // The default counts in the process and goes on.
    fallback.create_task().body(task(3)).send().await.unwrap();
    fallback.me().send().await.unwrap();
    // The strict one refuses, nothing sent.
    let before = sandbox.rate_counts(sandbox.hockeystack_token()).writes;
    let error = strict.create_task().body(task(4)).send().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RateBudgetUnavailable { .. }),
        "{error:?}"
    );
    assert_eq!(
        sandbox.rate_counts(sandbox.hockeystack_token()).writes,
        before
    );
    sandbox.shutdown().await;
}

#[test]
fn a_redis_url_that_cannot_be_one_is_refused_at_once() {
    let error = RateBudget::hockeystack()
        .shared_through_redis("http://not-redis")
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidSetting { .. }),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_when_redis_is_unreachable_holds_whichever_call_comes_first() {
    // A Redis that never answers: a loopback port nobody listens on.
    let closed = common::closed_port();
    let url = format!("redis://127.0.0.1:{}/0", closed.port);
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let budgets = [
        RateBudget::hockeystack()
            .when_redis_is_unreachable(RedisUnavailable::Fail)
            .shared_through_redis(&url)
            .unwrap(),
        RateBudget::hockeystack()
            .shared_through_redis(&url)
            .unwrap()
            .when_redis_is_unreachable(RedisUnavailable::Fail),
    ];
    for budget in budgets {
        let client = hockeystack::Client::builder()
            .credential(sandbox.hockeystack_token())
            .base_url(sandbox.hockeystack_url())
            .rate_budget(budget)
            .build()
            .unwrap();
        let error = client.create_task().body(task(1)).send().await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::RateBudgetUnavailable { .. }),
            "{error:?}"
        );
    }
    assert_eq!(sandbox.rate_counts(sandbox.hockeystack_token()).writes, 0);
    sandbox.shutdown().await;
}

#[test]
fn a_tls_redis_url_is_refused_with_the_way_round() {
    let error = RateBudget::hockeystack()
        .shared_through_redis("rediss://cache.internal:6380")
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidSetting { .. })
            && error.to_string().contains("tunnel"),
        "{error}"
    );
}
