//! Client configuration shared by both APIs: base URL, credential, timeouts, user agent, and
//! reading them from the environment.

use std::{fmt, marker::PhantomData, net::IpAddr, time::Duration};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::{
    budget::RateBudget,
    error::{Error, ErrorKind},
    limits::{Limits, saturated},
    retry::RetryPolicy,
    transport::{ApiInfo, Inner, Secret},
};

pub use crate::limits::{
    DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, LONGEST_DURATION, MAX_URL_BYTES,
};

/// The user agent every request carries.
pub const USER_AGENT: &str = concat!("revenue-agents/", env!("CARGO_PKG_VERSION"));

/// How long to wait for a TCP and TLS connection before giving up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may stay silent (no byte received) before the request fails.
///
/// This is a read timeout, not a total one: a streamed reply may last minutes as long as it
/// keeps sending.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What distinguishes one API's client from the other's. Implemented by the two API marker
/// types only.
pub trait Api: sealed::Sealed {
    /// The API's name in messages.
    const NAME: &'static str;
    /// Where requests go unless told otherwise.
    const DEFAULT_BASE_URL: &'static str;
    /// The environment variable holding the credential.
    const CREDENTIAL_VARIABLE: &'static str;
    /// The environment variable that may override the base URL.
    const BASE_URL_VARIABLE: &'static str;
    /// The header that carries the credential.
    #[doc(hidden)]
    const AUTH_HEADER: HeaderName;
    /// The credential header's value for a credential (e.g. `Bearer <token>`).
    #[doc(hidden)]
    fn auth_value(credential: &str) -> String;
    /// The API's operation model.
    #[doc(hidden)]
    const OPERATIONS: &'static [crate::model::Operation];
    /// Whether a 503 means the credit cap (never retried) rather than an outage.
    #[doc(hidden)]
    const CREDITS_ON_503: bool;
    /// The rate budget a client has unless told otherwise.
    #[doc(hidden)]
    fn default_budget() -> Option<RateBudget>;
    /// The generated client this configuration builds.
    #[doc(hidden)]
    type Client;
    /// Assembles the generated client.
    #[doc(hidden)]
    fn assemble(base_url: &str, http: reqwest::Client, inner: Inner) -> Self::Client;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// Variables both clients read, after their own credential and base URL variables.
pub mod env {
    /// Seconds (decimals allowed) to wait for a connection.
    pub const CONNECT_TIMEOUT: &str = "REVENUE_AGENTS_CONNECT_TIMEOUT";
    /// Seconds (decimals allowed) a response may stay silent.
    pub const READ_TIMEOUT: &str = "REVENUE_AGENTS_READ_TIMEOUT";
    /// How many times one request may be repeated (0 turns retries off).
    pub const MAX_RETRIES: &str = "REVENUE_AGENTS_MAX_RETRIES";
    /// The longest `Retry-After`, in seconds, that the transport waits for by itself.
    pub const RETRY_MAX_WAIT: &str = "REVENUE_AGENTS_RETRY_MAX_WAIT";
    /// Seconds (decimals allowed) one whole call may take, retries included.
    pub const CALL_TIMEOUT: &str = "REVENUE_AGENTS_CALL_TIMEOUT";
    /// The largest successful answer, in bytes, that a client reads.
    pub const MAX_RESPONSE_BYTES: &str = "REVENUE_AGENTS_MAX_RESPONSE_BYTES";
    /// The rate budget: `off`, or `read=N,write=M` requests a minute, with `,window=S` for
    /// another window in seconds.
    pub const RATE_BUDGET: &str = "REVENUE_AGENTS_RATE_BUDGET";
    /// A Redis URL (`redis://host:6379/0`) through which every process using one credential
    /// shares its rate budget (feature `redis`).
    pub const REDIS_URL: &str = "REVENUE_AGENTS_REDIS_URL";
    /// Text appended to the user agent, for example your application's name and version.
    pub const USER_AGENT_SUFFIX: &str = "REVENUE_AGENTS_USER_AGENT_SUFFIX";
    /// A file of PEM certificates whose authorities are trusted beside the system's (a
    /// TLS-inspecting corporate proxy's, a private service's).
    pub const CA_FILE: &str = "REVENUE_AGENTS_CA_FILE";
    /// An HTTP proxy every request to a non-loopback host goes through
    /// (`http://proxy.internal:3128`, with `user:password@` when it asks for credentials).
    pub const PROXY: &str = "REVENUE_AGENTS_PROXY";
}

/// Builds a client for one of the APIs. Get one from `hockeystack::Client::builder()` or
/// `hyperrep::Client::builder()`.
///
/// Every setting comes from, in this order: the value given in code, then the environment
/// (only when [`from_env`](Self::from_env) was called, whenever in the chain), then the
/// default. The variables are the API's credential and base URL variables and those in
/// [`env`](mod@crate::config::env); an unusable value is an error naming its variable.
///
/// ```
/// # #[cfg(feature = "hockeystack")] {
/// use std::time::Duration;
/// use revenue_agents::hockeystack;
///
/// let client = hockeystack::Client::builder()
///     .credential("hsr_live_0123abcd")
///     .read_timeout(Duration::from_secs(120))
///     .build()?;
/// # }
/// # Ok::<(), revenue_agents::Error>(())
/// ```
pub struct ClientBuilder<A: Api> {
    credential: Option<Secret>,
    base_url: Option<String>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    max_response_bytes: Option<u64>,
    retry: Option<RetryPolicy>,
    /// `Some(None)`: no budget.
    budget: Option<Option<RateBudget>>,
    user_agent_suffix: Option<String>,
    /// PEM bundles given in code.
    root_certificates: Vec<Vec<u8>>,
    /// The proxy's URL, which may hold a password.
    proxy: Option<Secret>,
    read_environment: bool,
    api: PhantomData<fn() -> A>,
}

impl<A: Api> fmt::Debug for ClientBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api", &A::NAME)
            .field("credential", &self.credential)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("budget", &self.budget)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("root_certificates", &self.root_certificates.len())
            .field("proxy", &self.proxy.as_ref().map(|p| redacted_url(&p.0)))
            .field("read_environment", &self.read_environment)
            .finish()
    }
}

