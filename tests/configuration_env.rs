//! Configuration from the environment. One test function, so that no other test of this
//! binary reads the variables while they change.

#![cfg(any(feature = "hockeystack", feature = "hyperrep"))]

use revenue_agents::ErrorKind;

/// Sets or clears a variable. Safe here: this binary runs this single test on one thread.
fn set(name: &str, value: Option<&str>) {
    // SAFETY: no other thread of this test binary reads or writes the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn clients_read_their_variables_and_name_the_missing_one() {
    #[cfg(feature = "hockeystack")]
    {
        use revenue_agents::{RetryPolicy, hockeystack::Client};
        use std::time::Duration;
        set("HOCKEYSTACK_API_TOKEN", None);
        set("HOCKEYSTACK_BASE_URL", None);
        let error = Client::from_env().unwrap_err();
        assert!(matches!(
            error.kind(),
            ErrorKind::MissingCredentials {
                variable: "HOCKEYSTACK_API_TOKEN",
                ..
            }
        ));

        set("HOCKEYSTACK_API_TOKEN", Some(""));
        assert!(
            Client::from_env().is_err(),
            "an empty token counts as missing"
        );

        set("HOCKEYSTACK_API_TOKEN", Some("hsr_live_env_token"));
        let client = Client::from_env().unwrap();
        assert_eq!(
            client.base_url(),
            "https://app.hockeystack.com/api/revenue-agents/v1"
        );

        set(
            "HOCKEYSTACK_BASE_URL",
            Some("http://127.0.0.1:9/api/revenue-agents/v1/"),
        );
        let client = Client::from_env().unwrap();
        assert_eq!(
            client.base_url(),
            "http://127.0.0.1:9/api/revenue-agents/v1"
        );

        set("HOCKEYSTACK_BASE_URL", Some("http://example.com"));
        assert!(matches!(
            Client::from_env().map_err(|e| e.kind().clone()),
            Err(ErrorKind::InvalidSetting {
                setting: "HOCKEYSTACK_BASE_URL",
                ..
            })
        ));
        set("HOCKEYSTACK_BASE_URL", Some("ftp://127.0.0.1/x"));
        let error = Client::from_env().unwrap_err();
        assert!(
            error.to_string().contains("HOCKEYSTACK_BASE_URL"),
            "{error}"
        );
        // Code wins over the environment wherever from_env() stands in the chain.
        set(
            "HOCKEYSTACK_BASE_URL",
            Some("http://127.0.0.1:5/from-the-environment"),
        );
        assert_eq!(
            Client::from_env().unwrap().base_url(),
            "http://127.0.0.1:5/from-the-environment",
            "the variable is read"
        );
        let code_first = Client::builder()
            .base_url("http://127.0.0.1:7/v1")
            .from_env()
            .build()
            .unwrap();
        let env_first = Client::builder()
            .from_env()
            .base_url("http://127.0.0.1:7/v1")
            .build()
            .unwrap();
        assert_eq!(code_first.base_url(), "http://127.0.0.1:7/v1");
        assert_eq!(env_first.base_url(), "http://127.0.0.1:7/v1");
        set("HOCKEYSTACK_BASE_URL", None);
        // Without from_env() the environment is not read at all.
        assert!(matches!(
            Client::builder().build().unwrap_err().kind(),
            ErrorKind::MissingCredentials { .. }
        ));

        // Shared settings: a bad value names its variable; a good one is used.
        type Builder = revenue_agents::ClientBuilder<revenue_agents::hockeystack::HockeyStack>;
        /// A variable, a value it refuses, and the same setting given in code.
        type Override = (&'static str, &'static str, fn(Builder) -> Builder);
        let code_settings: [Override; 10] = [
            ("REVENUE_AGENTS_CONNECT_TIMEOUT", "soon", |b| {
                b.connect_timeout(Duration::from_secs(3))
            }),
            ("REVENUE_AGENTS_READ_TIMEOUT", "-5", |b| {
                b.read_timeout(Duration::from_secs(3))
            }),
            ("REVENUE_AGENTS_CALL_TIMEOUT", "0", |b| {
                b.call_timeout(Duration::from_secs(3))
            }),
            ("REVENUE_AGENTS_MAX_RESPONSE_BYTES", "1.5e6", |b| {
                b.max_response_bytes(1000)
            }),
            ("REVENUE_AGENTS_MAX_RETRIES", "3.5", |b| {
                b.retry_policy(RetryPolicy::none())
            }),
            ("REVENUE_AGENTS_RETRY_MAX_WAIT", "NaN", |b| {
                b.retry_policy(RetryPolicy::none())
            }),
            ("REVENUE_AGENTS_USER_AGENT_SUFFIX", "bad\u{7f}agent", |b| {
                b.user_agent_suffix("good/1")
            }),
            ("REVENUE_AGENTS_CA_FILE", "/nonexistent/ca.pem", |b| {
                b.root_certificates_pem(&include_bytes!("fixtures/private-ca.crt")[..])
            }),
            ("REVENUE_AGENTS_PROXY", "socks5://127.0.0.1:1080", |b| {
                b.proxy("http://127.0.0.1:3128")
            }),
            // Refused with the `redis` feature (no TLS) and without it (no sharing at all); a
            // budget given in code is the whole setting, so the variable is not read.
            (
                "REVENUE_AGENTS_REDIS_URL",
                "rediss://cache.internal:6380",
                |b| b.rate_budget(revenue_agents::RateBudget::hockeystack()),
            ),
        ];
        for (variable, bad, in_code) in code_settings {
            set(variable, Some(bad));
            let error = Client::from_env().unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::InvalidSetting { setting, .. } if *setting == variable),
                "{variable}: {error:?}"
            );
            // A value given in code makes the variable irrelevant.
            let built = in_code(Client::builder().from_env()).build();
            assert!(built.is_ok(), "{variable}: {:?}", built.err());
            set(variable, None);
        }
        // Past ten years is ten years, from the environment as from code.
        set("REVENUE_AGENTS_CALL_TIMEOUT", Some("1e12"));
        assert!(Client::from_env().is_ok());
        set("REVENUE_AGENTS_CALL_TIMEOUT", None);
        set(
            "REVENUE_AGENTS_USER_AGENT_SUFFIX",
            Some("pipeline-sync/2.1"),
        );
        set("REVENUE_AGENTS_MAX_RETRIES", Some("0"));
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let server = httpmock::MockServer::start_async().await;
                let me = server
                    .mock_async(|when, then| {
                        when.header(
                            "user-agent",
                            format!(
                                "revenue-agents/{} pipeline-sync/2.1",
                                env!("CARGO_PKG_VERSION")
                            ),
                        );
                        then.status(500);
                    })
                    .await;
                let client = Client::builder()
                    .base_url(server.base_url())
                    .from_env()
                    .build()
                    .unwrap();
                let error = client.me().send().await.unwrap_err();
                assert_eq!(error.status(), Some(500));
                // REVENUE_AGENTS_MAX_RETRIES=0: the GET was not repeated.
                assert_eq!(me.calls_async().await, 1);
                set("REVENUE_AGENTS_MAX_RETRIES", None);
                me.delete_async().await;
                timeouts_and_sizes_take_effect(&server).await;
            });
        set("REVENUE_AGENTS_USER_AGENT_SUFFIX", None);
        set("REVENUE_AGENTS_MAX_RETRIES", None);
        set("HOCKEYSTACK_BASE_URL", None);
        set("HOCKEYSTACK_API_TOKEN", None);
    }
    #[cfg(feature = "hyperrep")]
    {
        use revenue_agents::hyperrep::Client;
        set("HYPERREP_API_KEY", None);
        set("HYPERREP_BASE_URL", None);
        let error = Client::from_env().unwrap_err();
        assert!(matches!(
            error.kind(),
            ErrorKind::MissingCredentials {
                variable: "HYPERREP_API_KEY",
                ..
            }
        ));
        assert!(error.to_string().contains("HYPERREP_API_KEY"));

        set("HYPERREP_API_KEY", Some("hr_env_key"));
        assert_eq!(
            Client::from_env().unwrap().base_url(),
            "https://api.hyperrep.ai"
        );

        set("HYPERREP_BASE_URL", Some("http://localhost:8080"));
        assert_eq!(
            Client::from_env().unwrap().base_url(),
            "http://localhost:8080"
        );
        set("HYPERREP_BASE_URL", None);
        set("HYPERREP_API_KEY", None);
    }
}

