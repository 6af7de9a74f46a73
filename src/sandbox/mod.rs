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
//! # #[cfg(feature = "hockeystack")]
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
//!   [`Sandbox::requests`] reads back what was received. The binary offers the same under
//!   `/__sandbox/`, which answers requests from loopback only.

// Handlers return `Result<_, Response>` so that `?` turns a refusal into its answer; a
// response is built once per request, so its size does not matter here.
#![allow(clippy::result_large_err)]

pub mod binary;
mod clock;
mod faults;
mod hockeystack;
mod hyperrep;
mod rate;
mod serve;

pub use faults::{Fault, FaultRule, ReceivedRequest};
pub use rate::RateCounts;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use tokio::{sync::oneshot, task::JoinHandle};

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The address to listen on: loopback (127.0.0.1) unless you need the APIs reachable from
    /// elsewhere, a container's host for example. Whatever it is, the sandbox's controls
    /// (`/__sandbox/…`: faults, the request log, the clock) answer requests from loopback only.
    pub host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// The HockeyStack token the sandbox accepts.
    pub hockeystack_token: String,
    /// More HockeyStack tokens it accepts, each with rate-limit pools of its own (one
    /// workspace's several tokens, say).
    pub extra_hockeystack_tokens: Vec<String>,
    /// The HyperRep key the sandbox accepts.
    pub hyperrep_key: String,
    /// How long agent provisioning takes (HockeyStack: 3 to 8 minutes).
    pub provisioning_time: Duration,
    /// How long a message job stays `pending`.
    pub job_time: Duration,
    /// How long a pending job is kept (HockeyStack: 60 minutes).
    pub pending_retention: Duration,
    /// How long a finished job is kept (HockeyStack: 15 minutes).
    pub finished_retention: Duration,
    /// The pause between the chunks of a streamed reply.
    pub stream_chunk_delay: Duration,
    /// Requests per minute of the read pool (GET, HEAD), per token.
    pub read_limit: u32,
    /// Requests per minute of the write pool, per token.
    pub write_limit: u32,
    /// The rolling window the pools count over: a minute, as the service counts; shorter to
    /// run several windows in a test.
    pub rate_window: Duration,
    /// The monthly included credits.
    pub included_credits: f64,
    /// The on-demand ceiling beyond the included credits; `None` for no ceiling.
    pub on_demand_credit_limit: Option<f64>,
    /// Sizes of the seeded HyperRep organization.
    pub seed: SeedSizes,
    /// Your own HyperRep organization instead of the generated one; `seed` is then unused.
    pub hyperrep_seed: Option<HyperRepSeed>,
    /// Your own HockeyStack workspace (agents, conversations, tasks) instead of the built-in
    /// demo tasks.
    pub hockeystack_seed: Option<HockeyStackSeed>,
}

/// A HockeyStack workspace of your own. Agents are active from the start; conversations and
/// tasks are JSON objects as the API returns them. [`Sandbox::start`] refuses a seed that
/// contradicts itself (a duplicate id, a conversation of an agent that is not seeded, a task
/// without its required fields) with an error naming the record.
///
/// ```
/// use revenue_agents::sandbox::HockeyStackSeed;
/// use serde_json::json;
///
/// let seed = HockeyStackSeed {
///     deal_agents: vec!["9001234567".into()],
///     conversations: vec![json!({
///         "conversation_id": "conv_1", "deal_id": "9001234567",
///         "messages": [
///             {"role": "user", "content": "What is the biggest risk?"},
///             {"role": "assistant", "content": "The champion has gone quiet."}
///         ]
///     })],
///     tasks: vec![json!({
///         "task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", "status": "pending",
///         "task_type": "call", "task_title": "Call the champion",
///         "created_at": "2026-05-22T10:00:00Z", "targets": {"deal_id": "9001234567"}
///     })],
///     ..HockeyStackSeed::default()
/// };
/// # let _ = seed;
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HockeyStackSeed {
    /// CRM deal ids whose agent is provisioned and active.
    pub deal_agents: Vec<String>,
    /// CRM company ids whose agent is provisioned and active.
    pub company_agents: Vec<String>,
    /// Conversations: `conversation_id`, exactly one of `deal_id` and `company_id` (an agent
    /// seeded above), optionally `created_at`, and `messages`, each with `role` (`user` or
    /// `assistant`), `content` and optionally `created_at`.
    pub conversations: Vec<serde_json::Value>,
    /// Tasks as the API returns them: at least `task_id` (unique) and `status`; `created_at`,
    /// when given, a date-time or null.
    pub tasks: Vec<serde_json::Value>,
}

