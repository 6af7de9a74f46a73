//! A local, stateful fake of both APIs (feature `sandbox`), so that the quickstart runs
//! without an account and programs can be tested offline.
//!
//! It is a real HTTP server (on loopback unless told otherwise) and follows the specs in
//! `openapi/`: credentials,
//! agent provisioning that takes time and can fail, message jobs with retention windows,
//! streamed replies, the task state machine, credits with a cap, rate-limit pools, and a
//! seeded HyperRep organization with cursor pagination, validation errors and analytics.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use revenue_agents::sandbox::{Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let hockeystack = sandbox.hockeystack_client().expect("a loopback sandbox");
//! let reply = hockeystack.ask_deal("9001234567", "What is the biggest risk?").await.unwrap();
//! println!("{}", reply.text());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Behaviours to steer it:
//! - a deal or company id starting with `fail-` fails its first provisioning run; one starting
//!   with `broken-` fails every run;
//! - a message containing `#fail` produces a failed job;
//! - the timings, retention windows, rate limits, credit cap and seed sizes are in
//!   [`SandboxConfig`], and so are your own records ([`HyperRepSeed`], [`HockeyStackSeed`]);
//! - [`Sandbox::advance`] moves its clock forward, so waits finish without waiting;
//! - [`Sandbox::inject`] scripts faults (429, 5xx, the credit cap, a stall, a body cut off, a
//!   failed provisioning run, any canned answer) for the next N requests or for a route, and
//!   [`Sandbox::requests`] reads back what was received and how it was answered;
//! - [`Sandbox::snapshot`], [`Sandbox::restore`] and [`Sandbox::reset`] save and put back the
//!   state, and [`SandboxConfig::state_file`] keeps it across restarts.
//!
//! The binary offers the same under `/__sandbox/`, which answers requests from loopback only.
//!
//! Inside, each API is a folder (its contract, state, seeding, handlers and rendering); its
//! routes are its operation model's path templates, and the layers in front of its handlers
//! (request log, faults, credential, rate limits) are shared and speak through its contract.

// Handlers return `Result<_, Response>` so that `?` turns a refusal into its answer; a
// response is built once per request, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod auth;
pub mod binary;
mod clock;
mod config;
mod contract;
mod control;
mod faults;
mod hockeystack;
mod http;
mod hyperrep;
mod log;
mod persist;
mod rate;
mod routes;
mod serve;
mod shared;

pub use config::{HockeyStackSeed, HyperRepSeed, SandboxConfig, SeedSizes};
pub use faults::{Fault, FaultRule};
pub use log::ReceivedRequest;
pub use persist::Snapshot;
pub use rate::RateCounts;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, http::StatusCode, middleware};
use tokio::{sync::watch, task::JoinHandle};

use crate::config::Api as _;

/// A running sandbox. Dropping it stops the server too; [`shutdown`](Self::shutdown) waits
/// for it (and, with a state file, for the last save).
pub struct Sandbox {
    addr: SocketAddr,
    config: SandboxConfig,
    script: Arc<faults::Script>,
    log: Arc<log::Log>,
    clock: Arc<clock::Clock>,
    rates: Arc<rate::RateLimits>,
    store: Arc<persist::Store>,
    /// Stops the server, then the saver: a change made while connections drain is saved too.
    stops: [watch::Sender<bool>; 2],
    tasks: Vec<JoinHandle<()>>,
}

fn unusable(what: &str) -> impl FnOnce(String) -> std::io::Error + '_ {
    move |problem| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("unusable {what}: {problem}"),
        )
    }
}

