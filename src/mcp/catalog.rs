//! The server's tools, derived from the specs as written: one per operation, named
//! `<api>_<operationId>` so that a tool can be found from the spec and the other way round,
//! grouped in toolsets by the operation's tag, with the operation's parameters and body
//! properties as arguments. The composite tools take their arguments from the same specs.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::schema::{dereference, resolve, to_json_schema};

/// Which API a tool calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    HockeyStack,
    HyperRep,
}

impl Service {
    /// The tool-name prefix.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Service::HockeyStack => "hockeystack",
            Service::HyperRep => "hyperrep",
        }
    }

    fn spec(self) -> &'static str {
        match self {
            Service::HockeyStack => {
                include_str!(concat!(env!("OUT_DIR"), "/hockeystack_spec.json"))
            }
            Service::HyperRep => include_str!(concat!(env!("OUT_DIR"), "/hyperrep_spec.json")),
        }
    }
}

/// Body properties a tool leaves out, as (schema, property): `stream: true` turns the answer
/// into an event stream, and a tool answers once.
const HIDDEN_PROPERTIES: &[(&str, &str)] = &[("SendMessageRequest", "stream")];

/// The most items one call of a list tool gathers with `max_items`.
pub(crate) const MAX_ITEMS: u64 = 1000;

/// How long a waiting tool waits at most, in seconds, when the call does not say.
pub(crate) const DEFAULT_WAIT_SECONDS: u64 = 300;

/// Where one argument of an operation's tool goes.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) in_path: bool,
}

/// How an operation's body is taken from the arguments.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Each body property is an argument of its own.
    Properties(Vec<String>),
    /// The body is the `body` argument (its properties clash with a parameter's name, or it
    /// is not an object).
    Whole,
}

/// How a list operation's pages are read, from its 200 schema.
#[derive(Debug, Clone)]
pub(crate) struct ListShape {
    /// The page's array of items.
    pub(crate) items: String,
    /// The query parameter that takes the cursor (`cursor`, or `after` for messages).
    pub(crate) cursor_param: String,
    /// Where the next page's cursor is (a JSON pointer).
    pub(crate) next_cursor: String,
    /// Where the page says whether more exist, when it does (a JSON pointer).
    pub(crate) has_more: Option<String>,
    /// The page size's documented maximum, when the operation takes `limit`.
    pub(crate) max_limit: Option<u64>,
}

/// One operation of one API.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) service: Service,
    pub(crate) id: String,
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Body>,
    pub(crate) list: Option<ListShape>,
}

/// What calling a tool does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// One operation (or, with `max_items`, a list's pages).
    Operation(Arc<Operation>),
    /// HockeyStack: ensure the agent, open or reuse a conversation, send, wait for the reply.
    AskAgent,
    /// HockeyStack: ensure the agent is active, with progress.
    EnsureAgent,
}

/// A tool as offered, with what the server needs to run it.
#[derive(Debug, Clone)]
pub(crate) struct ToolDef {
    pub(crate) tool: Tool,
    pub(crate) toolset: String,
    pub(crate) writes: bool,
    /// The input schema as a value, for checking calls.
    pub(crate) schema: Value,
    pub(crate) action: Action,
}

/// Every tool of one API, grouped by toolset in the order of the spec's tags; within a
/// toolset, operations by path, then the composite tools.
pub(crate) fn tools(service: Service) -> Result<Vec<ToolDef>, String> {
    let spec: Value = serde_json::from_str(service.spec())
        .map_err(|e| format!("the embedded {} spec: {e}", service.prefix()))?;
    let mut tools = Vec::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no paths")?;
    for (path, item) in paths {
        for method in ["get", "put", "post", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                tools.push(
                    operation_tool(service, &spec, item, method, operation)
                        .map_err(|e| format!("{} {path}: {e}", method.to_uppercase()))?,
                );
            }
        }
    }
    if service == Service::HockeyStack {
        tools.extend(hockeystack_composites(&spec)?);
    }
    // Grouped by toolset, in the order the spec lists its tags.
    let tags: Vec<String> = spec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|t| format!("{}_{}", service.prefix(), t.to_lowercase()))
        .collect();
    tools.sort_by_key(|def| tags.iter().position(|t| *t == def.toolset));
    Ok(tools)
}

