//! HockeyStack's starting state: a few demo tasks, or a workspace of the caller's own
//! ([`HockeyStackSeed`]), checked record by record.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::world::{Agent, Conversation, Kind, Message, Role, World, timestamp};
use crate::sandbox::{HockeyStackSeed, http};

/// Whether an id is within the documented bounds of a CRM record id.
pub(super) fn valid_crm_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= 64
}

impl World {
    /// The built-in workspace: three pending tasks, no agents.
    pub(super) fn seeded(now: DateTime<Utc>) -> Self {
        let mut world = World::default();
        let tasks = [
            (
                "email",
                "Send the revised pricing to the champion",
                "9001234567",
                "high",
            ),
            (
                "call",
                "Call the economic buyer before the renewal review",
                "9001234567",
                "urgent",
            ),
            (
                "linkedin",
                "Congratulate the new VP Operations",
                "9007654321",
                "low",
            ),
        ];
        for (i, (kind, title, deal, priority)) in tasks.into_iter().enumerate() {
            let at = timestamp(now - chrono::Duration::days(2 - i as i64));
            let task_id = world.next_uuid();
            world.add_task(json!({
                "task_id": task_id,
                "status": "pending",
                "task_type": kind,
                "task_title": title,
                "priority": priority,
                "assignee_id": "usr_204",
                "agent_id": "agt_seed",
                "targets": {"deal_id": deal, "contact": {"name": "Sam Lee", "email": "sam@example.com"}},
                "draft": {},
                "reason": "Suggested by the deal agent.",
                "due_date": null,
                "created_at": at,
                "updated_at": at,
                "completed_at": null,
                "dismissed_at": null,
                "dismiss_reason": null
            }));
        }
        world
    }

    /// A workspace of the caller's own; see [`HockeyStackSeed`].
    pub(super) fn from_seed(seed: &HockeyStackSeed, now: DateTime<Utc>) -> Result<Self, String> {
        let mut world = World::default();
        for (kind, ids) in [
            (Kind::Deal, &seed.deal_agents),
            (Kind::Company, &seed.company_agents),
        ] {
            for id in ids {
                if !valid_crm_id(id) {
                    return Err(format!(
                        "{kind:?} agent {id:?}: an id is 1 to 64 characters"
                    ));
                }
                let agent_id = world.next("agt");
                let job_id = world.next("prov");
                let agent = Agent {
                    started: now,
                    runs: 1,
                    forced_failure: false,
                    ready_from_start: true,
                    job_id,
                    agent_id,
                };
                if world.agents.insert((kind, id.clone()), agent).is_some() {
                    return Err(format!("{kind:?} agent {id:?} is seeded twice"));
                }
            }
        }
        for (i, record) in seed.conversations.iter().enumerate() {
            let id = text(record, "conversation_id", &format!("conversation #{i}"))?;
            let what = format!("conversation {id:?}");
            let owner = match (record["deal_id"].as_str(), record["company_id"].as_str()) {
                (Some(deal), None) => (Kind::Deal, deal.to_owned()),
                (None, Some(company)) => (Kind::Company, company.to_owned()),
                _ => {
                    return Err(format!(
                        "{what}: give exactly one of `deal_id` and `company_id`"
                    ));
                }
            };
            if !world.agents.contains_key(&owner) {
                return Err(format!(
                    "{what}: {:?} {:?} has no seeded agent",
                    owner.0, owner.1
                ));
            }
            if world.messages.contains_key(&id) {
                return Err(format!("{what} is seeded twice"));
            }
            let created_at = when(record, &what, now)?;
            let mut messages = Vec::new();
            for (m, message) in record["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let what = format!("{what}, message #{m}");
                let role = match message["role"].as_str() {
                    Some("user") => Role::User,
                    Some("assistant") => Role::Assistant,
                    _ => return Err(format!("{what}: `role` must be user or assistant")),
                };
                let content = text(message, "content", &what)?;
                let created_at = when(message, &what, now)?;
                let id = world.next("msg");
                messages.push(Message {
                    id,
                    role,
                    content,
                    created_at,
                });
            }
            world.add_conversation(
                Conversation {
                    id,
                    owner,
                    created_at,
                },
                messages,
            );
        }
        for (i, task) in seed.tasks.iter().enumerate() {
            let id = text(task, "task_id", &format!("task #{i}"))?;
            let what = format!("task {id:?}");
            text(task, "status", &what)?;
            // The field list makes `created_at` optional and nullable; one that is given must
            // be a date-time.
            if !task["created_at"].is_null()
                && task["created_at"]
                    .as_str()
                    .and_then(http::timestamp)
                    .is_none()
            {
                return Err(format!("{what}: `created_at` must be a date-time or null"));
            }
            if world.task_position(&id).is_some() {
                return Err(format!("{what} is seeded twice"));
            }
            world.add_task(task.clone());
        }
        Ok(world)
    }
}

/// A required, non-empty string field of a seed record.
fn text(record: &Value, name: &str, what: &str) -> Result<String, String> {
    record[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: `{name}` must be a non-empty string"))
}

/// A record's `created_at`, `now` when it has none.
fn when(record: &Value, what: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match &record["created_at"] {
        Value::Null => Ok(now),
        Value::String(s) => http::timestamp(s)
            .ok_or_else(|| format!("{what}: `created_at` {s:?} is not a date-time")),
        other => Err(format!("{what}: `created_at` {other} is not a date-time")),
    }
}
