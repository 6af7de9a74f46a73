//! The crate's one error type: what it is and how it reads. How HTTP answers and connection
//! failures become one lives in `http.rs`.

#[cfg(feature = "hockeystack")]
mod agents;
mod http;
mod redact;

#[cfg(feature = "hockeystack")]
pub use agents::{AgentRef, JobRef, WaitSubject};

use std::{fmt, time::Duration};

pub(crate) use http::ApiError;
pub(crate) use redact::redact_text;

/// Everything that can go wrong, in one type.
///
/// Match on [`Error::kind`] to decide what to do; the accessors give the HTTP status, the
/// server's request id, the API's own error text and, for list streams, the cursor to resume
/// from. Nothing in an `Error` ever contains a credential.
///
/// ```
/// use revenue_agents::{Error, ErrorKind};
///
/// fn explain(error: &Error) -> &'static str {
///     match error.kind() {
///         ErrorKind::NotFound => "nothing there",
///         ErrorKind::RateLimited { .. } => "slow down",
///         ErrorKind::CreditsExhausted => "out of credits until the monthly reset",
///         _ => "something else",
///     }
/// }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    api: Option<&'static str>,
    status: Option<u16>,
    request_id: Option<String>,
    body: Option<ApiErrorBody>,
    resume_cursor: Option<String>,
    snippet: Option<String>,
    /// Where a connection was tried (scheme, host and port), for a transport failure.
    endpoint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No credential was given, in code or in the environment.
    MissingCredentials {
        /// The API that needs it.
        api: &'static str,
        /// The environment variable that would provide it.
        variable: &'static str,
    },
    /// The credential cannot be sent in an HTTP header. It is not repeated here.
    InvalidCredentials {
        /// The API the credential was for.
        api: &'static str,
    },
    /// A setting cannot be used: an environment variable (named) or a builder setting.
    InvalidSetting {
        /// The environment variable, or the builder method, that gave the value.
        setting: &'static str,
        /// Why the value cannot be used. Never repeats a credential.
        reason: String,
    },
    /// The base URL cannot be used.
    InvalidBaseUrl {
        /// Why. Never contains the URL's user-info part.
        reason: String,
    },
    /// The request was refused before it was sent (a parameter out of its documented bounds,
    /// a path parameter that cannot be one segment, a required parameter missing).
    InvalidRequest {
        /// Why.
        reason: String,
    },
    /// The credential was refused (HockeyStack 401, HyperRep 403).
    Unauthorized,
    /// Nothing at that path (HTTP 404).
    NotFound,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// A value was understood but rejected (HTTP 400).
    BadRequest,
    /// Request validation failed (HTTP 422); see [`Error::validation_problems`].
    Validation,
    /// Too many requests (HTTP 429). The request did no work.
    RateLimited {
        /// How long the server asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// HockeyStack's monthly credit cap is reached (HTTP 503): repeating will not help until
    /// the credits reset.
    CreditsExhausted,
    /// The server failed (HTTP 5xx).
    Server,
    /// A status the API does not document for this call.
    UnexpectedStatus,
    /// The server answered with a redirect (HTTP 3xx). Redirects are never followed, so that
    /// the credential and the request body stay with the configured host; check the base URL.
    Redirected {
        /// Where the redirect pointed (scheme, host, port and path; never a query or user
        /// info), when it said.
        location: Option<String>,
    },
    /// A message job ended in `failed`.
    #[cfg(feature = "hockeystack")]
    JobFailed {
        /// The job, to quote to support.
        job: JobRef,
        /// HockeyStack's dotted error code.
        code: String,
        /// HockeyStack's coarse error class.
        category: String,
        /// HockeyStack's sentence.
        message: String,
    },
    /// The message job answers 404: it outlived its retention window (60 minutes pending, 15
    /// minutes once finished), so its result can no longer be read, or one of its ids (deal or
    /// company, conversation, job) is not one the service gave: the API does not say which.
    #[cfg(feature = "hockeystack")]
    JobExpired {
        /// The job.
        job: JobRef,
    },
    /// Agent provisioning failed, also after retrying it.
    #[cfg(feature = "hockeystack")]
    ProvisioningFailed {
        /// The agent's deal or company.
        agent: AgentRef,
        /// How many provisioning runs were started.
        attempts: u32,
        /// The server's account of the last failure.
        message: Option<String>,
    },
    /// A wait reached its deadline. The ids needed to resume are in `waiting_for`.
    #[cfg(feature = "hockeystack")]
    WaitTimedOut {
        /// What was being waited for.
        waiting_for: WaitSubject,
        /// How long the wait lasted.
        elapsed: Duration,
        /// How many times the state was checked.
        attempts: u32,
    },
    /// A list answered with a cursor it had already given: following it would loop forever.
    RepeatedCursor {
        /// The repeated cursor.
        cursor: String,
    },
    /// A list said more items exist but gave no cursor to fetch them.
    MissingCursor,
    /// An answer broke the API's contract (a completed job without result, a streamed event
    /// whose data is not JSON, an event stream where JSON was due).
    InvalidResponse {
        /// What was wrong.
        reason: String,
    },
    /// The connection failed, broke off or timed out; `cause` says which.
    Transport {
        /// What happened to the connection.
        cause: TransportCause,
    },
    /// A streamed reply ended before its `done` event: the connection closed, broke off or
    /// went silent. The message was accepted; list the conversation's messages to read the
    /// reply once it is complete, or ask again in the same conversation.
    #[cfg(feature = "hockeystack")]
    StreamInterrupted {
        /// The agent's deal or company.
        agent: AgentRef,
        /// The conversation the message was sent to.
        conversation_id: String,
        /// How many events arrived before the cut.
        events_received: usize,
    },
    /// A successful answer, or one event of a streamed reply, was larger than the client's
    /// limit ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
    /// Reading stopped at the limit and the connection was closed.
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The call did not finish within its deadline
    /// ([`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout)), which covers
    /// connecting, sending, every retry and `Retry-After` wait, and reading the answer.
    DeadlineExceeded {
        /// The deadline the call had.
        limit: Duration,
    },
    /// The client's rate budget ([`RateBudget`](crate::RateBudget)) had no slot for the
    /// request before the call's deadline; nothing was sent.
    RateBudgetExhausted {
        /// The pool (`read` or `write`).
        pool: String,
        /// How long until the pool has a slot again.
        refills_in: Duration,
    },
    /// The rate budget shared through Redis could not be reached, and the client is set to
    /// fail rather than wait or fall back to its own count; nothing was sent.
    RateBudgetUnavailable {
        /// What went wrong.
        reason: String,
    },
    /// A response body could not be decoded; see [`Error::body_snippet`].
    Decode {
        /// The start of the body, for diagnosis.
        snippet: String,
    },
    /// The HTTP client could not be built.
    HttpClient,
}

