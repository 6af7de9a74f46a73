//! An API's routes: one table, made from its operation model's path templates, each
//! operation with its handler. A request is matched against the templates (the most literal
//! match wins), passes the credential check (`auth.rs`) and the rate-limit gate (`rate.rs`) in
//! that order, and reaches its handler as a [`Call`]; the gate's headers go on the answer. A
//! path no template matches is the API's 404, a method its path does not take its 405, both
//! in the API's envelope. The steps are plain calls, not tower layers: every request of the
//! sandbox passes them, and a layer each cost a tenth of its throughput.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Request, State},
    http::{Method, StatusCode},
    response::Response,
    routing::any,
};

use super::{
    auth,
    contract::{Contract, Problem},
    http::{Call, Reply, path_segments, query_pairs},
    persist::Changes,
    rate::RateGate,
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
    routes: Vec<Route>,
}

struct Route {
    operation: &'static Operation,
    template: Vec<Segment>,
    /// How many of the template's segments are literal.
    literals: usize,
}

/// What the table found for a request: an operation and its path parameters, or why none.
pub(crate) enum Matched {
    Operation {
        index: usize,
        params: Vec<(&'static str, String)>,
    },
    /// The path is the API's; these are the methods it takes.
    WrongMethod(Vec<&'static str>),
    NoSuchPath,
}

impl Matched {
    /// Whether the matched operation needs no credential.
    pub(crate) fn is_public(&self, table: &Table) -> bool {
        matches!(self, Matched::Operation { index, .. } if table.routes[*index].operation.public)
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
            .map(|operation| {
                let template = template(operation.path);
                let literals = template
                    .iter()
                    .filter(|t| matches!(t, Segment::Literal(_)))
                    .count();
                Route {
                    operation,
                    template,
                    literals,
                }
            })
            .collect();
        Self { contract, routes }
    }

    /// The operation a request names, by its path below the API's base path: the most
    /// literal template that fits is the path's (`/deals/agents` before `/deals/{dealId}`),
    /// and the method picks among that template's operations. One pass over the table.
    fn find(&self, method: &Method, path: &str) -> Matched {
        let path = path
            .strip_prefix(self.contract.base_path().trim_end_matches('/'))
            .unwrap_or(path);
        let segments = path_segments(path);
        let wanted = method_of(method);
        // The most literals of a fitting template, and the route there with the method.
        let mut best: Option<(usize, Option<usize>)> = None;
        let mut fitting = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            let fits = route.template.len() == segments.len()
                && route.template.iter().zip(&segments).all(|(t, s)| match t {
                    Segment::Literal(l) => l == s,
                    Segment::Param(_) => true,
                });
            if !fits {
                continue;
            }
            fitting.push(index);
            let with_method = (Some(route.operation.method) == wanted).then_some(index);
            best = match best {
                Some((literals, found)) if literals > route.literals => Some((literals, found)),
                Some((literals, found)) if literals == route.literals => {
                    Some((literals, found.or(with_method)))
                }
                _ => Some((route.literals, with_method)),
            };
        }
        match best {
            None => Matched::NoSuchPath,
            Some((literals, None)) => {
                let mut methods: Vec<&'static str> = fitting
                    .into_iter()
                    .map(|i| &self.routes[i])
                    .filter(|route| route.literals == literals)
                    .map(|route| route.operation.method.name())
                    .collect();
                methods.dedup();
                Matched::WrongMethod(methods)
            }
            Some((_, Some(index))) => Matched::Operation {
                index,
                params: self.routes[index]
                    .template
                    .iter()
                    .zip(segments)
                    .filter_map(|(t, s)| match t {
                        Segment::Param(name) => Some((*name, s)),
                        Segment::Literal(_) => None,
                    })
                    .collect(),
            },
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
            .map(|route| {
                let id = route.operation.id;
                handlers
                    .iter()
                    .find(|(known, _)| *known == id)
                    .map(|(_, h)| *h)
                    .unwrap_or_else(|| panic!("the sandbox has no handler for {id}"))
            })
            .collect();
        for (id, _) in handlers {
            assert!(
                table.routes.iter().any(|route| route.operation.id == *id),
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

    /// The API's routes.
    pub(crate) fn router(self) -> Router {
        let scope = self.table.contract.scope();
        Router::new()
            .route(&scope, any(answer::<S>))
            .route(&format!("{scope}/{{*rest}}"), any(answer::<S>))
            .with_state(Arc::new(self))
    }
}

/// A request to the API: matched, checked, let through the gate, and answered.
async fn answer<S: Send + Sync + 'static>(
    State(api): State<Arc<Api<S>>>,
    request: Request,
) -> Response {
    let table = &api.table;
    let matched = table.find(request.method(), request.uri().path());
    let public = matched.is_public(table);
    let credential = match auth::check(&*table.contract, public, request.headers()) {
        Ok(credential) => credential,
        Err(refusal) => return refusal,
    };
    let admission = match (&api.rates, &credential) {
        (Some(gate), Some(credential)) => match gate.admit(credential, request.method()) {
            Ok(admission) => Some(admission),
            Err(refusal) => return refusal,
        },
        _ => None,
    };
    let mut response = respond(&api, matched, request).await;
    if let Some(admission) = admission {
        admission.stamp(&mut response);
    }
    response
}

/// The handler of the matched operation, or the API's refusal of a path or method it does
/// not have.
async fn respond<S>(api: &Api<S>, matched: Matched, request: Request) -> Response {
    let contract = &api.table.contract;
    let (index, params) = match matched {
        Matched::Operation { index, params } => (index, params),
        Matched::WrongMethod(methods) => {
            let mut refusal = contract.refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                Problem::MethodNotAllowed,
                "Method Not Allowed",
            );
            if let Ok(allow) = axum::http::HeaderValue::from_str(&methods.join(", ")) {
                refusal
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, allow);
            }
            return refusal;
        }
        Matched::NoSuchPath => {
            return contract.refuse(StatusCode::NOT_FOUND, Problem::NotFound, "Not Found");
        }
    };
    if let Err(refusal) = contract.check_path(&params) {
        return refusal;
    }
    let (parts, body) = request.into_parts();
    // The log layer has read the body already, within its limit.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return contract.refuse(
            StatusCode::BAD_REQUEST,
            Problem::BadRequest,
            "The body could not be read.",
        );
    };
    let call = Call {
        method: parts.method,
        operation: api.table.routes[index].operation,
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
