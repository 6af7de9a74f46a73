//! The credential check in front of an API's handlers: a request to an operation that needs
//! a credential (every one but those the spec marks public) goes on only with one the API's
//! contract accepts; any other gets the API's own refusal. A path that names no operation is
//! refused here too when it carries no credential, as the services do.

use axum::{http::HeaderMap, response::Response};

use super::contract::Contract;

/// The credential a request may go on with: `None` for a public operation.
pub(crate) fn check(
    contract: &dyn Contract,
    public: bool,
    headers: &HeaderMap,
) -> Result<Option<String>, Response> {
    if public {
        return Ok(None);
    }
    contract.authenticate(headers).map(Some)
}
