//! What every request goes through: header hygiene, the credential check and the path-shape
//! check before it leaves; retries and rate-limit bookkeeping around it. Shared by both
//! generated clients through their `ClientHooks` impls, and by the hand-written calls.

use std::{
    any::Any,
    fmt,
    future::Future,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use tokio::time::Instant;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use progenitor_client::ResponseValue;
use serde::de::DeserializeOwned;

use crate::{
    budget::{BoundBudget, Pool, Refusal},
    error::ApiError,
    error::{Error, ErrorKind},
    headers::RateLimit,
    limits::{Limits, saturated},
    model::{self, Location, Operation},
    retry::{self, ApiRules, RetryPolicy},
    trace::RequestSpan,
};

/// What the transport needs to know about an API.
#[derive(Clone, Copy)]
pub(crate) struct ApiInfo {
    /// The API's name in messages.
    pub(crate) name: &'static str,
    /// The environment variable that holds the credential, named when one is missing.
    pub(crate) credential_variable: &'static str,
    /// The API's operation model.
    pub(crate) operations: &'static [Operation],
    /// Whether a 503 means the credit cap rather than an outage.
    pub(crate) credits_on_503: bool,
}

/// Per-client state the generated code carries and the hooks read. The credential itself
/// lives in the HTTP client's default headers, marked sensitive; the copy kept here serves
/// only to scrub it from anything a server echoes back into an error.
#[doc(hidden)]
#[derive(Clone)]
pub struct Inner {
    pub(crate) api: &'static str,
    credential_variable: &'static str,
    credential: Option<Secret>,
    base_path: String,
    operations: &'static [Operation],
    pub(crate) retry: RetryPolicy,
    pub(crate) rules: ApiRules,
    /// The deadline of a whole call and the largest answer read.
    pub(crate) limits: Limits,
    rate_limit: Arc<Mutex<Option<RateLimit>>>,
    /// State an API's hand-written layer keeps per client (HockeyStack: the agents seen
    /// active), made on first use and shared by the clones of one client. The transport
    /// does not know what it holds.
    api_state: Arc<OnceLock<Box<dyn Any + Send + Sync>>>,
    /// The rate budget every request takes a slot from, when the client has one.
    budget: Option<BoundBudget>,
    /// Other secrets of the transport (a proxy's password), blanked out as the credential is.
    secrets: Arc<[Secret]>,
}

/// A credential that never prints.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One short line: the API and whether a credential is set, never the credential or the
        // operation tables.
        write!(
            f,
            "{} (credential {})",
            self.api,
            if self.credential.is_some() {
                "set"
            } else {
                "not set"
            }
        )
    }
}

impl Inner {
    pub(crate) fn new(
        api: ApiInfo,
        base_url: &str,
        credential: Option<String>,
        retry: RetryPolicy,
        limits: Limits,
        budget: Option<&crate::budget::RateBudget>,
    ) -> Self {
        let budget = budget.map(|b| b.bind(api.name, credential.as_deref()));
        let base_path = reqwest::Url::parse(base_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            api: api.name,
            credential_variable: api.credential_variable,
            credential: credential.map(Secret),
            base_path,
            operations: api.operations,
            retry,
            rules: ApiRules {
                credits_on_503: api.credits_on_503,
            },
            limits,
            rate_limit: Arc::default(),
            api_state: Arc::default(),
            budget,
            secrets: Arc::new([]),
        }
    }

    /// The same state, with these texts blanked out of errors and echoed text as well.
    pub(crate) fn with_secrets(mut self, secrets: Vec<String>) -> Self {
        self.secrets = secrets.into_iter().map(Secret).collect();
        self
    }

    fn all_secrets(&self) -> impl Iterator<Item = &str> {
        self.credential
            .iter()
            .chain(self.secrets.iter())
            .map(|Secret(secret)| secret.as_str())
    }

    /// The same client state (shared rate-limit and readiness memory) with another deadline
    /// per call.
    pub(crate) fn with_call_timeout(&self, limit: Duration) -> Self {
        let mut inner = self.clone();
        inner.limits.call_timeout = Some(saturated(limit));
        inner
    }

    /// An error as a caller may see it: with the credential blanked out of every text a
    /// server put in it. Every error that leaves a client passes through here.
    pub(crate) fn guard(&self, error: Error) -> Error {
        self.all_secrets()
            .fold(error, |error, secret| error.redact(secret))
    }

