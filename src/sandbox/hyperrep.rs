//! The HyperRep half of the sandbox: `/api/v2/…`, over a seeded organization.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::Response,
    routing::any,
};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{SandboxConfig, SeedSizes, cursor_for, json, offset_from, query_pairs, query_value};

pub(super) fn router(
    config: SandboxConfig,
    clock: Arc<super::clock::Clock>,
) -> Result<Router, String> {
    let org = match &config.hyperrep_seed {
        Some(seed) => Org::from_seed(seed)?,
        None => Org::seeded(&config.seed, clock.utc()),
    };
    let state = Arc::new(Hr {
        key: config.hyperrep_key,
        org: RwLock::new(org),
        clock,
    });
    Ok(Router::new()
        .route("/api/v2/organizations", any(handle))
        .route("/api/v2/organizations/{*rest}", any(handle))
        .with_state(state))
}

struct Hr {
    key: String,
    org: RwLock<Org>,
    /// The sandbox's clock: what is created is stamped with it, and analytics windows end
    /// at it, so a test that moves it forward sees HyperRep move too.
    clock: Arc<super::clock::Clock>,
}

/// The organization, and below the first agent, carry the ids of HyperRep's own documentation
/// examples, so that its curl examples run against the sandbox as printed.
pub(super) const ORG_ID: &str =
    "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3";
const DOCUMENTED_AGENT_ID: &str = "gAAAAABexampleAgentIdReturnedByApi5qN8xLm3sV6kRt2cY9hJ4uW1dF7";

struct Conversation {
    value: Value,
    agent: usize,
    contact: usize,
    start: DateTime<Utc>,
}

struct Msg {
    value: Value,
    sent_at: DateTime<Utc>,
    inbound: bool,
    agent: Option<usize>,
}

/// A sale kept as its JSON text, with the few fields the sandbox filters and counts on: a
/// parsed `Value` costs about ten times the bytes, which is what kept 1M sales out of reach.
struct Sale {
    id: Box<str>,
    json: Box<serde_json::value::RawValue>,
    owner: usize,
    created: DateTime<Utc>,
    /// `current_status.label` and `.status`, for the pipeline analytics.
    stage: Option<(String, Value)>,
    /// `quote_details.output.total_price`, for the pipeline analytics.
    price: f64,
}

impl Sale {
    fn new(value: &Value, owner: usize, created: DateTime<Utc>) -> Self {
        let current = &value["current_status"];
        Sale {
            id: value["sale_id"].as_str().unwrap_or_default().into(),
            json: serde_json::value::to_raw_value(value).expect("JSON values serialise"),
            owner,
            created,
            stage: current.is_object().then(|| {
                (
                    current["label"].as_str().unwrap_or("").to_owned(),
                    current["status"].clone(),
                )
            }),
            price: value["quote_details"]["output"]["total_price"]
                .as_str()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0.0),
        }
    }
}

struct Draft {
    value: Value,
    conversation: String,
    created: DateTime<Utc>,
    queued: bool,
}

struct Org {
    agents: Vec<Value>,
    companies: Vec<Value>,
    contacts: Vec<Value>,
    conversations: Vec<Conversation>,
    messages: Vec<Vec<Msg>>,
    sales: Vec<Sale>,
    /// Sale id -> position in `sales`.
    sale_index: HashMap<String, usize>,
    /// Positions in `sales` of each agent's sales, in list order.
    sales_by_owner: Vec<Vec<usize>>,
    /// Whether `sales` is in date order (the generated organization always is), so that a
    /// date window is one run of positions, found by binary search.
    sales_in_date_order: bool,
    drafts: Vec<Draft>,
    counter: u64,
    lookups: Lookups,
}

/// Where each record is, by id and by owner, so that no read scans a collection: a lookup
/// costs a hash, a page costs its size (issue: 100k contacts, companies and conversations).
#[derive(Default)]
struct Lookups {
    agents: HashMap<String, usize>,
    contacts: HashMap<String, usize>,
    companies: HashMap<String, usize>,
    conversations: HashMap<String, usize>,
    /// Positions in `conversations` of each agent's and each contact's, in list order.
    conversations_by_agent: Vec<Vec<usize>>,
    conversations_by_contact: Vec<Vec<usize>>,
    /// Whether `conversations` is in start order, so a date window is found by binary search.
    conversations_in_date_order: bool,
}

