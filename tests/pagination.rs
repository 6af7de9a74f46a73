//! The paginator over real HTTP: every filter is sent again on every page, only the cursor
//! changes; the message lists continue with `after`; an error names the cursor to resume from.
#![cfg(all(feature = "hockeystack", feature = "hyperrep"))]

mod common;

use futures_util::{StreamExt, TryStreamExt};
use httpmock::Method::GET;
use revenue_agents::{ErrorKind, Paginated};
use serde_json::json;

const ORG: &str = "gAAAAABorg-_=";

fn sale(id: &str) -> serde_json::Value {
    json!({
        "sale_id": id, "associated_conversation_ids": [], "associated_contacts": [],
        "status_history": [], "created_at": "2026-04-02T00:00:00Z"
    })
}

fn hr_page(ids: &[&str], cursor: Option<&str>, next: Option<&str>) -> serde_json::Value {
    json!({
        "data": ids.iter().map(|id| sale(id)).collect::<Vec<_>>(),
        "pagination": {"limit": 2, "cursor": cursor, "next_cursor": next, "has_more": next.is_some()}
    })
}

#[tokio::test]
async fn hyperrep_sales_repeat_every_filter_on_every_page() {
    let (server, client) = common::hyperrep().await;
    let path = format!("/api/v2/organizations/{ORG}/sales");
    let mut mocks = Vec::new();
    for (cursor, ids, next) in [
        (None, vec!["s1", "s2"], Some("c2")),
        (Some("c2"), vec!["s3", "s4"], Some("c3")),
        (Some("c3"), vec!["s5"], None),
    ] {
        let path = path.clone();
        mocks.push(
            server
                .mock_async(|when, then| {
                    let when = common::hyperrep_headers(when.method(GET).path(path))
                        .query_param("limit", "2")
                        .query_param("start_date", "2026-04-01T00:00:00Z")
                        .query_param("end_date", "2026-05-01T00:00:00Z");
                    match cursor {
                        Some(c) => when.query_param("cursor", c),
                        None => when.query_param_missing("cursor"),
                    };
                    then.status(200).json_body(hr_page(&ids, cursor, next));
                })
                .await,
        );
    }
    let sales: Vec<_> = client
        .list_sales()
        .organization_id(ORG)
        .limit(2)
        .start_date(
            "2026-04-01T00:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
        )
        .end_date(
            "2026-05-01T00:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
        )
        .items()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = sales.iter().map(|s| s.sale_id.as_str()).collect();
    assert_eq!(ids, ["s1", "s2", "s3", "s4", "s5"]);
    for mock in mocks {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn hockeystack_messages_continue_with_after() {
    let (server, client) = common::hockeystack().await;
    let path = "/api/revenue-agents/v1/deals/D/conversations/c/messages";
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path)
                .query_param("order", "asc")
                .query_param_missing("after");
            then.status(200).json_body(json!({
                "conversation_id": "c",
                "messages": [{"id": "m1", "content": "one"}],
                "next_cursor": "m1"
            }));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path)
                .query_param("order", "asc")
                .query_param("after", "m1")
                .query_param_missing("cursor");
            then.status(200).json_body(json!({
                "conversation_id": "c",
                "messages": [{"id": "m2", "content": "two"}],
                "next_cursor": null
            }));
        })
        .await;
    let texts: Vec<String> = client
        .list_deal_conversation_messages()
        .deal_id("D")
        .cid("c")
        .order(revenue_agents::hockeystack::types::MessageOrder::Asc)
        .items()
        .map_ok(|m| m.content)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(texts, ["one", "two"]);
    first.assert_async().await;
    second.assert_async().await;
}

#[tokio::test]
async fn an_error_on_page_three_says_where_to_resume_and_resuming_loses_nothing() {
    let (server, client) = common::hockeystack().await;
    let path = "/api/revenue-agents/v1/tasks";
    let task = |id: &str| json!({"task_id": id, "status": "pending", "created_at": "2026-05-22T10:05:00Z"});
    server
        .mock_async(|when, then| {
            when.method(GET).path(path).query_param_missing("cursor");
            then.status(200).json_body(json!({
                "tasks": [task("00000000-0000-4000-8000-000000000001")], "next_cursor": "p2"
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(path).query_param("cursor", "p2");
            then.status(200).json_body(json!({
                "tasks": [task("00000000-0000-4000-8000-000000000002")], "next_cursor": "p3"
            }));
        })
        .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET).path(path).query_param("cursor", "p3");
            then.status(500)
                .json_body(json!({"error": {"code": "x", "category": "y", "message": "z"}}));
        })
        .await;

    let results: Vec<_> = client.list_tasks().items().collect().await;
    assert_eq!(results.len(), 3);
    let error = results[2].as_ref().unwrap_err();
    assert_eq!(
        (error.kind(), error.resume_cursor()),
        (&ErrorKind::Server, Some("p3"))
    );

    failing.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(path).query_param("cursor", "p3");
            then.status(200).json_body(json!({
                "tasks": [task("00000000-0000-4000-8000-000000000003")], "next_cursor": null
            }));
        })
        .await;
    let rest: Vec<_> = client
        .list_tasks()
        .items_from(error.resume_cursor().unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0].task_id.to_string(),
        "00000000-0000-4000-8000-000000000003"
    );
}