    /// When a call that starts now must be over.
    fn deadline(&self) -> Option<Instant> {
        self.limits
            .call_timeout
            .and_then(|limit| Instant::now().checked_add(limit))
    }

    /// The API's per-client state, made on first use. One API keeps one type there.
    #[cfg_attr(not(feature = "hockeystack"), allow(dead_code))]
    pub(crate) fn api_state<T: Default + Send + Sync + 'static>(&self) -> Option<&T> {
        self.api_state
            .get_or_init(|| Box::new(T::default()))
            .downcast_ref()
    }

    /// The operation of this id in the API's model.
    pub(crate) fn operation(&self, id: &str) -> Option<&'static Operation> {
        model::find(self.operations, id)
    }

    /// The rate-limit headers of the latest response that carried them.
    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit.lock().map(|g| g.clone()).unwrap_or(None)
    }

    fn observe(&self, response: &reqwest::Response) {
        if let Some(limit) = RateLimit::from_headers(response.headers())
            && let Ok(mut slot) = self.rate_limit.lock()
        {
            *slot = Some(limit);
        }
    }

    /// Text from a server, with the credential blanked out wherever it was echoed.
    pub(crate) fn scrub(&self, text: String) -> String {
        self.all_secrets().fold(text, |text, secret| {
            crate::error::redact_text(&text, secret).unwrap_or(text)
        })
    }
}

/// Sends a request with the client's retry policy, recording rate-limit headers. Each
/// attempt first takes a slot of the client's rate budget, if it has one; a slot that cannot
/// be had before the call's deadline ends the call with the budget's refusal in place of an
/// answer, nothing sent. A request whose body cannot be replayed is sent once.
pub(crate) async fn execute(
    inner: &Inner,
    http: &reqwest::Client,
    request: reqwest::Request,
    operation: &'static str,
) -> reqwest::Result<reqwest::Response> {
    let method = request.method().clone();
    let pool = Pool::of(&method);
    // Only a span reads the path template; without tracing the lookup is skipped.
    #[cfg(feature = "tracing")]
    let template = inner.operation(operation).map_or("", |op| op.path);
    #[cfg(not(feature = "tracing"))]
    let template = "";
    let span = RequestSpan::new(
        inner.api,
        operation,
        &method,
        &inner.base_path,
        template,
        request.url(),
    );
    let result = send(inner, http, request, &method, pool, &span).await;
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    match &result {
        Ok(response) if Refusal::of(response).is_some() => {
            span.finish(None, Some("rate_budget"));
        }
        outcome => {
            let (status, error) = crate::trace::outcome_words(outcome.as_ref());
            span.finish(status, error.as_deref());
        }
    }
    result
}

/// Sends the request through the rate budget and the retry policy, inside its span.
async fn send(
    inner: &Inner,
    http: &reqwest::Client,
    request: reqwest::Request,
    method: &reqwest::Method,
    pool: Pool,
    span: &RequestSpan,
) -> reqwest::Result<reqwest::Response> {
    let deadline = inner.deadline();
    let observe = |response: &reqwest::Response| {
        if Refusal::of(response).is_none() {
            inner.observe(response);
            span.response(response, |text| inner.scrub(text));
        }
    };
    // One attempt on the wire, timed for the metrics.
    let sent = |request: reqwest::Request| async move {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let result = http.execute(request).await;
        #[cfg(feature = "metrics")]
        span.attempt_done(result.as_ref(), started);
        result
    };
    let attempt = |request: reqwest::Request| async {
        if let Some(budget) = &inner.budget {
            if let Err(refusal) = budget.take(pool, deadline).await {
                return Ok(refusal.into_response());
            }
            let response = sent(request).await?;
            budget.observe(pool, &response).await;
            return Ok(response);
        }
        sent(request).await
    };
    // A streamed body cannot be sent twice; with no retry allowed there is nothing to keep a
    // copy for.
    let replayable = request.body().is_none_or(|body| body.as_bytes().is_some());
    if !replayable || inner.retry.max_retries == 0 {
        span.attempt(1);
        let response = span.instrument(attempt(request)).await?;
        observe(&response);
        return Ok(response);
    }
    span.instrument(retry::send_with_retries(
        &inner.retry,
        inner.rules,
        method,
        deadline,
        span,
        || attempt(request.try_clone().expect("checked above")),
        observe,
    ))
    .await
}

