//! The three programs as a careless script runs them: an argument or a variable that is not
//! UTF-8, or set to a value that cannot be used, stops each one with the usage code and the
//! name of what was wrong. Nothing crashes (exit 101), and nothing falls back to a default that
//! would serve more or send requests elsewhere.
#![cfg(all(feature = "cli", feature = "mcp", unix))]

use std::{
    ffi::{OsStr, OsString},
    os::unix::ffi::OsStrExt,
    process::{Command, Output, Stdio},
};

const TOOL: &str = env!("CARGO_BIN_EXE_revenue-agents");
const MCP: &str = env!("CARGO_BIN_EXE_revenue-agents-mcp");
const SANDBOX: &str = env!("CARGO_BIN_EXE_revenue-agents-sandbox");

fn not_utf8() -> OsString {
    OsStr::from_bytes(b"caf\xe9").to_owned()
}

fn run(program: &str, args: &[OsString], env: &[(&str, OsString)]) -> Output {
    Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_naming_it_in_every_program() {
    let cases: [(&str, Vec<OsString>); 4] = [
        (TOOL, vec!["hockeystack".into(), not_utf8()]),
        (
            TOOL,
            vec!["--json-errors".into(), "hockeystack".into(), not_utf8()],
        ),
        (MCP, vec!["--sandbox".into(), not_utf8()]),
        (SANDBOX, vec!["--port".into(), not_utf8()]),
    ];
    for (program, args) in cases {
        let output = run(program, &args, &[]);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{program} {args:?}: {stderr}"
        );
        assert!(
            stderr.contains("argument")
                && stderr.contains("caf\u{FFFD}")
                && stderr.contains("UTF-8"),
            "{program} {args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_mcp_server_refuses_a_switch_or_list_it_cannot_read_instead_of_serving_everything() {
    for (variable, value) in [
        ("REVENUE_AGENTS_MCP_READ_ONLY", not_utf8()),
        ("REVENUE_AGENTS_MCP_READ_ONLY", OsString::from("maybe")),
        ("REVENUE_AGENTS_MCP_TOOLSETS", not_utf8()),
        ("REVENUE_AGENTS_MCP_TOOLS", not_utf8()),
        ("REVENUE_AGENTS_MCP_EXCLUDE_TOOLS", not_utf8()),
        ("REVENUE_AGENTS_MCP_COMPACT", not_utf8()),
        ("REVENUE_AGENTS_MCP_RESULT_CHARS", not_utf8()),
    ] {
        let output = run(
            MCP,
            &["--sandbox".into(), "--list-tools".into()],
            &[(variable, value.clone())],
        );
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{variable}={value:?}: {stderr}"
        );
        assert!(stderr.contains(variable), "{stderr}");
        assert!(
            output.stdout.is_empty(),
            "{variable}={value:?} served: {}",
            text(&output.stdout)
        );
    }
    // Read-only, readable: only tools that change nothing.
    let output = run(
        MCP,
        &["--sandbox".into(), "--list-tools".into()],
        &[("REVENUE_AGENTS_MCP_READ_ONLY", "yes".into())],
    );
    let listing = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        !listing.is_empty() && !listing.contains("(writes)"),
        "{listing}"
    );
}

#[test]
fn a_base_url_or_credential_that_cannot_be_read_never_falls_back_to_the_real_service() {
    for variable in ["HOCKEYSTACK_BASE_URL", "HOCKEYSTACK_API_TOKEN"] {
        let mut env = vec![("HOCKEYSTACK_API_TOKEN", OsString::from("hsr_live_x"))];
        env.retain(|(name, _)| *name != variable);
        env.push((variable, not_utf8()));
        let output = run(
            TOOL,
            &[
                "--json-errors".into(),
                "hockeystack".into(),
                "service".into(),
                "me".into(),
            ],
            &env,
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{variable}: {stderr}");
        let error: serde_json::Value = serde_json::from_str(&stderr).unwrap();
        assert_eq!(error["error"]["kind"], "invalid_setting", "{stderr}");
        assert!(stderr.contains(variable), "{stderr}");
    }
}

#[test]
fn a_negative_count_is_refused_naming_its_flag() {
    for (flag, args) in [
        (
            "--max-items",
            vec!["hockeystack", "tasks", "list", "--max-items", "-1"],
        ),
        (
            "--limit",
            vec!["hockeystack", "tasks", "list", "--limit", "-5"],
        ),
        (
            "--wait-seconds",
            vec![
                "hockeystack",
                "ask",
                "--deal-id",
                "1",
                "--wait-seconds",
                "-3",
                "hi",
            ],
        ),
    ] {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let output = run(
            TOOL,
            &args,
            &[("HOCKEYSTACK_API_TOKEN", "hsr_live_x".into())],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

#[test]
fn help_texts_hold_no_character_a_reader_cannot_see() {
    for (program, args) in [
        (MCP, vec!["--help"]),
        (SANDBOX, vec!["--help"]),
        (TOOL, vec!["--help"]),
        (TOOL, vec!["hockeystack", "ask", "--help"]),
    ] {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let output = run(program, &args, &[]);
        assert_eq!(output.status.code(), Some(0), "{program} {args:?}");
        let help = text(&output.stdout);
        let hidden: Vec<char> = help
            .chars()
            .filter(|c| {
                matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
                    || (c.is_control() && *c != '\n')
            })
            .collect();
        assert!(hidden.is_empty(), "{program} {args:?}: {hidden:?}");
    }
}
