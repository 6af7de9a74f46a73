//! Every HyperRep operation: the request the client sends (method, path, query, headers,
//! body) and the decoding of the documented example answer, plus the error bodies and the
//! handling of long opaque ids.
#![cfg(feature = "hyperrep")]

mod common;

use chrono::{DateTime, Utc};
use common::{hyperrep, hyperrep_headers, no_query};
use httpmock::Method::{GET, POST};
use revenue_agents::hyperrep::types;
use revenue_agents::{ApiErrorBody, Error, ErrorKind};
use serde_json::json;

/// A Fernet-style id as HyperRep issues them: long, URL-safe base64 with `-`, `_` and `=`.
const ORG: &str = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3-_Zq9=";
const AGENT: &str = "gAAAAABexampleAgentIdReturnedByApi5qN8xLm3sV6kRt2cY9hJ4uW1dF7";
const CONV: &str = "gAAAAABexampleConversationIdReturnedByApi8kP3xLs7dV2mTr5cN9hY1uJ4";

fn org(rest: &str) -> String {
    format!("/api/v2/organizations/{ORG}{rest}")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn pagination(limit: u64, next: Option<&str>) -> serde_json::Value {
    json!({"limit": limit, "cursor": null, "next_cursor": next, "has_more": next.is_some()})
}

fn conversation_example() -> serde_json::Value {
    json!({
        "conversation_id": CONV,
        "start_at": "2026-04-29T14:00:00Z",
        "last_activity_at": "2026-04-29T16:00:00Z",
        "folder": "inbox",
        "is_read": false,
        "contact_id": "gAAAAABexampleContactIdReturnedByApi4pQ8xLm2sV7kRt1cN5hY9uJ3dF6"
    })
}

fn message_example() -> serde_json::Value {
    json!({
        "message_id": "gAAAAABexampleMessageIdReturnedByApi9mT4xLs2qV7kRc5dN1hY8uJ3pF6",
        "conversation_id": CONV,
        "agent_id": null,
        "modality": "email",
        "message_direction": "sent",
        "is_form_request": false,
        "subject": "Following up on your inquiry",
        "content": "Hi Diana, just checking in on the quote we sent over last week.",
        "call_transcript": null,
        "form_request_body": null,
        "sent_at": "2026-04-29T15:02:00Z",
        "drafted_at": null,
        "email_metadata": {"email_message_id": "<message-id@example.com>", "cc_emails": [], "bcc_emails": []},
        "call_metadata": {"duration": null},
        "tracked_links": [{"link_id": "gAAAAABexampleTrackedLink", "url": "https://example.com/quote", "click_count": 3}]
    })
}

fn contact_example() -> serde_json::Value {
    json!({
        "contact_id": "HR_id_example_contact_id",
        "name": "Diana Prince",
        "email": "diana@example.com",
        "phone_number": "513-867-5309",
        "created_at": "2026-03-12T00:32:13.782565Z",
        "company_id": "HR_id_example_company_id",
        "custom_fields": {"notes": "Prefers SMS"},
        "company_role": "Facilities Manager"
    })
}

fn company_example() -> serde_json::Value {
    json!({
        "company_id": "HR_id_example_company_id",
        "name": "HyperRep Consumer Group",
        "domain": "hyperrep.com",
        "custom_fields": {"notes": "Priority account"},
        "address": "123 Main St, Anytown USA",
        "agent_id": "HR_id_example_agent_id",
        "created_at": "2026-03-10T12:00:00Z"
    })
}

fn sale_example() -> serde_json::Value {
    json!({
        "sale_id": "HR_id_example_sale_id",
        "associated_conversation_ids": ["HR_id_example_conversation_id"],
        "company_id": "HR_id_example_company_id",
        "owner_id": "HR_id_example_agent_id",
        "associated_contacts": [{"contact_id": "HR_id_example_contact_id", "is_primary": true}],
        "quote_details": {
            "output": {"currency": "USD", "total_price": "1200.00"},
            "arguments": {"products": [{"quantity": 1, "unit_price": "1200.00", "product_name": "Legacy Seed Service"}]},
            "agent_overrides": {"products.unit_price": {"Legacy Seed Service": 1200}}
        },
        "custom_fields": {"notes": "Backfilled sale for new sales framework compatibility."},
        "current_status": {"label": "Accepted", "status": "accepted", "changed_at": "2026-03-13T01:28:41.829924Z"},
        "status_history": [
            {"label": "Qualified", "status": null, "changed_at": "2026-03-12T01:28:41.829924Z"},
            {"label": "Quoted", "status": "quote_sent", "changed_at": "2026-03-12T01:43:41.829924Z"},
            {"label": "Accepted", "status": "accepted", "changed_at": "2026-03-13T01:28:41.829924Z"}
        ],
        "created_at": "2026-03-12T01:28:41.829924Z",
        "last_activity_at": "2026-03-12T01:28:41.829924Z"
    })
}

/// Matches the raw (still percent-encoded) path and query, so that encoding is asserted, not
/// just the decoded value.
fn raw_query_contains(when: httpmock::When, needle: &'static str) -> httpmock::When {
    when.is_true(move |req| req.uri().query().unwrap_or_default().contains(needle))
}

#[tokio::test]
async fn list_organizations_decodes_data_only() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET).path("/api/v2/organizations"),
            ));
            then.status(200)
                .json_body(json!({"data": [{"organization_id": ORG, "name": "Acme Roofing"}]}));
        })
        .await;
    let orgs = client.list_organizations().send().await.unwrap();
    assert_eq!(orgs.data[0].organization_id, ORG);
    assert_eq!(orgs.data[0].name, "Acme Roofing");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_agents_keeps_long_ids_intact_and_sends_paging() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET))
                .is_true(|req| req.uri().path() == org("/agents"))
                .query_param("limit", "25")
                .query_param("cursor", "Y3Vyc29y-_==");
            then.status(200).json_body(json!({
                "data": [{"agent_id": AGENT, "name": "Kara Danvers", "email": "kara@example.com"}],
                "pagination": pagination(25, Some("next==")),
            }));
        })
        .await;
    let page = client
        .list_agents()
        .organization_id(ORG)
        .limit(25)
        .cursor("Y3Vyc29y-_==")
        .send()
        .await
        .unwrap();
    assert_eq!(page.data[0].email.as_deref(), Some("kara@example.com"));
    assert_eq!(page.pagination.next_cursor.as_deref(), Some("next=="));
    assert!(page.pagination.has_more);
    mock.assert_async().await;
}

