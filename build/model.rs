//! The operation model: one table per API, read from the spec as written, that every surface
//! outside the generated calls reads (the transport's checks, the typed paginators, the
//! operation call path, the streamed reply, the MCP server's tools, the command-line tool).
//!
//! The table is Rust source (`crate::model::Operation` literals), so nothing is parsed when a
//! program starts. The JSON Schema of each operation's arguments is written too, behind
//! `#[cfg(any(feature = "mcp", feature = "cli"))]`, so the same file serves every feature set.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::names::{camel, snake};

/// The parameter extension that names the parameter a value must not come before (an end
/// date's start), so that a request with the two the wrong way round is refused before it is
/// sent.
const NOT_BEFORE: &str = "x-not-before";
/// The extension that marks an operation as starting agent work the workspace pays for.
const SPENDS_CREDITS: &str = "x-spends-credits";

/// How deep `$ref`s may nest before the schema is taken for a cycle.
const MAX_DEPTH: usize = 32;

/// How the request bodies are offered, the same for the operation model as for the generated
/// client (build.rs's `Api` says it once for both).
pub struct BodyShaping<'a> {
    /// Properties no caller sets, as (schema, property): `stream: true` turns the answer into
    /// an event stream, which has a call of its own.
    pub hidden: &'a [(&'a str, &'a str)],
    /// `oneOf` bodies offered as one of their alternatives, as (schema, alternative).
    pub one_of_as_variant: &'a [(&'a str, &'a str)],
}

/// The argument that, beside an operation's own, gathers several pages in one MCP call; a
/// body property of the same name makes the body one argument.
const RESERVED_ARGUMENTS: &[&str] = &["max_items"];

/// The component a local reference (`#/components/schemas/Task`) points to.
fn resolve<'a>(spec: &'a Value, reference: &str) -> Result<&'a Value, String> {
    reference
        .strip_prefix('#')
        .and_then(|pointer| spec.pointer(pointer))
        .ok_or_else(|| format!("the spec has no {reference}"))
}

/// Follows `$ref`s until a value that is not one.
fn dereference<'a>(spec: &'a Value, mut value: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..MAX_DEPTH {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => value = resolve(spec, reference)?,
            None => return Ok(value),
        }
    }
    Err("references nest too deep".into())
}

/// The component name a schema refers to, if it is a reference.
fn reference_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
}

/// An OpenAPI 3.0.3 schema as a self-contained JSON Schema: every `$ref` written out,
/// `nullable` as a `null` type, `example` as `examples`, extensions left out.
fn to_json_schema(spec: &Value, schema: &Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("schemas nest too deep (a reference cycle?)".into());
    }
    let Some(object) = schema.as_object() else {
        return Ok(schema.clone());
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return to_json_schema(spec, resolve(spec, reference)?, depth + 1);
    }
    let mut out = Map::new();
    for (key, value) in object {
        let converted = match key.as_str() {
            // The values an open set has today stay, under the name readers know them by:
            // the surfaces list them without refusing others.
            "x-extensible-enum" => value.clone(),
            k if k.starts_with("x-") => continue,
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| {
                        Ok((name.clone(), to_json_schema(spec, property, depth + 1)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(spec, value, depth + 1)?,
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|branch| to_json_schema(spec, branch, depth + 1))
                    .collect::<Result<_, String>>()?,
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if let Some(example) = object.get("example") {
        out.insert("examples".into(), Value::Array(vec![example.clone()]));
    }
    // 3.0's boolean exclusive bounds are JSON Schema's numeric ones.
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(exclusive)) = out.get(flag).cloned() {
            out.remove(flag);
            if exclusive && let Some(limit) = out.remove(bound) {
                out.insert(flag.into(), limit);
            }
        }
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(admit_null(out));
    }
    Ok(Value::Object(out))
}

/// The schema that also admits `null`.
fn admit_null(mut schema: Map<String, Value>) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(kind)) => {
            schema.insert("type".into(), json!([kind, "null"]));
            if let Some(Value::Array(values)) = schema.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(schema)
        }
        // Any value already includes null.
        None if !["allOf", "oneOf", "anyOf", "enum", "not"]
            .iter()
            .any(|k| schema.contains_key(*k)) =>
        {
            Value::Object(schema)
        }
        _ => {
            let description = schema.remove("description");
            let mut wrapper = Map::new();
            if let Some(description) = description {
                wrapper.insert("description".into(), description);
            }
            wrapper.insert(
                "anyOf".into(),
                json!([Value::Object(schema), {"type": "null"}]),
            );
            Value::Object(wrapper)
        }
    }
}

