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
        Operation, Service, argument_schema, for_assistants,
        jobs::{JOBS, Job},
    },
    model,
};

/// The argument of a reading tool that keeps some fields of each record.
pub(crate) const FIELDS: &str = "fields";

/// The most items one call of a list tool gathers with `max_items`.
pub(crate) const MAX_ITEMS: u64 = 1000;

/// What calling a tool does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// One operation (or, with `max_items`, a list's pages).
    Operation(Operation),
    /// A composite job: a call of the library's own waits.
    Job(&'static Job),
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
    /// What calling it does that cannot be taken back: the user is asked first.
    pub(crate) consequence: Option<model::Consequence>,
}

impl ToolDef {
    /// Whether its operation is deprecated.
    pub(crate) fn deprecated(&self) -> bool {
        matches!(&self.action, Action::Operation(op) if op.model.deprecated)
    }
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
    tools.extend(job_tools()?.into_iter().filter(|def| match def.action {
        Action::Job(job) => job.service() == service,
        _ => false,
    }));
    let tags: Vec<String> = service
        .tags()
        .iter()
        .map(|t| toolset(service, t.name))
        .collect();
    tools.sort_by_key(|def| tags.iter().position(|t| *t == def.toolset));
    Ok(tools)
}

/// The toolset of a tag: `hockeystack_tasks`.
pub(crate) fn toolset(service: Service, tag: &str) -> String {
    format!("{}_{}", service.prefix(), tag.to_lowercase())
}

fn operation_tool(
    service: Service,
    operation: &'static model::Operation,
) -> Result<ToolDef, String> {
    let mut schema = argument_schema(operation)?;
    for_assistants(&mut schema);
    if !operation.writes()
        && let Some(Value::Object(properties)) = schema.get_mut("properties")
        && !properties.contains_key(FIELDS)
    {
        properties.insert(
            FIELDS.into(),
            json!({
                "type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                "description": "Keep only these fields of each record (dot paths: targets.deal_id); more records then fit a result.",
            }),
        );
    }
    if let Some(list) = &operation.list
        && let Some(Value::Object(properties)) = schema.get_mut("properties")
    {
        let pages = match list.page_size.as_ref().and_then(|p| p.maximum) {
            Some(most) => format!(" in pages of up to {most}"),
            None => String::new(),
        };
        properties.insert(
            "max_items".into(),
            json!({
                "type": "integer", "minimum": 1, "maximum": MAX_ITEMS,
                "description": format!("Follow the pages{pages} for up to this many items; the \
                    answer is {{items, next_cursor, pages}}, and next_cursor as cursor goes on \
                    from there."),
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
    let consequence = operation.consequence();
    if let Some(consequence) = consequence {
        description = format!("{description} This call {}.", consequence.says());
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
        consequence,
    })
}

/// The composite jobs' tools, from the jobs' table: named `hockeystack_<job>`, in the toolset of
/// the job's tag.
fn job_tools() -> Result<Vec<ToolDef>, String> {
    JOBS.iter()
        .map(|job| {
            let mut schema = job.schema()?;
            for_assistants(&mut schema);
            let consequence = job.consequence();
            let tool = Tool::new(
                format!("{}_{}", job.service().prefix(), job.name),
                format!(
                    "{}. {} Sends progress while it waits{}.{}",
                    job.title,
                    job.description,
                    if job.gives_text {
                        ", the reply's text included as it arrives"
                    } else {
                        ""
                    },
                    consequence
                        .map(|c| format!(" This call {}.", c.says()))
                        .unwrap_or_default()
                ),
                as_object(&schema),
            )
            .with_title(job.title.to_owned())
            .with_annotations(
                ToolAnnotations::new()
                    .read_only(!job.writes())
                    .destructive(false)
                    .idempotent(job.idempotent)
                    .open_world(true),
            );
            Ok(ToolDef {
                tool,
                toolset: toolset(job.service(), job.tag),
                writes: job.writes(),
                schema,
                action: Action::Job(job),
                consequence,
            })
        })
        .collect()
}

fn as_object(schema: &Value) -> Arc<Map<String, Value>> {
    Arc::new(schema.as_object().cloned().unwrap_or_default())
}
