//! What leaves the server is shaped for an assistant: held to the result budget without
//! losing an item between answers, and with hidden characters made visible.

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use super::{
    Server,
    fit::CUT_MEMBER,
    tests::{ORGANIZATION, builder, sandbox},
};
use crate::sandbox::Sandbox;

fn server(sandbox: &Sandbox, result_chars: usize, clean_text: bool) -> Server {
    builder(sandbox)
        .result_chars(result_chars)
        .clean_text(clean_text)
        .build()
        .unwrap()
}

/// The result's text as a client reads it, and its structured form.
async fn call(server: &Server, name: &str, args: Value) -> (String, Value) {
    let result: CallToolResult = server
        .call(name, args.as_object().cloned().unwrap(), None)
        .await
        .expect("a known tool");
    assert_ne!(result.is_error, Some(true), "{name}: {result:?}");
    let text = result.content[0].as_text().expect("text").text.clone();
    (text, result.structured_content.expect("structured content"))
}

fn sale_ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sale_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_stops_at_the_budget_and_its_cursor_loses_no_item() {
    let sandbox = sandbox().await;
    let roomy = server(&sandbox, 100_000_000, true);
    let (_, whole) = call(
        &roomy,
        "hyperrep_list_sales",
        json!({"organization_id": ORGANIZATION, "max_items": 1000}),
    )
    .await;
    let all = sale_ids(&whole["items"]);
    assert!(all.len() > 100, "{}", all.len());

    let budget = 20_000;
    let tight = server(&sandbox, budget, true);
    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    let mut answers = 0;
    loop {
        let mut args = json!({"organization_id": ORGANIZATION, "max_items": 1000});
        if let Some(cursor) = &cursor {
            args["cursor"] = json!(cursor);
        }
        let (text, answer) = call(&tight, "hyperrep_list_sales", args).await;
        answers += 1;
        assert!(
            text.chars().count() <= budget,
            "{} characters",
            text.chars().count()
        );
        seen.extend(sale_ids(&answer["items"]));
        cursor = answer["next_cursor"].as_str().map(str::to_owned);
        match &cursor {
            Some(_) => {
                let note = &answer[CUT_MEMBER];
                assert_eq!(note["budget_characters"], budget, "{answer:.300}");
                assert!(note["items_left_out_of_this_answer"].as_u64().unwrap() > 0);
            }
            None => break,
        }
        assert!(answers < 100, "the answers never end");
    }
    assert!(answers > 5, "{answers} answers");
    assert_eq!(seen, all, "every sale once, in order");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_page_over_the_budget_is_asked_for_again_with_what_fits() {
    let sandbox = sandbox().await;
    let roomy = server(&sandbox, 100_000_000, true);
    let page = json!({"organization_id": ORGANIZATION, "limit": 300});
    let (_, whole) = call(&roomy, "hyperrep_list_sales", page.clone()).await;
    let all = sale_ids(&whole["data"]);

    let budget = 30_000;
    let tight = server(&sandbox, budget, true);
    let (text, first) = call(&tight, "hyperrep_list_sales", page.clone()).await;
    assert!(text.chars().count() <= budget);
    let kept = sale_ids(&first["data"]);
    assert!(!kept.is_empty() && kept.len() < all.len(), "{}", kept.len());
    assert_eq!(
        first[CUT_MEMBER]["items_left_out_of_this_answer"],
        json!(all.len() - kept.len())
    );
    // The page's own cursor continues right after the last sale returned.
    let mut next = page;
    next["cursor"] = first["pagination"]["next_cursor"].clone();
    let (_, second) = call(&tight, "hyperrep_list_sales", next).await;
    let mut both = kept.clone();
    both.extend(sale_ids(&second["data"]));
    assert_eq!(both[..], all[..both.len().min(all.len())]);
    sandbox.shutdown().await;
}

const HOSTILE: &str = "Renewal\u{200B} call\u{202E}gnp.exe\u{E0049}\u{E0067}\u{E006E}\u{2066}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_characters_reach_the_assistant_written_out_and_ids_still_work() {
    let sandbox = sandbox().await;
    let server = server(&sandbox, super::fit::DEFAULT_RESULT_CHARS, true);
    let (text, task) = call(
        &server,
        "hockeystack_create_task",
        json!({"task_title": HOSTILE, "task_type": "call", "assignee_id": "usr_204",
               "targets": {"deal_id": "9001234567"}}),
    )
    .await;
    let visible = "Renewal\\u{200B} call\\u{202E}gnp.exe\\u{E0049}\\u{E0067}\\u{E006E}\\u{2066}";
    assert_eq!(task["task_title"], visible);
    let hidden = |c: char| {
        matches!(
            c,
            '\u{200B}' | '\u{202E}' | '\u{2066}' | '\u{E0000}'..='\u{E007F}'
        )
    };
    assert!(!text.chars().any(hidden), "{text}");
    // The id comes back as the API gave it, and reads the task.
    let id = task["task_id"].as_str().unwrap();
    let (text, found) = call(&server, "hockeystack_get_task", json!({"taskId": id})).await;
    assert_eq!(found["task_title"], visible);
    assert!(!text.chars().any(hidden));
    let (text, listed) = call(&server, "hockeystack_list_tasks", json!({"max_items": 500})).await;
    assert!(!text.chars().any(hidden));
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["task_title"] == visible)
    );

    // The sandbox stored the title as it was sent: nothing was changed on the way in.
    let raw = server_with_raw_text(&sandbox);
    let (_, found) = call(&raw, "hockeystack_get_task", json!({"taskId": id})).await;
    assert_eq!(found["task_title"], HOSTILE);
    sandbox.shutdown().await;
}