/// One parameter, dereferenced.
struct Parameter<'a> {
    name: &'a str,
    location: &'a str,
    required: bool,
    schema: &'a Value,
    raw: &'a Value,
}

/// One operation's row of the table, as Rust source, and its MCP input schema.
struct Row {
    id: String,
    source: String,
}

/// The operation model of one API as Rust source: `TAGS`, `OPERATIONS` in the spec's order,
/// and the typed paginators of its list operations (`module` is the API's module name).
pub fn write(spec: &Value, module: &str, shaping: &BodyShaping) -> Result<String, String> {
    let mut rows = Vec::new();
    let mut lists = String::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no paths")?;
    for (path, item) in paths {
        for method in ["get", "put", "post", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let row = operation_row(spec, path, item, method, operation, shaping, &mut lists)
                .map_err(|e| format!("{} {path}: {e}", method.to_uppercase()))?;
            rows.push(row);
        }
    }
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("operationId {} is used twice", pair[0]));
    }
    let tags: Vec<String> = spec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t.get("name").and_then(Value::as_str)?;
            let description = t.get("description").and_then(Value::as_str).unwrap_or("");
            Some(format!(
                "crate::model::Tag {{ name: {name:?}, description: {:?} }}",
                description.trim()
            ))
        })
        .collect();
    let mut out = String::new();
    writeln!(
        out,
        "/// The spec's tags, in its order.\n\
         #[allow(dead_code)] // read by the MCP server and the tool\n\
         pub(crate) const TAGS: &[crate::model::Tag] = &[{}];\n",
        tags.join(", ")
    )
    .unwrap();
    writeln!(
        out,
        "/// Every operation of the spec, in its order.\n\
         pub(crate) const OPERATIONS: &[crate::model::Operation] = &[\n{}];\n",
        rows.iter().map(|r| r.source.as_str()).collect::<String>()
    )
    .unwrap();
    if !lists.is_empty() {
        writeln!(
            out,
            "use crate::{module}::{{builder, types}};\n\
             crate::paginate::paginated! {{\n{lists}}}"
        )
        .unwrap();
    }
    Ok(out)
}