impl Lookups {
    fn of(org: &Org) -> Lookups {
        let ids = |records: &[Value], key: &str| -> HashMap<String, usize> {
            let mut ids = HashMap::with_capacity(records.len());
            for (i, record) in records.iter().enumerate() {
                if let Some(id) = record[key].as_str() {
                    ids.entry(id.to_owned()).or_insert(i);
                }
            }
            ids
        };
        let mut by_agent = vec![Vec::new(); org.agents.len()];
        let mut by_contact = vec![Vec::new(); org.contacts.len()];
        let mut conversations = HashMap::with_capacity(org.conversations.len());
        for (i, c) in org.conversations.iter().enumerate() {
            if let Some(id) = c.value["conversation_id"].as_str() {
                conversations.entry(id.to_owned()).or_insert(i);
            }
            if let Some(list) = by_agent.get_mut(c.agent) {
                list.push(i);
            }
            if let Some(list) = by_contact.get_mut(c.contact) {
                list.push(i);
            }
        }
        Lookups {
            agents: ids(&org.agents, "agent_id"),
            contacts: ids(&org.contacts, "contact_id"),
            companies: ids(&org.companies, "company_id"),
            conversations,
            conversations_by_agent: by_agent,
            conversations_by_contact: by_contact,
            conversations_in_date_order: org.conversations.is_sorted_by_key(|c| c.start),
        }
    }
}

impl Org {
    fn indexed(mut self) -> Org {
        self.lookups = Lookups::of(&self);
        self
    }

    fn agent(&self, id: &str) -> Option<usize> {
        self.lookups.agents.get(id).copied()
    }

    fn contact(&self, id: &str) -> Option<usize> {
        self.lookups.contacts.get(id).copied()
    }

    fn company(&self, id: &str) -> Option<usize> {
        self.lookups.companies.get(id).copied()
    }
}

fn sale_index(sales: &[Sale]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(sales.len());
    index.extend(
        sales
            .iter()
            .enumerate()
            .map(|(i, sale)| (sale.id.to_string(), i)),
    );
    index
}

/// `make(0) .. make(n - 1)` in order, made on every core for a large `n`: a million sales are
/// most of a large sandbox's start.
fn in_parallel<T: Send>(n: usize, make: impl Fn(usize) -> T + Sync) -> Vec<T> {
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

fn sales_by_owner(sales: &[Sale], agents: usize) -> Vec<Vec<usize>> {
    let mut by_owner = vec![Vec::new(); agents];
    for (i, sale) in sales.iter().enumerate() {
        if let Some(list) = by_owner.get_mut(sale.owner) {
            list.push(i);
        }
    }
    by_owner
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Ids shaped like HyperRep's: long, URL-safe base64 with `-`, `_` and `=`.
fn id(kind: &str, n: usize) -> String {
    format!("gAAAAAB{kind}{n:07}-x_Q=")
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
    super::timestamp(text)
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
    fn from_seed(seed: &super::HyperRepSeed) -> Result<Org, String> {
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
            sale_index: sale_index(&sales),
            sales_by_owner: sales_by_owner(&sales, seed.agents.len()),
            sales_in_date_order: sales.is_sorted_by_key(|s| s.created),
            sales,
            drafts: Vec::new(),
            counter: 0,
            lookups: Lookups::default(),
        }
        .indexed())
    }

    /// A deterministic organization: the same sizes give the same data, with timestamps over
    /// the 90 days before `now`.
    fn seeded(sizes: &SeedSizes, now: DateTime<Utc>) -> Org {
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
            sales_by_owner: sales_by_owner(&sales, agents.len()),
            agents,
            companies,
            contacts,
            conversations,
            messages,
            sale_index: sale_index(&sales),
            sales_in_date_order: sales.is_sorted_by_key(|s| s.created),
            sales,
            drafts: Vec::new(),
            counter: 0,
            lookups: Lookups::default(),
        }
        .indexed()
    }
}

fn detail(status: StatusCode, text: &str) -> Response {
    json(status, &json!({"detail": text}))
}

/// A FastAPI-style validation failure.
fn invalid(location: &[&str], message: &str, kind: &str) -> Response {
    json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"detail": [{"loc": location, "msg": message, "type": kind}]}),
    )
}