impl Sandbox {
    /// Starts the sandbox. A seed that contradicts itself, or a negative or non-finite credit
    /// amount, is refused with an `InvalidInput` error naming it; a state file that cannot be
    /// read or used, with an `InvalidData` error naming the file (which is left as it is).
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        config
            .check_amounts()
            .map_err(|problem| std::io::Error::new(std::io::ErrorKind::InvalidInput, problem))?;
        let clock = Arc::new(clock::Clock::default());
        let changes = persist::Changes::default();
        let (hockeystack, rates) = hockeystack::start(&config, clock.clone(), changes.clone())
            .map_err(unusable("HockeyStack seed"))?;
        let hyperrep = hyperrep::start(&config, clock.clone(), changes.clone())
            .map_err(unusable("HyperRep seed"))?;
        let mut apis = contract::Apis::default();
        apis.add(hockeystack.contract.clone());
        apis.add(hyperrep.contract.clone());
        let mut store = persist::Store::new(clock.clone(), config.state_file.clone(), changes);
        store.add(hockeystack.part.clone());
        store.add(hyperrep.part.clone());
        store.load_file()?;
        // Written once now, so that a file that cannot be written (a missing folder, no
        // permission) stops the start instead of losing every change later.
        store.save_file()?;
        let store = Arc::new(store);