#[tokio::test]
async fn get_agent_decodes_a_bare_object() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET).path(org(&format!("/agents/{AGENT}"))),
            ));
            then.status(200)
                .json_body(json!({"agent_id": AGENT, "name": "Kara Danvers", "email": null}));
        })
        .await;
    let agent = client
        .get_agent()
        .organization_id(ORG)
        .agent_id(AGENT)
        .send()
        .await
        .unwrap();
    assert_eq!(agent.name, "Kara Danvers");
    assert!(agent.email.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn list_agent_conversations_encodes_the_date_window() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            let when = hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/agents/{AGENT}/conversations"))),
            )
            .query_param("start_date", "2026-04-01T00:00:00Z")
            .query_param("end_date", "2026-04-30T23:59:59Z");
            raw_query_contains(when, "start_date=2026-04-01T00%3A00%3A00Z");
            then.status(200).json_body(
                json!({"data": [conversation_example()], "pagination": pagination(50, None)}),
            );
        })
        .await;
    let page = client
        .list_agent_conversations()
        .organization_id(ORG)
        .agent_id(AGENT)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.data[0].folder, "inbox");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_agent_sales_decodes_sales() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/agents/{AGENT}/sales"))),
            )
            .query_param("limit", "10")
            .query_param_missing("start_date");
            then.status(200)
                .json_body(json!({"data": [sale_example()], "pagination": pagination(10, None)}));
        })
        .await;
    let page = client
        .list_agent_sales()
        .organization_id(ORG)
        .agent_id(AGENT)
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.data[0].owner_id.as_deref(),
        Some("HR_id_example_agent_id")
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn get_agent_analytics_sends_required_dates() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/agents/{AGENT}/analytics"))),
            )
            .query_param("start_date", "2026-04-01T00:00:00Z")
            .query_param("end_date", "2026-05-01T00:00:00Z");
            then.status(200).json_body(json!({
                "conversations": {"conversationsRespondedTo": 42, "messagesSent": 118},
                "sales": {
                    "pipeline": [
                        {"name": "Accepted", "status": "accepted", "volume": 1, "value": "1200.0"},
                        {"name": "Closed Won", "status": null, "volume": 1, "value": "1200.0"}
                    ],
                    "salesRate": 0.4
                }
            }));
        })
        .await;
    let analytics = client
        .get_agent_analytics()
        .organization_id(ORG)
        .agent_id(AGENT)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-05-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(analytics.conversations.conversations_responded_to, Some(42));
    assert_eq!(analytics.sales.pipeline[1].status, None);
    assert_eq!(analytics.sales.pipeline[0].value.as_deref(), Some("1200.0"));
    assert_eq!(analytics.sales.sales_rate, Some(0.4));
    mock.assert_async().await;
}

