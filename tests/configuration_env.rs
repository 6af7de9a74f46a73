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
            Err(ErrorKind::InvalidBaseUrl { .. })
        ));
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
