//! An API's routes: one table, made from its operation model's path templates, each
//! operation with its handler. A request is matched against the templates (the most literal
//! match wins), passes the credential and rate-limit layers, and reaches its handler as a
//! [`Call`]. A path no template matches is the API's 404, a method its path does not take its
//! 405, both in the API's envelope.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::any,
};

use super::{
    auth,
    contract::{Contract, Problem},
    http::{Call, Reply, path_segments, query_pairs},
    persist::Changes,
    rate::{self, RateGate},
};
use crate::model::{self, Operation};

/// A handler: reads and changes the API's state `S` for one call.
pub(crate) type Handler<S> = fn(&S, &Call) -> Reply;

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(&'static str),
    Param(&'static str),
}

/// The API's operations and their path templates.
pub(crate) struct Table {
    pub(crate) contract: Arc<dyn Contract>,
    routes: Vec<(&'static Operation, Vec<Segment>)>,
}

/// What the route layer found for a request: an operation and its path parameters, or why
/// none.
#[derive(Clone)]
pub(crate) enum Matched {
    Operation {
        index: usize,
        params: Vec<(&'static str, String)>,
    },
    Refused(Problem),
}

impl Matched {
    /// Whether the matched operation needs no credential.
    pub(crate) fn is_public(&self, table: &Table) -> bool {
        matches!(self, Matched::Operation { index, .. } if table.routes[*index].0.public)
    }
}

fn template(path: &'static str) -> Vec<Segment> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name),
                None => Segment::Literal(s),
            },
        )
        .collect()
}

fn method_of(method: &Method) -> Option<model::Method> {
    Some(match *method {
        Method::GET | Method::HEAD => model::Method::Get,
        Method::PUT => model::Method::Put,
        Method::POST => model::Method::Post,
        Method::PATCH => model::Method::Patch,
        Method::DELETE => model::Method::Delete,
        _ => return None,
    })
}

impl Table {
    fn new(contract: Arc<dyn Contract>) -> Self {
        let routes = contract
            .operations()
            .iter()
            .map(|op| (op, template(op.path)))
            .collect();
        Self { contract, routes }
    }

    /// The operation a request names, by its path below the API's base path.
    fn find(&self, method: &Method, path: &str) -> Matched {
        let path = path
            .strip_prefix(self.contract.base_path().trim_end_matches('/'))
            .unwrap_or(path);
        let segments = path_segments(path);
        let fits = |template: &[Segment]| {
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| match t {
                    Segment::Literal(l) => l == s,
                    Segment::Param(_) => true,
                })
        };
        let literal = |template: &[Segment]| {
            template
                .iter()
                .filter(|t| matches!(t, Segment::Literal(_)))
                .count()
        };
        // The most literal template that fits is the path's (`/deals/agents` before
        // `/deals/{dealId}`); then the method picks among that template's operations.
        let Some(best) = self
            .routes
            .iter()
            .filter(|(_, t)| fits(t))
            .map(|(_, t)| literal(t))
            .max()
        else {
            return Matched::Refused(Problem::NotFound);
        };
        let wanted = method_of(method);
        let found = self
            .routes
            .iter()
            .enumerate()
            .find(|(_, (op, t))| fits(t) && literal(t) == best && Some(op.method) == wanted);
        match found {
            Some((index, (_, template))) => Matched::Operation {
                index,
                params: template
                    .iter()
                    .zip(segments)
                    .filter_map(|(t, s)| match t {
                        Segment::Param(name) => Some((*name, s)),
                        Segment::Literal(_) => None,
                    })
                    .collect(),
            },
            None => Matched::Refused(Problem::MethodNotAllowed),
        }
    }
}

/// What starting one API makes: its routes, its state to save, and its contract.
pub(crate) struct Started {
    pub(crate) router: Router,
    pub(crate) part: Arc<dyn super::persist::Part>,
    pub(crate) contract: Arc<dyn Contract>,
}

/// One API of the sandbox: its table, its handlers over its state, and the layers before them.
pub(crate) struct Api<S> {
    table: Arc<Table>,
    handlers: Vec<Handler<S>>,
    state: Arc<S>,
    rates: Option<Arc<RateGate>>,
    changes: Changes,
}

