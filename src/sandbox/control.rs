//! The sandbox's own controls under `/__sandbox/`, for the binary and for tests in other
//! languages; they answer requests from loopback only, whatever address the sandbox listens
//! on:
//!
//! | route | does |
//! |---|---|
//! | `GET /__sandbox/faults` | the scripted faults in force, with the turns each has left |
//! | `POST /__sandbox/faults` | scripts a fault (a `FaultRule` as JSON; one that could never act as it says is a 400) |
//! | `DELETE /__sandbox/faults` | removes every scripted fault |
//! | `GET /__sandbox/requests` | the request log, oldest first |
//! | `DELETE /__sandbox/requests` | empties it |
//! | `GET /__sandbox/clock` | how far ahead of real time the clock is: `{"ahead_secs": 30.0}` |
//! | `POST /__sandbox/clock` | moves it forward: `{"advance_secs": 30}` |
//! | `POST /__sandbox/reset` | both APIs back to their seeds (ids given out stay unused) |
//! | `GET /__sandbox/state` | the whole state, as a versioned JSON document |
//! | `PUT /__sandbox/state` | installs such a document, whole or not at all |

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};

use super::{
    clock::Clock,
    faults::{FaultRule, Script},
    http::{detail, empty, json},
    log::Log,
    persist::{Snapshot, Store},
};

/// The path prefix of the controls.
pub(crate) const PREFIX: &str = "/__sandbox";

/// The largest state document `PUT /__sandbox/state` reads.
const STATE_LIMIT: usize = 1 << 30;

/// What the controls act on.
pub(crate) struct Controls {
    pub(crate) script: Arc<Script>,
    pub(crate) log: Arc<Log>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) store: Arc<Store>,
}

type Ctl = State<Arc<Controls>>;

pub(crate) fn router(controls: Controls) -> Router {
    Router::new()
        .route(
            &format!("{PREFIX}/faults"),
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            &format!("{PREFIX}/requests"),
            get(requests).delete(clear_requests),
        )
        .route(
            &format!("{PREFIX}/clock"),
            get(read_clock).post(advance_clock),
        )
        .route(&format!("{PREFIX}/reset"), post(reset))
        .route(
            &format!("{PREFIX}/state"),
            get(read_state).put(install_state),
        )
        .with_state(Arc::new(controls))
        .layer(middleware::from_fn(loopback_only))
}

async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if !from_this_machine(peer) {
        return detail(
            StatusCode::FORBIDDEN,
            "the sandbox's controls answer requests from loopback only",
        );
    }
    next.run(request).await
}

/// Whether a peer may use the controls: a loopback address, also as an IPv4 address mapped
/// into IPv6 (how a local client appears when the sandbox listens on `::`). An unknown peer
/// may not.
fn from_this_machine(peer: Option<std::net::IpAddr>) -> bool {
    peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}

async fn add_fault(State(c): Ctl, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => match rule.problem() {
            Some(problem) => detail(
                StatusCode::BAD_REQUEST,
                &format!("not a fault rule: {problem}"),
            ),
            None => {
                c.script.inject(rule);
                empty(StatusCode::NO_CONTENT)
            }
        },
        Err(e) => detail(StatusCode::BAD_REQUEST, &format!("not a fault rule: {e}")),
    }
}

async fn list_faults(State(c): Ctl) -> Response {
    json(StatusCode::OK, &c.script.rules())
}

async fn clear_faults(State(c): Ctl) -> Response {
    c.script.clear();
    empty(StatusCode::NO_CONTENT)
}

async fn requests(State(c): Ctl) -> Response {
    json(StatusCode::OK, &c.log.requests())
}

async fn clear_requests(State(c): Ctl) -> Response {
    c.log.clear();
    empty(StatusCode::NO_CONTENT)
}

async fn read_clock(State(c): Ctl) -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({"ahead_secs": c.clock.ahead_of_real_time().as_secs_f64()}),
    )
}

async fn advance_clock(State(c): Ctl, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_secs: f64,
    }
    match serde_json::from_slice::<Advance>(&body) {
        Ok(Advance { advance_secs }) if advance_secs.is_finite() && advance_secs >= 0.0 => {
            let by = Duration::try_from_secs_f64(advance_secs).unwrap_or(Duration::MAX);
            match c.clock.try_advance(by) {
                Ok(()) => empty(StatusCode::NO_CONTENT),
                Err(room) => detail(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "the clock goes at most 100 years ahead of real time; it may move {} \
                         seconds more",
                        room.as_secs()
                    ),
                ),
            }
        }
        Ok(_) => detail(
            StatusCode::BAD_REQUEST,
            "advance_secs must be a number of seconds, 0 or more",
        ),
        Err(e) => detail(
            StatusCode::BAD_REQUEST,
            &format!("expected {{\"advance_secs\": N}}: {e}"),
        ),
    }
}

async fn reset(State(c): Ctl) -> Response {
    let store = c.store.clone();
    // Seeding a large organization again takes a while; not on the server's threads.
    match tokio::task::spawn_blocking(move || store.reset()).await {
        Ok(()) => empty(StatusCode::NO_CONTENT),
        Err(e) => detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the reset failed: {e}"),
        ),
    }
}

async fn read_state(State(c): Ctl) -> Response {
    let store = c.store.clone();
    match tokio::task::spawn_blocking(move || store.snapshot()).await {
        Ok(Ok(snapshot)) => {
            let mut response = Response::new(snapshot.as_json().to_owned().into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            response
        }
        Ok(Err(e)) => detail(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn install_state(State(c): Ctl, request: Request) -> Response {
    let Ok(body) = axum::body::to_bytes(request.into_body(), STATE_LIMIT).await else {
        return detail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the state document is too large",
        );
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return detail(StatusCode::BAD_REQUEST, "the state document is not UTF-8");
    };
    let snapshot = match Snapshot::from_json(text) {
        Ok(snapshot) => snapshot,
        Err(e) => return detail(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let store = c.store.clone();
    match tokio::task::spawn_blocking(move || store.restore(&snapshot)).await {
        Ok(Ok(())) => empty(StatusCode::NO_CONTENT),
        Ok(Err(e)) => detail(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controls_are_for_loopback_peers_only() {
        for allowed in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(from_this_machine(allowed.parse().ok()), "{allowed}");
        }
        for refused in [
            "10.0.0.7",
            "192.168.1.20",
            "172.16.0.1",
            "0.0.0.0",
            "::",
            "fe80::1",
            "::ffff:10.0.0.7",
            "203.0.113.9",
        ] {
            assert!(!from_this_machine(refused.parse().ok()), "{refused}");
        }
        assert!(!from_this_machine(None), "an unknown peer");
    }
}
