//! The sandbox's connections: HTTP/1 on each accepted socket, with room for a request head of
//! [`MAX_HEAD_BYTES`]. hyper answers a URI or headers it cannot take with 414 or 431, but with
//! its default room (about 400 KB) it stops reading a larger head and closes the socket while
//! the client is still writing, which the client sees as a broken connection, not an answer.
//! A head up to the room is read whole, so the refusal reaches the client; a URL over 16 KiB or
//! headers over 32 KiB are refused here with 414 or 431 and a JSON body, as a front end of the
//! real services would.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{rt::TokioIo, service::TowerToHyperService};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

/// The largest request head read before it is refused (a URL over 64 KiB is refused with 414
/// anyway, by the HTTP types; this is the room to read it and say so).
const MAX_HEAD_BYTES: usize = 4 * 1024 * 1024;

/// How long open connections are given to finish once the sandbox stops.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` resolves, then lets open connections finish their
/// requests for up to [`DRAIN`].
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    stop: impl std::future::Future<Output = ()>,
) {
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                // A failed accept (too many open files, say) is the socket's, not the server's.
                let Ok((socket, peer)) = accepted else { continue };
                connections.spawn(connection(socket, peer, app.clone(), closed.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut stop => break,
        }
    }
    let _ = closing.send(true);
    let _ = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    mut closing: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(WithPeer { app, peer });
    let mut builder = http1::Builder::new();
    builder.max_buf_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(TokioIo::new(socket), service);
    tokio::pin!(connection);
    let stopping = tokio::select! {
        _ = connection.as_mut() => false,
        seen = closing.wait_for(|closing| *closing) => seen.is_ok(),
    };
    if stopping {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// The router with the peer's address in every request, where the controls' loopback check
/// reads it.
#[derive(Clone)]
struct WithPeer {
    app: Router,
    peer: SocketAddr,
}

/// The longest URL answered (as the crate's clients send at most, and common front ends take).
const MAX_URL_BYTES: usize = crate::limits::MAX_URL_BYTES;

/// The most bytes of headers answered, names and values together.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// 414 for a URL, 431 for headers, over what a front end of the real services would take.
fn too_large(request: &hyper::Request<Incoming>) -> Option<axum::response::Response> {
    let url = request.uri().to_string().len();
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let (status, message) = if url > MAX_URL_BYTES {
        (
            axum::http::StatusCode::URI_TOO_LONG,
            format!("The URL is {url} bytes; at most {MAX_URL_BYTES} are taken."),
        )
    } else if headers > MAX_HEADER_BYTES {
        (
            axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("The headers are {headers} bytes; at most {MAX_HEADER_BYTES} are taken."),
        )
    } else {
        return None;
    };
    let body = serde_json::json!({"error": {"code": "request.too_large", "message": message}});
    let mut response = axum::response::Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Some(response)
}

impl tower_service::Service<hyper::Request<Incoming>> for WithPeer {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = futures_util::future::Either<
        std::future::Ready<Result<Self::Response, Infallible>>,
        <Router as tower_service::Service<axum::extract::Request>>::Future,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        tower_service::Service::<axum::extract::Request>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, request: hyper::Request<Incoming>) -> Self::Future {
        if let Some(refusal) = too_large(&request) {
            return futures_util::future::Either::Left(std::future::ready(Ok(refusal)));
        }
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        futures_util::future::Either::Right(tower_service::Service::call(&mut self.app, request))
    }
}
