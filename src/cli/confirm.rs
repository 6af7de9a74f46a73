//! A command that deletes data asks first, as `gh` does for its own: on a terminal, a question
//! on standard error answered on standard input; anywhere else only `--yes` lets it run, so a
//! script never deletes on a guess. Which commands delete comes from the operation model, the
//! same fact the MCP server asks its client about.

use std::io::{BufRead, IsTerminal, Read, Write};

use clap::{Arg, ArgAction};
use serde_json::{Map, Value};

use super::exit::Failure;
use crate::model::{self, Consequence};

/// The flag that answers yes in advance.
pub(crate) const YES: &str = "yes";

/// The most bytes of an answer read; the rest of a longer line is not an answer.
const ANSWER_BYTES: u64 = 64;

/// `--yes` for a command whose operation deletes data, or `None`.
pub(crate) fn yes_flag(operation: &model::Operation) -> Option<Arg> {
    (operation.consequence() == Some(Consequence::Destroys)).then(|| {
        Arg::new(YES)
            .long(YES)
            .short('y')
            .action(ArgAction::SetTrue)
            .help("Delete without asking (needed when standard input or error is not a terminal)")
    })
}

/// Whether the command may go ahead: yes for anything that deletes nothing, for `--yes`, and
/// for a person who answers y on a terminal; otherwise the usage failure that says why
/// nothing was sent.
pub(crate) async fn go_ahead(
    operation: &'static model::Operation,
    arguments: &Map<String, Value>,
    yes: bool,
) -> Result<(), Failure> {
    if operation.consequence() != Some(Consequence::Destroys) || yes {
        return Ok(());
    }
    let named: Vec<String> = arguments
        .iter()
        .map(|(name, value)| match value {
            Value::String(text) => format!("{name} {text:?}"),
            other => format!("{name} {other}"),
        })
        .collect();
    let what = format!(
        "{} ({})",
        operation.summary.to_lowercase(),
        if named.is_empty() {
            "no arguments".to_owned()
        } else {
            named.join(", ")
        }
    );
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::usage(
            format!(
                "not sent: this would {what}, which {}; add --yes to go ahead when not at a terminal",
                Consequence::Destroys.says()
            ),
            Vec::new(),
        ));
    }
    let question = format!(
        "? This will {what}, which {}. Go ahead? [y/N] ",
        Consequence::Destroys.says()
    );
    let answer = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(question.as_bytes());
        let _ = stderr.flush();
        let mut line = Vec::new();
        std::io::stdin()
            .lock()
            .take(ANSWER_BYTES)
            .read_until(b'\n', &mut line)
            .map(|_| line)
    })
    .await;
    let yes = match answer {
        Ok(Ok(line)) => is_yes(&line),
        _ => false,
    };
    if yes {
        Ok(())
    } else {
        Err(Failure::usage(
            format!("not sent: no confirmation to {what}"),
            Vec::new(),
        ))
    }
}

/// `y` or `yes`, in any case, alone on the line.
fn is_yes(line: &[u8]) -> bool {
    std::str::from_utf8(line)
        .map(|text| matches!(text.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_is_a_yes() {
        for yes in [&b"y\n"[..], b"Y", b" yes \r\n", b"YES\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in [&b"\n"[..], b"n", b"yes please", b"", b"\xffy", b"ye"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn only_the_commands_that_delete_take_yes() {
        for service in [
            crate::invoke::Service::HockeyStack,
            crate::invoke::Service::HyperRep,
        ] {
            for operation in service.operations() {
                assert_eq!(
                    yes_flag(operation).is_some(),
                    operation.method == model::Method::Delete,
                    "{}",
                    operation.id
                );
            }
        }
    }
}
