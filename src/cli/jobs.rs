//! The composite jobs of HockeyStack: `ask` (the agent made ready, a conversation opened or
//! reused, the reply streamed to standard output as it is written, or waited for as a job),
//! `agents ensure` and `jobs wait`. Each is one call of the crate's own waits; while one
//! waits, a spinner on standard error shows its progress when standard error is a terminal.

use std::{io::IsTerminal, time::Duration};

use clap::{Arg, ArgAction, ArgMatches, Command};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::{
    exit::Failure,
    output::{Output, Stop},
};
use crate::{
    AgentRef, ProgressStream,
    hockeystack::{Client, Delivery, ReplyEvent},
    invoke::{
        composite::{self, DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, Waits, deadline, with_agent},
        describe::agent_ids,
    },
};

/// The flags that name an agent, shared by the three jobs.
fn agent_flags(command: Command) -> Command {
    command
        .arg(
            Arg::new("dealId")
                .long("deal-id")
                .value_name("ID")
                .help("The deal whose agent to use (a CRM deal id)")
                .required_unless_present("companyId")
                .conflicts_with("companyId"),
        )
        .arg(
            Arg::new("companyId")
                .long("company-id")
                .value_name("ID")
                .help("The company whose agent to use (a CRM company id)"),
        )
        .arg(
            Arg::new("wait_seconds")
                .long("wait-seconds")
                .value_name("S")
                .value_parser(clap::value_parser!(u64).range(1..=MAX_WAIT_SECONDS))
                .help(format!(
                    "How long to wait at most [default {DEFAULT_WAIT_SECONDS}; 1 to {MAX_WAIT_SECONDS}]"
                )),
        )
}

/// `hockeystack ask`.
pub(crate) fn ask_command() -> Command {
    agent_flags(
        Command::new("ask")
            .about("Ask a deal's or company's agent a question and print its answer")
            .long_about(
                "Ask a deal's or company's agent a question and print its answer.\n\n\
                 Makes sure the agent is active (provisioning it when there is none, which \
                 takes minutes), opens a conversation unless --cid names one, sends the \
                 question and prints the reply's text as it is written. With --no-stream it \
                 waits for the reply job instead and prints the whole answer. The \
                 conversation's id goes to standard error, to continue with --cid.",
            ),
    )
    .arg(
        Arg::new("question")
            .required(true)
            .value_name("QUESTION")
            .help("The question, in plain language (- reads it from standard input)"),
    )
    .arg(
        Arg::new("cid")
            .long("cid")
            .value_name("CID")
            .help("A conversation to continue; a new one is opened when left out"),
    )
    .arg(
        Arg::new("no-stream")
            .long("no-stream")
            .action(ArgAction::SetTrue)
            .help("Wait for the reply job instead of streaming the reply"),
    )
    .arg(
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print {answer, cid, ...} as JSON once the reply is complete"),
    )
}

/// `hockeystack agents ensure`.
pub(crate) fn ensure_command() -> Command {
    agent_flags(
        Command::new("ensure")
            .about("Make sure a deal's or company's agent is active, and print it")
            .long_about(
                "Make sure a deal's or company's agent is active, and print it.\n\n\
                 Starts provisioning when there is no agent (it usually takes 3 to 8 \
                 minutes), restarts a failed run, and waits.",
            ),
    )
}

/// `hockeystack jobs wait`.
pub(crate) fn jobs_command() -> Command {
    Command::new("jobs")
        .about("Message jobs: wait for one to finish")
        .subcommand_required(true)
        .subcommand(
            agent_flags(
                Command::new("wait")
                    .about("Wait for a message job to finish and print the reply's messages"),
            )
            .arg(
                Arg::new("cid")
                    .long("cid")
                    .value_name("CID")
                    .required(true)
                    .help("The conversation the message was sent to"),
            )
            .arg(
                Arg::new("jobId")
                    .long("job-id")
                    .value_name("JOB")
                    .required(true)
                    .help("The job the message's 202 answer named"),
            ),
        )
}

/// The flags as the composite jobs' arguments (`dealId`, `cid`, `wait_seconds`, ...).
fn arguments(matches: &ArgMatches) -> Map<String, Value> {
    let mut arguments = Map::new();
    for name in ["dealId", "companyId", "cid", "jobId", "question"] {
        if let Ok(Some(value)) = matches.try_get_one::<String>(name) {
            arguments.insert(name.into(), json!(value));
        }
    }
    if let Some(seconds) = matches.get_one::<u64>("wait_seconds") {
        arguments.insert("wait_seconds".into(), json!(seconds));
    }
    arguments
}

fn agent(arguments: &Map<String, Value>) -> Result<AgentRef, Failure> {
    composite::agent_of(arguments).map_err(|problems| Failure::usage("which agent?", problems))
}

