//! Configuration from the environment. One test function, so that no other test of this
//! binary reads the variables while they change.

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
        use revenue_agents::hockeystack::Client;
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
        set("HOCKEYSTACK_BASE_URL", None);

        // Code wins over the environment wherever from_env() stands in the chain.
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
        // Without from_env() the environment is not read at all.
        assert!(matches!(
            Client::builder().build().unwrap_err().kind(),
            ErrorKind::MissingCredentials { .. }
        ));

        // Shared settings: a bad value names its variable; a good one is used.
        for (variable, bad) in [
            ("REVENUE_AGENTS_CONNECT_TIMEOUT", "soon"),
            ("REVENUE_AGENTS_READ_TIMEOUT", "-5"),
            ("REVENUE_AGENTS_MAX_RETRIES", "3.5"),
            ("REVENUE_AGENTS_RETRY_MAX_WAIT", "NaN"),
            ("REVENUE_AGENTS_USER_AGENT_SUFFIX", "bad\u{7f}agent"),
        ] {
            set(variable, Some(bad));
            let error = Client::from_env().unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::InvalidSetting { setting, .. } if *setting == variable),
                "{variable}: {error:?}"
            );
            // A value given in code makes the variable irrelevant.
            set(variable, None);
        }
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
