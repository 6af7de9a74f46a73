//! `revenue-agents-sandbox`, the sandbox as a program, for clients in other languages:
//! `cargo run --features sandbox --bin revenue-agents-sandbox -- --port 8080`. An argument that
//! is not UTF-8 or cannot be used stops it naming the argument. The binary is
//! `src/bin/sandbox.rs`; this module is public only so that it can call [`main`].

use std::{io::Write, process::ExitCode, time::Duration};

use super::{Sandbox, SandboxConfig};
use crate::setting;

const USAGE: &str = "usage: revenue-agents-sandbox [--host ADDR] [--port N] [--provisioning-seconds S] [--job-seconds S] \
                     [--read-limit N] [--write-limit N] [--rate-window S] [--extra-token T] [--sales N] [--hyperrep-seed FILE.json] \
                     [--hockeystack-seed FILE.json]";

/// Seconds as a duration: a finite, non-negative number (0 makes it instant).
fn seconds(arg: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{arg}: {text:?} is not a number of seconds"))
}

/// A rate limit: at least one request a minute.
fn limit(arg: &str, text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{arg}: {text:?} is not a positive whole number"))
}

/// The configuration the command line (`args`, without the program) asks for; `None` for help.
fn parse_args(args: Vec<String>) -> Result<Option<SandboxConfig>, String> {
    let mut config = SandboxConfig::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--host" => {
                config.host = value("--host")?
                    .parse()
                    .map_err(|e| format!("--host: {e}"))?
            }
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--provisioning-seconds" => config.provisioning_time = seconds(&arg, &value(&arg)?)?,
            "--job-seconds" => config.job_time = seconds(&arg, &value(&arg)?)?,
            "--read-limit" => config.read_limit = limit(&arg, &value(&arg)?)?,
            "--write-limit" => config.write_limit = limit(&arg, &value(&arg)?)?,
            "--rate-window" => {
                config.rate_window = seconds(&arg, &value(&arg)?)?;
                if config.rate_window < Duration::from_millis(1) {
                    return Err("--rate-window: at least 0.001 seconds".into());
                }
            }
            "--extra-token" => config.extra_hockeystack_tokens.push(value(&arg)?),
            "--hyperrep-seed" => {
                let path = value(&arg)?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{arg}: cannot read {path}: {e}"))?;
                config.hyperrep_seed = Some(
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{arg}: {path} is not a HyperRep seed: {e}"))?,
                );
            }
            "--hockeystack-seed" => {
                let path = value(&arg)?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{arg}: cannot read {path}: {e}"))?;
                config.hockeystack_seed = Some(
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{arg}: {path} is not a HockeyStack seed: {e}"))?,
                );
            }
            "--sales" => {
                config.seed.sales = value(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(config))
}

/// Runs the sandbox this process's command line asks for until Ctrl-C, and returns its exit
/// code: 2 for an argument that cannot be used (named), 1 when the sandbox cannot start.
pub fn main() -> ExitCode {
    let config = match setting::arguments(std::env::args_os().skip(1)).and_then(parse_args) {
        Ok(Some(config)) => config,
        Ok(None) => {
            // Written, not printed: a reader that stops early ends the help quietly.
            let _ = writeln!(std::io::stdout().lock(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("revenue-agents-sandbox: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match setting::runtime("revenue-agents-sandbox") {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(serve(config))
}

async fn serve(config: SandboxConfig) -> ExitCode {
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("revenue-agents-sandbox: cannot start the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "HockeyStack: {}  (Authorization: Bearer {})",
        sandbox.hockeystack_url(),
        sandbox.hockeystack_token()
    );
    println!(
        "HyperRep:    {}  (X-API-KEY: {})",
        sandbox.hyperrep_url(),
        sandbox.hyperrep_key()
    );
    println!(
        "Controls:    http://{}/__sandbox/faults (POST a rule, DELETE), /__sandbox/requests (GET, \
         DELETE) and /__sandbox/clock (GET, POST {{\"advance_secs\": N}}); from loopback only",
        sandbox.addr()
    );
    println!("Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    println!("stopped");
    ExitCode::SUCCESS
}
