//! The check of an operation's JSON arguments against their schema (an MCP tool's input, a
//! command's flags and body).
//!
//! The schema is the spec's with every `$ref` written out, `nullable` spelled as JSON Schema
//! spells it (`"type": ["string", "null"]`), `example` as `examples`, and the spec's
//! extensions left out (`build.rs` writes it into the operation model). The check covers the
//! keywords the specs use, so that a call got wrong is answered with every problem at once,
//! before anything is sent.

#[cfg(feature = "mcp")]
use serde_json::Map;
use serde_json::Value;

/// The arguments without the `null`s that stand for "not given": assistants often pass null
/// for an optional argument they leave out. A null stays where the property admits it (it
/// then means null) or where the argument is required (it is then an error).
#[cfg(feature = "mcp")]
pub(crate) fn without_unset_nulls(
    schema: &Value,
    mut arguments: Map<String, Value>,
) -> Map<String, Value> {
    let required = |name: &str| {
        schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|n| n == name))
    };
    arguments.retain(|name, value| {
        let pointer = format!("/properties/{}", name.replace('~', "~0").replace('/', "~1"));
        match schema.pointer(&pointer) {
            // An unknown name stays, to be reported.
            None => true,
            Some(property) => {
                !value.is_null() || required(name) || problems(property, &Value::Null).is_empty()
            }
        }
    });
    arguments
}

/// `1 character`, `5 characters`.
fn characters(count: impl std::fmt::Display) -> String {
    let count = count.to_string();
    let unit = if count == "1" {
        "character"
    } else {
        "characters"
    };
    format!("{count} {unit}")
}

/// Every way `value` breaks `schema`, each naming where (`task_title: ...`); empty when it
/// fits.
pub(crate) fn problems(schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, value, "", &mut found);
    found
}

fn check(schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            found.push(format!("{}: is not allowed here", place(at)));
        }
        return;
    };
    let mut say = |problem: String| found.push(format!("{}: {problem}", place(at)));

    if let Some(kinds) = schema.get("type") {
        let kinds: Vec<&str> = match kinds {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !kinds.is_empty() && !kinds.iter().any(|kind| is_a(kind, value)) {
            say(format!(
                "must be {}, not {}",
                kinds.join(" or "),
                describe(value)
            ));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        say(format!("must be one of {}, not {value}", listed.join(", ")));
    }
    match value {
        Value::String(text) => {
            let length = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && length < min
            {
                say(format!(
                    "must have at least {}, has {length}",
                    characters(min)
                ));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && length > max
            {
                say(format!(
                    "must have at most {}, has {length}",
                    characters(max)
                ));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && let Ok(regex) = regress::Regex::new(pattern)
                && regex.find(text).is_none()
            {
                match schema.get("format").and_then(Value::as_str) {
                    // The pattern of a UUID says less to a person than its name does.
                    Some("uuid") => say(format!(
                        "must be a UUID, such as 3c90c3cc-0d44-4b50-8888-8dd25736052a, not {:?}",
                        text.chars().take(60).collect::<String>()
                    )),
                    _ => say(format!("must match the pattern {pattern}")),
                }
            }
            // The server would refuse it too, after the call had spent a rate slot; a date
            // alone is no date-time either (whether the APIs take one is not documented).
            if schema.get("format").and_then(Value::as_str) == Some("date-time")
                && chrono::DateTime::parse_from_rfc3339(text).is_err()
            {
                say(format!(
                    "must be a date and time in RFC 3339 form, such as 2026-04-01T00:00:00Z, not {:?}",
                    text.chars().take(60).collect::<String>()
                ));
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or(f64::NAN);
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            if let Some(min) = bound("minimum")
                && n < min
            {
                say(format!("must be at least {min}, is {number}"));
            }
            if let Some(max) = bound("maximum")
                && n > max
            {
                say(format!("must be at most {max}, is {number}"));
            }
            if let Some(min) = bound("exclusiveMinimum")
                && n <= min
            {
                say(format!("must be more than {min}, is {number}"));
            }
            if let Some(max) = bound("exclusiveMaximum")
                && n >= max
            {
                say(format!("must be less than {max}, is {number}"));
            }
        }
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && count < min
            {
                say(format!("must have at least {min} items, has {count}"));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && count > max
            {
                say(format!("must have at most {max} items, has {count}"));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{at}[{i}]"), found);
                }
            }
        }
        Value::Object(members) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !members.contains_key(name) {
                    found.push(format!("{}: is required", place(&join(at, name))));
                }
            }
            for (name, member) in members {
                let inner = join(at, name);
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => check(property, member, &inner, found),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            let known: Vec<&str> = properties
                                .map(|p| p.keys().map(String::as_str).collect())
                                .unwrap_or_default();
                            found.push(format!(
                                "{}: is not a known argument (known: {})",
                                place(&inner),
                                known.join(", ")
                            ));
                        }
                        Some(extra @ Value::Object(_)) => check(extra, member, &inner, found),
                        _ => {}
                    },
                }
            }
        }
        _ => {}
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for branch in all {
            check(branch, value, at, found);
        }
    }
    for combinator in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = schema.get(combinator) else {
            continue;
        };
        let matching = branches
            .iter()
            .filter(|branch| problems(branch, value).is_empty())
            .count();
        if matching == 0 {
            found.push(format!("{}: matches none of the allowed forms", place(at)));
        } else if matching > 1 && combinator == "oneOf" {
            found.push(format!(
                "{}: matches more than one of the forms, of which it must be exactly one",
                place(at)
            ));
        }
    }
}

