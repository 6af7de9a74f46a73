//! What a JSON-RPC message must be for the server to take it, for both transports: at most
//! [`MAX_LINE_BYTES`], nested at most [`MAX_DEPTH`] deep, JSON, and a JSON-RPC message. Anything
//! else is refused with the JSON-RPC error for it, under the id a shallow scan of the message
//! finds (null when none can be read), so that no request goes unanswered. That includes what
//! is JSON-RPC but not MCP (an id that is neither a string nor an integer, `params` that are
//! not an object), which rmcp would answer under no id at all.

use serde_json::{Value, json};

use crate::invoke::check::describe;

/// The longest message taken, in bytes (rmcp's own limit for a line): longer ones are answered
/// with an error.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of arrays and objects taken (serde_json stops at 128): deeper messages
/// are answered with an error.
pub(crate) const MAX_DEPTH: usize = 64;

/// How much of a message that is too long is kept, to find its id.
pub(crate) const KEPT_FOR_ID: usize = 64 * 1024;

/// JSON-RPC's codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// The JSON-RPC error answer for a message the server cannot take, or `None` to take it.
/// `too_long` says the message went past [`MAX_LINE_BYTES`] (`text` is then its start).
pub(crate) fn refusal(text: &[u8], too_long: bool) -> Option<Value> {
    let (code, message, id) = if too_long {
        (
            INVALID_REQUEST,
            format!(
                "the message is longer than {} MiB, the most this server reads",
                MAX_LINE_BYTES / (1024 * 1024)
            ),
            shallow_id(text),
        )
    } else if depth(text) > MAX_DEPTH {
        (
            INVALID_REQUEST,
            format!("the message nests arrays and objects deeper than {MAX_DEPTH} levels"),
            shallow_id(text),
        )
    } else {
        match serde_json::from_slice::<Value>(text) {
            Err(_) => (
                PARSE_ERROR,
                "the message is not a JSON value".to_owned(),
                shallow_id(text),
            ),
            Ok(message) => {
                let why = not_a_message(&message)?;
                let id = message
                    .get("id")
                    .filter(|id| id.is_number() || id.is_string())
                    .cloned();
                (INVALID_REQUEST, why, id)
            }
        }
    };
    // Answered under the id when one can be read, else under null, as JSON-RPC says.
    Some(json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": {"code": code, "message": message},
    }))
}

/// How much of a body over [`MAX_LINE_BYTES`] is read (and dropped) before the refusal is sent,
/// so that a client still writing reads the answer instead of a reset connection.
const DRAINED_AT_MOST: usize = 64 * 1024 * 1024;

/// Over streamable HTTP: every POSTed message passes [`refusal`] before rmcp reads it, and one
/// it refuses is answered with the JSON-RPC error, as HTTP 413 (too long) or 400.
pub(crate) async fn http_guard(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures_util::StreamExt;
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let mut chunks = body.into_data_stream();
    let mut kept: Vec<u8> = Vec::new();
    let mut over = 0usize;
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            // The client broke its body off: there is no message to answer.
            return refused(axum::http::StatusCode::BAD_REQUEST, None);
        };
        if over == 0 && kept.len() + chunk.len() <= MAX_LINE_BYTES {
            kept.extend_from_slice(&chunk);
            continue;
        }
        if over == 0 {
            let room = KEPT_FOR_ID.saturating_sub(kept.len()).min(chunk.len());
            kept.extend_from_slice(&chunk[..room]);
            kept.truncate(KEPT_FOR_ID);
            kept.shrink_to(KEPT_FOR_ID);
        }
        over = over.saturating_add(chunk.len()).max(1);
        if over > DRAINED_AT_MOST {
            break;
        }
    }
    match refusal(&kept, over > 0) {
        Some(answer) => {
            let status = if over > 0 {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE
            } else {
                axum::http::StatusCode::BAD_REQUEST
            };
            refused(status, Some(answer))
        }
        None => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(kept));
            next.run(request).await
        }
    }
}

fn refused(status: axum::http::StatusCode, answer: Option<Value>) -> axum::response::Response {
    let body = answer.map_or_else(String::new, |answer| answer.to_string());
    let mut response = axum::response::Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Why a JSON value is no JSON-RPC message this server can take, if it is none: an object with
/// `"jsonrpc": "2.0"` and a `method` (a request or notification) or an `id` with a `result` or
/// `error` (a response to the server's own request). Batches went out with MCP 2025-06-18.
fn not_a_message(message: &Value) -> Option<String> {
    let Some(members) = message.as_object() else {
        return Some(match message {
            Value::Array(_) => "batches of messages are not taken; send one message a line".into(),
            _ => "a message must be a JSON-RPC object".into(),
        });
    };
    if members.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some("a message must carry \"jsonrpc\": \"2.0\"".into());
    }
    let request = members.get("method").is_some_and(Value::is_string);
    let response = members.contains_key("id")
        && (members.contains_key("result") || members.contains_key("error"));
    if !request && !response {
        return Some(
            "a message must name a string `method`, or answer with `result` or `error`".into(),
        );
    }
    // What rmcp would refuse without saying which request it refuses (its answer carries no
    // id), so the client waiting for that id would wait for ever: refused here, under the id.
    if let Some(id) = members.get("id") {
        let integer = id.is_i64() || id.is_u64();
        if !(integer || id.is_string()) {
            return Some(format!(
                "a message's `id` must be a string or a whole number, not {}",
                describe(id)
            ));
        }
    }
    match members.get("params") {
        Some(params) if request && !params.is_object() => Some(format!(
            "a request's `params` must be an object when given, not {}",
            describe(params)
        )),
        _ => None,
    }
}

