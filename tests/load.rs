//! Many callers at once against the sandbox: 64 concurrent tasks mixing reads, writes, waits,
//! one-call asks and paginators of both APIs under the sandbox's default rate limits. No call
//! may fail, and every list must yield each of its items exactly once. Bounded: a fixed number
//! of requests, a small seed, and a time limit on the whole run.
#![cfg(all(feature = "sandbox", feature = "hockeystack", feature = "hyperrep"))]

mod common;

use std::{collections::HashSet, time::Duration};

use futures_util::TryStreamExt;
use revenue_agents::{
    ErrorKind, Paginated, PollPolicy, RetryPolicy,
    hockeystack::{self, types as hs_types},
    sandbox::{Sandbox, SandboxConfig, SeedSizes},
};
use tokio::task::JoinSet;

fn quick() -> PollPolicy {
    PollPolicy::new(Duration::from_millis(20), Duration::from_millis(80))
        .deadline(Duration::from_secs(30))
}

/// What one task did, for the tally.
#[derive(Debug)]
enum Done {
    Listed(&'static str, usize),
    Wrote,
    Read,
    Asked,
    Waited,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_tasks_share_the_sandbox_without_losing_anything() {
    let sandbox = Sandbox::start(SandboxConfig {
        provisioning_time: Duration::from_millis(100),
        job_time: Duration::from_millis(60),
        stream_chunk_delay: Duration::from_millis(1),
        seed: SeedSizes {
            sales: 1_500,
            contacts: 400,
            ..SeedSizes::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let hs = sandbox.hockeystack_client().unwrap();
    let hr = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&hr).await;

    // The truth each paginator must reproduce, read once in the largest pages.
    let big = 500;
    let all_sales: HashSet<String> = hr
        .list_sales()
        .organization_id(org.as_str())
        .limit(big)
        .items()
        .map_ok(|s| s.sale_id)
        .try_collect()
        .await
        .unwrap();
    let all_contacts: HashSet<String> = hr
        .list_contacts()
        .organization_id(org.as_str())
        .limit(big)
        .items()
        .map_ok(|c| c.contact_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!((all_sales.len(), all_contacts.len()), (1_500, 400));

    // A job that the waiting tasks all wait for.
    let setup = hs
        .ask_deal("9000000001", "Warm up")
        .agent_policy(quick())
        .job_policy(quick())
        .await
        .unwrap();
    let accepted = hs
        .send_deal_message()
        .deal_id("9000000001")
        .cid(setup.conversation_id.as_str())
        .body(hs_types::SendMessageRequest::builder().message("Anything new?"))
        .send()
        .await
        .unwrap()
        .into_inner();

    let mut tasks = JoinSet::new();
    for i in 0..64usize {
        let (hs, hr, org) = (hs.clone(), hr.clone(), org.clone());
        let (all_sales, all_contacts) = (all_sales.clone(), all_contacts.clone());
        let (conversation, job) = (accepted.conversation_id.clone(), accepted.job_id.clone());
        tasks.spawn(async move {
            match i % 8 {
                // Paginators with odd page sizes: each item exactly once.
                0 | 1 => {
                    let limit = 7 + (i as u64 * 13) % 200;
                    let ids: Vec<String> = hr
                        .list_sales()
                        .organization_id(org.as_str())
                        .limit(limit)
                        .items()
                        .map_ok(|s| s.sale_id)
                        .try_collect()
                        .await?;
                    let unique: HashSet<String> = ids.iter().cloned().collect();
                    assert_eq!(unique.len(), ids.len(), "task {i}: a sale came twice");
                    assert_eq!(unique, all_sales, "task {i}: sales lost");
                    Ok(Done::Listed("sales", ids.len()))
                }
                2 => {
                    let limit = 3 + i as u64;
                    let ids: Vec<String> = hr
                        .list_contacts()
                        .organization_id(org.as_str())
                        .limit(limit)
                        .items()
                        .map_ok(|c| c.contact_id)
                        .try_collect()
                        .await?;
                    let unique: HashSet<String> = ids.iter().cloned().collect();
                    assert_eq!(unique.len(), ids.len(), "task {i}: a contact came twice");
                    assert_eq!(unique, all_contacts, "task {i}: contacts lost");
                    Ok(Done::Listed("contacts", ids.len()))
                }
                // Writes: a task created and read back.
                3 | 4 => {
                    let created = hs
                        .create_task()
                        .body(
                            hs_types::TaskCreate::builder()
                                .task_type(hs_types::TaskType::Email)
                                .task_title(format!("Follow up {i}"))
                                .assignee_id("usr_204")
                                .targets(
                                    hs_types::TaskTargetsInput::builder()
                                        .deal_id(format!("90000{i:05}")),
                                ),
                        )
                        .send()
                        .await?;
                    let read = hs.get_task().task_id(created.task_id).send().await?;
                    assert_eq!(read.task_title.as_deref(), Some(&*format!("Follow up {i}")));
                    Ok(Done::Wrote)
                }
                // Reads of HockeyStack.
                5 => {
                    hs.me().send().await?;
                    hs.credits_balance().send().await?;
                    let tasks: Vec<_> = hs.list_tasks().items().try_collect().await?;
                    let ids: HashSet<_> = tasks.iter().map(|t| t.task_id.to_string()).collect();
                    assert_eq!(ids.len(), tasks.len(), "task {i}: a task came twice");
                    Ok(Done::Read)
                }
                // The one-call ask on its own deal: provisioning, conversation, message, wait.
                6 => {
                    let reply = hs
                        .ask_deal(format!("91000{i:05}"), "What is the risk?")
                        .agent_policy(quick())
                        .job_policy(quick())
                        .await?;
                    assert!(!reply.text().is_empty());
                    Ok(Done::Asked)
                }
                // Waits on the shared job.
                _ => {
                    let messages = hs
                        .wait_for_deal_job("9000000001", conversation, job)
                        .policy(quick())
                        .await?;
                    assert!(!messages.is_empty());
                    Ok(Done::Waited)
                }
            }
        });
    }

    let mut outcomes = Vec::new();
    let run = async {
        while let Some(joined) = tasks.join_next().await {
            let outcome: Result<Done, revenue_agents::Error> = joined.expect("no task panics");
            outcomes.push(outcome.expect("no call fails"));
        }
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the load finishes");
    assert_eq!(outcomes.len(), 64);
    let listed = |what: &str| -> usize {
        outcomes
            .iter()
            .map(|o| match o {
                Done::Listed(list, n) if *list == what => *n,
                _ => 0,
            })
            .sum()
    };
    assert_eq!(listed("sales"), 16 * 1_500);
    assert_eq!(listed("contacts"), 8 * 400);
    let count = |f: fn(&Done) -> bool| outcomes.iter().filter(|o| f(o)).count();
    assert_eq!(count(|o| matches!(o, Done::Wrote)), 16);
    assert_eq!(count(|o| matches!(o, Done::Read)), 8);
    assert_eq!(count(|o| matches!(o, Done::Asked)), 8);
    assert_eq!(count(|o| matches!(o, Done::Waited)), 8);

    // A caller that asks to see the server's rate limits (retries and budget off) gets them
    // typed, with the delay.
    let impatient = hockeystack::Client::builder()
        .credential(sandbox.hockeystack_token())
        .base_url(sandbox.hockeystack_url())
        .retry_policy(RetryPolicy::none())
        .no_rate_budget()
        .build()
        .unwrap();
    let mut limited = None;
    for _ in 0..80 {
        match impatient
            .create_deal_conversation()
            .deal_id("9000000001")
            .send()
            .await
        {
            Ok(_) => {}
            Err(error) => {
                limited = Some(error);
                break;
            }
        }
    }
    let error = limited.expect("the write pool (60 a minute) runs out");
    assert!(
        matches!(
            error.kind(),
            ErrorKind::RateLimited {
                retry_after: Some(_)
            }
        ),
        "{error:?}"
    );
    sandbox.shutdown().await;
}
