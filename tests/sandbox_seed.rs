//! A sandbox started with the caller's own HyperRep records, and seeds that contradict
//! themselves refused with an error naming the record.
#![cfg(all(feature = "sandbox", feature = "hyperrep"))]

mod common;

use futures_util::TryStreamExt;
use revenue_agents::{
    Paginated,
    sandbox::{HyperRepSeed, Sandbox, SandboxConfig},
};
use serde_json::{Value, json};

fn seed() -> HyperRepSeed {
    HyperRepSeed {
        agents: vec![
            json!({"agent_id": "a-1", "name": "Dana"}),
            json!({"agent_id": "a-2", "name": "Sam"}),
        ],
        companies: vec![json!({"company_id": "co-1", "name": "Ferris Aircraft", "created_at": "2026-04-01T00:00:00Z"})],
        contacts: vec![
            json!({"contact_id": "c-1", "name": "Lee", "company_id": "co-1", "created_at": "2026-04-02T00:00:00Z"}),
            json!({"contact_id": "c-2", "name": "Ada", "created_at": "2026-04-03T00:00:00Z"}),
        ],
        conversations: vec![json!({
            "conversation_id": "v-1", "agent_id": "a-1", "contact_id": "c-1",
            "start_at": "2026-05-02T09:00:00Z", "last_activity_at": "2026-05-02T09:30:00Z",
            "folder": "Inbox", "is_read": false,
            "messages": [
                {"message_id": "m-2", "sent_at": "2026-05-02T09:30:00Z", "message_direction": "sent", "agent_id": "a-1", "content": "Here is the quote.", "modality": "email", "is_form_request": false, "tracked_links": []},
                {"message_id": "m-1", "sent_at": "2026-05-02T09:00:00Z", "message_direction": "received", "content": "A quote, please.", "modality": "email", "is_form_request": false, "tracked_links": []}
            ]
        })],
        sales: (0..7)
            .map(|i| {
                json!({
                    "sale_id": format!("s-{i}"), "owner_id": if i % 2 == 0 { "a-1" } else { "a-2" },
                    "company_id": "co-1", "created_at": format!("2026-05-{:02}T10:00:00Z", i + 1),
                    "associated_conversation_ids": [], "associated_contacts": [], "status_history": []
                })
            })
            .collect(),
    }
}

async fn start(seed: HyperRepSeed) -> std::io::Result<Sandbox> {
    Sandbox::start(SandboxConfig {
        hyperrep_seed: Some(seed),
        ..SandboxConfig::default()
    })
    .await
}

#[tokio::test]
async fn the_sandbox_serves_exactly_the_seeded_records() {
    let sandbox = start(seed()).await.unwrap();
    let client = sandbox.hyperrep_client().unwrap();
    let org = common::first_organization(&client).await;
    let sales: Vec<String> = client
        .list_sales()
        .organization_id(&org)
        .limit(3)
        .items()
        .map_ok(|s| s.sale_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sales, (0..7).map(|i| format!("s-{i}")).collect::<Vec<_>>());
    let of_sam: Vec<_> = client
        .list_agent_sales()
        .organization_id(&org)
        .agent_id("a-2")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(of_sam.len(), 3);
    let messages: Vec<_> = client
        .list_conversation_messages()
        .organization_id(&org)
        .conversation_id("v-1")
        .items()
        .try_collect()
        .await
        .unwrap();
    // In time order, whatever the seed's order.
    assert_eq!(
        messages
            .iter()
            .map(|m| m.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m-1", "m-2"]
    );
    let contact = client
        .get_contact()
        .organization_id(&org)
        .contact_id("c-2")
        .send()
        .await
        .unwrap();
    assert_eq!(contact.name.as_deref(), Some("Ada"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_seed_that_contradicts_itself_is_refused_naming_the_record() {
    type Spoil = Box<dyn Fn(&mut HyperRepSeed)>;
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "agent a-1 appears twice",
            Box::new(|s| s.agents.push(json!({"agent_id": "a-1"}))),
        ),
        (
            "sale s-3 names agent a-9",
            Box::new(|s| s.sales[3]["owner_id"] = json!("a-9")),
        ),
        (
            "conversation v-1 names contact c-404",
            Box::new(|s| s.conversations[0]["contact_id"] = json!("c-404")),
        ),
        (
            "contact c-2 names company co-9",
            Box::new(|s| s.contacts[1]["company_id"] = json!("co-9")),
        ),
        (
            "message m-1 appears twice",
            Box::new(|s| {
                let first = s.conversations[0]["messages"][1].clone();
                s.conversations[0]["messages"]
                    .as_array_mut()
                    .unwrap()
                    .push(first);
            }),
        ),
        (
            "sale #0 has no `sale_id`",
            Box::new(|s| {
                s.sales[0].as_object_mut().unwrap().remove("sale_id");
            }),
        ),
        (
            "sale s-1: `created_at` \"yesterday\" is not a timestamp",
            Box::new(|s| s.sales[1]["created_at"] = json!("yesterday")),
        ),
        (
            "contact #0 is not a JSON object",
            Box::new(|s| s.contacts[0] = Value::Null),
        ),
    ];
    for (expected, spoil) in cases {
        let mut bad = seed();
        spoil(&mut bad);
        let error = start(bad).await.err().expect(expected);
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains(expected),
            "{expected:?} not in {error}"
        );
    }
}
