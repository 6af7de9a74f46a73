//! The agent's reply as it is produced: a message POST that asks for Server-Sent Events, and
//! the typed events read from it.

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_core::{Stream, future::BoxFuture};
use progenitor_client::ClientInfo;
use serde_json::Value;

use super::{AgentRecord, Client, types};
use crate::{
    call::{OperationCall, StreamOrJson},
    error::snippet,
    error::{AgentRef, Error, ErrorKind},
    sse::SseParser,
    transport::Inner,
};

/// The API's name in errors.
const API: &str = "HockeyStack";

/// One event of a streamed reply.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReplyEvent {
    /// The next piece of the answer's text.
    TextDelta {
        /// The piece.
        text: String,
    },
    /// The agent calls a tool.
    ToolUse {
        /// The call's id, repeated by its [`ReplyEvent::ToolResult`].
        id: Option<String>,
        /// The tool.
        name: Option<String>,
        /// The call's arguments.
        args: ToolArgs,
    },
    /// A tool's answer.
    ToolResult {
        /// The id of the call it answers.
        id: Option<String>,
        /// The tool.
        name: Option<String>,
        /// What the tool returned (the event's whole data when no result field is named).
        result: Value,
    },
    /// The reply is complete; the stream ends after it.
    Done {
        /// The conversation, when the event names it.
        conversation_id: Option<String>,
        /// The event's data as sent.
        data: Value,
    },
    /// An event this version of the crate does not know, kept as sent.
    Unknown {
        /// The event's name.
        event: String,
        /// The event's data.
        data: String,
    },
}

/// A tool call's arguments: HockeyStack sends the parsed JSON when the agent's arguments parse,
/// the raw text when they do not, and nothing when none were captured.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolArgs {
    /// Arguments that parsed as JSON.
    Json(Value),
    /// Arguments that did not parse, as the agent wrote them.
    Text(String),
    /// No arguments were captured.
    None,
}

impl std::fmt::Display for ToolArgs {
    /// Compact JSON, the raw text, or nothing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolArgs::Json(value) => write!(f, "{value}"),
            ToolArgs::Text(text) => f.write_str(text),
            ToolArgs::None => Ok(()),
        }
    }
}

/// The typed events of one streamed reply; see [`Client::stream_deal_reply`].
///
/// The stream ends after [`ReplyEvent::Done`]. A connection that closes, breaks off or stays
/// silent for the client's read timeout before `done` ends the stream with
/// [`ErrorKind::StreamInterrupted`], never with a clean end, and an event cut in half is
/// never handed out. One event larger than the client's
/// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes) ends it with
/// [`ErrorKind::ResponseTooLarge`]. There is no limit on the whole reply unless
/// [`total_timeout`](Self::total_timeout) sets one. Dropping the stream closes the connection.
#[must_use = "streams do nothing unless polled"]
pub struct ReplyStream {
    body: Option<Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>>,
    inner: Arc<Inner>,
    /// The end of an optional limit on the whole reply, and the limit.
    deadline: Option<(Pin<Box<tokio::time::Sleep>>, Duration)>,
    parser: SseParser,
    parsed: VecDeque<crate::sse::SseEvent>,
    agent: AgentRef,
    conversation_id: String,
    events_received: usize,
    /// `done` arrived, or the stream already failed: nothing more is handed out.
    finished: bool,
}

