//! What the APIs say about pacing in their response headers: `Retry-After` and HockeyStack's
//! `X-RateLimit-*`. Read by the retry rules, the error mapping and the transport alike.

use std::time::Duration;

use reqwest::header::HeaderMap;

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
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        use reqwest::header::HeaderName;
        // Named once: looking a header up by `&str` parses and hashes the name on every call.
        static POOL: HeaderName = HeaderName::from_static("x-ratelimit-pool");
        static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
        let text = |name: &HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &HeaderName| text(name).and_then(|v| v.parse::<u64>().ok());
        let limit = Self {
            pool: text(&POOL).map(str::to_owned),
            limit: number(&LIMIT),
            remaining: number(&REMAINING),
            reset: number(&RESET),
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

#[cfg(test)]
mod tests {
    use super::{RateLimit, retry_after};
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
}
