//! The sandbox as a program, for clients in other languages:
//! `cargo run --features sandbox --bin revenue-agents-sandbox -- --port 8080`.

use std::time::Duration;

use revenue_agents::sandbox::{Sandbox, SandboxConfig};

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

fn parse_args() -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig::default();
    let mut args = std::env::args().skip(1);
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
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() {
    let config = match parse_args() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start the sandbox: {e}");
            std::process::exit(1);
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
}
