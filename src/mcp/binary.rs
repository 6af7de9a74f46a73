//! `revenue-agents-mcp`, the MCP server as a program: its options from the command line and the
//! environment, read by the crate's one rule for settings (an argument that is not UTF-8, or a
//! variable that is set but unreadable or wrong, stops start-up naming it). The binary is
//! `src/bin/mcp.rs`; this module is public only so that it can call [`main`].

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use super::{Confirm, Server};
use crate::{
    error::{Error, ErrorKind},
    hockeystack, hyperrep,
    sandbox::{Sandbox, SandboxConfig},
    setting,
};

const USAGE: &str =
    "usage: revenue-agents-mcp [--sandbox] [--toolsets NAME,NAME...] [--read-only] [--list-tools]
                          [--tools NAME,NAME...] [--exclude-tools NAME,NAME...] [--compact]
                          [--deprecated]
                          [--http [ADDR:]PORT] [--result-chars N] [--raw-text]
                          [--confirm all|destructive|never]
                          [--sandbox-provisioning-seconds S] [--sandbox-job-seconds S]
                          [--help] [--version]

  --sandbox       serve the built-in sandbox of both APIs (no account needed), never the real ones
  --toolsets      offer only these toolsets: a toolset name, `hockeystack`, `hyperrep` or `all`
  --read-only     offer no tool that writes
  --tools         offer these tools by exact name, beside the chosen toolsets (alone without
                  --toolsets)
  --exclude-tools offer none of these tools, by exact name
  --compact       list two tools, find_operations and call_operation, in place of one per
                  operation (plus the composite tools): every operation stays reachable for
                  a fraction of the tool list's size
  --deprecated    offer the tools of deprecated operations too (left out by default)
  --confirm       which calls the user is asked to confirm first, where the client can ask
                  (elicitation): all (default) = those that delete data or spend credits,
                  destructive = deletions only, never = none
  --list-tools    print the tools that would be offered, by toolset, and exit
  --http          serve streamable HTTP at http://ADDR:PORT/mcp (loopback only; ADDR 127.0.0.1
                  by default) instead of stdio
  --result-chars  the most characters of text one result may have (default 100000, about
                  25000 tokens; at least 2000): lists stop at it with a cursor to continue,
                  anything else is cut and says what was cut
  --sandbox-provisioning-seconds, --sandbox-job-seconds
                  with --sandbox: how long its agents take to provision and its message jobs
                  to finish (defaults 3 and 1)
  --raw-text      pass invisible and bidirectional control characters and Unicode tags through
                  as they are, instead of writing them out as visible escapes (\\u{200B})
  --version       print the version and exit

REVENUE_AGENTS_MCP_TOOLSETS, REVENUE_AGENTS_MCP_TOOLS, REVENUE_AGENTS_MCP_EXCLUDE_TOOLS,
REVENUE_AGENTS_MCP_READ_ONLY, REVENUE_AGENTS_MCP_COMPACT, REVENUE_AGENTS_MCP_DEPRECATED,
REVENUE_AGENTS_MCP_RESULT_CHARS, REVENUE_AGENTS_MCP_CONFIRM and REVENUE_AGENTS_MCP_RAW_TEXT (1 or true for the switches)
set the same as their flags, for clients that configure servers by environment.";

struct Options {
    sandbox: bool,
    toolsets: Option<Vec<String>>,
    read_only: bool,
    list_tools: bool,
    http: Option<SocketAddr>,
    provisioning: Option<Duration>,
    job: Option<Duration>,
    result_chars: Option<usize>,
    raw_text: bool,
    tools: Option<Vec<String>>,
    exclude_tools: Vec<String>,
    compact: bool,
    deprecated: bool,
    confirm: Confirm,
}

/// A switch of the environment; one that is set but unreadable or neither on nor off stops
/// start-up, so a server meant to be read-only never serves the tools that write.
fn flag(name: &'static str) -> Result<bool, String> {
    setting::switch(name).map_err(|e| e.to_string())
}

/// A variable of the environment, refused when set but unreadable.
fn variable(name: &'static str) -> Result<Option<String>, String> {
    setting::var(name).map_err(|e| e.to_string())
}

fn characters(what: &str, text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what}: {text:?} is not a number of characters"))
}

fn seconds(arg: &str, text: Option<String>) -> Result<Duration, String> {
    let text = text.ok_or_else(|| format!("{arg} needs a value"))?;
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{arg}: {text:?} is not a number of seconds"))
}

