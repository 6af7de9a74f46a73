//! What every request goes through before it leaves: header hygiene, the credential check and
//! the path-shape check. Shared by both generated clients through their `ClientHooks` impls.

use crate::config::Api;

/// Per-client state the generated code carries and the hooks read. Holds no credential: that
/// lives in the HTTP client's default headers, marked sensitive.
#[derive(Clone, Debug)]
pub struct Inner {
    api: &'static str,
    credential_variable: &'static str,
    has_credential: bool,
    base_path: String,
    operations: &'static [(&'static str, &'static str, &'static str)],
    public_operations: &'static [&'static str],
}

impl Inner {
    pub(crate) fn new<A: Api>(base_url: &str, has_credential: bool) -> Self {
        let base_path = reqwest::Url::parse(base_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            api: A::NAME,
            credential_variable: A::CREDENTIAL_VARIABLE,
            has_credential,
            base_path,
            operations: A::OPERATIONS,
            public_operations: A::PUBLIC_OPERATIONS,
        }
    }
}

/// Runs before every generated request. The returned message becomes
/// `progenitor_client::Error::InvalidRequest`, and nothing is sent.
pub(crate) fn prepare(
    inner: &Inner,
    request: &mut reqwest::Request,
    operation_id: &str,
) -> Result<(), String> {
    // progenitor adds the spec's version as a header that neither API asked for.
    request.headers_mut().remove("api-version");

    if !inner.has_credential && !inner.public_operations.contains(&operation_id) {
        return Err(format!(
            "{operation_id} needs a {} credential: set {} or pass one to the client builder",
            inner.api, inner.credential_variable
        ));
    }

    let Some((_, _, template)) = inner
        .operations
        .iter()
        .find(|(id, _, _)| *id == operation_id)
    else {
        return Err(format!("unknown operation {operation_id}"));
    };
    check_path_shape(&inner.base_path, template, request.url().path())
        .map_err(|problem| format!("{operation_id}: {problem}"))
}

/// Checks that the request path is the base path followed by the template, with every
/// `{parameter}` filled by exactly one non-empty segment. URL parsing folds `.` and `..`
/// segments away, so a parameter with such a value would otherwise reach another resource.
fn check_path_shape(base_path: &str, template: &str, actual: &str) -> Result<(), String> {
    let Some(rest) = actual.strip_prefix(base_path) else {
        return Err("a path parameter changed the request's base path".into());
    };
    let expected: Vec<&str> = template.split('/').collect();
    let got: Vec<&str> = rest.split('/').collect();
    if expected.len() != got.len() {
        return Err(
            "a path parameter is empty, `.` or `..`, which cannot be sent as one path segment"
                .into(),
        );
    }
    for (want, have) in expected.iter().zip(&got) {
        let is_parameter = want.starts_with('{') && want.ends_with('}');
        if is_parameter && have.is_empty() {
            return Err(format!("path parameter {want} is empty"));
        }
        if !is_parameter && want != have {
            return Err(
                "a path parameter is `.` or `..`, which cannot be sent as one path segment".into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_path_shape;

    const T: &str = "/deals/{dealId}/conversations/{cid}";

    #[test]
    fn a_filled_template_passes() {
        assert!(check_path_shape("/v1", T, "/v1/deals/42/conversations/c%2F1").is_ok());
    }

    #[test]
    fn folded_dot_segments_are_caught() {
        // `..` as the conversation id: the URL parser removes it together with `conversations`.
        assert!(check_path_shape("/v1", T, "/v1/deals/42").is_err());
        // `.` as the deal id: the segment disappears.
        assert!(check_path_shape("/v1", T, "/v1/deals/conversations/c1").is_err());
    }

    #[test]
    fn empty_parameters_are_caught() {
        assert!(check_path_shape("/v1", T, "/v1/deals//conversations/c1").is_err());
    }

    #[test]
    fn a_changed_base_path_is_caught() {
        assert!(check_path_shape("/v1", T, "/deals/42/conversations/c1").is_err());
    }
}
