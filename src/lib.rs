// The README's examples use both clients and the sandbox; with a feature off, a short summary
// stands in (docs.rs builds with all features).
#![cfg_attr(
    all(feature = "hockeystack", feature = "hyperrep", feature = "sandbox"),
    doc = include_str!("../README.md")
)]
#![cfg_attr(
    not(all(feature = "hockeystack", feature = "hyperrep", feature = "sandbox")),
    doc = "Typed clients for HockeyStack's Revenue Agents API and HyperRep's API; see the README."
)]
#![warn(missing_docs)]
// Without either API (tracing, schemars or mock alone) the clients' plumbing goes unused.
#![cfg_attr(
    not(any(feature = "hockeystack", feature = "hyperrep")),
    allow(dead_code, unused_imports, unused_macros)
)]

// The operation model and the call path serve every surface; the MCP server reads all of
// them, as does the command-line tool; a build with fewer surfaces reads part.
pub mod budget;
#[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
mod call;
pub mod config;
mod error;
mod headers;
#[cfg(any(feature = "mcp", feature = "cli"))]
mod invoke;
mod limits;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
mod model;
mod notice;
mod open_enum;
pub mod optional;
pub mod paginate;
mod setting;
// Only HockeyStack has asynchronous work to wait for.
#[cfg(feature = "hockeystack")]
mod poll;
#[cfg(any(feature = "tracing", feature = "metrics"))]
mod record;
mod retry;
#[cfg(feature = "hockeystack")]
mod sse;
mod trace;
mod transport;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "hockeystack")]
pub mod hockeystack;
#[cfg(feature = "hyperrep")]
pub mod hyperrep;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "sandbox")]
pub mod sandbox;

/// The `httpmock` version the typed mocks are written for (feature `mock`).
#[cfg(feature = "mock")]
pub use httpmock;

pub use budget::RateBudget;
pub use config::ClientBuilder;
#[cfg(feature = "hockeystack")]
pub use error::{AgentRef, JobRef, WaitSubject};
pub use error::{ApiErrorBody, Error, ErrorKind, TransportCause, ValidationProblem};
pub use headers::RateLimit;
pub use notice::{Waiting, observe_waits};
pub use open_enum::UnknownValue;
pub use paginate::{Items, Page, Pages, Paginated};
#[cfg(feature = "hockeystack")]
pub use poll::{Phase, PollPolicy, Progress, ProgressStream};
pub use retry::RetryPolicy;

/// What must stay out of users' reach; each block must fail to compile, for the reason given.
///
/// progenitor's own error type is not exported: every call fails with [`Error`].
/// ```compile_fail,E0432
/// use revenue_agents::hockeystack::Error;
/// ```
/// ```compile_fail,E0432
/// use revenue_agents::hyperrep::ClientInfo;
/// ```
/// Clients come from `builder()`, `from_env()` or `from_credential()`, never from the
/// generator's constructor.
/// ```compile_fail,E0599
/// let _ = revenue_agents::hockeystack::Client::new("https://example.com");
/// ```
/// The transport is private.
/// ```compile_fail,E0603
/// use revenue_agents::transport::Inner;
/// ```
/// Only the crate's list requests are [`Paginated`].
/// ```compile_fail,E0277
/// #[derive(Clone)]
/// struct Mine;
/// impl revenue_agents::Paginated for Mine {
///     type Page = ();
///     type Item = ();
///     type Fetch = std::future::Ready<Result<(), revenue_agents::Error>>;
///     fn with_cursor(self, _: String) -> Self { self }
///     fn fetch(self) -> Self::Fetch { std::future::ready(Ok(())) }
///     fn split(_: ()) -> (Vec<()>, revenue_agents::paginate::Continuation) { (Vec::new(), Default::default()) }
/// }
/// ```
#[cfg(all(doctest, feature = "hockeystack", feature = "hyperrep"))]
pub struct StaysHidden;
