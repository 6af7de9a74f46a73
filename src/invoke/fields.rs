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

/// Why these fields cannot be asked of an operation's answer, if they cannot: a path that
/// names no field of its record as the spec describes it (a typo would otherwise come back
/// as a column of nulls). A path may go on below an array (by index) or an object whose
/// members the spec leaves open. Nothing is refused where the spec gives no schema.
pub(crate) fn unknown(operation: &crate::model::Operation, fields: &[String]) -> Option<String> {
    let known = operation.arguments.record_fields?;
    let holds = |path: &str| {
        known.iter().any(|(field, open)| {
            path == *field
                || (*open
                    && path
                        .strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('.')))
        })
    };
    let unknown: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| !holds(f))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let top: Vec<&str> = known
        .iter()
        .map(|(field, _)| *field)
        .filter(|f| !f.contains('.'))
        .collect();
    let deeper = known
        .iter()
        .map(|(field, _)| *field)
        .find(|f| f.contains('.'));
    // A field asked for by its own name that sits deeper (`status` for
    // `current_status.status`).
    let meant: Vec<&str> = unknown
        .iter()
        .flat_map(|wrong| {
            let last = wrong.rsplit('.').next().unwrap_or(wrong);
            known
                .iter()
                .map(|(field, _)| *field)
                .filter(move |f| f.rsplit('.').next() == Some(last))
        })
        .collect();
    let quoted: Vec<String> = unknown.iter().map(|f| format!("`{f}`")).collect();
    Some(format!(
        "{} {} no field of what {} answers{}; its fields are {}{}",
        quoted.join(", "),
        if unknown.len() == 1 { "is" } else { "are" },
        operation.id,
        if meant.is_empty() {
            String::new()
        } else {
            format!(" (did you mean {}?)", meant.join(", "))
        },
        top.join(", "),
        deeper.map_or(String::new(), |d| format!(
            ", and those within them as dot paths ({d})"
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(id: &str) -> &'static crate::model::Operation {
        use crate::invoke::Service;
        Service::HyperRep
            .operations()
            .iter()
            .chain(Service::HockeyStack.operations())
            .find(|o| o.id == id)
            .unwrap()
    }

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_field_the_spec_does_not_name_is_refused_with_the_ones_it_does() {
        let sales = operation("list_sales");
        assert_eq!(
            unknown(
                sales,
                &fields(&[
                    "sale_id",
                    "current_status.status",
                    "quote_details.output.total_price"
                ])
            ),
            None
        );
        let why = unknown(sales, &fields(&["sale_id", "status", "nope"])).unwrap();
        assert!(why.starts_with("`status`, `nope` are no field"), "{why}");
        assert!(why.contains("did you mean current_status.status"), "{why}");
        assert!(why.contains("sale_id, "), "{why}");
        // Below an object whose members the spec leaves open, any path is taken.
        let open = sales
            .arguments
            .record_fields
            .unwrap()
            .iter()
            .find(|(_, open)| *open)
            .map(|(field, _)| format!("{field}.anything"))
            .unwrap();
        assert_eq!(unknown(sales, &[open]), None);
        // Not below a plain value.
        assert!(unknown(sales, &fields(&["sale_id.more"])).is_some());
        // A task list's record is a task, not the page.
        let tasks = operation("list_tasks");
        assert_eq!(
            unknown(tasks, &fields(&["task_id", "targets.deal_id"])),
            None
        );
        assert!(unknown(tasks, &fields(&["tasks"])).is_some());
    }
}
