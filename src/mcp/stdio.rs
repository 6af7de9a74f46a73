//! MCP over standard input and output, with every request answered. rmcp reads one JSON-RPC
//! message a line, but drops a line it cannot take (longer than its limit, nested deeper than
//! serde's, or not JSON) without a word, and a client then waits for ever for that id. Each
//! line is read here first: one over [`MAX_LINE_BYTES`], nested deeper than [`MAX_DEPTH`], or not
//! JSON is answered with the JSON-RPC error for it, under the id a shallow scan of the line finds
//! (null when none can be read); every other line goes on to rmcp unchanged. Both streams of
//! answers reach standard output whole, one line each.

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    sync::mpsc,
};

/// The longest line taken, in bytes (rmcp's own limit): longer ones are answered with an error.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of arrays and objects taken (serde_json stops at 128): deeper lines are
/// answered with an error.
pub(crate) const MAX_DEPTH: usize = 64;

/// How much of a line that is too long is kept, to find its id.
const KEPT_FOR_ID: usize = 64 * 1024;

/// JSON-RPC's codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// Serves `server` over `input` and `output` (standard input and output, or a test's pipes)
/// until the input ends or the output is closed.
pub(crate) async fn serve<R, W>(
    server: super::Server,
    input: R,
    mut output: W,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    use rmcp::ServiceExt;

    let (to_rmcp, rmcp_input) = tokio::io::duplex(1024 * 1024);
    let (rmcp_output, from_rmcp) = tokio::io::duplex(1024 * 1024);
    let (refusals, mut refused) = mpsc::unbounded_channel::<String>();

    // Lines in: each checked, then passed on or answered.
    let reading = tokio::spawn(read_lines(input, to_rmcp, refusals));
    // Lines out: rmcp's answers and the refusals, each written whole.
    let writing = tokio::spawn(async move {
        let mut answers = BufReader::new(from_rmcp).lines();
        let mut refusals_open = true;
        loop {
            let line = tokio::select! {
                answer = answers.next_line() => match answer {
                    Ok(Some(line)) => line,
                    _ => break,
                },
                refusal = refused.recv(), if refusals_open => match refusal {
                    Some(line) => line,
                    None => {
                        refusals_open = false;
                        continue;
                    }
                },
            };
            let written = async {
                output.write_all(line.as_bytes()).await?;
                output.write_all(b"\n").await?;
                output.flush().await
            };
            if written.await.is_err() {
                // The client closed its end: dropping rmcp's output ends the session.
                break;
            }
        }
        // Refusals still queued when rmcp has finished are answered too.
        while let Ok(line) = refused.try_recv() {
            let _ = output.write_all(format!("{line}\n").as_bytes()).await;
        }
        let _ = output.flush().await;
    });
    let running = server.serve((rmcp_input, rmcp_output)).await;
    let served = match running {
        Ok(running) => running.waiting().await.map(drop).map_err(Into::into),
        Err(e) => Err(e.into()),
    };
    reading.abort();
    let _ = writing.await;
    served
}

/// Reads `input` a line at a time, never holding more than [`MAX_LINE_BYTES`] of one line.
async fn read_lines<R: AsyncRead + Unpin>(
    input: R,
    mut to_rmcp: tokio::io::DuplexStream,
    refusals: mpsc::UnboundedSender<String>,
) {
    let mut input = BufReader::new(input);
    let mut line: Vec<u8> = Vec::new();
    // Bytes of the current line beyond what is kept, when it is too long.
    let mut over = 0usize;
    while let Ok(chunk) = input.fill_buf().await {
        if chunk.is_empty() {
            // The end of the input: a last line without its newline is still a line.
            if !line.is_empty() || over > 0 {
                take_line(&line, over, &mut to_rmcp, &refusals).await;
            }
            break;
        }
        let (part, ended) = match chunk.iter().position(|b| *b == b'\n') {
            Some(end) => (&chunk[..end], true),
            None => (chunk, false),
        };
        let room = if over > 0 {
            0
        } else {
            MAX_LINE_BYTES.saturating_sub(line.len())
        };
        if part.len() <= room {
            line.extend_from_slice(part);
        } else {
            // Too long: keep the start for its id, count the rest, hold none of it.
            let keep = KEPT_FOR_ID.saturating_sub(line.len()).min(part.len());
            line.extend_from_slice(&part[..keep]);
            line.truncate(KEPT_FOR_ID);
            line.shrink_to(KEPT_FOR_ID);
            over = over.saturating_add(part.len() - keep).max(1);
        }
        let used = part.len() + usize::from(ended);
        input.consume(used);
        if ended {
            if !take_line(&line, over, &mut to_rmcp, &refusals).await {
                break;
            }
            line.clear();
            over = 0;
        }
    }
}

/// Passes one line on, or answers it; `false` when rmcp has gone.
async fn take_line(
    line: &[u8],
    over: usize,
    to_rmcp: &mut tokio::io::DuplexStream,
    refusals: &mpsc::UnboundedSender<String>,
) -> bool {
    let text = line.strip_suffix(b"\r").unwrap_or(line);
    if over == 0 && text.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    let refusal = if over > 0 {
        Some((
            INVALID_REQUEST,
            format!(
                "the message is longer than {} MiB, the most this server reads in one line",
                MAX_LINE_BYTES / (1024 * 1024)
            ),
            shallow_id(text),
        ))
    } else if depth(text) > MAX_DEPTH {
        Some((
            INVALID_REQUEST,
            format!("the message nests arrays and objects deeper than {MAX_DEPTH} levels"),
            shallow_id(text),
        ))
    } else {
        match serde_json::from_slice::<Value>(text) {
            Err(_) => Some((PARSE_ERROR, "the line is not a JSON value".to_owned(), None)),
            Ok(message) => not_a_message(&message).map(|why| {
                let id = message
                    .get("id")
                    .filter(|id| id.is_number() || id.is_string())
                    .cloned();
                (INVALID_REQUEST, why, id)
            }),
        }
    };
    match refusal {
        Some((code, message, id)) => {
            // Answered under the id when one can be read, else under null, as JSON-RPC says.
            let answer = json!({
                "jsonrpc": "2.0",
                "id": id.unwrap_or(Value::Null),
                "error": {"code": code, "message": message},
            });
            let _ = refusals.send(answer.to_string());
            true
        }
        None => {
            let sent = async {
                to_rmcp.write_all(text).await?;
                to_rmcp.write_all(b"\n").await
            };
            sent.await.is_ok()
        }
    }
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
    (!request && !response)
        .then(|| "a message must name a string `method`, or answer with `result` or `error`".into())
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
    fn depth_counts_arrays_and_objects_but_not_strings() {
        assert_eq!(depth(br#"{"a":[1,{"b":2}]}"#), 3);
        assert_eq!(depth(br#"{"a":"[[[[{{{{"}"#), 1);
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(depth(deep.as_bytes()), MAX_DEPTH + 1);
    }
}