#[tokio::test]
async fn get_agent_conversation_analytics_decodes_the_block() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/agents/{AGENT}/analytics/conversations"))),
            )
            .query_param_exists("start_date")
            .query_param_exists("end_date");
            then.status(200)
                .json_body(json!({"conversationsRespondedTo": 3, "messagesSent": 9}));
        })
        .await;
    let stats = client
        .get_agent_conversation_analytics()
        .organization_id(ORG)
        .agent_id(AGENT)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-05-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(stats.messages_sent, Some(9));
    mock.assert_async().await;
}

#[tokio::test]
async fn get_agent_sales_analytics_decodes_the_block() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/agents/{AGENT}/analytics/sales"))),
            )
            .query_param("start_date", "2026-04-01T00:00:00Z");
            then.status(200)
                .json_body(json!({"pipeline": [], "salesRate": 0.0}));
        })
        .await;
    let stats = client
        .get_agent_sales_analytics()
        .organization_id(ORG)
        .agent_id(AGENT)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-05-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    assert!(stats.pipeline.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn list_conversations_sends_limit_and_dates() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            let when = hyperrep_headers(when.method(GET).path(org("/conversations")))
                .query_param("limit", "25")
                .query_param("start_date", "2026-04-01T00:00:00Z")
                .query_param("end_date", "2026-04-30T23:59:59Z");
            raw_query_contains(when, "end_date=2026-04-30T23%3A59%3A59Z");
            then.status(200).json_body(
                json!({"data": [conversation_example()], "pagination": pagination(25, None)}),
            );
        })
        .await;
    let page = client
        .list_conversations()
        .organization_id(ORG)
        .limit(25)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.data[0].conversation_id, CONV);
    assert!(!page.data[0].is_read);
    assert!(!page.pagination.has_more);
    mock.assert_async().await;
}

#[tokio::test]
async fn get_conversation_decodes_a_bare_object() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/conversations/{CONV}"))),
            ));
            then.status(200).json_body(conversation_example());
        })
        .await;
    let conversation = client
        .get_conversation()
        .organization_id(ORG)
        .conversation_id(CONV)
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.last_activity_at, at("2026-04-29T16:00:00Z"));
    mock.assert_async().await;
}

