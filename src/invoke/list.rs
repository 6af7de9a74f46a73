//! A list operation called with JSON arguments, walked by the crate's paginator (its cursor
//! loop, its `has_more` checks and the resume cursor on errors), so that every surface that
//! pages by name pages as the typed paginators do.

use futures_core::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Clients, Operation};
use crate::{
    Error, ErrorKind, Paginated,
    paginate::{Continuation, sealed},
};

/// The cursor after a page, read as the paginator reads it.
#[cfg(feature = "mcp")]
pub(crate) fn after(continuation: Continuation) -> Option<String> {
    match continuation.has_more {
        Some(false) => None,
        _ => continuation.next_cursor,
    }
}

/// A list operation with its JSON arguments.
#[derive(Clone)]
pub(crate) struct JsonList {
    pub(crate) clients: Clients,
    pub(crate) operation: Operation,
    pub(crate) arguments: Map<String, Value>,
}

/// One page, with the shape that reads it.
pub(crate) struct JsonPage {
    pub(crate) body: Option<Value>,
    pub(crate) operation: Operation,
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
