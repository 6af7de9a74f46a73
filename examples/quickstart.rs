//! HockeyStack's quickstart, end to end, then a tour of HyperRep.
//!
//! `cargo run --example quickstart --features sandbox`
//!
//! Runs against the built-in sandbox, unless `HOCKEYSTACK_API_TOKEN` (with `QUICKSTART_DEAL_ID`
//! naming one of your deals) or `HYPERREP_API_KEY` are set: then that API is the real service.

use std::{error::Error, time::Duration};

use futures_util::{StreamExt, TryStreamExt};
use revenue_agents::{
    Paginated, PollPolicy, ProgressStream,
    hockeystack::{self, ReplyEvent, ToolArgs},
    hyperrep,
    sandbox::{Sandbox, SandboxConfig},
};

/// Prints a wait's progress on one line per check.
fn show(progress: ProgressStream, what: &'static str) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut progress = progress;
        while let Some(p) = progress.next().await {
            let next = match p.next_delay {
                Some(delay) => format!("next check in {:.1} s", delay.as_secs_f64()),
                None => "done".to_owned(),
            };
            println!(
                "   … {what}, {}: {} ({} checks, {:.1} s, {next})",
                p.phase,
                p.state,
                p.attempts,
                p.elapsed.as_secs_f64()
            );
        }
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let real_hockeystack = std::env::var_os("HOCKEYSTACK_API_TOKEN").is_some();
    let real_hyperrep = std::env::var_os("HYPERREP_API_KEY").is_some();
    let sandbox = if real_hockeystack && real_hyperrep {
        None
    } else {
        let sandbox = Sandbox::start(SandboxConfig::default()).await?;
        println!(
            "Started the local sandbox on {} (no account needed).\n",
            sandbox.addr()
        );
        Some(sandbox)
    };

    // ---------------------------------------------------------------- HockeyStack
    let (hs, deal_id, agent_policy) = match &sandbox {
        Some(s) if !real_hockeystack => (
            s.hockeystack_client()?,
            "9001234567".to_owned(),
            // The sandbox provisions in seconds rather than minutes: check more often.
            PollPolicy::new(Duration::from_millis(500), Duration::from_secs(2))
                .deadline(Duration::from_secs(60)),
        ),
        _ => (
            hockeystack::Client::from_env()?,
            std::env::var("QUICKSTART_DEAL_ID")
                .map_err(|_| "set QUICKSTART_DEAL_ID to one of your deals")?,
            PollPolicy::agent_provisioning(),
        ),
    };
    println!("HockeyStack Revenue Agents");
    let me = hs.me().send().await?;
    println!("1. The token works: workspace {:?}", me.workspace.name);

    println!("2. Making sure the agent of deal {deal_id} is active (provisioning takes a while)");
    let ensure = hs.ensure_deal_agent(deal_id.as_str()).policy(agent_policy);
    let printer = show(ensure.progress(), "agent");
    let agent = ensure.await?;
    printer.await?;
    println!(
        "   agent {} is {}",
        agent.agent_id.as_deref().unwrap_or("?"),
        agent.status
    );

    let conversation = hs
        .create_deal_conversation()
        .deal_id(deal_id.as_str())
        .send()
        .await?;
    println!("3. Opened conversation {}", conversation.conversation_id);

    let question = "What is the single biggest risk on this deal right now?";
    println!("4. Asking: {question}");
    let ask = hs
        .ask_deal(deal_id.as_str(), question)
        .conversation(conversation.conversation_id.as_str());
    let printer = show(ask.progress(), "reply");
    let reply = ask.await?;
    printer.await?;
    println!("   Reply: {}", reply.text());

    let follow_up = "What should I do about it this week?";
    println!("5. Streaming the answer to: {follow_up}");
    print!("   ");
    let mut events = hs
        .stream_deal_reply(&deal_id, &reply.conversation_id, follow_up)
        .await?;
    while let Some(event) = events.next().await {
        match event? {
            ReplyEvent::TextDelta { text } => {
                use std::io::Write;
                print!("{text}");
                std::io::stdout().flush()?;
            }
            ReplyEvent::ToolUse { name, args, .. } => {
                let args = match args {
                    ToolArgs::Json(v) => v.to_string(),
                    ToolArgs::Text(t) => t,
                    ToolArgs::None => String::new(),
                };
                print!(" [tool {} {args}] ", name.unwrap_or_default());
            }
            ReplyEvent::Done { .. } => println!(),
            _ => {}
        }
    }
    if let Some(limit) = hs.rate_limit() {
        println!(
            "   Rate limit: {} of {} left in the {} pool",
            limit.remaining.unwrap_or(0),
            limit.limit.unwrap_or(0),
            limit.pool.unwrap_or_default()
        );
    }

    // ---------------------------------------------------------------- HyperRep
    let hr = match &sandbox {
        Some(s) if !real_hyperrep => s.hyperrep_client()?,
        _ => hyperrep::Client::from_env()?,
    };
    println!("\nHyperRep");
    let organizations = hr.list_organizations().send().await?.into_inner().data;
    let Some(org) = organizations.first() else {
        println!("This key sees no organization.");
        return Ok(());
    };
    println!(
        "1. Organization {} ({} visible to this key)",
        org.name,
        organizations.len()
    );
    let org_id = org.organization_id.as_str();

    let agents = hr
        .list_agents()
        .organization_id(org_id)
        .limit(5)
        .send()
        .await?;
    let names: Vec<&str> = agents.data.iter().map(|a| a.name.as_str()).collect();
    println!("2. Agents: {}", names.join(", "));

    let now = chrono::Utc::now();
    let since = now - chrono::Duration::days(30);
    let sales: Vec<_> = hr
        .list_sales()
        .organization_id(org_id)
        .limit(100)
        .start_date(since)
        .end_date(now)
        .items()
        .try_collect()
        .await?;
    // Amounts are decimal strings; they are added up in cents, never as floats.
    let total_cents: i128 = sales
        .iter()
        .filter_map(|s| {
            cents(
                s.quote_details
                    .as_ref()?
                    .output
                    .as_ref()?
                    .total_price
                    .as_deref()?,
            )
        })
        .fold(0, i128::saturating_add);
    let total = format!(
        "{}{}.{:02}",
        if total_cents < 0 { "-" } else { "" },
        total_cents.unsigned_abs() / 100,
        total_cents.unsigned_abs() % 100
    );
    let accepted = sales
        .iter()
        .filter(|s| {
            s.current_status.as_ref().and_then(|c| c.status.as_ref())
                == Some(&hyperrep::SaleStatusCode::Accepted)
        })
        .count();
    println!(
        "3. Sales in the last 30 days: {} (quoted value {total}, {accepted} accepted)",
        sales.len()
    );

    let analytics = hr
        .get_conversation_analytics()
        .organization_id(org_id)
        .start_date(since)
        .end_date(now)
        .send()
        .await?;
    let rate = &analytics.response_rate_stats;
    println!(
        "4. Conversations in the last 30 days: {} received, {} answered (response rate {:.0} %), mean first response {:.0} min",
        rate.num_conversations_received.unwrap_or(0),
        rate.num_conversations_responded_to.unwrap_or(0),
        rate.response_rate.unwrap_or(0.0) * 100.0,
        analytics.response_time_stats.response_time.unwrap_or(0.0) / 60.0
    );

    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    println!("\nDone.");
    Ok(())
}

/// A decimal amount such as `"1200.5"` in cents, or `None` for text that is not one with at
/// most two decimals (which a sum in cents could not hold exactly).
fn cents(amount: &str) -> Option<i128> {
    let amount = amount.trim();
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let cents = whole
        .parse::<i128>()
        .ok()?
        .checked_mul(100)?
        .checked_add(format!("{fraction:0<2}").parse::<i128>().ok()?)?;
    Some(if negative { -cents } else { cents })
}
