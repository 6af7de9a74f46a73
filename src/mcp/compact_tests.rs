//! The compact tool list reaches every operation the full list does, and tools are chosen by
//! exact name as well as by toolset.

use serde_json::{Value, json};

use super::{
    Server,
    tests::{ORGANIZATION, builder, sandbox},
};

fn names(server: &Server) -> Vec<&str> {
    server.tools().iter().map(|t| t.name).collect()
}

fn listing_size(server: &Server) -> usize {
    let tools: Vec<_> = server.listed.iter().map(|t| &t.tool).collect();
    serde_json::to_string(&tools).unwrap().len()
}

async fn call(server: &Server, name: &str, args: Value) -> (bool, Value) {
    let result = server
        .call(name, args.as_object().cloned().unwrap(), None)
        .await
        .expect("a known tool");
    (
        result.is_error == Some(true),
        result.structured_content.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compact_list_is_a_fraction_of_the_full_one_and_reaches_every_operation() {
    let sandbox = sandbox().await;
    let full = builder(&sandbox).build().unwrap();
    let compact = builder(&sandbox).compact(true).build().unwrap();
    assert_eq!(
        names(&compact),
        [
            "find_operations",
            "call_operation",
            "hockeystack_ensure_agent",
            "hockeystack_ask_agent",
            "hockeystack_wait_for_job"
        ]
    );
    assert!(
        listing_size(&compact) * 4 < listing_size(&full),
        "{} against {}",
        listing_size(&compact),
        listing_size(&full)
    );
    // Every tool of the full list is found by its name, with its input schema.
    for tool in names(&full) {
        let (failed, found) = call(&compact, "find_operations", json!({"query": tool})).await;
        assert!(!failed, "{found}");
        let hit = found["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["tool"] == tool)
            .unwrap_or_else(|| panic!("{tool} is not found: {found}"));
        assert!(hit["input_schema"].is_object(), "{tool}: {hit}");
    }
    let (_, everything) = call(&compact, "find_operations", json!({})).await;
    assert_eq!(everything["count"], names(&full).len());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_operation_runs_an_operation_with_its_own_checks() {
    let sandbox = sandbox().await;
    let compact = builder(&sandbox).compact(true).build().unwrap();
    let (failed, page) = call(
        &compact,
        "call_operation",
        json!({"tool": "hyperrep_list_sales",
               "arguments": {"organization_id": ORGANIZATION, "limit": 3}}),
    )
    .await;
    assert!(!failed, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 3);

    let (failed, refused) = call(
        &compact,
        "call_operation",
        json!({"tool": "hyperrep_list_sales", "arguments": {"limit": "three"}}),
    )
    .await;
    assert!(failed);
    assert_eq!(refused["error"]["kind"], "invalid_arguments");
    assert_eq!(
        refused["error"]["problems"].as_array().unwrap().len(),
        2,
        "{refused}"
    );

    let (failed, refused) = call(
        &compact,
        "call_operation",
        json!({"tool": "call_operation", "arguments": {}}),
    )
    .await;
    assert!(
        failed && refused.to_string().contains("find_operations"),
        "{refused}"
    );

    // A read-only compact server finds and calls no operation that writes.
    let read_only = builder(&sandbox)
        .compact(true)
        .read_only(true)
        .build()
        .unwrap();
    let (_, found) = call(
        &read_only,
        "find_operations",
        json!({"query": "create task"}),
    )
    .await;
    let found = found["operations"].as_array().unwrap();
    assert!(
        found
            .iter()
            .all(|o| o["writes"] == false && o["tool"] != "hockeystack_create_task"),
        "{found:?}"
    );
    let (failed, _) = call(
        &read_only,
        "call_operation",
        json!({"tool": "hockeystack_create_task", "arguments": {}}),
    )
    .await;
    assert!(failed);
    assert_eq!(sandbox.requests().len(), 1, "only the first list was sent");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tools_are_chosen_and_excluded_by_exact_name() {
    let sandbox = sandbox().await;
    let only = builder(&sandbox)
        .tools(["hyperrep_get_sale", "hockeystack_me"])
        .build()
        .unwrap();
    assert_eq!(names(&only), ["hockeystack_me", "hyperrep_get_sale"]);
    let beside = builder(&sandbox)
        .toolsets(["hyperrep_sales"])
        .tools(["hockeystack_me"])
        .exclude_tools(["hyperrep_get_sale"])
        .build()
        .unwrap();
    assert_eq!(names(&beside), ["hockeystack_me", "hyperrep_list_sales"]);
    let why = beside
        .call("hyperrep_get_sale", Default::default(), None)
        .await
        .unwrap_err();
    assert!(why.message.contains("excluded by name"), "{why:?}");
    let unknown = builder(&sandbox)
        .tools(["hyperrep_get_sales"])
        .build()
        .unwrap_err();
    assert!(
        unknown.to_string().contains("hyperrep_get_sales"),
        "{unknown}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_question_in_plain_words_finds_the_tools_most_of_its_words_point_to() {
    let sandbox = sandbox().await;
    let compact = builder(&sandbox).compact(true).build().unwrap();
    let (_, found) = call(
        &compact,
        "find_operations",
        json!({"query": "how many credits are left"}),
    )
    .await;
    let tools: Vec<&str> = found["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["tool"].as_str().unwrap())
        .collect();
    assert!(tools.len() <= 10, "{tools:?}");
    // The tool that holds both words comes before those that hold one, and a word is matched
    // whole or by its start, never inside another word.
    assert_eq!(
        tools.first(),
        Some(&"hockeystack_credits_balance"),
        "{tools:?}"
    );
    assert!(
        tools[1..3]
            .iter()
            .all(|t| t.starts_with("hockeystack_credits")),
        "{tools:?}"
    );
    // Of two tools that hold every word, the one that says nothing more comes first, and the
    // best few come with the schema to call them with.
    let (_, found) = call(&compact, "find_operations", json!({"query": "list sales"})).await;
    let first = &found["operations"][0];
    assert_eq!(first["tool"], "hyperrep_list_sales", "{found}");
    assert!(first["input_schema"].is_object(), "{found}");
    // A plural asked for is a list: a word matched whole weighs more than one matched by its
    // start.
    let (_, found) = call(
        &compact,
        "find_operations",
        json!({"query": "sales last month"}),
    )
    .await;
    assert_eq!(
        found["operations"][0]["tool"], "hyperrep_list_sales",
        "{found}"
    );
    sandbox.shutdown().await;
}
