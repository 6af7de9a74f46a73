//! The one-call ask, streamed (the default) beside polled as a job, on one loopback sandbox
//! whose reply is ready 20 s after the question: the requests each sends, and how long after
//! the reply is ready the caller has it.
//!
//! `cargo bench --bench ask --features sandbox,hockeystack`. About 30 s: the job's wait is
//! real time, paced as the crate paces it (1 s, doubling to every 5 s).

use std::time::{Duration, Instant};

use revenue_agents::{
    PollPolicy,
    hockeystack::Delivery,
    sandbox::{Sandbox, SandboxConfig},
};

const DEAL: &str = "9001234567";
const READY_AFTER: Duration = Duration::from_secs(20);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            provisioning_time: Duration::from_millis(10),
            job_time: READY_AFTER,
            // The streamed reply is written at once, so it is ready when its last event is sent.
            stream_chunk_delay: Duration::ZERO,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let client = sandbox.hockeystack_client().unwrap();
        let agent = client.deal_agent(DEAL);
        agent
            .ensure()
            .policy(PollPolicy::new(
                Duration::from_millis(10),
                Duration::from_millis(20),
            ))
            .await
            .unwrap();
        let cid = agent.open_conversation().await.unwrap();

        println!(
            "one-call ask, reply ready {} s after the question",
            READY_AFTER.as_secs()
        );
        println!("| delivery | requests | caller has the reply after it is ready |");
        println!("|---|---|---|");
        for (name, delivery, ready) in [
            ("job, polled", Delivery::Job, READY_AFTER),
            ("stream (default)", Delivery::Stream, Duration::ZERO),
        ] {
            sandbox.clear_requests();
            let start = Instant::now();
            let reply = agent
                .ask("What is the biggest risk?")
                .conversation(cid.as_str())
                .delivery(delivery)
                .await
                .unwrap();
            let took = start.elapsed();
            assert!(!reply.text().is_empty());
            println!(
                "| {name} | {} | {:.2} s |",
                sandbox.requests().len(),
                took.saturating_sub(ready).as_secs_f64()
            );
        }
    });
}