/// Runs before every generated request. The returned message becomes
/// `progenitor_client::Error::InvalidRequest`, and nothing is sent.
pub(crate) fn prepare(
    inner: &Inner,
    request: &mut reqwest::Request,
    operation_id: &str,
) -> Result<(), String> {
    let Some(operation) = inner.operation(operation_id) else {
        return Err(format!("unknown operation {operation_id}"));
    };
    if inner.credential.is_none() && !operation.public {
        return Err(format!(
            "{operation_id} needs a {} credential: set {} or pass one to the client builder",
            inner.api, inner.credential_variable
        ));
    }
    let length = request.url().as_str().len();
    if length > crate::limits::MAX_URL_BYTES {
        return Err(format!(
            "{operation_id}: the URL would be {length} bytes, over the {} that servers take; \
             no cursor or filter the API gives is that long",
            crate::limits::MAX_URL_BYTES
        ));
    }
    check_path_shape(&inner.base_path, operation.path, request.url().path())
        .map_err(|problem| format!("{operation_id}: {problem}"))?;
    check_query(operation, request.url()).map_err(|problem| format!("{operation_id}: {problem}"))
}

/// Checks the query against the spec's bounds, and the order of two values where the spec
/// says one must not come before the other (HyperRep refuses an `end_date` before its
/// `start_date`).
fn check_query(operation: &Operation, url: &reqwest::Url) -> Result<(), String> {
    if url.query().is_none() {
        return Ok(());
    }
    for (name, value) in url.query_pairs() {
        let Some(param) = operation.param(&name, Location::Query) else {
            continue;
        };
        if let Some(earlier) = param.not_before {
            let given = url.query_pairs().find(|(n, _)| n == earlier);
            if let Some((_, start)) = given {
                let parse = |v: &str| chrono::DateTime::parse_from_rfc3339(v).ok();
                if let (Some(s), Some(e)) = (parse(&start), parse(&value))
                    && e < s
                {
                    return Err(format!(
                        "{name} ({value}) is before {earlier} ({start}); the API requires {earlier} <= {name}"
                    ));
                }
            }
        }
        let (min, max) = (param.minimum, param.maximum);
        if min.is_none() && max.is_none() {
            continue;
        }
        let number: i64 = value
            .parse()
            .map_err(|_| format!("query parameter {name} must be a whole number, not {value:?}"))?;
        if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
            return Err(format!(
                "query parameter {name} is {number}, outside its documented range {}..={}",
                min.map(|m| m.to_string()).unwrap_or_default(),
                max.map(|m| m.to_string()).unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// What may stay as it is in a path segment: RFC 3986's unreserved characters and a few
/// sub-delimiters that no router reads specially. Everything else, `/`, `\`, `%`, `?`, `#`,
/// `;`, `+`, white space, control and non-ASCII characters included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Encodes a path parameter as exactly one segment, or refuses it naming the parameter: an
/// empty value would merge two segments, and `.` or `..` are folded away by every URL parser
/// (also when percent-encoded), which would send the request to another resource.
pub(crate) fn path_segment(name: &str, value: &str) -> Result<String, String> {
    match value {
        "" => Err(format!("path parameter {name} is empty")),
        "." | ".." => Err(format!(
            "path parameter {name} is {value:?}, which cannot be sent as a path segment"
        )),
        _ => Ok(utf8_percent_encode(value, SEGMENT).to_string()),
    }
}

/// Runs one call's work (sending, retries, reading the answer) within the client's deadline,
/// and hands its error back guarded. The future is dropped at the deadline, which closes the
/// connection.
pub(crate) async fn bounded<T>(
    inner: &Inner,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let result = match inner.limits.call_timeout {
        // Only `with_call_timeout` can set it (the builder refuses zero): said, not run.
        Some(limit) if limit.is_zero() => Err(Error::new(ErrorKind::InvalidSetting {
            setting: "call_timeout",
            reason: "with_call_timeout(0) would end every call before it starts".into(),
        })
        .with_api(inner.api)),
        Some(limit) => match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::DeadlineExceeded { limit }).with_api(inner.api)),
        },
        None => work.await,
    };
    result.map_err(|e| inner.guard(e))
}

/// The largest error body read; the rest is not needed to explain the failure.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Finishes a generated call whose success statuses carry a JSON body. Any 2xx counts as
/// success, not only the statuses the spec lists: a service that answers 200 where the spec
/// says 201 has still done the work, and its body is decoded like the documented one.
pub(crate) async fn finish_json<T, B, E>(
    inner: &Inner,
    dispatch: impl Future<Output = Result<reqwest::Response, progenitor_client::Error<E>>>,
) -> Result<ResponseValue<T>, Error>
where
    T: DeserializeOwned,
    B: ApiError + DeserializeOwned,
{
    bounded(inner, async {
        let response = dispatch.await.map_err(|e| before_response(inner, e))?;
        let (status, headers, bytes) = success_body::<B>(inner, response).await?;
        let value = decode(inner, status, &headers, &bytes)?;
        Ok(ResponseValue::new(value, status, headers))
    })
    .await
}

/// The status, headers and body of a successful answer, or the error an unsuccessful one
/// stands for. A body that breaks off is a transport error, never a shorter body.
pub(crate) async fn success_body<B: ApiError + DeserializeOwned>(
    inner: &Inner,
    mut response: reqwest::Response,
) -> Result<
    (
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        bytes::Bytes,
    ),
    Error,
> {
    let status = response.status();
    if !status.is_success() {
        return Err(error_from_response::<B>(inner, response).await);
    }
    // Taken, not copied: the answer keeps them, and the body is all the response has left.
    let headers = std::mem::take(response.headers_mut());
    let bytes = read_bounded(inner, status, &headers, response).await?;
    Ok((status, headers, bytes))
}

/// A successful answer's body, read up to the client's limit. A body announced or found
/// larger fails with [`ErrorKind::ResponseTooLarge`] as soon as that is known; dropping the
/// response then closes the connection rather than reading the rest.
async fn read_bounded(
    inner: &Inner,
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    mut response: reqwest::Response,
) -> Result<bytes::Bytes, Error> {
    let limit = inner.limits.max_response_bytes;
    let too_large = || {
        Error::new(ErrorKind::ResponseTooLarge { limit })
            .with_api(inner.api)
            .with_status(status.as_u16())
            .with_request_id(headers)
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let broken = |e| Error::transport(inner.api, e).with_status(status.as_u16());
    // One chunk is the usual case: keep it as it is, without a copy.
    let Some(first) = response.chunk().await.map_err(broken)? else {
        return Ok(bytes::Bytes::new());
    };
    if first.len() as u64 > limit {
        return Err(too_large());
    }
    let Some(second) = response.chunk().await.map_err(broken)? else {
        return Ok(first);
    };
    let expected = response.content_length().unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(
        usize::try_from(expected)
            .unwrap_or(0)
            .max(first.len() + second.len()),
    );
    body.extend_from_slice(&first);
    let mut chunk = Some(second);
    while let Some(piece) = chunk {
        if (body.len() + piece.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&piece);
        chunk = response.chunk().await.map_err(broken)?;
    }
    Ok(body.into())
}

/// A successful answer's JSON body, or a decode error that keeps a scrubbed start of it.
pub(crate) fn decode<T: DeserializeOwned>(
    inner: &Inner,
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    bytes: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::decode(
            inner.api,
            Some(status.as_u16()),
            &inner.scrub(String::from_utf8_lossy(bytes).into_owned()),
            e,
        )
        .with_request_id(headers)
    })
}

