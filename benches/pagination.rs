//! Throughput and memory of the crate's paginator against a hand-written reqwest loop, and
//! the cost of one plain call against the same request made with raw reqwest, sequentially
//! and 64 at a time, on the same loopback server, in one run; plus what the default wait
//! policies cost.
//!
//! `cargo bench --bench pagination` (optionally `-- ITEMS`, default 100000). Prints ratios:
//! above 1.0 means the crate is faster.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use revenue_agents::{Paginated, PollPolicy, RetryPolicy, hockeystack};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// Counts live heap bytes and their peak, so that memory is measured, not guessed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PAGE: usize = 200;
const AGENT: &str = r#"{"deal_id":"D-1","status":"active","agent_id":"agt_01","created_at":"2026-05-22T10:05:00Z"}"#;
const TOKEN: &str = "hsr_live_bench_token";

/// Pre-rendered task pages: page `i` answers cursor `p{i}` (the first page, no cursor).
fn render_pages(items: usize) -> Vec<Vec<u8>> {
    let pages = items.div_ceil(PAGE);
    (0..pages)
        .map(|p| {
            let tasks: Vec<_> = (p * PAGE..((p + 1) * PAGE).min(items))
                .map(|i| {
                    serde_json::json!({
                        "task_id": format!("00000000-0000-4000-8000-{i:012}"),
                        "status": "pending",
                        "task_type": "email",
                        "task_title": format!("Follow up on deal {i}"),
                        "priority": "medium",
                        "assignee_id": "usr_204",
                        "agent_id": "agt_01",
                        "targets": {"deal_id": format!("{i}")},
                        "created_at": "2026-05-22T10:05:00Z"
                    })
                })
                .collect();
            let next = (p + 1 < pages).then(|| format!("p{}", p + 1));
            serde_json::to_vec(&serde_json::json!({"tasks": tasks, "next_cursor": next})).unwrap()
        })
        .collect()
}

