//! HockeyStack's records as its API writes them: agents with their provisioning status,
//! conversations, messages, message jobs, pages, and the streamed reply.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::world::{Agent, Job, Kind, Message, Role, timestamp};

/// Where an agent's provisioning stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Initializing,
    Failed,
    Active,
}

/// The status of an agent at `now`, its run taking `provisioning` (ids starting with `fail-`
/// fail their first run, `broken-` every run, and a scripted fault the run it was given to).
pub(super) fn status(
    id: &str,
    agent: &Agent,
    now: DateTime<Utc>,
    provisioning: Duration,
) -> Status {
    let elapsed = (now - agent.started).to_std().unwrap_or_default();
    let fails = !agent.ready_from_start && agent.forced_failure
        || id.starts_with("broken-")
        || (id.starts_with("fail-") && agent.runs == 1);
    if !agent.ready_from_start && elapsed < provisioning {
        Status::Initializing
    } else if fails {
        Status::Failed
    } else {
        Status::Active
    }
}

/// An agent as `GET …/agent` answers it.
pub(super) fn agent(
    base: &str,
    kind: Kind,
    id: &str,
    agent: &Agent,
    now: DateTime<Utc>,
    provisioning: Duration,
) -> Value {
    let mut v = json!({ kind.key(): id });
    // Durations from the configuration may not fit a date: such a date is shown at the end of
    // the range rather than overflowing.
    let done_at = chrono::Duration::from_std(provisioning)
        .ok()
        .and_then(|time| agent.started.checked_add_signed(time))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let segment = kind.segment();
    let o = v.as_object_mut().expect("an object");
    match status(id, agent, now, provisioning) {
        Status::Initializing => {
            o.insert("status".into(), json!("initializing"));
            o.insert("agent_id".into(), json!(null));
            o.insert("job_id".into(), json!(agent.job_id));
            o.insert(
                "progress_stream_url".into(),
                json!(format!("{base}/{segment}/{id}/agent/progress")),
            );
        }
        Status::Failed => {
            o.insert("status".into(), json!("provisioning_failed"));
            o.insert("agent_id".into(), json!(null));
            o.insert("job_id".into(), json!(agent.job_id));
            o.insert("failed_at".into(), json!(timestamp(done_at)));
            o.insert(
                "error".into(),
                json!(
                    "The CRM sync did not finish (sandbox: ids starting with fail- or broken- fail)."
                ),
            );
            o.insert(
                "retry_with".into(),
                json!(format!("PUT {base}/{segment}/{id}/agent")),
            );
        }
        Status::Active => {
            o.insert("status".into(), json!("active"));
            o.insert("agent_id".into(), json!(agent.agent_id));
            o.insert("created_at".into(), json!(timestamp(done_at)));
            o.insert("last_synced_at".into(), json!(timestamp(done_at)));
        }
    }
    v
}

pub(super) fn conversation(cid: &str, kind: Kind, id: &str, created_at: DateTime<Utc>) -> Value {
    let (deal, company) = match kind {
        Kind::Deal => (json!(id), json!(null)),
        Kind::Company => (json!(null), json!(id)),
    };
    json!({"conversation_id": cid, "created_at": timestamp(created_at), "deal_id": deal, "company_id": company})
}

pub(super) fn message(m: &Message) -> Value {
    let role = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    json!({"id": m.id, "role": role, "content": m.content, "created_at": timestamp(m.created_at)})
}

/// A page of a list: its items under `key`, and the cursor to the next page.
pub(super) fn page(key: &str, items: Vec<Value>, next_cursor: Option<String>) -> Value {
    json!({ key: items, "next_cursor": next_cursor })
}