#[tokio::test]
async fn a_server_that_repeats_its_cursor_is_stopped() {
    let (server, client) = common::hyperrep().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("/api/v2/organizations/{ORG}/contacts"));
            then.status(200).json_body(json!({
                "data": [], "pagination": {"limit": 50, "cursor": "same", "next_cursor": "same", "has_more": true}
            }));
        })
        .await;
    let results: Vec<_> = client
        .list_contacts()
        .organization_id(ORG)
        .pages()
        .collect()
        .await;
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::RepeatedCursor {
            cursor: "same".into()
        }
    );
    assert_eq!(
        mock.calls_async().await,
        2,
        "the first page and the one that repeated itself"
    );
}

/// Keeps a stream only if it owns everything it needs: it can leave the function that made
/// it, be stored, and run on another task.
fn owned<S: futures_util::Stream + Send + 'static>(stream: S) -> S {
    stream
}

#[test]
fn every_list_stream_of_both_apis_is_send_and_static() {
    use revenue_agents::{hockeystack, hyperrep};
    let hs = hockeystack::Client::from_credential("hsr_live_0").unwrap();
    let hr = hyperrep::Client::from_credential("hr_key").unwrap();
    macro_rules! both_streams {
        ($($request:expr),+ $(,)?) => {
            $(
                drop(owned($request.items()));
                drop(owned($request.pages()));
            )+
        };
    }
    both_streams![
        hs.list_company_agents(),
        hs.list_deal_agents(),
        hs.list_deal_conversations(),
        hs.list_company_conversations(),
        hs.list_deal_conversation_messages(),
        hs.list_company_conversation_messages(),
        hs.list_tasks(),
        hs.credits_operations(),
        hr.list_agents(),
        hr.list_agent_conversations(),
        hr.list_agent_sales(),
        hr.list_conversations(),
        hr.list_conversation_messages(),
        hr.list_contacts(),
        hr.list_contact_conversations(),
        hr.list_companies(),
        hr.list_sales(),
        hr.list_response_drafts(),
    ];
}

#[cfg(feature = "sandbox")]
mod spawned {
    use super::*;
    use revenue_agents::{
        hyperrep,
        sandbox::{Sandbox, SandboxConfig},
    };

    /// A listing built in one function and returned from it, as an application's service
    /// layer would.
    fn every_sale(
        client: &hyperrep::Client,
        organization: &str,
    ) -> impl futures_util::Stream<Item = Result<hyperrep::types::Sale, revenue_agents::Error>>
    + Send
    + 'static {
        client
            .list_sales()
            .organization_id(organization)
            .limit(100)
            .items()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_listing_runs_inside_tokio_spawn_with_and_without_prefetch() {
        let sandbox = Sandbox::start(common::fast_sandbox()).await.unwrap();
        let client = sandbox.hyperrep_client().unwrap();
        let organization = common::first_organization(&client).await;
        let expected = SandboxConfig::default().seed.sales;

        let sales = every_sale(&client, &organization);
        drop(client);
        let ids: Vec<String> = tokio::spawn(async move {
            sales
                .map_ok(|sale| sale.sale_id)
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(ids.len(), expected);
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), expected, "no sale twice");

        let on_demand = sandbox
            .hyperrep_client()
            .unwrap()
            .list_sales()
            .organization_id(&organization)
            .limit(100)
            .pages()
            .prefetch(0);
        let pages: Vec<_> = tokio::spawn(on_demand.try_collect::<Vec<_>>())
            .await
            .unwrap()
            .unwrap();
        let again: Vec<String> = pages
            .into_iter()
            .flat_map(|page| page.items)
            .map(|sale| sale.sale_id)
            .collect();
        assert_eq!(again, ids, "the same sales in the same order");
        sandbox.shutdown().await;
    }
}
