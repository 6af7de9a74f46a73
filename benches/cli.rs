//! The command-line tool beside the library, on one loopback sandbox in one run:
//!
//! - start-up: `revenue-agents --help`, and one call (`hockeystack credits balance`) as a
//!   process, beside the same call made by the library in this process;
//! - a 10 000-item list written as JSON lines: the tool (`hyperrep sales list --all` into
//!   /dev/null) beside the library's item stream writing the same lines into /dev/null.
//!
//! `cargo bench --bench cli --features cli`. Medians of several rounds, interleaved.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use revenue_agents::{
    Paginated,
    sandbox::{Sandbox, SandboxConfig, SeedSizes},
};

const BIN: &str = env!("CARGO_BIN_EXE_revenue-agents");
const ITEMS: usize = 10_000;
const ROUNDS: usize = 5;
const STARTS: usize = 21;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn tool(sandbox: &Sandbox, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOCKEYSTACK_API_TOKEN", sandbox.hockeystack_token())
        .env("HOCKEYSTACK_BASE_URL", sandbox.hockeystack_url())
        .env("HYPERREP_API_KEY", sandbox.hyperrep_key())
        .env("HYPERREP_BASE_URL", sandbox.hyperrep_url())
        .stdout(Stdio::null())
        .status()
        .expect("the tool runs");
    let took = start.elapsed();
    assert!(status.success(), "{args:?} failed");
    took
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(Sandbox::start(SandboxConfig {
            seed: SeedSizes {
                sales: ITEMS,
                ..SeedSizes::default()
            },
            // Reads are not what is measured.
            read_limit: 1_000_000,
            ..SandboxConfig::default()
        }))
        .unwrap();
    let hs = sandbox.hockeystack_client().unwrap();
    let hr = sandbox.hyperrep_client().unwrap();
    let org = runtime.block_on(async {
        hr.list_organizations()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data[0]
            .organization_id
            .clone()
    });

    let help: Vec<Duration> = (0..STARTS).map(|_| tool(&sandbox, &["--help"])).collect();
    let one_call: Vec<Duration> = (0..STARTS)
        .map(|_| tool(&sandbox, &["hockeystack", "credits", "balance"]))
        .collect();
    let in_process: Vec<Duration> = (0..STARTS)
        .map(|_| {
            runtime.block_on(async {
                let start = Instant::now();
                hs.credits_balance().send().await.unwrap();
                start.elapsed()
            })
        })
        .collect();

    let mut by_tool = Vec::new();
    let mut by_library = Vec::new();
    for _ in 0..ROUNDS {
        by_tool.push(tool(
            &sandbox,
            &[
                "hyperrep",
                "sales",
                "list",
                "--organization-id",
                org.as_str(),
                "--all",
            ],
        ));
        by_library.push(runtime.block_on(async {
            let start = Instant::now();
            let mut out = std::io::BufWriter::new(std::fs::File::create("/dev/null").unwrap());
            let mut items = std::pin::pin!(
                hr.list_sales()
                    .organization_id(org.as_str())
                    .limit(500)
                    .items()
            );
            let mut count = 0;
            while let Some(sale) = items.try_next().await.unwrap() {
                serde_json::to_writer(&mut out, &sale).unwrap();
                out.write_all(b"\n").unwrap();
                count += 1;
            }
            out.flush().unwrap();
            assert_eq!(count, ITEMS);
            start.elapsed()
        }));
    }
    let (tool_list, library_list) = (median(by_tool), median(by_library));
    println!("revenue-agents command-line tool, medians, one run on one loopback sandbox");
    println!("| measure | tool | library in-process | ratio |");
    println!("|---|---|---|---|");
    println!("| `--help` ({STARTS} runs) | {} | | |", ms(median(help)));
    println!(
        "| one call, credits balance ({STARTS} runs) | {} | {} | process start included |",
        ms(median(one_call)),
        ms(median(in_process))
    );
    println!(
        "| {ITEMS} sales as JSON lines ({ROUNDS} rounds) | {} | {} | {:.2} |",
        ms(tool_list),
        ms(library_list),
        tool_list.as_secs_f64() / library_list.as_secs_f64()
    );
}