/// What happened to a connection, for [`ErrorKind::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportCause {
    /// No connection could be opened (refused, unreachable, name not resolved).
    Connect,
    /// Opening the connection took longer than the connect timeout.
    ConnectTimeout,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The server stayed silent for longer than the read timeout.
    ReadTimeout,
    /// The connection was reset or closed before the answer was complete.
    Reset,
    /// Something else went wrong on the connection.
    Other,
}

impl fmt::Display for TransportCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportCause::Connect => "could not connect",
            TransportCause::ConnectTimeout => "timed out while connecting",
            TransportCause::Tls => "TLS handshake failed",
            TransportCause::ReadTimeout => "timed out waiting for data",
            TransportCause::Reset => "connection closed before the answer was complete",
            TransportCause::Other => "connection failed",
        })
    }
}

/// The API's own account of an error, from its error body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiErrorBody {
    /// HockeyStack's dotted code (`rate_limit.exceeded`); none for HyperRep.
    pub code: Option<String>,
    /// HockeyStack's coarse class (`rate_limited`); none for HyperRep.
    pub category: Option<String>,
    /// The sentence: HockeyStack's `message`, HyperRep's `detail`.
    pub message: String,
    /// HyperRep's per-field validation problems (422).
    pub problems: Vec<ValidationProblem>,
}

