//! An incremental Server-Sent-Events parser: bytes in, complete events out, whatever the chunk
//! boundaries (a line, a CRLF pair or a UTF-8 character may be split between chunks).

use std::collections::VecDeque;

/// The longest line accepted. A server that never ends its line would otherwise grow the
/// buffer without bound.
pub(crate) const MAX_LINE: usize = 8 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` name, or `message` when none was given.
    pub event: String,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Feeds a chunk; complete events are appended to `out`. Fails only when a line exceeds
    /// [`MAX_LINE`].
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        out: &mut VecDeque<SseEvent>,
    ) -> Result<(), String> {
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out);
                }
                _ => {
                    if self.line.len() >= MAX_LINE {
                        return Err(format!("an event line is longer than {MAX_LINE} bytes"));
                    }
                    self.line.push(byte);
                }
            }
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut VecDeque<SseEvent>) {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let data = std::mem::take(&mut self.data);
            if std::mem::take(&mut self.has_data) {
                let event = if event.is_empty() {
                    "message".to_owned()
                } else {
                    event
                };
                out.push_back(SseEvent { event, data });
            }
            return;
        }
        if line[0] == b':' {
            return; // a comment, used as keep-alive
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {} // `id`, `retry` and unknown fields do not concern a one-shot reply
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], chunk: usize) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        for piece in input.chunks(chunk) {
            parser.feed(piece, &mut out).unwrap();
        }
        out.into()
    }

    const STREAM: &[u8] =
        b": keep-alive\r\nevent: text_delta\r\ndata: {\"delta\":\"h\xc3\xa9\"}\r\n\r\n\
event: tool_use\ndata: {\"id\":1,\ndata: \"args\":null}\n\ndata: plain\n\nevent: done\ndata: {}\n\n";

    #[test]
    fn every_chunking_gives_the_same_events() {
        let whole = parse_in_chunks(STREAM, STREAM.len());
        assert_eq!(
            whole,
            vec![
                SseEvent {
                    event: "text_delta".into(),
                    data: "{\"delta\":\"hé\"}".into()
                },
                SseEvent {
                    event: "tool_use".into(),
                    data: "{\"id\":1,\n\"args\":null}".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "plain".into()
                },
                SseEvent {
                    event: "done".into(),
                    data: "{}".into()
                },
            ]
        );
        for size in 1..STREAM.len() {
            assert_eq!(parse_in_chunks(STREAM, size), whole, "chunks of {size}");
        }
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let events = parse_in_chunks(b"event: a\rdata: 1\r\rdata: 2\r\r", 3);
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0].event.as_str(), events[1].data.as_str()),
            ("a", "2")
        );
    }

    #[test]
    fn an_event_without_its_closing_blank_line_is_never_dispatched() {
        // A connection cut mid-event must not hand out half an event.
        let events = parse_in_chunks(
            b"data: {\"delta\":\"ok\"}\n\nevent: text_delta\ndata: {\"del",
            5,
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "{\"delta\":\"ok\"}");
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert!(parse_in_chunks(b"event: ping\n\n: comment\n\n", 4).is_empty());
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        let big = vec![b'x'; MAX_LINE + 1];
        assert!(parser.feed(&big, &mut out).is_err());
    }
}
