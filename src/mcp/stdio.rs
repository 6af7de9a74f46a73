//! MCP over standard input and output, with every request answered. rmcp reads one JSON-RPC
//! message a line, but drops a line it cannot take (longer than its limit, nested deeper than
//! serde's, or not JSON) without a word, and a client then waits for ever for that id. Each
//! line is read here first, never more than [`MAX_LINE_BYTES`] of it held: one that
//! [`intake::refusal`] refuses is answered with the JSON-RPC error for it; every other line
//! goes on to rmcp unchanged. Both streams of answers reach standard output whole, one line
//! each.

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    sync::mpsc,
};

use super::intake::{self, KEPT_FOR_ID, MAX_LINE_BYTES};

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
    let refusal = intake::refusal(text, over > 0);
    match refusal {
        Some(answer) => {
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
