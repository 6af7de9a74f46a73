//! HyperRep's starting organization: a deterministic one generated at the configured sizes
//! (a million sales in a few seconds), or one of the caller's own ([`HyperRepSeed`]), checked
//! for duplicate ids and for links to records that are not there.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{
    DOCUMENTED_AGENT_ID,
    org::{Conversation, Msg, Org, Sale},
    render::{id, ts},
};
use crate::sandbox::{HyperRepSeed, SeedSizes, http};

/// `make(0) .. make(n - 1)` in order, made on every core for a large `n`: a million sales are
/// most of a large sandbox's start.
pub(super) fn in_parallel<T: Send>(n: usize, make: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    if threads == 1 || n < 20_000 {
        return (0..n).map(make).collect();
    }
    let chunk = n.div_ceil(threads);
    let make = &make;
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                scope.spawn(move || range.map(make).collect::<Vec<T>>())
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for part in parts {
            match part.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

/// One generated sale, in the API's shape, as borrowed parts.
#[allow(clippy::too_many_arguments)]
fn json_sale<'a, S: serde::Serialize>(
    sale_id: &'a str,
    conversation: Option<&'a Value>,
    company_id: &'a Value,
    owner_id: &'a Value,
    contact_id: &'a Value,
    price: &'a str,
    history: &'a [S],
    current: &'a S,
    created: DateTime<Utc>,
) -> impl serde::Serialize + 'a {
    #[derive(serde::Serialize)]
    struct Product<'a> {
        quantity: u32,
        unit_price: &'a str,
        product_name: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Json<'a, S> {
        sale_id: &'a str,
        associated_conversation_ids: Vec<&'a Value>,
        company_id: &'a Value,
        owner_id: &'a Value,
        associated_contacts: [Value; 1],
        quote_details: Value,
        custom_fields: Value,
        current_status: &'a S,
        status_history: &'a [S],
        created_at: String,
        last_activity_at: String,
    }
    Json {
        sale_id,
        associated_conversation_ids: conversation.into_iter().collect(),
        company_id,
        owner_id,
        associated_contacts: [json!({"contact_id": contact_id, "is_primary": true})],
        quote_details: json!({
            "output": {"currency": "USD", "total_price": price},
            "arguments": {"products": [Product { quantity: 1, unit_price: price, product_name: "Roof repair" }]},
            "agent_overrides": {}
        }),
        custom_fields: json!({"source": "sandbox"}),
        current_status: current,
        status_history: history,
        created_at: ts(created),
        last_activity_at: ts(created + Duration::days(1)),
    }
}

const FIRST: &[&str] = &[
    "Diana", "Kara", "Bruce", "Clark", "Barry", "Hal", "Arthur", "Victor", "Selina", "Lois",
];
const LAST: &[&str] = &[
    "Prince", "Danvers", "Wayne", "Kent", "Allen", "Jordan", "Curry", "Stone", "Kyle", "Lane",
];
const MODALITIES: &[&str] = &["email", "text", "call", "live_chat", "form"];

/// The string field `name` of a seed record, or why the record is unusable.
fn field<'a>(record: &'a Value, kind: &str, index: usize, name: &str) -> Result<&'a str, String> {
    record[name]
        .as_str()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{kind} #{index} has no `{name}` string (every {kind} needs one)"))
}

/// A timestamp field of a seed record.
fn when_field(record: &Value, kind: &str, id: &str, name: &str) -> Result<DateTime<Utc>, String> {
    let text = record[name]
        .as_str()
        .ok_or_else(|| format!("{kind} {id} has no `{name}` timestamp"))?;
    http::timestamp(text)
        .ok_or_else(|| format!("{kind} {id}: `{name}` {text:?} is not a timestamp"))
}

