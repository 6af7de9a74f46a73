//! A fleet on one token: 4 worker processes × 16 tasks writing as fast as they may against the
//! sandbox, its write limit and window scaled so that a run covers several windows, side by
//! side in one run:
//!
//! - (a) no budget, today's default before budgets: bursts, 429s, retries after `Retry-After`;
//! - (b) a budget in each worker process, each keeping to the whole limit by itself;
//! - (c) one budget shared by all workers through Redis.
//!
//! Reported per mode: the 429s the sandbox sent, the writes completed per window after the first
//! as a share of the limit, and the longest any one request took (its wait included).
//!
//! `cargo bench --bench rate_budget --features sandbox,redis` (needs `redis-server`);
//! `-- SECONDS WINDOW LIMIT` changes the run length (40), the window (10) and the writes per
//! window (20).

use std::{
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use revenue_agents::{
    RateBudget,
    hockeystack::{self, types},
    sandbox::{Sandbox, SandboxConfig},
};

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

const WORKERS: usize = 4;
const TASKS: usize = 16;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

fn main() {
    if std::env::var_os("BENCH_WORKER").is_some() {
        worker();
        return;
    }
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = args.first().copied().unwrap_or(40.0);
    let window = Duration::from_secs_f64(args.get(1).copied().unwrap_or(10.0));
    let limit = args.get(2).copied().unwrap_or(20.0) as u32;
    let Some(redis) = redis_server::start_redis() else {
        return;
    };
    println!(
        "{WORKERS} processes × {TASKS} tasks, {limit} writes per {:.0} s window, {seconds:.0} s per mode\n",
        window.as_secs_f64()
    );
    println!(
        "| mode | 429s received | writes per window after the first (share of the limit) | longest request |"
    );
    println!("|---|---|---|---|");
    for mode in ["none", "local", "redis"] {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let row = runtime.block_on(run(mode, seconds, window, limit, &redis.url));
        println!("{row}");
    }
    redis.stop();
}

/// One mode: a fresh sandbox, the workers, and the sandbox's counts.
async fn run(mode: &str, seconds: f64, window: Duration, limit: u32, redis: &str) -> String {
    let sandbox = Sandbox::start(SandboxConfig {
        write_limit: limit,
        rate_window: window,
        provisioning_time: Duration::ZERO,
        job_time: Duration::from_millis(50),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let start = unix_ms();
    let until = start + (seconds * 1000.0) as u64;
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            Command::new(std::env::current_exe().unwrap())
                .env("BENCH_WORKER", id.to_string())
                .env("BENCH_MODE", mode)
                .env("BENCH_BASE_URL", sandbox.hockeystack_url())
                .env("BENCH_TOKEN", sandbox.hockeystack_token())
                .env("BENCH_REDIS", redis)
                .env("BENCH_UNTIL", until.to_string())
                .env("BENCH_WINDOW", window.as_secs_f64().to_string())
                .env("BENCH_LIMIT", limit.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut completions = Vec::new();
    let mut longest = 0u64;
    for worker in workers {
        let output = tokio::task::spawn_blocking(move || worker.wait_with_output().unwrap())
            .await
            .unwrap();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some(rest) = line.strip_prefix("done ") {
                completions.push(rest.parse::<u64>().unwrap());
            } else if let Some(rest) = line.strip_prefix("longest ") {
                longest = longest.max(rest.parse().unwrap());
            }
        }
    }
    let counts = sandbox.rate_counts(sandbox.hockeystack_token());
    sandbox.shutdown().await;
    // Whole windows after the first, within the run.
    let window_ms = window.as_millis() as u64;
    let windows = (until - start) / window_ms;
    let mut per_window = vec![0u64; windows as usize];
    for at in completions {
        let index = ((at.saturating_sub(start)) / window_ms) as usize;
        if index < per_window.len() {
            per_window[index] += 1;
        }
    }
    let after_first = &per_window[1..];
    let mean = after_first.iter().sum::<u64>() as f64 / after_first.len().max(1) as f64;
    format!(
        "| {} | {} | {:.1} ({:.0} %) | {:.1} s |",
        match mode {
            "none" => "(a) no budget",
            "local" => "(b) a budget per process",
            _ => "(c) one budget through Redis",
        },
        counts.writes_refused,
        mean,
        100.0 * mean / f64::from(limit),
        longest as f64 / 1000.0,
    )
}

#[path = "../tests/support/task.rs"]
mod task;
use task::task;

/// A worker process: 16 tasks creating tasks and sending messages until the end of the run,
/// printing the moment each write completed and the longest request.
fn worker() {
    let var = |name: &str| std::env::var(name).unwrap();
    let id: usize = var("BENCH_WORKER").parse().unwrap();
    let until: u64 = var("BENCH_UNTIL").parse().unwrap();
    let window = Duration::from_secs_f64(var("BENCH_WINDOW").parse().unwrap());
    let limit: u32 = var("BENCH_LIMIT").parse().unwrap();
    let budget = RateBudget::per_minute(100_000, limit).window(window);
    let builder = hockeystack::Client::builder()
        .credential(var("BENCH_TOKEN"))
        .base_url(var("BENCH_BASE_URL"))
        .call_timeout(Duration::from_secs(600));
    let client = match var("BENCH_MODE").as_str() {
        "none" => builder.no_rate_budget(),
        "local" => builder.rate_budget(budget),
        _ => builder.rate_budget(budget.shared_through_redis(&var("BENCH_REDIS")).unwrap()),
    }
    .build()
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lines = runtime.block_on(async move {
        // One conversation per worker for the messages (its own writes count too). Without a
        // budget the setup may run out of retries in the crowd: it tries again.
        let deal = format!("90000{id:05}");
        let agent = client.deal_agent(deal.as_str());
        let conversation = loop {
            let ensured = agent
                .ensure()
                .policy(revenue_agents::PollPolicy::new(
                    Duration::from_millis(50),
                    Duration::from_millis(200),
                ))
                .await;
            if ensured.is_ok()
                && let Ok(conversation) = agent.open_conversation().await
            {
                break conversation;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..TASKS {
            let (client, deal, conversation) = (client.clone(), deal.clone(), conversation.clone());
            tasks.spawn(async move {
                let mut done = Vec::new();
                let mut longest = 0u64;
                let mut n = 0;
                while unix_ms() < until {
                    let started = unix_ms();
                    let result = if t % 2 == 0 {
                        client
                            .create_task()
                            .body(task(id * 10_000 + t * 100 + n))
                            .send()
                            .await
                            .map(drop)
                    } else {
                        client
                            .send_deal_message()
                            .deal_id(deal.as_str())
                            .cid(conversation.as_str())
                            .body(types::SendMessageRequest::builder().message("Anything new?"))
                            .send()
                            .await
                            .map(drop)
                    };
                    let finished = unix_ms();
                    longest = longest.max(finished - started);
                    if result.is_ok() && finished < until {
                        done.push(finished);
                    }
                    n += 1;
                }
                (done, longest)
            });
        }
        let mut lines = String::new();
        let mut longest = 0;
        while let Some(joined) = tasks.join_next().await {
            let (done, task_longest) = joined.unwrap();
            longest = longest.max(task_longest);
            for at in done {
                lines.push_str(&format!("done {at}\n"));
            }
        }
        lines.push_str(&format!("longest {longest}\n"));
        lines
    });
    print!("{lines}");
}
