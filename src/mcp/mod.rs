//! An MCP server over both APIs (feature `mcp`), behind the `revenue-agents-mcp` binary.
//!
//! Every operation of both specs is a tool named `<api>_<operationId>`
//! (`hockeystack_create_task`, `hyperrep_list_organizations`), whose input schema is the
//! operation's parameters and body from the spec. Calls go through the crate's clients, so
//! they get its checks, retries, typed errors and credential hygiene. Tools come in toolsets
//! (one per tag of each spec, `hockeystack_tasks`, `hyperrep_sales`, …) that can be chosen,
//! and a read-only server offers no tool that writes. It speaks MCP over stdio
//! ([`Server::serve_stdio`]) or streamable HTTP on loopback ([`Server::serve_http`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use revenue_agents::{hockeystack, hyperrep, mcp::Server};
//!
//! let server = Server::builder()
//!     .hockeystack(hockeystack::Client::from_env()?)
//!     .hyperrep(hyperrep::Client::from_env()?)
//!     .toolsets(["hockeystack_tasks", "hyperrep"])
//!     .read_only(true)
//!     .build()?;
//! server.serve_stdio().await?;
//! # Ok(()) }
//! ```

pub mod binary;
mod call;
mod catalog;
mod clean;
mod compact;
mod confirm;
mod fit;
mod intake;
mod outcome;
mod progress;
mod server;
mod stdio;

use std::sync::Arc;

pub use self::confirm::Confirm;
use self::{call::Shaping, catalog::ToolDef};
use crate::{
    error::{Error, ErrorKind},
    invoke::{Clients, Service, jobs::Waits},
    poll::PollPolicy,
};

/// The MCP server: the chosen tools and the clients they call. Build it with
/// [`Server::builder`].
#[derive(Clone)]
pub struct Server {
    /// Every tool offered, callable by name.
    tools: server::Tools,
    /// What `tools/list` shows: the offered tools, or the compact mode's pair and composites.
    listed: server::Tools,
    /// Tools of the specs this server does not offer, with why, to answer a call of one.
    left_out: Arc<Vec<(String, String)>>,
    clients: Clients,
    waits: Waits,
    shaping: Shaping,
    /// Long calls run as tasks for clients that offer the tasks extension; shared by the
    /// clones rmcp makes. Over HTTP, the protocol revision that has tasks (2026-07-28) has no
    /// sessions: rmcp makes a server for each request, so the `tasks/get` that follows a call
    /// must find the task another clone started. A task is reached only by its id, a random
    /// v4 UUID that only the caller who started it was given, and no request lists them.
    tasks: rmcp::task_manager::TaskManager,
    /// Which calls the user is asked to confirm.
    confirm: Confirm,
    /// The questions sent in results and not yet answered; shared by the clones as `tasks` is.
    pending: Arc<confirm::Pending>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

/// One tool a [`Server`] offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferedTool<'a> {
    /// Its toolset (`hockeystack_tasks`).
    pub toolset: &'a str,
    /// Its name (`hockeystack_create_task`).
    pub name: &'a str,
    /// Whether it changes anything (every tool but those of `GET` operations).
    pub writes: bool,
}

/// Chooses what a [`Server`] offers.
#[derive(Debug, Default)]
#[must_use]
pub struct ServerBuilder {
    clients: Clients,
    toolsets: Option<Vec<String>>,
    read_only: bool,
    tools: Option<Vec<String>>,
    exclude_tools: Vec<String>,
    compact: bool,
    deprecated: bool,
    waits: Option<Waits>,
    clean_text: Option<bool>,
    result_chars: Option<usize>,
    confirm: Confirm,
}

/// The default of [`ServerBuilder::result_chars`]: about 25 000 tokens, the largest result
/// some clients accept.
pub const DEFAULT_RESULT_CHARS: usize = fit::DEFAULT_RESULT_CHARS;

impl ServerBuilder {
    /// Serve HockeyStack's tools through this client.
    pub fn hockeystack(mut self, client: crate::hockeystack::Client) -> Self {
        self.clients.hockeystack = Some(client);
        self
    }

    /// Serve HyperRep's tools through this client.
    pub fn hyperrep(mut self, client: crate::hyperrep::Client) -> Self {
        self.clients.hyperrep = Some(client);
        self
    }

    /// Offer only these toolsets: names from [`Server::toolsets`], an API's name
    /// (`hockeystack`, `hyperrep`) for all of its toolsets, or `all`. Default: all toolsets
    /// of the APIs served.
    pub fn toolsets<I, S>(mut self, toolsets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.toolsets = Some(toolsets.into_iter().map(Into::into).collect());
        self
    }