/// One problem found while validating a request (HyperRep 422).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationProblem {
    /// Where, for example `query.limit`.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// A machine-readable kind.
    pub kind: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                api: None,
                status: None,
                request_id: None,
                body: None,
                resume_cursor: None,
                snippet: None,
                endpoint: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_api(mut self, api: &'static str) -> Self {
        self.inner.api = Some(api);
        self
    }

    pub(crate) fn with_resume_cursor(mut self, cursor: Option<String>) -> Self {
        self.inner.resume_cursor = cursor;
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Which API failed, when the error came from one (`HockeyStack`, `HyperRep`).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) fn api_name(&self) -> Option<&'static str> {
        self.inner.api
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The HTTP status, when the failure is an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The server's `x-request-id`, when it sent one: quote it to the API's support.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The API's own error body, when it sent a readable one.
    pub fn api_error(&self) -> Option<&ApiErrorBody> {
        self.inner.body.as_ref()
    }

    /// HyperRep's per-field problems of a 422 (empty otherwise).
    pub fn validation_problems(&self) -> &[ValidationProblem] {
        self.inner
            .body
            .as_ref()
            .map(|b| b.problems.as_slice())
            .unwrap_or_default()
    }

    /// For an error in the middle of a list stream: the cursor of the page that could not be
    /// fetched. Start a new stream from it (`resume_from`) and nothing is lost.
    pub fn resume_cursor(&self) -> Option<&str> {
        self.inner.resume_cursor.as_deref()
    }

    /// How long the server asked to wait before retrying, for a rate-limited request.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.inner.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// The start of a body that could not be read as expected: an undecodable success body,
    /// or an error body that was not the API's error envelope (a proxy's page, plain text).
    /// At most 200 characters, control characters escaped, credentials blanked out.
    pub fn body_snippet(&self) -> Option<&str> {
        match &self.inner.kind {
            ErrorKind::Decode { snippet } => Some(snippet),
            _ => self.inner.snippet.as_deref(),
        }
    }

    /// True for failures that may pass if the same request is sent again later: rate limits,
    /// server failures, transport failures and a passed call deadline. Credits exhaustion is
    /// not one of them.
    pub fn is_transient(&self) -> bool {
        match self.inner.kind {
            ErrorKind::RateLimited { .. }
            | ErrorKind::Server
            | ErrorKind::Transport { .. }
            | ErrorKind::DeadlineExceeded { .. }
            | ErrorKind::RateBudgetExhausted { .. }
            | ErrorKind::RateBudgetUnavailable { .. } => true,
            #[cfg(feature = "hockeystack")]
            ErrorKind::StreamInterrupted { .. } => true,
            _ => false,
        }
    }

    /// True when the failure is a timeout: a silent connection, a connection that could not
    /// be opened in time, or a wait's deadline.
    pub fn is_timeout(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::DeadlineExceeded { .. } => true,
            #[cfg(feature = "hockeystack")]
            ErrorKind::WaitTimedOut { .. } => true,
            ErrorKind::Transport {
                cause: TransportCause::ConnectTimeout | TransportCause::ReadTimeout,
            } => true,
            _ => self
                .inner
                .source
                .as_ref()
                .and_then(|s| s.downcast_ref::<Error>())
                .is_some_and(Error::is_timeout),
        }
    }
}

