//! HyperRep's operations: reads of the organization, and the calls that create contacts,
//! companies and drafts, each checking its body as HyperRep's framework does.

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::{
    Hr, ORG_ID, lists,
    org::{Draft, Org},
    render::ts,
};
use crate::sandbox::{
    contract::{Flaw, Problem},
    http::{Call, Fields, Reply, is_email, json},
};

/// A refusal HyperRep words as a plain 400.
fn bad_request(call: &Call, message: &str) -> Response {
    call.refuse(StatusCode::BAD_REQUEST, Problem::BadRequest, message)
}

fn conversation(org: &Org, call: &Call) -> Result<usize, Response> {
    org.conversation(call.param("conversation_id"))
        .ok_or_else(|| call.not_found("Conversation not found"))
}

/// A contact id that names nothing is a rejected value to HyperRep, not a missing record.
fn contact(org: &Org, call: &Call) -> Result<usize, Response> {
    org.contact(call.param("contact_id"))
        .ok_or_else(|| bad_request(call, "Invalid contact_id"))
}

pub(super) fn list_organizations(_: &Hr, _: &Call) -> Reply {
    Ok(json(
        StatusCode::OK,
        &json!({"data": [{"organization_id": ORG_ID, "name": "Acme Roofing (sandbox)"}]}),
    ))
}

pub(super) fn list_agents(hr: &Hr, call: &Call) -> Reply {
    lists::plain(call, "agents", hr.read().agents.iter())
}

pub(super) fn get_agent(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let agent = hr.agent(&org, call)?;
    Ok(json(StatusCode::OK, &org.agents[agent]))
}

pub(super) fn list_agent_conversations(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let agent = hr.agent(&org, call)?;
    let collection = format!("agent-conversations-{}", call.param("agent_id"));
    let positions = &org.lookups.conversations_by_agent[agent];
    lists::conversations(&org, call, &collection, Some(positions))
}

pub(super) fn list_agent_sales(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let agent = hr.agent(&org, call)?;
    let collection = format!("agent-sales-{}", call.param("agent_id"));
    lists::sales(
        &org,
        call,
        &collection,
        Some(&org.lookups.sales_by_owner[agent]),
    )
}

pub(super) fn list_conversations(hr: &Hr, call: &Call) -> Reply {
    lists::conversations(&hr.read(), call, "conversations", None)
}

pub(super) fn get_conversation(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = conversation(&org, call)?;
    Ok(json(StatusCode::OK, &org.conversations[i].value))
}

pub(super) fn list_messages(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = conversation(&org, call)?;
    let collection = format!("messages-{}", call.param("conversation_id"));
    let items = org.messages[i].iter().map(|m| (&m.value, m.sent_at));
    lists::dated(call, &collection, items)
}

pub(super) fn get_message(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = conversation(&org, call)?;
    let id = call.param("message_id");
    let message = org.messages[i]
        .iter()
        .find(|m| m.value["message_id"] == id)
        .ok_or_else(|| call.not_found("Message not found"))?;
    Ok(json(StatusCode::OK, &message.value))
}

pub(super) fn list_response_drafts(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    conversation(&org, call)?;
    let id = call.param("conversation_id");
    let collection = format!("response-drafts-{id}");
    let items = org
        .drafts
        .iter()
        .filter(|d| d.conversation == id)
        .map(|d| (&d.value, d.created));
    lists::dated(call, &collection, items)
}

pub(super) fn list_contacts(hr: &Hr, call: &Call) -> Reply {
    lists::plain(call, "contacts", hr.read().contacts.iter())
}

pub(super) fn get_contact(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = contact(&org, call)?;
    Ok(json(StatusCode::OK, &org.contacts[i]))
}

pub(super) fn list_contact_conversations(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = contact(&org, call)?;
    let collection = format!("contact-conversations-{}", call.param("contact_id"));
    let positions = &org.lookups.conversations_by_contact[i];
    lists::conversations(&org, call, &collection, Some(positions))
}

