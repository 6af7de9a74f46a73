//! Reading settings from the environment and the command line, by one rule for the library
//! and every door: a setting that is set but cannot be read stops start-up with an error that
//! names it. It never counts as unset, which would fall back to a default: a base URL that
//! cannot be read must not send requests to the real service, and a read-only switch that
//! cannot be read must not serve the tools that write.

use std::ffi::OsString;

use crate::error::{Error, ErrorKind};

/// A variable of the environment: `None` when it is unset or blank, its text when it is set,
/// and [`ErrorKind::InvalidSetting`] naming it when its value is not Unicode.
pub(crate) fn var(name: &'static str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(invalid(
            name,
            "its value is not valid UTF-8; unset it or give it a readable value",
        )),
    }
}

/// A switch of the environment: `1`, `true`, `yes` or `on` (in any case) for on; `0`, `false`,
/// `no`, `off`, blank or unset for off. Anything else is an error naming it.
#[cfg_attr(not(feature = "mcp"), allow(dead_code))]
pub(crate) fn switch(name: &'static str) -> Result<bool, Error> {
    let Some(value) = var(name)? else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(
            name,
            format!("{value:?} is not a switch: use true or false (1 or 0)"),
        )),
    }
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidSetting {
        setting,
        reason: reason.into(),
    })
}

/// Command-line arguments as text (without the program's name), or the first that is not valid
/// UTF-8, named by its place (1 for the first, as a shell's `$1`) and shown with the bytes
/// that could not be read replaced.
#[cfg_attr(
    not(any(feature = "mcp", feature = "cli", feature = "sandbox")),
    allow(dead_code)
)]
pub(crate) fn arguments(
    arguments: impl IntoIterator<Item = OsString>,
) -> Result<Vec<String>, String> {
    arguments
        .into_iter()
        .enumerate()
        .map(|(place, argument)| {
            argument.into_string().map_err(|raw| {
                format!(
                    "argument {} ({}) is not valid UTF-8",
                    place + 1,
                    raw.to_string_lossy()
                )
            })
        })
        .collect()
}

/// The runtime a program runs on (the MCP server, the sandbox); when it cannot be had, the
/// program's exit code after saying why.
#[cfg(feature = "sandbox")]
pub(crate) fn runtime(program: &str) -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("{program}: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_argument_that_is_not_utf8_is_named_by_its_place() {
        use std::os::unix::ffi::OsStringExt;
        let given = vec![
            OsString::from("--port"),
            OsString::from_vec(vec![b'8', 0xff, b'0']),
        ];
        let problem = arguments(given).unwrap_err();
        assert!(problem.starts_with("argument 2 (8\u{FFFD}0)"), "{problem}");
        assert_eq!(
            arguments([OsString::from("--sandbox")]).unwrap(),
            ["--sandbox"]
        );
    }
}
