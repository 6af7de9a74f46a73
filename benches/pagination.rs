//! The crate against hand-written reqwest on the same loopback server, side by side in one
//! run, with ratios (above 1.0: the crate is faster) and their spread over the rounds:
//!
//! - the item stream against a reqwest + serde loop, with a consumer that does no work, one
//!   that works (spins) and one that sleeps (awaits) per page as long as a page takes to fetch
//!   (where fetching ahead pays: 2.0 is the limit);
//! - one plain call against the same request made with raw reqwest, sequentially and 64 at a
//!   time;
//! - the peak heap of the item stream over 10k, 100k and 1M items (flat is the goal);
//! - the typed decode of one recorded page alone, the floor under a page's cost;
//! - what the default wait policies cost.
//!
//! `cargo bench --bench pagination` runs all of it; `-- stream`, `-- calls`, `-- memory`,
//! `-- decode` or `-- waits` runs one part.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    collections::HashMap,
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
const ROUNDS: usize = 5;
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

/// Lists by size: the first path segment (`/n100000/tasks`) picks the list.
type Lists = Arc<HashMap<usize, Vec<Vec<u8>>>>;

/// A keep-alive HTTP/1.1 server that answers `GET /n{size}/tasks?...cursor=pN` with page N
/// of that list, and `GET /n{size}/deals/{id}/agent` with one agent.
async fn serve(listener: TcpListener, lists: Lists) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        // Without it, Nagle's algorithm and delayed ACKs add ~40 ms to every page.
        let _ = socket.set_nodelay(true);
        let lists = lists.clone();
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
                let size = target
                    .strip_prefix("/n")
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                let page = target
                    .split(['?', '&'])
                    .find_map(|kv| kv.strip_prefix("cursor=p"))
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                let body = if target.contains("/agent") {
                    AGENT.as_bytes()
                } else {
                    &lists[&size][page]
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

/// What the consumer does with each page: nothing, or this much CPU work (parsing, writing
/// somewhere), which blocks its thread as real work does.
#[derive(Clone, Copy, PartialEq)]
enum Consumer {
    Idle,
    Works(Duration),
    /// Awaits this long per page, as a consumer writing each page to a database does: its
    /// thread is free meanwhile.
    Sleeps(Duration),
}

async fn work(consumer: Consumer) {
    match consumer {
        Consumer::Idle => {}
        Consumer::Works(d) => {
            let start = Instant::now();
            while start.elapsed() < d {
                std::hint::spin_loop();
            }
        }
        Consumer::Sleeps(d) => tokio::time::sleep(d).await,
    }
}

async fn crate_stream(client: &hockeystack::Client, consumer: Consumer) -> usize {
    crate_stream_ahead(client, consumer, 1).await
}

/// The item stream fetching `depth` pages ahead (1, the default; 0: only when asked).
async fn crate_stream_ahead(
    client: &hockeystack::Client,
    consumer: Consumer,
    depth: usize,
) -> usize {
    let mut count: usize = 0;
    let mut items = client
        .list_tasks()
        .limit(PAGE as u64)
        .items()
        .prefetch(depth);
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

/// The median of per-round ratios, with their smallest and largest.
fn spread(ratios: Vec<f64>) -> String {
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    format!("ratio {:.3} (rounds {low:.3}–{high:.3})", median(ratios))
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

fn mib(bytes: usize) -> f64 {
    bytes as f64 / 1048576.0
}

fn main() {
    let part = std::env::args()
        .skip(1)
        .find(|a| ["stream", "calls", "memory", "decode", "waits"].contains(&a.as_str()));
    let wants = |name: &str| part.as_deref().is_none_or(|p| p == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    const ITEMS: usize = 100_000;
    let sizes: Vec<usize> = if wants("memory") {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![ITEMS]
    };
    let lists: Lists = Arc::new(sizes.iter().map(|&n| (n, render_pages(n))).collect());
    let sample_page = lists[&ITEMS.min(*sizes.last().unwrap())][0].clone();

    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, lists.clone()));
        let base = |n: usize| format!("{server}/n{n}");
        let client = |n: usize| {
            hockeystack::Client::builder()
                .credential(TOKEN)
                .base_url(base(n))
                .retry_policy(RetryPolicy::none())
                // Raw throughput against a local server: HockeyStack's 600 reads a minute
                // would be the only thing measured.
                .no_rate_budget()
                .build()
                .unwrap()
        };
        let http = reqwest::Client::new();

        if wants("stream") {
            let (ours, theirs) = (client(ITEMS), base(ITEMS));
            // Warm both connections; the idle hand loop's page time sets the busy consumer's work.
            crate_stream(&ours, Consumer::Idle).await;
            let start = Instant::now();
            hand_written(&http, &theirs, Consumer::Idle).await;
            let page_time = start.elapsed() / ITEMS.div_ceil(PAGE) as u32;
            println!(
                "item stream: {ITEMS} tasks in pages of {PAGE}, loopback, 2 worker threads, {ROUNDS} rounds"
            );
            for consumer in [
                Consumer::Idle,
                Consumer::Works(page_time),
                Consumer::Sleeps(page_time),
            ] {
                let (mut rates, mut theirs_rates, mut ratios) = (vec![], vec![], vec![]);
                for _ in 0..ROUNDS {
                    let (a, _) = measure(crate_stream(&ours, consumer)).await;
                    let (b, _) = measure(hand_written(&http, &theirs, consumer)).await;
                    rates.push(a);
                    theirs_rates.push(b);
                    ratios.push(a / b);
                }
                let label = match consumer {
                    Consumer::Idle => "consumer does no work".to_owned(),
                    Consumer::Works(d) => format!("consumer works {:.2} ms per page", d.as_secs_f64() * 1e3),
                    Consumer::Sleeps(d) => format!("consumer sleeps {:.2} ms per page", d.as_secs_f64() * 1e3),
                };
                println!(
                    "  {label:34} crate {:>9.0} items/s   reqwest loop {:>9.0} items/s   {}",
                    median(rates),
                    median(theirs_rates.clone()),
                    spread(ratios)
                );
                if let Consumer::Sleeps(d) = consumer {
                    // Tokio's timer rounds a sleep up to a millisecond tick, so the pause taken
                    // is longer than the one asked for. The hand loop's page time is the fetch
                    // plus that pause; fetching ahead can at best hide the fetch behind it.
                    let fetch = page_time.as_secs_f64();
                    let loop_page = PAGE as f64 / median(theirs_rates.clone());
                    let pause = (loop_page - fetch).max(fetch / 100.0);
                    println!(
                        "  {:34} a sleep of {:.2} ms pauses {:.2} ms: the best a stream can do is ratio {:.3}",
                        "",
                        d.as_secs_f64() * 1e3,
                        pause * 1e3,
                        loop_page / pause.max(fetch)
                    );
                }
            }
        }

        if wants("calls") {
            let ours = client(ITEMS);
            let theirs = base(ITEMS);
            let calls = 6_400;
            // The crate sets a connect and a read timeout on every request, so that nothing
            // waits forever; reqwest's timers cost per request too, so the crate is compared
            // with bare reqwest and with reqwest given the same timeouts.
            let timed = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            println!("plain calls: GET /deals/{{id}}/agent, {calls} per round, {ROUNDS} rounds");
            for parallel in [1, 64] {
                for (raw, raw_name) in [(&http, "bare reqwest"), (&timed, "reqwest + timeouts")] {
                    crate_calls(&ours, calls, parallel).await;
                    raw_calls(raw, &theirs, calls, parallel).await;
                    let (mut a, mut b, mut ratios) = (vec![], vec![], vec![]);
                    for _ in 0..ROUNDS {
                        let x = measure(crate_calls(&ours, calls, parallel)).await.0;
                        let y = measure(raw_calls(raw, &theirs, calls, parallel)).await.0;
                        a.push(x);
                        b.push(y);
                        ratios.push(x / y);
                    }
                    println!(
                        "  {:12} crate {:>6.1} µs/call   {raw_name:18} {:>6.1} µs/call   {}",
                        if parallel == 1 { "sequential".to_owned() } else { format!("{parallel} at a time") },
                        1e6 / median(a),
                        1e6 / median(b),
                        spread(ratios)
                    );
                }
            }
        }

        if wants("memory") {
            // The peak is reached when a page fetched ahead is decoded while the page before
            // it is still being handed out. A consumer that does no work drains each page at
            // once, so that overlap is rare and a longer list meets it more often; a consumer
            // that works a little per page meets it on every page, which shows the bound.
            for (consumer, depth, label) in [
                (Consumer::Idle, 1, "consumer does no work"),
                (Consumer::Works(Duration::from_micros(300)), 1, "consumer works 0.3 ms a page"),
                (Consumer::Idle, 0, "consumer does no work, nothing fetched ahead"),
            ] {
                println!("peak extra heap while streaming every item ({label}, worst walk over at least 1000 pages)");
                let mut first = None;
                for &n in &sizes {
                    let ours = client(n);
                    let walks = 3.max(1000 / n.div_ceil(PAGE));
                    let (mut ours_peaks, mut loop_peaks) = (vec![], vec![]);
                    for _ in 0..walks {
                        ours_peaks.push(
                            measure(crate_stream_ahead(&ours, consumer, depth)).await.1 as f64,
                        );
                        loop_peaks
                            .push(measure(hand_written(&http, &base(n), consumer)).await.1 as f64);
                    }
                    let worst = |peaks: Vec<f64>| peaks.into_iter().fold(0.0, f64::max) as usize;
                    let (crate_peak, loop_peak) = (worst(ours_peaks), worst(loop_peaks));
                    let first = *first.get_or_insert(crate_peak);
                    println!(
                        "  {n:>9} items: crate {:>5.2} MiB, reqwest loop {:>5.2} MiB (crate vs its {} peak: {:.2})",
                        mib(crate_peak),
                        mib(loop_peak),
                        sizes[0],
                        crate_peak as f64 / first.max(1) as f64
                    );
                }
            }
        }

        if wants("decode") {
            let ours = client(ITEMS);
            let pages = ITEMS.div_ceil(PAGE);
            let mut per_page = vec![];
            for _ in 0..ROUNDS {
                let start = Instant::now();
                crate_stream(&ours, Consumer::Idle).await;
                per_page.push(start.elapsed().as_secs_f64() / pages as f64);
            }
            let mut decode = vec![];
            for _ in 0..ROUNDS {
                let start = Instant::now();
                for _ in 0..50 {
                    black_box(
                        serde_json::from_slice::<hockeystack::types::TaskList>(black_box(&sample_page))
                            .unwrap(),
                    );
                }
                decode.push(start.elapsed().as_secs_f64() / 50.0);
            }
            let (page, floor) = (median(per_page), median(decode));
            println!(
                "one page ({PAGE} tasks, {:.0} KB): fetched and decoded by the stream {:.3} ms, typed decode alone {:.3} ms (the floor: {:.0}% of the page's cost)",
                sample_page.len() as f64 / 1024.0,
                page * 1e3,
                floor * 1e3,
                100.0 * floor / page
            );
        }
    });

    if wants("waits") {
        println!(
            "wait policies (defaults, no jitter): checks made and delay between the event and its detection"
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
}