/// The start of a text as one readable line: at most 200 characters, control characters and
/// the invisible ones that could disguise a text (zero-width, bidirectional overrides) shown
/// as escapes. Everything else is kept as it is, quotes and accents included, so a JSON body
/// reads as JSON, not escaped once more.
pub(crate) fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let mut out = String::new();
    for c in text.chars().take(MAX) {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = self.inner.api.unwrap_or("the API");
        match &self.inner.kind {
            ErrorKind::MissingCredentials { api, variable } => write!(
                f,
                "no {api} credential configured: set the {variable} environment variable or \
                 pass one to the client builder"
            )?,
            ErrorKind::InvalidCredentials { api } => write!(
                f,
                "the {api} credential contains characters that cannot be sent in an HTTP header"
            )?,
            ErrorKind::InvalidBaseUrl { reason } => write!(f, "invalid base URL: {reason}")?,
            ErrorKind::InvalidSetting { setting, reason } => {
                write!(f, "unusable value for {setting}: {reason}")?
            }
            ErrorKind::InvalidRequest { reason } => write!(f, "request not sent: {reason}")?,
            ErrorKind::Unauthorized => write!(f, "{api} refused the credential")?,
            ErrorKind::NotFound => write!(f, "{api} found nothing at that path")?,
            ErrorKind::Conflict => write!(f, "{api} reported a conflict with the current state")?,
            ErrorKind::BadRequest => write!(f, "{api} rejected a value of the request")?,
            ErrorKind::Validation => write!(f, "{api} found the request invalid")?,
            ErrorKind::RateLimited {
                retry_after: Some(d),
            } => write!(
                f,
                "{api} rate limit reached; retry in {} s",
                d.as_secs_f64()
            )?,
            ErrorKind::RateLimited { retry_after: None } => write!(f, "{api} rate limit reached")?,
            ErrorKind::CreditsExhausted => write!(
                f,
                "{api}: the monthly credit cap is reached; agent work resumes after the reset"
            )?,
            ErrorKind::Server => write!(f, "{api} failed on its side")?,
            ErrorKind::UnexpectedStatus => write!(f, "{api} answered with an undocumented status")?,
            ErrorKind::Redirected { location } => {
                write!(f, "{api} answered with a redirect")?;
                if let Some(location) = location {
                    write!(f, " to {location}")?;
                }
                write!(
                    f,
                    ", which is not followed so that the credential stays with the configured \
                     host; check the base URL"
                )?
            }
            #[cfg(feature = "hockeystack")]
            ErrorKind::JobFailed {
                job,
                code,
                category,
                message,
            } => write!(f, "{job} failed: {message} ({code}, {category})")?,
            #[cfg(feature = "hockeystack")]
            ErrorKind::JobExpired { job } => write!(
                f,
                "{job} was not found: it is past its retention window, or one of its ids is wrong"
            )?,
            #[cfg(feature = "hockeystack")]
            ErrorKind::ProvisioningFailed {
                agent,
                attempts,
                message,
            } => {
                write!(
                    f,
                    "provisioning the agent of {agent} failed after {attempts} run(s)"
                )?;
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
            }
            #[cfg(feature = "hockeystack")]
            ErrorKind::WaitTimedOut {
                waiting_for,
                elapsed,
                attempts,
            } => write!(
                f,
                "gave up waiting for {waiting_for} after {:.1} s and {attempts} check(s)",
                elapsed.as_secs_f64()
            )?,
            ErrorKind::RepeatedCursor { cursor } => write!(
                f,
                "{api} repeated the list cursor {cursor:?}; stopped to avoid a loop"
            )?,
            ErrorKind::MissingCursor => write!(
                f,
                "{api} said more items exist but gave no cursor to fetch them"
            )?,
            ErrorKind::InvalidResponse { reason } => {
                write!(f, "unusable answer from {api}: {reason}")?
            }
            ErrorKind::Transport { cause } => match &self.inner.endpoint {
                Some(endpoint) => write!(f, "connection to {api} at {endpoint}: {cause}")?,
                None => write!(f, "connection to {api}: {cause}")?,
            },
            #[cfg(feature = "hockeystack")]
            ErrorKind::StreamInterrupted {
                agent,
                conversation_id,
                events_received,
            } => write!(
                f,
                "the streamed reply in conversation {conversation_id} ({agent}) ended before \
                 `done`, after {events_received} event(s); list the conversation's messages or \
                 ask again"
            )?,
            ErrorKind::RateBudgetExhausted { pool, refills_in } => write!(
                f,
                "the client's {pool} budget for {api} has no slot before the call's deadline \
                 (one frees in {:.1} s); nothing was sent",
                refills_in.as_secs_f64()
            )?,
            ErrorKind::RateBudgetUnavailable { reason } => write!(
                f,
                "the rate budget shared through Redis could not be reached ({reason}); \
                 nothing was sent"
            )?,
            ErrorKind::ResponseTooLarge { limit } => write!(
                f,
                "the answer of {api} is larger than the client's limit of {limit} bytes; reading \
                 stopped there (raise it with max_response_bytes)"
            )?,
            ErrorKind::DeadlineExceeded { limit } => write!(
                f,
                "the call to {api} did not finish within its deadline of {:.1} s",
                limit.as_secs_f64()
            )?,
            ErrorKind::Decode { snippet } => {
                write!(f, "cannot decode the answer of {api}: {snippet}")?
            }
            ErrorKind::HttpClient => write!(f, "cannot build the HTTP client")?,
        }
        if let Some(status) = self.inner.status {
            write!(f, " [HTTP {status}]")?;
        }
        if let Some(body) = &self.inner.body {
            if !body.message.is_empty() {
                write!(f, ": {}", body.message)?;
            }
            if let Some(code) = &body.code {
                write!(f, " ({code})")?;
            }
            for problem in &body.problems {
                write!(f, "; {}: {}", problem.location, problem.message)?;
            }
        }
        if let Some(snippet) = &self.inner.snippet {
            write!(f, ": body {snippet}")?;
        }
        if let Some(id) = &self.inner.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(cursor) = &self.inner.resume_cursor {
            write!(f, "; resume from cursor {cursor:?}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.inner.kind);
        if let Some(api) = self.inner.api {
            s.field("api", &api);
        }
        if let Some(status) = self.inner.status {
            s.field("status", &status);
        }
        if let Some(id) = &self.inner.request_id {
            s.field("request_id", id);
        }
        if let Some(body) = &self.inner.body {
            s.field("body", body);
        }
        if let Some(cursor) = &self.inner.resume_cursor {
            s.field("resume_cursor", cursor);
        }
        if let Some(snippet) = &self.inner.snippet {
            s.field("body_snippet", snippet);
        }
        if let Some(source) = &self.inner.source {
            s.field("source", &source.to_string());
        }
        s.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_short_and_printable() {
        let long = "x".repeat(500);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), 201);
        assert_eq!(
            snippet(&String::from_utf8_lossy(b"a\nb\x00\xff")),
            "a\\nb\\u{0}\u{fffd}"
        );
        // A JSON body reads as JSON: its quotes and accents are not escaped again.
        assert_eq!(
            snippet(r#"{"detail":"Not Found","who":"Zoë"}"#),
            r#"{"detail":"Not Found","who":"Zoë"}"#
        );
        assert_eq!(snippet("a\u{202E}b\u{200B}c"), "a\\u{202e}b\\u{200b}c");
    }
}
