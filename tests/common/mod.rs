//! Helpers shared by the integration tests.
#![allow(dead_code)]

use httpmock::{MockServer, When};

/// A made-up token in the documented shape; never a real one.
pub const HS_TOKEN: &str = "hsr_live_test_token";
/// A made-up HyperRep key.
pub const HR_KEY: &str = "hr_test_key";

/// The user agent every request must carry.
pub fn user_agent() -> String {
    format!("revenue-agents/{}", env!("CARGO_PKG_VERSION"))
}

/// The header contract of every authenticated HockeyStack request: the bearer token, our user
/// agent, and no `api-version` header (which progenitor adds and the API never asked for).
pub fn hockeystack_headers(when: When) -> When {
    when.header("authorization", format!("Bearer {HS_TOKEN}"))
        .header("user-agent", user_agent())
        .header_missing("api-version")
        .header_missing("x-api-key")
}

/// The header contract of every HyperRep request.
pub fn hyperrep_headers(when: When) -> When {
    when.header("x-api-key", HR_KEY)
        .header("user-agent", user_agent())
        .header_missing("api-version")
        .header_missing("authorization")
}

/// Asserts that the request carries no query string at all.
pub fn no_query(when: When) -> When {
    when.is_true(|req| req.uri().query().is_none_or(str::is_empty))
}

/// Asserts that the request has no body.
pub fn no_body(when: When) -> When {
    when.is_true(|req| req.body().is_empty())
}

/// A mock server and a HockeyStack client pointed at it. Retries are off, so that every
/// answer reaches the test as sent; the retry tests build their own client.
#[cfg(feature = "hockeystack")]
pub async fn hockeystack() -> (MockServer, revenue_agents::hockeystack::Client) {
    let server = MockServer::start_async().await;
    let client = hockeystack_client(&server, revenue_agents::RetryPolicy::none());
    (server, client)
}

#[cfg(feature = "hockeystack")]
pub fn hockeystack_client(
    server: &MockServer,
    retry: revenue_agents::RetryPolicy,
) -> revenue_agents::hockeystack::Client {
    revenue_agents::hockeystack::Client::builder()
        .credential(HS_TOKEN)
        .base_url(server.url("/api/revenue-agents/v1"))
        .retry_policy(retry)
        .build()
        .expect("client builds")
}

/// A mock server and a HyperRep client pointed at it, retries off.
#[cfg(feature = "hyperrep")]
pub async fn hyperrep() -> (MockServer, revenue_agents::hyperrep::Client) {
    let server = MockServer::start_async().await;
    let client = revenue_agents::hyperrep::Client::builder()
        .credential(HR_KEY)
        .base_url(server.base_url())
        .retry_policy(revenue_agents::RetryPolicy::none())
        .build()
        .expect("client builds");
    (server, client)
}

/// A sandbox whose provisioning, jobs and streams take milliseconds.
#[cfg(feature = "sandbox")]
pub fn fast_sandbox() -> revenue_agents::sandbox::SandboxConfig {
    use std::time::Duration;
    revenue_agents::sandbox::SandboxConfig {
        provisioning_time: Duration::from_millis(100),
        job_time: Duration::from_millis(50),
        stream_chunk_delay: Duration::from_millis(1),
        ..revenue_agents::sandbox::SandboxConfig::default()
    }
}

/// Waits paced for such a sandbox: checks every 20 to 40 ms, for at most 10 s.
#[cfg(feature = "hockeystack")]
pub fn quick_waits() -> revenue_agents::PollPolicy {
    use std::time::Duration;
    revenue_agents::PollPolicy::new(Duration::from_millis(20), Duration::from_millis(40))
        .deadline(Duration::from_secs(10))
}

/// The id of the first organization the HyperRep key can see (the sandbox has one).
#[cfg(feature = "hyperrep")]
pub async fn first_organization(client: &revenue_agents::hyperrep::Client) -> String {
    client
        .list_organizations()
        .send()
        .await
        .expect("the organizations are listed")
        .into_inner()
        .data
        .swap_remove(0)
        .organization_id
}

/// A server for what httpmock cannot do: answers written over time, bodies without end. Each
/// connection's request is read (head and `content-length` body), counted, and handed with its
/// socket to `answer`, which writes whatever it likes; the connection closes when `answer`
/// returns. Returns the server's `http://` address and the number of requests it has read.
pub async fn raw_server<F, Fut>(
    answer: F,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(String, tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use std::sync::{Arc, atomic::AtomicUsize, atomic::Ordering};
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let body_start = loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                answer(String::from_utf8_lossy(&request).into_owned(), socket).await;
            });
        }
    });
    (base, served)
}

/// A loopback port that refuses connections for as long as this is kept: a socket bound to it
/// and never listening, so that no other test can take the port meanwhile (binding a listener
/// and closing it would free the port for anyone).
pub struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    pub port: u16,
}

pub fn closed_port() -> ClosedPort {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    ClosedPort {
        _socket: socket,
        port,
    }
}