pub(super) fn list_companies(hr: &Hr, call: &Call) -> Reply {
    lists::plain(call, "companies", hr.read().companies.iter())
}

pub(super) fn get_company(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = org
        .company(call.param("company_id"))
        .ok_or_else(|| call.not_found("Company not found"))?;
    Ok(json(StatusCode::OK, &org.companies[i]))
}

pub(super) fn list_sales(hr: &Hr, call: &Call) -> Reply {
    lists::sales(&hr.read(), call, "sales", None)
}

pub(super) fn get_sale(hr: &Hr, call: &Call) -> Reply {
    let org = hr.read();
    let i = org
        .sale(call.param("sale_id"))
        .ok_or_else(|| call.not_found("Sale not found"))?;
    Ok(json(StatusCode::OK, &*org.sales[i].json))
}

/// `custom_fields`: an object, `{}` when absent.
fn custom_fields(body: &Fields<'_>) -> Result<Value, Response> {
    Ok(body
        .object("custom_fields")?
        .map_or_else(|| json!({}), |o| Value::Object(o.clone())))
}

/// An email member, when given.
fn email(body: &Fields<'_>, name: &str) -> Result<Option<String>, Response> {
    match body.string(name)? {
        Some(e) if !is_email(e) => Err(body.invalid(name, Flaw::NotEmail)),
        other => Ok(other.map(str::to_owned)),
    }
}

/// A folder's name as HyperRep files it: lower case, runs of other characters as one `-`.
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

const MODALITIES: &[&str] = &["email", "text"];

/// Whether a draft may be sent at once: not when it also asks for a notification.
fn autosend(call: &Call, body: &Fields<'_>) -> Result<bool, Response> {
    let autosend = body.flag("autosend_draft")?;
    if autosend && body.flag("add_notification")? {
        return Err(bad_request(
            call,
            "autosend_draft and add_notification cannot both be true",
        ));
    }
    Ok(autosend)
}

fn message_draft(hr: &Hr, call: &Call, legacy: bool) -> Reply {
    let body = call.fields()?;
    let modality = body
        .one_of("modality", MODALITIES)?
        .ok_or_else(|| body.invalid("modality", Flaw::Missing))?;
    let subject = body.string("subject")?;
    let html = body.string("body_html")?;
    if subject.is_none_or(str::is_empty) && html.is_none_or(str::is_empty) {
        return Err(bad_request(
            call,
            "At least one of subject or body_html is required",
        ));
    }
    let to_email = email(&body, "to_email")?;
    if modality == "email" && to_email.is_none() {
        return Err(bad_request(call, "to_email is required for email drafts"));
    }
    if modality == "text" && body.string("to_phone_number")?.is_none() {
        return Err(bad_request(
            call,
            "to_phone_number is required for text drafts",
        ));
    }
    body.string("to_user_name")?;
    body.emails("cc_emails")?;
    body.emails("bcc_emails")?;
    let autosend = autosend(call, &body)?;
    let folder = slug(body.string("folder")?.unwrap_or_default());
    let now = hr.clock.now();
    let draft_id = hr.write().next_id("draft");
    let at = autosend.then(|| ts(now));
    let answer = if legacy {
        json!({"draft_id": draft_id, "queued_to_send": autosend, "send_at": at, "folder": folder})
    } else {
        json!({"draft_id": draft_id, "scheduled_to_send": autosend, "scheduled_send_at": at, "folder": folder})
    };
    Ok(json(StatusCode::OK, &answer))
}

pub(super) fn create_message_draft(hr: &Hr, call: &Call) -> Reply {
    message_draft(hr, call, false)
}

pub(super) fn create_messages_draft_legacy(hr: &Hr, call: &Call) -> Reply {
    message_draft(hr, call, true)
}

