//! HyperRep's analytics: response rates and times, volumes and channels over conversations
//! started in a window, and an agent's conversations and sales pipeline. Windows end no later
//! than the sandbox clock's now (a minute of slack for clocks that disagree slightly).

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{Hr, org::Org};
use crate::sandbox::{
    contract::{Flaw, Problem},
    http::{Call, Reply, json},
};

/// The required `[start_date, end_date)` window of an analytics call.
fn window(
    call: &Call,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), axum::response::Response> {
    let required = |name: &str| {
        call.date(name)?
            .ok_or_else(|| call.invalid_query(name, Flaw::Missing))
    };
    let (from, to) = (required("start_date")?, required("end_date")?);
    let refuse = |message: &str| call.refuse(StatusCode::BAD_REQUEST, Problem::BadRequest, message);
    if from > now + Duration::minutes(1) || to > now + Duration::minutes(1) {
        return Err(refuse("start_date and end_date cannot be in the future"));
    }
    if from > to {
        return Err(refuse("start_date must be less than or equal to end_date"));
    }
    Ok((from, to))
}

/// The organization's conversation analytics, whole or one part of them.
fn organization(hr: &Hr, call: &Call, part: Option<&str>) -> Reply {
    let (from, to) = window(call, hr.clock.now())?;
    let org = hr.read();
    let stats = conversation_analytics(&org, from, to);
    Ok(json(
        StatusCode::OK,
        part.map_or(&stats, |part| &stats[part]),
    ))
}

pub(super) fn conversations(hr: &Hr, call: &Call) -> Reply {
    organization(hr, call, None)
}

pub(super) fn response_rate(hr: &Hr, call: &Call) -> Reply {
    organization(hr, call, Some("responseRateStats"))
}

/// What an agent's analytics say, whole or one part.
#[derive(Clone, Copy)]
enum AgentPart {
    Both,
    Conversations,
    Sales,
}

fn agent(hr: &Hr, call: &Call, part: AgentPart) -> Reply {
    let org = hr.read();
    let agent = hr.agent(&org, call)?;
    let (from, to) = window(call, hr.clock.now())?;
    let conversations = || agent_conversation_stats(&org, agent, from, to);
    let sales = || agent_sales_stats(&org, agent, from, to);
    let body = match part {
        AgentPart::Both => json!({"conversations": conversations(), "sales": sales()}),
        AgentPart::Conversations => conversations(),
        AgentPart::Sales => sales(),
    };
    Ok(json(StatusCode::OK, &body))
}

pub(super) fn agent_all(hr: &Hr, call: &Call) -> Reply {
    agent(hr, call, AgentPart::Both)
}

pub(super) fn agent_conversations(hr: &Hr, call: &Call) -> Reply {
    agent(hr, call, AgentPart::Conversations)
}

pub(super) fn agent_sales(hr: &Hr, call: &Call) -> Reply {
    agent(hr, call, AgentPart::Sales)
}

/// Counts, over conversations started in the window: received (first message inbound),
/// responded to (an answer followed), the mean time to the first answer, volumes and the
/// channel of the first inbound message.
fn conversation_analytics(org: &Org, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let (mut received, mut responded, mut response_seconds) = (0i64, 0i64, 0i64);
    let (mut sent, mut inbound, mut total) = (0i64, 0i64, 0i64);
    let mut modality = std::collections::HashMap::<&str, i64>::new();
    for (c, thread) in org.conversations.iter().zip(&org.messages) {
        if c.start < from || c.start >= to {
            continue;
        }
        total += 1;
        sent += thread.iter().filter(|m| !m.inbound).count() as i64;
        inbound += thread.iter().filter(|m| m.inbound).count() as i64;
        if let Some(first) = thread.first().filter(|m| m.inbound) {
            received += 1;
            *modality
                .entry(first.value["modality"].as_str().unwrap_or(""))
                .or_default() += 1;
            if let Some(answer) = thread.iter().find(|m| !m.inbound) {
                responded += 1;
                response_seconds += (answer.sent_at - first.sent_at).num_seconds();
            }
        }
    }
    let m = |k: &str| modality.get(k).copied().unwrap_or(0);
    json!({
        "responseRateStats": {
            "numConversationsRespondedTo": responded,
            "numConversationsReceived": received,
            "responseRate": if received == 0 { 0.0 } else { responded as f64 / received as f64 }
        },
        "responseTimeStats": {"responseTime": if responded == 0 { 0.0 } else { response_seconds as f64 / responded as f64 }},
        "volumeStats": {"numMessagesReceived": inbound, "numMessagesSent": sent, "totalConversations": total},
        "modalityStats": {"textMessages": m("text"), "calls": m("call"), "emails": m("email"), "liveChats": m("live_chat"), "formRequests": m("form")}
    })
}

fn agent_conversation_stats(
    org: &Org,
    agent: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Value {
    let mut responded = 0i64;
    let mut sent = 0i64;
    for (c, thread) in org.conversations.iter().zip(&org.messages) {
        if agent != c.agent || c.start < from || c.start >= to {
            continue;
        }
        let by_agent = thread.iter().filter(|m| m.agent == Some(c.agent)).count() as i64;
        sent += by_agent;
        responded += i64::from(by_agent > 0);
    }
    json!({"conversationsRespondedTo": responded, "messagesSent": sent})
}

fn agent_sales_stats(org: &Org, agent: usize, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let mut stages: Vec<(String, Value, i64, f64)> = Vec::new();
    let (mut total, mut accepted) = (0i64, 0i64);
    for s in org
        .sales
        .iter()
        .filter(|s| s.owner == agent && s.created >= from && s.created < to)
    {
        total += 1;
        let (label, status) = match &s.stage {
            Some((label, status)) => (label.as_str(), status.clone()),
            None => ("", Value::Null),
        };
        if status == "accepted" {
            accepted += 1;
        }
        let value = s.price;
        match stages.iter_mut().find(|(l, ..)| *l == label) {
            Some(stage) => {
                stage.2 += 1;
                stage.3 += value;
            }
            None => stages.push((label.to_owned(), status, 1, value)),
        }
    }
    let pipeline: Vec<Value> = stages
        .into_iter()
        .map(|(name, status, volume, value)| json!({"name": name, "status": status, "volume": volume, "value": format!("{value:.1}")}))
        .collect();
    json!({"pipeline": pipeline, "salesRate": if total == 0 { 0.0 } else { accepted as f64 / total as f64 }})
}
