//! How a command fails: an exit code by kind of failure, and the failure on standard error in
//! words or, with `--json-errors`, as one JSON object.

use std::{io::Write, process::ExitCode};

use serde_json::{Value, json};

use crate::{
    error::{Error, ErrorKind, TransportCause},
    invoke::{Service, describe::describe},
};

/// The exit codes, as `--help` and README list them.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0   success (also when the reader of standard output closed it early, as `head` does)
  1   the --jq filter failed on an answer, or an unexpected failure (standard output could
      not be written, say)
  2   usage: an unknown command or flag, a value the spec does not allow, a deletion not
      confirmed; nothing sent
  3   configuration: no credential, or an unusable setting or base URL
  4   the API refused the credential (401, 403)
  5   not found (404)
  6   the API refused the request (400, 409, 422)
  7   rate limit, rate budget or credits exhausted: try again later
  8   the API failed or answered in a way the spec does not allow (5xx, bad JSON)
  9   the network: no connection, a timeout, a stream cut short
  10  a wait ended without success: a job failed or expired, provisioning failed, a wait timed out
  130 interrupted (Ctrl-C)";

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line or its input is wrong; nothing was sent.
    Usage {
        message: String,
        problems: Vec<String>,
    },
    /// The call failed.
    Api(Error),
    /// Standard output could not be written (other than a closed pipe).
    Output(std::io::Error),
    /// The `--jq` filter failed on an answer (the call itself was made).
    Filter(String),
    /// Ctrl-C.
    Interrupted,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>, problems: Vec<String>) -> Self {
        Failure::Usage {
            message: message.into(),
            problems,
        }
    }

    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Usage { .. } => 2,
            Failure::Output(_) | Failure::Filter(_) => 1,
            Failure::Interrupted => 130,
            Failure::Api(error) => match error.kind() {
                ErrorKind::InvalidRequest { .. } => 2,
                ErrorKind::MissingCredentials { .. }
                | ErrorKind::InvalidCredentials { .. }
                | ErrorKind::InvalidSetting { .. }
                | ErrorKind::InvalidBaseUrl { .. } => 3,
                ErrorKind::Unauthorized => 4,
                ErrorKind::NotFound => 5,
                ErrorKind::BadRequest | ErrorKind::Conflict | ErrorKind::Validation => 6,
                ErrorKind::RateLimited { .. }
                | ErrorKind::CreditsExhausted
                | ErrorKind::RateBudgetExhausted { .. }
                | ErrorKind::RateBudgetUnavailable { .. } => 7,
                ErrorKind::Server
                | ErrorKind::UnexpectedStatus
                | ErrorKind::Redirected { .. }
                | ErrorKind::InvalidResponse { .. }
                | ErrorKind::Decode { .. }
                | ErrorKind::ResponseTooLarge { .. }
                | ErrorKind::RepeatedCursor { .. }
                | ErrorKind::MissingCursor => 8,
                ErrorKind::Transport { .. }
                | ErrorKind::StreamInterrupted { .. }
                | ErrorKind::DeadlineExceeded { .. } => 9,
                ErrorKind::JobFailed { .. }
                | ErrorKind::JobExpired { .. }
                | ErrorKind::ProvisioningFailed { .. }
                | ErrorKind::WaitTimedOut { .. } => 10,
                _ => 1,
            },
        }
    }

    /// The failure as JSON: `{"error": {kind, message, exit_code, ...}}`.
    fn to_json(&self) -> Value {
        let mut members = match self {
            Failure::Api(error) => describe(error),
            Failure::Usage { message, problems } => {
                let mut members = serde_json::Map::new();
                members.insert("kind".into(), json!("usage"));
                members.insert("message".into(), json!(message));
                if !problems.is_empty() {
                    members.insert("problems".into(), json!(problems));
                }
                members
            }
            Failure::Output(error) => {
                let mut members = serde_json::Map::new();
                members.insert("kind".into(), json!("output"));
                members.insert(
                    "message".into(),
                    json!(format!("cannot write standard output: {error}")),
                );
                members
            }
            Failure::Filter(message) => {
                let mut members = serde_json::Map::new();
                members.insert("kind".into(), json!("filter"));
                members.insert("message".into(), json!(message));
                members
            }
            Failure::Interrupted => {
                let mut members = serde_json::Map::new();
                members.insert("kind".into(), json!("interrupted"));
                members.insert(
                    "message".into(),
                    json!("interrupted; a request already sent may have taken effect"),
                );
                members
            }
        };
        members.insert("exit_code".into(), json!(self.code()));
        json!({ "error": members })
    }

    /// The failure in words, with what to do next where the error says.
    fn to_text(&self) -> String {
        match self {
            Failure::Usage { message, problems } => {
                let mut text = format!("error: {message}");
                for problem in problems {
                    text.push_str(&format!("\n  {problem}"));
                }
                text
            }
            Failure::Output(error) => format!("error: cannot write standard output: {error}"),
            Failure::Filter(message) => format!("error: {message}"),
            Failure::Interrupted => {
                "interrupted; a request already sent may have taken effect".to_owned()
            }
            Failure::Api(error) => {
                let mut text = match error.kind() {
                    // The library's wording names its client builder; the tool's ways to give
                    // a credential are these.
                    ErrorKind::MissingCredentials { api, variable } => {
                        let prefix = if *api == "HyperRep" {
                            "hyperrep_key"
                        } else {
                            "hockeystack_token"
                        };
                        format!(
                            "error: no {api} credential: set {variable}, or give the profile in use \
                             {prefix}_env or {prefix}_file (see --profile)"
                        )
                    }
                    _ => format!("error: {error}"),
                };
                if let Some(body) = error.api_error() {
                    for problem in &body.problems {
                        text.push_str(&format!("\n  {}: {}", problem.location, problem.message));
                    }
                }
                if let Some(wait) = error.retry_after() {
                    text.push_str(&format!("\n  try again in {} s", wait.as_secs_f64().ceil()));
                }
                if let Some(cursor) = error.resume_cursor() {
                    text.push_str(&format!(
                        "\n  the items after the last one printed start at cursor {cursor}"
                    ));
                }
                if let Some(id) = error.request_id() {
                    text.push_str(&format!("\n  request id: {id}"));
                }
                if matches!(error.kind(), ErrorKind::MissingCredentials { .. }) {
                    text.push_str("\n  or pass --sandbox to run against the built-in sandbox");
                }
                if let Some(step) = next_step(error) {
                    text.push_str(&format!("\n  {step}"));
                }
                text
            }
        }
    }

    /// Writes the failure to standard error and returns the exit code. A closed standard
    /// error is no reason to panic.
    pub(crate) fn report(&self, json: bool) -> ExitCode {
        let text = if json {
            self.to_json().to_string()
        } else {
            self.to_text()
        };
        let _ = writeln!(std::io::stderr().lock(), "{text}");
        ExitCode::from(self.code())
    }
}

