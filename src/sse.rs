//! An incremental Server-Sent-Events parser: bytes in, complete events out, whatever the chunk
//! boundaries (a line, a CRLF pair or a UTF-8 character may be split between chunks).

use std::collections::VecDeque;

/// An event (or a line of one) grew past the parser's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` name, or `message` when none was given.
    pub event: String,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

#[derive(Debug)]
pub(crate) struct SseParser {
    /// The most bytes one event may hold, its lines and their fields together: a server that
    /// never ends a line, or sends `data:` lines without the blank line that ends the event,
    /// would otherwise grow the buffers without bound.
    limit: usize,
    /// Bytes of the event being read, over all its lines so far.
    event_bytes: usize,
    line: Vec<u8>,
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// A parser that accepts events of at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            event_bytes: 0,
            line: Vec::new(),
            after_cr: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
        }
    }

    /// Feeds a chunk; complete events are appended to `out`. Fails only when an event grows
    /// past the limit; the parser is of no further use then.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        out: &mut VecDeque<SseEvent>,
    ) -> Result<(), TooLarge> {
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
                    let mut line = std::mem::take(&mut self.line);
                    self.line_done(&line, out);
                    // The buffer is reused; one that a long line grew is let go.
                    line.clear();
                    if line.capacity() <= 64 * 1024 {
                        self.line = line;
                    }
                }
                _ => {
                    // Each byte counts once, as part of its line and of its event.
                    self.event_bytes += 1;
                    if self.event_bytes > self.limit {
                        return Err(TooLarge);
                    }
                    self.line.push(byte);
                }
            }
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut VecDeque<SseEvent>) {
        if line.is_empty() {
            self.event_bytes = 0;
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
            // A comment, used as keep-alive: it belongs to no event.
            self.event_bytes = self.event_bytes.saturating_sub(line.len());
            return;
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
        let mut parser = SseParser::new(1 << 20);
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
        let mut parser = SseParser::new(1000);
        let mut out = VecDeque::new();
        assert_eq!(parser.feed(&[b'x'; 1001], &mut out), Err(TooLarge));
    }

    #[test]
    fn an_event_of_many_short_lines_without_its_blank_line_is_refused() {
        let mut parser = SseParser::new(1000);
        let mut out = VecDeque::new();
        let line = b"data: 0123456789\n";
        let mut fed = 0;
        let refused = loop {
            if let Err(e) = parser.feed(line, &mut out) {
                break e;
            }
            // Line ends are not counted: they hold nothing.
            fed += line.len() - 1;
            assert!(fed <= 1000, "the event passed its limit");
        };
        assert_eq!(refused, TooLarge);
        assert!(out.is_empty());
    }

    #[test]
    fn the_limit_is_per_event_and_comments_do_not_count() {
        let mut parser = SseParser::new(100);
        let mut out = VecDeque::new();
        // Many events and keep-alive comments, each well under the limit, far more in total.
        for _ in 0..1000 {
            parser
                .feed(b": ping\ndata: {\"delta\":\"0123456789\"}\n\n", &mut out)
                .unwrap();
        }
        assert_eq!(out.len(), 1000);
    }
}