fn is_a(kind: &str, value: &Value) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// What kind of JSON value this is, for messages (`a string`, `null`).
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn place(at: &str) -> &str {
    if at.is_empty() { "arguments" } else { at }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A task's schema as `build.rs` writes it from the spec: references written out,
    /// `nullable` as a null type.
    fn task() -> Value {
        json!({"type": "object", "required": ["title"], "additionalProperties": false,
               "properties": {
                  "title": {"type": "string", "minLength": 1, "maxLength": 5},
                  "priority": {"type": ["string", "null"], "enum": ["low", "high", null]},
                  "count": {"type": "integer", "minimum": 1, "maximum": 3}}})
    }

    #[test]
    fn every_problem_of_a_call_is_named() {
        let schema = task();
        assert!(
            problems(
                &schema,
                &json!({"title": "ok", "priority": null, "count": 2})
            )
            .is_empty()
        );
        let found = problems(
            &schema,
            &json!({"title": "too long", "priority": "urgent", "count": 2.5, "colour": "red"}),
        );
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("title: must have at most 5 characters")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("priority: must be one of"))
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("count: must be integer"))
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("colour: is not a known argument"))
        );
        let found = problems(&schema, &json!({}));
        assert_eq!(found, ["title: is required"]);
        let found = problems(&schema, &json!([]));
        assert_eq!(found, ["arguments: must be object, not an array"]);
    }

    #[test]
    fn a_body_of_one_of_two_forms_must_be_exactly_one() {
        let text = |name: &str| json!({"type": "object", "required": [name], "properties": {name: {"type": "string"}}});
        let schema = json!({"oneOf": [text("message"), text("content")]});
        assert!(problems(&schema, &json!({"message": "hi"})).is_empty());
        assert!(problems(&schema, &json!({"content": "hi"})).is_empty());
        assert_eq!(
            problems(&schema, &json!({})),
            ["arguments: matches none of the allowed forms"]
        );
        assert_eq!(
            problems(&schema, &json!({"message": "hi", "content": "hi"})),
            ["arguments: matches more than one of the forms, of which it must be exactly one"]
        );
        let either = json!({"anyOf": [text("message"), text("content")]});
        assert!(problems(&either, &json!({"message": "hi", "content": "hi"})).is_empty());
    }

    #[test]
    #[cfg(feature = "mcp")]
    fn a_null_for_an_optional_argument_means_not_given() {
        let schema = task();
        let args = |v: Value| v.as_object().cloned().unwrap();
        let kept = without_unset_nulls(
            &schema,
            args(json!({"title": null, "priority": null, "count": null, "colour": null})),
        );
        // `count` cannot be null and is optional: dropped. `priority` may be null: kept.
        // `title` is required: kept, to be reported. Unknown names are kept, to be reported.
        let mut kept: Vec<&String> = kept.keys().collect();
        kept.sort();
        assert_eq!(kept, ["colour", "priority", "title"]);
    }

    #[test]
    fn a_date_time_is_checked_before_it_is_sent() {
        let schema = json!({"type": "string", "format": "date-time"});
        assert!(problems(&schema, &json!("2026-04-01T00:00:00Z")).is_empty());
        assert!(problems(&schema, &json!("2026-04-01T09:30:00.5+02:00")).is_empty());
        for wrong in ["yesterday", "2026-04-01", "2026-13-01T00:00:00Z", ""] {
            let found = problems(&schema, &json!(wrong));
            assert_eq!(found.len(), 1, "{wrong:?}: {found:?}");
            assert!(
                found[0].contains("such as 2026-04-01T00:00:00Z"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_whole_number_written_with_a_point_is_an_integer() {
        let schema = json!({"type": "integer", "minimum": 1});
        assert!(problems(&schema, &json!(2.0)).is_empty());
        assert!(!problems(&schema, &json!(0)).is_empty());
    }
}
