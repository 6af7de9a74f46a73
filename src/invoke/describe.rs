//! An error as JSON, for the surfaces that answer in JSON (an MCP tool's failure, the
//! command-line tool's `--error-format json`).

use serde_json::{Map, Value, json};

use crate::error::{AgentRef, Error, ErrorKind, JobRef, WaitSubject};

/// An error as JSON members a program or an assistant can act on: `kind`, `message`, `retryable`, and where
/// they apply `status`, `retry_after_seconds`, `request_id`, the API's code, validation
/// problems, and the ids or cursor to resume from.
pub(crate) fn describe(error: &Error) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("kind".into(), json!(kind_name(error.kind())));
    out.insert("message".into(), json!(error.to_string()));
    out.insert("retryable".into(), json!(error.is_transient()));
    if let Some(status) = error.status() {
        out.insert("status".into(), json!(status));
    }
    if let Some(wait) = error.retry_after() {
        out.insert(
            "retry_after_seconds".into(),
            json!(wait.as_secs_f64().ceil()),
        );
    }
    if let Some(id) = error.request_id() {
        out.insert("request_id".into(), json!(id));
    }
    if let Some(cursor) = error.resume_cursor() {
        out.insert("resume_cursor".into(), json!(cursor));
    }
    if let Some(body) = error.api_error() {
        if let Some(code) = &body.code {
            out.insert("code".into(), json!(code));
        }
        if !body.problems.is_empty() {
            out.insert(
                "problems".into(),
                Value::Array(
                    body.problems
                        .iter()
                        .map(|p| json!({"location": p.location, "message": p.message, "kind": p.kind}))
                        .collect(),
                ),
            );
        }
    }
    match error.kind() {
        ErrorKind::JobFailed { job, .. } | ErrorKind::JobExpired { job } => {
            out.extend(job_ids(job));
        }
        ErrorKind::ProvisioningFailed {
            agent, attempts, ..
        } => {
            out.extend(agent_ids(agent));
            out.insert("attempts".into(), json!(attempts));
        }
        ErrorKind::WaitTimedOut {
            waiting_for,
            attempts,
            ..
        } => {
            match waiting_for {
                WaitSubject::Agent(agent) => out.extend(agent_ids(agent)),
                WaitSubject::Job(job) => out.extend(job_ids(job)),
            }
            out.insert("attempts".into(), json!(attempts));
        }
        ErrorKind::StreamInterrupted {
            agent,
            conversation_id,
            ..
        } => {
            out.extend(agent_ids(agent));
            out.insert("cid".into(), json!(conversation_id));
        }
        _ => {}
    }
    out
}

/// The ids of an agent, named as the operations' arguments are.
pub(crate) fn agent_ids(agent: &AgentRef) -> Map<String, Value> {
    let mut out = Map::new();
    match agent {
        AgentRef::Deal(id) => out.insert("dealId".into(), json!(id)),
        AgentRef::Company(id) => out.insert("companyId".into(), json!(id)),
    };
    out
}

fn job_ids(job: &JobRef) -> Map<String, Value> {
    let mut out = agent_ids(&job.agent);
    out.insert("cid".into(), json!(job.conversation_id));
    out.insert("jobId".into(), json!(job.job_id));
    out
}

fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::MissingCredentials { .. } => "missing_credentials",
        ErrorKind::InvalidCredentials { .. } => "invalid_credentials",
        ErrorKind::InvalidSetting { .. } => "invalid_setting",
        ErrorKind::InvalidBaseUrl { .. } => "invalid_base_url",
        ErrorKind::InvalidRequest { .. } => "invalid_request",
        ErrorKind::Unauthorized => "unauthorized",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::BadRequest => "bad_request",
        ErrorKind::Validation => "validation",
        ErrorKind::RateLimited { .. } => "rate_limited",
        ErrorKind::CreditsExhausted => "credits_exhausted",
        ErrorKind::Server => "server_error",
        ErrorKind::UnexpectedStatus => "unexpected_status",
        ErrorKind::Redirected { .. } => "redirected",
        ErrorKind::JobFailed { .. } => "job_failed",
        ErrorKind::JobExpired { .. } => "job_expired",
        ErrorKind::ProvisioningFailed { .. } => "provisioning_failed",
        ErrorKind::WaitTimedOut { .. } => "wait_timed_out",
        ErrorKind::RepeatedCursor { .. } => "repeated_cursor",
        ErrorKind::MissingCursor => "missing_cursor",
        ErrorKind::InvalidResponse { .. } => "invalid_response",
        ErrorKind::Transport { .. } => "transport",
        ErrorKind::StreamInterrupted { .. } => "stream_interrupted",
        ErrorKind::ResponseTooLarge { .. } => "response_too_large",
        ErrorKind::DeadlineExceeded { .. } => "deadline_exceeded",
        ErrorKind::RateBudgetExhausted { .. } => "rate_budget_exhausted",
        ErrorKind::RateBudgetUnavailable { .. } => "rate_budget_unavailable",
        ErrorKind::Decode { .. } => "decode",
        ErrorKind::HttpClient => "http_client",
    }
}
