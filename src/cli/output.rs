//! Standard output: one JSON document (pretty on a terminal, one line otherwise), or a list's
//! items one JSON object a line, flushed page by page so a pipe sees them as they arrive. A
//! reader that closes the pipe (`| head`) ends the command quietly: [`Closed`].

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};

use serde_json::Value;

use super::exit::Failure;

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

/// Standard output, buffered.
pub(crate) struct Output {
    out: BufWriter<Stdout>,
    pretty: bool,
}

impl Output {
    /// Pretty JSON when standard output is a terminal or `pretty` asks for it.
    pub(crate) fn new(pretty: bool) -> Self {
        let stdout = io::stdout();
        let pretty = pretty || stdout.is_terminal();
        Self {
            out: BufWriter::with_capacity(64 * 1024, stdout),
            pretty,
        }
    }

    /// One JSON document, then a line end, written out at once.
    pub(crate) fn document(&mut self, value: &Value) -> Result<(), Stop> {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.out, value).map_err(io::Error::from)?;
        } else {
            serde_json::to_writer(&mut self.out, value).map_err(io::Error::from)?;
        }
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
    }

    /// One item of a list, already JSON text, on a line of its own; [`flush`](Self::flush)
    /// sends the page.
    pub(crate) fn line(&mut self, json: &str) -> Result<(), Stop> {
        self.out.write_all(json.as_bytes())?;
        self.out.write_all(b"\n")?;
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
