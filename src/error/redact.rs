//! Keeps credentials out of errors. Every error that leaves a client passes through
//! [`Error::redact`], which walks every piece of text the error holds, whatever part of an
//! answer it came from: the kind's fields, the request id, the API's envelope, the body
//! snippet, the resume cursor, and the source chain.

use std::fmt;

#[cfg(feature = "hockeystack")]
use super::{AgentRef, JobRef, WaitSubject};
use super::{ApiErrorBody, Error, ErrorKind};

/// What stands in for a credential.
const MARK: &str = "<redacted>";

/// The shortest credential that is looked for: blanking out shorter strings would blank out
/// ordinary words, and no credential of either API is that short.
const SHORTEST_SECRET: usize = 4;

/// How many characters of a credential's start a cut text may keep before the cut counts as
/// the start of the credential (a cut after `hsr` keeps only the public token prefix).
const CUT_PREFIX: usize = 4;

/// `text` with every copy of `secret` blanked out, and with a credential that a cut (marked by
/// a final `…`, as snippets are) left half-written blanked out too. `None` when nothing changed.
pub(crate) fn redact_text(text: &str, secret: &str) -> Option<String> {
    if secret.len() < SHORTEST_SECRET {
        return None;
    }
    let mut out = None::<String>;
    // Snippets show control and non-ASCII characters escaped; a credential with such
    // characters (or quotes) is looked for in that form too.
    let escaped: String = secret.escape_default().collect();
    for form in [secret, escaped.as_str()] {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(form) {
            out = Some(current.replace(form, MARK));
        }
    }
    let current = out.as_deref().unwrap_or(text);
    if let Some(body) = current.strip_suffix('…') {
        // The longest start of the credential that the cut text ends with.
        let cut = (CUT_PREFIX..secret.len())
            .rev()
            .filter(|&n| secret.is_char_boundary(n))
            .find(|&n| body.ends_with(&secret[..n]));
        if let Some(n) = cut {
            out = Some(format!("{}{MARK}…", &body[..body.len() - n]));
        }
    }
    out
}

fn redact_in_place(text: &mut String, secret: &str) {
    if let Some(clean) = redact_text(text, secret) {
        *text = clean;
    }
}

#[cfg(feature = "hockeystack")]
fn redact_agent(agent: &mut AgentRef, secret: &str) {
    match agent {
        AgentRef::Deal(id) | AgentRef::Company(id) => redact_in_place(id, secret),
    }
}

#[cfg(feature = "hockeystack")]
fn redact_job(job: &mut JobRef, secret: &str) {
    redact_agent(&mut job.agent, secret);
    redact_in_place(&mut job.conversation_id, secret);
    redact_in_place(&mut job.job_id, secret);
}

fn redact_body(body: &mut ApiErrorBody, secret: &str) {
    for text in [&mut body.code, &mut body.category].into_iter().flatten() {
        redact_in_place(text, secret);
    }
    redact_in_place(&mut body.message, secret);
    for problem in &mut body.problems {
        redact_in_place(&mut problem.location, secret);
        redact_in_place(&mut problem.message, secret);
        redact_in_place(&mut problem.kind, secret);
    }
}