fn operation_row(
    spec: &Value,
    path: &str,
    item: &Value,
    method: &str,
    operation: &Value,
    shaping: &BodyShaping,
    lists: &mut String,
) -> Result<Row, String> {
    let id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or("no operationId")?;
    let tag = operation
        .pointer("/tags/0")
        .and_then(Value::as_str)
        .ok_or("no tag")?;
    let summary = operation
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .trim()
        .trim_end_matches('.');
    let description = operation
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let deprecated = operation.get("deprecated") == Some(&Value::Bool(true));
    let spends_credits = match operation.get(SPENDS_CREDITS) {
        None => false,
        Some(Value::Bool(spends)) => *spends,
        Some(other) => return Err(format!("{SPENDS_CREDITS} is {other}, not true or false")),
    };
    // An operation whose own `security` lists no requirement needs no credential.
    let public = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|requirements| {
            requirements.is_empty()
                || requirements
                    .iter()
                    .any(|r| r.as_object().is_some_and(|r| r.is_empty()))
        });

    let mut parameters = Vec::new();
    let declared = item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for parameter in declared {
        let raw = dereference(spec, parameter)?;
        let name = raw
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a parameter without name")?;
        let location = raw.get("in").and_then(Value::as_str).unwrap_or("");
        let location = match location {
            "path" | "query" | "header" => location,
            other => return Err(format!("parameter {name} is in {other:?}")),
        };
        // An operation's own parameter replaces the path item's of the same name and place.
        parameters.retain(|p: &Parameter| !(p.name == name && p.location == location));
        let schema = match raw.get("schema") {
            Some(schema) => dereference(spec, schema)?,
            None => &Value::Null,
        };
        parameters.push(Parameter {
            name,
            location,
            required: raw.get("required") == Some(&Value::Bool(true)),
            schema,
            raw,
        });
    }
    for part in path.split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
            && !parameters
                .iter()
                .any(|p| p.name == name && p.location == "path")
        {
            return Err(format!("path parameter {name} is not declared"));
        }
    }

    for p in &parameters {
        if let Some(before) = p.raw.get(NOT_BEFORE) {
            let named = before.as_str().is_some_and(|name| {
                parameters
                    .iter()
                    .any(|q| q.name == name && q.location == p.location)
            });
            if !named {
                return Err(format!(
                    "parameter {}: {NOT_BEFORE} {before} names no {} parameter of the operation",
                    p.name, p.location
                ));
            }
        }
    }

    let mut source = String::new();
    writeln!(source, "    crate::model::Operation {{").unwrap();
    writeln!(source, "        id: {id:?},").unwrap();
    writeln!(
        source,
        "        method: crate::model::Method::{},",
        capitalised(method)
    )
    .unwrap();
    writeln!(source, "        path: {path:?},").unwrap();
    writeln!(source, "        tag: {tag:?},").unwrap();
    writeln!(source, "        summary: {summary:?},").unwrap();
    writeln!(source, "        description: {description:?},").unwrap();
    writeln!(source, "        deprecated: {deprecated},").unwrap();
    writeln!(source, "        spends_credits: {spends_credits},").unwrap();
    writeln!(source, "        public: {public},").unwrap();
    writeln!(source, "        params: &[").unwrap();
    for p in &parameters {
        source.push_str(&parameter_source(p));
    }
    writeln!(source, "        ],").unwrap();

    // The body, and the tool arguments it becomes.
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in parameters.iter().filter(|p| p.location != "header") {
        properties.insert(p.name.to_owned(), parameter_schema(spec, p.raw)?);
        if p.required {
            required.push(Value::from(p.name));
        }
    }
    let body = match operation.get("requestBody") {
        Some(body) => Some(body_row(
            spec,
            dereference(spec, body)?,
            shaping,
            &mut properties,
            &mut required,
        )?),
        None => None,
    };
    match &body {
        Some((text, _)) => writeln!(source, "        body: Some({text}),").unwrap(),
        None => writeln!(source, "        body: None,").unwrap(),
    }

    let success = success(spec, operation)?;
    let streams = streams(spec, operation)?;
    writeln!(source, "        streams: {streams},").unwrap();

    let mut list_item = None;
    match list_shape(spec, id, &parameters, success)? {
        Some(list) => {
            list_item = Some(list.item.clone());
            writeln!(
                source,
                "        list: Some(crate::model::List {{ items: {:?}, cursor: {:?}, next_cursor: {:?}, has_more: {}, page_size: {} }}),",
                list.items,
                list.cursor,
                list.next_cursor,
                option_str(list.has_more.as_deref()),
                list.page_size,
            )
            .unwrap();
            writeln!(
                lists,
                "    {} => {}, {}, {}, |p| (p.{}, crate::paginate::Continuation::read(p.{}, {}));",
                camel(id),
                list.page,
                list.item,
                snake(list.cursor),
                snake(&list.items),
                pointer_to_fields(&list.next_cursor),
                match &list.has_more {
                    Some(pointer) => format!("p.{}", pointer_to_fields(pointer)),
                    None => "None::<bool>".to_owned(),
                }
            )
            .unwrap();
        }
        None => writeln!(source, "        list: None,").unwrap(),
    }

    let body_whole = body.as_ref().is_some_and(|(_, whole)| *whole);
    let schema = object_schema(properties, required);
    writeln!(
        source,
        "        #[cfg(any(feature = \"mcp\", feature = \"cli\"))]"
    )
    .unwrap();
    // The fields of one record of the answer (an item of a list, else the answer), for the
    // doors that let a caller keep some of them.
    let record = match (&list_item, success) {
        (Some(item), _) => Some(to_json_schema(
            spec,
            &json!({"$ref": format!("#/components/schemas/{item}")}),
            0,
        )?),
        (None, Some(answer)) => Some(to_json_schema(spec, answer, 0)?),
        (None, None) => None,
    };
    let record_fields = match record {
        Some(record) => {
            let mut fields = Vec::new();
            record_fields(&record, "", 0, &mut fields);
            let fields: Vec<String> = fields
                .iter()
                .map(|(path, open)| format!("({path:?}, {open})"))
                .collect();
            format!("Some(&[{}])", fields.join(", "))
        }
        None => "None".to_owned(),
    };
    writeln!(
        source,
        "        arguments: crate::model::Arguments {{ schema: {:?}, body_whole: {body_whole}, record_fields: {record_fields} }},",
        schema.to_string()
    )
    .unwrap();
    writeln!(source, "    }},").unwrap();
    Ok(Row {
        id: id.to_owned(),
        source,
    })
}

/// How deep the fields of a record are listed; anything below is taken as it comes.
const RECORD_DEPTH: usize = 6;

