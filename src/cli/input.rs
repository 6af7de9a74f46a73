//! A command's flags (and body file) as the operation's JSON arguments, checked against the
//! argument schema before anything is sent, every problem named by its flag.

use std::io::Read;

use clap::ArgMatches;
use serde_json::{Map, Value};

use super::{
    exit::Failure,
    tree::{self, BODY_FILE, Flag, OperationCommand},
};
use crate::invoke::check;

/// The most bytes a body file may hold: the APIs' largest bodies are a few kilobytes.
const MAX_BODY_FILE: u64 = 4 * 1024 * 1024;

/// The arguments the flags give, checked.
pub(crate) fn arguments(
    command: &OperationCommand,
    matches: &ArgMatches,
    defaults: &Map<String, Value>,
) -> Result<Map<String, Value>, Failure> {
    let mut arguments = Map::new();
    let mut problems = Vec::new();
    if let Ok(Some(path)) = matches.try_get_one::<String>(BODY_FILE) {
        let body = read_json(path)?;
        if command.operation.model.arguments.body_whole {
            arguments.insert("body".into(), body);
        } else {
            match body {
                Value::Object(members) => arguments.extend(members),
                other => problems.push(format!(
                    "--{BODY_FILE}: the body must be a JSON object, not {}",
                    check::describe(&other)
                )),
            }
        }
    }
    read_flags(&command.flags, matches, &mut arguments, &mut problems);
    for (name, value) in defaults {
        if command.flags.iter().any(|f| f.argument == *name) && !arguments.contains_key(name) {
            arguments.insert(name.clone(), value.clone());
        }
    }
    let takes_organization = command
        .flags
        .iter()
        .any(|f| f.argument == super::ORGANIZATION_ARGUMENT);
    let missing_organization =
        takes_organization && !arguments.contains_key(super::ORGANIZATION_ARGUMENT);
    let outcome = checked(
        &command.flags,
        &command.schema,
        arguments,
        problems,
        &format!(
            "{} {} {}",
            command.operation.service.prefix(),
            command.tag,
            command.verb
        ),
    );
    outcome.map_err(|failure| match failure {
        // Where a HyperRep organization can come from, beside its flag.
        Failure::Usage { message, problems } if missing_organization => Failure::Usage {
            message,
            problems: problems
                .into_iter()
                .map(|p| {
                    if p.starts_with("--organization-id") {
                        format!(
                            "{p} (or name it once: {} or a profile's hyperrep_organization_id)",
                            super::ORGANIZATION_VARIABLE
                        )
                    } else {
                        p
                    }
                })
                .collect(),
        },
        other => other,
    })
}

/// The values the flags were given, each as the JSON its schema asks for.
pub(crate) fn read_flags(
    flags: &[Flag],
    matches: &ArgMatches,
    arguments: &mut Map<String, Value>,
    problems: &mut Vec<String>,
) {
    for flag in flags {
        let given = matches
            .try_get_many::<String>(&flag.argument)
            .ok()
            .flatten()
            .or_else(|| {
                // A path parameter given as a word of its own.
                matches
                    .try_get_many::<String>(&tree::positional_id(&flag.argument))
                    .ok()
                    .flatten()
            });
        let Some(texts) = given else {
            continue;
        };
        let texts: Vec<&String> = texts.collect();
        let item = flag.schema.get("items").unwrap_or(&flag.schema);
        let parsed: Result<Value, String> = if tree::kind(&flag.schema) == "array" {
            texts
                .iter()
                .map(|t| value(item, t))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        } else {
            texts
                .last()
                .map_or(Ok(Value::Null), |t| value(&flag.schema, t))
        };
        match parsed {
            Ok(value) => {
                arguments.insert(flag.argument.clone(), value);
            }
            Err(problem) => problems.push(format!(
                "{}: {problem}",
                tree::flag_of(flags, &flag.argument)
            )),
        }
    }
}

/// The arguments checked against the schema, or every problem, each named by its flag.
pub(crate) fn checked(
    flags: &[Flag],
    schema: &Value,
    arguments: Map<String, Value>,
    mut problems: Vec<String>,
    command: &str,
) -> Result<Map<String, Value>, Failure> {
    if problems.is_empty() {
        problems = check::problems(schema, &Value::Object(arguments.clone()))
            .into_iter()
            .map(|p| name_flag(flags, &p))
            .collect();
    }
    if problems.is_empty() {
        Ok(arguments)
    } else {
        Err(Failure::usage(
            format!("the arguments do not fit {command}"),
            problems,
        ))
    }
}

/// A problem of the schema check, named by its flag (`task_title: is required` →
/// `--task-title: is required`).
pub(crate) fn name_flag(flags: &[Flag], problem: &str) -> String {
    let end = problem.find(['.', '[', '/', ':']).unwrap_or(problem.len());
    let (argument, rest) = problem.split_at(end);
    if flags.iter().any(|f| f.argument == argument) {
        format!("{}{rest}", tree::flag_of(flags, argument))
    } else {
        problem.to_owned()
    }
}

/// One flag's text as the JSON value its schema asks for.
pub(crate) fn value(schema: &Value, text: &str) -> Result<Value, String> {
    let nullable = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "null"),
        _ => false,
    };
    let kind = tree::kind(schema);
    if nullable && kind != "string" && text == "null" {
        return Ok(Value::Null);
    }
    match kind {
        "string" => Ok(Value::String(text.to_owned())),
        "integer" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{text:?} is not an integer")),
        "number" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{text:?} is not a number")),
        "boolean" => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not true or false")),
        },
        _ => serde_json::from_str(text).map_err(|e| format!("not JSON: {e}")),
    }
}

/// A JSON document from a file, or from standard input for `-`, held to a size.
pub(crate) fn read_json(path: &str) -> Result<Value, Failure> {
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_BODY_FILE + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_BODY_FILE + 1).read_to_end(&mut bytes))
    };
    let name = if path == "-" { "standard input" } else { path };
    read.map_err(|e| Failure::usage(format!("cannot read {name}: {e}"), Vec::new()))?;
    if bytes.len() as u64 > MAX_BODY_FILE {
        return Err(Failure::usage(
            format!("{name} holds more than {MAX_BODY_FILE} bytes; a request body is far smaller"),
            Vec::new(),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("{name} is not JSON: {e}"), Vec::new()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn flag_text_becomes_the_type_the_schema_asks_for() {
        assert_eq!(value(&json!({"type": "integer"}), "50"), Ok(json!(50)));
        assert!(value(&json!({"type": "integer"}), "fifty").is_err());
        assert_eq!(value(&json!({"type": "number"}), "2.5"), Ok(json!(2.5)));
        assert!(value(&json!({"type": "number"}), "NaN").is_err());
        assert_eq!(
            value(&json!({"type": "boolean"}), "false"),
            Ok(json!(false))
        );
        assert_eq!(value(&json!({"type": "string"}), "null"), Ok(json!("null")));
        assert_eq!(
            value(&json!({"type": ["integer", "null"]}), "null"),
            Ok(Value::Null)
        );
        assert_eq!(
            value(&json!({"type": "object"}), r#"{"deal_id": "1"}"#),
            Ok(json!({"deal_id": "1"}))
        );
        assert!(value(&json!({"type": "object"}), "{").is_err());
    }
}
