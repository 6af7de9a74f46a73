//! The command tree, read from each API's operation model: `<api> <tag> <verb>` for every
//! operation, with the operation's arguments (parameters and body properties, from the
//! argument schema the model holds) as flags that carry the spec's descriptions, values and
//! bounds.
//!
//! A verb is the operation id without the words of its tag (`list_tasks` under `tasks` is
//! `list`, `credits_balance` under `credits` is `balance`); where that leaves nothing or
//! names two operations of one tag, it is the whole id. The id in kebab case is always an
//! alias, so an operation can be found from the spec.

use clap::{Arg, ArgAction, Command, builder::PossibleValuesParser};
use serde_json::Value;

use crate::{
    invoke::{Operation, Service, argument_schema, values},
    model,
};

/// The flag that reads a whole request body from a file (`-` for standard input).
pub(crate) const BODY_FILE: &str = "body-file";
/// The flags that walk a list's pages.
pub(crate) const ALL: &str = "all";
pub(crate) const MAX_ITEMS: &str = "max-items";

/// One flag of an operation's command.
#[derive(Debug, Clone)]
pub(crate) struct Flag {
    /// The argument's name in the schema (`dealId`, `task_title`).
    pub(crate) argument: String,
    /// The flag, without its dashes (`deal-id`, `task-title`).
    pub(crate) long: String,
    /// The argument's schema.
    pub(crate) schema: Value,
    /// Given as a word of its own rather than a flag.
    pub(crate) positional: bool,
}

/// One operation's command, with what turns its flags into arguments.
#[derive(Debug, Clone)]
pub(crate) struct OperationCommand {
    pub(crate) operation: Operation,
    pub(crate) tag: String,
    pub(crate) verb: String,
    /// The whole argument schema, to check the arguments against.
    pub(crate) schema: Value,
    pub(crate) flags: Vec<Flag>,
}

/// The id of the word that gives a path parameter without its flag (`tasks get ID`).
pub(crate) fn positional_id(argument: &str) -> String {
    format!("{argument}@word")
}

/// An argument as the command line names it: `--task-title`, or `QUESTION` for a word of its
/// own; the argument's name when no flag has it.
pub(crate) fn flag_of(flags: &[Flag], argument: &str) -> String {
    match flags.iter().find(|f| f.argument == argument) {
        Some(flag) if flag.positional => flag.long.to_ascii_uppercase(),
        Some(flag) => format!("--{}", flag.long),
        None => argument.to_owned(),
    }
}

/// `dealId`, `organization_id`, `Tasks` → `deal-id`, `organization-id`, `tasks`.
pub(crate) fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '_' || c == ' ' || c == '-' {
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            previous_lower = false;
        } else if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The operation id without the words of its tag, or `None` when that leaves nothing.
fn short_verb(id: &str, tag: &str) -> Option<String> {
    let tag = tag.to_ascii_lowercase();
    // `companies` → `company`, `tasks` → `task`: the words to take out, whichever the id uses.
    let singular = match tag.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => tag.strip_suffix('s').unwrap_or(&tag).to_owned(),
    };
    let words: Vec<&str> = id
        .split('_')
        .filter(|w| !w.eq_ignore_ascii_case(&tag) && !w.eq_ignore_ascii_case(&singular))
        .collect();
    (!words.is_empty()).then(|| kebab(&words.join("_")))
}

/// Every operation command of one API, in the spec's order.
pub(crate) fn operation_commands(service: Service) -> Result<Vec<OperationCommand>, String> {
    let operations = service.operations();
    let mut commands = Vec::with_capacity(operations.len());
    for model in operations {
        let shorts_of_tag: Vec<Option<String>> = operations
            .iter()
            .filter(|o| o.tag == model.tag)
            .map(|o| short_verb(o.id, o.tag))
            .collect();
        let short = short_verb(model.id, model.tag);
        let verb = match &short {
            Some(verb)
                if shorts_of_tag
                    .iter()
                    .filter(|s| s.as_ref() == Some(verb))
                    .count()
                    == 1 =>
            {
                verb.clone()
            }
            _ => kebab(model.id),
        };
        let schema = argument_schema(model)?;
        commands.push(OperationCommand {
            operation: Operation { service, model },
            tag: kebab(model.tag),
            verb,
            flags: flags(model, &schema)?,
            schema,
        });
    }
    Ok(commands)
}

/// The flags of an operation: its parameters in the model's order, then its body's
/// properties (or the whole body as one flag), each described from its schema.
fn flags(operation: &model::Operation, schema: &Value) -> Result<Vec<Flag>, String> {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{}: an argument schema without properties", operation.id))?;
    let mut names: Vec<&str> = operation.params.iter().map(|p| p.name).collect();
    if operation.arguments.body_whole {
        names.push("body");
    } else if let Some(body) = &operation.body {
        names.extend(body.properties.iter().copied());
    }
    let mut flags: Vec<Flag> = Vec::with_capacity(names.len());
    for name in names {
        let schema = properties
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{}: no schema for argument {name}", operation.id))?;
        let long = kebab(name);
        if let Some(other) = flags.iter().find(|f| f.long == long) {
            return Err(format!(
                "{}: arguments {} and {name} would both be --{long}",
                operation.id, other.argument
            ));
        }
        flags.push(Flag {
            argument: name.to_owned(),
            long,
            schema,
            positional: false,
        });
    }
    Ok(flags)
}