impl<A: Api> Default for ClientBuilder<A> {
    fn default() -> Self {
        Self {
            credential: None,
            base_url: None,
            connect_timeout: None,
            read_timeout: None,
            call_timeout: None,
            max_response_bytes: None,
            retry: None,
            budget: None,
            user_agent_suffix: None,
            root_certificates: Vec::new(),
            proxy: None,
            read_environment: false,
            api: PhantomData,
        }
    }
}

/// The settings once code, environment and defaults are combined.
struct Settings {
    credential: Option<String>,
    base_url: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    limits: Limits,
    retry: RetryPolicy,
    budget: Option<RateBudget>,
    user_agent: String,
    transport: Transport,
}

/// How requests reach the API: extra trusted authorities and a proxy.
struct Transport {
    roots: Vec<reqwest::Certificate>,
    /// Where the roots came from, to name it when one cannot be used.
    roots_from: &'static str,
    proxy: Option<reqwest::Proxy>,
    /// The proxy's password (as written and decoded), blanked out of every error.
    proxy_secrets: Vec<String>,
}

impl<A: Api> ClientBuilder<A> {
    /// The API token (HockeyStack) or API key (HyperRep). Surrounding white space is removed.
    pub fn credential(mut self, credential: impl Into<String>) -> Self {
        self.credential = Some(Secret(credential.into().trim().to_owned()));
        self
    }

    /// Sends requests somewhere other than the production service, for example a sandbox.
    /// Plain `http` is accepted for loopback addresses only.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Lets the environment fill in what the code did not set: the API's credential and base
    /// URL variables and the shared ones in [`env`](mod@crate::config::env). Where it is called in the chain does not
    /// matter: a value given in code always wins.
    pub fn from_env(mut self) -> Self {
        self.read_environment = true;
        self
    }