/// What to do about a failure whose message alone leaves a person guessing.
fn next_step(error: &Error) -> Option<String> {
    let service = match error.api_name() {
        Some("HyperRep") => Service::HyperRep,
        _ => Service::HockeyStack,
    };
    match error.kind() {
        ErrorKind::Transport {
            cause: TransportCause::Connect,
        } => Some(format!(
            "is a server listening there? For a local sandbox, run revenue-agents-sandbox and \
             point {} at it, or add --sandbox to this command",
            service.base_url_variable()
        )),
        // A 404 that is not the API's own error: nothing of the API answered at that path.
        ErrorKind::NotFound if error.api_error().is_none() => Some(format!(
            "no {} answered at that path: does {} end with the API's own path ({})?",
            error.api_name().unwrap_or("API"),
            service.base_url_variable(),
            service.base_path()
        )),
        // Refused in words that are not the API's own: another service answered, most often
        // the other API's, its base URL given where this one's belongs.
        ErrorKind::Unauthorized
            if error.api_error().is_none() && error.body_snippet().is_some() =>
        {
            Some(format!(
                "the refusal is not in {}'s own words: does {} point at {} (the service's is {})?",
                error.api_name().unwrap_or("the API"),
                service.base_url_variable(),
                error.api_name().unwrap_or("the API"),
                service.default_base_url()
            ))
        }
        _ => None,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_listed_in_the_help() {
        let kinds = [
            Failure::usage("x", Vec::new()),
            Failure::Api(Error::new(ErrorKind::NotFound)),
            Failure::Api(Error::new(ErrorKind::Unauthorized)),
            Failure::Api(Error::new(ErrorKind::Server)),
            Failure::Interrupted,
            Failure::Output(std::io::Error::other("x")),
            Failure::Filter("x".into()),
        ];
        for failure in kinds {
            let code = failure.code();
            assert!(
                EXIT_CODES
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "{code} is not listed"
            );
        }
    }
}