fn redact_kind(kind: &mut ErrorKind, secret: &str) {
    match kind {
        ErrorKind::InvalidSetting { reason, .. }
        | ErrorKind::InvalidBaseUrl { reason }
        | ErrorKind::InvalidRequest { reason }
        | ErrorKind::InvalidResponse { reason }
        | ErrorKind::RateBudgetUnavailable { reason } => redact_in_place(reason, secret),
        ErrorKind::Redirected { location } => {
            if let Some(location) = location {
                redact_in_place(location, secret);
            }
        }
        #[cfg(feature = "hockeystack")]
        ErrorKind::JobFailed {
            job,
            code,
            category,
            message,
        } => {
            redact_job(job, secret);
            for text in [code, category, message] {
                redact_in_place(text, secret);
            }
        }
        #[cfg(feature = "hockeystack")]
        ErrorKind::JobExpired { job } => redact_job(job, secret),
        #[cfg(feature = "hockeystack")]
        ErrorKind::ProvisioningFailed { agent, message, .. } => {
            redact_agent(agent, secret);
            if let Some(message) = message {
                redact_in_place(message, secret);
            }
        }
        #[cfg(feature = "hockeystack")]
        ErrorKind::WaitTimedOut { waiting_for, .. } => match waiting_for {
            WaitSubject::Agent(agent) => redact_agent(agent, secret),
            WaitSubject::Job(job) => redact_job(job, secret),
        },
        ErrorKind::RepeatedCursor { cursor } => redact_in_place(cursor, secret),
        #[cfg(feature = "hockeystack")]
        ErrorKind::StreamInterrupted {
            agent,
            conversation_id,
            ..
        } => {
            redact_agent(agent, secret);
            redact_in_place(conversation_id, secret);
        }
        ErrorKind::Decode { snippet } => redact_in_place(snippet, secret),
        ErrorKind::MissingCredentials { .. }
        | ErrorKind::RateBudgetExhausted { .. }
        | ErrorKind::InvalidCredentials { .. }
        | ErrorKind::Unauthorized
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::BadRequest
        | ErrorKind::Validation
        | ErrorKind::RateLimited { .. }
        | ErrorKind::CreditsExhausted
        | ErrorKind::Server
        | ErrorKind::UnexpectedStatus
        | ErrorKind::MissingCursor
        | ErrorKind::Transport { .. }
        | ErrorKind::ResponseTooLarge { .. }
        | ErrorKind::DeadlineExceeded { .. }
        | ErrorKind::HttpClient => {}
    }
}

/// A source whose text carried a credential, kept as its redacted text.
struct RedactedSource(String);

impl fmt::Debug for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedSource {}

/// Every level of an error chain's text, and its `Debug` form, joined.
fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{error:?}");
    let mut level = Some(error);
    while let Some(e) = level {
        text.push('\n');
        text.push_str(&e.to_string());
        level = e.source();
    }
    text
}

impl Error {
    /// The same error with `secret` blanked out of every text it holds, its sources included.
    /// A source that is another of the crate's errors is redacted in turn; any other source
    /// whose text (at any level of its chain) holds the secret is replaced by its redacted
    /// text, so that `Display`, `Debug` and walking `source()` all stay clean.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        if secret.len() < SHORTEST_SECRET {
            return self;
        }
        let inner = &mut *self.inner;
        redact_kind(&mut inner.kind, secret);
        for text in [
            &mut inner.request_id,
            &mut inner.resume_cursor,
            &mut inner.snippet,
        ]
        .into_iter()
        .flatten()
        {
            redact_in_place(text, secret);
        }
        if let Some(body) = &mut inner.body {
            redact_body(body, secret);
        }
        if let Some(source) = inner.source.take() {
            inner.source = Some(match source.downcast::<Error>() {
                Ok(nested) => Box::new(nested.redact(secret)),
                Err(other) => {
                    let text = chain_text(other.as_ref());
                    if text.contains(secret) {
                        let own = other.to_string();
                        Box::new(RedactedSource(redact_text(&own, secret).unwrap_or(own)))
                    } else {
                        other
                    }
                }
            });
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "hsr_live_0123456789abcdef";

    #[test]
    fn every_copy_is_blanked_out() {
        let text = format!("a {TOKEN} b {TOKEN}");
        assert_eq!(
            redact_text(&text, TOKEN).unwrap(),
            "a <redacted> b <redacted>"
        );
        assert_eq!(redact_text("nothing here", TOKEN), None);
    }

    #[test]
    fn a_credential_cut_by_a_snippet_is_blanked_out_too() {
        let cut = format!("x{}…", &TOKEN[..12]);
        assert_eq!(redact_text(&cut, TOKEN).unwrap(), "x<redacted>…");
        // Not cut: an ordinary ending is left alone.
        assert_eq!(redact_text("ends with hsr_live", TOKEN), None);
    }

    #[test]
    fn short_secrets_are_not_looked_for() {
        assert_eq!(redact_text("abc abc", "abc"), None);
    }

    #[test]
    fn escaped_forms_are_found() {
        let secret = "key\"with\\quotes";
        let snippet: String = format!("echo {secret}").escape_default().collect();
        let clean = redact_text(&snippet, secret).unwrap();
        assert!(!clean.contains("with"), "{clean}");
    }
}
