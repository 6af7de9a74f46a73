//! Feature `schemars`: every generated type describes itself as JSON Schema, and the schema
//! says what the spec says about the same object: the same properties, the same required
//! ones, the same bounds.
#![cfg(all(feature = "schemars", feature = "hockeystack", feature = "hyperrep"))]

use std::collections::BTreeSet;

use revenue_agents::{hockeystack, hyperrep};
use schemars::{JsonSchema, schema_for};
use serde_json::Value;

fn spec(name: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/openapi/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn names(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The generated type's schema against the spec's schema of the same name.
fn agrees<T: JsonSchema>(spec: &Value, name: &str) -> Value {
    let ours = serde_json::to_value(schema_for!(T)).unwrap();
    let theirs = &spec["components"]["schemas"][name];
    assert_eq!(
        keys(&ours["properties"]),
        keys(&theirs["properties"]),
        "{name}: properties"
    );
    // A required but nullable property is an `Option` in Rust, which schemars lists as not
    // required; every other required property must be required here too.
    let required: BTreeSet<String> = names(&theirs["required"])
        .into_iter()
        .filter(|p| theirs["properties"][p]["nullable"] != Value::Bool(true))
        .collect();
    assert_eq!(names(&ours["required"]), required, "{name}: required");
    for property in keys(&theirs["properties"]) {
        let spec_side = resolve(
            spec,
            &theirs["properties"][&property],
            "#/components/schemas/",
        );
        let rust_side = resolve(&ours, &ours["properties"][&property], "#/definitions/");
        assert_eq!(
            bounds(rust_side),
            bounds(spec_side),
            "{name}.{property}: bounds"
        );
    }
    ours
}

/// A schema with its `$ref` (or a lone `allOf` member, as schemars wraps a described
/// reference) followed within `root`.
fn resolve<'a>(root: &'a Value, schema: &'a Value, prefix: &str) -> &'a Value {
    let mut schema = schema;
    for _ in 0..8 {
        let reference = schema
            .get("$ref")
            .or_else(|| schema.get("allOf").and_then(|all| all.get(0)?.get("$ref")))
            .and_then(Value::as_str);
        match reference.and_then(|r| r.strip_prefix(prefix)) {
            Some(name) => {
                let place = if prefix.starts_with("#/components") {
                    &root["components"]["schemas"][name]
                } else {
                    &root["definitions"][name]
                };
                schema = place;
            }
            None => break,
        }
    }
    schema
}

/// What bounds a value: lengths, ranges, counts and pattern, for strings, numbers and arrays
/// (an array's items' bounds included).
fn bounds(schema: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for key in [
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "pattern",
    ] {
        if let Some(value) = schema.get(key) {
            // 1 and 1.0 are the same bound.
            let value = value.as_f64().map_or_else(|| value.clone(), Value::from);
            found.push((key.to_owned(), value));
        }
    }
    if let Some(items) = schema.get("items") {
        for (key, value) in bounds(items) {
            found.push((format!("items.{key}"), value));
        }
    }
    found
}

#[test]
fn hockeystack_schemas_match_the_spec() {
    let spec = spec("hockeystack");
    let task_create = agrees::<hockeystack::types::TaskCreate>(&spec, "TaskCreate");
    // Descriptions travel with the schema, and so does a closed request enum.
    assert_eq!(
        task_create["properties"]["task_title"]["description"],
        "A one-line summary of what to do."
    );
    assert_eq!(
        task_create["definitions"]["TaskType"]["enum"],
        serde_json::json!(["call", "email", "linkedin"])
    );
    agrees::<hockeystack::types::Task>(&spec, "Task");
    agrees::<hockeystack::types::CreateConversationRequest>(&spec, "CreateConversationRequest");
    agrees::<hockeystack::types::MessageJob>(&spec, "MessageJob");

    // An open status stays an open string.
    let task = serde_json::to_value(schema_for!(hockeystack::types::Task)).unwrap();
    let status = &task["definitions"]["TaskStatus"];
    assert_eq!(status["type"], "string");
    assert!(status.get("enum").is_none());
}

#[test]
fn hyperrep_schemas_match_the_spec() {
    let spec = spec("hyperrep");
    agrees::<hyperrep::types::CompanyCreate>(&spec, "CompanyCreate");
    agrees::<hyperrep::types::ContactCreate>(&spec, "ContactCreate");
    agrees::<hyperrep::types::Sale>(&spec, "Sale");
    agrees::<hyperrep::types::Conversation>(&spec, "Conversation");
}
