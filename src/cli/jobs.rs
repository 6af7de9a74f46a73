//! The composite jobs as commands, built from the jobs' table (`crate::invoke::jobs`) as the
//! operation commands are from the operation model: `hockeystack ask`, `hockeystack agents
//! ensure` and `hockeystack jobs wait`, each with its job's name as an alias (`ask-agent`).
//! The job runs the library's own waits; this door only prints: a reply's text to standard
//! output as it arrives, the answer as JSON, and, on a terminal, a spinner on standard error
//! while the job waits.

use std::{io::IsTerminal, time::Duration};

use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Command};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::{
    exit::Failure,
    input,
    output::{Output, Stop},
    tree::{self, Flag},
};
use crate::{
    hockeystack::Client,
    invoke::jobs::{JOBS, Job, JobEvent, Waits},
    poll::ProgressStream,
};

/// Groups of the command line that are no tag of the spec.
const GROUPS: &[(&str, &str)] = &[("jobs", "Message jobs: wait for one to finish")];

/// The flag that prints a text-giving job's answer as JSON.
const JSON: &str = "json";

/// Before `--delivery`, `ask --no-stream` asked for the job; kept, hidden, for scripts that use it.
const NO_STREAM: &str = "no-stream";

/// One job's command, with what turns its flags into arguments.
#[derive(Debug)]
pub(crate) struct JobCommand {
    pub(crate) job: &'static Job,
    schema: Value,
    flags: Vec<Flag>,
}

/// Every job's command, in the table's order.
pub(crate) fn job_commands() -> Result<Vec<JobCommand>, String> {
    JOBS.iter()
        .map(|job| {
            let schema = job.schema()?;
            let flags = job
                .arguments
                .iter()
                .map(|argument| {
                    Ok(Flag {
                        argument: argument.name.to_owned(),
                        long: tree::kebab(argument.name),
                        schema: job.argument_schema(argument)?,
                        positional: argument.positional,
                    })
                })
                .collect::<Result<_, String>>()?;
            Ok(JobCommand { job, schema, flags })
        })
        .collect()
}

/// The about line of a group that is no tag, when `name` is one.
pub(crate) fn group_about(name: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .find(|(g, _)| *g == name)
        .map(|(_, about)| *about)
}

