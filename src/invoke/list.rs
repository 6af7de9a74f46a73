//! A list operation called with JSON arguments, walked by the crate's paginator (its cursor
//! loop, its `has_more` checks and the resume cursor on errors), so that every surface that
//! pages by name pages as the typed paginators do.

use std::{collections::BTreeMap, marker::PhantomData};

use futures_core::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, value::RawValue};

use super::{Clients, Operation};
use crate::{
    error::{Error, ErrorKind},
    paginate::{Continuation, Paginated, sealed},
};

/// The cursor after a page, read as the paginator reads it.
#[cfg(feature = "mcp")]
pub(crate) fn after(continuation: Continuation) -> Option<String> {
    match continuation.has_more {
        Some(false) => None,
        _ => continuation.next_cursor,
    }
}

/// How a page's JSON body is held, and how its items and cursor are read out of it: as a
/// [`Value`] (the MCP server, which reshapes pages), or as the raw text of each top-level
/// member ([`RawPage`], the command-line tool, which writes items as they came).
pub(crate) trait PageBody: DeserializeOwned + Send + 'static {
    type Item: Send + 'static;

    /// Whether the member `name` is an array.
    fn has_array(&self, name: &str) -> bool;

    /// The value a JSON pointer names, when it is a small scalar (a cursor, a flag).
    fn scalar(&self, pointer: &str) -> Option<Value>;

    /// The items of the array member `name`, taken out.
    fn take_items(self, name: &str) -> Vec<Self::Item>;
}

impl PageBody for Value {
    type Item = Value;

    fn has_array(&self, name: &str) -> bool {
        self.get(name).is_some_and(Value::is_array)
    }

    fn scalar(&self, pointer: &str) -> Option<Value> {
        self.pointer(pointer).cloned()
    }

    fn take_items(mut self, name: &str) -> Vec<Value> {
        match self.get_mut(name).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }
}

/// A page as the raw JSON text of each top-level member: its items are checked as JSON but
/// never taken apart, so writing them out again costs a copy, not a parse and a print.
pub(crate) type RawPage = BTreeMap<String, Box<RawValue>>;

impl PageBody for RawPage {
    type Item = Box<RawValue>;

    fn has_array(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|raw| raw.get().trim_start().starts_with('['))
    }

    fn scalar(&self, pointer: &str) -> Option<Value> {
        let mut tokens = pointer.strip_prefix('/')?.splitn(2, '/');
        let first = tokens.next()?.replace("~1", "/").replace("~0", "~");
        let member: Value = serde_json::from_str(self.get(&first)?.get()).ok()?;
        match tokens.next() {
            Some(rest) => member.pointer(&format!("/{rest}")).cloned(),
            None => Some(member),
        }
    }

    fn take_items(mut self, name: &str) -> Vec<Box<RawValue>> {
        self.remove(name)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or_default()
    }
}

/// A list operation with its JSON arguments, its pages read as `B`.
pub(crate) struct JsonList<B = Value> {
    pub(crate) clients: Clients,
    pub(crate) operation: Operation,
    pub(crate) arguments: Map<String, Value>,
    pub(crate) body: PhantomData<fn() -> B>,
}

impl<B> JsonList<B> {
    pub(crate) fn new(
        clients: Clients,
        operation: Operation,
        arguments: Map<String, Value>,
    ) -> Self {
        Self {
            clients,
            operation,
            arguments,
            body: PhantomData,
        }
    }
}

// Not derived: a derive would ask `B: Clone`.
impl<B> Clone for JsonList<B> {
    fn clone(&self) -> Self {
        Self::new(self.clients.clone(), self.operation, self.arguments.clone())
    }
}

/// One page, with the shape that reads it.
pub(crate) struct JsonPage<B = Value> {
    pub(crate) body: Option<B>,
    pub(crate) operation: Operation,
}

impl<B> sealed::Sealed for JsonList<B> {}

impl<B: PageBody> Paginated for JsonList<B> {
    type Page = JsonPage<B>;
    type Item = B::Item;
    type Fetch = BoxFuture<'static, Result<JsonPage<B>, Error>>;

    fn with_cursor(mut self, cursor: String) -> Self {
        if let Some(shape) = &self.operation.model.list {
            self.arguments
                .insert(shape.cursor.to_owned(), Value::String(cursor));
        }
        self
    }

    fn fetch(self) -> Self::Fetch {
        Box::pin(async move {
            let body: Option<B> = self
                .clients
                .send_as(self.operation, &self.arguments)
                .await?;
            // A page without its array would read as an empty page and end the walk early.
            if let Some(shape) = &self.operation.model.list
                && !body.as_ref().is_some_and(|b| b.has_array(shape.items))
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

    fn split(page: JsonPage<B>) -> (Vec<B::Item>, Continuation) {
        let Some(shape) = &page.operation.model.list else {
            return (Vec::new(), Continuation::default());
        };
        let Some(body) = page.body else {
            return (Vec::new(), Continuation::default());
        };
        let next_cursor = body
            .scalar(shape.next_cursor)
            .and_then(|c| c.as_str().map(str::to_owned))
            .filter(|c| !c.is_empty());
        let has_more = shape
            .has_more
            .and_then(|p| body.scalar(p))
            .and_then(|v| v.as_bool());
        (
            body.take_items(shape.items),
            Continuation {
                next_cursor,
                has_more,
            },
        )
    }
}
