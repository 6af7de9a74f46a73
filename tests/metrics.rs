//! What the `metrics` feature records, as a program's recorder receives it: each request's
//! duration with OpenTelemetry's HTTP client labels and the crate's API and operation, each
//! retry with its reason, and each wait for the rate budget with its pool. Against the
//! sandbox, under a recorder local to the test's thread.
#![cfg(all(feature = "metrics", feature = "hockeystack", feature = "sandbox"))]

mod common;

use std::time::Duration;

use metrics_util::{
    MetricKind,
    debugging::{DebugValue, DebuggingRecorder},
};
use revenue_agents::{
    RateBudget, RetryPolicy, hockeystack,
    sandbox::{Fault, FaultRule, Sandbox},
};

/// One recorded metric: its name, labels and value.
struct Recorded {
    kind: MetricKind,
    name: String,
    labels: Vec<(String, String)>,
    value: DebugValue,
}

impl Recorded {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[test]
fn requests_retries_and_budget_waits_are_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
            let client = hockeystack::Client::builder()
                .credential(sandbox.hockeystack_token())
                .base_url(sandbox.hockeystack_url())
                // Two reads in a quarter of a second: the second waits for its slot.
                .rate_budget(RateBudget::per_minute(1, 10).window(Duration::from_millis(250)))
                .retry_policy(RetryPolicy::default().backoff(Duration::ZERO, Duration::ZERO))
                .build()
                .unwrap();
            sandbox.inject(
                FaultRule::new(Fault::RateLimited {
                    retry_after_secs: 0,
                })
                .times(1),
            );
            client.me().send().await.unwrap();
            let missing = client
                .get_task()
                .task_id("0f0e0d0c-0b0a-4909-8807-060504030201")
                .send()
                .await
                .unwrap_err();
            assert_eq!(missing.status(), Some(404));
            sandbox.shutdown().await;
        });
    });

    let recorded: Vec<Recorded> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| Recorded {
            kind: key.kind(),
            name: key.key().name().to_owned(),
            labels: key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect(),
            value,
        })
        .collect();
    let named = |name: &'static str| recorded.iter().filter(move |r| r.name == name);

    // Each attempt is a request as the conventions count them: the refused one and the one
    // that was answered.
    let refused = named("http.client.request.duration")
        .find(|r| {
            r.label("revenue_agents.operation") == Some("me")
                && r.label("http.response.status_code") == Some("429")
        })
        .expect("the refused attempt's duration");
    assert_eq!(refused.label("error.type"), Some("429"));
    let me = named("http.client.request.duration")
        .find(|r| {
            r.label("revenue_agents.operation") == Some("me")
                && r.label("http.response.status_code") == Some("200")
        })
        .expect("the answered attempt's duration");
    assert_eq!(me.kind, MetricKind::Histogram);
    assert_eq!(me.label("http.request.method"), Some("GET"));
    assert_eq!(me.label("http.response.status_code"), Some("200"));
    assert_eq!(me.label("revenue_agents.api"), Some("HockeyStack"));
    assert_eq!(me.label("server.address"), Some("127.0.0.1"));
    assert_eq!(me.label("error.type"), None);
    assert!(matches!(&me.value, DebugValue::Histogram(samples) if samples.len() == 1));

    // The whole call, retries and waits included, once, with its last answer.
    let call = named("revenue_agents.call.duration")
        .find(|r| r.label("revenue_agents.operation") == Some("me"))
        .expect("the me call's duration");
    assert_eq!(call.label("http.response.status_code"), Some("200"));
    assert!(matches!(&call.value, DebugValue::Histogram(samples) if samples.len() == 1));

    let failed = named("http.client.request.duration")
        .find(|r| r.label("revenue_agents.operation") == Some("get_task"))
        .expect("the failed request's duration");
    assert_eq!(failed.label("error.type"), Some("404"));
    // No id reaches a label.
    assert!(
        recorded.iter().all(|r| r
            .labels
            .iter()
            .all(|(_, v)| !v.contains("0f0e0d0c-0b0a-4909-8807-060504030201"))),
        "an id became a label"
    );

    let retries = named("revenue_agents.retries")
        .find(|r| r.label("revenue_agents.operation") == Some("me"))
        .expect("the retry after the 429");
    assert_eq!(retries.label("reason"), Some("status 429"));
    assert_eq!(retries.value, DebugValue::Counter(1));

    let waited = named("revenue_agents.rate_budget.wait")
        .find(|r| r.label("pool") == Some("read"))
        .expect("a wait for a read slot");
    assert!(matches!(&waited.value, DebugValue::Histogram(samples) if !samples.is_empty()));
}