fn operation_tool(
    service: Service,
    spec: &Value,
    item: &Value,
    method: &str,
    operation: &Value,
) -> Result<ToolDef, String> {
    let id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or("no operationId")?;
    let name = format!("{}_{id}", service.prefix());
    let tag = operation
        .pointer("/tags/0")
        .and_then(Value::as_str)
        .ok_or("no tag")?;
    let toolset = format!("{}_{}", service.prefix(), tag.to_lowercase());

    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut params = Vec::new();
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
        let parameter = dereference(spec, parameter)?;
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a parameter without name")?;
        let location = parameter.get("in").and_then(Value::as_str).unwrap_or("");
        if !matches!(location, "path" | "query") {
            continue;
        }
        properties.insert(name.to_owned(), parameter_schema(spec, parameter)?);
        if parameter.get("required") == Some(&Value::Bool(true)) {
            required.push(Value::from(name));
        }
        params.push(Param {
            name: name.to_owned(),
            in_path: location == "path",
        });
    }

    let body = match operation.get("requestBody") {
        Some(body) => Some(body_arguments(
            spec,
            dereference(spec, body)?,
            &mut properties,
            &mut required,
        )?),
        None => None,
    };

    let list = list_shape(spec, operation, &params)?;
    if list.is_some() {
        properties.insert(
            "max_items".into(),
            json!({
                "type": "integer", "minimum": 1, "maximum": MAX_ITEMS,
                "description": format!(
                    "Gather up to this many items, following the pages (at most {MAX_ITEMS}). \
                     The answer is then {{items, next_cursor, pages}}: pass next_cursor as the \
                     cursor argument to go on where it stopped. Without it, one page comes back \
                     as the API returns it."
                ),
            }),
        );
    }

    let summary = operation
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or(id);
    let summary = summary.trim_end_matches('.');
    let mut description = match operation.get("description").and_then(Value::as_str) {
        Some(text) => format!("{summary}. {}", text.trim()),
        None => summary.to_owned(),
    };
    let deprecated = operation.get("deprecated") == Some(&Value::Bool(true));
    if deprecated {
        description = format!("Deprecated operation, kept for old integrations. {description}");
    }
    let writes = method != "get";
    let schema = object_schema(properties, required);
    let tool = Tool::new(name, description, as_object(&schema))
        .with_title(if deprecated {
            format!("{summary} (deprecated)")
        } else {
            summary.to_owned()
        })
        .with_annotations(
            ToolAnnotations::new()
                .read_only(!writes)
                .destructive(method == "delete")
                .idempotent(matches!(method, "get" | "put" | "delete"))
                .open_world(true),
        );
    Ok(ToolDef {
        tool,
        toolset,
        writes,
        schema,
        action: Action::Operation(Arc::new(Operation {
            service,
            id: id.to_owned(),
            params,
            body,
            list,
        })),
    })
}

/// A parameter's schema with the parameter's own description and example.
fn parameter_schema(spec: &Value, parameter: &Value) -> Result<Value, String> {
    let mut schema = to_json_schema(spec, parameter.get("schema").unwrap_or(&json!({})))?;
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

/// Adds the body's arguments: its properties one by one where that is unambiguous.
fn body_arguments(
    spec: &Value,
    body: &Value,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
) -> Result<Body, String> {
    let body_required = body.get("required") == Some(&Value::Bool(true));
    let declared = body
        .pointer("/content/application~1json/schema")
        .ok_or("a request body without a JSON schema")?;
    let name = declared
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("");
    let mut schema = to_json_schema(spec, declared)?;
    if let Some(Value::Object(members)) = schema.get_mut("properties") {
        for (schema_name, property) in HIDDEN_PROPERTIES {
            if *schema_name == name {
                members.remove(*property);
            }
        }
    }
    let flat = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|members| {
            !members
                .keys()
                .any(|k| properties.contains_key(k) || k == "max_items")
        });
    match flat {
        Some(members) => {
            for (name, property) in members {
                properties.insert(name.clone(), property.clone());
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
            Ok(Body::Properties(members.keys().cloned().collect()))
        }
        None => {
            properties.insert("body".into(), schema);
            if body_required {
                required.push("body".into());
            }
            Ok(Body::Whole)
        }
    }
}

/// How a list's pages are read, for an operation that takes a cursor.
fn list_shape(
    spec: &Value,
    operation: &Value,
    params: &[Param],
) -> Result<Option<ListShape>, String> {
    let Some(cursor_param) = params
        .iter()
        .find(|p| !p.in_path && matches!(p.name.as_str(), "cursor" | "after"))
    else {
        return Ok(None);
    };
    let response = operation
        .pointer("/responses/200")
        .ok_or("a list without a 200 answer")?;
    let schema = dereference(
        spec,
        dereference(spec, response)?
            .pointer("/content/application~1json/schema")
            .ok_or("a list whose 200 answer has no JSON schema")?,
    )?;
    let members = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("a list page without properties")?;
    let items = members
        .iter()
        .find(|(_, p)| dereference(spec, p).is_ok_and(|p| p.get("type") == Some(&json!("array"))))
        .map(|(name, _)| name.clone())
        .ok_or("a list page without an array")?;
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
    let max_limit = operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| dereference(spec, p).ok())
        .find(|p| p.get("name") == Some(&json!("limit")))
        .and_then(|p| p.pointer("/schema/maximum"))
        .and_then(Value::as_u64);
    Ok(Some(ListShape {
        items,
        cursor_param: cursor_param.name.clone(),
        next_cursor,
        has_more,
        max_limit,
    }))
}