impl<S: Send + Sync + 'static> Api<S> {
    /// The API with a handler for every operation of its model: `handlers` names each by its
    /// operation id. A missing or unknown id is the sandbox's own bug, caught by any test that
    /// starts it.
    pub(crate) fn new(
        contract: Arc<dyn Contract>,
        state: Arc<S>,
        handlers: &[(&str, Handler<S>)],
        changes: Changes,
    ) -> Self {
        let table = Table::new(contract);
        let ordered = table
            .routes
            .iter()
            .map(|(op, _)| {
                handlers
                    .iter()
                    .find(|(id, _)| *id == op.id)
                    .map(|(_, h)| *h)
                    .unwrap_or_else(|| panic!("the sandbox has no handler for {}", op.id))
            })
            .collect();
        for (id, _) in handlers {
            assert!(
                table.routes.iter().any(|(op, _)| op.id == *id),
                "the sandbox handles {id}, which the operation model does not have"
            );
        }
        Self {
            table: Arc::new(table),
            handlers: ordered,
            state,
            rates: None,
            changes,
        }
    }

    /// Rate-limit pools in front of the handlers.
    pub(crate) fn with_rate_limits(mut self, gate: RateGate) -> Self {
        self.rates = Some(Arc::new(gate));
        self
    }

    /// The API's routes, layered: match, then credential, then rate limits, then handler.
    pub(crate) fn router(self) -> Router {
        let scope = self.table.contract.scope();
        let table = self.table.clone();
        let rates = self.rates.clone();
        let mut router = Router::new()
            .route(&scope, any(answer::<S>))
            .route(&format!("{scope}/{{*rest}}"), any(answer::<S>))
            .with_state(Arc::new(self));
        if let Some(rates) = rates {
            router = router.layer(middleware::from_fn_with_state(rates, rate::layer));
        }
        router
            .layer(middleware::from_fn_with_state(table.clone(), auth::layer))
            .layer(middleware::from_fn_with_state(table, route_layer))
    }
}

/// The outermost layer: which operation the request names.
async fn route_layer(
    State(table): State<Arc<Table>>,
    mut request: Request,
    next: Next,
) -> Response {
    let matched = table.find(request.method(), request.uri().path());
    request.extensions_mut().insert(matched);
    next.run(request).await
}

/// The innermost: the handler, or the API's refusal of a path or method it does not have.
async fn answer<S: Send + Sync + 'static>(
    State(api): State<Arc<Api<S>>>,
    request: Request,
) -> Response {
    let contract = &api.table.contract;
    let (parts, body) = request.into_parts();
    let (index, params) = match parts.extensions.get::<Matched>().cloned() {
        Some(Matched::Operation { index, params }) => (index, params),
        Some(Matched::Refused(Problem::MethodNotAllowed)) => {
            return contract.refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                Problem::MethodNotAllowed,
                "Method Not Allowed",
            );
        }
        _ => return contract.refuse(StatusCode::NOT_FOUND, Problem::NotFound, "Not Found"),
    };
    if let Err(refusal) = contract.check_path(&params) {
        return refusal;
    }
    // The fault layer has read the body already, within its limit.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return contract.refuse(
            StatusCode::BAD_REQUEST,
            Problem::BadRequest,
            "The body could not be read.",
        );
    };
    let call = Call {
        method: parts.method,
        operation: api.table.routes[index].0,
        params,
        query: query_pairs(parts.uri.query()),
        headers: parts.headers,
        body,
        extensions: parts.extensions,
        contract: contract.clone(),
    };
    let reply = (api.handlers[index])(&api.state, &call);
    let response = reply.unwrap_or_else(|refusal| refusal);
    if call.method != Method::GET && call.method != Method::HEAD && response.status().is_success() {
        api.changes.mark();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_their_parameters_by_name() {
        assert_eq!(
            template("/deals/{dealId}/agent"),
            [
                Segment::Literal("deals"),
                Segment::Param("dealId"),
                Segment::Literal("agent")
            ]
        );
    }
}
