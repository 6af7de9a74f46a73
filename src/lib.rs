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

pub mod config;
mod error;
mod headers;
mod open_enum;
pub mod optional;
pub mod paginate;
// Only HockeyStack has asynchronous work to wait for; a HyperRep-only build keeps the policy types.
#[cfg_attr(not(feature = "hockeystack"), allow(dead_code))]
mod poll;
mod retry;
#[cfg(feature = "hockeystack")]
mod sse;
mod transport;

#[cfg(feature = "hockeystack")]
pub mod hockeystack;
#[cfg(feature = "hyperrep")]
pub mod hyperrep;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use config::ClientBuilder;
pub use error::{
    AgentRef, ApiErrorBody, Error, ErrorKind, JobRef, TransportCause, ValidationProblem,
    WaitSubject,
};
pub use headers::RateLimit;
pub use open_enum::UnknownValue;
pub use paginate::{Items, Page, Pages, Paginated};
pub use poll::{Phase, PollPolicy, Progress, ProgressStream};
pub use retry::RetryPolicy;