/// A HyperRep organization of your own, each record as the API returns it (JSON objects with
/// at least the fields named below). [`Sandbox::start`] refuses a seed that contradicts itself
/// (a duplicate id, a reference to a record that is not there, a missing id or timestamp)
/// with an error naming the record.
///
/// ```
/// use revenue_agents::sandbox::HyperRepSeed;
/// use serde_json::json;
///
/// let seed = HyperRepSeed {
///     agents: vec![json!({"agent_id": "a-1", "name": "Dana"})],
///     contacts: vec![json!({"contact_id": "c-1", "name": "Lee", "created_at": "2026-05-01T09:00:00Z"})],
///     conversations: vec![json!({
///         "conversation_id": "v-1", "agent_id": "a-1", "contact_id": "c-1",
///         "start_at": "2026-05-02T09:00:00Z", "last_activity_at": "2026-05-02T09:30:00Z",
///         "folder": "Inbox", "is_read": false,
///         "messages": [{"message_id": "m-1", "sent_at": "2026-05-02T09:00:00Z", "content": "Hello"}]
///     })],
///     sales: vec![json!({"sale_id": "s-1", "owner_id": "a-1", "created_at": "2026-05-03T10:00:00Z"})],
///     ..HyperRepSeed::default()
/// };
/// # let _ = seed;
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HyperRepSeed {
    /// Agents: `agent_id`.
    pub agents: Vec<serde_json::Value>,
    /// Contacts: `contact_id`; `company_id`, when present, must name a seeded company.
    pub contacts: Vec<serde_json::Value>,
    /// Companies: `company_id`.
    pub companies: Vec<serde_json::Value>,
    /// Conversations: `conversation_id`, `agent_id`, `contact_id`, `start_at`, and their
    /// `messages` (each with `message_id` and `sent_at`; `agent_id`, when present, must name a
    /// seeded agent).
    pub conversations: Vec<serde_json::Value>,
    /// Sales: `sale_id`, `owner_id` (a seeded agent), `created_at`; `company_id`, when
    /// present, must name a seeded company.
    pub sales: Vec<serde_json::Value>,
}

/// Sizes of the seeded HyperRep organization. The data is deterministic for given sizes; its
/// timestamps are relative to the sandbox's start (the last 90 days).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSizes {
    /// Agents (sales representatives).
    pub agents: usize,
    /// Companies.
    pub companies: usize,
    /// Contacts.
    pub contacts: usize,
    /// Conversations.
    pub conversations: usize,
    /// Messages in each conversation.
    pub messages_per_conversation: usize,
    /// Sales, each with a status history.
    pub sales: usize,
}

impl Default for SeedSizes {
    fn default() -> Self {
        Self {
            agents: 5,
            companies: 40,
            contacts: 200,
            conversations: 300,
            messages_per_conversation: 4,
            sales: 500,
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            hockeystack_token: "hsr_live_sandbox".to_owned(),
            extra_hockeystack_tokens: Vec::new(),
            hyperrep_key: "hr_sandbox_key".to_owned(),
            provisioning_time: Duration::from_secs(3),
            job_time: Duration::from_secs(1),
            pending_retention: Duration::from_secs(60 * 60),
            finished_retention: Duration::from_secs(15 * 60),
            stream_chunk_delay: Duration::from_millis(40),
            read_limit: 600,
            write_limit: 60,
            rate_window: Duration::from_secs(60),
            included_credits: 10_000.0,
            on_demand_credit_limit: Some(2_500.0),
            seed: SeedSizes::default(),
            hyperrep_seed: None,
            hockeystack_seed: None,
        }
    }
}

