//! The server's tools, read from each API's operation model (which `build.rs` writes from the
//! spec, input schemas included): one tool per operation, named `<api>_<operationId>` so that
//! a tool can be found from the spec and the other way round, grouped in toolsets by the
//! operation's tag, with the operation's parameters and body properties as arguments. The
//! composite tools take their arguments' schemas from the same model. Nothing is parsed but
//! the schemas' JSON text.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::{
    invoke::{
        Operation, Service, argument_schema,
        composite::{DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS},
    },
    model,
};

/// The most items one call of a list tool gathers with `max_items`.
pub(crate) const MAX_ITEMS: u64 = 1000;

/// What calling a tool does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// One operation (or, with `max_items`, a list's pages).
    Operation(Operation),
    /// HockeyStack: ensure the agent, open or reuse a conversation, send, wait for the reply.
    AskAgent,
    /// HockeyStack: ensure the agent is active, with progress.
    EnsureAgent,
    /// The compact mode's search over the offered operations.
    FindOperations,
    /// The compact mode's call of one offered operation by name.
    CallOperation,
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
/// toolset, operations in the spec's order, then the composite tools.
pub(crate) fn tools(service: Service) -> Result<Vec<ToolDef>, String> {
    let mut tools = service
        .operations()
        .iter()
        .map(|operation| {
            operation_tool(service, operation).map_err(|e| format!("{}: {e}", operation.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if service == Service::HockeyStack {
        tools.extend(hockeystack_composites()?);
    }
    let tags: Vec<String> = service.tags().iter().map(|t| toolset(service, t)).collect();
    tools.sort_by_key(|def| tags.iter().position(|t| *t == def.toolset));
    Ok(tools)
}

fn toolset(service: Service, tag: &str) -> String {
    format!("{}_{}", service.prefix(), tag.to_lowercase())
}

fn operation_tool(
    service: Service,
    operation: &'static model::Operation,
) -> Result<ToolDef, String> {
    let mut schema = argument_schema(operation)?;
    if operation.list.is_some()
        && let Some(Value::Object(properties)) = schema.get_mut("properties")
    {
        properties.insert(
            "max_items".into(),
            json!({
                "type": "integer", "minimum": 1, "maximum": MAX_ITEMS,
                "description": "Follow the pages for up to this many items; the answer is \
                    {items, next_cursor, pages}, and next_cursor as cursor goes on from there.",
            }),
        );
    }
    let summary = operation.summary;
    let mut description = if operation.description.is_empty() {
        summary.to_owned()
    } else {
        format!("{summary}. {}", operation.description)
    };
    if operation.deprecated {
        description = format!("Deprecated operation, kept for old integrations. {description}");
    }
    let writes = operation.writes();
    let method = operation.method;
    let tool = Tool::new(
        format!("{}_{}", service.prefix(), operation.id),
        description,
        as_object(&schema),
    )
    .with_title(if operation.deprecated {
        format!("{summary} (deprecated)")
    } else {
        summary.to_owned()
    })
    .with_annotations(
        ToolAnnotations::new()
            .read_only(!writes)
            .destructive(method == model::Method::Delete)
            .idempotent(matches!(
                method,
                model::Method::Get | model::Method::Put | model::Method::Delete
            ))
            .open_world(true),
    );
    Ok(ToolDef {
        tool,
        toolset: toolset(service, operation.tag),
        writes,
        schema,
        action: Action::Operation(Operation {
            service,
            model: operation,
        }),
    })
}

/// One argument of an operation's tool, with its schema.
fn argument(operation: &model::Operation, name: &str) -> Result<Value, String> {
    argument_schema(operation)?
        .pointer(&format!("/properties/{name}"))
        .cloned()
        .ok_or_else(|| format!("{} has no argument {name}", operation.id))
}

/// HockeyStack's composite tools: one question to an agent from start to answer, and an
/// agent made ready with progress.
fn hockeystack_composites() -> Result<Vec<ToolDef>, String> {
    let service = Service::HockeyStack;
    let deal_message = service.operation("send_deal_message")?;
    let company_message = service.operation("send_company_message")?;
    let wait = json!({
        "type": "integer", "minimum": 1, "maximum": MAX_WAIT_SECONDS,
        "description": format!(
            "How long to wait at most, in seconds (default {DEFAULT_WAIT_SECONDS}). The checks \
             start 1 s apart for replies and 5 s apart for agents and grow from there."
        ),
    });
    let owner = |properties: &mut Map<String, Value>| -> Result<(), String> {
        properties.insert("dealId".into(), argument(deal_message, "dealId")?);
        properties.insert("companyId".into(), argument(company_message, "companyId")?);
        Ok(())
    };

    let mut ask = Map::new();
    owner(&mut ask)?;
    let mut question = argument(deal_message, "message")?;
    if let Value::Object(members) = &mut question {
        members.insert(
            "description".into(),
            json!("The question, in plain language."),
        );
    }
    ask.insert("question".into(), question);
    let mut conversation = argument(deal_message, "cid")?;
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
             conversation unless cid names one, sends the question and reads the reply as it is \
             streamed (or, where the service answers with a job, waits for the job). Returns \
             the answer and the ids to follow up: pass cid again to continue the conversation. \
             Sends progress notifications while it waits.",
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
