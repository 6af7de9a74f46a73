//! HockeyStack's operations: what each does to the workspace and answers. Each handler reads
//! its call, checks it, changes the world under its lock, and renders.

use std::ops::Bound;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Hs,
    render::{self, Status},
    seed::valid_crm_id,
    world::{Conversation, CreditOp, Job, Kind, Message, Role, World, timestamp},
};
use crate::sandbox::{
    contract::{Flaw, Problem},
    faults::FailProvisioning,
    http::{Call, Fields, Reply, empty, header, is_email, json, key_cursor},
};

/// The record a call names: its kind by the operation's path, and its id.
fn record(call: &Call) -> (Kind, &str) {
    if call.operation.path.starts_with("/deals") {
        (Kind::Deal, call.param("dealId"))
    } else {
        (Kind::Company, call.param("companyId"))
    }
}

const NO_AGENT: &str = "No agent has been initialized for this record.";
const NO_CONVERSATION: &str = "No such conversation.";

pub(super) fn health(_: &Hs, _: &Call) -> Reply {
    Ok(json(StatusCode::OK, &json!({"status": "ok"})))
}

pub(super) fn me(hs: &Hs, _: &Call) -> Reply {
    Ok(json(
        StatusCode::OK,
        &json!({
            "workspace": {"id": "ws_sandbox", "name": "Sandbox workspace"},
            "token": {
                "id": "tok_sandbox",
                "name": "Sandbox token",
                "token_prefix": hs.config.hockeystack_token.chars().take(12).collect::<String>(),
                "created_at": timestamp(hs.epoch - chrono::Duration::days(30)),
                "last_used_at": timestamp(hs.clock.now()),
                "expires_at": null
            }
        }),
    ))
}

/// A page of a kind's agents, in id order. The cursor names the last id of the page before,
/// so a page costs its size at any depth.
pub(super) fn list_agents(hs: &Hs, call: &Call) -> Reply {
    let (kind, _) = record(call);
    let collection = format!("{kind:?}-agents");
    let (limit, after) = call.key_page(&collection)?;
    let world = hs.read();
    let now = hs.clock.now();
    let start = match after {
        Some(id) => Bound::Excluded((kind, id)),
        None => Bound::Included((kind, String::new())),
    };
    let mut agents = world
        .agents
        .range((start, Bound::Unbounded))
        .take_while(|((k, _), _)| *k == kind);
    let page: Vec<_> = agents.by_ref().take(limit).collect();
    let next = match (agents.next(), page.last()) {
        (Some(_), Some(((_, last), _))) => Some(key_cursor(&collection, last)),
        _ => None,
    };
    let items = page
        .into_iter()
        .map(|((_, id), agent)| hs.render_agent(kind, id, agent, now))
        .collect();
    Ok(json(StatusCode::OK, &render::page("agents", items, next)))
}

/// Spends `credits` on `feature`, or refuses when the monthly cap would be passed.
fn charge(
    world: &mut World,
    hs: &Hs,
    call: &Call,
    feature: &str,
    credits: f64,
    metadata: Value,
) -> Result<(), axum::response::Response> {
    let cap =
        hs.config.included_credits + hs.config.on_demand_credit_limit.unwrap_or(f64::INFINITY);
    if world.credits_used + credits > cap {
        return Err(call.refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            Problem::CreditsExhausted,
            "The monthly credit limit has been reached.",
        ));
    }
    let uuid = world.next_uuid();
    world.record(CreditOp {
        uuid,
        feature: feature.to_owned(),
        credits,
        at: hs.clock.now(),
        metadata,
    });
    Ok(())
}

pub(super) fn init_agent(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    if !valid_crm_id(id) {
        return Err(call.bad_request("The id must be 1 to 64 characters."));
    }
    let mut world = hs.write();
    let now = hs.clock.now();
    let key = (kind, id.to_owned());
    if let Some(agent) = world.agents.get(&key)
        && hs.status(id, agent, now) != Status::Failed
    {
        return Err(call.conflict(
            "agent.already_exists",
            "An agent already exists for this record.",
        ));
    }
    charge(
        &mut world,
        hs,
        call,
        "agent_provisioning",
        20.0,
        json!({ kind.key(): id }),
    )?;
    let job_id = world.next("prov");
    let agent_id = world.next("agt");
    // A retry after a failed run starts a new run of the same agent.
    let agent = world.agents.entry(key).or_insert(super::world::Agent {
        started: now,
        runs: 0,
        forced_failure: false,
        ready_from_start: false,
        job_id: job_id.clone(),
        agent_id,
    });
    agent.started = now;
    agent.runs += 1;
    agent.forced_failure = call.extensions.get::<FailProvisioning>().is_some();
    agent.ready_from_start = false;
    agent.job_id = job_id;
    let body = hs.render_agent(kind, id, agent, now);
    Ok(json(StatusCode::ACCEPTED, &body))
}

