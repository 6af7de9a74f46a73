//! `revenue-agents api <api> <METHOD> <PATH>`: any path of the specs, as `gh api` takes one,
//! matched to its operation so that it goes through the same checks and transport as the
//! operation's own command (credential header, path checks, retries, no redirects). A path
//! that no operation matches is refused with the closest ones named.

use clap::{Arg, ArgAction, ArgMatches, Command, builder::PossibleValuesParser};
use serde_json::{Map, Value};

use super::{
    exit::Failure,
    input,
    tree::{self, OperationCommand},
};
use crate::invoke::{Service, check};

/// The `api` command.
pub(crate) fn command() -> Command {
    Command::new("api")
        .about("Call any path of either API, checked against its spec")
        .long_about(
            "Call any path of either API, checked against its spec.\n\n\
             The path is matched to the spec's operation for that method (path parameters \
             filled in, a query string allowed), and the request goes through the same \
             checks, credential, retries and limits as the operation's own command. Fields \
             are parameters when the operation has one of that name and body properties \
             otherwise; --field values take the type the spec gives them.\n\n\
             Example: revenue-agents api hockeystack GET /tasks --field limit=50 --paginate",
        )
        .arg(
            Arg::new("api")
                .required(true)
                .value_parser(PossibleValuesParser::new(["hockeystack", "hyperrep"]))
                .help("Which API"),
        )
        .arg(
            Arg::new("method")
                .required(true)
                .value_parser(PossibleValuesParser::new([
                    "GET", "PUT", "POST", "PATCH", "DELETE", "get", "put", "post", "patch",
                    "delete",
                ]))
                .help("The HTTP method"),
        )
        .arg(
            Arg::new("path").required(true).help(
                "The path relative to the API's base URL, as in the spec (/tasks/3c90c3cc-...)",
            ),
        )
        .arg(
            Arg::new("field")
                .short('F')
                .long("field")
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .help("A parameter or body property, typed as the spec says (repeat for arrays)"),
        )
        .arg(
            Arg::new("raw-field")
                .short('f')
                .long("raw-field")
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .help("A parameter or body property taken as a string as it is"),
        )
        .arg(
            Arg::new("input")
                .long("input")
                .value_name("PATH")
                .help("Read the request body, a JSON document, from a file (- for standard input)"),
        )
        .arg(
            Arg::new("paginate")
                .long("paginate")
                .action(ArgAction::SetTrue)
                .help("Follow every page of a list; print the items one JSON object a line"),
        )
}