impl std::fmt::Debug for ReplyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyStream")
            .field("agent", &self.agent)
            .field("conversation_id", &self.conversation_id)
            .field("events_received", &self.events_received)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ReplyStream {
    fn new(
        response: reqwest::Response,
        inner: Arc<Inner>,
        agent: AgentRef,
        conversation_id: String,
    ) -> Self {
        let limit = usize::try_from(inner.limits.max_response_bytes).unwrap_or(usize::MAX);
        Self {
            body: Some(Box::pin(response.bytes_stream())),
            inner,
            deadline: None,
            parser: SseParser::new(limit),
            parsed: VecDeque::new(),
            agent,
            conversation_id,
            events_received: 0,
            finished: false,
        }
    }

    /// Ends the reply with an error if it is not over within `limit` from now (counted from
    /// this call): long replies are normal, so there is no such limit unless one is set; the
    /// read timeout still bounds the silence between events. The error is
    /// [`ErrorKind::StreamInterrupted`], with [`ErrorKind::DeadlineExceeded`] as its source.
    pub fn total_timeout(mut self, limit: Duration) -> Self {
        let limit = crate::limits::saturated(limit);
        self.deadline = Some((Box::pin(tokio::time::sleep(limit)), limit));
        self
    }

    /// Ends the stream with `error`, guarded; nothing is handed out after it.
    fn fail(&mut self, error: Error) -> Error {
        self.body = None;
        self.parsed.clear();
        self.finished = true;
        self.inner.guard(error)
    }

    /// The error for a reply that ended before `done`.
    fn interrupted(&mut self, cause: Option<Error>) -> Error {
        let error = Error::new(ErrorKind::StreamInterrupted {
            agent: self.agent.clone(),
            conversation_id: self.conversation_id.clone(),
            events_received: self.events_received,
        })
        .with_api(API);
        let error = match cause {
            Some(cause) => error.with_source(cause),
            None => error,
        };
        self.fail(error)
    }

    /// Reads the whole reply and returns its text (the `text_delta` pieces, concatenated).
    pub async fn text(mut self) -> Result<String, Error> {
        use futures_util::StreamExt;
        let mut text = String::new();
        while let Some(event) = self.next().await {
            if let ReplyEvent::TextDelta { text: piece } = event? {
                text.push_str(&piece);
            }
        }
        Ok(text)
    }
}

impl Stream for ReplyStream {
    type Item = Result<ReplyEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(raw) = this.parsed.pop_front() {
                this.events_received += 1;
                return Poll::Ready(Some(match typed(raw.event, raw.data) {
                    Ok(event @ ReplyEvent::Done { .. }) => {
                        // Whatever follows `done` is not part of this reply: close the
                        // connection.
                        this.body = None;
                        this.parsed.clear();
                        this.finished = true;
                        Ok(event)
                    }
                    Ok(event) => Ok(event),
                    Err(e) => Err(this.fail(e)),
                }));
            }
            if let Some((deadline, limit)) = this.deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                let limit = *limit;
                let cause = Error::new(ErrorKind::DeadlineExceeded { limit }).with_api(API);
                return Poll::Ready(Some(Err(this.interrupted(Some(cause)))));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if this.parser.feed(&chunk, &mut this.parsed).is_err() {
                        let limit = this.inner.limits.max_response_bytes;
                        let error = Error::new(ErrorKind::ResponseTooLarge { limit }).with_api(API);
                        return Poll::Ready(Some(Err(this.fail(error))));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let cause = Error::transport(API, e);
                    return Poll::Ready(Some(Err(this.interrupted(Some(cause)))));
                }
                // The connection closed without `done`: whatever was half-sent is dropped
                // (an unfinished event is never dispatched) and the reply is incomplete.
                Poll::Ready(None) => return Poll::Ready(Some(Err(this.interrupted(None)))),
            }
        }
    }
}

fn invalid(reason: String) -> Error {
    Error::new(ErrorKind::InvalidResponse { reason }).with_api(API)
}

fn text_field(data: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| data.get(n))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