/// A running sandbox. Dropping it stops the server too; [`shutdown`](Self::shutdown) waits
/// for it.
pub struct Sandbox {
    addr: SocketAddr,
    config: SandboxConfig,
    script: Arc<faults::Script>,
    clock: Arc<clock::Clock>,
    rates: Arc<rate::RateLimits>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxConfig {
    /// Credit amounts are counts of credits: a negative one, NaN or infinity would make every
    /// balance and every spending check meaningless, so the sandbox refuses to start on one.
    fn check_amounts(&self) -> Result<(), String> {
        let amounts = [
            ("included_credits", Some(self.included_credits)),
            ("on_demand_credit_limit", self.on_demand_credit_limit),
        ];
        for (name, amount) in amounts {
            if let Some(amount) = amount
                && !(amount.is_finite() && amount >= 0.0)
            {
                return Err(format!(
                    "{name} must be a finite number of credits, 0 or more, not {amount}"
                ));
            }
        }
        Ok(())
    }
}

impl Sandbox {
    /// Starts the sandbox on loopback. A seed that contradicts itself, or a negative or
    /// non-finite credit amount, is refused with an `InvalidInput` error naming it.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        config
            .check_amounts()
            .map_err(|problem| std::io::Error::new(std::io::ErrorKind::InvalidInput, problem))?;
        let clock = Arc::new(clock::Clock::default());
        let hyperrep = hyperrep::router(config.clone(), clock.clone()).map_err(|problem| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unusable HyperRep seed: {problem}"),
            )
        })?;
        let rates = Arc::new(rate::RateLimits::new(
            config.read_limit,
            config.write_limit,
            config.rate_window,
        ));
        let hockeystack = hockeystack::router(config.clone(), clock.clone(), rates.clone())
            .map_err(|problem| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("unusable HockeyStack seed: {problem}"),
                )
            })?;
        let listener = tokio::net::TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let script = Arc::new(faults::Script::default());
        let app = Router::new()
            .merge(hockeystack)
            .merge(hyperrep)
            .merge(faults::admin(script.clone()))
            .merge(clock::admin(clock.clone()))
            .layer(axum::middleware::from_fn_with_state(
                script.clone(),
                faults::layer,
            ));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve::serve(listener, app, async {
            let _ = stopped.await;
        }));
        Ok(Sandbox {
            addr,
            config,
            script,
            clock,
            rates,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for HockeyStack clients.
    pub fn hockeystack_url(&self) -> String {
        format!("http://{}/api/revenue-agents/v1", self.local_addr())
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

    /// The base URL for HyperRep clients.
    pub fn hyperrep_url(&self) -> String {
        format!("http://{}", self.local_addr())
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
    #[cfg(feature = "hockeystack")]
    pub fn hockeystack_client(&self) -> Result<crate::hockeystack::Client, crate::error::Error> {
        crate::hockeystack::Client::builder()
            .credential(self.hockeystack_token())
            .base_url(self.hockeystack_url())
            .build()
    }

    /// A HyperRep client pointed at the sandbox; fails as
    /// [`hockeystack_client`](Self::hockeystack_client) does.
    #[cfg(feature = "hyperrep")]
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
    /// and what HyperRep creates is stamped with the moved clock.
    /// The clock never goes back.
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
        self.script.clear_faults();
    }

    /// Every request received so far (the latest 10 000), oldest first; credentials are
    /// never recorded.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.script.requests()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.script.clear_requests();
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A JSON answer.
pub(crate) fn json<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let mut response = Response::new(Body::from(
        serde_json::to_vec(body).expect("JSON values serialise"),
    ));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An empty answer.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// The query string as (name, value) pairs.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The decoded segments of a path below an API's prefix. Empty segments are kept (an empty
/// id is an id that names nothing), and an empty rest gives no segment at all.
pub(crate) fn path_segments(rest: &str) -> Vec<String> {
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// A timestamp in the forms the services' frameworks accept, since clients in other languages
/// write date-times in all of them:
/// - RFC 3339 (`2026-04-01T00:00:00Z`, `…+02:00`), with `t`/`z` in lower case, a space instead
///   of `T`, fractions of a second, no seconds, and offsets as `+0200` or `+02`;
/// - no offset at all (`2026-04-01T00:00:00`), read as UTC;
/// - a date alone (`2026-04-01`), read as midnight UTC;
/// - Unix time in seconds or milliseconds (`1775001600`, `1775001600000`).
pub(crate) fn timestamp(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if !text.is_empty() && text.len() <= 13 && text.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = text.parse().ok()?;
        // Ten digits or fewer are seconds (until 2286); more are milliseconds.
        return if text.len() <= 10 {
            Utc.timestamp_opt(n, 0).single()
        } else {
            Utc.timestamp_millis_opt(n).single()
        };
    }
    if text.len() == 10 {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc());
    }
    // One spelling for the rest: `T` between date and time, `Z` for UTC.
    let mut normal = text.to_owned();
    if normal.len() > 10 && matches!(normal.as_bytes()[10], b' ' | b't') {
        normal.replace_range(10..11, "T");
    }
    if normal.ends_with('z') {
        normal.replace_range(normal.len() - 1.., "Z");
    }
    if let Some(naive) = normal.strip_suffix('Z') {
        normal = format!("{naive}+00:00");
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(&normal, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&normal, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Opaque-looking cursors that name their collection, so that a cursor from another list is
/// refused as the real services do.
pub(crate) fn cursor_for(collection: &str, offset: usize) -> String {
    let tag: u32 = collection
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    format!("{tag:08x}-{offset:x}")
}

/// The offset a cursor stands for, if it belongs to `collection`.
pub(crate) fn offset_from(collection: &str, cursor: &str) -> Option<usize> {
    let (tag, offset) = cursor.split_once('-')?;
    // Far past any collection, and far from overflowing when a page size is added.
    const LARGEST_OFFSET: usize = u32::MAX as usize;
    let offset = usize::from_str_radix(offset, 16)
        .ok()
        .filter(|offset| *offset <= LARGEST_OFFSET)?;
    (cursor_for(collection, offset).split_once('-')?.0 == tag).then_some(offset)
}

/// The headers of a request, lower-cased names.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_decoded_and_keep_empty_ids() {
        assert_eq!(
            path_segments("/deals/a%2Fb/agent"),
            ["deals", "a/b", "agent"]
        );
        assert_eq!(path_segments("/deals//agent"), ["deals", "", "agent"]);
        assert!(path_segments("").is_empty() && path_segments("/").is_empty());
    }

    #[test]
    fn timestamps_take_the_forms_real_servers_accept() {
        let utc = timestamp("2026-04-01T00:00:00Z").unwrap();
        assert_eq!(timestamp("2026-04-01T02:00:00+02:00"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00+0000"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00.000+0000"), Some(utc));
        assert_eq!(timestamp("2026-04-01T02:00:00+02"), Some(utc));
        assert_eq!(timestamp("2026-04-01t00:00:00z"), Some(utc));
        assert_eq!(timestamp("2026-04-01 00:00:00Z"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00Z"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00"), Some(utc));
        assert_eq!(
            timestamp("2026-04-01T00:00:00.250"),
            Some(utc + chrono::Duration::milliseconds(250))
        );
        assert_eq!(timestamp("2026-04-01"), Some(utc));
        assert_eq!(timestamp("1775001600"), Some(utc));
        assert_eq!(timestamp("1775001600000"), Some(utc));
        for wrong in [
            "yesterday",
            "",
            "2026-13-01",
            "2026-04-01T25:00:00Z",
            "2026-04-01T00:00:00+2500",
            "12345678901234",
        ] {
            assert_eq!(timestamp(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn cursors_belong_to_their_collection() {
        let c = cursor_for("sales", 50);
        assert_eq!(offset_from("sales", &c), Some(50));
        assert_eq!(offset_from("contacts", &c), None);
        assert_eq!(offset_from("sales", "garbage"), None);
    }
}
