//! The transport a company needs: a private certificate authority trusted from PEM, an HTTP
//! proxy (HTTPS tunnelled with CONNECT, with credentials that never show), redirects still
//! unfollowed through it, and clients that build on a machine without a certificate store.
//! Against a local TLS server whose certificate a test authority signed, and a local proxy.
#![cfg(feature = "hockeystack")]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use revenue_agents::{ClientBuilder, ErrorKind, RetryPolicy, hockeystack};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

const AUTHORITY: &[u8] = include_bytes!("fixtures/private-ca.crt");

/// What the TLS server answers.
#[derive(Clone, Copy)]
enum Answer {
    Healthy,
    Redirect,
}

/// A TLS server on loopback for `localhost` and `api.example.test`, its certificate signed by
/// the test authority; it answers every request with `answer` and records each request's head.
struct TlsServer {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    fn start(answer: Answer) -> Self {
        let certificate =
            CertificateDer::from_pem_slice(include_bytes!("fixtures/private-ca-localhost.crt"))
                .unwrap();
        let key =
            PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/private-ca-localhost.key"))
                .unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate], key)
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                let config = config.clone();
                let recorded = recorded.clone();
                thread::spawn(move || {
                    let _ = socket.set_read_timeout(Some(Duration::from_secs(20)));
                    let connection = rustls::ServerConnection::new(config).unwrap();
                    let mut stream = rustls::StreamOwned::new(connection, socket);
                    let Some(head) = read_head(&mut stream) else {
                        return;
                    };
                    recorded.lock().unwrap().push(head);
                    let response: &[u8] = match answer {
                        Answer::Healthy => b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"status\":\"ok\"}",
                        Answer::Redirect => b"HTTP/1.1 302 Found\r\nlocation: https://elsewhere.example/v1/health\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    };
                    let _ = stream.write_all(response);
                    let _ = stream.flush();
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                });
            }
        });
        TlsServer { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// A request's head, read up to the blank line (at most 64 KiB).
fn read_head(stream: &mut impl Read) -> Option<String> {
    let mut reader = BufReader::new(stream.take(64 * 1024));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some(head);
        }
        head.push_str(&line);
    }
}

/// An HTTP proxy on loopback that tunnels every CONNECT to `target` (whatever host it names)
/// and records each request's head.
struct Proxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let recorded = recorded.clone();
                thread::spawn(move || {
                    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
                    let mut client = client;
                    // Byte by byte, so that nothing after the head is read here.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
                        if client.read(&mut byte).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let connect = head.starts_with("CONNECT ");
                    recorded.lock().unwrap().push(head);
                    if !connect {
                        let _ = client.write_all(
                            b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n",
                        );
                        return;
                    }
                    let upstream = TcpStream::connect(("127.0.0.1", target)).unwrap();
                    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    let (mut client_in, mut upstream_out) =
                        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    let forward = thread::spawn(move || {
                        let _ = std::io::copy(&mut client_in, &mut upstream_out);
                        let _ = upstream_out.shutdown(std::net::Shutdown::Write);
                    });
                    let (mut upstream_in, mut client_out) = (upstream, client);
                    let _ = std::io::copy(&mut upstream_in, &mut client_out);
                    let _ = client_out.shutdown(std::net::Shutdown::Write);
                    let _ = forward.join();
                });
            }
        });
        Proxy { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn client(base_url: &str) -> ClientBuilder<hockeystack::HockeyStack> {
    hockeystack::Client::builder()
        .credential("hsr_live_transport_test")
        .base_url(base_url)
        .retry_policy(RetryPolicy::none())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_authority_given_as_pem_is_trusted() {
    let server = TlsServer::start(Answer::Healthy);
    let base = format!("https://localhost:{}/api/revenue-agents/v1", server.port);

    let trusting = client(&base)
        .root_certificates_pem(AUTHORITY)
        .build()
        .unwrap();
    let health = trusting.health().send().await.unwrap();
    assert_eq!(health.status.as_deref(), Some("ok"));
    assert_eq!(server.heads().len(), 1);

    // Without it, the server is refused before any request is sent.
    let plain = client(&base).build().unwrap();
    let refused = plain.health().send().await.unwrap_err();
    assert!(
        matches!(refused.kind(), ErrorKind::Transport { .. }),
        "{refused:?}"
    );
    assert_eq!(server.heads().len(), 1, "nothing reached the server");

    for (pem, why) in [
        (&b"not a certificate"[..], "holds no PEM certificate"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "",
        ),
    ] {
        let error = client(&base)
            .root_certificates_pem(pem)
            .build()
            .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidSetting { .. })
                && text.contains("root_certificates_pem")
                && text.contains(why),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_the_proxy_with_its_credentials_and_redirects_stay_unfollowed() {
    let server = TlsServer::start(Answer::Healthy);
    let proxy = Proxy::start(server.port);
    let proxied = |base: &str| {
        client(base)
            .root_certificates_pem(AUTHORITY)
            .proxy(format!(
                "http://agent:s3cret%2Dword@127.0.0.1:{}",
                proxy.port
            ))
            .build()
            .unwrap()
    };
    let through = proxied("https://api.example.test/api/revenue-agents/v1");
    let health = through.health().send().await.unwrap();
    assert_eq!(health.status.as_deref(), Some("ok"));
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("CONNECT api.example.test:443 "),
        "{}",
        heads[0]
    );
    // `agent:s3cret-word`, the password's %2D decoded.
    assert!(
        heads[0].contains("Basic YWdlbnQ6czNjcmV0LXdvcmQ="),
        "the proxy's credentials are sent: {}",
        heads[0]
    );
    // The API's credential travels inside the tunnel only.
    assert!(!heads[0].contains("hsr_live_transport_test"));
    assert!(server.heads()[0].contains("hsr_live_transport_test"));

    // Loopback is reached directly, never through the proxy.
    let direct = proxied(&format!(
        "https://localhost:{}/api/revenue-agents/v1",
        server.port
    ));
    direct.health().send().await.unwrap();
    assert_eq!(proxy.heads().len(), 1, "loopback bypasses the proxy");

    let redirecting = TlsServer::start(Answer::Redirect);
    let redirect_proxy = Proxy::start(redirecting.port);
    let through = client("https://api.example.test/api/revenue-agents/v1")
        .root_certificates_pem(AUTHORITY)
        .proxy(format!("http://127.0.0.1:{}", redirect_proxy.port))
        .build()
        .unwrap();
    let error = through.health().send().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Redirected { .. }),
        "{error:?}"
    );
    assert_eq!(redirecting.heads().len(), 1, "the redirect is not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_loopback_address_is_reached_without_the_proxy() {
    // A plain-http server on 127.0.0.2: were the request proxied, the credential would cross
    // the proxy in clear text.
    let Ok(listener) = TcpListener::bind("127.0.0.2:0") else {
        return; // a system without the rest of 127/8 on its loopback interface
    };
    let port = listener.local_addr().unwrap().port();
    let served = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let head = read_head(&mut socket).unwrap_or_default();
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"status\":\"ok\"}");
        head
    });
    let proxy = Proxy::start(1);
    let client = client(&format!("http://127.0.0.2:{port}/api/revenue-agents/v1"))
        .proxy(format!("http://127.0.0.1:{}", proxy.port))
        .build()
        .unwrap();
    client.health().send().await.unwrap();
    assert!(
        served
            .join()
            .unwrap()
            .starts_with("GET /api/revenue-agents/v1/health")
    );
    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
}