async fn handle(
    State(hr): State<Arc<Hr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match super::header(&headers, "x-api-key") {
        None => return detail(StatusCode::FORBIDDEN, "Missing API Key"),
        Some(k) if k != hr.key => return detail(StatusCode::FORBIDDEN, "Invalid API Key"),
        Some(_) => {}
    }
    let path = uri.path().trim_start_matches("/api/v2/organizations");
    let segments = super::path_segments(path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = query_pairs(uri.query());
    let now = hr.clock.utc();
    if segments.is_empty() {
        return match method {
            Method::GET => json(
                StatusCode::OK,
                &json!({"data": [{"organization_id": ORG_ID, "name": "Acme Roofing (sandbox)"}]}),
            ),
            _ => detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        };
    }
    if segments[0] != ORG_ID {
        // HyperRep words this as a rejected value; the spec lists it under 400.
        return detail(StatusCode::BAD_REQUEST, "Invalid organization_id");
    }
    // Reads share the organization; only the creating calls take it alone.
    if method == Method::POST {
        let mut org = hr
            .org
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        return create(&mut org, &segments[1..], &body, now);
    }
    let org = hr
        .org
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    route(&org, &method, &segments[1..], &query, now)
}

/// The calls that create something.
fn create(org: &mut Org, segments: &[&str], body: &Bytes, now: DateTime<Utc>) -> Response {
    match segments {
        ["conversations", c, "response-drafts"] => create_response_draft(org, c, body, now),
        ["contacts"] => create_contact(org, body, now),
        ["companies"] => create_company(org, body, now),
        ["message-drafts"] => create_message_draft(org, body, false, now),
        ["messages-drafts"] => create_message_draft(org, body, true, now),
        _ => route(org, &Method::POST, segments, &[], now),
    }
}

/// Every call that only reads.
fn route(
    org: &Org,
    method: &Method,
    segments: &[&str],
    q: &[(String, String)],
    now: DateTime<Utc>,
) -> Response {
    match (method.clone(), segments) {
        (Method::GET, ["agents"]) => list(q, "agents", &org.agents),
        (Method::GET, ["agents", a]) => match org.agent(a) {
            Some(i) => json(StatusCode::OK, &org.agents[i]),
            None => detail(StatusCode::NOT_FOUND, "Agent not found"),
        },
        (Method::GET, ["agents", a, "conversations"]) => {
            let Some(agent) = org.agent(a) else {
                return detail(StatusCode::NOT_FOUND, "Agent not found");
            };
            list_conversations(
                org,
                q,
                &format!("agent-conversations-{a}"),
                Some(&org.lookups.conversations_by_agent[agent]),
            )
        }
        (Method::GET, ["agents", a, "sales"]) => {
            let Some(agent) = org.agent(a) else {
                return detail(StatusCode::NOT_FOUND, "Agent not found");
            };
            list_sales(
                org,
                q,
                &format!("agent-sales-{a}"),
                Some(&org.sales_by_owner[agent]),
            )
        }
        (Method::GET, ["agents", a, "analytics", rest @ ..]) => {
            let Some(agent) = org.agent(a) else {
                return detail(StatusCode::NOT_FOUND, "Agent not found");
            };
            let (from, to) = match analytics_window(q, now) {
                Ok(w) => w,
                Err(r) => return r,
            };
            let conversations = agent_conversation_stats(org, Some(agent), from, to);
            let sales = agent_sales_stats(org, agent, from, to);
            match rest {
                [] => json(
                    StatusCode::OK,
                    &json!({"conversations": conversations, "sales": sales}),
                ),
                ["conversations"] => json(StatusCode::OK, &conversations),
                ["sales"] => json(StatusCode::OK, &sales),
                _ => detail(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        (Method::GET, ["conversations"]) => list_conversations(org, q, "conversations", None),
        (Method::GET, ["conversations", c]) => match conversation(org, c) {
            Some(i) => json(StatusCode::OK, &org.conversations[i].value),
            None => detail(StatusCode::NOT_FOUND, "Conversation not found"),
        },
        (Method::GET, ["conversations", c, "messages"]) => {
            let Some(i) = conversation(org, c) else {
                return detail(StatusCode::NOT_FOUND, "Conversation not found");
            };
            let items = org.messages[i].iter().map(|m| (&m.value, m.sent_at));
            list_dated(q, &format!("messages-{c}"), items)
        }
        (Method::GET, ["conversations", c, "messages", m]) => {
            let Some(i) = conversation(org, c) else {
                return detail(StatusCode::NOT_FOUND, "Conversation not found");
            };
            match org.messages[i].iter().find(|x| x.value["message_id"] == *m) {
                Some(x) => json(StatusCode::OK, &x.value),
                None => detail(StatusCode::NOT_FOUND, "Message not found"),
            }
        }
        (Method::GET, ["conversations", c, "response-drafts"]) => {
            if conversation(org, c).is_none() {
                return detail(StatusCode::NOT_FOUND, "Conversation not found");
            }
            let items = org
                .drafts
                .iter()
                .filter(|d| d.conversation == *c)
                .map(|d| (&d.value, d.created));
            list_dated(q, &format!("response-drafts-{c}"), items)
        }
        (Method::GET, ["contacts"]) => list(q, "contacts", &org.contacts),
        (Method::GET, ["contacts", c]) => match org.contact(c) {
            Some(i) => json(StatusCode::OK, &org.contacts[i]),
            None => detail(StatusCode::BAD_REQUEST, "Invalid contact_id"),
        },
        (Method::GET, ["contacts", c, "conversations"]) => {
            let Some(contact) = org.contact(c) else {
                return detail(StatusCode::BAD_REQUEST, "Invalid contact_id");
            };
            list_conversations(
                org,
                q,
                &format!("contact-conversations-{c}"),
                Some(&org.lookups.conversations_by_contact[contact]),
            )
        }
        (Method::GET, ["companies"]) => list(q, "companies", &org.companies),
        (Method::GET, ["companies", c]) => match org.company(c) {
            Some(i) => json(StatusCode::OK, &org.companies[i]),
            None => detail(StatusCode::NOT_FOUND, "Company not found"),
        },
        (Method::GET, ["sales"]) => list_sales(org, q, "sales", None),
        (Method::GET, ["sales", s]) => match org.sale_index.get(*s) {
            Some(&i) => json(StatusCode::OK, &*org.sales[i].json),
            None => detail(StatusCode::NOT_FOUND, "Sale not found"),
        },
        (Method::GET, ["analytics", "conversations", rest @ ..]) => {
            let (from, to) = match analytics_window(q, now) {
                Ok(w) => w,
                Err(r) => return r,
            };
            let stats = conversation_analytics(org, from, to);
            match rest {
                [] => json(StatusCode::OK, &stats),
                ["response-rate"] => json(StatusCode::OK, &stats["responseRateStats"]),
                _ => detail(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        _ => detail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn conversation(org: &Org, id: &str) -> Option<usize> {
    org.lookups.conversations.get(id).copied()
}

/// Reads `limit` (1..500, default 50) and `cursor`.
fn paging(q: &[(String, String)], collection: &str) -> Result<(usize, usize), Response> {
    let limit = match query_value(q, "limit") {
        None => 50,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => n as usize,
            Ok(n) if n < 1 => {
                return Err(invalid(
                    &["query", "limit"],
                    "ensure this value is greater than or equal to 1",
                    "value_error.number.not_ge",
                ));
            }
            Ok(_) => {
                return Err(invalid(
                    &["query", "limit"],
                    "ensure this value is less than or equal to 500",
                    "value_error.number.not_le",
                ));
            }
            Err(_) => {
                return Err(invalid(
                    &["query", "limit"],
                    "value is not a valid integer",
                    "type_error.integer",
                ));
            }
        },
    };
    let offset = match query_value(q, "cursor") {
        None => 0,
        Some(c) => offset_from(collection, c)
            .ok_or_else(|| detail(StatusCode::BAD_REQUEST, "Invalid cursor"))?,
    };
    Ok((limit, offset))
}

fn date_param(q: &[(String, String)], name: &str) -> Result<Option<DateTime<Utc>>, Response> {
    match query_value(q, name) {
        None => Ok(None),
        Some(v) => super::timestamp(v).map(Some).ok_or_else(|| {
            invalid(
                &["query", name],
                "invalid datetime format",
                "value_error.datetime",
            )
        }),
    }
}

fn list<'a>(
    q: &[(String, String)],
    collection: &str,
    items: impl IntoIterator<Item = &'a Value>,
) -> Response {
    let (limit, offset) = match paging(q, collection) {
        Ok(p) => p,
        Err(r) => return r,
    };
    page(collection, items.into_iter(), limit, offset)
}

/// A page of sales (all of them, or those at `positions`), in time proportional to the page.
fn list_sales(
    org: &Org,
    q: &[(String, String)],
    collection: &str,
    positions: Option<&[usize]>,
) -> Response {
    let all = org.sales.len();
    let order = org.sales_in_date_order;
    dated_page(q, collection, all, positions, order, |i| {
        (&*org.sales[i].json, org.sales[i].created)
    })
}

/// A page of conversations (all of them, or those at `positions`), in time proportional to
/// the page.
fn list_conversations(
    org: &Org,
    q: &[(String, String)],
    collection: &str,
    positions: Option<&[usize]>,
) -> Response {
    let all = org.conversations.len();
    let order = org.lookups.conversations_in_date_order;
    dated_page(q, collection, all, positions, order, |i| {
        (&org.conversations[i].value, org.conversations[i].start)
    })
}

/// One page of a dated collection of `all` items (or of those at `positions`, in their
/// order), `item(i)` giving an item and its date. When the list is in date order the date
/// window is located by binary search and the cursor is a position in it, so a page costs its
/// size; otherwise the filtered walk.
fn dated_page<'a, T: serde::Serialize + ?Sized + 'a>(
    q: &[(String, String)],
    collection: &str,
    all: usize,
    positions: Option<&[usize]>,
    in_date_order: bool,
    item: impl Fn(usize) -> (&'a T, DateTime<Utc>),
) -> Response {
    let (limit, offset, (from, to)) = match page_request(q, collection) {
        Ok(request) => request,
        Err(r) => return r,
    };
    let len = positions.map_or(all, <[usize]>::len);
    let at = |k: usize| item(positions.map_or(k, |p| p[k]));
    if !in_date_order {
        return page(
            collection,
            in_window((0..len).map(at), from, to),
            limit,
            offset,
        );
    }
    // The first position at or after `when`.
    let first_at = |when: DateTime<Utc>| {
        let (mut lo, mut hi) = (0, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if at(mid).1 < when {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let start = from.map_or(0, first_at);
    let end = to.map_or(len, first_at).max(start);
    let first = start.saturating_add(offset).min(end);
    let past = start.saturating_add(offset).saturating_add(limit);
    let data = (first..past.min(end)).map(|k| at(k).0).collect();
    page_answer(collection, data, limit, offset, past < end)
}

/// A `[start_date, end_date)` window, either end open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The optional `[start_date, end_date)` window; a reversed one is refused.
fn date_window(q: &[(String, String)]) -> Result<Window, Response> {
    let (from, to) = match (date_param(q, "start_date"), date_param(q, "end_date")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return Err(r),
    };
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "start_date must be less than or equal to end_date",
        ));
    }
    Ok((from, to))
}

/// A list filtered by the optional `[start_date, end_date)` window on each item's date.
fn list_dated<'a, T: serde::Serialize + ?Sized + 'a>(
    q: &[(String, String)],
    collection: &str,
    items: impl IntoIterator<Item = (&'a T, DateTime<Utc>)>,
) -> Response {
    let (limit, offset, (from, to)) = match page_request(q, collection) {
        Ok(request) => request,
        Err(r) => return r,
    };
    page(collection, in_window(items, from, to), limit, offset)
}

/// What a dated list request asks for: its page size, its offset, and its date window.
fn page_request(
    q: &[(String, String)],
    collection: &str,
) -> Result<(usize, usize, Window), Response> {
    let (limit, offset) = paging(q, collection)?;
    Ok((limit, offset, date_window(q)?))
}

/// The items dated within `[from, to)`, either end open.
fn in_window<'a, T: ?Sized + 'a>(
    items: impl IntoIterator<Item = (&'a T, DateTime<Utc>)>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> impl Iterator<Item = &'a T> {
    items
        .into_iter()
        .filter(move |(_, at)| from.is_none_or(|f| *at >= f) && to.is_none_or(|t| *at < t))
        .map(|(v, _)| v)
}

/// One page of a list: only the page's items are copied, and the walk stops one item after
/// the page, so a page costs its offset and size, not the whole collection.
fn page<'a, T: serde::Serialize + ?Sized + 'a>(
    collection: &str,
    items: impl Iterator<Item = &'a T>,
    limit: usize,
    offset: usize,
) -> Response {
    let mut rest = items.skip(offset);
    let data: Vec<&T> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    page_answer(collection, data, limit, offset, more)
}

/// A page as HyperRep answers it: the items, written straight from what is stored (sales are
/// JSON text already), and the pagination block.
fn page_answer<T: serde::Serialize + ?Sized>(
    collection: &str,
    data: Vec<&T>,
    limit: usize,
    offset: usize,
    more: bool,
) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a, T: ?Sized> {
        data: Vec<&'a T>,
        pagination: Value,
    }
    let next = more.then(|| cursor_for(collection, offset.saturating_add(limit)));
    let cursor = (offset > 0).then(|| cursor_for(collection, offset));
    json(
        StatusCode::OK,
        &Body {
            data,
            pagination: json!({"limit": limit, "cursor": cursor, "next_cursor": next, "has_more": next.is_some()}),
        },
    )
}

fn analytics_window(
    q: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Response> {
    let from = date_param(q, "start_date")?.ok_or_else(|| {
        invalid(
            &["query", "start_date"],
            "field required",
            "value_error.missing",
        )
    })?;
    let to = date_param(q, "end_date")?.ok_or_else(|| {
        invalid(
            &["query", "end_date"],
            "field required",
            "value_error.missing",
        )
    })?;
    // A minute of slack for clocks that disagree slightly.
    if from > now + Duration::minutes(1) || to > now + Duration::minutes(1) {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "start_date and end_date cannot be in the future",
        ));
    }
    if from > to {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "start_date must be less than or equal to end_date",
        ));
    }
    Ok((from, to))
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
    agent: Option<usize>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Value {
    let mut responded = 0i64;
    let mut sent = 0i64;
    for (c, thread) in org.conversations.iter().zip(&org.messages) {
        if agent.is_some_and(|a| a != c.agent) || c.start < from || c.start >= to {
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

fn object(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid(
            &["body"],
            "value is not a valid dict",
            "type_error.dict",
        )),
    }
}

/// A string field: `Ok(None)` when absent or null, a 422 when of another type.
fn text(body: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, Response> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(
            &["body", name],
            "str type expected",
            "type_error.str",
        )),
    }
}

fn flag(body: &serde_json::Map<String, Value>, name: &str) -> Result<bool, Response> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(
            &["body", name],
            "value could not be parsed to a boolean",
            "type_error.bool",
        )),
    }
}

fn emails(body: &serde_json::Map<String, Value>, name: &str) -> Result<Vec<String>, Response> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v.as_str() {
                Some(e) if e.contains('@') => Ok(e.to_owned()),
                _ => Err(invalid(
                    &["body", name],
                    "value is not a valid email address",
                    "value_error.email",
                )),
            })
            .collect(),
        Some(_) => Err(invalid(
            &["body", name],
            "value is not a valid list",
            "type_error.list",
        )),
    }
}

fn custom_fields(body: &serde_json::Map<String, Value>) -> Result<Value, Response> {
    match body.get("custom_fields") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(invalid(
            &["body", "custom_fields"],
            "value is not a valid dict",
            "type_error.dict",
        )),
    }
}

