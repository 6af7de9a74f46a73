//! Faults a test scripts into the sandbox. Every request to an API passes through [`layer`]:
//! the first scripted rule that matches it and has uses left answers instead of the API (or,
//! for a stall, delays it; for a cut, breaks its body off). A refusal is worded by the
//! contract of the API the path belongs to, so this layer knows no vendor.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};

use super::{
    contract::{Apis, Problem},
    http::{detail, json},
};

/// What the sandbox answers with instead of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with `Retry-After` and the API's error body; the request does no work.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// A server failure with this status (500, 502, 503, 504, …) and the API's error body.
    ServerError {
        /// The status to answer with.
        status: u16,
    },
    /// The monthly credit cap (HockeyStack's): HTTP 503 with the API's credits-exhausted
    /// error.
    CreditsExhausted,
    /// Nothing for this long, then the real answer (longer than a client's read timeout, it
    /// is a silent server).
    Stall {
        /// How long to stay silent, in milliseconds.
        millis: u64,
    },
    /// The real answer, with its body broken off after this many bytes and the connection
    /// closed: a cut page or a cut streamed reply.
    CutBody {
        /// How many bytes of the body are sent.
        after_bytes: usize,
    },
    /// The HockeyStack agent provisioning run this request starts (`PUT …/agent`) ends in
    /// `provisioning_failed`, whatever the id; the request itself is answered as usual.
    ProvisioningFailed,
    /// This status and JSON body instead of the API's answer: for answers the sandbox's own
    /// world never produces, such as a value newly added to an open set or a documented null.
    Respond {
        /// The status to answer with.
        status: u16,
        /// The JSON body to send.
        body: serde_json::Value,
    },
}

/// A scripted fault: which requests it applies to and how many times. A rule posted with a
/// member it does not know (`pathPrefix` for `path_prefix`, say) is refused rather than
/// applied to every request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// Only requests with this method (`GET`, `POST`, …); any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this (for example
    /// `/api/revenue-agents/v1/deals/9001234567`), as sent or percent-decoded, so an id can be
    /// written as it is; any path when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// How many requests it answers before it is used up; every matching request when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule for every request, until cleared; narrow it with the other methods.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            method: None,
            path_prefix: None,
            times: None,
        }
    }

    /// Only for the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Only for requests with this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Only for requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Why the rule could never do what it says, if it could not: a server error that is no
    /// 5xx, an answer with no HTTP status, a waiting time past an hour, `times: 0`, a method
    /// HTTP does not have, a path that does not start with `/`. The controls refuse such a rule
    /// (HTTP 400) instead of keeping one that never fires or answers 200 with an error.
    pub(crate) fn problem(&self) -> Option<String> {
        const HOUR_MS: u64 = 3_600_000;
        const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        match &self.fault {
            Fault::ServerError { status } if !(500..=599).contains(status) => {
                return Some(format!(
                    "a server_error's status is 500 to 599, not {status}"
                ));
            }
            Fault::Respond { status, .. } if !(200..=599).contains(status) => {
                return Some(format!("a respond's status is 200 to 599, not {status}"));
            }
            Fault::Stall { millis } if *millis > HOUR_MS => {
                return Some(format!("a stall lasts at most {HOUR_MS} ms, not {millis}"));
            }
            Fault::RateLimited { retry_after_secs } if *retry_after_secs > 86_400 => {
                return Some(format!(
                    "a rate_limited's retry_after_secs is at most 86400, not {retry_after_secs}"
                ));
            }
            _ => {}
        }
        if self.times == Some(0) {
            return Some("times is at least 1 (leave it out for every request)".into());
        }
        if let Some(method) = &self.method
            && !METHODS.contains(&method.to_ascii_uppercase().as_str())
        {
            return Some(format!(
                "method is one of {}, not {method:?}",
                METHODS.join(", ")
            ));
        }
        if let Some(prefix) = &self.path_prefix
            && !prefix.starts_with('/')
        {
            return Some(format!("path_prefix starts with /, not {prefix:?}"));
        }
        None
    }

    fn matches(&self, method: &str, path: &str, decoded_path: &str) -> bool {
        self.times != Some(0)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p) || decoded_path.starts_with(p))
    }
}

/// The scripted faults of one sandbox, and the APIs whose envelopes they answer in.
pub(crate) struct Script {
    rules: Mutex<Vec<FaultRule>>,
    apis: Apis,
}

impl Script {
    pub(crate) fn new(apis: Apis) -> Self {
        Self {
            rules: Mutex::default(),
            apis,
        }
    }

    pub(crate) fn inject(&self, rule: FaultRule) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.push(rule);
        }
    }

    /// The rules in force, with the turns each has left.
    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules
            .lock()
            .map(|rules| {
                rules
                    .iter()
                    .filter(|r| r.times != Some(0))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
        }
    }

    /// The fault for a request, using up one of its rule's turns.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let mut rules = self.rules.lock().ok()?;
        let rule = rules
            .iter_mut()
            .find(|r| r.matches(method, path, &decoded))?;
        if let Some(times) = &mut rule.times {
            *times -= 1;
        }
        Some(rule.fault.clone())
    }

    /// A refusal in the envelope of the API `path` belongs to.
    fn refuse(&self, path: &str, status: StatusCode, problem: Problem, message: &str) -> Response {
        match self.apis.owner(path) {
            Some(contract) => contract.refuse(status, problem, message),
            None => detail(status, message),
        }
    }
}