    /// How long to wait for a connection. Default [`DEFAULT_CONNECT_TIMEOUT`]. Zero is refused
    /// by [`build`](Self::build); anything past [`LONGEST_DURATION`] is shortened to it.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long a response may stay silent before the request fails. Default
    /// [`DEFAULT_READ_TIMEOUT`]. It is also the silence after which a streamed reply counts as
    /// cut. Zero is refused by [`build`](Self::build).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// How long one call may take as a whole: connecting, sending, every retry and
    /// `Retry-After` wait, and reading the answer. Default [`DEFAULT_CALL_TIMEOUT`]; past it
    /// the call fails with [`ErrorKind::DeadlineExceeded`]. A retry whose wait would end past
    /// the deadline is not made: the caller gets the answer that asked for it. Zero is refused
    /// by [`build`](Self::build); `Duration::MAX` means [`LONGEST_DURATION`]. For one call,
    /// use the client's `with_call_timeout`.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// The largest successful answer (and single streamed event) the client reads, in bytes.
    /// Default [`DEFAULT_MAX_RESPONSE_BYTES`]; a larger one fails with
    /// [`ErrorKind::ResponseTooLarge`] and its connection is closed. Zero is refused by
    /// [`build`](Self::build).
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// The rate budget every request takes a slot from before it is sent, retries included.
    /// Default: HockeyStack's documented rates ([`RateBudget::hockeystack`]) for a HockeyStack
    /// client, none for HyperRep (which publishes no limit). Give the same budget to several
    /// clients of one credential to share it; see [`RateBudget`].
    pub fn rate_budget(mut self, budget: RateBudget) -> Self {
        self.budget = Some(Some(budget));
        self
    }

    /// No rate budget: requests go as fast as they are made, and a 429 is met by retries
    /// alone.
    pub fn no_rate_budget(mut self) -> Self {
        self.budget = Some(None);
        self
    }

    /// How requests are repeated after a 429, a transient server failure or a failed
    /// connection. Default [`RetryPolicy::default`]; [`RetryPolicy::none`] turns retries off.
    /// A policy given here replaces the environment's retry settings as a whole.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Text appended to the user agent (`revenue-agents/<version> <suffix>`), so the API's
    /// operators can tell your application's traffic apart.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Trusts the certificate authorities of this PEM bundle beside the system's: a
    /// TLS-inspecting corporate proxy's, or a private deployment's. May be called more than
    /// once; bundles given in code replace [`env::CA_FILE`]. A bundle without a certificate is
    /// refused by [`build`](Self::build).
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Sends every request through this HTTP proxy (`http://proxy.internal:3128`;
    /// `http://user:password@…` when the proxy asks for credentials, which are sent as
    /// `Proxy-Authorization` and kept out of `Debug` and every error). HTTPS requests are
    /// tunnelled with `CONNECT`, so the proxy never sees the API's credential unless it
    /// inspects TLS (then trust its authority with
    /// [`root_certificates_pem`](Self::root_certificates_pem)). Loopback hosts are reached
    /// directly. Redirects are not followed through a proxy either.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(Secret(url.into()));
        self
    }

    /// Builds the client. Fails before any request if no credential was given (naming the
    /// environment variable that would provide it), or if a setting cannot be used.
    pub fn build(self) -> Result<A::Client, Error> {
        let settings = self.settings()?;
        let credential = match &settings.credential {
            Some(c) if !c.is_empty() => c.clone(),
            _ => {
                return Err(Error::new(ErrorKind::MissingCredentials {
                    api: A::NAME,
                    variable: A::CREDENTIAL_VARIABLE,
                }));
            }
        };
        let mut value = HeaderValue::from_str(&A::auth_value(&credential))
            .map_err(|_| Error::new(ErrorKind::InvalidCredentials { api: A::NAME }))?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(A::AUTH_HEADER, value);
        assemble::<A>(settings, headers, Some(credential))
    }