fn slug(folder: &str) -> String {
    let mut out = String::new();
    for c in folder.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "inbox".to_owned()
    } else {
        out
    }
}

fn create_message_draft(org: &mut Org, body: &Bytes, legacy: bool, now: DateTime<Utc>) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = (|| -> Result<Value, Response> {
        let modality = text(&body, "modality")?.ok_or_else(|| {
            invalid(
                &["body", "modality"],
                "field required",
                "value_error.missing",
            )
        })?;
        if !["email", "text"].contains(&modality.as_str()) {
            return Err(invalid(
                &["body", "modality"],
                "value is not a valid enumeration member; permitted: 'email', 'text'",
                "type_error.enum",
            ));
        }
        let subject = text(&body, "subject")?;
        let html = text(&body, "body_html")?;
        if subject.as_deref().is_none_or(str::is_empty) && html.as_deref().is_none_or(str::is_empty)
        {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "At least one of subject or body_html is required",
            ));
        }
        let to_email = text(&body, "to_email")?;
        if to_email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(invalid(
                &["body", "to_email"],
                "value is not a valid email address",
                "value_error.email",
            ));
        }
        if modality == "email" && to_email.is_none() {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "to_email is required for email drafts",
            ));
        }
        if modality == "text" && text(&body, "to_phone_number")?.is_none() {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "to_phone_number is required for text drafts",
            ));
        }
        text(&body, "to_user_name")?;
        emails(&body, "cc_emails")?;
        emails(&body, "bcc_emails")?;
        let autosend = flag(&body, "autosend_draft")?;
        let notify = flag(&body, "add_notification")?;
        if autosend && notify {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "autosend_draft and add_notification cannot both be true",
            ));
        }
        let folder = slug(&text(&body, "folder")?.unwrap_or_default());
        org.counter += 1;
        let draft_id = id("draft", org.counter as usize);
        let at = autosend.then(|| ts(now));
        Ok(if legacy {
            json!({"draft_id": draft_id, "queued_to_send": autosend, "send_at": at, "folder": folder})
        } else {
            json!({"draft_id": draft_id, "scheduled_to_send": autosend, "scheduled_send_at": at, "folder": folder})
        })
    })();
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(r) => r,
    }
}