/// The confirmation setting a word names.
fn confirm(what: &str, word: &str) -> Result<Confirm, String> {
    Confirm::named(word).ok_or_else(|| format!("{what}: {word:?} is not all, destructive or never"))
}

/// A comma-separated list of names.
fn toolsets(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The options from the environment, then the command line (`args`, without the program).
fn parse_args(args: Vec<String>) -> Result<Parsed, String> {
    let mut options = Options {
        sandbox: false,
        toolsets: None,
        read_only: false,
        list_tools: false,
        http: None,
        provisioning: None,
        job: None,
        result_chars: None,
        raw_text: flag("REVENUE_AGENTS_MCP_RAW_TEXT")?,
        tools: variable("REVENUE_AGENTS_MCP_TOOLS")?.map(|list| toolsets(&list)),
        exclude_tools: variable("REVENUE_AGENTS_MCP_EXCLUDE_TOOLS")?
            .map(|list| toolsets(&list))
            .unwrap_or_default(),
        compact: flag("REVENUE_AGENTS_MCP_COMPACT")?,
        deprecated: flag("REVENUE_AGENTS_MCP_DEPRECATED")?,
        confirm: match variable("REVENUE_AGENTS_MCP_CONFIRM")? {
            Some(word) => confirm("REVENUE_AGENTS_MCP_CONFIRM", &word)?,
            None => Confirm::default(),
        },
    };
    if let Some(text) = variable("REVENUE_AGENTS_MCP_RESULT_CHARS")? {
        options.result_chars = Some(characters("REVENUE_AGENTS_MCP_RESULT_CHARS", &text)?);
    }
    if let Some(list) = variable("REVENUE_AGENTS_MCP_TOOLSETS")? {
        options.toolsets = Some(toolsets(&list));
    }
    options.read_only = flag("REVENUE_AGENTS_MCP_READ_ONLY")?;
    // `--flag=value` is the same as `--flag value`.
    let mut args = args
        .into_iter()
        .flat_map(|arg| match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                vec![flag.to_owned(), value.to_owned()]
            }
            _ => vec![arg],
        })
        .collect::<Vec<_>>()
        .into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sandbox" => options.sandbox = true,
            "--read-only" => options.read_only = true,
            "--list-tools" => options.list_tools = true,
            "--raw-text" => options.raw_text = true,
            "--compact" => options.compact = true,
            "--deprecated" => options.deprecated = true,
            "--tools" => {
                let list = args.next().ok_or("--tools needs a value")?;
                options.tools = Some(toolsets(&list));
            }
            "--exclude-tools" => {
                let list = args.next().ok_or("--exclude-tools needs a value")?;
                options.exclude_tools = toolsets(&list);
            }
            "--confirm" => {
                let word = args
                    .next()
                    .ok_or("--confirm needs all, destructive or never")?;
                options.confirm = confirm("--confirm", &word)?;
            }
            "--result-chars" => {
                let text = args.next().ok_or("--result-chars needs a value")?;
                options.result_chars = Some(characters("--result-chars", &text)?);
            }
            "--toolsets" => {
                let list = args.next().ok_or("--toolsets needs a value")?;
                options.toolsets = Some(toolsets(&list));
            }
            "--sandbox-provisioning-seconds" => {
                options.provisioning = Some(seconds(&arg, args.next())?)
            }
            "--sandbox-job-seconds" => options.job = Some(seconds(&arg, args.next())?),
            "--http" => {
                let text = args.next().ok_or("--http needs a port or an address")?;
                let addr = match text.parse::<u16>() {
                    Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
                    Err(_) => text
                        .parse()
                        .map_err(|_| format!("--http: {text:?} is not a port or an address"))?,
                };
                options.http = Some(addr);
            }
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Parsed::Run(Box::new(options)))
}

/// What the command line asks for.
enum Parsed {
    Run(Box<Options>),
    Help,
    Version,
}

/// The usage and the toolsets, each with its tag's description.
fn help() -> String {
    let mut text = format!("{USAGE}\n\nToolsets (the specs' tags):\n");
    for toolset in Server::toolsets() {
        let about = Server::toolset_description(&toolset).unwrap_or_default();
        text.push_str(&format!("  {toolset:<26} {about}\n"));
    }
    text
}

