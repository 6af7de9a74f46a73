//! `revenue-agents`, the command-line tool (feature `cli`): every operation of both APIs as a
//! command read from the operation model, the composite jobs, a raw mode, shell completions
//! and a man page, all on the crate's transport, waits and paginators.
//!
//! ```text
//! revenue-agents hockeystack tasks list --limit 50
//! revenue-agents hyperrep sales list --organization-id org_1 --all | jq .amount
//! revenue-agents hockeystack ask --deal-id 9001 "What is blocking this deal?"
//! revenue-agents api hockeystack GET /tasks --field limit=50 --paginate
//! ```
//!
//! Credentials and base URLs come from the same environment variables as the library's
//! (`HOCKEYSTACK_API_TOKEN`, `HYPERREP_API_KEY`, ...); `--sandbox` runs one command against a
//! sandbox started for it. The binary is `src/bin/cli.rs`; this module is public only so that
//! the binary can call [`main`].

mod confirm;
mod exit;
mod input;
mod jobs;
mod output;
mod profile;
mod raw;
mod setup;
mod shape;
mod tree;

use std::{io::IsTerminal, process::ExitCode};

use clap::{Arg, ArgAction, ArgMatches, Command};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json, value::RawValue};

use self::{
    exit::{EXIT_CODES, Failure},
    jobs::JobCommand,
    output::{Output, Stop},
    tree::{ALL, MAX_ITEMS, OperationCommand},
};
use crate::{
    invoke::{
        Clients, Operation, Service,
        list::{JsonList, RawPage},
    },
    paginate::Paginated,
};

const BIN: &str = "revenue-agents";

const AFTER_HELP: &str = "\
Environment: HOCKEYSTACK_API_TOKEN, HYPERREP_API_KEY, HOCKEYSTACK_BASE_URL, HYPERREP_BASE_URL
and the REVENUE_AGENTS_* settings, as for the library. --sandbox runs one command against a
sandbox started for it; point the base URLs at a running revenue-agents-sandbox to keep its
state between commands.

Output: JSON on standard output, pretty on a terminal and one line otherwise; lists followed
with --all or --max-items print one item a line as the pages arrive.";