/// A keep-alive HTTP/1.1 server that answers `GET /tasks?...cursor=pN` with page N.
async fn serve(listener: TcpListener, pages: Arc<Vec<Vec<u8>>>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        // Without it, Nagle's algorithm and delayed ACKs add ~40 ms to every page.
        let _ = socket.set_nodelay(true);
        let pages = pages.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(8192);
            loop {
                let end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                };
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                buf.drain(..end);
                let target = head.split_whitespace().nth(1).unwrap_or("/");
                let page = target
                    .split(['?', '&'])
                    .find_map(|kv| kv.strip_prefix("cursor=p"))
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                // A single agent for `GET /deals/{id}/agent`; task pages otherwise.
                let body = if target.ends_with("/agent") {
                    AGENT.as_bytes()
                } else {
                    &pages[page]
                };
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                answer.extend_from_slice(body);
                if socket.write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// What the consumer does with each page: nothing, or an awaited 1 ms of work (a database
/// write, say), during which the crate's prefetch keeps the next page coming.
#[derive(Clone, Copy, PartialEq)]
enum Consumer {
    Idle,
    WorksPerPage,
}

async fn work(consumer: Consumer) {
    if consumer == Consumer::WorksPerPage {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn crate_stream(client: &hockeystack::Client, consumer: Consumer) -> usize {
    let limit = PAGE as u64;
    let mut count: usize = 0;
    let mut items = client.list_tasks().limit(limit).items();
    while let Some(task) = items.try_next().await.unwrap() {
        black_box(&task);
        count += 1;
        if count.is_multiple_of(PAGE) {
            work(consumer).await;
        }
    }
    count
}

async fn hand_written(http: &reqwest::Client, base: &str, consumer: Consumer) -> usize {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{base}/tasks"))
            .bearer_auth(TOKEN)
            .query(&[("limit", PAGE.to_string())]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: hockeystack::types::TaskList =
            request.send().await.unwrap().json().await.unwrap();
        for (i, task) in page.tasks.iter().enumerate() {
            black_box(task);
            count += 1;
            if (i + 1).is_multiple_of(PAGE) {
                work(consumer).await;
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return count,
        }
    }
}

/// `n` plain calls through the crate, `parallel` at a time.
async fn crate_calls(client: &hockeystack::Client, n: usize, parallel: usize) -> usize {
    let one = |_| async {
        for _ in 0..n / parallel {
            black_box(client.get_deal_agent().deal_id("D-1").send().await.unwrap());
        }
    };
    futures_util::future::join_all((0..parallel).map(one)).await;
    n / parallel * parallel
}

/// The same calls with raw reqwest: the same header, the same typed decode.
async fn raw_calls(http: &reqwest::Client, base: &str, n: usize, parallel: usize) -> usize {
    let one = |_| async {
        for _ in 0..n / parallel {
            let agent: hockeystack::types::AgentState = http
                .get(format!("{base}/deals/D-1/agent"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            black_box(agent);
        }
    };
    futures_util::future::join_all((0..parallel).map(one)).await;
    n / parallel * parallel
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Items per second and the peak of extra heap bytes during one run.
async fn measure<F: std::future::Future<Output = usize>>(run: F) -> (f64, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let n = run.await;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    (rate, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn main() {
    let items: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let small = Arc::new(render_pages(items / 10));
        let large = Arc::new(render_pages(items));
        let small_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let small_base = format!("http://{}", small_listener.local_addr().unwrap());
        tokio::spawn(serve(listener, large));
        tokio::spawn(serve(small_listener, small));

        let client = |base: &str| {
            hockeystack::Client::builder().credential(TOKEN).base_url(base).retry_policy(RetryPolicy::none()).build().unwrap()
        };
        let crate_client = client(&base);
        let crate_small = client(&small_base);
        let http = reqwest::Client::new();

        println!("pagination: {items} tasks in pages of {PAGE}, loopback, 2 worker threads, median of 5 runs");
        for consumer in [Consumer::Idle, Consumer::WorksPerPage] {
            let (mut ours, mut theirs, mut our_mem, mut their_mem) = (vec![], vec![], 0, 0);
            // Warm both connections, then alternate so that neither side gets the warmer machine.
            crate_stream(&crate_client, Consumer::Idle).await;
            hand_written(&http, &base, Consumer::Idle).await;
            for _ in 0..5 {
                let (rate, mem) = measure(crate_stream(&crate_client, consumer)).await;
                ours.push(rate);
                our_mem = our_mem.max(mem);
                let (rate, mem) = measure(hand_written(&http, &base, consumer)).await;
                theirs.push(rate);
                their_mem = their_mem.max(mem);
            }
            let (ours, theirs) = (median(ours), median(theirs));
            let label = if consumer == Consumer::Idle { "consumer does no work" } else { "consumer awaits 1 ms per page" };
            println!(
                "  {label:32} crate {ours:>10.0} items/s   reqwest loop {theirs:>10.0} items/s   ratio {:.3}",
                ours / theirs
            );
            println!(
                "  {:32} peak extra heap: crate {:.1} MiB, reqwest loop {:.1} MiB, ratio {:.2}",
                "",
                our_mem as f64 / 1048576.0,
                their_mem as f64 / 1048576.0,
                our_mem as f64 / their_mem.max(1) as f64
            );
        }
        let calls = 6_400;
        println!("plain calls: GET /deals/{{id}}/agent, {calls} per run, median of 5 runs");
        for parallel in [1, 64] {
            crate_calls(&crate_client, calls, parallel).await;
            raw_calls(&http, &base, calls, parallel).await;
            let (mut ours, mut theirs) = (vec![], vec![]);
            for _ in 0..5 {
                ours.push(measure(crate_calls(&crate_client, calls, parallel)).await.0);
                theirs.push(measure(raw_calls(&http, &base, calls, parallel)).await.0);
            }
            let (ours, theirs) = (median(ours), median(theirs));
            println!(
                "  {:32} crate {:>7.1} µs/call   raw reqwest {:>7.1} µs/call   ratio {:.3}",
                if parallel == 1 { "sequential".to_owned() } else { format!("{parallel} at a time") },
                1e6 / ours,
                1e6 / theirs,
                ours / theirs
            );
        }
        let (_, mem_small) = measure(crate_stream(&crate_small, Consumer::Idle)).await;
        let (_, mem_large) = measure(crate_stream(&crate_client, Consumer::Idle)).await;
        println!(
            "  memory vs item count: {} items peak {:.1} MiB, {} items peak {:.1} MiB (ratio {:.2} for 10x the items)",
            items / 10,
            mem_small as f64 / 1048576.0,
            items,
            mem_large as f64 / 1048576.0,
            mem_large as f64 / mem_small.max(1) as f64
        );
    });

    println!(
        "\nwait policies (defaults, no jitter): checks made and delay between the event and its detection"
    );
    for (name, policy, done_at) in [
        (
            "agent provisioning, ready after 5 min",
            PollPolicy::agent_provisioning(),
            Duration::from_secs(300),
        ),
        (
            "message job, done after 20 s",
            PollPolicy::message_jobs(),
            Duration::from_secs(20),
        ),
    ] {
        let mut at = Duration::ZERO;
        let mut checks = 0;
        for delay in policy.delays() {
            at += delay;
            checks += 1;
            if at >= done_at {
                break;
            }
        }
        println!(
            "  {name:40} {checks:>3} checks, detected {:.1} s late",
            (at - done_at).as_secs_f64()
        );
    }
}