    /// Offer these tools by exact name, beside the chosen toolsets (alone when no toolset is
    /// chosen).
    pub fn tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }

    /// Offer none of these tools, by exact name, whatever else chooses them.
    pub fn exclude_tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_tools = tools.into_iter().map(Into::into).collect();
        self
    }

    /// List two tools in place of one per operation: `find_operations` searches the offered
    /// operations (with their input schemas) and `call_operation` calls one by name; the
    /// composite tools stay. Every offered operation stays reachable for a fraction of the
    /// `tools/list` size.
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }

    /// Offer the tools of deprecated operations too (kept by the APIs for old integrations).
    /// Default `false`: they are left out unless named with [`tools`](Self::tools), so that an
    /// assistant is not offered two ways to do one thing.
    pub fn deprecated(mut self, deprecated: bool) -> Self {
        self.deprecated = deprecated;
        self
    }

    /// Offer no tool that writes: only the tools of `GET` operations.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// How the composite tools pace their checks: `agent` while an agent provisions, `job`
    /// while a reply is written. Default [`PollPolicy::agent_provisioning`] and
    /// [`PollPolicy::message_jobs`]; a call's `wait_seconds` replaces the deadline.
    pub fn waits(mut self, agent: PollPolicy, job: PollPolicy) -> Self {
        self.waits = Some(Waits { agent, job });
        self
    }

    /// Whether characters a reader cannot see (zero-width, bidirectional controls, Unicode
    /// tags, control characters) are written out as visible escapes such as `\u{200B}` in
    /// every result and progress message. Default `true`: names, notes and messages come from
    /// CRMs and prospects, and hidden text is how instructions reach a model unseen.
    pub fn clean_text(mut self, clean: bool) -> Self {
        self.clean_text = Some(clean);
        self
    }

    /// The most characters of text a result may have ([`DEFAULT_RESULT_CHARS`] unless set;
    /// at least 2 000). A list stops at it on an item boundary with the cursor that continues
    /// after the last item returned; anything else over it is cut, largest part first, and
    /// says what was cut and how to get the rest.
    pub fn result_chars(mut self, chars: usize) -> Self {
        self.result_chars = Some(chars);
        self
    }

    /// Which calls the user is asked to confirm before they run, where the client can ask
    /// (it declares the elicitation capability): [`Confirm::All`] (the default) asks before
    /// every call that deletes data or starts agent work paid for in credits,
    /// [`Confirm::Destructive`] only before deletions, [`Confirm::Never`] never. A call the
    /// user does not approve is not sent and answers `not_confirmed`. A client that cannot ask
    /// gets the call as before; the tool's description says what it does.
    pub fn confirm(mut self, confirm: Confirm) -> Self {
        self.confirm = confirm;
        self
    }

    /// The server, or [`ErrorKind::InvalidSetting`] for a toolset that does not exist or
    /// belongs to an API without a client, or a result budget below 2 000 characters.
    pub fn build(self) -> Result<Server, Error> {
        let result_chars = self.result_chars.unwrap_or(fit::DEFAULT_RESULT_CHARS);
        if result_chars < fit::MIN_RESULT_CHARS {
            return Err(Error::new(ErrorKind::InvalidSetting {
                setting: "result_chars",
                reason: format!(
                    "{result_chars} characters leave no room for an answer; at least {}",
                    fit::MIN_RESULT_CHARS
                ),
            }));
        }
        let invalid = |reason: String| {
            Error::new(ErrorKind::InvalidSetting {
                setting: "toolsets",
                reason,
            })
        };
        let all = all_tools().map_err(invalid)?;
        let served = |service: Service| match service {
            Service::HockeyStack => self.clients.hockeystack.is_some(),
            Service::HyperRep => self.clients.hyperrep.is_some(),
        };
        let wanted = |def: &ToolDef, chosen: &[String]| {
            chosen.iter().any(|name| {
                name == "all"
                    || *name == def.toolset
                    || def.toolset.starts_with(&format!("{name}_"))
            })
        };
        if let Some(chosen) = &self.toolsets {
            let names = Server::toolsets();
            for name in chosen {
                let known = name == "all"
                    || name == "hockeystack"
                    || name == "hyperrep"
                    || names.contains(name);
                if !known {
                    return Err(invalid(format!(
                        "no toolset {name:?}; the toolsets are {}",
                        names.join(", ")
                    )));
                }
                for service in [Service::HockeyStack, Service::HyperRep] {
                    let its = *name == service.prefix()
                        || name.starts_with(&format!("{}_", service.prefix()));
                    if its && !served(service) {
                        return Err(invalid(format!(
                            "toolset {name} needs a {} client, and none is configured",
                            service.prefix()
                        )));
                    }
                }
            }
        }
        for name in self.tools.iter().flatten().chain(&self.exclude_tools) {
            if !all.iter().any(|(_, def)| def.tool.name == *name) {
                return Err(Error::new(ErrorKind::InvalidSetting {
                    setting: "tools",
                    reason: format!("no tool named {name:?} (--list-tools names them)"),
                }));
            }
        }
        let named = |def: &ToolDef| {
            self.tools
                .as_ref()
                .is_some_and(|names| names.iter().any(|n| *n == def.tool.name))
        };
        let by_toolset = |def: &ToolDef| match (&self.toolsets, &self.tools) {
            (Some(chosen), _) => wanted(def, chosen),
            (None, Some(_)) => false,
            (None, None) => true,
        };
        let mut tools = Vec::new();
        let mut left_out = Vec::new();
        for (service, def) in all {
            let reason = if !served(service) {
                format!("{} is not served (no client for it)", service.prefix())
            } else if self.exclude_tools.iter().any(|n| *n == def.tool.name) {
                "it is excluded by name".to_owned()
            } else if !named(&def) && !by_toolset(&def) {
                format!(
                    "neither the tool nor its toolset {} is among those chosen",
                    def.toolset
                )
            } else if self.read_only && def.writes {
                "it writes, and this server is read-only".to_owned()
            } else if def.deprecated() && !self.deprecated && !named(&def) {
                "its operation is deprecated; --deprecated (or naming it with --tools) offers it"
                    .to_owned()
            } else {
                let mut def = def;
                if def.consequence.is_some_and(|c| self.confirm.asks(c)) {
                    let description = def.tool.description.take().unwrap_or_default();
                    def.tool.description = Some(
                        format!(
                            "{description} The user is asked to confirm it first when the \
                             client can ask."
                        )
                        .into(),
                    );
                }
                tools.push(def);
                continue;
            };
            left_out.push((def.tool.name.to_string(), reason));
        }
        let listed = if self.compact {
            compact::listing(&tools)
        } else {
            tools.clone()
        };
        Ok(Server {
            tools: Arc::new(tools),
            listed: Arc::new(listed),
            left_out: Arc::new(left_out),
            clients: self.clients,
            waits: self.waits.unwrap_or_default(),
            shaping: Shaping {
                clean_text: self.clean_text.unwrap_or(true),
                result_chars,
                fields: None,
            },
            tasks: rmcp::task_manager::TaskManager::new(),
            confirm: self.confirm,
            pending: Arc::default(),
        })
    }
}

