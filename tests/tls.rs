//! TLS is on and verifies the server: a server whose certificate no trusted authority signed
//! is refused with a TLS error, before any request (or credential) is sent.
#![cfg(feature = "hockeystack")]

use std::{io::Read, net::TcpListener, sync::Arc, thread};

use revenue_agents::{ErrorKind, RetryPolicy, TransportCause, hockeystack};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// A TLS server on loopback with a self-signed certificate for `localhost`; returns its port
/// and what it read after the handshake (nothing, if the client refused the certificate).
fn self_signed_server() -> (u16, thread::JoinHandle<Vec<u8>>) {
    let certificate =
        CertificateDer::from_pem_slice(include_bytes!("fixtures/self-signed.crt")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/self-signed.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate], key)
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        // Bounded waits: a client that never connects, or never stops, ends the test instead of
        // hanging it.
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let socket = loop {
            match listener.accept() {
                Ok((socket, _)) => break socket,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the client never connected"
                    );
                    thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        socket.set_nonblocking(false).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let connection = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut stream = rustls::StreamOwned::new(connection, socket);
        let mut received = Vec::new();
        // The client aborts the handshake; whatever arrives afterwards would be the request.
        let _ = stream.read_to_end(&mut received);
        received
    });
    (port, server)
}

#[tokio::test]
async fn a_server_certificate_no_authority_signed_is_refused() {
    let (port, server) = self_signed_server();
    let client = hockeystack::Client::builder()
        .credential("hsr_live_must_not_leak")
        .base_url(format!("https://localhost:{port}/api/revenue-agents/v1"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.me().send().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Transport {
            cause: TransportCause::Tls
        },
        "{error}"
    );
    let received = server.join().unwrap();
    assert!(
        received.is_empty(),
        "the request was sent over an untrusted connection"
    );
    assert!(!error.to_string().contains("hsr_live_must_not_leak"));
}