/// Runs the command line of this process and returns its exit code.
pub fn main() -> ExitCode {
    let json_errors = std::env::args_os().any(|a| a == "--json-errors");
    // Read here rather than by clap, so that an argument that is not UTF-8 is named.
    let arguments = match crate::setting::arguments(std::env::args_os().skip(1)) {
        Ok(arguments) => arguments,
        Err(problem) => return Failure::usage(problem, Vec::new()).report(json_errors),
    };
    let commands = match Commands::read() {
        Ok(commands) => commands,
        Err(defect) => {
            return Failure::usage(
                format!("the command tree cannot be built: {defect}"),
                Vec::new(),
            )
            .report(json_errors);
        }
    };
    let matches = match commands
        .root()
        .try_get_matches_from(std::iter::once(BIN.to_owned()).chain(arguments))
    {
        Ok(matches) => matches,
        Err(error) => {
            // Help and --version go to standard output with 0; mistakes to standard error
            // with 2. A closed pipe while printing help is not a failure either.
            let code = error.exit_code();
            if json_errors && error.use_stderr() {
                let failure =
                    Failure::usage(error.render().to_string().trim().to_owned(), Vec::new());
                return failure.report(true);
            }
            let _ = error.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return Failure::Output(e).report(json_errors),
    };
    // A pause (the rate budget, a Retry-After, a retry) is said on standard error, where a
    // person waiting sees why; in a pipeline only with --verbose.
    let tell_waits = matches.get_flag("verbose") || std::io::stderr().is_terminal();
    let outcome = runtime.block_on(async {
        let run = async {
            if tell_waits {
                crate::notice::observe_waits(
                    |waiting| jobs::say_on_stderr(&format!("{BIN}: {waiting}")),
                    commands.run(&matches),
                )
                .await
            } else {
                commands.run(&matches).await
            }
        };
        tokio::select! {
            outcome = run => outcome,
            _ = tokio::signal::ctrl_c() => Err(Stop::Failed(Failure::Interrupted)),
        }
    });
    // Background tasks (a progress spinner, a sandbox) end with the runtime, without waiting.
    runtime.shutdown_background();
    match outcome {
        Ok(()) | Err(Stop::Closed(_)) => ExitCode::SUCCESS,
        Err(Stop::Failed(failure)) => failure.report(json_errors),
    }
}

/// The operation commands of both APIs, and the composite jobs' commands.
struct Commands {
    hockeystack: Vec<OperationCommand>,
    hyperrep: Vec<OperationCommand>,
    jobs: Vec<JobCommand>,
}

impl Commands {
    fn read() -> Result<Self, String> {
        Ok(Self {
            hockeystack: tree::operation_commands(Service::HockeyStack)?,
            hyperrep: tree::operation_commands(Service::HyperRep)?,
            jobs: jobs::job_commands()?,
        })
    }

    /// The jobs' commands of one API.
    fn jobs_of(&self, service: Service) -> impl Iterator<Item = &JobCommand> {
        self.jobs.iter().filter(move |c| c.job.service() == service)
    }

    fn of(&self, service: Service) -> &[OperationCommand] {
        match service {
            Service::HockeyStack => &self.hockeystack,
            Service::HyperRep => &self.hyperrep,
        }
    }

    /// The whole command tree.
    fn root(&self) -> Command {
        Command::new(BIN)
            .version(env!("CARGO_PKG_VERSION"))
            // Every command says the version (`tasks list -V`), as its man page does.
            .propagate_version(true)
            .about("HockeyStack's Revenue Agents API and HyperRep's API from a shell")
            .after_help(format!("{AFTER_HELP}\n\n{EXIT_CODES}"))
            .subcommand_required(true)
            .arg_required_else_help(true)
            .arg(
                Arg::new("sandbox")
                    .long("sandbox")
                    .global(true)
                    .help_heading("Global options")
                    .action(ArgAction::SetTrue)
                    .help("Run against a sandbox of both APIs started for this command (no account needed)"),
            )
            .arg(
                Arg::new("json-errors")
                    .long("json-errors")
                    .global(true)
                    .help_heading("Global options")
                    .action(ArgAction::SetTrue)
                    .help("Write errors to standard error as one JSON object"),
            )
            .arg(
                Arg::new("pretty")
                    .long("pretty")
                    .global(true)
                    .help_heading("Global options")
                    .action(ArgAction::SetTrue)
                    .help("Indent JSON (documents and each item of a list) even when standard output is not a terminal"),
            )
            .arg(
                Arg::new("output")
                    .long("output")
                    .short('o')
                    .global(true)
                    .help_heading("Global options")
                    .value_name("FORMAT")
                    .value_parser(clap::builder::PossibleValuesParser::new(shape::Mode::NAMES))
                    .help("json (documents; a list followed with --all is one array), jsonl (one record a line), table (columns), or auto: a document for one answer, a line an item for a list followed [default auto]"),
            )
            .arg(
                Arg::new("fields")
                    .long("fields")
                    .global(true)
                    .help_heading("Global options")
                    .value_name("A,B.C")
                    .help("Keep these fields of each record, in this order (dot paths reach into objects); a list's page then prints its items"),
            )
            .arg(
                Arg::new("verbose")
                    .long("verbose")
                    .short('v')
                    .global(true)
                    .help_heading("Global options")
                    .action(ArgAction::SetTrue)
                    .help("Say on standard error why a command waits (the rate budget, a Retry-After, a retry), also when it is no terminal"),
            )
            .arg(
                Arg::new("profile")
                    .long("profile")
                    .global(true)
                    .help_heading("Global options")
                    .value_name("NAME")
                    .help("Use this profile of the config file (its base URLs, credentials and HyperRep organization) [default: REVENUE_AGENTS_PROFILE, then the file's default_profile]"),
            )
            .arg(
                Arg::new("jq")
                    .long("jq")
                    .global(true)
                    .help_heading("Global options")
                    .value_name("FILTER")
                    .help("Pass each answer (each item, for a list followed) through this jq filter; no jq program is needed"),
            )
            .arg(
                Arg::new("raw-output")
                    .long("raw-output")
                    .short('r')
                    .global(true)
                    .help_heading("Global options")
                    .action(ArgAction::SetTrue)
                    .help("Write a record that is a string as its text, without quotes (as jq -r does): for --jq filters that pick one value"),
            )
            .subcommand(self.api_command(Service::HockeyStack))
            .subcommand(self.api_command(Service::HyperRep))
            .subcommand(raw::command())
            .subcommand(
                Command::new("completions")
                    .about("Print a shell completion script")
                    .arg(
                        Arg::new("shell")
                            .required(true)
                            .value_parser(clap::value_parser!(clap_complete::Shell)),
                    ),
            )
            .subcommand(
                Command::new("man")
                    .about("Print the man page (roff), or write one page per command into a directory")
                    .arg(
                        Arg::new("dir")
                            .long("dir")
                            .value_name("DIR")
                            .value_parser(clap::value_parser!(std::path::PathBuf))
                            .help("Write revenue-agents.1 and a page for every command (revenue-agents-hockeystack-tasks-list.1, ...) into DIR"),
                    ),
            )
    }

    /// `hockeystack` or `hyperrep`: one subcommand per tag, one per operation under it.
    fn api_command(&self, service: Service) -> Command {
        let (name, about) = match service {
            Service::HockeyStack => ("hockeystack", "HockeyStack's Revenue Agents API"),
            Service::HyperRep => ("hyperrep", "HyperRep's API"),
        };
        let mut command = Command::new(name).about(about).subcommand_required(true);
        let mut groups: Vec<(String, Command)> = Vec::new();
        for tag in service.tags() {
            let tag_name = tree::kebab(tag.name);
            let mut group = Command::new(tag_name.clone())
                .about(tag.description.trim_end_matches('.'))
                .subcommand_required(true);
            for op in self.of(service).iter().filter(|c| c.tag == tag_name) {
                group = group.subcommand(tree::command(op));
            }
            groups.push((tag_name, group));
        }
        for job in self.jobs_of(service) {
            match job.group() {
                None => command = command.subcommand(job.command()),
                Some(name) => {
                    if !groups.iter().any(|(g, _)| g == name) {
                        let about = jobs::group_about(name).unwrap_or(name);
                        let group = Command::new(name).about(about).subcommand_required(true);
                        groups.push((name.to_owned(), group));
                    }
                    if let Some((_, group)) = groups.iter_mut().find(|(g, _)| g == name) {
                        *group = std::mem::take(group).subcommand(job.command());
                    }
                }
            }
        }
        for (_, group) in groups {
            command = command.subcommand(group);
        }
        command
    }

    async fn run(&self, matches: &ArgMatches) -> Result<(), Stop> {
        let sandbox = matches.get_flag("sandbox");
        // The sandbox is never a profile's service.
        let profile = if sandbox {
            None
        } else {
            profile::chosen(matches.get_one::<String>("profile").map(String::as_str))?
        };
        let profile = profile.as_ref();
        let shaping = shape::Shaping {
            mode: shape::Mode::named(
                matches
                    .get_one::<String>("output")
                    .map_or("auto", String::as_str),
            ),
            fields: matches
                .get_one::<String>("fields")
                .map(|f| shape::parse_fields(f))
                .transpose()?,
            jq: matches
                .get_one::<String>("jq")
                .map(|code| shape::Jq::compile(code))
                .transpose()?,
            pretty: matches.get_flag("pretty"),
            raw: matches.get_flag("raw-output"),
        };
        let mut out = Output::new(shaping);
        let Some((name, sub)) = matches.subcommand() else {
            return Ok(());
        };
        match name {
            "completions" => {
                if let Some(shell) = sub.get_one::<clap_complete::Shell>("shell") {
                    let mut buffer = Vec::new();
                    clap_complete::generate(*shell, &mut self.root(), BIN, &mut buffer);
                    let mut script = String::from_utf8_lossy(&buffer).into_owned();
                    if *shell == clap_complete::Shell::Bash {
                        // clap_complete's bash script names the states of a hyphenated program
                        // two ways (`revenue__agents__subcmd__x` where it sets them,
                        // `revenue__subcmd__agents__subcmd__x` where it reads them;
                        // clap-rs/clap#6421), so nothing past the first word completes.
                        script = script
                            .replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"));
                    }
                    out.text(&script)?;
                }
                Ok(())
            }
            "man" => {
                if let Some(dir) = sub.get_one::<std::path::PathBuf>("dir") {
                    // Every page the others name (`revenue-agents-hockeystack(1)`) is written,
                    // into a directory made if it is not there yet.
                    return std::fs::create_dir_all(dir)
                        .and_then(|()| clap_mangen::generate_to(self.root(), dir))
                        .map_err(|e| {
                            Failure::usage(
                                format!("cannot write the pages into {}: {e}", dir.display()),
                                Vec::new(),
                            )
                            .into()
                        });
                }
                let mut buffer = Vec::new();
                clap_mangen::Man::new(self.root())
                    .render(&mut buffer)
                    .map_err(Failure::Output)?;
                out.text(&String::from_utf8_lossy(&buffer))
            }
            "api" => {
                let service = match sub.get_one::<String>("api").map(String::as_str) {
                    Some("hyperrep") => Service::HyperRep,
                    _ => Service::HockeyStack,
                };
                let commands = self.of(service);
                let (index, arguments) = raw::resolve(commands, service, sub)?;
                let operation = commands[index].operation;
                let walk = sub.get_flag("paginate").then_some(Walk::All);
                let session =
                    setup::connect(service, sandbox, operation.model.public, profile).await?;
                run_operation(&session.clients, operation, arguments, walk, &mut out).await
            }
            "hockeystack" | "hyperrep" => {
                let service = if name == "hockeystack" {
                    Service::HockeyStack
                } else {
                    Service::HyperRep
                };
                self.run_api(service, sub, sandbox, profile, &mut out).await
            }
            _ => Ok(()),
        }
    }

    async fn run_api(
        &self,
        service: Service,
        matches: &ArgMatches,
        sandbox: bool,
        profile: Option<&profile::Profile>,
        out: &mut Output,
    ) -> Result<(), Stop> {
        let Some((group, sub)) = matches.subcommand() else {
            return Ok(());
        };
        let job = self
            .jobs_of(service)
            .find(|job| match (job.group(), sub.subcommand()) {
                (None, _) => job.verb() == group,
                (Some(name), Some((verb, _))) => name == group && job.verb() == verb,
                (Some(_), None) => false,
            });
        if let Some(job) = job {
            let leaf = match job.group() {
                None => sub,
                Some(_) => sub.subcommand().map_or(sub, |(_, leaf)| leaf),
            };
            let arguments = job.arguments(leaf)?;
            let session = setup::connect(service, sandbox, false, profile).await?;
            let Some(client) = session.clients.hockeystack.as_ref() else {
                return Ok(());
            };
            return job.run(client, arguments, leaf, out).await;
        }
        let Some((verb, leaf)) = sub.subcommand() else {
            return Ok(());
        };
        let Some(command) = self
            .of(service)
            .iter()
            .find(|c| c.tag == group && c.verb == verb)
        else {
            return Ok(());
        };
        let defaults = defaults(service, sandbox, profile).map_err(Failure::Api)?;
        let arguments = input::arguments(command, leaf, &defaults)?;
        if let Some(fields) = out.record_fields()
            && let Some(problem) = crate::invoke::fields::unknown(command.operation.model, fields)
        {
            return Err(Failure::usage(format!("--fields: {problem}"), Vec::new()).into());
        }
        let walk = if leaf.try_get_one::<bool>(ALL).ok().flatten() == Some(&true) {
            Some(Walk::All)
        } else {
            leaf.try_get_one::<i64>(MAX_ITEMS)
                .ok()
                .flatten()
                .and_then(|n| u64::try_from(*n).ok())
                .map(Walk::Max)
        };
        let yes = leaf.try_get_one::<bool>(confirm::YES).ok().flatten() == Some(&true);
        confirm::go_ahead(command.operation.model, &arguments, yes).await?;
        let session =
            setup::connect(service, sandbox, command.operation.model.public, profile).await?;
        run_operation(&session.clients, command.operation, arguments, walk, out).await
    }
}

/// Arguments a command takes when the command line leaves them out: HyperRep's organization,
/// from the chosen profile, then `HYPERREP_ORGANIZATION_ID` (not with `--sandbox`, whose
/// organization is its own).
fn defaults(
    service: Service,
    sandbox: bool,
    profile: Option<&profile::Profile>,
) -> Result<Map<String, Value>, crate::error::Error> {
    let mut defaults = Map::new();
    if service == Service::HyperRep && !sandbox {
        let organization = match profile.and_then(|p| p.hyperrep_organization_id.clone()) {
            Some(id) => Some(id),
            None => crate::setting::var(ORGANIZATION_VARIABLE)?,
        };
        if let Some(id) = organization {
            defaults.insert(ORGANIZATION_ARGUMENT.into(), json!(id.trim()));
        }
    }
    Ok(defaults)
}

pub(crate) use crate::hyperrep::ORGANIZATION_VARIABLE;

/// The argument that [`defaults`] may give: HyperRep's organization, which every command that
/// takes it may leave out.
pub(crate) const ORGANIZATION_ARGUMENT: &str = "organization_id";

/// How far to follow a list's pages.
#[derive(Debug, Clone, Copy)]
enum Walk {
    All,
    Max(u64),
}

/// Sends one operation and prints its answer, or follows a list's pages and prints its items
/// one a line as each page arrives. Text from the server has every credential blanked out.
async fn run_operation(
    clients: &Clients,
    operation: Operation,
    mut arguments: Map<String, Value>,
    walk: Option<Walk>,
    out: &mut Output,
) -> Result<(), Stop> {
    let (Some(walk), Some(shape)) = (walk, operation.model.list.as_ref()) else {
        let answer = clients.send(operation, &arguments).await?;
        return match (answer, operation.model.list.as_ref()) {
            (Some(page), Some(shape)) => {
                let page = scrubbed(clients, page);
                let next = page
                    .pointer(shape.next_cursor)
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                out.page(page, shape.items, next)
            }
            (Some(answer), None) => out.document(&scrubbed(clients, answer)),
            // On a terminal, a call that answers nothing (a deletion's 204) still says it
            // was done; a script has the exit code.
            (None, _) => {
                if std::io::stderr().is_terminal() {
                    jobs::say_on_stderr(&format!(
                        "{BIN}: done: {} (the API answered with no content)",
                        operation.model.summary.to_lowercase()
                    ));
                }
                Ok(())
            }
        };
    };
    let max = match walk {
        Walk::All => u64::MAX,
        Walk::Max(n) => n,
    };
    // The largest pages the API allows (fewer requests), unless the call chose a size; never
    // more than the items wanted.
    if let Some(page) = &shape.page_size
        && !arguments.contains_key(page.name)
    {
        arguments.insert(page.name.into(), json!(page.for_items(max)));
    }
    let start = arguments
        .remove(shape.cursor)
        .and_then(|c| c.as_str().map(str::to_owned));
    // Items stay the text the server sent: checked as JSON, never taken apart and printed
    // again.
    let list = JsonList::<RawPage>::new(clients.clone(), operation, arguments);
    let mut pages = match start {
        Some(cursor) => list.pages_from(cursor),
        None => list.pages(),
    };
    let mut written = 0u64;
    while let Some(page) = pages.try_next().await? {
        for item in page.items {
            if written == max {
                break;
            }
            out.item(&clients.scrub(one_line(item)))?;
            written += 1;
        }
        out.flush()?;
        if written == max {
            break;
        }
    }
    out.finish()
}

/// An item's JSON text on one line: as sent, unless the server spread it over several (JSON
/// strings cannot hold a raw line break, so any is whitespace between tokens).
fn one_line(item: Box<RawValue>) -> String {
    let text = item.get();
    if text.contains(['\n', '\r']) {
        serde_json::from_str::<Value>(text).map_or_else(|_| text.to_owned(), |v| v.to_string())
    } else {
        String::from(Box::<str>::from(item))
    }
}

/// A value with every served credential blanked out of its text, should a server echo one.
fn scrubbed(clients: &Clients, value: Value) -> Value {
    let text = value.to_string();
    let clean = clients.scrub(text.clone());
    if clean == text {
        value
    } else {
        serde_json::from_str(&clean).unwrap_or(Value::String(clean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_tree_is_well_formed() {
        // clap checks every name, alias, flag and conflict of the tree here, global flags
        // against every operation's own included.
        Commands::read().unwrap().root().debug_assert();
    }

    #[test]
    fn an_item_spread_over_lines_by_the_server_is_printed_on_one() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).unwrap();
        assert_eq!(
            one_line(raw(r#"{"a": "x\ny"}"#)),
            r#"{"a": "x\ny"}"#,
            "kept as sent"
        );
        assert_eq!(one_line(raw("{\n  \"a\": 1\n}")), r#"{"a":1}"#);
    }
}
