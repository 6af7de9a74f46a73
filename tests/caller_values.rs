//! Every duration and count a caller can set is taken or refused with `InvalidSetting`; none
//! panics, however large (`Duration::MAX` meant as "forever") or small. Each setting is swept
//! over its extremes and a seeded run of random values.
#![cfg(all(feature = "hockeystack", feature = "hyperrep", feature = "sandbox"))]

mod common;

use std::time::Duration;

use httpmock::MockServer;
use revenue_agents::{ErrorKind, PollPolicy, RetryPolicy, hyperrep, sandbox::Sandbox};

/// The extremes, then `random` values spread over every order of magnitude a `Duration` holds.
fn durations(random: usize) -> Vec<Duration> {
    let mut all = vec![
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_millis(1),
        Duration::from_secs(1),
        Duration::from_secs(u64::from(u32::MAX)),
        Duration::from_secs(u64::MAX / 2),
        Duration::from_secs(u64::MAX),
        Duration::new(u64::MAX - 1, 999_999_999),
        Duration::MAX,
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..random {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let magnitude = (x % 64) as u32;
        let seconds = (x >> 8) & (u64::MAX >> (63 - magnitude.min(63)));
        all.push(Duration::new(seconds, (x % 1_000_000_000) as u32));
    }
    all
}

#[test]
fn poll_policies_take_any_duration_and_factor() {
    let factors = [0.0, 0.5, 1.0, 2.0, 1e300, f64::MAX, f64::INFINITY, f64::NAN];
    let values = durations(40);
    let mut checked = 0;
    for &min in &values {
        for &max in values.iter().step_by(3) {
            for (i, &factor) in factors.iter().enumerate() {
                let policy = PollPolicy::new(min, max)
                    .factor(factor)
                    .jitter(i % 2 == 0)
                    .deadline(values[i]);
                let delays: Vec<Duration> = policy.delays().take(70).collect();
                assert!(
                    delays.iter().all(|d| *d <= max.max(min)),
                    "{min:?} {max:?} {factor}: {delays:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked} policies");
}

#[tokio::test]
async fn every_timeout_setting_is_taken_or_refused_with_invalid_setting() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/api/v2/organizations");
            then.status(200).json_body(serde_json::json!({"data": []}));
        })
        .await;
    let mut built = 0;
    for (i, value) in durations(60).into_iter().enumerate() {
        let builder = hyperrep::Client::builder()
            .credential("hr_key_settings")
            .base_url(server.base_url());
        let builder = match i % 3 {
            0 => builder.connect_timeout(value),
            1 => builder.read_timeout(value),
            _ => builder.call_timeout(value),
        };
        match builder.build() {
            Err(e) => {
                assert!(value.is_zero(), "{value:?} refused: {e}");
                assert!(
                    matches!(e.kind(), ErrorKind::InvalidSetting { setting, .. }
                        if ["connect_timeout", "read_timeout", "call_timeout"].contains(setting)),
                    "{e:?}"
                );
            }
            Ok(client) => {
                // A taken value works: with a zero-length call it would fail, with any
                // positive one this instant answer arrives in time.
                if value >= Duration::from_millis(200) {
                    let page = client.list_organizations().send().await;
                    assert!(page.is_ok(), "{value:?}: {page:?}");
                }
                built += 1;
            }
        }
    }
    assert!(built > 50, "{built} clients built");
}

#[tokio::test]
async fn zero_is_refused_for_every_duration_and_for_the_answer_size() {
    let builder = || hyperrep::Client::builder().credential("hr_key_settings");
    for (setting, result) in [
        (
            "connect_timeout",
            builder().connect_timeout(Duration::ZERO).build(),
        ),
        (
            "read_timeout",
            builder().read_timeout(Duration::ZERO).build(),
        ),
        (
            "call_timeout",
            builder().call_timeout(Duration::ZERO).build(),
        ),
        (
            "max_response_bytes",
            builder().max_response_bytes(0).build(),
        ),
    ] {
        let error = result.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidSetting { setting: s, .. } if *s == setting),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn retry_policies_with_any_backoff_and_bound_end_a_failing_call() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/api/v2/organizations");
            then.status(502);
        })
        .await;
    let values = [
        Duration::ZERO,
        Duration::from_millis(1),
        Duration::from_secs(u64::MAX),
        Duration::MAX,
    ];
    for initial in values {
        for max in values {
            for max_wait in values {
                let policy = RetryPolicy::default()
                    .backoff(initial, max)
                    .max_wait(max_wait)
                    .max_retries(u32::MAX)
                    .jitter(true);
                let client = hyperrep::Client::builder()
                    .credential("hr_key_settings")
                    .base_url(server.base_url())
                    .retry_policy(policy)
                    .call_timeout(Duration::from_millis(300))
                    .build()
                    .unwrap();
                let error = client.list_organizations().send().await.unwrap_err();
                assert!(
                    matches!(
                        error.kind(),
                        ErrorKind::Server | ErrorKind::DeadlineExceeded { .. }
                    ),
                    "{initial:?} {max:?} {max_wait:?}: {error:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_wait_whose_deadline_is_forever_still_finishes() {
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = sandbox.hockeystack_client().unwrap();
    for deadline in [Duration::MAX, Duration::from_secs(u64::MAX)] {
        let agent = client
            .ensure_deal_agent("9001234567")
            .policy(
                PollPolicy::new(Duration::from_millis(20), Duration::MAX)
                    .jitter(true)
                    .deadline(deadline),
            )
            .await
            .unwrap();
        assert_eq!(agent.status.as_str(), "active");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_page_stream_takes_any_prefetch_depth() {
    use futures_util::TryStreamExt;
    use revenue_agents::Paginated;
    let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&client).await;
    for depth in [0, 1, 7, usize::MAX / 2, usize::MAX] {
        let agents: Vec<_> = client
            .list_agents()
            .organization_id(org.as_str())
            .limit(2)
            .pages()
            .prefetch(depth)
            .try_collect()
            .await
            .unwrap();
        assert!(agents.len() >= 2, "depth {depth}: {} pages", agents.len());
    }
    sandbox.shutdown().await;
}