#[tokio::test]
async fn list_conversation_messages_decodes_the_documented_message() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/conversations/{CONV}/messages"))),
            )
            .query_param("limit", "50");
            then.status(200).json_body(
                json!({"data": [message_example()], "pagination": pagination(50, None)}),
            );
        })
        .await;
    let page = client
        .list_conversation_messages()
        .organization_id(ORG)
        .conversation_id(CONV)
        .limit(50)
        .send()
        .await
        .unwrap();
    let message = &page.data[0];
    assert_eq!(
        (
            message.modality.as_str(),
            message.message_direction.as_str()
        ),
        ("email", "sent")
    );
    assert!(message.agent_id.is_none() && message.form_request_body.is_none());
    assert_eq!(message.tracked_links[0].click_count, 3);
    let email = message.email_metadata.as_ref().unwrap();
    assert_eq!(
        email.email_message_id.as_deref(),
        Some("<message-id@example.com>")
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn get_conversation_message_decodes_a_bare_message() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET)
                    .path(org(&format!("/conversations/{CONV}/messages/msg-1"))),
            ));
            let mut message = message_example();
            message["modality"] = json!("call");
            message["call_metadata"] = json!({"duration": 312});
            message["form_request_body"] = json!({"field": "value"});
            then.status(200).json_body(message);
        })
        .await;
    let message = client
        .get_conversation_message()
        .organization_id(ORG)
        .conversation_id(CONV)
        .message_id("msg-1")
        .send()
        .await
        .unwrap();
    // Not one of the values the pages list: kept as sent rather than failing the answer.
    assert_eq!(message.modality.as_str(), "call");
    assert!(!message.modality.is_known());
    assert_eq!(
        message.call_metadata.as_ref().unwrap().duration,
        Some(312.0)
    );
    assert_eq!(message.form_request_body, Some(json!({"field": "value"})));
    mock.assert_async().await;
}

#[tokio::test]
async fn create_response_draft_posts_the_reply() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(
                when.method(POST)
                    .path(org(&format!("/conversations/{CONV}/response-drafts"))),
            )
            .header("content-type", "application/json")
            .json_body(json!({
                "body_html": "<p>Tuesday at 2pm works.</p>",
                "cc_emails": ["kara@example.com"],
                "autosend_draft": false, "add_notification": true
            }));
            then.status(200).json_body(json!({
                "response_id": "HR_id_example_response_draft_id", "conversation_id": CONV,
                "scheduled_to_send": false, "scheduled_send_at": null
            }));
        })
        .await;
    let draft = client
        .create_response_draft()
        .organization_id(ORG)
        .conversation_id(CONV)
        .body(
            types::ResponseDraftCreate::builder()
                .body_html("<p>Tuesday at 2pm works.</p>")
                .cc_emails(vec!["kara@example.com".to_string()])
                .autosend_draft(false)
                .add_notification(Some(true)),
        )
        .send()
        .await
        .unwrap();
    assert!(!draft.scheduled_to_send && draft.scheduled_send_at.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn list_response_drafts_decodes_a_page() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET).path(org(&format!("/conversations/{CONV}/response-drafts"))))
                .query_param("cursor", "rd2");
            then.status(200).json_body(json!({
                "data": [{"response_id": "r1", "conversation_id": CONV, "scheduled_to_send": true,
                          "scheduled_send_at": "2026-05-22T20:45:03.221009Z", "body_html": "<p>hi</p>"}],
                "pagination": pagination(50, None)
            }));
        })
        .await;
    let page = client
        .list_response_drafts()
        .organization_id(ORG)
        .conversation_id(CONV)
        .cursor("rd2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.data[0].scheduled_send_at,
        Some(at("2026-05-22T20:45:03.221009Z"))
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn list_contacts_decodes_custom_fields() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET).path(org("/contacts"))).query_param("limit", "25");
            then.status(200).json_body(
                json!({"data": [contact_example()], "pagination": pagination(25, None)}),
            );
        })
        .await;
    let page = client
        .list_contacts()
        .organization_id(ORG)
        .limit(25)
        .send()
        .await
        .unwrap();
    let contact = &page.data[0];
    assert_eq!(
        contact.custom_fields.as_ref().unwrap()["notes"],
        "Prefers SMS"
    );
    assert_eq!(contact.created_at, at("2026-03-12T00:32:13.782565Z"));
    mock.assert_async().await;
}