/// Finishes a generated call whose success statuses carry no body; any 2xx counts.
// Only HockeyStack has operations that answer without a body.
#[cfg_attr(not(feature = "hockeystack"), allow(dead_code))]
pub(crate) async fn finish_empty<B, E>(
    inner: &Inner,
    dispatch: impl Future<Output = Result<reqwest::Response, progenitor_client::Error<E>>>,
) -> Result<ResponseValue<()>, Error>
where
    B: ApiError + DeserializeOwned,
{
    bounded(inner, async {
        let response = dispatch.await.map_err(|e| before_response(inner, e))?;
        if !response.status().is_success() {
            return Err(error_from_response::<B>(inner, response).await);
        }
        Ok(ResponseValue::empty(response))
    })
    .await
}

/// A failure before any answer: a refused parameter, or a request that never got a response.
fn before_response<E>(inner: &Inner, error: progenitor_client::Error<E>) -> Error {
    use progenitor_client::Error as G;
    match error {
        G::InvalidRequest(reason) | G::Custom(reason) => {
            Error::new(ErrorKind::InvalidRequest { reason }).with_api(inner.api)
        }
        G::CommunicationError(e) | G::ResponseBodyError(e) | G::InvalidUpgrade(e) => {
            Error::transport(inner.api, e)
        }
        // `dispatch` returns every answer whole; these cannot occur, but stay typed if they do.
        G::ErrorResponse(response) => Error::new(ErrorKind::UnexpectedStatus)
            .with_api(inner.api)
            .with_status(response.status().as_u16()),
        G::UnexpectedResponse(response) => Error::new(ErrorKind::UnexpectedStatus)
            .with_api(inner.api)
            .with_status(response.status().as_u16()),
        G::InvalidResponsePayload(bytes, e) => Error::decode(
            inner.api,
            None,
            &inner.scrub(String::from_utf8_lossy(&bytes).into_owned()),
            e,
        ),
    }
}

