//! HyperRep's state: one organization's agents, companies, contacts, conversations with their
//! messages, sales and drafts, with the lookups that keep every read from scanning a
//! collection; and the form it is saved in (the records and their links; the lookups are
//! made again on load).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, value::RawValue};

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Conversation {
    pub(super) value: Value,
    /// Positions in `agents` and `contacts`.
    pub(super) agent: usize,
    pub(super) contact: usize,
    pub(super) start: DateTime<Utc>,
}

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Msg {
    pub(super) value: Value,
    pub(super) sent_at: DateTime<Utc>,
    pub(super) inbound: bool,
    /// The sending agent's position, for an outbound message.
    pub(super) agent: Option<usize>,
}

/// A sale kept as its JSON text, with the few fields the sandbox filters and counts on: a
/// parsed `Value` costs about ten times the bytes, which is what kept 1M sales out of reach.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Sale {
    pub(super) id: Box<str>,
    pub(super) json: Box<RawValue>,
    pub(super) owner: usize,
    pub(super) created: DateTime<Utc>,
    /// `current_status.label` and `.status`, for the pipeline analytics.
    pub(super) stage: Option<(String, Value)>,
    /// `quote_details.output.total_price`, for the pipeline analytics.
    pub(super) price: f64,
}

impl Sale {
    pub(super) fn new(value: &Value, owner: usize, created: DateTime<Utc>) -> Self {
        let current = &value["current_status"];
        Sale {
            id: value["sale_id"].as_str().unwrap_or_default().into(),
            // A `Value` always serialises.
            json: serde_json::value::to_raw_value(value).unwrap_or_default(),
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

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Draft {
    pub(super) value: Value,
    pub(super) conversation: String,
    pub(super) created: DateTime<Utc>,
    pub(super) queued: bool,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Org {
    pub(super) agents: Vec<Value>,
    pub(super) companies: Vec<Value>,
    pub(super) contacts: Vec<Value>,
    pub(super) conversations: Vec<Conversation>,
    /// Each conversation's messages, by the conversation's position, oldest first.
    pub(super) messages: Vec<Vec<Msg>>,
    pub(super) sales: Vec<Sale>,
    pub(super) drafts: Vec<Draft>,
    /// The last number an id was made from; it only grows, across resets and restarts.
    pub(super) counter: u64,
    #[serde(skip)]
    pub(super) lookups: Lookups,
}

/// Where each record is, by id and by owner, so that no read scans a collection: a lookup
/// costs a hash, a page costs its size.
#[derive(Default)]
pub(super) struct Lookups {
    agents: HashMap<String, usize>,
    contacts: HashMap<String, usize>,
    companies: HashMap<String, usize>,
    conversations: HashMap<String, usize>,
    sales: HashMap<String, usize>,
    /// Positions in `conversations` of each agent's and each contact's, in list order.
    pub(super) conversations_by_agent: Vec<Vec<usize>>,
    pub(super) conversations_by_contact: Vec<Vec<usize>>,
    /// Positions in `sales` of each agent's sales, in list order.
    pub(super) sales_by_owner: Vec<Vec<usize>>,
    /// Whether `conversations` is in start order, so a date window is found by binary search.
    pub(super) conversations_in_date_order: bool,
    /// Whether `sales` is in date order (the generated organization always is).
    pub(super) sales_in_date_order: bool,
}

/// Each record's position by the id in its `key` field (the first, for a repeated id).
fn positions(records: &[Value], key: &str) -> HashMap<String, usize> {
    let mut ids = HashMap::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        if let Some(id) = record[key].as_str() {
            ids.entry(id.to_owned()).or_insert(i);
        }
    }
    ids
}

impl Lookups {
    fn of(org: &Org) -> Lookups {
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
        let mut by_owner = vec![Vec::new(); org.agents.len()];
        let mut sales = HashMap::with_capacity(org.sales.len());
        for (i, sale) in org.sales.iter().enumerate() {
            sales.entry(sale.id.to_string()).or_insert(i);
            if let Some(list) = by_owner.get_mut(sale.owner) {
                list.push(i);
            }
        }
        Lookups {
            agents: positions(&org.agents, "agent_id"),
            contacts: positions(&org.contacts, "contact_id"),
            companies: positions(&org.companies, "company_id"),
            conversations,
            sales,
            conversations_by_agent: by_agent,
            conversations_by_contact: by_contact,
            sales_by_owner: by_owner,
            conversations_in_date_order: org.conversations.is_sorted_by_key(|c| c.start),
            sales_in_date_order: org.sales.is_sorted_by_key(|s| s.created),
        }
    }
}

impl Org {
    /// The organization with its lookups made.
    pub(super) fn indexed(mut self) -> Org {
        self.lookups = Lookups::of(&self);
        self
    }

    pub(super) fn agent(&self, id: &str) -> Option<usize> {
        self.lookups.agents.get(id).copied()
    }

    pub(super) fn contact(&self, id: &str) -> Option<usize> {
        self.lookups.contacts.get(id).copied()
    }

    pub(super) fn company(&self, id: &str) -> Option<usize> {
        self.lookups.companies.get(id).copied()
    }

    pub(super) fn conversation(&self, id: &str) -> Option<usize> {
        self.lookups.conversations.get(id).copied()
    }

    pub(super) fn sale(&self, id: &str) -> Option<usize> {
        self.lookups.sales.get(id).copied()
    }

    /// A new id of HyperRep's shape, never one a record already has.
    pub(super) fn next_id(&mut self, kind: &str) -> String {
        loop {
            self.counter += 1;
            let id = super::render::id(kind, self.counter as usize);
            let taken = match kind {
                "contact" => self.contact(&id).is_some(),
                "company" => self.company(&id).is_some(),
                _ => false,
            };
            if !taken {
                return id;
            }
        }
    }

    pub(super) fn add_contact(&mut self, contact: Value) {
        if let Some(id) = contact["contact_id"].as_str() {
            self.lookups
                .contacts
                .entry(id.to_owned())
                .or_insert(self.contacts.len());
        }
        self.contacts.push(contact);
        self.lookups.conversations_by_contact.push(Vec::new());
    }

    pub(super) fn add_company(&mut self, company: Value) {
        if let Some(id) = company["company_id"].as_str() {
            self.lookups
                .companies
                .entry(id.to_owned())
                .or_insert(self.companies.len());
        }
        self.companies.push(company);
    }

    /// The highest number an id the sandbox made holds (`gAAAAABcontact0000012-x_Q=`).
    fn highest_id_number(&self) -> u64 {
        let counted =
            |id: Option<&str>| -> u64 { id.and_then(super::render::number_of).unwrap_or(0) };
        let contacts = self
            .contacts
            .iter()
            .map(|c| counted(c["contact_id"].as_str()));
        let companies = self
            .companies
            .iter()
            .map(|c| counted(c["company_id"].as_str()));
        let drafts = self
            .drafts
            .iter()
            .map(|d| counted(d.value["response_id"].as_str()));
        contacts.chain(companies).chain(drafts).max().unwrap_or(0)
    }

    /// An organization read back from its saved form, its links checked (a position past
    /// the end of its list would name nothing).
    pub(super) fn from_saved(saved: &RawValue) -> Result<Org, String> {
        let org: Org = serde_json::from_str(saved.get()).map_err(|e| e.to_string())?;
        let (agents, contacts) = (org.agents.len(), org.contacts.len());
        if org.messages.len() != org.conversations.len() {
            return Err("its conversations and their messages do not pair up".into());
        }
        let bad_link = org
            .conversations
            .iter()
            .any(|c| c.agent >= agents || c.contact >= contacts)
            || org
                .messages
                .iter()
                .flatten()
                .any(|m| m.agent.is_some_and(|a| a >= agents))
            || org.sales.iter().any(|s| s.owner >= agents);
        if bad_link {
            return Err("a record links to an agent or contact that is not there".into());
        }
        // A document whose counter was lowered by hand must not make ids given out again.
        let mut org = org.indexed();
        org.counter = org.counter.max(org.highest_id_number());
        Ok(org)
    }
}