impl JobCommand {
    /// The group it goes under (`agents`), or `None` directly under the API's command.
    pub(crate) fn group(&self) -> Option<&'static str> {
        match self.job.command {
            [group, _] => Some(group),
            _ => None,
        }
    }

    /// Its verb (`ensure`).
    pub(crate) fn verb(&self) -> &'static str {
        self.job.command.last().copied().unwrap_or(self.job.name)
    }

    /// The clap command.
    pub(crate) fn command(&self) -> Command {
        let job = self.job;
        let mut command = Command::new(self.verb())
            .about(job.title)
            .long_about(format!("{}.\n\n{}", job.title, job.description))
            .visible_alias(tree::kebab(job.name));
        for (flag, argument) in self.flags.iter().zip(job.arguments) {
            let mut flag = flag.clone();
            if flag.positional
                && let Some(Value::String(help)) = flag.schema.get_mut("description")
            {
                help.push_str(" - reads it from standard input.");
            }
            // A required id the job always takes (a conversation, a job) may also be a word of
            // its own, in the table's order (`jobs wait --deal-id D CID JOB`), as an
            // operation's path ids may; the deal-or-company choice stays a flag, since a word
            // could not say which.
            let word = argument.required
                && !flag.positional
                && !job.exactly_one_of.contains(&argument.name);
            let mut clap_arg = tree::arg(&flag, argument.required, argument.required && !word);
            if word {
                let id = tree::positional_id(&flag.argument);
                clap_arg = clap_arg.conflicts_with(id.clone());
                command = command.arg(
                    Arg::new(id)
                        .value_name(flag.long.to_ascii_uppercase())
                        .help(format!("The same as --{}", flag.long)),
                );
            }
            command = command.arg(clap_arg);
        }
        if !job.exactly_one_of.is_empty() {
            // One of them, and only one: clap names them all when none is given.
            command = command.group(
                ArgGroup::new("one-of")
                    .args(job.exactly_one_of.iter().copied())
                    .required(true)
                    .multiple(false),
            );
        }
        command = command.arg(Arg::new(JSON).long(JSON).action(ArgAction::SetTrue).help(
            if job.gives_text {
                "Print the answer as one JSON document once it is complete, instead of the text as it arrives"
            } else {
                "Print the answer as one JSON document (what this command always prints)"
            },
        ));
        if job.gives_text {
            command = command.arg(
                Arg::new(NO_STREAM)
                    .long(NO_STREAM)
                    .action(ArgAction::SetTrue)
                    .hide(true)
                    .conflicts_with("delivery"),
            );
        }
        command
    }

    /// The arguments its flags give, checked; a word given as `-` is read from standard input.
    /// Checked before anything is set up, so a command line got wrong is said first.
    pub(crate) fn arguments(&self, matches: &ArgMatches) -> Result<Map<String, Value>, Failure> {
        let mut arguments = Map::new();
        let mut problems = Vec::new();
        input::read_flags(&self.flags, matches, &mut arguments, &mut problems);
        for flag in self.flags.iter().filter(|f| f.positional) {
            if arguments.get(&flag.argument).and_then(Value::as_str) == Some("-") {
                arguments.insert(flag.argument.clone(), json!(read_stdin(&flag.argument)?));
            }
        }
        if matches.try_get_one::<bool>(NO_STREAM).ok().flatten() == Some(&true) {
            arguments.insert("delivery".into(), json!("job"));
        }
        input::checked(
            &self.flags,
            &self.schema,
            arguments,
            problems,
            &format!("hockeystack {}", self.job.command.join(" ")),
        )
    }

    /// Runs the job with its [`arguments`](Self::arguments) and prints what it hands out.
    pub(crate) async fn run(
        &self,
        client: &Client,
        arguments: Map<String, Value>,
        matches: &ArgMatches,
        out: &mut Output,
    ) -> Result<(), Stop> {
        let as_text = self.job.gives_text && !matches.get_flag(JSON);
        let mut spinner = Spinner::default();
        let mut running = self
            .job
            .start(client, &arguments, &Waits::default(), |p| spinner.watch(p))
            .map_err(|problems| {
                let problems = problems
                    .iter()
                    .map(|p| input::name_flag(&self.flags, p))
                    .collect();
                Failure::usage(
                    format!(
                        "the arguments do not fit hockeystack {}",
                        self.job.command.join(" ")
                    ),
                    problems,
                )
            })?;
        let mut printed = String::new();
        let mut answer = Value::Null;
        while let Some(event) = running.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    spinner.stop();
                    if !printed.is_empty() && !printed.ends_with('\n') {
                        out.text("\n")?;
                    }
                    return Err(error.into());
                }
            };
            match event {
                JobEvent::Text(piece) if as_text => {
                    spinner.stop();
                    out.text(&piece)?;
                    printed.push_str(&piece);
                }
                JobEvent::Restart if as_text => {
                    out.text("\n")?;
                    say_on_stderr("(the stream was cut; the reply as stored follows)");
                    printed.clear();
                }
                JobEvent::Answer(value) => answer = value,
                _ => {}
            }
        }
        spinner.stop();
        if !as_text {
            return out.document(&answer);
        }
        out.text("\n")?;
        // A sandbox started for this command ends with it, and its conversations too.
        let lasts = !matches
            .try_get_one::<bool>("sandbox")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false);
        if let Some(cid) = answer.get("cid").and_then(Value::as_str)
            && lasts
        {
            say_on_stderr(&format!(
                "(conversation {cid}: continue it with --cid {cid})"
            ));
        }
        Ok(())
    }
}

/// A word read from standard input (`-`), trimmed.
fn read_stdin(argument: &str) -> Result<String, Failure> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|e| {
        Failure::usage(
            format!("cannot read {argument} from standard input: {e}"),
            Vec::new(),
        )
    })?;
    Ok(text.trim().to_owned())
}

/// The spinner showing, for lines said on standard error while it turns.
static SHOWING: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Writes a line on standard error, where a person sees it and a pipe does not take it for the
/// answer; with a spinner turning, the spinner steps aside for it and is drawn again below, so
/// the two never share a line.
pub(crate) fn say_on_stderr(line: &str) {
    let write = || {
        let _ = std::io::Write::write_fmt(&mut std::io::stderr().lock(), format_args!("{line}\n"));
    };
    let showing = SHOWING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    match showing {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

fn showing(bar: Option<indicatif::ProgressBar>) {
    *SHOWING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = bar;
}

/// A wait's progress on standard error while it runs, when that is a terminal; stopped when the
/// reply's text starts, so the two do not mix.
#[derive(Default)]
struct Spinner {
    running: Option<(indicatif::ProgressBar, tokio::task::JoinHandle<()>)>,
}

impl Spinner {
    fn watch(&mut self, progress: ProgressStream) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        showing(Some(bar.clone()));
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let mut progress = progress;
            while let Some(update) = progress.next().await {
                if update.finished {
                    break;
                }
                shown.set_message(format!(
                    "{}: {} ({} s, check {})",
                    update.phase,
                    update.state,
                    update.elapsed.as_secs(),
                    update.attempts
                ));
            }
            showing(None);
            shown.finish_and_clear();
        });
        self.running = Some((bar, task));
    }

    fn stop(&mut self) {
        if let Some((bar, task)) = self.running.take() {
            task.abort();
            showing(None);
            bar.finish_and_clear();
        }
    }
}
