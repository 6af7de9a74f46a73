//! `revenue-agents-sandbox`, the sandbox as a program, for clients in other languages and for
//! state that lasts between commands: `revenue-agents-sandbox --port 8080 --state
//! sandbox.json`. Its options are one table, from which both the parser and `--help` (with
//! every default, read from [`SandboxConfig::default`]) are made. An argument that is not
//! UTF-8 or cannot be used stops it naming the argument. The binary is `src/bin/sandbox.rs`;
//! this module is public only so that it can call [`main`].

use std::{io::Write, process::ExitCode, time::Duration};

use super::{Sandbox, SandboxConfig};
use crate::{config::Api, hockeystack::HockeyStack, hyperrep::HyperRep, setting};

/// One option: its flag, the name of its value (none for a switch), what it does, its
/// default as help shows it, and how it changes the configuration.
struct Opt {
    flag: &'static str,
    value: Option<&'static str>,
    help: &'static str,
    default: fn(&SandboxConfig) -> String,
    apply: fn(&mut SandboxConfig, &str) -> Result<(), String>,
}

fn secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

const OPTIONS: &[Opt] = &[
    Opt {
        flag: "--host",
        value: Some("ADDR"),
        help: "the address to listen on (the controls answer loopback only, whatever it is)",
        default: |c| c.host.to_string(),
        apply: |c, v| {
            c.host = v.parse().map_err(|_| {
                format!("{v:?} is not an IP address (127.0.0.1, ::1 or 0.0.0.0, say)")
            })?;
            Ok(())
        },
    },
    Opt {
        flag: "--port",
        value: Some("N"),
        help: "the port to listen on; 0 picks a free one",
        default: |c| c.port.to_string(),
        apply: |c, v| {
            c.port = v
                .parse()
                .map_err(|_| format!("{v:?} is not a port number (0 to 65535)"))?;
            Ok(())
        },
    },
    Opt {
        flag: "--provisioning-seconds",
        value: Some("S"),
        help: "how long a HockeyStack agent takes to provision (0: at once)",
        default: |c| secs(c.provisioning_time),
        apply: |c, v| {
            c.provisioning_time = seconds(v)?;
            Ok(())
        },
    },
    Opt {
        flag: "--job-seconds",
        value: Some("S"),
        help: "how long a HockeyStack message job stays pending (0: at once)",
        default: |c| secs(c.job_time),
        apply: |c, v| {
            c.job_time = seconds(v)?;
            Ok(())
        },
    },
    Opt {
        flag: "--read-limit",
        value: Some("N"),
        help: "HockeyStack reads a token may make per rate window",
        default: |c| c.read_limit.to_string(),
        apply: |c, v| {
            c.read_limit = limit(v)?;
            Ok(())
        },
    },
    Opt {
        flag: "--write-limit",
        value: Some("N"),
        help: "HockeyStack writes a token may make per rate window",
        default: |c| c.write_limit.to_string(),
        apply: |c, v| {
            c.write_limit = limit(v)?;
            Ok(())
        },
    },
    Opt {
        flag: "--rate-window",
        value: Some("S"),
        help: "the rolling window the rate limits count over, in seconds (at least 0.001)",
        default: |c| secs(c.rate_window),
        apply: |c, v| {
            c.rate_window = seconds(v)?;
            if c.rate_window < Duration::from_millis(1) {
                return Err("at least 0.001 seconds".into());
            }
            Ok(())
        },
    },
    Opt {
        flag: "--extra-token",
        value: Some("T"),
        help: "one more HockeyStack token to accept, with pools of its own (repeatable)",
        default: |_| "none".into(),
        apply: |c, v| {
            c.extra_hockeystack_tokens
                .push(non_empty(v, "a token")?.to_owned());
            Ok(())
        },
    },
    Opt {
        flag: "--sales",
        value: Some("N"),
        help: "how many sales the generated HyperRep organization has",
        default: |c| c.seed.sales.to_string(),
        apply: |c, v| {
            c.seed.sales = v
                .parse()
                .map_err(|_| format!("{v:?} is not a whole number of sales"))?;
            Ok(())
        },
    },
    Opt {
        flag: "--hyperrep-seed",
        value: Some("FILE"),
        help: "your own HyperRep organization, as JSON (see the README)",
        default: |_| "the generated one".into(),
        apply: |c, v| {
            c.hyperrep_seed = Some(read_json(v, "HyperRep seed")?);
            Ok(())
        },
    },
    Opt {
        flag: "--hockeystack-seed",
        value: Some("FILE"),
        help: "your own HockeyStack workspace, as JSON (see the README)",
        default: |_| "three demo tasks".into(),
        apply: |c, v| {
            c.hockeystack_seed = Some(read_json(v, "HockeyStack seed")?);
            Ok(())
        },
    },
    Opt {
        flag: "--state",
        value: Some("FILE"),
        help: "keep the state in FILE across restarts: loaded at start if it exists (one that \
               cannot be used, or a place that cannot be written, stops the start and is left as \
               it is), saved after changes and on Ctrl-C or SIGTERM; the seeds are then what \
               POST /__sandbox/reset returns to",
        default: |_| "none: the state ends with the process".into(),
        apply: |c, v| {
            c.state_file = Some(non_empty(v, "a file")?.into());
            Ok(())
        },
    },
    Opt {
        flag: "--log",
        value: None,
        help: "print one line for each request to the APIs on stderr: the sandbox clock's time, \
               method, path, status, duration, fault",
        default: |_| "off".into(),
        apply: |c, _| {
            c.log_requests = true;
            Ok(())
        },
    },
];

