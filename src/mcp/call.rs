//! Running an operation's tool: the arguments sorted into path, query and body, the request
//! sent through the crate's transport (its checks, retries and error reading), and, for a
//! list with `max_items`, the pages walked by the crate's paginator.

use futures_core::future::BoxFuture;
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::{
    catalog::{Operation, Service},
    progress::Reporter,
};
use crate::{
    Error, ErrorKind, Paginated,
    call::OperationCall,
    model,
    paginate::{Continuation, sealed},
};

/// The clients the tools call, one per API that is served.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clients {
    pub(crate) hockeystack: Option<crate::hockeystack::Client>,
    pub(crate) hyperrep: Option<crate::hyperrep::Client>,
}

impl Clients {
    /// Sends one operation with its arguments.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        arguments: &Map<String, Value>,
    ) -> Result<Option<Value>, Error> {
        let call = operation_call(operation.model, arguments);
        let missing = |api| {
            Error::new(ErrorKind::InvalidRequest {
                reason: format!("{api} is not served by this server"),
            })
        };
        match operation.service {
            Service::HockeyStack => {
                let client = self
                    .hockeystack
                    .as_ref()
                    .ok_or_else(|| missing("HockeyStack"))?;
                call.json::<crate::hockeystack::ErrorBody, _>(client).await
            }
            Service::HyperRep => {
                let client = self.hyperrep.as_ref().ok_or_else(|| missing("HyperRep"))?;
                call.json::<crate::hyperrep::ErrorBody, _>(client).await
            }
        }
    }

    /// Text from a server with every served credential blanked out.
    pub(crate) fn scrub(&self, text: String) -> String {
        let text = match &self.hockeystack {
            Some(client) => client.inner.scrub(text),
            None => text,
        };
        match &self.hyperrep {
            Some(client) => client.inner.scrub(text),
            None => text,
        }
    }
}

/// The request an operation's arguments make. The arguments were checked against the tool's
/// schema, so each one is where the schema says.
fn operation_call(
    operation: &'static model::Operation,
    arguments: &Map<String, Value>,
) -> OperationCall {
    let mut call = OperationCall::new(operation);
    for param in operation.params {
        let Some(value) = arguments.get(param.name) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Null => continue,
            Value::Array(values) => values.iter().map(scalar).collect(),
            value => vec![scalar(value)],
        };
        for value in values {
            call = match param.location {
                model::Location::Path => call.path(param.name, value),
                model::Location::Query => call.query(param.name, value),
                // No tool argument is a header.
                model::Location::Header => call,
            };
        }
    }
    let body = match &operation.body {
        None => None,
        Some(_) if operation.tool.body_whole => arguments.get("body").cloned(),
        Some(body) => Some(Value::Object(
            body.properties
                .iter()
                .filter_map(|name| Some(((*name).to_owned(), arguments.get(*name)?.clone())))
                .collect(),
        )),
    };
    match body {
        Some(body) => call.body(body),
        None => call,
    }
}

/// A parameter value as it goes into a URL: strings as they are, numbers and booleans as JSON
/// writes them (an integer written `2.0` as `2`).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n)
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15) =>
        {
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map_or_else(|| n.to_string(), |i| i.to_string())
        }
        other => other.to_string(),
    }
}