/// The dot paths of a record's fields (a JSON Schema with its references written out), each
/// with whether a path may go on below it unchecked: an array (by index) or an object whose
/// members the schema does not name.
fn record_fields(schema: &Value, prefix: &str, depth: usize, out: &mut Vec<(String, bool)>) {
    let mut branches = vec![schema];
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(more)) = schema.get(combinator) {
            branches.extend(more);
        }
    }
    for branch in branches {
        let Some(Value::Object(properties)) = branch.get("properties") else {
            continue;
        };
        for (name, property) in properties {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if out.iter().any(|(known, _)| *known == path) {
                continue;
            }
            let named = has_properties(property);
            let open = if named {
                depth + 1 >= RECORD_DEPTH
            } else {
                may_hold_more(property)
            };
            out.push((path.clone(), open));
            if named && depth + 1 < RECORD_DEPTH {
                record_fields(property, &path, depth + 1, out);
            }
        }
    }
}

/// Whether a value of this schema may have parts of its own: an array, an object, or a value
/// of any type.
fn may_hold_more(schema: &Value) -> bool {
    match schema.get("type") {
        None => true,
        Some(Value::String(kind)) => kind == "array" || kind == "object",
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "array" || k == "object"),
        Some(_) => true,
    }
}

/// Whether a schema, or one of its branches, names its members.
fn has_properties(schema: &Value) -> bool {
    schema.get("properties").is_some()
        || ["allOf", "oneOf", "anyOf"].iter().any(|c| {
            schema
                .get(*c)
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.iter().any(has_properties))
        })
}

fn parameter_source(p: &Parameter) -> String {
    let bound = |name: &str| match p.schema.get(name).and_then(Value::as_i64) {
        Some(n) => format!("Some({n})"),
        None => "None".to_owned(),
    };
    format!(
        "            crate::model::Param {{ name: {:?}, location: crate::model::Location::{}, minimum: {}, maximum: {}, not_before: {} }},\n",
        p.name,
        capitalised(p.location),
        bound("minimum"),
        bound("maximum"),
        option_str(p.raw.get(NOT_BEFORE).and_then(Value::as_str)),
    )
}

/// A parameter's JSON Schema with the parameter's own description and example.
fn parameter_schema(spec: &Value, parameter: &Value) -> Result<Value, String> {
    let mut schema = to_json_schema(spec, parameter.get("schema").unwrap_or(&json!({})), 0)?;
    if let Value::Object(members) = &mut schema {
        if let Some(description) = parameter.get("description") {
            members.insert("description".into(), description.clone());
        }
        if let Some(example) = parameter.get("example") {
            members
                .entry("examples")
                .or_insert_with(|| json!([example]));
        }
    }
    Ok(schema)
}

/// The body's row, and whether it is one tool argument (`body`) rather than one argument per
/// property: it is one when its properties clash with a parameter's name or a reserved
/// argument, or when it is not an object.
fn body_row(
    spec: &Value,
    body: &Value,
    shaping: &BodyShaping,
    arguments: &mut Map<String, Value>,
    required: &mut Vec<Value>,
) -> Result<(String, bool), String> {
    let body_required = body.get("required") == Some(&Value::Bool(true));
    let declared = body
        .pointer("/content/application~1json/schema")
        .ok_or("a request body without a JSON schema")?;
    let name = reference_name(declared).unwrap_or("");
    let offered = shaping
        .one_of_as_variant
        .iter()
        .find(|(schema, _)| *schema == name)
        .map(|(_, variant)| json!({ "$ref": format!("#/components/schemas/{variant}") }));
    let mut schema = to_json_schema(spec, offered.as_ref().unwrap_or(declared), 0)?;
    if let Some(Value::Object(members)) = schema.get_mut("properties") {
        for (schema_name, property) in shaping.hidden {
            if *schema_name == name {
                members.remove(*property);
            }
        }
    }
    let names: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let flat = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|members| {
            !members
                .keys()
                .any(|k| arguments.contains_key(k) || RESERVED_ARGUMENTS.contains(&k.as_str()))
        });
    let whole = match flat {
        Some(members) => {
            for (name, property) in members {
                arguments.insert(name.clone(), property.clone());
            }
            if body_required {
                required.extend(
                    schema
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|r| r.as_str().is_some_and(|r| members.contains_key(r)))
                        .cloned(),
                );
            }
            false
        }
        None => {
            arguments.insert("body".into(), schema.clone());
            if body_required {
                required.push("body".into());
            }
            true
        }
    };
    let source = format!(
        "crate::model::Body {{ properties: &[{}] }}",
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((source, whole))
}