/// The error for an answer that is not a documented success. The status decides the kind,
/// whatever the body is; the API's error envelope is read when the body is one, and otherwise
/// a short, printable start of the body is kept.
pub(crate) async fn error_from_response<B: ApiError + DeserializeOwned>(
    inner: &Inner,
    response: reqwest::Response,
) -> Error {
    if let Some(refusal) = Refusal::of(&response) {
        return refusal.clone().into_error(inner.api);
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if (300..400).contains(&status) {
        return Error::redirected(inner.api, status, &headers);
    }
    let body = read_limited(response).await;
    let envelope = serde_json::from_slice::<B>(&body).ok().map(|b| {
        let mut body = b.body();
        body.message = inner.scrub(body.message);
        body
    });
    let readable = envelope.is_none() && !body.is_empty();
    let error = Error::from_status(
        inner.api,
        status,
        &headers,
        envelope,
        inner.rules.credits_on_503,
    );
    if readable {
        error.with_snippet(&inner.scrub(String::from_utf8_lossy(&body).into_owned()))
    } else {
        error
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a body; a body that breaks off reads as what
/// arrived before.
async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

/// Checks that the request path is the base path followed by the template, with every
/// `{parameter}` filled by exactly one non-empty segment. URL parsing folds `.` and `..`
/// segments away, so a parameter with such a value would otherwise reach another resource.
fn check_path_shape(base_path: &str, template: &str, actual: &str) -> Result<(), String> {
    let Some(rest) = actual.strip_prefix(base_path) else {
        return Err("a path parameter changed the request's base path".into());
    };
    let mut expected = template.split('/');
    let mut got = rest.split('/');
    loop {
        match (expected.next(), got.next()) {
            (None, None) => return Ok(()),
            (Some(want), Some(have)) => {
                let is_parameter = want.starts_with('{') && want.ends_with('}');
                if is_parameter && have.is_empty() {
                    return Err(format!("path parameter {want} is empty"));
                }
                if !is_parameter && want != have {
                    return Err(
                        "a path parameter is `.` or `..`, which cannot be sent as one path segment"
                            .into(),
                    );
                }
            }
            _ => {
                return Err(
                    "a path parameter is empty, `.` or `..`, which cannot be sent as one path segment"
                        .into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_path_shape;

    /// The transport finds an operation by its id and fills its path from its parameters.
    #[test]
    fn operation_models_have_unique_ids_and_declare_every_path_parameter() {
        fn check<A: crate::config::Api>() {
            let mut ids: Vec<&str> = A::OPERATIONS.iter().map(|op| op.id).collect();
            ids.sort_unstable();
            assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
            for op in A::OPERATIONS {
                for part in op.path.split('/') {
                    if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                        assert!(
                            op.param(name, crate::model::Location::Path).is_some(),
                            "{}: {name}",
                            op.id
                        );
                    }
                }
            }
        }
        #[cfg(feature = "hockeystack")]
        check::<crate::hockeystack::HockeyStack>();
        #[cfg(feature = "hyperrep")]
        check::<crate::hyperrep::HyperRep>();
    }

    const T: &str = "/deals/{dealId}/conversations/{cid}";

    #[test]
    fn a_filled_template_passes() {
        assert!(check_path_shape("/v1", T, "/v1/deals/42/conversations/c%2F1").is_ok());
    }

    #[test]
    fn folded_dot_segments_are_caught() {
        // `..` as the conversation id: the URL parser removes it together with `conversations`.
        assert!(check_path_shape("/v1", T, "/v1/deals/42").is_err());
        // `.` as the deal id: the segment disappears.
        assert!(check_path_shape("/v1", T, "/v1/deals/conversations/c1").is_err());
    }

    #[test]
    fn empty_parameters_are_caught() {
        assert!(check_path_shape("/v1", T, "/v1/deals//conversations/c1").is_err());
    }

    #[test]
    fn a_changed_base_path_is_caught() {
        assert!(check_path_shape("/v1", T, "/deals/42/conversations/c1").is_err());
    }
}