/// The JSON type a schema admits, other than null.
pub(crate) fn kind(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(kind)) => kind,
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("string"),
        // `allOf` of one string schema (an open set of values) and the like.
        _ => ["allOf", "anyOf", "oneOf"]
            .iter()
            .filter_map(|k| schema.get(*k)?.as_array()?.first())
            .map(kind)
            .next()
            .unwrap_or("json"),
    }
}

/// The help of one flag: the description, then its values, bounds and format, and where a
/// value left out comes from (`default_from`).
fn flag_help(schema: &Value, required: bool, default_from: Option<&str>) -> (String, String) {
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let first = description.lines().next().unwrap_or("").to_owned();
    let mut notes = Vec::new();
    if required {
        notes.push("required".to_owned());
    }
    if let Some(from) = default_from {
        notes.push(format!("from {from} when left out"));
    }
    let item = schema.get("items").unwrap_or(schema);
    if kind(schema) == "array" {
        notes.push("repeat the flag for each value".to_owned());
    }
    if let Some(format) = item.get("format").and_then(Value::as_str) {
        notes.push(format!("format {format}"));
    }
    for (low, high, what) in [
        ("minimum", "maximum", ""),
        ("minLength", "maxLength", " characters"),
    ] {
        match (
            item.get(low).and_then(Value::as_f64),
            item.get(high).and_then(Value::as_f64),
        ) {
            (Some(low), Some(high)) => notes.push(format!("{low} to {high}{what}")),
            (Some(low), None) if what.is_empty() || low > 1.0 => {
                notes.push(format!("at least {low}{what}"))
            }
            (None, Some(high)) => notes.push(format!("at most {high}{what}")),
            _ => {}
        }
    }
    let (known, closed) = values(item);
    if !known.is_empty() && !closed {
        notes.push(format!(
            "known values: {}; others may come",
            known.join(", ")
        ));
    }
    if let Some(default) = schema.get("default") {
        notes.push(format!("default {default}"));
    }
    if kind(schema) == "object" || kind(schema) == "json" {
        notes.push("a JSON value".to_owned());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" [{}]", notes.join("; "))
    };
    (format!("{first}{notes}"), format!("{description}{notes}"))
}

/// The value name shown in help (`<INT>`, `<DATE-TIME>`).
fn value_name(schema: &Value) -> String {
    let item = schema.get("items").unwrap_or(schema);
    if let Some(format) = item.get("format").and_then(Value::as_str) {
        return format.to_ascii_uppercase();
    }
    match kind(item) {
        "integer" => "INT".into(),
        "number" => "NUMBER".into(),
        "boolean" => "BOOL".into(),
        "string" => "TEXT".into(),
        _ => "JSON".into(),
    }
}

/// The clap command of one operation.
pub(crate) fn command(op: &OperationCommand) -> Command {
    let model = op.operation.model;
    let required: Vec<&str> = op
        .schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut about = model.summary.to_owned();
    if model.deprecated {
        about.push_str(" (deprecated)");
    }
    let mut long_about = format!(
        "{about}\n\n{} {}{}",
        model.method.name(),
        model.path,
        if model.description.is_empty() {
            String::new()
        } else {
            format!("\n\n{}", model.description.trim())
        }
    );
    if let Some(list) = &model.list {
        let size = match &list.page_size {
            Some(page) => match page.default {
                Some(default) => format!(
                    " ({default} items unless --{} says otherwise)",
                    kebab(page.name)
                ),
                None => format!(
                    " (as many items as the API chooses unless --{} says)",
                    kebab(page.name)
                ),
            },
            None => String::new(),
        };
        long_about.push_str(&format!(
            "\n\nWithout --all or --max-items: one page as the API answers it{size}. With either: \
             the items, one JSON object a line, while the pages arrive, in pages as large as \
             the API allows."
        ));
    }
    let mut command = Command::new(op.verb.clone())
        .about(about)
        .long_about(long_about);
    if kebab(model.id) != op.verb {
        command = command.visible_alias(kebab(model.id));
    }
    let has_body = model.body.is_some();
    for flag in &op.flags {
        let is_required = required.contains(&flag.argument.as_str());
        // A body property may come from --body-file instead; the check after parsing
        // reports it missing from both.
        let is_body = model.params.iter().all(|p| p.name != flag.argument);
        let in_path = model.param(&flag.argument, model::Location::Path).is_some();
        let mut flag_arg = arg(flag, is_required, is_required && !(is_body && has_body));
        // HyperRep's organization usually comes from the environment or a profile, so it stays
        // a flag: a word would take the place of the id that follows it (`contacts get ID`
        // would read ID as the organization). Not required by clap: the check after parsing
        // names it when no default gave it either.
        let defaulted = flag.argument == super::ORGANIZATION_ARGUMENT;
        if defaulted {
            flag_arg = flag_arg.required(false);
        }
        if in_path && !defaulted {
            // An id in the path may also be given as a word of its own, in the path's order
            // (`tasks get ID`), as people expect of a shell tool; the flag then is not needed.
            let id = positional_id(&flag.argument);
            flag_arg = flag_arg.required(false).conflicts_with(id.clone());
            // Neither is required by clap: the check after parsing names the flag when the
            // id is missing, after a default (HyperRep's organization) had its chance.
            let word = Arg::new(id)
                .value_name(flag.long.to_ascii_uppercase())
                .help(format!("The same as --{}", flag.long));
            command = command.arg(word);
        }
        command = command.arg(flag_arg);
    }
    if has_body {
        command = command.arg(
            Arg::new(BODY_FILE)
                .long(BODY_FILE)
                .value_name("PATH")
                .help("Read the request body, a JSON object, from a file (- for standard input); flags override its members"),
        );
    }
    if let Some(yes) = super::confirm::yes_flag(model) {
        command = command.arg(yes);
    }
    if model.list.is_some() {
        command = command
            .arg(
                Arg::new(ALL)
                    .long(ALL)
                    .action(ArgAction::SetTrue)
                    .conflicts_with(MAX_ITEMS)
                    .help("Follow every page; print the items one JSON object a line"),
            )
            .arg(
                Arg::new(MAX_ITEMS)
                    .long(MAX_ITEMS)
                    .value_name("N")
                    .allow_negative_numbers(true)
                    .value_parser(clap::value_parser!(i64).range(1..))
                    .help("Follow the pages for up to N items; print them one JSON object a line"),
            );
    }
    command
}