/// How deeply arrays and objects nest in `text`, strings skipped; it stops counting past the
/// limit.
fn depth(text: &[u8]) -> usize {
    let mut deepest = 0usize;
    let mut level = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                level += 1;
                deepest = deepest.max(level);
                if deepest > MAX_DEPTH {
                    return deepest;
                }
            }
            b']' | b'}' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The `id` of a JSON-RPC message, read from the members at the top of the object without
/// parsing the rest: a number or a string.
fn shallow_id(text: &[u8]) -> Option<Value> {
    let mut level = 0usize;
    let mut i = 0usize;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let end = string_end(text, i)?;
                let is_key = text[end + 1..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|b| *b == b':');
                if level == 1 && is_key && &text[i..=end] == b"\"id\"" {
                    return id_value(text, end + 1);
                }
                i = end + 1;
                continue;
            }
            b'[' | b'{' => level += 1,
            b']' | b'}' => level = level.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote that ends the string starting at `start`.
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let mut escaped = false;
    for (offset, byte) in text[start + 1..].iter().enumerate() {
        match (escaped, byte) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return Some(start + 1 + offset),
            _ => {}
        }
    }
    None
}

/// The id's value after its key's colon: a JSON number or string, as JSON reads it.
fn id_value(text: &[u8], after_key: usize) -> Option<Value> {
    let colon = after_key + text[after_key..].iter().position(|b| *b == b':')?;
    let start = colon
        + 1
        + text[colon + 1..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    let end = match text[start] {
        b'"' => string_end(text, start)? + 1,
        _ => {
            start
                + text[start..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                    .unwrap_or(text.len() - start)
        }
    };
    let value: Value = serde_json::from_slice(&text[start..end]).ok()?;
    (value.is_number() || value.is_string()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_found_at_the_top_level_only() {
        let id = |text: &str| shallow_id(text.as_bytes());
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","id":7,"method":"x"}"#),
            Some(json!(7))
        );
        assert_eq!(id(r#"{"id" : "a\"b" ,"m":1}"#), Some(json!("a\"b")));
        assert_eq!(
            id(r#"{"params":{"id":1},"method":"x","id":2}"#),
            Some(json!(2))
        );
        assert_eq!(id(r#"{"params":{"id":1}}"#), None);
        assert_eq!(id(r#"{"method":"x","params":"\"id\":3"}"#), None);
        assert_eq!(id(r#"{"id":null}"#), None);
        assert_eq!(id(r#"{"id":-4.5e1}"#), Some(json!(-45.0)));
    }

    #[test]
    fn a_message_that_cannot_be_read_is_refused_under_the_id_it_names() {
        let answer = |text: &[u8]| refusal(text, false).expect("refused");
        let not_utf8 =
            answer(b"{\"jsonrpc\":\"2.0\",\"id\":84,\"method\":\"ping\",\"x\":\"\xff\"}");
        assert_eq!(
            (&not_utf8["id"], &not_utf8["error"]["code"]),
            (&json!(84), &json!(-32700))
        );
        let cut = answer(br#"{"jsonrpc":"2.0","id":"a","method":"tools/list""#);
        assert_eq!(
            (&cut["id"], &cut["error"]["code"]),
            (&json!("a"), &json!(-32700))
        );
        let params = answer(br#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":[]}"#);
        assert_eq!(
            (&params["id"], &params["error"]["code"]),
            (&json!(2), &json!(-32600))
        );
        let null_id = answer(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#);
        assert_eq!(null_id["id"], Value::Null);
        assert!(
            null_id["error"]["message"]
                .as_str()
                .unwrap()
                .contains("string or a whole number"),
            "{null_id}"
        );
        // What MCP takes is left to rmcp.
        for taken in [
            br#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#.as_slice(),
            br#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{}}"#,
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            br#"{"jsonrpc":"2.0","id":4,"result":{}}"#,
        ] {
            assert_eq!(
                refusal(taken, false),
                None,
                "{}",
                String::from_utf8_lossy(taken)
            );
        }
    }

    #[test]
    fn depth_counts_arrays_and_objects_but_not_strings() {
        assert_eq!(depth(br#"{"a":[1,{"b":2}]}"#), 3);
        assert_eq!(depth(br#"{"a":"[[[[{{{{"}"#), 1);
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(depth(deep.as_bytes()), MAX_DEPTH + 1);
    }
}