    /// Builds a client without a credential, for the operations that need none (HockeyStack's
    /// `health`). Any other operation fails with an error naming the credential variable,
    /// before a request is sent.
    pub fn build_without_credentials(self) -> Result<A::Client, Error> {
        let settings = self.settings()?;
        assemble::<A>(settings, HeaderMap::new(), None)
    }

    /// Combines code, environment and defaults, in that order of precedence.
    fn settings(self) -> Result<Settings, Error> {
        // A variable that is set but cannot be read is an error naming it, never "unset".
        let env = |name: &'static str| -> Result<Option<String>, Error> {
            if self.read_environment {
                crate::setting::var(name)
            } else {
                Ok(None)
            }
        };
        let seconds = |name: &'static str| -> Result<Option<Duration>, Error> {
            env(name)?
                .map(|raw| {
                    raw.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        // As in code: past ten years is ten years.
                        .map(|s| saturated(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)))
                        .ok_or_else(|| {
                            invalid_variable(
                                name,
                                format!("{raw:?} is not a positive number of seconds"),
                            )
                        })
                })
                .transpose()
        };
        let credential = match self.credential {
            Some(Secret(c)) => Some(c),
            None => env(A::CREDENTIAL_VARIABLE)?.map(|c| c.trim().to_owned()),
        };
        let base_url = match self.base_url {
            Some(url) => checked_base_url(&url)?,
            None => match env(A::BASE_URL_VARIABLE)? {
                Some(url) => checked_base_url(&url).map_err(|e| match e.kind() {
                    ErrorKind::InvalidBaseUrl { reason } => {
                        invalid_variable(A::BASE_URL_VARIABLE, reason.clone())
                    }
                    _ => e,
                })?,
                None => checked_base_url(A::DEFAULT_BASE_URL)?,
            },
        };
        let connect_timeout = match self.connect_timeout {
            Some(t) => positive("connect_timeout", t)?,
            None => seconds(env::CONNECT_TIMEOUT)?.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        };
        let read_timeout = match self.read_timeout {
            Some(t) => positive("read_timeout", t)?,
            None => seconds(env::READ_TIMEOUT)?.unwrap_or(DEFAULT_READ_TIMEOUT),
        };
        let call_timeout = match self.call_timeout {
            Some(t) => positive("call_timeout", t)?,
            None => seconds(env::CALL_TIMEOUT)?.unwrap_or(DEFAULT_CALL_TIMEOUT),
        };
        let max_response_bytes = match self.max_response_bytes {
            Some(0) => {
                return Err(invalid_variable(
                    "max_response_bytes",
                    "0 bytes would refuse every answer",
                ));
            }
            Some(bytes) => bytes,
            None => match env(env::MAX_RESPONSE_BYTES)? {
                Some(raw) => raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|bytes| *bytes > 0)
                    .ok_or_else(|| {
                        invalid_variable(
                            env::MAX_RESPONSE_BYTES,
                            format!("{raw:?} is not a positive whole number of bytes"),
                        )
                    })?,
                None => DEFAULT_MAX_RESPONSE_BYTES,
            },
        };
        let retry = match self.retry {
            Some(policy) => policy,
            None => {
                let mut policy = RetryPolicy::default();
                if let Some(raw) = env(env::MAX_RETRIES)? {
                    let retries = raw.trim().parse::<u32>().map_err(|_| {
                        invalid_variable(env::MAX_RETRIES, format!("{raw:?} is not a whole number"))
                    })?;
                    policy = policy.max_retries(retries);
                }
                if let Some(wait) = seconds(env::RETRY_MAX_WAIT)? {
                    policy = policy.max_wait(wait);
                }
                policy
            }
        };
        let (suffix, suffix_source) = match self.user_agent_suffix {
            Some(s) => (Some(s), "user_agent_suffix"),
            None => (env(env::USER_AGENT_SUFFIX)?, env::USER_AGENT_SUFFIX),
        };
        let user_agent = match suffix.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                let agent = format!("{USER_AGENT} {s}");
                if HeaderValue::from_str(&agent).is_err() {
                    return Err(invalid_variable(
                        suffix_source,
                        "it contains characters that cannot be sent in an HTTP header",
                    ));
                }
                agent
            }
            _ => USER_AGENT.to_owned(),
        };
        // A budget given in code is the whole setting: the environment neither replaces it
        // nor shares it through Redis.
        let budget_in_code = self.budget.is_some();
        let budget = match self.budget {
            Some(budget) => budget,
            None => match env(env::RATE_BUDGET)? {
                Some(raw) => {
                    parse_budget(&raw).map_err(|e| invalid_variable(env::RATE_BUDGET, e))?
                }
                None => A::default_budget(),
            },
        };
        let redis_url = if budget_in_code {
            None
        } else {
            env(env::REDIS_URL)?
        };
        #[cfg(feature = "redis")]
        let budget = match (budget, redis_url) {
            (Some(budget), Some(url)) => Some(
                budget
                    .shared_through_redis(&url)
                    .map_err(|e| invalid_variable(env::REDIS_URL, e.to_string()))?,
            ),
            (budget, _) => budget,
        };
        // Sharing was asked for and this build cannot do it: said, not ignored.
        #[cfg(not(feature = "redis"))]
        if budget.is_some() && redis_url.is_some() {
            return Err(invalid_variable(
                env::REDIS_URL,
                "it is set, but this build of revenue-agents has no `redis` feature, so the \
                 rate budget cannot be shared through Redis",
            ));
        }
        if let Some(budget) = &budget {
            budget
                .check()
                .map_err(|e| invalid_variable("rate_budget", e))?;
        }
        let roots_from = if self.root_certificates.is_empty() {
            env::CA_FILE
        } else {
            "root_certificates_pem"
        };
        let roots = if self.root_certificates.is_empty() {
            match env(env::CA_FILE)? {
                Some(path) => {
                    let pem = read_bounded(path.trim())
                        .map_err(|reason| invalid_variable(env::CA_FILE, reason))?;
                    certificates(&pem).map_err(|reason| invalid_variable(env::CA_FILE, reason))?
                }
                None => Vec::new(),
            }
        } else {
            let mut roots = Vec::new();
            for pem in &self.root_certificates {
                roots.extend(
                    certificates(pem)
                        .map_err(|reason| invalid_variable("root_certificates_pem", reason))?,
                );
            }
            roots
        };
        let (proxy, proxy_secrets) = match self.proxy {
            Some(Secret(url)) => proxy(&url).map_err(|reason| invalid_variable("proxy", reason))?,
            None => match env(env::PROXY)? {
                Some(url) => proxy(&url).map_err(|reason| invalid_variable(env::PROXY, reason))?,
                None => (None, Vec::new()),
            },
        };
        Ok(Settings {
            credential,
            base_url,
            connect_timeout,
            read_timeout,
            limits: Limits {
                call_timeout: Some(call_timeout),
                max_response_bytes,
            },
            retry,
            budget,
            user_agent,
            transport: Transport {
                roots,
                roots_from,
                proxy,
                proxy_secrets,
            },
        })
    }
}