/// A client from the environment, or `None` when its credential is not set.
fn from_env<C>(made: Result<C, Error>) -> Result<Option<C>, Error> {
    match made {
        Ok(client) => Ok(Some(client)),
        Err(e) if matches!(e.kind(), ErrorKind::MissingCredentials { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs the server this process's command line and environment ask for, and returns its exit
/// code: 0 when the client closed the connection, 1 when the server failed, 2 for a usage or
/// setting that cannot be used (named, with the usage).
pub fn main() -> ExitCode {
    let parsed = setting::arguments(std::env::args_os().skip(1)).and_then(parse_args);
    let options = match parsed {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Version) => {
            let _ = std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                concat!("revenue-agents-mcp ", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
            );
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Help) => {
            // Written, not printed: a reader that stops early ends the help quietly.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), help().as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!(
                "revenue-agents-mcp: {message}\n(revenue-agents-mcp --help lists the options)"
            );
            return ExitCode::from(2);
        }
    };
    let runtime = match setting::runtime("revenue-agents-mcp") {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(serve(*options))
}

async fn serve(options: Options) -> ExitCode {
    let mut builder = Server::builder()
        .read_only(options.read_only)
        .clean_text(!options.raw_text)
        .compact(options.compact)
        .deprecated(options.deprecated)
        .confirm(options.confirm)
        .exclude_tools(options.exclude_tools.iter().cloned());
    if let Some(tools) = &options.tools {
        builder = builder.tools(tools.iter().cloned());
    }
    if let Some(chars) = options.result_chars {
        builder = builder.result_chars(chars);
    }
    if let Some(toolsets) = &options.toolsets {
        builder = builder.toolsets(toolsets.iter().cloned());
    }
    let mut sandbox = None;
    if options.sandbox {
        let mut config = SandboxConfig {
            port: 0,
            ..SandboxConfig::default()
        };
        if let Some(time) = options.provisioning {
            config.provisioning_time = time;
        }
        if let Some(time) = options.job {
            config.job_time = time;
        }
        let started = match Sandbox::start(config).await {
            Ok(started) => started,
            Err(e) => {
                eprintln!("cannot start the sandbox: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "revenue-agents-mcp: serving the built-in sandbox at http://{} (controls under /__sandbox/)",
            started.addr()
        );
        let clients = started
            .hockeystack_client()
            .and_then(|hs| Ok((hs, started.hyperrep_client()?)));
        let (hs, hr) = match clients {
            Ok(clients) => clients,
            Err(e) => {
                eprintln!("cannot reach the sandbox: {e}");
                return ExitCode::FAILURE;
            }
        };
        builder = builder.hockeystack(hs).hyperrep(hr);
        sandbox = Some(started);
    } else {
        let clients = from_env(hockeystack::Client::from_env())
            .and_then(|hs| Ok((hs, from_env(hyperrep::Client::from_env())?)));
        let (hs, hr) = match clients {
            Ok(clients) => clients,
            // A setting of the environment that cannot be used: named, and nothing served.
            Err(e) => {
                eprintln!("revenue-agents-mcp: {e}");
                return ExitCode::from(2);
            }
        };
        if hs.is_none() && hr.is_none() {
            eprintln!(
                "revenue-agents-mcp: no credentials: set HOCKEYSTACK_API_TOKEN and/or HYPERREP_API_KEY, \
                 or pass --sandbox to try the built-in sandbox"
            );
            return ExitCode::from(2);
        }
        for (name, served, variable) in [
            ("HockeyStack", hs.is_some(), "HOCKEYSTACK_API_TOKEN"),
            ("HyperRep", hr.is_some(), "HYPERREP_API_KEY"),
        ] {
            if !served {
                eprintln!("revenue-agents-mcp: {name} is not served ({variable} is not set)");
            }
        }
        if let Some(client) = hs {
            builder = builder.hockeystack(client);
        }
        if let Some(client) = hr {
            builder = builder.hyperrep(client);
        }
    }

    let server = match builder.build() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("revenue-agents-mcp: {e}");
            return ExitCode::from(2);
        }
    };
    if options.list_tools {
        use std::io::Write;
        // Written, not printed: a reader that stops early (`| head`) ends the listing quietly
        // instead of making `println!` panic on the closed pipe.
        let mut out = std::io::stdout().lock();
        for tool in server.tools() {
            let writes = if tool.writes { "\t(writes)" } else { "" };
            if writeln!(out, "{}\t{}{writes}", tool.toolset, tool.name).is_err() {
                break;
            }
        }
        return ExitCode::SUCCESS;
    }
    let served = match options.http {
        Some(addr) => {
            server
                .serve_http(addr, |bound| {
                    eprintln!("revenue-agents-mcp: serving MCP at http://{bound}/mcp");
                })
                .await
        }
        None => server.serve_stdio().await,
    };
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("revenue-agents-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}