#[tokio::test]
async fn create_contact_posts_identity_fields() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(POST).path(org("/contacts")))
                .json_body(json!({"name": "Diana Prince", "email": "diana@example.com"}));
            then.status(200).json_body(contact_example());
        })
        .await;
    let contact = client
        .create_contact()
        .organization_id(ORG)
        .body(types::ContactCreate {
            name: Some("Diana Prince".parse().unwrap()),
            email: Some("diana@example.com".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(contact.contact_id, "HR_id_example_contact_id");
    mock.assert_async().await;
}

#[tokio::test]
async fn get_contact_decodes_a_bare_contact() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET)
                    .path(org("/contacts/HR_id_example_contact_id")),
            ));
            then.status(200).json_body(contact_example());
        })
        .await;
    let contact = client
        .get_contact()
        .organization_id(ORG)
        .contact_id("HR_id_example_contact_id")
        .send()
        .await
        .unwrap();
    assert_eq!(contact.company_role.as_deref(), Some("Facilities Manager"));
    mock.assert_async().await;
}

#[tokio::test]
async fn list_contact_conversations_sends_paging() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET).path(org("/contacts/C-1/conversations")))
                .query_param("limit", "5")
                .query_param("cursor", "p2");
            then.status(200)
                .json_body(json!({"data": [], "pagination": pagination(5, None)}));
        })
        .await;
    let page = client
        .list_contact_conversations()
        .organization_id(ORG)
        .contact_id("C-1")
        .limit(5)
        .cursor("p2")
        .send()
        .await
        .unwrap();
    assert!(page.data.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn list_companies_decodes_a_page() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(when.method(GET).path(org("/companies"))));
            then.status(200).json_body(
                json!({"data": [company_example()], "pagination": pagination(25, None)}),
            );
        })
        .await;
    let page = client
        .list_companies()
        .organization_id(ORG)
        .send()
        .await
        .unwrap();
    assert_eq!(page.data[0].domain.as_deref(), Some("hyperrep.com"));
    mock.assert_async().await;
}

#[tokio::test]
async fn create_company_posts_the_company() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(POST).path(org("/companies"))).json_body(json!({
                "name": "Ferris Aircraft",
                "domain": "ferrisaircraft.com",
                "agent_id": "HR_id_example_agent_id"
            }));
            let mut company = company_example();
            company["name"] = json!("Ferris Aircraft");
            then.status(200).json_body(company);
        })
        .await;
    let company = client
        .create_company()
        .organization_id(ORG)
        .body(
            types::CompanyCreate::builder()
                .name("Ferris Aircraft")
                .domain("ferrisaircraft.com")
                .agent_id("HR_id_example_agent_id"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(company.name, "Ferris Aircraft");
    mock.assert_async().await;
}

#[tokio::test]
async fn get_company_decodes_a_bare_company() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET)
                    .path(org("/companies/HR_id_example_company_id")),
            ));
            then.status(200).json_body(company_example());
        })
        .await;
    let company = client
        .get_company()
        .organization_id(ORG)
        .company_id("HR_id_example_company_id")
        .send()
        .await
        .unwrap();
    assert_eq!(company.address.as_deref(), Some("123 Main St, Anytown USA"));
    mock.assert_async().await;
}

#[tokio::test]
async fn list_sales_decodes_money_as_decimal_strings() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET).path(org("/sales")))
                .query_param("limit", "25")
                .query_param("start_date", "2026-04-01T00:00:00Z")
                .query_param("end_date", "2026-04-30T23:59:59Z");
            then.status(200)
                .json_body(json!({"data": [sale_example()], "pagination": pagination(25, None)}));
        })
        .await;
    let page = client
        .list_sales()
        .organization_id(ORG)
        .limit(25)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await
        .unwrap();
    let sale = &page.data[0];
    let quote = sale.quote_details.as_ref().unwrap();
    assert_eq!(
        quote.output.as_ref().unwrap().total_price.as_deref(),
        Some("1200.00")
    );
    assert_eq!(
        quote.arguments.as_ref().unwrap().products[0]
            .unit_price
            .as_deref(),
        Some("1200.00")
    );
    assert_eq!(
        quote.agent_overrides["products.unit_price"]["Legacy Seed Service"],
        1200.0
    );
    assert_eq!(sale.status_history.len(), 3);
    assert_eq!(sale.status_history[0].status, None);
    assert_eq!(
        sale.current_status.as_ref().unwrap().status,
        Some(revenue_agents::hyperrep::SaleStatusCode::Accepted)
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn get_sale_decodes_a_bare_sale() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(hyperrep_headers(
                when.method(GET).path(org("/sales/HR_id_example_sale_id")),
            ));
            then.status(200).json_body(sale_example());
        })
        .await;
    let sale = client
        .get_sale()
        .organization_id(ORG)
        .sale_id("HR_id_example_sale_id")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sale.associated_contacts[0].contact_id,
        "HR_id_example_contact_id"
    );
    mock.assert_async().await;
}

