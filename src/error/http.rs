//! How HTTP answers and connection failures become an [`Error`]: the status decides the kind,
//! the API's envelope is read when the body is one, and whatever a server sends back is
//! shortened and made printable before it is kept.

use reqwest::header::HeaderMap;

use super::{ApiErrorBody, Error, ErrorKind, TransportCause, snippet};

impl TransportCause {
    /// Classifies a reqwest failure by walking its chain of causes.
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        let mut tls = false;
        let mut reset = false;
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as K;
                reset |= matches!(
                    io.kind(),
                    K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
                );
            }
            let text = e.to_string().to_ascii_lowercase();
            tls |= text.contains("tls") || text.contains("certificate");
            reset |= text.contains("incomplete") || text.contains("closed before");
            source = e.source();
        }
        if error.is_timeout() {
            if error.is_connect() {
                TransportCause::ConnectTimeout
            } else {
                TransportCause::ReadTimeout
            }
        } else if error.is_connect() && tls {
            TransportCause::Tls
        } else if error.is_connect() {
            TransportCause::Connect
        } else if reset || error.is_body() || error.is_decode() {
            TransportCause::Reset
        } else {
            TransportCause::Other
        }
    }
}

impl Error {
    /// An error for an HTTP answer with a non-success status.
    pub(crate) fn from_status(
        api: &'static str,
        status: u16,
        headers: &HeaderMap,
        body: Option<ApiErrorBody>,
        credits_on_503: bool,
    ) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            400 => ErrorKind::BadRequest,
            422 => ErrorKind::Validation,
            429 => ErrorKind::RateLimited {
                retry_after: crate::headers::retry_after(headers),
            },
            503 if credits_on_503 => ErrorKind::CreditsExhausted,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedStatus,
        };
        let mut error = Error::new(kind)
            .with_api(api)
            .with_status(status)
            .with_request_id(headers);
        error.inner.body = body;
        error
    }

    /// An error for a body that could not be decoded; `body` is already scrubbed of secrets.
    pub(crate) fn decode(
        api: &'static str,
        status: Option<u16>,
        body: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let mut error = Error::new(ErrorKind::Decode {
            snippet: snippet(body),
        })
        .with_api(api)
        .with_source(source);
        error.inner.status = status;
        error
    }

    /// An error for a failed connection or a timeout.
    pub(crate) fn transport(api: &'static str, source: reqwest::Error) -> Self {
        // reqwest's messages can contain the URL; ours never carry credentials in it.
        let status = source.status().map(|s| s.as_u16());
        let cause = TransportCause::of(&source);
        // The server's origin only: a path or query could carry a caller's data, never a
        // credential, but the origin is what says which server could not be reached.
        let endpoint = source
            .url()
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        let mut error = Error::new(ErrorKind::Transport { cause })
            .with_api(api)
            .with_source(source);
        error.inner.status = status;
        error.inner.endpoint = endpoint;
        error
    }

    /// An error for a redirect, naming its target without a query or user info (either may
    /// carry secrets).
    pub(crate) fn redirected(api: &'static str, status: u16, headers: &HeaderMap) -> Self {
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|raw| match reqwest::Url::parse(raw) {
                Ok(mut url) => {
                    url.set_query(None);
                    url.set_fragment(None);
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                    url.to_string()
                }
                // A relative target: keep its path only.
                Err(_) => raw.split(['?', '#']).next().unwrap_or_default().to_owned(),
            })
            .map(|l| snippet(&l));
        Error::new(ErrorKind::Redirected { location })
            .with_api(api)
            .with_status(status)
            .with_request_id(headers)
    }

    pub(crate) fn with_request_id(mut self, headers: &HeaderMap) -> Self {
        self.inner.request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(snippet);
        self
    }

    /// Keeps the start of a body that was not the API's error envelope (a proxy's HTML page,
    /// plain text), already scrubbed of secrets.
    pub(crate) fn with_snippet(mut self, body: &str) -> Self {
        self.inner.snippet = Some(snippet(body));
        self
    }
}

/// How an API's typed error envelope reads, so that one conversion serves both APIs.
pub(crate) trait ApiError {
    /// The envelope in the crate's terms.
    fn body(&self) -> ApiErrorBody;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let h = HeaderMap::new();
        let kind = |status, credits| {
            Error::from_status("X", status, &h, None, credits)
                .kind()
                .clone()
        };
        assert_eq!(kind(401, false), ErrorKind::Unauthorized);
        assert_eq!(kind(403, false), ErrorKind::Unauthorized);
        assert_eq!(kind(404, false), ErrorKind::NotFound);
        assert_eq!(kind(409, false), ErrorKind::Conflict);
        assert_eq!(kind(422, false), ErrorKind::Validation);
        assert_eq!(kind(503, true), ErrorKind::CreditsExhausted);
        assert_eq!(kind(503, false), ErrorKind::Server);
        assert_eq!(kind(418, false), ErrorKind::UnexpectedStatus);
        assert_eq!(
            kind(429, false),
            ErrorKind::RateLimited { retry_after: None }
        );
    }

    #[test]
    fn display_carries_status_message_request_id_and_cursor() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", "req-7".parse().unwrap());
        h.insert("retry-after", "23".parse().unwrap());
        let body = ApiErrorBody {
            code: Some("rate_limit.exceeded".into()),
            message: "Rate limit exceeded.".into(),
            ..Default::default()
        };
        let e = Error::from_status("HockeyStack", 429, &h, Some(body), true)
            .with_resume_cursor(Some("c9".into()));
        let text = e.to_string();
        for part in [
            "HockeyStack",
            "23 s",
            "HTTP 429",
            "Rate limit exceeded.",
            "req-7",
            "\"c9\"",
        ] {
            assert!(text.contains(part), "{text:?} lacks {part:?}");
        }
        assert_eq!(e.retry_after(), Some(Duration::from_secs(23)));
        assert!(e.is_transient());
    }
}