pub(super) fn get_agent(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let world = hs.read();
    let agent = world
        .agents
        .get(&(kind, id.to_owned()))
        .ok_or_else(|| call.not_found(NO_AGENT))?;
    Ok(json(
        StatusCode::OK,
        &hs.render_agent(kind, id, agent, hs.clock.now()),
    ))
}

/// Deleting is idempotent; a deal's agent takes its conversations with it.
pub(super) fn delete_agent(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let mut world = hs.write();
    world.agents.remove(&(kind, id.to_owned()));
    if kind == Kind::Deal {
        let gone = world
            .conversations_of
            .remove(&(kind, id.to_owned()))
            .unwrap_or_default();
        for cid in gone {
            world.remove_conversation(&cid);
        }
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn create_conversation(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let options = call.fields_or_none()?;
    if let Some(email) = options.get("user_email")
        && !email.as_str().is_some_and(is_email)
    {
        return Err(options.invalid("user_email", Flaw::NotEmail));
    }
    let mut world = hs.write();
    let now = hs.clock.now();
    let agent = world
        .agents
        .get(&(kind, id.to_owned()))
        .ok_or_else(|| call.not_found(NO_AGENT))?;
    if hs.status(id, agent, now) != Status::Active {
        return Err(call.conflict("agent.not_active", "The agent is not active yet."));
    }
    let cid = world.next("conv");
    world.add_conversation(
        Conversation {
            id: cid.clone(),
            owner: (kind, id.to_owned()),
            created_at: now,
        },
        Vec::new(),
    );
    Ok(json(
        StatusCode::CREATED,
        &render::conversation(&cid, kind, id, now),
    ))
}

pub(super) fn list_conversations(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let page = call.page(&format!("conversations-{kind:?}-{id}"))?;
    let world = hs.read();
    let ids = world
        .conversations_of
        .get(&(kind, id.to_owned()))
        .map_or(&[][..], Vec::as_slice);
    let (ids, more) = page.take(ids.iter());
    let items = ids
        .into_iter()
        .filter_map(|cid| world.conversations.get(cid))
        .map(|c| render::conversation(&c.id, kind, id, c.created_at))
        .collect();
    Ok(json(
        StatusCode::OK,
        &render::page("conversations", items, page.next_cursor(more)),
    ))
}

pub(super) fn delete_conversation(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let cid = call.param("cid");
    let mut world = hs.write();
    if !world.owns(kind, id, cid) {
        return Err(call.not_found(NO_CONVERSATION));
    }
    world.remove_conversation(cid);
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn list_messages(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let cid = call.param("cid");
    let page = call.page(&format!("messages-{cid}"))?;
    let descending = match call.query("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(call.invalid_query("order", Flaw::NotOneOf(&["asc", "desc"]))),
    };
    let mut world = hs.write();
    if !world.owns(kind, id, cid) {
        return Err(call.not_found(NO_CONVERSATION));
    }
    hs.settle_jobs(&mut world);
    let messages = world.messages.get(cid).map_or(&[][..], Vec::as_slice);
    let (items, more) = if descending {
        page.take(messages.iter().rev())
    } else {
        page.take(messages.iter())
    };
    let items = items.into_iter().map(render::message).collect();
    let mut body = render::page("messages", items, page.next_cursor(more));
    body["conversation_id"] = json!(cid);
    Ok(json(StatusCode::OK, &body))
}

fn wants_stream(call: &Call, body: &Fields<'_>) -> bool {
    body.get("stream").and_then(Value::as_bool).unwrap_or(false)
        || header(&call.headers, "accept").is_some_and(render::prefers_event_stream)
}

pub(super) fn send_message(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let cid = call.param("cid");
    let body = call.fields()?;
    // The reference pages name the field `message`, the quickstart's curl example `content`:
    // both are accepted, `message` first.
    let name = if body.get("message").is_some() || body.get("content").is_none() {
        "message"
    } else {
        "content"
    };
    let text = body.required_string(name, 1, 10_000)?.to_owned();
    let stream = wants_stream(call, &body);
    let now = hs.clock.now();
    let (job_id, reply) = {
        let mut world = hs.write();
        if !world.owns(kind, id, cid) {
            return Err(call.not_found(NO_CONVERSATION));
        }
        charge(
            &mut world,
            hs,
            call,
            "agent_message",
            5.0,
            json!({"conversation_id": cid}),
        )?;
        let message_id = world.next("msg");
        let reply = render::reply_to(&text);
        let mut said = vec![Message {
            id: message_id,
            role: Role::User,
            content: text.clone(),
            created_at: now,
        }];
        let job_id = world.next("job");
        if stream {
            let message_id = world.next("msg");
            said.push(Message {
                id: message_id,
                role: Role::Assistant,
                content: reply.clone(),
                created_at: now,
            });
        } else {
            world.jobs.insert(
                job_id.clone(),
                Job {
                    id: job_id.clone(),
                    owner: (kind, id.to_owned()),
                    conversation: cid.to_owned(),
                    created: now,
                    reply: reply.clone(),
                    fail: text.contains("#fail"),
                    recorded: false,
                },
            );
        }
        world
            .messages
            .entry(cid.to_owned())
            .or_default()
            .extend(said);
        (job_id, reply)
    };
    if stream {
        return Ok(render::event_stream(
            cid.to_owned(),
            reply,
            hs.config.stream_chunk_delay,
        ));
    }
    let base = hs.base_path();
    let segment = kind.segment();
    Ok(json(
        StatusCode::ACCEPTED,
        &json!({
            "job_id": job_id,
            "conversation_id": cid,
            "status": "pending",
            "poll_url": format!("{base}/{segment}/{id}/conversations/{cid}/messages/jobs/{job_id}")
        }),
    ))
}

pub(super) fn get_job(hs: &Hs, call: &Call) -> Reply {
    let (kind, id) = record(call);
    let (cid, job_id) = (call.param("cid"), call.param("jobId"));
    let mut world = hs.write();
    hs.settle_jobs(&mut world);
    let job = world
        .jobs
        .get(job_id)
        .filter(|j| j.owner == (kind, id.to_owned()) && j.conversation == cid)
        .ok_or_else(|| call.not_found("No such job, or it is past its retention window."))?;
    let done = hs.clock.since(job.created) >= hs.config.job_time;
    Ok(json(StatusCode::OK, &render::job(job, done)))
}

pub(super) fn list_tasks(hs: &Hs, call: &Call) -> Reply {
    let page = call.page("tasks")?;
    let world = hs.read();
    let (tasks, more) = page.take(world.tasks.iter());
    let items = tasks.into_iter().cloned().collect();
    Ok(json(
        StatusCode::OK,
        &render::page("tasks", items, page.next_cursor(more)),
    ))
}

const TASK_TYPES: &[&str] = &["call", "email", "linkedin"];
const PRIORITIES: &[&str] = &["urgent", "high", "medium", "low"];
const CLOSING_STATUSES: &[&str] = &["completed", "dismissed", "cancelled"];

pub(super) fn create_task(hs: &Hs, call: &Call) -> Reply {
    let body = call.fields()?;
    let task_type = body
        .one_of("task_type", TASK_TYPES)?
        .ok_or_else(|| body.invalid("task_type", Flaw::NotOneOf(TASK_TYPES)))?;
    let title = body.required_string("task_title", 1, 500)?;
    let assignee = body.required_string("assignee_id", 1, 64)?;
    let targets = match body.object("targets")? {
        Some(t) => clean_targets(&body.nested(t), &body)?,
        None => return Err(body.invalid("targets", Flaw::NotObject)),
    };
    let priority = body.one_of("priority", PRIORITIES)?.unwrap_or("medium");
    let reason = body.short_string("reason", 2000)?;
    // Stored in one spelling, so that the task reads back as a spec date-time whatever form
    // the caller wrote.
    let due_date = body.date("due_date")?.map(timestamp);
    let draft = match body.object("draft")? {
        None => json!({}),
        Some(d) => clean_draft(&body.nested(d))?,
    };
    let mut world = hs.write();
    charge(
        &mut world,
        hs,
        call,
        "task_creation",
        2.0,
        json!({"task_title": title}),
    )?;
    let now = timestamp(hs.clock.now());
    let task = json!({
        "task_id": world.next_uuid(),
        "status": "pending",
        "task_type": task_type,
        "task_title": title,
        "priority": priority,
        "assignee_id": assignee,
        "agent_id": null,
        "targets": targets,
        "draft": draft,
        "reason": reason,
        "due_date": due_date,
        "created_at": now,
        "updated_at": now,
        "completed_at": null,
        "dismissed_at": null,
        "dismiss_reason": null
    });
    world.add_task(task.clone());
    Ok(json(StatusCode::CREATED, &task))
}

/// Keeps the documented target fields, checking their types; at least one must be named.
fn clean_targets(t: &Fields<'_>, body: &Fields<'_>) -> Result<Value, axum::response::Response> {
    let mut out = serde_json::Map::new();
    for key in ["deal_id", "company_id", "meeting_id"] {
        if let Some(v) = t.short_string(key, 256)? {
            out.insert(key.to_owned(), json!(v));
        }
    }
    if let Some(c) = t.object("contact")? {
        let c = t.nested(c);
        let mut contact = serde_json::Map::new();
        for key in ["email", "linkedin_url", "phone_number", "name", "title"] {
            contact.insert(key.to_owned(), json!(c.short_string(key, 512)?));
        }
        out.insert("contact".to_owned(), Value::Object(contact));
    }
    if out.is_empty() {
        return Err(body.invalid(
            "targets",
            Flaw::NotOneOf(&["contact", "deal_id", "company_id", "meeting_id"]),
        ));
    }
    Ok(Value::Object(out))
}

/// Keeps the documented draft fields, checking their types.
fn clean_draft(d: &Fields<'_>) -> Result<Value, axum::response::Response> {
    let mut out = serde_json::Map::new();
    for key in ["subject", "body", "message"] {
        if let Some(v) = d.short_string(key, 20_000)? {
            out.insert(key.to_owned(), json!(v));
        }
    }
    match d.get("talking_points") {
        None => {}
        Some(Value::Array(points)) if points.iter().all(Value::is_string) => {
            out.insert("talking_points".to_owned(), Value::Array(points.clone()));
        }
        Some(_) => return Err(d.invalid("talking_points", Flaw::NotList)),
    }
    Ok(Value::Object(out))
}

/// A live task's position; an id that is not a UUID names nothing.
fn find_task(world: &World, call: &Call) -> Result<usize, axum::response::Response> {
    let id = call.param("taskId");
    uuid::Uuid::parse_str(id)
        .ok()
        .and_then(|_| world.task_position(id))
        .ok_or_else(|| call.not_found("No such task."))
}

pub(super) fn get_task(hs: &Hs, call: &Call) -> Reply {
    let world = hs.read();
    let position = find_task(&world, call)?;
    Ok(json(StatusCode::OK, &world.tasks[position]))
}

pub(super) fn update_task(hs: &Hs, call: &Call) -> Reply {
    let body = call.fields()?;
    let status = body
        .one_of("status", CLOSING_STATUSES)?
        .ok_or_else(|| body.invalid("status", Flaw::NotOneOf(CLOSING_STATUSES)))?;
    let reason = body.short_string("dismiss_reason", 2000)?;
    if status == "dismissed" && reason.is_none_or(str::is_empty) {
        return Err(call.bad_request("`dismiss_reason` is required to dismiss a task."));
    }
    let mut world = hs.write();
    let position = find_task(&world, call)?;
    let task = &mut world.tasks[position];
    if task["status"] != "pending" {
        return Err(call.conflict("task.terminal", "The task is already in a final state."));
    }
    let now = timestamp(hs.clock.now());
    task["status"] = json!(status);
    task["updated_at"] = json!(now);
    match status {
        "completed" => task["completed_at"] = json!(now),
        "dismissed" => {
            task["dismissed_at"] = json!(now);
            task["dismiss_reason"] = json!(reason);
        }
        _ => {}
    }
    Ok(json(StatusCode::OK, &*task))
}

pub(super) fn delete_task(hs: &Hs, call: &Call) -> Reply {
    let mut world = hs.write();
    let position = find_task(&world, call)?;
    world.remove_task(position);
    Ok(empty(StatusCode::NO_CONTENT))
}