/// The timing and size variables change what a client does, and code wins over each.
#[cfg(feature = "hockeystack")]
async fn timeouts_and_sizes_take_effect(server: &httpmock::MockServer) {
    use revenue_agents::{RetryPolicy, hockeystack::Client};
    use std::time::Duration;
    let client = || Client::builder().base_url(server.base_url()).from_env();

    // An answer that takes 1 s: past a read timeout of 0.2 s from the environment, within
    // the 5 s given in code.
    let slow = server
        .mock_async(|when, then| {
            when.path("/tasks");
            then.status(200)
                .delay(Duration::from_secs(1))
                .json_body(serde_json::json!({"tasks": [], "next_cursor": null}));
        })
        .await;
    set("REVENUE_AGENTS_READ_TIMEOUT", Some("0.2"));
    let error = client()
        .build()
        .unwrap()
        .list_tasks()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Transport {
                cause: revenue_agents::TransportCause::ReadTimeout
            }
        ),
        "{error:?}"
    );
    let code = client()
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let answer = code.list_tasks().send().await;
    assert!(answer.is_ok(), "code wins: {answer:?}");
    set("REVENUE_AGENTS_READ_TIMEOUT", None);

    // The same slow answer, past a whole-call deadline of 0.3 s.
    set("REVENUE_AGENTS_CALL_TIMEOUT", Some("0.3"));
    let error = client()
        .build()
        .unwrap()
        .list_tasks()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::DeadlineExceeded {
            limit: Duration::from_millis(300)
        }
    );
    let code = client()
        .call_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(code.list_tasks().send().await.is_ok(), "code wins");
    set("REVENUE_AGENTS_CALL_TIMEOUT", None);
    slow.delete_async().await;

    // A 100-byte answer, past a limit of 10 bytes.
    let page = server
        .mock_async(|when, then| {
            when.path("/credits/operations");
            then.status(200).json_body(
                serde_json::json!({"operations": [], "next_cursor": null, "pad": "x".repeat(60)}),
            );
        })
        .await;
    set("REVENUE_AGENTS_MAX_RESPONSE_BYTES", Some("10"));
    let error = client()
        .build()
        .unwrap()
        .credits_operations()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::ResponseTooLarge { limit: 10 });
    let code = client().max_response_bytes(1000).build().unwrap();
    assert!(code.credits_operations().send().await.is_ok(), "code wins");
    set("REVENUE_AGENTS_MAX_RESPONSE_BYTES", None);
    page.delete_async().await;

    // A 429 asking for 0.5 s: past a retry bound of 0.2 s from the environment, so it comes
    // straight back; with the default bound it is waited for and repeated.
    let limited = server
        .mock_async(|when, then| {
            when.path("/credits/balance");
            then.status(429).header("retry-after", "0.5");
        })
        .await;
    set("REVENUE_AGENTS_RETRY_MAX_WAIT", Some("0.2"));
    let error = client()
        .build()
        .unwrap()
        .credits_balance()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::RateLimited { .. }));
    assert_eq!(limited.calls_async().await, 1, "not repeated");
    let code = client()
        .retry_policy(RetryPolicy::default().max_retries(1))
        .build()
        .unwrap();
    let _ = code.credits_balance().send().await;
    assert_eq!(limited.calls_async().await, 3, "code wins: repeated once");
    set("REVENUE_AGENTS_RETRY_MAX_WAIT", None);

    // The rate budget: one read a minute from the environment holds the second read back
    // (past a 0.3 s deadline, refused unsent); `off` and code both lift it.
    let me = server
        .mock_async(|when, then| {
            when.path("/me");
            then.status(200).json_body(serde_json::json!({
                "workspace": {"id": "ws_1", "name": "Acme"},
                "token": {"id": "tok_1", "name": "ci"}
            }));
        })
        .await;
    set("REVENUE_AGENTS_CALL_TIMEOUT", Some("0.3"));
    set(
        "REVENUE_AGENTS_RATE_BUDGET",
        Some("read=1, write=60, window=60"),
    );
    let paced = client().build().unwrap();
    paced.me().send().await.unwrap();
    let error = paced.me().send().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RateBudgetExhausted { pool, .. } if pool == "read"),
        "{error:?}"
    );
    assert_eq!(me.calls_async().await, 1, "refused unsent");
    let code = client().no_rate_budget().build().unwrap();
    code.me().send().await.unwrap();
    code.me().send().await.unwrap();
    set("REVENUE_AGENTS_RATE_BUDGET", Some("off"));
    let off = client().build().unwrap();
    off.me().send().await.unwrap();
    off.me().send().await.unwrap();
    for bad in [
        "read=5",
        "read=0,write=1",
        "read=1,write=1,window=-2",
        "fast",
        "read=1,write=1,burst=3",
    ] {
        set("REVENUE_AGENTS_RATE_BUDGET", Some(bad));
        let error = client().build().unwrap_err();
        assert!(
            matches!(
                error.kind(),
                ErrorKind::InvalidSetting {
                    setting: "REVENUE_AGENTS_RATE_BUDGET",
                    ..
                }
            ),
            "{bad}: {error:?}"
        );
    }
    set("REVENUE_AGENTS_RATE_BUDGET", None);
    set("REVENUE_AGENTS_CALL_TIMEOUT", None);
}
