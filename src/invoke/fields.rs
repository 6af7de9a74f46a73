//! Fields of a record chosen by dot paths (`targets.deal_id`), for the surfaces that let a
//! caller ask for fewer fields than an answer holds: the tool's `--fields`, the MCP tools'
//! `fields`.

use serde_json::{Map, Value};

/// The value at a dot path (`targets.deal_id`), if there is one.
pub(crate) fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(members) => members.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The chosen fields of a record, in the order asked for, named by their paths; a field the
/// record lacks is null. Anything but an object is kept as it is.
pub(crate) fn select(value: &Value, fields: &[String]) -> Value {
    if !value.is_object() {
        return value.clone();
    }
    let mut out = Map::new();
    for field in fields {
        out.insert(
            field.clone(),
            at(value, field).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}