        let listener = tokio::net::TcpListener::bind((config.host, config.port))
            .await
            .map_err(|e| {
                let at = SocketAddr::new(config.host, config.port);
                std::io::Error::new(e.kind(), format!("cannot listen on {at}: {e}"))
            })?;
        let addr = listener.local_addr()?;
        let script = Arc::new(faults::Script::new(apis.clone()));
        let log = Arc::new(log::Log::new(config.log_requests));
        let app = Router::new()
            .merge(hockeystack.router)
            .merge(hyperrep.router)
            .fallback(|| async {
                http::detail(
                    StatusCode::NOT_FOUND,
                    "Not Found: no API of the sandbox has this path",
                )
            })
            .layer(middleware::from_fn_with_state(
                script.clone(),
                faults::layer,
            ))
            .layer(middleware::from_fn_with_state(
                Arc::new(log::LogGate {
                    log: log.clone(),
                    clock: clock.clone(),
                    apis,
                }),
                log::layer,
            ))
            .merge(control::router(control::Controls {
                script: script.clone(),
                log: log.clone(),
                clock: clock.clone(),
                store: store.clone(),
            }));
        let (stop_serving, serving) = watch::channel(false);
        let (stop_saving, saving) = watch::channel(false);
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let tasks = vec![
            tokio::spawn(serve::serve(listener, app, until(serving))),
            tokio::spawn(store.clone().save_on_change(until(saving))),
        ];
        Ok(Sandbox {
            addr,
            config,
            script,
            log,
            clock,
            rates,
            store,
            stops: [stop_serving, stop_saving],
            tasks,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address this machine reaches the sandbox at (loopback when it listens on all
    /// addresses).
    fn local_addr(&self) -> SocketAddr {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        addr
    }

    /// The base URL for HockeyStack clients: the sandbox's address with the API's path.
    pub fn hockeystack_url(&self) -> String {
        base_url(
            self.local_addr(),
            crate::hockeystack::HockeyStack::DEFAULT_BASE_URL,
        )
    }

    /// The base URL for HyperRep clients.
    pub fn hyperrep_url(&self) -> String {
        base_url(
            self.local_addr(),
            crate::hyperrep::HyperRep::DEFAULT_BASE_URL,
        )
    }

    /// The HockeyStack token it accepts.
    pub fn hockeystack_token(&self) -> &str {
        &self.config.hockeystack_token
    }

    /// How many requests of a HockeyStack token its rate-limit pools let through and refused,
    /// since the start (the request log keeps only the latest requests; these count all).
    pub fn rate_counts(&self, token: &str) -> RateCounts {
        self.rates.counts(token)
    }

    /// The HyperRep key it accepts.
    pub fn hyperrep_key(&self) -> &str {
        &self.config.hyperrep_key
    }

    /// A HockeyStack client pointed at the sandbox.
    ///
    /// Fails when the sandbox listens on an address other than loopback (or all addresses):
    /// the crate sends a credential over plain http to loopback only. Also fails when the
    /// configured token cannot be sent in a header.
    pub fn hockeystack_client(&self) -> Result<crate::hockeystack::Client, crate::error::Error> {
        crate::hockeystack::Client::builder()
            .credential(self.hockeystack_token())
            .base_url(self.hockeystack_url())
            .build()
    }

    /// A HyperRep client pointed at the sandbox; fails as
    /// [`hockeystack_client`](Self::hockeystack_client) does.
    pub fn hyperrep_client(&self) -> Result<crate::hyperrep::Client, crate::error::Error> {
        crate::hyperrep::Client::builder()
            .credential(self.hyperrep_key())
            .base_url(self.hyperrep_url())
            .build()
    }

    /// Scripts a fault: the matching requests get it instead of the API's answer.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use revenue_agents::sandbox::{Fault, FaultRule, Sandbox, SandboxConfig};
    ///
    /// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    /// // The next request is rate limited for 2 seconds.
    /// sandbox.inject(FaultRule::new(Fault::RateLimited { retry_after_secs: 2 }).times(1));
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, rule: FaultRule) {
        self.script.inject(rule);
    }

    /// Moves the sandbox's clock forward, as if `by` had passed: HockeyStack provisioning runs
    /// and message jobs finish, finished jobs expire and rate-limit windows refill accordingly,
    /// and what either API creates is stamped with the moved clock.
    /// The clock never goes back, and goes no further than a century ahead of real time (a
    /// larger move stops there).
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use revenue_agents::sandbox::{Sandbox, SandboxConfig};
    ///
    /// // Provisioning as slow as the real service's, skipped in the test.
    /// let config = SandboxConfig { provisioning_time: Duration::from_secs(300), ..Default::default() };
    /// let sandbox = Sandbox::start(config).await?;
    /// // … the code under test starts provisioning …
    /// sandbox.advance(Duration::from_secs(300));
    /// # Ok(()) }
    /// ```
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Removes every scripted fault.
    pub fn clear_faults(&self) {
        self.script.clear();
    }

    /// Every request received so far (the latest 10 000), oldest first, each with its
    /// answer's status; credentials are never recorded. A request is in the log once its
    /// answer has started.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.log.requests()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.log.clear();
    }

    /// A copy of the whole state: both APIs' records, the ids given out, and the clock.
    pub fn snapshot(&self) -> std::io::Result<Snapshot> {
        self.store.snapshot()
    }

    /// Puts back a state taken by [`snapshot`](Self::snapshot) (or read from a state file):
    /// all of it, or, when any part cannot be used, none of it. Ids given out since are not
    /// given out again, and the clock does not go back.
    pub fn restore(&self, snapshot: &Snapshot) -> std::io::Result<()> {
        self.store.restore(snapshot)
    }

    /// Both APIs back to the state they started with (their seeds); ids given out since are
    /// not given out again. Faults, the request log and the clock are left as they are.
    pub fn reset(&self) {
        self.store.reset();
    }

    /// Stops the server, waits until it has stopped, and with a state file, until the state
    /// is saved; see [`stop`](Self::stop) to hear whether that save worked.
    pub async fn shutdown(self) {
        let _ = self.stop().await;
    }

    /// As [`shutdown`](Self::shutdown), and says whether the last save of the state file (if
    /// there is one) worked: an error naming the file when it did not.
    pub async fn stop(mut self) -> std::io::Result<()> {
        for (stop, task) in self.stops.iter().zip(std::mem::take(&mut self.tasks)) {
            let _ = stop.send(true);
            let _ = task.await;
        }
        match self.store.failure() {
            None => Ok(()),
            Some(problem) => Err(std::io::Error::other(problem)),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for stop in &self.stops {
            let _ = stop.send(true);
        }
    }
}

/// `http://ADDR` and the path of an API's default base URL.
fn base_url(addr: SocketAddr, default: &str) -> String {
    format!("http://{addr}{}", contract::base_path(default))
}