#[tokio::test]
async fn a_proxy_password_never_shows() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let builder = client("https://api.example.test/v1")
        .proxy(format!("http://agent:pr0xy-pa55@127.0.0.1:{port}"));
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("pr0xy-pa55") && shown.contains("***"),
        "{shown}"
    );
    let error = builder.build().unwrap().health().send().await.unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("pr0xy-pa55"), "{text}");
    }
    for bad in ["socks5://127.0.0.1:1080", "not a url", "http://"] {
        let error = client("https://api.example.test/v1")
            .proxy(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidSetting { .. }),
            "{bad}: {error:?}"
        );
    }
    let error = client("https://api.example.test/v1")
        .proxy("ftp://agent:pr0xy-pa55@proxy.internal")
        .build()
        .unwrap_err();
    assert!(!error.to_string().contains("pr0xy-pa55"), "{error}");
}

/// The tool as a process whose system certificate store is missing.
#[cfg(feature = "cli")]
async fn without_a_store(args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents"))
        .args(args)
        .env_clear()
        .env("SSL_CERT_FILE", "/nonexistent/revenue-agents-test/ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent/revenue-agents-test/certs")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_build_on_a_machine_without_a_certificate_store() {
    // The sandbox is plain http on loopback: no authority needed.
    let (code, stderr) =
        without_a_store(&["--sandbox", "hockeystack", "service", "health"], &[]).await;
    assert_eq!(code, 0, "{stderr}");

    let server = TlsServer::start(Answer::Healthy);
    let base = (
        "HOCKEYSTACK_BASE_URL",
        format!("https://localhost:{}/api/revenue-agents/v1", server.port),
    );
    let authority = std::env::current_dir()
        .unwrap()
        .join("tests/fixtures/private-ca.crt");
    let (code, stderr) = without_a_store(
        &["hockeystack", "service", "health"],
        &[
            base.clone(),
            (
                "REVENUE_AGENTS_CA_FILE",
                authority.to_string_lossy().into_owned(),
            ),
        ],
    )
    .await;
    assert_eq!(code, 0, "an authority from the file is enough: {stderr}");

    let (code, stderr) = without_a_store(&["hockeystack", "service", "health"], &[base]).await;
    if cfg!(feature = "bundled-roots") {
        // The bundled public authorities do not know the test's, so the server is refused.
        assert_eq!(code, 9, "{stderr}");
    } else {
        assert_eq!(code, 3, "{stderr}");
        assert!(
            stderr.contains("ca-certificates") && stderr.contains("bundled-roots"),
            "{stderr}"
        );
    }

    let (code, stderr) = without_a_store(
        &["hockeystack", "service", "health"],
        &[(
            "REVENUE_AGENTS_CA_FILE",
            "/nonexistent/revenue-agents-test/ca.pem".into(),
        )],
    )
    .await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("REVENUE_AGENTS_CA_FILE"), "{stderr}");
}