pub(super) fn create_response_draft(hr: &Hr, call: &Call) -> Reply {
    let mut org = hr.write();
    conversation(&org, call)?;
    let id = call.param("conversation_id");
    let body = call.fields()?;
    let html = body
        .string("body_html")?
        .ok_or_else(|| body.invalid("body_html", Flaw::Missing))?;
    let cc = body.emails("cc_emails")?;
    let bcc = body.emails("bcc_emails")?;
    let autosend = autosend(call, &body)?;
    let now = hr.clock.now();
    // One pending reply per conversation: a new one replaces the pending one; queued ones stay.
    org.drafts.retain(|d| d.conversation != id || d.queued);
    let value = json!({
        "response_id": org.next_id("response"),
        "conversation_id": id,
        "scheduled_to_send": autosend,
        "scheduled_send_at": autosend.then(|| ts(now)),
        "body_html": html,
        "cc_emails": cc,
        "bcc_emails": bcc,
        "created_at": ts(now)
    });
    let answer = json!({
        "response_id": value["response_id"],
        "conversation_id": id,
        "scheduled_to_send": autosend,
        "scheduled_send_at": value["scheduled_send_at"]
    });
    org.drafts.push(Draft {
        value,
        conversation: id.to_owned(),
        created: now,
        queued: autosend,
    });
    Ok(json(StatusCode::OK, &answer))
}

pub(super) fn create_contact(hr: &Hr, call: &Call) -> Reply {
    let body = call.fields()?;
    let non_empty = |name| -> Result<Option<&str>, Response> {
        Ok(body.string(name)?.filter(|s| !s.is_empty()))
    };
    let (name, email_address, phone) = (
        non_empty("name")?,
        non_empty("email")?,
        non_empty("phone_number")?,
    );
    if name.is_none() && email_address.is_none() && phone.is_none() {
        return Err(bad_request(
            call,
            "At least one of name, email or phone_number is required",
        ));
    }
    if email_address.is_some_and(|e| !is_email(e)) {
        return Err(body.invalid("email", Flaw::NotEmail));
    }
    let company = body.string("company_id")?;
    let custom = custom_fields(&body)?;
    let role = body.string("company_role")?;
    let mut org = hr.write();
    if company.is_some_and(|c| org.company(c).is_none()) {
        return Err(bad_request(call, "Invalid company_id"));
    }
    let contact = json!({
        "contact_id": org.next_id("contact"),
        "name": name,
        "email": email_address,
        "phone_number": phone,
        "created_at": ts(hr.clock.now()),
        "company_id": company,
        "custom_fields": custom,
        "company_role": role
    });
    org.add_contact(contact.clone());
    Ok(json(StatusCode::OK, &contact))
}

pub(super) fn create_company(hr: &Hr, call: &Call) -> Reply {
    let body = call.fields()?;
    let name = body
        .string("name")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| body.invalid("name", Flaw::Missing))?;
    let domain = match body.string("domain")? {
        None => None,
        Some(raw) => {
            let lower = raw.trim().to_lowercase();
            let without_scheme = lower
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let host = without_scheme.split('/').next().unwrap_or("").to_owned();
            if !host.contains('.') {
                return Err(bad_request(call, "domain must contain a dot"));
            }
            Some(host)
        }
    };
    let agent = body.string("agent_id")?;
    let custom = custom_fields(&body)?;
    let address = body.string("address")?;
    let mut org = hr.write();
    if agent.is_some_and(|a| org.agent(a).is_none()) {
        return Err(bad_request(call, "Invalid agent_id"));
    }
    let company = json!({
        "company_id": org.next_id("company"),
        "name": name,
        "domain": domain,
        "address": address,
        "agent_id": agent,
        "custom_fields": custom,
        "created_at": ts(hr.clock.now())
    });
    org.add_company(company.clone());
    Ok(json(StatusCode::OK, &company))
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn folders_are_slugified() {
        assert_eq!(slug("Sales Follow-up"), "sales-follow-up");
        assert_eq!(slug("  "), "inbox");
    }
}