/// A message job; `done` once its time has passed.
pub(super) fn job(job: &Job, done: bool) -> Value {
    let mut v = json!({"job_id": job.id, "conversation_id": job.conversation});
    if !done {
        v["status"] = json!("pending");
    } else if job.fail {
        v["status"] = json!("failed");
        v["error"] = json!({"code": "agent.failed", "category": "agent_error", "message": "The agent could not answer (sandbox: the message contained #fail)."});
    } else {
        v["status"] = json!("completed");
        v["result"] = json!({"conversation_id": job.conversation, "messages": [{"role": "assistant", "content": job.reply}]});
    }
    v
}

/// The agent's answer, built from the question so that it reads like one.
pub(super) fn reply_to(question: &str) -> String {
    let topic: String = question
        .trim()
        .trim_end_matches('?')
        .chars()
        .take(120)
        .collect();
    format!(
        "Looking at \"{topic}\": the champion has not replied in twelve days and the renewal \
         review is in three weeks, so the biggest risk is losing momentum before the review. \
         Suggested next step: ask the champion for a 15-minute call this week."
    )
}

/// The reply as a server-sent event stream: text deltas, a tool call and its result
/// half-way, and `done` with the whole message, each event `delay` after the one before.
pub(super) fn event_stream(cid: String, reply: String, delay: Duration) -> Response {
    let mut events: Vec<String> = Vec::new();
    let words: Vec<&str> = reply.split_inclusive(' ').collect();
    let half = words.len() / 2;
    let delta = |piece: &str| format!("event: text_delta\ndata: {}\n\n", json!({"delta": piece}));
    for chunk in words[..half].chunks(4) {
        events.push(delta(&chunk.concat()));
    }
    events.push(format!(
        "event: tool_use\ndata: {}\n\n",
        json!({"id": "tu_1", "name": "resolve_contact", "args": {"email": "sam@example.com"}})
    ));
    events.push(format!(
        "event: tool_result\ndata: {}\n\n",
        json!({"id": "tu_1", "name": "resolve_contact", "result": {"name": "Sam Lee", "title": "VP Operations"}})
    ));
    for chunk in words[half..].chunks(4) {
        events.push(delta(&chunk.concat()));
    }
    events.push(format!(
        "event: done\ndata: {}\n\n",
        json!({"conversation_id": cid, "messages": [{"role": "assistant", "content": reply}]})
    ));
    let stream = futures_util::stream::unfold(
        (events.into_iter(), true),
        move |(mut events, first)| async move {
            let next = events.next()?;
            if !first {
                tokio::time::sleep(delay).await;
            }
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(next)),
                (events, false),
            ))
        },
    );
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Whether an `Accept` header ranks `text/event-stream` above JSON. Generated clients send
/// `application/json, text/event-stream` (every type the spec lists, equally); they get the
/// job their method is typed for, and only a caller that prefers the stream gets one.
pub(super) fn prefers_event_stream(accept: &str) -> bool {
    let (mut stream, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        // A weight that is not a number in 0..=1 ranks the type last.
        let quality = match parts.find_map(|p| p.trim().strip_prefix("q=")) {
            None => 1.0,
            Some(q) => q
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0),
        };
        match media.as_str() {
            "text/event-stream" => stream = stream.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    stream > 0.0 && stream > json
}

#[cfg(test)]
mod tests {
    use super::prefers_event_stream;

    #[test]
    fn the_stream_goes_only_to_a_caller_that_prefers_it() {
        for accept in [
            "text/event-stream",
            "TEXT/EVENT-STREAM",
            "text/event-stream, application/json;q=0.5",
            "application/json;q=0.1, text/event-stream",
        ] {
            assert!(prefers_event_stream(accept), "{accept}");
        }
        for accept in [
            "application/json",
            "application/json, text/event-stream",
            "text/event-stream, application/json",
            "text/event-stream, */*",
            "text/event-stream;q=0",
            "text/event-stream;q=NaN, application/json;q=0.2",
            "*/*",
            "",
        ] {
            assert!(!prefers_event_stream(accept), "{accept}");
        }
    }
}