/// Up to `max_items` items of a list, following its pages from the `cursor` argument.
/// Pages are never split: the page size is lowered for the last page so the gathered items
/// end on a page boundary and `next_cursor` continues exactly after them. A server that
/// sends more than asked has its whole page returned rather than some of it dropped.
pub(crate) async fn gather(
    clients: &Clients,
    operation: Operation,
    shape: &model::List,
    mut arguments: Map<String, Value>,
    max_items: u64,
    reporter: &Reporter,
) -> Result<Value, (Error, Value)> {
    let start = arguments
        .remove(shape.cursor)
        .and_then(|c| c.as_str().map(str::to_owned));
    let asked_limit = arguments.get("limit").and_then(Value::as_u64);
    let page_size = |remaining: u64| {
        operation
            .max_limit()
            .map(|max| asked_limit.unwrap_or(max).min(max).min(remaining))
    };
    let mut items = Vec::new();
    let mut pages = 0u32;
    let mut cursor = start;
    loop {
        let remaining = max_items.saturating_sub(items.len() as u64);
        if remaining == 0 {
            break;
        }
        // One walk runs while full pages fit; a smaller last page needs a walk of its own.
        let size = page_size(remaining);
        let mut walk_arguments = arguments.clone();
        if let Some(size) = size {
            walk_arguments.insert("limit".into(), json!(size));
        }
        let list = JsonList {
            clients: clients.clone(),
            operation,
            arguments: walk_arguments,
        };
        let mut walk = match cursor.clone() {
            Some(c) => list.pages_from(c),
            None => list.pages(),
        }
        .prefetch(0);
        let mut finished = true;
        loop {
            let page = match walk.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) => {
                    cursor = None;
                    break;
                }
                Err(error) => {
                    let so_far = gathered(items, error.resume_cursor().map(str::to_owned), pages);
                    return Err((error, so_far));
                }
            };
            pages += 1;
            items.extend(page.items);
            reporter
                .say(format!(
                    "page {pages}: {} of at most {max_items} items",
                    items.len()
                ))
                .await;
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
            let remaining = max_items.saturating_sub(items.len() as u64);
            // Empty pages with ever new cursors would never fill the cap: stop after as many
            // pages as items were asked for, and hand back the cursor.
            if remaining == 0 || u64::from(pages) >= max_items {
                break;
            }
            if size.is_some_and(|size| remaining < size) {
                finished = false;
                break;
            }
        }
        if finished {
            break;
        }
    }
    Ok(gathered(items, cursor, pages))
}

fn gathered(items: Vec<Value>, next_cursor: Option<String>, pages: u32) -> Value {
    json!({
        "count": items.len(),
        "items": items,
        "next_cursor": next_cursor,
        "pages": pages,
    })
}

/// A list operation called with loose arguments, walked by the crate's paginator (its cursor
/// loop and `has_more` checks, and the resume cursor on errors).
#[derive(Clone)]
struct JsonList {
    clients: Clients,
    operation: Operation,
    arguments: Map<String, Value>,
}

/// One page, with the shape that reads it.
struct JsonPage {
    body: Option<Value>,
    operation: Operation,
}

impl sealed::Sealed for JsonList {}

impl Paginated for JsonList {
    type Page = JsonPage;
    type Item = Value;
    type Fetch = BoxFuture<'static, Result<JsonPage, Error>>;

    fn with_cursor(mut self, cursor: String) -> Self {
        if let Some(shape) = &self.operation.model.list {
            self.arguments
                .insert(shape.cursor.to_owned(), Value::String(cursor));
        }
        self
    }

    fn fetch(self) -> Self::Fetch {
        Box::pin(async move {
            let body = self.clients.send(self.operation, &self.arguments).await?;
            // A page without its array would read as an empty page and end the walk early.
            if let Some(shape) = &self.operation.model.list
                && !body
                    .as_ref()
                    .and_then(|b| b.get(shape.items))
                    .is_some_and(Value::is_array)
            {
                return Err(Error::new(ErrorKind::InvalidResponse {
                    reason: format!(
                        "{}: a page without its `{}` array",
                        self.operation.model.id, shape.items
                    ),
                }));
            }
            Ok(JsonPage {
                body,
                operation: self.operation,
            })
        })
    }

    fn split(page: JsonPage) -> (Vec<Value>, Continuation) {
        let Some(shape) = &page.operation.model.list else {
            return (Vec::new(), Continuation::default());
        };
        let Some(mut body) = page.body else {
            return (Vec::new(), Continuation::default());
        };
        let next_cursor = body
            .pointer(shape.next_cursor)
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let has_more = shape
            .has_more
            .and_then(|p| body.pointer(p))
            .and_then(Value::as_bool);
        let items = match body.get_mut(shape.items).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        (
            items,
            Continuation {
                next_cursor,
                has_more,
            },
        )
    }
}