/// The fault layer: answers with a scripted fault or passes the request on. The fault that
/// answered goes with the response, for the request log.
pub(crate) async fn layer(
    State(script): State<Arc<Script>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let Some(fault) = script.take(request.method().as_str(), &path) else {
        return next.run(request).await;
    };
    let mut response = answer(&script, &path, fault.clone(), request, next).await;
    response.extensions_mut().insert(fault);
    response
}

async fn answer(
    script: &Script,
    path: &str,
    fault: Fault,
    request: Request,
    next: Next,
) -> Response {
    match fault {
        Fault::RateLimited { retry_after_secs } => {
            let mut response = script.refuse(
                path,
                StatusCode::TOO_MANY_REQUESTS,
                Problem::RateLimited,
                "Rate limit exceeded.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Fault::ServerError { status } => script.refuse(
            path,
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Problem::ServerError,
            "The sandbox was told to fail.",
        ),
        Fault::CreditsExhausted => script.refuse(
            path,
            StatusCode::SERVICE_UNAVAILABLE,
            Problem::CreditsExhausted,
            "The monthly credit limit has been reached.",
        ),
        Fault::Respond { status, body } => json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
        ),
        Fault::ProvisioningFailed => {
            let mut request = request;
            request.extensions_mut().insert(FailProvisioning);
            next.run(request).await
        }
        Fault::Stall { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        Fault::CutBody { after_bytes } => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            // Streamed bodies end in their own time; this waits for the whole answer.
            let whole = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let kept = whole.slice(..after_bytes.min(whole.len()));
            parts.headers.remove(header::CONTENT_LENGTH);
            // The kept part goes out first; only then does the body fail, which makes the
            // server drop the connection mid-answer (failing at once could drop it before
            // the head is written, which a client sees as a refused request instead).
            use futures_util::StreamExt;
            let kept = futures_util::stream::iter([Ok::<_, std::io::Error>(kept)]);
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the sandbox was told to cut this body",
                ))
            });
            Response::from_parts(parts, Body::from_stream(kept.chain(cut)))
        }
    }
}

/// Marks a request whose provisioning run must fail ([`Fault::ProvisioningFailed`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailProvisioning;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_method_and_prefix_and_run_out() {
        let script = Script::new(Apis::default());
        script.inject(
            FaultRule::new(Fault::ServerError { status: 502 })
                .method("get")
                .path_prefix("/api/v2/organizations")
                .times(2),
        );
        assert_eq!(script.take("POST", "/api/v2/organizations"), None);
        assert_eq!(script.take("GET", "/api/revenue-agents/v1/me"), None);
        for _ in 0..2 {
            assert_eq!(
                script.take("GET", "/api/v2/organizations/x/sales"),
                Some(Fault::ServerError { status: 502 })
            );
        }
        assert_eq!(script.take("GET", "/api/v2/organizations"), None);
    }

    #[test]
    fn rules_read_from_json_as_the_control_route_takes_them() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"fault": {"kind": "rate_limited", "retry_after_secs": 2}, "times": 1}"#,
        )
        .unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::RateLimited {
                retry_after_secs: 2
            })
            .times(1)
        );
        // A misspelt member would otherwise leave the rule matching every request.
        let misspelt = serde_json::from_str::<FaultRule>(
            r#"{"fault": {"kind": "cut_body", "after_bytes": 5}, "pathPrefix": "/x"}"#,
        );
        assert!(misspelt.unwrap_err().to_string().contains("pathPrefix"));
    }

    #[test]
    fn a_rule_that_could_never_act_as_it_says_is_named() {
        let problem = |json: &str| serde_json::from_str::<FaultRule>(json).unwrap().problem();
        for (json, says) in [
            (
                r#"{"fault": {"kind": "server_error", "status": 200}}"#,
                "500 to 599",
            ),
            (
                r#"{"fault": {"kind": "respond", "status": 999, "body": {}}}"#,
                "200 to 599",
            ),
            (
                r#"{"fault": {"kind": "stall", "millis": 99999999999}}"#,
                "at most",
            ),
            (
                r#"{"fault": {"kind": "credits_exhausted"}, "times": 0}"#,
                "at least 1",
            ),
            (
                r#"{"fault": {"kind": "credits_exhausted"}, "method": "FROB"}"#,
                "GET",
            ),
            (
                r#"{"fault": {"kind": "credits_exhausted"}, "path_prefix": "api"}"#,
                "starts with /",
            ),
        ] {
            let found = problem(json);
            assert!(
                found.as_deref().is_some_and(|p| p.contains(says)),
                "{json}: {found:?}"
            );
        }
        assert_eq!(
            problem(
                r#"{"fault": {"kind": "server_error", "status": 503}, "method": "get", "times": 2}"#
            ),
            None
        );
        // A method written in lower case matches as the builder's upper case does.
        let script = Script::new(Apis::default());
        script.inject(
            serde_json::from_str(
                r#"{"fault": {"kind": "credits_exhausted"}, "method": "get", "times": 1}"#,
            )
            .unwrap(),
        );
        assert_eq!(script.rules().len(), 1);
        assert_eq!(script.take("GET", "/x"), Some(Fault::CreditsExhausted));
        assert!(
            script.rules().is_empty(),
            "a rule used up is no longer in force"
        );
    }
}