/// The operation a method and path name, with the path's parameters and query as arguments.
pub(crate) fn resolve(
    commands: &[OperationCommand],
    service: Service,
    matches: &ArgMatches,
) -> Result<(usize, Map<String, Value>), Failure> {
    let method = matches
        .get_one::<String>("method")
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_default();
    let given = matches
        .get_one::<String>("path")
        .cloned()
        .unwrap_or_default();
    let (path, query) = given.split_once('?').unwrap_or((given.as_str(), ""));
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    // A path copied whole from the API's documentation starts with the API's own path, which
    // the base URL already holds.
    let base = service.base_path();
    let path = match path.strip_prefix(&base) {
        Some(rest) if !base.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
            if rest.is_empty() {
                "/".to_owned()
            } else {
                rest.to_owned()
            }
        }
        _ => path,
    };
    let same_path: Vec<(usize, Map<String, Value>)> = commands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, match_template(c.operation.model.path, &path)?)))
        .collect();
    let Some((index, mut arguments)) = same_path
        .iter()
        .find(|(i, _)| commands[*i].operation.model.method.name() == method)
        .cloned()
    else {
        let message = if same_path.is_empty() {
            format!(
                "no operation of {} matches {method} {path}",
                service.prefix()
            )
        } else {
            format!(
                "{path} does not take {method}; it takes {}",
                same_path
                    .iter()
                    .map(|(i, _)| commands[*i].operation.model.method.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(Failure::usage(message, closest(commands, &method, &path)));
    };
    let command = &commands[index];
    let mut problems = Vec::new();
    let mut add = |name: &str, text: &str, typed: bool, problems: &mut Vec<String>| {
        let schema = property(command, name);
        let value = match (typed, &schema) {
            (true, Some(schema)) => input::value(schema, text),
            (true, None) => {
                Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
            }
            (false, _) => Ok(Value::String(text.to_owned())),
        };
        match value {
            Ok(value) => push(&mut arguments, name, value, schema.as_ref()),
            Err(problem) => problems.push(format!("{name}: {problem}")),
        }
    };
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        add(&name, &value, true, &mut problems);
    }
    for (flag, typed) in [("field", true), ("raw-field", false)] {
        for pair in matches.get_many::<String>(flag).into_iter().flatten() {
            match pair.split_once('=') {
                Some((name, value)) => add(name, value, typed, &mut problems),
                None => problems.push(format!("--{flag} {pair:?}: give NAME=VALUE")),
            }
        }
    }
    if let Some(path) = matches.get_one::<String>("input") {
        let body = input::read_json(path)?;
        if command.operation.model.arguments.body_whole {
            arguments.insert("body".into(), body);
        } else if let Value::Object(members) = body {
            for (name, value) in members {
                arguments.entry(name).or_insert(value);
            }
        } else {
            problems.push("--input: the body must be a JSON object".into());
        }
    }
    if problems.is_empty() {
        problems = check::problems(&command.schema, &Value::Object(arguments.clone()));
    }
    if !problems.is_empty() {
        return Err(Failure::usage(
            format!(
                "the arguments do not fit {method} {} ({})",
                command.operation.model.path, command.operation.model.id
            ),
            problems,
        ));
    }
    Ok((index, arguments))
}

/// An argument's schema.
fn property(command: &OperationCommand, name: &str) -> Option<Value> {
    command
        .schema
        .get("properties")
        .and_then(|p| p.get(name))
        .cloned()
}

/// Sets an argument; a repeated name of an array argument adds to it.
fn push(arguments: &mut Map<String, Value>, name: &str, value: Value, schema: Option<&Value>) {
    let is_array = schema.is_some_and(|s| tree::kind(s) == "array");
    if !is_array {
        arguments.insert(name.to_owned(), value);
        return;
    }
    let item = match value {
        // `--field ids=a` for an array of strings: the text is one item.
        Value::Array(items) => items,
        single => vec![single],
    };
    match arguments.get_mut(name) {
        Some(Value::Array(items)) => items.extend(item),
        _ => {
            arguments.insert(name.to_owned(), Value::Array(item));
        }
    }
}

/// The path parameters of `path` when it fits the template, each one segment, decoded.
fn match_template(template: &str, path: &str) -> Option<Map<String, Value>> {
    let template: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if template.len() != path.len() {
        return None;
    }
    let mut parameters = Map::new();
    for (part, given) in template.iter().zip(&path) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !given.is_empty() => {
                let decoded = percent_encoding::percent_decode_str(given)
                    .decode_utf8()
                    .ok()?
                    .into_owned();
                parameters.insert(name.to_owned(), Value::String(decoded));
            }
            Some(_) => return None,
            None if part == given => {}
            None => return None,
        }
    }
    Some(parameters)
}

/// The three operations nearest to `METHOD path`, for the message that refuses it.
fn closest(commands: &[OperationCommand], method: &str, path: &str) -> Vec<String> {
    let wanted = format!("{method} {path}");
    let mut scored: Vec<(usize, String)> = commands
        .iter()
        .map(|c| {
            let model = c.operation.model;
            let candidate = format!("{} {}", model.method.name(), model.path);
            (distance(&wanted, &candidate), candidate)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| format!("did you mean {c}?"))
        .collect()
}

/// Edit distance between two short texts, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_fits_its_template_with_its_parameters_decoded() {
        let found = match_template("/deals/{dealId}/agent", "/deals/a%2Fb/agent").unwrap();
        assert_eq!(found["dealId"], "a/b");
        assert!(match_template("/deals/{dealId}/agent", "/deals//agent").is_none());
        assert!(match_template("/deals/{dealId}/agent", "/deals/1/agents").is_none());
        assert!(match_template("/tasks", "/tasks/").is_some());
    }

    #[test]
    fn nearer_texts_score_lower() {
        assert_eq!(distance("GET /task", "GET /tasks"), 1);
        assert!(distance("GET /task", "GET /tasks") < distance("GET /task", "GET /me"));
    }
}