fn server_with_raw_text(sandbox: &Sandbox) -> Server {
    server(sandbox, super::fit::DEFAULT_RESULT_CHARS, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_with_hidden_characters_comes_back_written_out_in_the_ask() {
    let sandbox = sandbox().await;
    let server = server(&sandbox, super::fit::DEFAULT_RESULT_CHARS, true);
    let (text, answer) = call(
        &server,
        "hockeystack_ask_agent",
        json!({"dealId": "9001234567", "question": format!("Summarise {HOSTILE}")}),
    )
    .await;
    assert!(
        !text.contains('\u{202E}') && !text.contains('\u{E0049}'),
        "{text}"
    );
    let messages = answer["messages"].to_string();
    assert!(messages.contains("\\\\u{202E}"), "{messages}");
    sandbox.shutdown().await;
}

#[test]
fn a_budget_too_small_for_any_answer_is_refused() {
    let client = crate::hyperrep::Client::from_credential("key").unwrap();
    let refused = Server::builder()
        .hyperrep(client)
        .result_chars(100)
        .build()
        .unwrap_err();
    assert!(refused.to_string().contains("result_chars"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_fewer_fields_holds_more_records_in_one_result() {
    let sandbox = Sandbox::start(crate::sandbox::SandboxConfig {
        seed: crate::sandbox::SeedSizes {
            sales: 1000,
            ..crate::sandbox::SeedSizes::default()
        },
        ..crate::sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let server = builder(&sandbox).build().unwrap();
    let organization = {
        let (_, listed) = call(&server, "hyperrep_list_organizations", json!({})).await;
        listed["data"][0]["organization_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let gathered = |fields: Option<Value>| {
        let mut args = json!({"organization_id": organization, "max_items": 1000});
        if let Some(fields) = fields {
            args["fields"] = fields;
        }
        let server = &server;
        async move { call(server, "hyperrep_list_sales", args).await.1 }
    };
    let whole = gathered(None).await;
    let narrow = gathered(Some(json!([
        "sale_id",
        "current_status.status",
        "quote_details.output.total_price"
    ])))
    .await;
    let (whole_count, narrow_count) = (
        whole["count"].as_u64().unwrap(),
        narrow["count"].as_u64().unwrap(),
    );
    eprintln!("1000 sales in one result: {whole_count} whole, {narrow_count} with three fields");
    assert!(
        narrow_count > 3 * whole_count,
        "{whole_count} / {narrow_count}"
    );
    let first = narrow["items"][0].as_object().unwrap();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        [
            "sale_id",
            "current_status.status",
            "quote_details.output.total_price"
        ]
    );
    assert!(
        first.values().all(|v| !v.is_null()),
        "each field found: {first:?}"
    );
    // A field the spec does not name is refused with the one it likely means.
    let typo = server
        .call(
            "hyperrep_list_sales",
            json!({"organization_id": organization, "fields": ["sale_id", "status"]})
                .as_object()
                .cloned()
                .unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(typo.is_error, Some(true));
    let problems = typo.structured_content.unwrap()["error"]["problems"].to_string();
    assert!(
        problems.contains("did you mean current_status.status"),
        "{problems}"
    );
    // What did not fit is a cursor away, after the last item returned.
    if narrow_count < 1000 {
        assert!(narrow["next_cursor"].is_string(), "{:.300}", narrow);
    }
    sandbox.shutdown().await;
}
