//! Standard output: one JSON document (pretty on a terminal, one line otherwise), or a list's
//! items one JSON object a line, flushed page by page so a pipe sees them as they arrive; or
//! the records the command line asked for (`--output`, `--fields`, `--jq`, see `shape`). A
//! reader that closes the pipe (`| head`) ends the command quietly: [`Closed`].

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};

use serde_json::Value;

use super::{
    exit::Failure,
    shape::{Mode, Shaping, Table},
};

/// The reader of standard output went away; the command stops fetching and succeeds.
#[derive(Debug)]
pub(crate) struct Closed;

/// Why writing stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    Closed(Closed),
    Failed(Failure),
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Stop::Closed(Closed)
        } else {
            Stop::Failed(Failure::Output(error))
        }
    }
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Stop::Failed(failure)
    }
}

impl From<crate::error::Error> for Stop {
    fn from(error: crate::error::Error) -> Self {
        Stop::Failed(Failure::Api(error))
    }
}

/// Standard output, buffered, writing records as the command line chose ([`Shaping`]).
pub(crate) struct Output {
    out: BufWriter<Stdout>,
    pretty: bool,
    shaping: Shaping,
    table: Table,
    /// A walk printed as one JSON array has written its opening bracket (and how many items).
    array: Option<usize>,
}

impl Output {
    /// Pretty JSON when standard output is a terminal or the shaping asks for it.
    pub(crate) fn new(shaping: Shaping) -> Self {
        let stdout = io::stdout();
        let stdout_is_terminal = stdout.is_terminal();
        let pretty = shaping.pretty || stdout_is_terminal;
        Self {
            out: BufWriter::with_capacity(64 * 1024, stdout),
            pretty,
            shaping,
            table: Table::new(stdout_is_terminal),
            array: None,
        }
    }

    /// The fields asked of each record of the answer (before any `--jq` filter runs).
    pub(crate) fn record_fields(&self) -> Option<&[String]> {
        self.shaping.fields.as_deref()
    }

    /// One answer: written whole, or as the records the shaping makes of it.
    pub(crate) fn document(&mut self, value: &Value) -> Result<(), Stop> {
        if self.shaping.as_sent() {
            return self.json_document(value);
        }
        for record in self.shaping.records(value.clone())? {
            self.record(record, false)?;
        }
        self.finish()
    }

    /// One page of a list, answered without following the pages: whole, unless the records
    /// are asked for (`--fields`, `--output jsonl` or `table`), which are then its items; the
    /// cursor to the next page goes to standard error, where a pipe does not take it for one.
    pub(crate) fn page(
        &mut self,
        page: Value,
        items: &str,
        next: Option<String>,
    ) -> Result<(), Stop> {
        let per_item =
            self.shaping.fields.is_some() || matches!(self.shaping.mode, Mode::Jsonl | Mode::Table);
        let Some(Value::Array(records)) = per_item.then(|| page.get(items).cloned()).flatten()
        else {
            return self.document(&page);
        };
        for item in records {
            for record in self.shaping.records(item)? {
                self.record(record, true)?;
            }
        }
        self.finish()?;
        if let Some(cursor) = next {
            let _ = writeln!(
                io::stderr().lock(),
                "(more: --cursor {cursor}, or --all for every page)"
            );
        }
        Ok(())
    }

    /// One item of a list whose pages are followed, as JSON text on one line: written as
    /// sent, or as the records the shaping makes of it. [`flush`](Self::flush) sends the page.
    pub(crate) fn item(&mut self, json: &str) -> Result<(), Stop> {
        if self.shaping.as_sent() && !self.shaping.pretty {
            self.out.write_all(json.as_bytes())?;
            self.out.write_all(b"\n")?;
            return Ok(());
        }
        let value: Value = serde_json::from_str(json).map_err(io::Error::from)?;
        for record in self.shaping.records(value)? {
            self.record(record, true)?;
        }
        Ok(())
    }

    /// Ends what records began: a JSON array's bracket, a table's last rows.
    pub(crate) fn finish(&mut self) -> Result<(), Stop> {
        if self.array.take().is_some() {
            self.out.write_all(b"\n]\n")?;
        }
        for line in self.table.flush(self.shaping.fields.as_deref()) {
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// One record, as the mode writes it; `in_list` when it is one of several (a page's items).
    fn record(&mut self, record: Value, in_list: bool) -> Result<(), Stop> {
        if self.shaping.raw
            && matches!(self.shaping.mode, Mode::Auto | Mode::Jsonl)
            && let Value::String(text) = &record
        {
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")?;
            return Ok(());
        }
        match self.shaping.mode {
            Mode::Table => {
                for line in self.table.row(record, self.shaping.fields.as_deref()) {
                    writeln!(self.out, "{line}")?;
                }
                Ok(())
            }
            Mode::Json if in_list => {
                let written = self.array.get_or_insert(0);
                let separator: &[u8] = if *written == 0 { b"[\n" } else { b",\n" };
                *written += 1;
                self.out.write_all(separator)?;
                self.json(&record)
            }
            Mode::Json => self.json_document(&record),
            Mode::Auto | Mode::Jsonl => {
                if in_list || matches!(self.shaping.mode, Mode::Jsonl) {
                    self.json(&record)?;
                    self.out.write_all(b"\n")?;
                    Ok(())
                } else {
                    self.json_document(&record)
                }
            }
        }
    }

    fn json(&mut self, value: &Value) -> Result<(), Stop> {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.out, value).map_err(io::Error::from)?;
        } else {
            serde_json::to_writer(&mut self.out, value).map_err(io::Error::from)?;
        }
        Ok(())
    }

    /// One JSON document, then a line end, written out at once.
    fn json_document(&mut self, value: &Value) -> Result<(), Stop> {
        self.json(value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
    }

    /// Text as it arrives (a streamed reply), sent at once.
    pub(crate) fn text(&mut self, text: &str) -> Result<(), Stop> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<(), Stop> {
        self.out.flush()?;
        Ok(())
    }
}