/// The clap argument of one flag, described from its schema: `required` says so in its help,
/// `enforced` has clap refuse a command line without it.
pub(crate) fn arg(flag: &Flag, required: bool, enforced: bool) -> Arg {
    // HyperRep's organization may be named once, for every command that takes it.
    let default_from = (flag.argument == super::ORGANIZATION_ARGUMENT).then(|| {
        format!(
            "{} or the profile's hyperrep_organization_id",
            super::ORGANIZATION_VARIABLE
        )
    });
    let (help, long_help) = flag_help(&flag.schema, required, default_from.as_deref());
    let mut arg = Arg::new(flag.argument.clone())
        .help(help)
        .long_help(long_help)
        .value_name(value_name(&flag.schema))
        .required(enforced);
    if flag.positional {
        arg = arg.value_name(flag.long.to_ascii_uppercase());
    } else {
        arg = arg.long(flag.long.clone());
    }
    let item = flag.schema.get("items").unwrap_or(&flag.schema);
    if matches!(kind(item), "integer" | "number") {
        // `-1` is a value, to be refused naming its flag, not an unknown flag.
        arg = arg.allow_negative_numbers(true);
    }
    arg = match kind(&flag.schema) {
        "array" => arg.action(ArgAction::Append),
        "boolean" => arg
            .num_args(0..=1)
            .default_missing_value("true")
            .require_equals(false),
        _ => arg,
    };
    let (listed, closed) = values(item);
    if closed && !listed.is_empty() && kind(item) == "string" {
        arg = arg.value_parser(PossibleValuesParser::new(listed));
    } else if kind(item) == "boolean" {
        arg = arg.value_parser(PossibleValuesParser::new(["true", "false"]));
    }
    arg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_the_call_site_would() {
        assert_eq!(kebab("dealId"), "deal-id");
        assert_eq!(kebab("organization_id"), "organization-id");
        assert_eq!(
            kebab("list_deal_conversation_messages"),
            "list-deal-conversation-messages"
        );
        assert_eq!(short_verb("list_tasks", "Tasks").as_deref(), Some("list"));
        assert_eq!(
            short_verb("credits_balance", "Credits").as_deref(),
            Some("balance")
        );
        assert_eq!(
            short_verb("list_deal_conversation_messages", "Conversations").as_deref(),
            Some("list-deal-messages")
        );
        assert_eq!(short_verb("me", "Service").as_deref(), Some("me"));
        // One scheme across tags: `companies get` as `contacts get`.
        assert_eq!(
            short_verb("get_company", "Companies").as_deref(),
            Some("get")
        );
        assert_eq!(
            short_verb("get_contact", "Contacts").as_deref(),
            Some("get")
        );
    }

    #[test]
    fn every_operation_of_both_apis_has_one_command_of_its_own() {
        for service in [Service::HockeyStack, Service::HyperRep] {
            let commands = operation_commands(service).unwrap();
            assert_eq!(commands.len(), service.operations().len());
            let mut names: Vec<(String, String)> = commands
                .iter()
                .map(|c| (c.tag.clone(), c.verb.clone()))
                .collect();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                commands.len(),
                "two operations share a command"
            );
        }
        let hockeystack = operation_commands(Service::HockeyStack).unwrap();
        let list_tasks = hockeystack
            .iter()
            .find(|c| c.operation.model.id == "list_tasks")
            .unwrap();
        assert_eq!(
            (list_tasks.tag.as_str(), list_tasks.verb.as_str()),
            ("tasks", "list")
        );
    }
}
