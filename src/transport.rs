//! What every request goes through: header hygiene, the credential check and the path-shape
//! check before it leaves; retries and rate-limit bookkeeping around it. Shared by both
//! generated clients through their `ClientHooks` impls, and by the hand-written calls.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::header::HeaderMap;

use crate::{
    config::Api,
    retry::{self, ApiRules, RetryPolicy},
};

/// Per-client state the generated code carries and the hooks read. Holds no credential: that
/// lives in the HTTP client's default headers, marked sensitive.
#[derive(Clone, Debug)]
pub struct Inner {
    pub(crate) api: &'static str,
    credential_variable: &'static str,
    has_credential: bool,
    base_path: String,
    operations: &'static [(&'static str, &'static str, &'static str)],
    public_operations: &'static [&'static str],
    pub(crate) retry: RetryPolicy,
    pub(crate) rules: ApiRules,
    rate_limit: Arc<Mutex<Option<RateLimit>>>,
}

impl Inner {
    pub(crate) fn new<A: Api>(base_url: &str, has_credential: bool, retry: RetryPolicy) -> Self {
        let base_path = reqwest::Url::parse(base_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            api: A::NAME,
            credential_variable: A::CREDENTIAL_VARIABLE,
            has_credential,
            base_path,
            operations: A::OPERATIONS,
            public_operations: A::PUBLIC_OPERATIONS,
            retry,
            rules: ApiRules {
                credits_on_503: A::CREDITS_ON_503,
            },
            rate_limit: Arc::default(),
        }
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
}

/// The rate-limit state a response reported (HockeyStack sends it on every authenticated
/// response). Read it with `client.rate_limit()` to slow down before a 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// The pool charged (`read` or `write`), as sent.
    pub pool: Option<String>,
    /// The pool's maximum per window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// Unix time (seconds) at which the pool refills.
    pub reset: Option<u64>,
}

impl RateLimit {
    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let limit = Self {
            pool: text("x-ratelimit-pool").map(str::to_owned),
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
        };
        (limit
            != Self {
                pool: None,
                limit: None,
                remaining: None,
                reset: None,
            })
        .then_some(limit)
    }
}

/// The delay a `Retry-After` header asks for: whole or fractional seconds, or an HTTP date.
/// Unreadable or negative values count as absent.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(1e9)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delay = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delay.to_std().unwrap_or(Duration::ZERO))
}

/// Sends a request with the client's retry policy, recording rate-limit headers. A request
/// whose body cannot be replayed is sent once.
pub(crate) async fn execute(
    inner: &Inner,
    http: &reqwest::Client,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let method = request.method().clone();
    if request.try_clone().is_none() {
        let response = http.execute(request).await?;
        inner.observe(&response);
        return Ok(response);
    }
    retry::send_with_retries(
        &inner.retry,
        inner.rules,
        &method,
        || http.execute(request.try_clone().expect("checked above")),
        |response| inner.observe(response),
    )
    .await
}

/// Runs before every generated request. The returned message becomes
/// `progenitor_client::Error::InvalidRequest`, and nothing is sent.
pub(crate) fn prepare(
    inner: &Inner,
    request: &mut reqwest::Request,
    operation_id: &str,
) -> Result<(), String> {
    // progenitor adds the spec's version as a header that neither API asked for.
    request.headers_mut().remove("api-version");

    if !inner.has_credential && !inner.public_operations.contains(&operation_id) {
        return Err(format!(
            "{operation_id} needs a {} credential: set {} or pass one to the client builder",
            inner.api, inner.credential_variable
        ));
    }

    let Some((_, _, template)) = inner
        .operations
        .iter()
        .find(|(id, _, _)| *id == operation_id)
    else {
        return Err(format!("unknown operation {operation_id}"));
    };
    check_path_shape(&inner.base_path, template, request.url().path())
        .map_err(|problem| format!("{operation_id}: {problem}"))
}

/// Checks that the request path is the base path followed by the template, with every
/// `{parameter}` filled by exactly one non-empty segment. URL parsing folds `.` and `..`
/// segments away, so a parameter with such a value would otherwise reach another resource.
fn check_path_shape(base_path: &str, template: &str, actual: &str) -> Result<(), String> {
    let Some(rest) = actual.strip_prefix(base_path) else {
        return Err("a path parameter changed the request's base path".into());
    };
    let expected: Vec<&str> = template.split('/').collect();
    let got: Vec<&str> = rest.split('/').collect();
    if expected.len() != got.len() {
        return Err(
            "a path parameter is empty, `.` or `..`, which cannot be sent as one path segment"
                .into(),
        );
    }
    for (want, have) in expected.iter().zip(&got) {
        let is_parameter = want.starts_with('{') && want.ends_with('}');
        if is_parameter && have.is_empty() {
            return Err(format!("path parameter {want} is empty"));
        }
        if !is_parameter && want != have {
            return Err(
                "a path parameter is `.` or `..`, which cannot be sent as one path segment".into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{RateLimit, check_path_shape, retry_after};
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> reqwest::header::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_garbage() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "23")])),
            Some(Duration::from_secs(23))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-4")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
        let past = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", past)])),
            Some(Duration::ZERO)
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let d = retry_after(&headers(&[("retry-after", &later)])).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
    }

    #[test]
    fn rate_limit_headers_are_read_when_present() {
        let h = headers(&[
            ("x-ratelimit-pool", "write"),
            ("x-ratelimit-limit", "60"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1747920000"),
        ]);
        let limit = RateLimit::from_headers(&h).unwrap();
        assert_eq!(limit.pool.as_deref(), Some("write"));
        assert_eq!(
            (limit.limit, limit.remaining, limit.reset),
            (Some(60), Some(0), Some(1747920000))
        );
        assert_eq!(
            RateLimit::from_headers(&headers(&[("x-ratelimit-limit", "many")])),
            None
        );
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
