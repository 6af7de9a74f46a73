//! The sandbox as a program, for clients in other languages:
//! `cargo run --features sandbox --bin revenue-agents-sandbox -- --port 8080`.

use std::time::Duration;

use revenue_agents::sandbox::{Sandbox, SandboxConfig};

const USAGE: &str = "usage: revenue-agents-sandbox [--port N] [--provisioning-seconds S] [--job-seconds S] \
                     [--read-limit N] [--write-limit N] [--sales N]";

fn parse_args() -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--provisioning-seconds" => {
                config.provisioning_time = Duration::from_secs_f64(
                    value(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?,
                )
            }
            "--job-seconds" => {
                config.job_time = Duration::from_secs_f64(
                    value(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?,
                )
            }
            "--read-limit" => {
                config.read_limit = value(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?
            }
            "--write-limit" => {
                config.write_limit = value(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?
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
        "Controls:    http://{}/__sandbox/faults (POST a rule, DELETE) and /__sandbox/requests (GET, DELETE)",
        sandbox.addr()
    );
    println!("Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    println!("stopped");
}