/// HockeyStack's composite tools: one question to an agent from start to answer, and an
/// agent made ready with progress.
fn hockeystack_composites(spec: &Value) -> Result<Vec<ToolDef>, String> {
    let parameter = |component: &str| -> Result<Value, String> {
        parameter_schema(
            spec,
            resolve(spec, &format!("#/components/parameters/{component}"))?,
        )
    };
    let wait = json!({
        "type": "integer", "minimum": 1, "maximum": 3600,
        "description": format!(
            "How long to wait at most, in seconds (default {DEFAULT_WAIT_SECONDS}). The checks \
             start 1 s apart for replies and 5 s apart for agents and grow from there."
        ),
    });
    let owner = |properties: &mut Map<String, Value>| -> Result<(), String> {
        properties.insert("dealId".into(), parameter("DealId")?);
        properties.insert("companyId".into(), parameter("CompanyId")?);
        Ok(())
    };

    let mut ask = Map::new();
    owner(&mut ask)?;
    let mut question = to_json_schema(
        spec,
        resolve(spec, "#/components/schemas/SendMessageRequest")?
            .pointer("/properties/message")
            .ok_or("SendMessageRequest has no message")?,
    )?;
    if let Value::Object(members) = &mut question {
        members.insert(
            "description".into(),
            json!("The question, in plain language."),
        );
    }
    ask.insert("question".into(), question);
    let mut conversation = parameter("ConversationId")?;
    if let Value::Object(members) = &mut conversation {
        members.insert(
            "description".into(),
            json!("A conversation to continue (the cid an earlier answer gave); a new one is opened when left out."),
        );
    }
    ask.insert("cid".into(), conversation);
    ask.insert("wait_seconds".into(), wait.clone());
    let ask_schema = object_schema(ask, vec![json!("question")]);

    let mut ensure = Map::new();
    owner(&mut ensure)?;
    ensure.insert("wait_seconds".into(), wait);
    let ensure_schema = object_schema(ensure, Vec::new());

    let composite = |name: &str, title: &str, description: &str, schema: Value, action| ToolDef {
        tool: Tool::new(
            format!("hockeystack_{name}"),
            description.to_owned(),
            as_object(&schema),
        )
        .with_title(title.to_owned())
        .with_annotations(
            ToolAnnotations::new()
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(true),
        ),
        toolset: match action {
            Action::AskAgent => "hockeystack_conversations".into(),
            _ => "hockeystack_agents".into(),
        },
        writes: true,
        schema,
        action,
    };
    Ok(vec![
        composite(
            "ask_agent",
            "Ask a deal's or company's agent",
            "Ask the agent of one deal (dealId) or one company (companyId) a question and get \
             its answer. Makes sure the agent is active (provisioning it if needed), opens a \
             conversation unless cid names one, sends the question and waits for the reply with \
             growing intervals. Returns the answer and the ids to follow up: pass cid again to \
             continue the conversation. Sends progress notifications while it waits.",
            ask_schema,
            Action::AskAgent,
        ),
        composite(
            "ensure_agent",
            "Make sure a deal's or company's agent is active",
            "Make sure the agent of one deal (dealId) or one company (companyId) is active: \
             starts provisioning when there is none (it usually takes 3 to 8 minutes), restarts \
             a failed run, and waits with progress notifications. Returns the agent.",
            ensure_schema,
            Action::EnsureAgent,
        ),
    ])
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

fn as_object(schema: &Value) -> Arc<Map<String, Value>> {
    Arc::new(schema.as_object().cloned().unwrap_or_default())
}