fn create_response_draft(
    org: &mut Org,
    conversation_id: &str,
    body: &Bytes,
    now: DateTime<Utc>,
) -> Response {
    if conversation(org, conversation_id).is_none() {
        return detail(StatusCode::NOT_FOUND, "Conversation not found");
    }
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = (|| -> Result<Value, Response> {
        let html = text(&body, "body_html")?.ok_or_else(|| {
            invalid(
                &["body", "body_html"],
                "field required",
                "value_error.missing",
            )
        })?;
        let cc = emails(&body, "cc_emails")?;
        let bcc = emails(&body, "bcc_emails")?;
        let autosend = flag(&body, "autosend_draft")?;
        if autosend && flag(&body, "add_notification")? {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "autosend_draft and add_notification cannot both be true",
            ));
        }
        // One pending reply per conversation: a new one replaces the pending one; queued ones stay.
        org.drafts
            .retain(|d| d.conversation != conversation_id || d.queued);
        org.counter += 1;
        let value = json!({
            "response_id": id("response", org.counter as usize),
            "conversation_id": conversation_id,
            "scheduled_to_send": autosend,
            "scheduled_send_at": autosend.then(|| ts(now)),
            "body_html": html,
            "cc_emails": cc,
            "bcc_emails": bcc,
            "created_at": ts(now)
        });
        org.drafts.push(Draft {
            value: value.clone(),
            conversation: conversation_id.to_owned(),
            created: now,
            queued: autosend,
        });
        Ok(json!({
            "response_id": value["response_id"],
            "conversation_id": conversation_id,
            "scheduled_to_send": autosend,
            "scheduled_send_at": value["scheduled_send_at"]
        }))
    })();
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(r) => r,
    }
}

