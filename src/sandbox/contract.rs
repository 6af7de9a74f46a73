//! What one API's answers look like from outside, apart from its data: where it lives, how a
//! caller proves who they are, how it words a refusal. Each API of the sandbox writes its
//! contract once; the routing, the credential and rate-limit layers, the shared request
//! helpers and the fault layer all speak through it, so none of them names a vendor.

use axum::{
    http::{HeaderMap, HeaderName, StatusCode},
    response::Response,
};

use crate::model::Operation;

/// Why a request is refused, in terms every API has; each contract words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// No credential, or one the sandbox does not accept.
    Unauthorized,
    /// A request that cannot be carried out as written (a bad cursor, a rule of the API).
    BadRequest,
    /// The path names nothing.
    NotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// The record is not in a state that allows the request; the code says which conflict.
    Conflict(&'static str),
    /// A rate-limit pool is empty.
    RateLimited,
    /// The server failed.
    ServerError,
    /// The workspace's credits are spent.
    CreditsExhausted,
}

/// Where a refused value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Query,
    Body,
}

impl Place {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Place::Query => "query",
            Place::Body => "body",
        }
    }
}

/// What is wrong with a value, for the API's own wording of a validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// Required and absent.
    Missing,
    /// Not a JSON object (the whole body, or a member).
    NotObject,
    /// Not a string.
    NotString,
    /// A string outside these lengths, in characters.
    Length {
        min: usize,
        max: usize,
    },
    /// Not `true` or `false`.
    NotBool,
    /// Not a list.
    NotList,
    /// Not an email address.
    NotEmail,
    /// Not a date or date-time in any form the services take.
    NotDateTime,
    /// Not a whole number in `min..=max`, or out of it.
    NotInteger {
        min: i64,
        max: i64,
    },
    Below {
        min: i64,
        max: i64,
    },
    Above {
        min: i64,
        max: i64,
    },
    /// None of these values.
    NotOneOf(&'static [&'static str]),
}

impl Flaw {
    /// The flaw as the end of a sentence about `name`: "`limit` must be …".
    pub(crate) fn sentence(&self, name: &str) -> String {
        let must = match self {
            Flaw::Missing => return format!("`{name}` is required."),
            Flaw::NotObject => "be an object".to_owned(),
            Flaw::NotString => "be a string".to_owned(),
            Flaw::Length { min: 0, max } => format!("be a string of at most {max} characters"),
            Flaw::Length { min, max } => format!("be {min} to {max} characters"),
            Flaw::NotBool => "be true or false".to_owned(),
            Flaw::NotList => "be a list".to_owned(),
            Flaw::NotEmail => "be an email address".to_owned(),
            Flaw::NotDateTime => "be a date or an RFC 3339 date-time".to_owned(),
            Flaw::NotInteger { min, max } | Flaw::Below { min, max } | Flaw::Above { min, max } => {
                format!("be an integer from {min} to {max}")
            }
            Flaw::NotOneOf(values) => match values {
                [] => "be empty".to_owned(),
                [one] => format!("be {one}"),
                [init @ .., last] => format!("be {} or {last}", init.join(", ")),
            },
        };
        format!("`{name}` must {must}.")
    }
}

/// How a rate-limit pool stood after a request.
pub(crate) struct RatePool {
    pub(crate) name: &'static str,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// The Unix time at which the pool has a slot again.
    pub(crate) reset: i64,
}

/// One API's contract.
pub(crate) trait Contract: Send + Sync + 'static {
    /// Its operation model: the routes the sandbox answers, and the page bounds it checks.
    fn operations(&self) -> &'static [Operation];

    /// The path of the API under the host (`/api/revenue-agents/v1`), from its default base
    /// URL; the operations' path templates are below it.
    fn base_path(&self) -> &'static str;

    /// The header a caller's credential travels in.
    fn credential_header(&self) -> HeaderName;

    /// The credential a request carries, if the API accepts it; the refusal otherwise.
    fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response>;

    /// A refusal in the API's error envelope.
    fn refuse(&self, status: StatusCode, problem: Problem, message: &str) -> Response;

    /// A refused parameter or body value, as the API reports a validation error.
    fn invalid(&self, place: Place, name: &str, flaw: Flaw) -> Response;

    /// Checks the path parameters every operation shares (an organization id, say).
    fn check_path(&self, _params: &[(&'static str, String)]) -> Result<(), Response> {
        Ok(())
    }

    /// Says how a rate-limit pool stands, in the API's headers, on an answer that passed
    /// through it: its size, what is left, and the Unix time at which it has a slot again.
    fn rate_headers(&self, _headers: &mut HeaderMap, _pool: &RatePool) {}

    /// The part of the URL space the API owns: its base path and what every one of its path
    /// templates starts with (`/api/v2/organizations` for HyperRep).
    fn scope(&self) -> String {
        let templates: Vec<Vec<&str>> = self
            .operations()
            .iter()
            .map(|op| op.path.split('/').filter(|s| !s.is_empty()).collect())
            .collect();
        let mut common: Vec<&str> = templates.first().cloned().unwrap_or_default();
        for template in &templates {
            let same = common
                .iter()
                .zip(template)
                .take_while(|(a, b)| a == b && !a.starts_with('{'))
                .count();
            common.truncate(same);
        }
        let mut scope = self.base_path().trim_end_matches('/').to_owned();
        for segment in common {
            scope.push('/');
            scope.push_str(segment);
        }
        scope
    }
}

/// The sandbox's APIs, each with the part of the URL space it owns (worked out once).
#[derive(Clone, Default)]
pub(crate) struct Apis {
    apis: Vec<(String, std::sync::Arc<dyn Contract>)>,
}

impl Apis {
    pub(crate) fn add(&mut self, contract: std::sync::Arc<dyn Contract>) {
        self.apis.push((contract.scope(), contract));
    }

    /// The API a request path belongs to.
    pub(crate) fn owner(&self, path: &str) -> Option<&dyn Contract> {
        self.apis.iter().find_map(|(scope, contract)| {
            path.strip_prefix(scope.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                .then_some(&**contract)
        })
    }

    /// Whether a request carries a credential header of any of the APIs.
    pub(crate) fn carries_credential(&self, headers: &HeaderMap) -> bool {
        self.apis
            .iter()
            .any(|(_, contract)| headers.contains_key(contract.credential_header()))
    }
}

/// The path of an API under its host, from its default base URL (`/api/revenue-agents/v1`).
pub(crate) fn base_path(default_url: &str) -> String {
    reqwest::Url::parse(default_url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}
