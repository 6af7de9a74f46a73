//! The rate budget in one process, over real HTTP: requests take a slot before they leave, a
//! full pool makes them wait (or, past the call's deadline, fail with nothing sent), and the
//! server's 429 pauses the pool for every task. The budget's arithmetic is tested in virtual
//! time in `budget::local`; here the sandbox counts what arrives.
#![cfg(all(feature = "hockeystack", feature = "sandbox"))]

mod common;

use std::time::Duration;

use httpmock::Method::{GET, POST};
use revenue_agents::{
    ErrorKind, RateBudget, RetryPolicy, hockeystack,
    sandbox::{Sandbox, SandboxConfig},
};
use serde_json::json;
use tokio::task::JoinSet;

#[path = "support/task.rs"]
mod task;
use task::task;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_tasks_on_one_client_stay_inside_the_write_limit_without_a_429() {
    let window = Duration::from_secs(2);
    let sandbox = Sandbox::start(SandboxConfig {
        write_limit: 10,
        rate_window: window,
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    let client = hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .rate_budget(RateBudget::per_minute(600, 10).window(window))
        .build()
        .unwrap();
    let mut tasks = JoinSet::new();
    for t in 0..16 {
        let client = client.clone();
        tasks.spawn(async move {
            for n in 0..2 {
                client.create_task().body(task(t * 10 + n)).send().await?;
            }
            Ok::<_, revenue_agents::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    // 32 writes against 10 a window: they had to wait for four windows, and the server never
    // had to refuse one.
    let counts = sandbox.rate_counts(sandbox.hockeystack_token());
    assert_eq!(counts.writes, 32, "{counts:?}");
    assert_eq!(counts.writes_refused, 0, "{counts:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_slot_out_of_reach_of_the_deadline_fails_the_call_with_nothing_sent() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .rate_budget(RateBudget::per_minute(600, 1))
        .call_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    client.create_task().body(task(1)).send().await.unwrap();
    let error = client.create_task().body(task(2)).send().await.unwrap_err();
    match error.kind() {
        ErrorKind::RateBudgetExhausted { pool, refills_in } => {
            assert_eq!(pool, "write");
            assert!(*refills_in > Duration::from_secs(55), "{refills_in:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_transient());
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    // Reads have their own pool.
    client.me().send().await.unwrap();
    let counts = sandbox.rate_counts(sandbox.hockeystack_token());
    assert_eq!((counts.writes, counts.writes_refused), (1, 0));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_429_pauses_the_pool_for_every_task_and_the_other_pool_goes_on() {
    let server = httpmock::MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/tasks");
            then.status(429)
                .header("retry-after", "30")
                .json_body(json!({"error": {"code": "rate_limit.exceeded", "category": "rate_limited", "message": "Rate limit exceeded."}}));
        })
        .await;
    let me = server
        .mock_async(|when, then| {
            when.method(GET).path("/me");
            then.status(200).json_body(json!({
                "workspace": {"id": "ws_1", "name": "Acme"},
                "token": {"id": "tok_1", "name": "ci"}
            }));
        })
        .await;
    let client = hockeystack::Client::builder()
        .credential("hsr_live_paused")
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .call_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let first = client.create_task().body(task(1)).send().await.unwrap_err();
    assert!(
        matches!(first.kind(), ErrorKind::RateLimited { .. }),
        "{first:?}"
    );
    // Another task of a clone: held by the pause, refused before it is sent.
    let clone = client.clone();
    let second = tokio::spawn(async move { clone.create_task().body(task(2)).send().await })
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(second.kind(), ErrorKind::RateBudgetExhausted { pool, .. } if pool == "write"),
        "{second:?}"
    );
    assert_eq!(refused.calls_async().await, 1);
    // The read pool is not paused.
    let _ = client.me().send().await;
    assert_eq!(me.calls_async().await, 1);
}

#[tokio::test]
async fn the_servers_count_holds_back_a_client_that_thought_it_had_slots() {
    let sandbox = Sandbox::start(SandboxConfig {
        write_limit: 2,
        extra_hockeystack_tokens: vec!["hsr_live_second".into()],
        ..common::fast_sandbox()
    })
    .await
    .unwrap();
    let build = |token: &str, budget: RateBudget| {
        hockeystack::Client::builder()
            .credential(token)
            .base_url(sandbox.hockeystack_url())
            .rate_budget(budget)
            .call_timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    };
    // Another program spent one of the two writes.
    let other = build(sandbox.hockeystack_token(), RateBudget::hockeystack());
    other.create_task().body(task(1)).send().await.unwrap();
    // This client believes in 60: its first write learns from the headers that none is
    // left, so the next waits (here: past its deadline) instead of earning a 429.
    let client = build(sandbox.hockeystack_token(), RateBudget::hockeystack());
    client.create_task().body(task(2)).send().await.unwrap();
    let error = client.create_task().body(task(3)).send().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RateBudgetExhausted { .. }),
        "{error:?}"
    );
    let counts = sandbox.rate_counts(sandbox.hockeystack_token());
    assert_eq!((counts.writes, counts.writes_refused), (2, 0));
    // A second token has pools of its own.
    let second = build("hsr_live_second", RateBudget::hockeystack());
    second.create_task().body(task(4)).send().await.unwrap();
    assert_eq!(sandbox.rate_counts("hsr_live_second").writes, 1);
    sandbox.shutdown().await;
}

#[test]
fn a_budget_that_would_refuse_everything_is_refused_when_the_client_is_built() {
    for budget in [
        RateBudget::per_minute(0, 60),
        RateBudget::per_minute(600, 0),
        RateBudget::hockeystack().window(Duration::ZERO),
    ] {
        let error = hockeystack::Client::builder()
            .credential("hsr_live_x")
            .rate_budget(budget)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                error.kind(),
                ErrorKind::InvalidSetting {
                    setting: "rate_budget",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