fn assemble<A: Api>(
    settings: Settings,
    headers: HeaderMap,
    credential: Option<String>,
) -> Result<A::Client, Error> {
    let transport = &settings.transport;
    let http_client = |roots: Roots| {
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .default_headers(headers.clone())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            // Redirects are never followed: reqwest would carry a custom credential header
            // (HyperRep's `X-API-KEY`) and a POST body to whatever host a redirect names. A 3xx
            // answer becomes `ErrorKind::Redirected`, naming the target.
            .redirect(reqwest::redirect::Policy::none());
        builder = match &transport.proxy {
            Some(proxy) => builder.proxy(proxy.clone()),
            None => builder.no_proxy(),
        };
        builder = match roots {
            Roots::SystemAnd(extra) => builder.tls_certs_merge(extra),
            Roots::Only(roots) => builder.tls_certs_only(roots),
        };
        builder.build()
    };
    // Plain http (loopback only, a sandbox) needs no authority: such a client builds on a
    // machine without a certificate store.
    let roots = if settings.base_url.starts_with("http://") && transport.proxy.is_none() {
        Roots::Only(transport.roots.clone())
    } else {
        Roots::SystemAnd(transport.roots.clone())
    };
    let http = match http_client(roots) {
        Ok(http) => http,
        Err(error) if no_system_roots(&error) => match bundled_roots() {
            Some(bundled) => {
                let mut roots = bundled;
                roots.extend(transport.roots.iter().cloned());
                http_client(Roots::Only(roots))
                    .map_err(|e| Error::new(ErrorKind::HttpClient).with_source(e))?
            }
            None => {
                return Err(Error::new(ErrorKind::InvalidSetting {
                    setting: "TLS roots",
                    reason: format!(
                        "this system offers no certificate authority to trust (install its CA \
                         certificates, e.g. Debian's ca-certificates; give a PEM file in {}; \
                         or build with the crate's `bundled-roots` feature)",
                        env::CA_FILE
                    ),
                })
                .with_source(error));
            }
        },
        // A certificate that is PEM but not a usable authority is refused here, by rustls.
        Err(error) if !transport.roots.is_empty() => {
            return Err(invalid_variable(
                transport.roots_from,
                format!("a certificate cannot be trusted as an authority ({error})"),
            ));
        }
        Err(error) => return Err(Error::new(ErrorKind::HttpClient).with_source(error)),
    };
    let api = ApiInfo {
        name: A::NAME,
        credential_variable: A::CREDENTIAL_VARIABLE,
        operations: A::OPERATIONS,
        credits_on_503: A::CREDITS_ON_503,
    };
    let inner = Inner::new(
        api,
        &settings.base_url,
        credential,
        settings.retry,
        settings.limits,
        settings.budget.as_ref(),
    )
    .with_secrets(settings.transport.proxy_secrets);
    Ok(A::assemble(&settings.base_url, http, inner))
}