/// Whether a success answer of the operation is an event stream (HockeyStack's replies, under
/// `2XX` so that generators keep the `202` job as the typed result).
fn streams(spec: &Value, operation: &Value) -> Result<bool, String> {
    let responses = operation.get("responses").and_then(Value::as_object);
    for (status, response) in responses.into_iter().flatten() {
        if status.starts_with('2')
            && dereference(spec, response)?
                .pointer("/content/text~1event-stream")
                .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The JSON schema of the first success answer, if it has one.
fn success<'a>(spec: &'a Value, operation: &'a Value) -> Result<Option<&'a Value>, String> {
    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .ok_or("no responses")?;
    let (_, response) = responses
        .iter()
        .filter_map(|(status, r)| Some((status.parse::<u16>().ok()?, r)))
        .filter(|(status, _)| (200..300).contains(status))
        .min_by_key(|(status, _)| *status)
        .ok_or("no success answer")?;
    Ok(dereference(spec, response)?.pointer("/content/application~1json/schema"))
}

struct ListShape<'a> {
    items: String,
    cursor: &'a str,
    /// The page-size parameter as a `crate::model::PageSize` literal, or `None`.
    page_size: String,
    next_cursor: String,
    has_more: Option<String>,
    page: String,
    item: String,
}

/// How a list's pages are read, for an operation that takes a cursor in its query.
fn list_shape<'a>(
    spec: &Value,
    id: &str,
    parameters: &[Parameter<'a>],
    success: Option<&Value>,
) -> Result<Option<ListShape<'a>>, String> {
    let Some(cursor) = parameters
        .iter()
        .find(|p| p.location == "query" && matches!(p.name, "cursor" | "after"))
    else {
        return Ok(None);
    };
    let declared = success.ok_or("a list whose success answer has no JSON schema")?;
    let page = reference_name(declared)
        .ok_or("a list page that is not a named schema")?
        .to_owned();
    let schema = dereference(spec, declared)?;
    let members = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("a list page without properties")?;
    let (items, item) = members
        .iter()
        .find_map(|(name, p)| {
            let p = dereference(spec, p).ok()?;
            (p.get("type") == Some(&json!("array"))).then(|| {
                let item = p.get("items").and_then(reference_name).map(str::to_owned);
                (name.clone(), item)
            })
        })
        .ok_or("a list page without an array")?;
    let item = item.ok_or_else(|| format!("{id}: a list whose items are not a named schema"))?;
    let (next_cursor, has_more) = if members.contains_key("next_cursor") {
        ("/next_cursor".to_owned(), None)
    } else if let Some(pagination) = members.get("pagination") {
        let pagination = dereference(spec, pagination)?;
        if pagination.pointer("/properties/next_cursor").is_none() {
            return Err("a list page whose pagination has no next_cursor".into());
        }
        let has_more = pagination
            .pointer("/properties/has_more")
            .map(|_| "/pagination/has_more".to_owned());
        ("/pagination/next_cursor".to_owned(), has_more)
    } else {
        return Err("a list page without next_cursor".into());
    };
    // The page size is the query's `limit`, where a list takes one.
    let page_size = match parameters
        .iter()
        .find(|p| p.location == "query" && p.name == "limit")
    {
        Some(limit) => {
            let bound = |name: &str| match limit.schema.get(name).and_then(Value::as_i64) {
                Some(n) => format!("Some({n})"),
                None => "None".to_owned(),
            };
            format!(
                "Some(crate::model::PageSize {{ name: {:?}, minimum: {}, maximum: {}, default: {} }})",
                limit.name,
                bound("minimum"),
                bound("maximum"),
                bound("default")
            )
        }
        None => "None".to_owned(),
    };
    Ok(Some(ListShape {
        items,
        cursor: cursor.name,
        page_size,
        next_cursor,
        has_more,
        page,
        item,
    }))
}

fn object_schema(properties: Map<String, Value>, required: Vec<Value>) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

fn option_str(value: Option<&str>) -> String {
    match value {
        Some(text) => format!("Some({text:?})"),
        None => "None".to_owned(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A JSON pointer as a chain of Rust fields (`/pagination/has_more` → `pagination.has_more`).
fn pointer_to_fields(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(snake)
        .collect::<Vec<_>>()
        .join(".")
}