fn create_contact(org: &mut Org, body: &Bytes, now: DateTime<Utc>) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = (|| -> Result<Value, Response> {
        let name = text(&body, "name")?.filter(|s| !s.is_empty());
        let email = text(&body, "email")?.filter(|s| !s.is_empty());
        let phone = text(&body, "phone_number")?.filter(|s| !s.is_empty());
        if name.is_none() && email.is_none() && phone.is_none() {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "At least one of name, email or phone_number is required",
            ));
        }
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(invalid(
                &["body", "email"],
                "value is not a valid email address",
                "value_error.email",
            ));
        }
        let company = text(&body, "company_id")?;
        if company.as_deref().is_some_and(|c| org.company(c).is_none()) {
            return Err(detail(StatusCode::BAD_REQUEST, "Invalid company_id"));
        }
        let custom = custom_fields(&body)?;
        let contact = json!({
            "contact_id": id("contact", org.contacts.len()),
            "name": name,
            "email": email,
            "phone_number": phone,
            "created_at": ts(now),
            "company_id": company,
            "custom_fields": custom,
            "company_role": text(&body, "company_role")?
        });
        if let Some(id) = contact["contact_id"].as_str() {
            org.lookups
                .contacts
                .entry(id.to_owned())
                .or_insert(org.contacts.len());
        }
        org.contacts.push(contact.clone());
        org.lookups.conversations_by_contact.push(Vec::new());
        Ok(contact)
    })();
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(r) => r,
    }
}

