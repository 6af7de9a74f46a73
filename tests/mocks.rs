//! Feature `mock`: a user's own code, unit-tested against typed mocks of each API. The mocks
//! take and answer with the client's own types, and a mock that was never called says so.
#![cfg(all(feature = "mock", feature = "hockeystack", feature = "hyperrep"))]

use revenue_agents::{
    Error, ErrorKind, RetryPolicy, hockeystack,
    httpmock::MockServer,
    hyperrep::{self, types as hr},
};
use serde_json::json;

// ----------------------------------------------------------------------------------------
// The code under test, as a user would write it.

/// The title of a task, or an empty string when it has none.
async fn task_title(
    client: &hockeystack::Client,
    id: &hockeystack::types::TaskId,
) -> Result<String, Error> {
    let task = client.get_task().task_id(id.clone()).send().await?;
    Ok(task.task_title.clone().unwrap_or_default())
}

/// The names of the organizations the key can read.
async fn organization_names(client: &hyperrep::Client) -> Result<Vec<String>, Error> {
    let organizations = client.list_organizations().send().await?;
    Ok(organizations.data.iter().map(|o| o.name.clone()).collect())
}

// ----------------------------------------------------------------------------------------

fn hockeystack_client(server: &MockServer) -> hockeystack::Client {
    // The mocks match the spec's paths from the server's root.
    hockeystack::Client::builder()
        .credential("hsr_live_test_token")
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn hyperrep_client(server: &MockServer) -> hyperrep::Client {
    hyperrep::Client::builder()
        .credential("hr_test_key")
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn task_id() -> hockeystack::types::TaskId {
    "3c90c3cc-0d44-4b50-8888-8dd25736052a".parse().unwrap()
}

#[tokio::test]
async fn a_hockeystack_success_and_error_through_typed_mocks() {
    use revenue_agents::hockeystack::mock::MockServerExt;
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server);
    let task: hockeystack::types::Task = serde_json::from_value(json!({
        "task_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "status": "pending",
        "task_title": "Send the pricing sheet",
        "created_at": "2026-05-22T10:05:00Z"
    }))
    .unwrap();
    let found = server.get_task(|when, then| {
        when.task_id(&task_id());
        then.ok(&task);
    });
    assert_eq!(
        task_title(&client, &task_id()).await.unwrap(),
        "Send the pricing sheet"
    );
    found.assert_async().await;
    found.delete_async().await;

    let envelope: hockeystack::types::ErrorEnvelope = serde_json::from_value(json!({
        "error": {"code": "resource.not_found", "category": "not_found", "message": "No such task."}
    }))
    .unwrap();
    let missing = server.get_task(|when, then| {
        when.task_id(&task_id());
        then.not_found(&envelope);
    });
    let error = task_title(&client, &task_id()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::NotFound);
    assert_eq!(error.api_error().unwrap().message, "No such task.");
    assert_eq!(missing.calls_async().await, 1);
}

#[tokio::test]
async fn a_hyperrep_success_and_error_through_typed_mocks() {
    use revenue_agents::hyperrep::mock::MockServerExt;
    let server = MockServer::start_async().await;
    let client = hyperrep_client(&server);
    let list: hr::OrganizationList = serde_json::from_value(json!({
        "data": [{"organization_id": "HR_id_example_organization_id", "name": "Ferris Aircraft"}]
    }))
    .unwrap();
    let ok = server.list_organizations(|_, then| {
        then.ok(&list);
    });
    assert_eq!(
        organization_names(&client).await.unwrap(),
        ["Ferris Aircraft"]
    );
    ok.delete_async().await;

    let refused: hr::ErrorEnvelope =
        serde_json::from_value(json!({"detail": "Invalid API Key"})).unwrap();
    server.list_organizations(|_, then| {
        then.forbidden(&refused);
    });
    let error = organization_names(&client).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Unauthorized);
}

#[tokio::test]
async fn a_mock_that_was_not_matched_says_so() {
    use revenue_agents::hyperrep::mock::MockServerExt;
    let server = MockServer::start_async().await;
    let client = hyperrep_client(&server);
    let contact: hr::Contact = serde_json::from_value(json!({
        "contact_id": "c-1", "name": "Diana", "created_at": "2026-04-29T14:00:00Z"
    }))
    .unwrap();
    let expected = server.get_contact(|when, then| {
        when.organization_id(&"org-1".parse().unwrap())
            .contact_id(&"c-1".parse().unwrap());
        then.ok(&contact);
    });
    // The code asks for another contact: the mock does not match, the server answers 404.
    let error = client
        .get_contact()
        .organization_id("org-1")
        .contact_id("c-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::NotFound);
    assert_eq!(expected.calls_async().await, 0);
    // Asserting on it fails, as a test would.
    use futures_util::FutureExt;
    let verdict = std::panic::AssertUnwindSafe(expected.assert_async())
        .catch_unwind()
        .await;
    assert!(verdict.is_err(), "an uncalled mock must fail its assertion");
}