/// A value that must not be empty (`--state=` names no file).
fn non_empty<'a>(value: &'a str, what: &str) -> Result<&'a str, String> {
    if value.is_empty() {
        return Err(format!("needs {what}, not an empty value"));
    }
    Ok(value)
}

/// Seconds as a duration: a finite, non-negative number (0 makes it instant).
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a number of seconds"))
}

/// A rate limit: at least one request a window.
fn limit(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?} is not a positive whole number"))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &str, what: &str) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path} is not a {what}: {e}"))
}

const ABOUT: &str = "A local, stateful fake of HockeyStack's Revenue Agents API and HyperRep's API, \
                     on one port.";

fn usage() -> String {
    let flags: Vec<String> = OPTIONS
        .iter()
        .map(|o| match o.value {
            Some(v) => format!("[{} {v}]", o.flag),
            None => format!("[{}]", o.flag),
        })
        .collect();
    format!("usage: revenue-agents-sandbox {}", flags.join(" "))
}

fn help() -> String {
    let defaults = SandboxConfig::default();
    let mut out = format!("{ABOUT}\n\n{}\n\nOptions:\n", usage());
    for o in OPTIONS {
        let name = match o.value {
            Some(v) => format!("{} {v}", o.flag),
            None => o.flag.to_owned(),
        };
        out.push_str(&format!(
            "  {name:<26} {} [default: {}]\n",
            o.help,
            (o.default)(&defaults)
        ));
    }
    out.push_str(
        "  -h, --help                 this help\n  -V, --version              the version\n\n\
         An option also takes its value after `=` (--port=8080). On start it prints the lines that point \
         the revenue-agents tool, the library's clients (from_env) and the MCP server at it.\n",
    );
    out
}

/// What the command line asks for.
enum Asked {
    Run(Box<SandboxConfig>),
    Help,
    Version,
}

/// The configuration the command line (`args`, without the program) asks for.
fn parse_args(args: Vec<String>) -> Result<Asked, String> {
    let mut config = SandboxConfig::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Asked::Help),
            "-V" | "--version" => return Ok(Asked::Version),
            _ => {}
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let Some(option) = OPTIONS.iter().find(|o| o.flag == flag) else {
            return Err(format!("unknown argument {arg:?}"));
        };
        let value = match (option.value, inline) {
            (None, None) => String::new(),
            (None, Some(_)) => return Err(format!("{flag} takes no value")),
            (Some(_), Some(value)) => value,
            (Some(name), None) => args
                .next()
                .ok_or_else(|| format!("{flag} needs a value ({name})"))?,
        };
        (option.apply)(&mut config, &value).map_err(|problem| format!("{flag}: {problem}"))?;
    }
    Ok(Asked::Run(Box::new(config)))
}