fn create_company(org: &mut Org, body: &Bytes, now: DateTime<Utc>) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = (|| -> Result<Value, Response> {
        let name = text(&body, "name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid(&["body", "name"], "field required", "value_error.missing"))?;
        let domain = match text(&body, "domain")? {
            None => None,
            Some(raw) => {
                let lower = raw.trim().to_lowercase();
                let without_scheme = lower
                    .trim_start_matches("https://")
                    .trim_start_matches("http://");
                let host = without_scheme.split('/').next().unwrap_or("").to_owned();
                if !host.contains('.') {
                    return Err(detail(StatusCode::BAD_REQUEST, "domain must contain a dot"));
                }
                Some(host)
            }
        };
        let agent = text(&body, "agent_id")?;
        if agent.as_deref().is_some_and(|a| org.agent(a).is_none()) {
            return Err(detail(StatusCode::BAD_REQUEST, "Invalid agent_id"));
        }
        let custom = custom_fields(&body)?;
        let company = json!({
            "company_id": id("company", org.companies.len()),
            "name": name,
            "domain": domain,
            "address": text(&body, "address")?,
            "agent_id": agent,
            "custom_fields": custom,
            "created_at": ts(now)
        });
        if let Some(id) = company["company_id"].as_str() {
            org.lookups
                .companies
                .entry(id.to_owned())
                .or_insert(org.companies.len());
        }
        org.companies.push(company.clone());
        Ok(company)
    })();
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(r) => r,
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

    /// The binary-searched pages equal the plain filtered walk, for every window and offset.
    #[tokio::test]
    async fn indexed_sale_pages_equal_the_filtered_walk() {
        let now = Utc::now();
        let sizes = SeedSizes {
            sales: 600,
            ..SeedSizes::default()
        };
        let indexed = Org::seeded(&sizes, now);
        let mut walked = Org::seeded(&sizes, now);
        assert!(indexed.sales_in_date_order);
        walked.sales_in_date_order = false;
        let at = |days: i64| ts(now - Duration::days(days));
        let windows: Vec<Vec<(String, String)>> = vec![
            vec![],
            vec![("start_date".into(), at(40))],
            vec![("end_date".into(), at(70))],
            vec![("start_date".into(), at(60)), ("end_date".into(), at(30))],
            vec![("start_date".into(), at(1)), ("end_date".into(), at(1))],
        ];
        for window in windows {
            for (collection, owner) in [("sales", None), ("agent-sales-x", Some(2))] {
                for offset in [0, 7, 95, 599, 2000] {
                    let mut q = window.clone();
                    q.push(("limit".into(), "40".into()));
                    if offset > 0 {
                        q.push(("cursor".into(), cursor_for(collection, offset)));
                    }
                    let answer = |org: &Org| {
                        let positions = owner.map(|o: usize| org.sales_by_owner[o].as_slice());
                        list_sales(org, &q, collection, positions).into_body()
                    };
                    let (a, b) = (answer(&indexed), answer(&walked));
                    assert_eq!(
                        axum::body::to_bytes(a, usize::MAX).await.unwrap(),
                        axum::body::to_bytes(b, usize::MAX).await.unwrap(),
                        "{window:?} {collection} offset {offset}"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn indexed_conversation_pages_equal_the_filtered_walk() {
        let now = Utc::now();
        let sizes = SeedSizes {
            conversations: 300,
            ..SeedSizes::default()
        };
        let indexed = Org::seeded(&sizes, now);
        let mut walked = Org::seeded(&sizes, now);
        assert!(indexed.lookups.conversations_in_date_order);
        walked.lookups.conversations_in_date_order = false;
        let at = |days: i64| ts(now - Duration::days(days));
        let windows: Vec<Vec<(String, String)>> = vec![
            vec![],
            vec![("start_date".into(), at(40))],
            vec![("start_date".into(), at(60)), ("end_date".into(), at(30))],
        ];
        type Owner = fn(&Org) -> &[usize];
        let owners: [(&str, Option<Owner>); 3] = [
            ("conversations", None),
            (
                "agent-conversations-x",
                Some(|org| &org.lookups.conversations_by_agent[1]),
            ),
            (
                "contact-conversations-x",
                Some(|org| &org.lookups.conversations_by_contact[2]),
            ),
        ];
        for window in windows {
            for (collection, owner) in owners {
                for offset in [0, 3, 95, 299, 2000] {
                    let mut q = window.clone();
                    q.push(("limit".into(), "25".into()));
                    if offset > 0 {
                        q.push(("cursor".into(), cursor_for(collection, offset)));
                    }
                    let answer = |org: &Org| {
                        list_conversations(org, &q, collection, owner.map(|o| o(org))).into_body()
                    };
                    let (a, b) = (answer(&indexed), answer(&walked));
                    assert_eq!(
                        axum::body::to_bytes(a, usize::MAX).await.unwrap(),
                        axum::body::to_bytes(b, usize::MAX).await.unwrap(),
                        "{window:?} {collection} offset {offset}"
                    );
                }
            }
        }
        // Each owner's conversations are the ones that name it.
        for (agent, positions) in indexed.lookups.conversations_by_agent.iter().enumerate() {
            let named: Vec<usize> = (0..indexed.conversations.len())
                .filter(|&i| indexed.conversations[i].agent == agent)
                .collect();
            assert_eq!(*positions, named);
        }
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

    #[test]
    fn folders_are_slugified() {
        assert_eq!(slug("Sales Follow-up"), "sales-follow-up");
        assert_eq!(slug("  "), "inbox");
    }
}
