//! What a tool call answers: the API's JSON on success; on failure, a result marked as an
//! error that says what kind of failure it was and what to do next (wait, fix an argument,
//! resume from an id or a cursor), never a broken connection.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use crate::{error::Error, invoke::describe::describe};

/// A successful call: the value as text (what every client shows the model) and as structured
/// content.
pub(crate) fn success(value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
    result.structured_content = Some(value);
    result
}

/// A failed call, with `extra` members (the items gathered before a list failed, say).
pub(crate) fn failure(error: &Error, extra: Option<(&str, Value)>) -> CallToolResult {
    let mut described = describe(error);
    if let Some((name, value)) = extra {
        described.insert(name.into(), value);
    }
    refusal(Value::Object(described))
}

/// A call refused before anything was sent: arguments that do not fit the tool.
pub(crate) fn invalid_arguments(tool: &str, problems: Vec<String>) -> CallToolResult {
    refusal(json!({
        "kind": "invalid_arguments",
        "message": format!("{tool}: the arguments do not fit the tool's input schema"),
        "problems": problems,
        "retryable": false,
    }))
}

/// A call the user did not confirm: nothing was sent.
pub(crate) fn not_confirmed(tool: &str, why: &str) -> CallToolResult {
    refusal(json!({
        "kind": "not_confirmed",
        "message": format!("{tool}: not run, {why}; nothing was sent"),
        "retryable": false,
    }))
}

/// A call the client cancelled. A request already sent may have done its work.
pub(crate) fn cancelled(tool: &str) -> CallToolResult {
    refusal(json!({
        "kind": "cancelled",
        "message": format!("{tool}: cancelled by the client; a request already sent may have taken effect"),
        "retryable": true,
    }))
}

/// A call that failed inside the server (a defect, reported as one).
pub(crate) fn internal(tool: &str) -> CallToolResult {
    refusal(json!({
        "kind": "internal",
        "message": format!("{tool}: the server failed while running this call; a request may have been sent"),
        "retryable": false,
    }))
}

fn refusal(error: Value) -> CallToolResult {
    let value = json!({ "error": error });
    let mut result = CallToolResult::error(vec![ContentBlock::text(value.to_string())]);
    result.structured_content = Some(value);
    result
}