/// Shows a wait's progress on standard error while it runs, when that is a terminal.
fn watch(progress: ProgressStream) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(120));
    tokio::spawn(async move {
        let mut progress = progress;
        while let Some(update) = progress.next().await {
            if update.finished {
                break;
            }
            spinner.set_message(format!(
                "{}: {} ({} s, check {})",
                update.phase,
                update.state,
                update.elapsed.as_secs(),
                update.attempts
            ));
        }
        spinner.finish_and_clear();
    });
}

/// `agents ensure`.
pub(crate) async fn ensure(
    client: &Client,
    matches: &ArgMatches,
    out: &mut Output,
) -> Result<(), Stop> {
    let arguments = arguments(matches);
    let agent = agent(&arguments)?;
    let state = composite::ensure(client, agent, &arguments, &Waits::default(), watch).await?;
    out.document(&state)
}

/// `jobs wait`.
pub(crate) async fn wait(
    client: &Client,
    matches: &ArgMatches,
    out: &mut Output,
) -> Result<(), Stop> {
    let arguments = arguments(matches);
    let agent = agent(&arguments)?;
    let text = |name: &str| {
        arguments
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let policy = Waits::default().job.deadline(deadline(&arguments));
    let job = crate::JobRef {
        agent: agent.clone(),
        conversation_id: text("cid"),
        job_id: text("jobId"),
    };
    let wait = client.wait_for_job(job).policy(policy);
    watch(wait.progress());
    let messages = wait.await?;
    let mut answer = agent_ids(&agent);
    answer.insert("cid".into(), json!(text("cid")));
    answer.insert("jobId".into(), json!(text("jobId")));
    answer.insert(
        "messages".into(),
        serde_json::to_value(&messages).unwrap_or(Value::Null),
    );
    out.document(&Value::Object(answer))
}

/// `ask`.
pub(crate) async fn ask(
    client: &Client,
    matches: &ArgMatches,
    out: &mut Output,
) -> Result<(), Stop> {
    let mut arguments = arguments(matches);
    if arguments.get("question").and_then(Value::as_str) == Some("-") {
        let mut question = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut question)
            .map_err(|e| Failure::usage(format!("cannot read the question: {e}"), Vec::new()))?;
        arguments.insert("question".into(), json!(question.trim()));
    }
    if arguments
        .get("question")
        .and_then(Value::as_str)
        .is_none_or(|q| q.trim().is_empty())
    {
        return Err(Failure::usage("the question is empty", Vec::new()).into());
    }
    let agent = agent(&arguments)?;
    let as_json = matches.get_flag("json");
    if matches.get_flag("no-stream") {
        let waits = Waits {
            delivery: Delivery::Job,
            ..Waits::default()
        };
        let answer = composite::ask(client, agent, &arguments, &waits, watch).await?;
        if as_json {
            return out.document(&answer);
        }
        note_conversation(&answer["cid"]);
        let text = answer["answer"].as_str().unwrap_or_default();
        return out.text(&format!("{text}\n"));
    }
    // Streamed: the agent made ready, a conversation opened unless given, the reply read as
    // it is written.
    let ready = Waits::default().agent.deadline(deadline(&arguments));
    let question = arguments
        .get("question")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let given = arguments
        .get("cid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (cid, mut reply) = with_agent(client, &agent, ready, given, question).await?;
    let mut answer = String::new();
    while let Some(event) = reply.next().await {
        match event? {
            ReplyEvent::TextDelta { text } => {
                if as_json {
                    answer.push_str(&text);
                } else {
                    out.text(&text)?;
                }
            }
            ReplyEvent::Done { .. } => break,
            _ => {}
        }
    }
    if as_json {
        let mut members = agent_ids(&agent);
        members.insert("answer".into(), json!(answer));
        members.insert("cid".into(), json!(cid));
        return out.document(&Value::Object(members));
    }
    out.text("\n")?;
    note_conversation(&json!(cid));
    Ok(())
}

/// Makes the agent ready, opens a conversation unless one is given, and starts the reply.
async fn with_agent(
    client: &Client,
    agent: &AgentRef,
    ready: crate::PollPolicy,
    given: Option<String>,
    question: String,
) -> Result<(String, crate::hockeystack::ReplyStream), crate::Error> {
    with_agent!(client, agent, |handle| {
        let ensure = handle.ensure().policy(ready);
        watch(ensure.progress());
        ensure.await?;
        let cid = match given {
            Some(cid) => cid,
            None => handle.open_conversation().await?,
        };
        let reply = handle.stream_reply(cid.clone(), question).await?;
        Ok((cid, reply))
    })
}

/// The conversation to continue, on standard error where a person sees it and a pipe does not
/// take it for the answer.
fn note_conversation(cid: &Value) {
    if let Some(cid) = cid.as_str() {
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr().lock(),
            format_args!("(conversation {cid}: continue it with --cid {cid})\n"),
        );
    }
}