fn looks_like_json(data: &str) -> bool {
    matches!(data.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// Turns a raw event into a typed one. The name comes from the SSE `event:` line, or from a
/// `type` field of the data when the line is absent.
fn typed(event: String, data: String) -> Result<ReplyEvent, Error> {
    let json: Option<Value> = serde_json::from_str(&data).ok();
    let name = match (&*event, &json) {
        ("message", Some(v)) => v
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or(event),
        _ => event,
    };
    let object = |json: Option<Value>| match json {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(invalid(format!(
            "the data of a `{name}` event is not a JSON object: \"{}\"",
            snippet(&data)
        ))),
    };
    Ok(match name.as_str() {
        "text_delta" => match &json {
            Some(v) => ReplyEvent::TextDelta {
                text: text_field(v, &["delta", "text", "content"]).ok_or_else(|| {
                    invalid(format!(
                        "a `text_delta` event carries no text: \"{}\"",
                        snippet(&data)
                    ))
                })?,
            },
            // JSON that does not parse is a broken event, never answer text.
            None if looks_like_json(&data) => {
                return Err(invalid(format!(
                    "the data of a `text_delta` event is broken JSON: \"{}\"",
                    snippet(&data)
                )));
            }
            // A delta sent as bare text.
            None => ReplyEvent::TextDelta { text: data },
        },
        "tool_use" => {
            let v = object(json)?;
            ReplyEvent::ToolUse {
                id: text_field(&v, &["id", "tool_use_id", "call_id"]),
                name: text_field(&v, &["name", "tool", "tool_name"]),
                args: match v.get("args") {
                    None | Some(Value::Null) => ToolArgs::None,
                    Some(Value::String(s)) => ToolArgs::Text(s.clone()),
                    Some(other) => ToolArgs::Json(other.clone()),
                },
            }
        }
        "tool_result" => {
            let v = object(json)?;
            ReplyEvent::ToolResult {
                id: text_field(&v, &["id", "tool_use_id", "call_id"]),
                name: text_field(&v, &["name", "tool", "tool_name"]),
                result: ["result", "output", "content"]
                    .iter()
                    .find_map(|k| v.get(*k).cloned())
                    .unwrap_or(v),
            }
        }
        "done" => {
            let v = json.unwrap_or(Value::Null);
            ReplyEvent::Done {
                conversation_id: text_field(&v, &["conversation_id"]),
                data: v,
            }
        }
        _ => ReplyEvent::Unknown { event: name, data },
    })
}

/// What a message sent asking for a stream started: the stream, or, from a server that
/// answered the message as a job instead, the job.
pub(crate) enum Started {
    Stream(ReplyStream),
    Job(types::MessageJobAccepted),
}

/// Sends a message asking for the reply as an event stream.
pub(crate) async fn stream_reply<S: AgentRecord>(
    client: Client,
    id: String,
    conversation_id: String,
    message: String,
) -> Result<ReplyStream, Error> {
    match start_reply::<S>(client, id, conversation_id, message).await? {
        Started::Stream(stream) => Ok(stream),
        Started::Job(job) => Err(Error::new(ErrorKind::InvalidResponse {
            reason: format!(
                "asked for an event stream, got job {} instead",
                snippet(&job.job_id)
            ),
        })
        .with_api(API)
        .with_status(202)),
    }
}

/// Sends a message asking for the reply as an event stream, and takes a job in its place.
pub(crate) async fn start_reply<S: AgentRecord>(
    client: Client,
    id: String,
    conversation_id: String,
    message: String,
) -> Result<Started, Error> {
    let refuse = |reason: String| Error::new(ErrorKind::InvalidRequest { reason }).with_api(API);
    // The same checks the generated call makes.
    S::check_id(&id).map_err(refuse)?;
    types::ConversationId::try_from(conversation_id.as_str())
        .map_err(|e| refuse(format!("cid: {e}")))?;
    let message = types::SendMessageRequestMessage::try_from(message)
        .map_err(|e| refuse(format!("message: {e}")))?;
    let answer = OperationCall::new(super::operation(S::SEND_MESSAGE))
        .path(S::ID_PARAMETER, id.as_str())
        .path("cid", conversation_id.as_str())
        .body(serde_json::json!({ "message": message, "stream": true }))
        .stream_or_json::<super::ErrorBody, _>(&client)
        .await?;
    match answer {
        // The call's deadline covered the request and the answer's head; the events that
        // follow are bounded by the read timeout between them (and `total_timeout`, when set).
        StreamOrJson::Events(response) => Ok(Started::Stream(ReplyStream::new(
            response,
            Arc::clone(client.inner()),
            S::agent_ref(&id),
            conversation_id,
        ))),
        StreamOrJson::Json { status, value } => serde_json::from_value(value)
            .map(Started::Job)
            .map_err(|e| {
                Error::new(ErrorKind::InvalidResponse {
                    reason: format!(
                        "asked for an event stream, got {status} with JSON that is not a job: {e}"
                    ),
                })
                .with_api(API)
                .with_status(status)
            }),
    }
}

impl Client {
    /// Sends a message to a deal agent's conversation and streams the reply as it is produced;
    /// the same as `deal_agent(id).stream_reply(cid, message)`
    /// ([`Agent::stream_reply`](super::Agent::stream_reply)). An HTTP error comes back here,
    /// before any event.
    ///
    /// ```no_run
    /// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
    /// use futures_util::StreamExt;
    /// use revenue_agents::hockeystack::ReplyEvent;
    ///
    /// let mut reply = client.stream_deal_reply("9001234567", "conv_5Yb2kQ", "Summarise the deal").await?;
    /// while let Some(event) = reply.next().await {
    ///     match event? {
    ///         ReplyEvent::TextDelta { text } => print!("{text}"),
    ///         ReplyEvent::ToolUse { name, .. } => eprintln!("[using {name:?}]"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream_deal_reply(
        &self,
        deal_id: impl Into<String>,
        conversation_id: impl Into<String>,
        message: impl Into<String>,
    ) -> BoxFuture<'static, Result<ReplyStream, Error>> {
        self.deal_agent(deal_id)
            .stream_reply(conversation_id, message)
    }

    /// Streams a company agent's reply; see [`stream_deal_reply`](Self::stream_deal_reply).
    pub fn stream_company_reply(
        &self,
        company_id: impl Into<String>,
        conversation_id: impl Into<String>,
        message: impl Into<String>,
    ) -> BoxFuture<'static, Result<ReplyStream, Error>> {
        self.company_agent(company_id)
            .stream_reply(conversation_id, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_marks_exactly_the_message_posts_as_streaming() {
        // Read from the spec's `2XX` event-stream answers; the streamed reply is sent through
        // these operations only.
        let streaming: Vec<&str> = super::super::operations::OPERATIONS
            .iter()
            .filter(|op| op.streams)
            .map(|op| op.id)
            .collect();
        assert_eq!(streaming, ["send_deal_message", "send_company_message"]);
        for send in [
            <types::AgentState as AgentRecord>::SEND_MESSAGE,
            <types::CompanyAgentState as AgentRecord>::SEND_MESSAGE,
        ] {
            assert!(super::super::operation(send).streams, "{send}");
        }
    }

    #[test]
    fn events_are_typed_from_their_names() {
        assert_eq!(
            typed("text_delta".into(), r#"{"delta":"Hi"}"#.into()).unwrap(),
            ReplyEvent::TextDelta { text: "Hi".into() }
        );
        assert_eq!(
            typed("text_delta".into(), "bare text".into()).unwrap(),
            ReplyEvent::TextDelta {
                text: "bare text".into()
            }
        );
        assert_eq!(
            typed(
                "message".into(),
                r#"{"type":"text_delta","text":"x"}"#.into()
            )
            .unwrap(),
            ReplyEvent::TextDelta { text: "x".into() }
        );
    }

    #[test]
    fn tool_arguments_keep_their_three_shapes() {
        let args = |data: &str| match typed("tool_use".into(), data.into()).unwrap() {
            ReplyEvent::ToolUse { args, .. } => args,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            args(r#"{"id":"t","args":{"a":1}}"#),
            ToolArgs::Json(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            args(r#"{"id":"t","args":"{not json"}"#),
            ToolArgs::Text("{not json".into())
        );
        assert_eq!(args(r#"{"id":"t","args":null}"#), ToolArgs::None);
        assert_eq!(args(r#"{"id":"t"}"#), ToolArgs::None);
    }

    #[test]
    fn tool_arguments_print_as_sent() {
        assert_eq!(
            ToolArgs::Json(serde_json::json!({"q": 1})).to_string(),
            r#"{"q":1}"#
        );
        assert_eq!(ToolArgs::Text("{not json".into()).to_string(), "{not json");
        assert_eq!(ToolArgs::None.to_string(), "");
    }

    #[test]
    fn unknown_events_are_kept_and_broken_ones_reported() {
        assert_eq!(
            typed("reasoning".into(), "thinking".into()).unwrap(),
            ReplyEvent::Unknown {
                event: "reasoning".into(),
                data: "thinking".into()
            }
        );
        assert!(typed("tool_use".into(), "not json".into()).is_err());
        assert!(typed("text_delta".into(), r#"{"other":1}"#.into()).is_err());
    }
}