fn all_tools() -> Result<Vec<(Service, ToolDef)>, String> {
    let mut all = Vec::new();
    for service in [Service::HockeyStack, Service::HyperRep] {
        all.extend(
            catalog::tools(service)?
                .into_iter()
                .map(|def| (service, def)),
        );
    }
    Ok(all)
}

impl Server {
    /// A builder with no API served yet.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Every toolset of both APIs, in the specs' order.
    pub fn toolsets() -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, def) in all_tools().unwrap_or_default() {
            if !names.contains(&def.toolset) {
                names.push(def.toolset);
            }
        }
        names
    }

    /// What a toolset holds, from its tag's description in the spec; `None` for a name that is
    /// no toolset.
    pub fn toolset_description(toolset: &str) -> Option<&'static str> {
        [Service::HockeyStack, Service::HyperRep]
            .into_iter()
            .flat_map(|service| service.tags().iter().map(move |tag| (service, tag)))
            .find(|(service, tag)| catalog::toolset(*service, tag.name) == toolset)
            .map(|(_, tag)| tag.description)
    }

    /// The tools offered, grouped by toolset (in the compact mode, the tools listed).
    pub fn tools(&self) -> Vec<OfferedTool<'_>> {
        self.listed
            .iter()
            .map(|t| OfferedTool {
                toolset: &t.toolset,
                name: &t.tool.name,
                writes: t.writes,
            })
            .collect()
    }

    /// Serves MCP over streamable HTTP at `http://{addr}/mcp` until the process ends. A
    /// message the server cannot take (over 16 MiB, nested deeper than 64, not JSON, no
    /// JSON-RPC message) is answered with its JSON-RPC error (HTTP 413 or 400). The
    /// address must be loopback: the server acts with the configured credentials for whoever
    /// reaches it. Requests naming another host (DNS rebinding) or coming from a web page of
    /// another origin are refused. `on_bound` learns the address (port 0 picks one).
    pub async fn serve_http(
        self,
        addr: std::net::SocketAddr,
        on_bound: impl FnOnce(std::net::SocketAddr),
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use rmcp::transport::streamable_http_server::{
            StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
        };
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr} is not a loopback address; the MCP server listens on loopback only"
            )
            .into());
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let mut config = StreamableHttpServerConfig::default();
        config.allowed_origins = vec![
            format!("http://{bound}"),
            format!("http://localhost:{}", bound.port()),
        ];
        let service = StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        on_bound(bound);
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(intake::http_guard));
        axum::serve(listener, router).await?;
        Ok(())
    }

    /// Serves MCP over standard input and output until the client closes them. Every request
    /// is answered: a line longer than 16 MiB, nested deeper than 64 levels, not JSON or no
    /// JSON-RPC message gets the JSON-RPC error for it, under its id when one can be read.
    pub async fn serve_stdio(self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        stdio::serve(self, tokio::io::stdin(), tokio::io::stdout()).await
    }
}

#[cfg(test)]
mod compact_tests;
#[cfg(test)]
mod shaping_tests;
#[cfg(test)]
mod tests;