/// Which authorities a client trusts.
enum Roots {
    /// The system's, and these.
    SystemAnd(Vec<reqwest::Certificate>),
    /// These alone.
    Only(Vec<reqwest::Certificate>),
}

/// Whether building the HTTP client failed because the system has no certificate store.
fn no_system_roots(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.to_string().contains("No CA certificates") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The web's public authorities as Mozilla lists them, built into the crate (feature
/// `bundled-roots`), for a system without a certificate store.
fn bundled_roots() -> Option<Vec<reqwest::Certificate>> {
    #[cfg(feature = "bundled-roots")]
    {
        Some(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok())
                .collect(),
        )
    }
    #[cfg(not(feature = "bundled-roots"))]
    {
        None
    }
}

/// The most bytes of a certificate file read.
const MOST_CA_FILE_BYTES: u64 = 4 << 20;

/// A file's bytes, refused past [`MOST_CA_FILE_BYTES`].
fn read_bounded(path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path:?}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MOST_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {path:?}: {e}"))?;
    if bytes.len() as u64 > MOST_CA_FILE_BYTES {
        return Err(format!(
            "{path:?} is larger than {} MiB, more than any set of certificates",
            MOST_CA_FILE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

/// The certificates of a PEM bundle, or why there are none.
fn certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let found = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not PEM certificates ({e})"))?;
    if found.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(found)
}

/// A URL with its password, if any, written as `***`.
fn redacted_url(raw: &str) -> String {
    match reqwest::Url::parse(raw.trim()) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// The proxy of a URL, with the texts of its password to keep out of errors. Loopback hosts
/// are reached without it.
fn proxy(raw: &str) -> Result<(Option<reqwest::Proxy>, Vec<String>), String> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("{} is not an absolute URL ({e})", redacted_url(raw)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{} is not an http or https proxy",
            redacted_url(raw)
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{} names no host", redacted_url(raw)));
    }
    let mut secrets = Vec::new();
    if let Some(password) = url.password() {
        secrets.push(password.to_owned());
        if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8()
            && decoded != password
        {
            secrets.push(decoded.into_owned());
        }
    }
    let proxy = reqwest::Proxy::all(url.as_str())
        .map_err(|e| format!("{} cannot be used as a proxy ({e})", redacted_url(raw)))?
        // Every loopback address: plain-http base URLs are allowed for all of them.
        .no_proxy(reqwest::NoProxy::from_string("localhost,127.0.0.0/8,::1"));
    Ok((Some(proxy), secrets))
}

/// `off`, or `read=N,write=M[,window=S]`.
fn parse_budget(raw: &str) -> Result<Option<RateBudget>, String> {
    let raw = raw.trim();
    if matches!(raw.to_ascii_lowercase().as_str(), "off" | "none" | "0") {
        return Ok(None);
    }
    let (mut read, mut write, mut window) = (None, None, None);
    for part in raw.split(',') {
        let (key, value) = part.split_once('=').ok_or_else(|| {
            format!("{part:?} is not name=value (expected `off` or `read=N,write=M`)")
        })?;
        let (key, value) = (key.trim(), value.trim());
        let count = || {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{key}: {value:?} is not a positive whole number"))
        };
        match key {
            "read" => read = Some(count()?),
            "write" => write = Some(count()?),
            "window" => {
                window = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.001 && *s < 1e9)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| format!("window: {value:?} is not a number of seconds"))?,
                )
            }
            other => return Err(format!("{other:?} is not read, write or window")),
        }
    }
    let (Some(read), Some(write)) = (read, write) else {
        return Err("both read=N and write=M are needed".into());
    };
    let budget = RateBudget::per_minute(read, write);
    Ok(Some(match window {
        Some(window) => budget.window(window),
        None => budget,
    }))
}