fn draft_request() -> types::MessageDraftCreate {
    types::MessageDraftCreate::builder()
        .modality(types::DraftModality::Email)
        .subject("Following up on your quote")
        .body_html("<p>Hi Diana</p>")
        .to_email("diana@example.com")
        .folder("Sales Follow-up")
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn create_message_draft_posts_the_draft() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(POST).path(org("/message-drafts"))).json_body(json!({
                "modality": "email",
                "subject": "Following up on your quote",
                "body_html": "<p>Hi Diana</p>",
                "to_email": "diana@example.com",
                "autosend_draft": false,
                "folder": "Sales Follow-up"
            }));
            then.status(200).json_body(json!({
                "draft_id": "HR_id_example_message_draft_id", "scheduled_to_send": true,
                "scheduled_send_at": "2026-05-02T21:17:42.130649Z", "folder": "sales-follow-up"
            }));
        })
        .await;
    let draft = client
        .create_message_draft()
        .organization_id(ORG)
        .body(draft_request())
        .send()
        .await
        .unwrap();
    assert!(draft.scheduled_to_send);
    assert_eq!(draft.folder, "sales-follow-up");
    mock.assert_async().await;
}

#[tokio::test]
#[allow(deprecated)]
async fn create_messages_draft_legacy_decodes_the_older_fields() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(POST).path(org("/messages-drafts")))
                .json_body_includes(r#"{"modality": "email"}"#);
            then.status(200).json_body(json!({
                "draft_id": "gAAAAABexampleDraftId", "queued_to_send": false,
                "send_at": null, "folder": "sales-follow-up"
            }));
        })
        .await;
    let draft = client
        .create_messages_draft_legacy()
        .organization_id(ORG)
        .body(draft_request())
        .send()
        .await
        .unwrap();
    assert!(!draft.queued_to_send && draft.send_at.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn get_conversation_analytics_keeps_camel_case_fields() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            let when = hyperrep_headers(when.method(GET).path(org("/analytics/conversations")))
                .query_param("start_date", "2026-04-01T00:00:00Z")
                .query_param("end_date", "2026-04-30T23:59:59Z");
            let when = raw_query_contains(when, "start_date=2026-04-01T00%3A00%3A00Z");
            raw_query_contains(when, "end_date=2026-04-30T23%3A59%3A59Z");
            then.status(200).json_body(json!({
                "responseRateStats": {"numConversationsRespondedTo": 14, "numConversationsReceived": 20, "responseRate": 0.7},
                "responseTimeStats": {"responseTime": 3600},
                "volumeStats": {"numMessagesReceived": 120, "numMessagesSent": 118, "totalConversations": 42},
                "modalityStats": {"textMessages": 10, "calls": 4, "emails": 20, "liveChats": 6, "formRequests": 2}
            }));
        })
        .await;
    let analytics = client
        .get_conversation_analytics()
        .organization_id(ORG)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(analytics.response_rate_stats.response_rate, Some(0.7));
    assert_eq!(analytics.volume_stats.total_conversations, Some(42));
    assert_eq!(analytics.modality_stats.live_chats, Some(6));
    mock.assert_async().await;
}