/// Checks that ids are unique within a kind and returns the position of each.
fn index(records: &[Value], kind: &str, key: &str) -> Result<HashMap<String, usize>, String> {
    let mut positions = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        if !record.is_object() {
            return Err(format!("{kind} #{i} is not a JSON object"));
        }
        let id = field(record, kind, i, key)?;
        if positions.insert(id.to_owned(), i).is_some() {
            return Err(format!("{kind} {id} appears twice"));
        }
    }
    Ok(positions)
}

/// Where `record[name]` points in `positions`, when it names anything.
fn reference(
    record: &Value,
    kind: &str,
    id: &str,
    name: &str,
    target: &str,
    positions: &HashMap<String, usize>,
) -> Result<Option<usize>, String> {
    match record[name].as_str() {
        None => Ok(None),
        Some(other) => {
            positions.get(other).copied().map(Some).ok_or_else(|| {
                format!("{kind} {id} names {target} {other}, which is not in the seed")
            })
        }
    }
}

impl Org {
    /// An organization of the caller's own records, checked for duplicate ids and for
    /// references to records that are not there.
    pub(super) fn from_seed(seed: &HyperRepSeed) -> Result<Org, String> {
        let agents = index(&seed.agents, "agent", "agent_id")?;
        let contacts = index(&seed.contacts, "contact", "contact_id")?;
        let companies = index(&seed.companies, "company", "company_id")?;
        index(&seed.sales, "sale", "sale_id")?;
        index(&seed.conversations, "conversation", "conversation_id")?;
        for (i, contact) in seed.contacts.iter().enumerate() {
            let id = field(contact, "contact", i, "contact_id")?;
            reference(contact, "contact", id, "company_id", "company", &companies)?;
        }
        let mut conversations = Vec::new();
        let mut messages = Vec::new();
        for (i, record) in seed.conversations.iter().enumerate() {
            let id = field(record, "conversation", i, "conversation_id")?.to_owned();
            let agent = reference(record, "conversation", &id, "agent_id", "agent", &agents)?
                .ok_or_else(|| format!("conversation {id} has no `agent_id`"))?;
            let contact = reference(
                record,
                "conversation",
                &id,
                "contact_id",
                "contact",
                &contacts,
            )?
            .ok_or_else(|| format!("conversation {id} has no `contact_id`"))?;
            let start = when_field(record, "conversation", &id, "start_at")?;
            let mut value = record.clone();
            let thread = value
                .as_object_mut()
                .and_then(|o| o.remove("messages"))
                .unwrap_or(Value::Array(Vec::new()));
            let Value::Array(thread) = thread else {
                return Err(format!("conversation {id}: `messages` is not a list"));
            };
            let mut seen = HashSet::new();
            let mut thread = thread
                .into_iter()
                .enumerate()
                .map(|(m, mut message)| {
                    let message_id = field(&message, "message", m, "message_id")?.to_owned();
                    if !seen.insert(message_id.clone()) {
                        return Err(format!(
                            "message {message_id} appears twice in conversation {id}"
                        ));
                    }
                    let sent_at = when_field(&message, "message", &message_id, "sent_at")?;
                    let sender = reference(
                        &message,
                        "message",
                        &message_id,
                        "agent_id",
                        "agent",
                        &agents,
                    )?;
                    message["conversation_id"] = json!(id);
                    Ok(Msg {
                        inbound: message["message_direction"] != "sent",
                        value: message,
                        sent_at,
                        agent: sender,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            thread.sort_by_key(|m| m.sent_at);
            conversations.push(Conversation {
                value,
                agent,
                contact,
                start,
            });
            messages.push(thread);
        }
        let sales = seed
            .sales
            .iter()
            .enumerate()
            .map(|(i, record)| {
                let id = field(record, "sale", i, "sale_id")?;
                let owner = reference(record, "sale", id, "owner_id", "agent", &agents)?
                    .ok_or_else(|| format!("sale {id} has no `owner_id`"))?;
                reference(record, "sale", id, "company_id", "company", &companies)?;
                Ok(Sale::new(
                    record,
                    owner,
                    when_field(record, "sale", id, "created_at")?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Org {
            agents: seed.agents.clone(),
            companies: seed.companies.clone(),
            contacts: seed.contacts.clone(),
            conversations,
            messages,
            sales,
            ..Org::default()
        }
        .indexed())
    }

    /// A deterministic organization: the same sizes give the same data, with timestamps over
    /// the 90 days before `now`.
    pub(super) fn seeded(sizes: &SeedSizes, now: DateTime<Utc>) -> Org {
        let origin = now - Duration::days(90);
        // Spreads item i of n over the 90 days (never in the future).
        let when = |i: usize, n: usize| {
            origin + Duration::seconds((i as i64 * 89 * 86_400) / n.max(1) as i64 + 3_600)
        };
        let agents: Vec<Value> = (0..sizes.agents.max(1))
            .map(|i| {
                let name = format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len() + i) % LAST.len()]);
                let agent_id = if i == 0 { DOCUMENTED_AGENT_ID.to_owned() } else { id("agent", i) };
                json!({"agent_id": agent_id, "name": name, "email": format!("agent{i}@example.com")})
            })
            .collect();
        let companies: Vec<Value> = (0..sizes.companies.max(1))
            .map(|i| {
                json!({
                    "company_id": id("company", i),
                    "name": format!("Company {i} Roofing"),
                    "domain": format!("company{i}.example.com"),
                    "address": format!("{} Main St, Anytown USA", 100 + i),
                    "agent_id": agents[i % agents.len()]["agent_id"],
                    "custom_fields": {"tier": (["gold", "silver", "bronze"][i % 3])},
                    "created_at": ts(when(i, sizes.companies))
                })
            })
            .collect();
        let contacts: Vec<Value> = (0..sizes.contacts.max(1))
            .map(|i| {
                json!({
                    "contact_id": id("contact", i),
                    "name": format!("{} {}", FIRST[(i + 3) % FIRST.len()], LAST[(i * 7) % LAST.len()]),
                    "email": format!("contact{i}@example.com"),
                    "phone_number": format!("513-867-{:04}", i % 10_000),
                    "created_at": ts(when(i, sizes.contacts)),
                    "company_id": companies[i % companies.len()]["company_id"],
                    "custom_fields": {"notes": if i % 2 == 0 { "Prefers SMS" } else { "Prefers email" }},
                    "company_role": (["Facilities Manager", "Owner", "Office Manager"][i % 3])
                })
            })
            .collect();
        let mut conversations = Vec::new();
        let mut messages = Vec::new();
        for i in 0..sizes.conversations {
            let start = when(i, sizes.conversations);
            let agent = i % agents.len();
            let contact = i % contacts.len();
            let cid = id("conversation", i);
            let mut thread = Vec::new();
            let mut at = start;
            for m in 0..sizes.messages_per_conversation {
                let inbound = m % 2 == 0;
                // Every fourth conversation gets no answer, so response rates are below 1.
                if !inbound && i % 4 == 3 {
                    break;
                }
                let modality = MODALITIES[i % MODALITIES.len()];
                let sender = (!inbound).then_some(agent);
                thread.push(Msg {
                    value: json!({
                        "message_id": id(&format!("message{i:06}x"), m),
                        "conversation_id": cid,
                        "agent_id": sender.map(|a| agents[a]["agent_id"].clone()),
                        "modality": modality,
                        "message_direction": if inbound { "received" } else { "sent" },
                        "is_form_request": modality == "form",
                        "subject": if modality == "email" { json!(format!("Quote request #{i}")) } else { json!(null) },
                        "content": if inbound { format!("Hi, can you quote a roof repair? (#{i}.{m})") } else { format!("Happy to help, here is our quote. (#{i}.{m})") },
                        "call_transcript": if modality == "call" { json!("Caller asked for a quote.") } else { json!(null) },
                        "form_request_body": if modality == "form" { json!({"service": "roof repair"}) } else { json!(null) },
                        "sent_at": ts(at),
                        "drafted_at": null,
                        "email_metadata": if modality == "email" { json!({"email_message_id": format!("<m{i}.{m}@example.com>"), "cc_emails": [], "bcc_emails": []}) } else { json!(null) },
                        "call_metadata": {"duration": if modality == "call" { json!(180 + i % 300) } else { json!(null) }},
                        "tracked_links": if inbound { json!([]) } else { json!([{"link_id": id("link", i * 10 + m), "url": "https://example.com/quote", "click_count": i % 5}]) }
                    }),
                    sent_at: at,
                    inbound,
                    agent: sender,
                });
                at += Duration::minutes(30 + (i % 7) as i64 * 10);
            }
            let last = thread.last().map(|m| m.sent_at).unwrap_or(start);
            conversations.push(Conversation {
                value: json!({
                    "conversation_id": cid,
                    "start_at": ts(start),
                    "last_activity_at": ts(last),
                    "folder": if i % 5 == 0 { "primary" } else { "inbox" },
                    "is_read": i % 3 == 0,
                    "contact_id": contacts[contact]["contact_id"]
                }),
                agent,
                contact,
                start,
            });
            messages.push(thread);
        }
        // Written straight to JSON text from borrowed parts: a `Value` tree per sale was most
        // of the time it took to start with a million.
        #[derive(serde::Serialize)]
        struct Stage<'a> {
            label: &'a str,
            status: Option<&'a str>,
            changed_at: String,
        }
        let make = |i| {
            let created = when(i, sizes.sales);
            let owner = i % agents.len();
            let price = format!("{}.00", 800 + (i % 9) * 100);
            let mut history = vec![Stage {
                label: "Qualified",
                status: None,
                changed_at: ts(created),
            }];
            if i % 3 != 2 {
                history.push(Stage {
                    label: "Quoted",
                    status: Some("quote_sent"),
                    changed_at: ts(created + Duration::minutes(15)),
                });
            }
            if i % 3 == 0 {
                history.push(Stage {
                    label: "Accepted",
                    status: Some("accepted"),
                    changed_at: ts(created + Duration::days(1)),
                });
            }
            let current = history.last().expect("one stage at least");
            let stage = (
                current.label.to_owned(),
                current.status.map_or(Value::Null, Value::from),
            );
            let conversation = conversations
                .get(i % conversations.len().max(1))
                .map(|c| &c.value["conversation_id"]);
            let sale_id = id("sale", i);
            let text = serde_json::to_string(&json_sale(
                &sale_id,
                conversation,
                &companies[i % companies.len()]["company_id"],
                &agents[owner]["agent_id"],
                &contacts[i % contacts.len()]["contact_id"],
                &price,
                &history,
                current,
                created,
            ))
            .expect("a sale serialises");
            Sale {
                id: sale_id.into(),
                json: serde_json::value::RawValue::from_string(text).expect("valid JSON"),
                owner,
                created,
                stage: Some(stage),
                price: price.parse().unwrap_or(0.0),
            }
        };
        let sales = in_parallel(sizes.sales, make);
        Org {
            agents,
            companies,
            contacts,
            conversations,
            messages,
            sales,
            ..Org::default()
        }
        .indexed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_deterministic_and_sized() {
        let now = Utc::now();
        let sizes = SeedSizes {
            sales: 1000,
            ..SeedSizes::default()
        };
        let a = Org::seeded(&sizes, now);
        let b = Org::seeded(&sizes, now);
        assert_eq!(a.sales.len(), 1000);
        assert_eq!(a.sales[999].json.get(), b.sales[999].json.get());
        assert!(
            a.sales
                .iter()
                .all(|s| s.created <= now && s.created >= now - Duration::days(90))
        );
    }

    #[test]
    fn records_made_on_every_core_come_back_in_order() {
        for n in [0, 1, 19_999, 20_000, 100_003] {
            let made = in_parallel(n, |i| id("sale", i));
            assert_eq!(made.len(), n);
            assert!(
                made.iter().enumerate().all(|(i, s)| *s == id("sale", i)),
                "{n}"
            );
        }
    }
}