/// Runs the sandbox this process's command line asks for until Ctrl-C, and returns its exit
/// code: 2 for an argument that cannot be used (named), 1 when the sandbox cannot start (a
/// state file it cannot use, say).
pub fn main() -> ExitCode {
    let say = |text: &str| {
        // Written, not printed: a reader that stops early ends the output quietly.
        let _ = write!(std::io::stdout().lock(), "{text}");
    };
    let config = match setting::arguments(std::env::args_os().skip(1)).and_then(parse_args) {
        Ok(Asked::Run(config)) => *config,
        Ok(Asked::Help) => {
            say(&help());
            return ExitCode::SUCCESS;
        }
        Ok(Asked::Version) => {
            say(&format!(
                "revenue-agents-sandbox {}\n",
                env!("CARGO_PKG_VERSION")
            ));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("revenue-agents-sandbox: {message}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let runtime = match setting::runtime("revenue-agents-sandbox") {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(serve(config))
}

/// A value as a POSIX shell reads it back, quoted when it needs to be.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// What the sandbox prints on start: where each API is, the `export` lines that point the
/// tool, the clients and the MCP server at it, and its controls.
fn started(sandbox: &Sandbox, config: &SandboxConfig) -> String {
    let export = |variable: &str, value: &str| format!("export {variable}={}\n", shell_word(value));
    let mut out = format!(
        "# revenue-agents-sandbox {} on http://{}\n\
         # To point the revenue-agents tool, the clients (from_env) and the MCP server at it:\n",
        env!("CARGO_PKG_VERSION"),
        sandbox.addr()
    );
    out += &export(HockeyStack::BASE_URL_VARIABLE, &sandbox.hockeystack_url());
    out += &export(
        HockeyStack::CREDENTIAL_VARIABLE,
        sandbox.hockeystack_token(),
    );
    out += &export(HyperRep::BASE_URL_VARIABLE, &sandbox.hyperrep_url());
    out += &export(HyperRep::CREDENTIAL_VARIABLE, sandbox.hyperrep_key());
    out += &export(
        crate::hyperrep::ORGANIZATION_VARIABLE,
        super::hyperrep::ORG_ID,
    );
    let controls = sandbox.hyperrep_url();
    out += &format!(
        "# Controls (from loopback only): {controls}/__sandbox/ faults, requests, clock, reset, state\n"
    );
    if let Some(file) = &config.state_file {
        out += &format!("# State kept in {}\n", file.display());
    }
    out += "# Ctrl-C (or SIGTERM) stops it.\n";
    out
}

async fn serve(config: SandboxConfig) -> ExitCode {
    let sandbox = match Sandbox::start(config.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("revenue-agents-sandbox: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = write!(std::io::stdout().lock(), "{}", started(&sandbox, &config));
    let _ = std::io::stdout().flush();
    stopped().await;
    if let Err(e) = sandbox.stop().await {
        eprintln!("revenue-agents-sandbox: stopped, but the state was not saved: {e}");
        return ExitCode::FAILURE;
    }
    let _ = writeln!(std::io::stdout().lock(), "# stopped");
    ExitCode::SUCCESS
}

/// Until Ctrl-C, or SIGTERM (how `docker stop`, systemd and `timeout` ask a program to end).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn help_names_every_option_with_its_default() {
        let help = help();
        for o in OPTIONS {
            let line = help
                .lines()
                .find(|l| l.trim_start().starts_with(o.flag))
                .unwrap_or_else(|| panic!("{} is not in the help", o.flag));
            assert!(line.contains("[default: "), "{line}");
        }
        assert!(
            help.contains("[default: 600]") && help.contains("[default: 3]"),
            "{help}"
        );
    }

    #[test]
    fn both_spellings_of_a_value_are_taken_and_bad_ones_named() {
        let Ok(Asked::Run(config)) =
            parse_args(args(&["--port=8080", "--job-seconds", "0.5", "--log"]))
        else {
            panic!("refused");
        };
        assert_eq!(config.port, 8080);
        assert_eq!(config.job_time, Duration::from_millis(500));
        assert!(config.log_requests);
        for (wrong, says) in [
            (vec!["--port", "x"], "--port: \"x\" is not a port number"),
            (vec!["--port", "70000"], "not a port number"),
            (vec!["--host", "localhost"], "not an IP address"),
            (vec!["--state="], "--state: needs a file"),
            (vec!["--extra-token="], "--extra-token: needs a token"),
            (vec!["--port"], "--port needs a value"),
            (vec!["--log=yes"], "--log takes no value"),
            (vec!["--rate-window", "0"], "--rate-window: at least"),
            (vec!["--nope"], "unknown argument"),
        ] {
            let Err(message) = parse_args(args(&wrong)) else {
                panic!("{wrong:?} accepted");
            };
            assert!(message.contains(says), "{wrong:?}: {message}");
        }
    }

    #[test]
    fn values_are_quoted_for_the_shell_when_they_need_to_be() {
        assert_eq!(
            shell_word("http://127.0.0.1:8080/api"),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