#[tokio::test]
async fn get_response_rate_analytics_decodes_the_block() {
    let (server, client) = hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            hyperrep_headers(when.method(GET).path(org("/analytics/conversations/response-rate")))
                .query_param("start_date", "2026-04-01T00:00:00Z")
                .query_param("end_date", "2026-04-30T23:59:59Z");
            then.status(200).json_body(json!({"numConversationsRespondedTo": 14, "numConversationsReceived": 20, "responseRate": 0.7}));
        })
        .await;
    let stats = client
        .get_response_rate_analytics()
        .organization_id(ORG)
        .start_date(at("2026-04-01T00:00:00Z"))
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(stats.num_conversations_received, Some(20));
    mock.assert_async().await;
}

#[tokio::test]
async fn analytics_without_dates_fail_before_any_request() {
    let (server, client) = hyperrep().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({}));
        })
        .await;
    let missing_start = client
        .get_conversation_analytics()
        .organization_id(ORG)
        .end_date(at("2026-04-30T23:59:59Z"))
        .send()
        .await;
    assert!(refused(&missing_start), "{missing_start:?}");
    let message = missing_start.unwrap_err().to_string();
    assert!(message.contains("start_date"), "{message}");
    let missing_both = client
        .get_agent_sales_analytics()
        .organization_id(ORG)
        .agent_id(AGENT)
        .send()
        .await;
    assert!(refused(&missing_both), "{missing_both:?}");
    assert_eq!(any.calls_async().await, 0);
}

/// The status and the API's error body of a failed call.
fn detail(result: Result<impl std::fmt::Debug, Error>) -> (u16, ApiErrorBody) {
    match result {
        Err(error) => match (error.status(), error.api_error()) {
            (Some(status), Some(body)) => (status, body.clone()),
            _ => panic!("expected an error body, got {error:?}"),
        },
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Whether the call was refused locally, before anything was sent.
fn refused<T>(result: &Result<T, Error>) -> bool {
    matches!(
        result.as_ref().map_err(Error::kind),
        Err(ErrorKind::InvalidRequest { .. })
    )
}

#[tokio::test]
async fn forbidden_not_found_and_validation_errors_decode() {
    let (server, client) = hyperrep().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations");
            then.status(403)
                .json_body(json!({"detail": "Invalid API Key"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(org("/conversations/missing"));
            then.status(404)
                .json_body(json!({"detail": "Conversation not found"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(org("/conversations"));
            then.status(422).json_body(json!({"detail": [
                {"loc": ["query", "limit"], "msg": "ensure this value is less than or equal to 500", "type": "value_error.number.not_le"},
                {"loc": ["body", 0, "email"], "msg": "not a valid email", "type": "value_error.email"}
            ]}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(org("/sales"));
            then.status(400)
                .json_body(json!({"detail": "Invalid cursor"}));
        })
        .await;

    let (status, body) = detail(client.list_organizations().send().await);
    assert_eq!(status, 403);
    assert_eq!(body.message, "Invalid API Key");

    let (status, body) = detail(
        client
            .get_conversation()
            .organization_id(ORG)
            .conversation_id("missing")
            .send()
            .await,
    );
    assert_eq!(status, 404);
    assert_eq!(body.message, "Conversation not found");

    let (status, body) = detail(
        client
            .list_conversations()
            .organization_id(ORG)
            .send()
            .await,
    );
    assert_eq!(status, 422);
    let problems = body.problems;
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].kind, "value_error.number.not_le");
    assert_eq!(problems[1].location, "body.0.email");

    let (status, _) = detail(
        client
            .list_sales()
            .organization_id(ORG)
            .cursor("stale")
            .send()
            .await,
    );
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_empty_id_never_leaves_the_client() {
    let (server, client) = hyperrep().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"data": [], "pagination": pagination(1, None)}));
        })
        .await;
    let result = client.list_contacts().organization_id("").send().await;
    assert!(refused(&result), "{result:?}");
    let result = client
        .get_contact()
        .organization_id(ORG)
        .contact_id("")
        .send()
        .await;
    assert!(refused(&result), "{result:?}");
    assert_eq!(any.calls_async().await, 0);
}