/// A duration given in code: zero is refused, anything past [`LONGEST_DURATION`] shortened.
fn positive(setting: &'static str, duration: Duration) -> Result<Duration, Error> {
    if duration.is_zero() {
        return Err(invalid_variable(
            setting,
            "a duration of zero would fail every call",
        ));
    }
    Ok(saturated(duration))
}

fn invalid_variable(variable: &'static str, reason: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidSetting {
        setting: variable,
        reason: reason.into(),
    })
}

/// Checks a base URL and returns it without a trailing slash. Credentials are sent only over
/// TLS, except to loopback addresses, where a local sandbox or test server listens.
pub(crate) fn checked_base_url(raw: &str) -> Result<String, Error> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| invalid_base_url(format!("not an absolute URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid_base_url(
            "it must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid_base_url("it must not contain a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid_base_url(format!(
                "plain http is allowed for loopback hosts only, not {}",
                url.host_str().unwrap_or("")
            )));
        }
        other => {
            return Err(invalid_base_url(format!("unsupported scheme {other:?}")));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn invalid_base_url(reason: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidBaseUrl {
        reason: reason.into(),
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Ties a generated client to its [`Api`] description: the marker's `Api` impl, the
/// `ClientHooks` that route every request through [`crate::transport::prepare`], and the
/// `builder` / `new` / `from_env` / `without_credentials` constructors. Written once so that
/// both APIs behave the same.
macro_rules! api_client {
    (
        marker: $marker:ident,
        client: $client:ident,
        name: $name:literal,
        default_base_url: $base:literal,
        credential_variable: $cred_var:literal,
        base_url_variable: $base_var:literal,
        auth_header: $header:expr,
        auth_value: |$cred:ident| $auth_value:expr,
        operations: $operations:expr,
        credits_on_503: $credits:expr,
        default_budget: $budget:expr,
    ) => {
        impl $crate::config::sealed::Sealed for $marker {}

        impl $crate::config::Api for $marker {
            const NAME: &'static str = $name;
            const DEFAULT_BASE_URL: &'static str = $base;
            const CREDENTIAL_VARIABLE: &'static str = $cred_var;
            const BASE_URL_VARIABLE: &'static str = $base_var;
            const AUTH_HEADER: reqwest::header::HeaderName = $header;
            fn auth_value($cred: &str) -> String {
                $auth_value
            }
            const OPERATIONS: &'static [$crate::model::Operation] = $operations;
            const CREDITS_ON_503: bool = $credits;
            fn default_budget() -> Option<$crate::budget::RateBudget> {
                $budget
            }
            type Client = $client;
            fn assemble(
                base_url: &str,
                http: reqwest::Client,
                inner: $crate::transport::Inner,
            ) -> $client {
                $client::new_with_client(base_url, http, ::std::sync::Arc::new(inner))
            }
        }

        impl progenitor_client::ClientHooks<::std::sync::Arc<$crate::transport::Inner>> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), progenitor_client::Error<E>> {
                $crate::transport::prepare(
                    progenitor_client::ClientInfo::inner(self),
                    request,
                    info.operation_id,
                )
                .map_err(progenitor_client::Error::InvalidRequest)
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                info: &progenitor_client::OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                $crate::transport::execute(
                    progenitor_client::ClientInfo::inner(self),
                    progenitor_client::ClientInfo::client(self),
                    request,
                    info.operation_id,
                )
                .await
            }
        }

        impl $client {
            #[doc = concat!("A builder for a ", $name, " client: credential, base URL, timeouts.")]
            pub fn builder() -> $crate::config::ClientBuilder<$marker> {
                $crate::config::ClientBuilder::default()
            }

            #[doc = concat!("A ", $name, " client for the production service with this credential.")]
            pub fn from_credential(
                credential: impl Into<String>,
            ) -> ::std::result::Result<Self, $crate::error::Error> {
                Self::builder().credential(credential).build()
            }

            #[doc = concat!(
                "A ", $name, " client configured from `", $cred_var, "` (required) and `",
                $base_var, "` (optional).\n\nFails before any request, naming the variable, ",
                "when the credential is missing or empty."
            )]
            pub fn from_env() -> ::std::result::Result<Self, $crate::error::Error> {
                Self::builder().from_env().build()
            }

            /// The base URL requests go to (without a trailing slash).
            pub fn base_url(&self) -> &str {
                progenitor_client::ClientInfo::baseurl(self)
            }

            /// The rate-limit headers of the latest response that carried them, if any.
            pub fn rate_limit(&self) -> Option<$crate::headers::RateLimit> {
                progenitor_client::ClientInfo::inner(self).rate_limit()
            }

            /// The same client with another deadline for each call made through it (see
            /// [`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout)). It shares the
            /// connections and the rate-limit state of this one; keep it for one call or many:
            /// `client.with_call_timeout(Duration::from_secs(5)).me().send().await`. A zero
            /// timeout makes every call through it fail with
            /// [`ErrorKind::InvalidSetting`](crate::ErrorKind::InvalidSetting), nothing sent.
            pub fn with_call_timeout(&self, timeout: ::std::time::Duration) -> Self {
                let inner = progenitor_client::ClientInfo::inner(self).with_call_timeout(timeout);
                Self::new_with_client(
                    progenitor_client::ClientInfo::baseurl(self),
                    progenitor_client::ClientInfo::client(self).clone(),
                    ::std::sync::Arc::new(inner),
                )
            }
        }
    };
}

pub(crate) use api_client;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_are_accepted_and_trimmed() {
        assert_eq!(
            checked_base_url("https://api.example.com/v1/").unwrap(),
            "https://api.example.com/v1"
        );
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1/x",
            "http://[::1]:9",
        ] {
            assert!(checked_base_url(ok).is_ok(), "{ok}");
        }
        let err = checked_base_url("http://api.example.com").unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[test]
    fn urls_with_credentials_are_refused_without_echoing_them() {
        let err = checked_base_url("https://user:hunter2@api.example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn garbage_and_other_schemes_are_refused() {
        assert!(checked_base_url("not a url").is_err());
        assert!(checked_base_url("ftp://example.com").is_err());
        assert!(checked_base_url("https://example.com/?q=1").is_err());
    }
}
