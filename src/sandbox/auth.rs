//! The credential layer: a request to an operation that needs a credential (every one but
//! those the spec marks public) goes on only with one the API's contract accepts, which the
//! layers after it read; any other gets the API's own refusal. A path that names no operation
//! is refused here too when it carries no credential, as the services do.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use super::routes::{Matched, Table};

/// The credential a request was let in with.
#[derive(Clone, Debug)]
pub(crate) struct Credential(pub(crate) String);

pub(crate) async fn layer(
    State(table): State<Arc<Table>>,
    mut request: Request,
    next: Next,
) -> Response {
    let public = request
        .extensions()
        .get::<Matched>()
        .is_some_and(|matched| matched.is_public(&table));
    if !public {
        match table.contract.authenticate(request.headers()) {
            Ok(credential) => {
                request.extensions_mut().insert(Credential(credential));
            }
            Err(refusal) => return refusal,
        }
    }
    next.run(request).await
}
