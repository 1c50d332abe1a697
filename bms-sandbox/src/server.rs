//! The sandbox's own accept loop: plain HTTP/1.1, or TLS with a certificate made for tests.
//!
//! Its own rather than `axum::serve` for what a client's cold start is made of besides its
//! calls: every connection is counted, and in TLS mode the set-up a new connection costs on a
//! real network is paid and recorded as two round trips (the TCP handshake, then the TLS 1.3
//! handshake), each taking the injected latency. A client that opens its connections while it
//! waits for something else keeps them off its critical path; one that opens them when it needs
//! them pays them there, and [`round_trips`](crate::round_trips) over calls and set-ups shows
//! which. `Sandbox::drop_connections` closes every open connection at once, as a server does
//! with connections idle too long while a client was frozen.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::rustls::{self, ServerConfig, server::Acceptor};

use crate::state::{Call, Shared};

/// The CA that signed the sandbox's TLS certificate: what a client trusts to reach it over TLS.
/// Made for tests; its key is not kept.
pub const TEST_CA_PEM: &str = include_str!("../tls/ca.pem");
const CERT_PEM: &str = include_str!("../tls/localhost.pem");
const KEY_PEM: &str = include_str!("../tls/localhost.key");

/// The server side of TLS mode: the test certificate for `localhost` and `127.0.0.1`.
pub(crate) fn tls_config() -> std::io::Result<Arc<ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::other(format!("TLS mode: {e}"));
    let certs = CertificateDer::pem_slice_iter(CERT_PEM.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes()).map_err(|e| invalid(&e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts until `stop` fires (or its sender is dropped); each connection is served on its own
/// task until the client closes it or `Sandbox::drop_connections` is called.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    shared: Arc<Shared>,
    tls: Option<Arc<ServerConfig>>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    eprintln!("bms-sandbox: accept failed: {e}");
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let _ = tcp.set_nodelay(true);
        let mut dropped = shared.lock().drops.subscribe();
        let (app, shared, tls) = (app.clone(), shared.clone(), tls.clone());
        tokio::spawn(async move {
            shared.lock().connections += 1;
            tokio::select! {
                _ = connection(tcp, app, &shared, tls) => {}
                // Dropping the connection's future closes its socket.
                _ = dropped.changed() => {}
            }
        });
    }
}

async fn connection(tcp: TcpStream, app: Router, shared: &Shared, tls: Option<Arc<ServerConfig>>) {
    let service = TowerToHyperService::new(app);
    let http = hyper::server::conn::http1::Builder::new();
    let Some(tls) = tls else {
        let _ = http.serve_connection(TokioIo::new(tcp), service).await;
        return;
    };
    let (accepted, latency) = (Instant::now(), shared.lock().latency);
    // The client's SYN and the server's SYN-ACK: the client can send nothing before.
    tokio::time::sleep(latency).await;
    let tcp_done = Instant::now();
    let Ok(hello) = LazyConfigAcceptor::new(Acceptor::default(), tcp).await else {
        return;
    };
    // ClientHello out, ServerHello to Finished back: TLS 1.3's one round trip.
    tokio::time::sleep(latency).await;
    let Ok(stream) = hello.into_stream(tls).await else {
        return;
    };
    {
        let mut state = shared.lock();
        let since = |at: Instant| at.saturating_duration_since(state.epoch);
        let setup = |step: &str, from, to| Call {
            method: step.to_string(),
            path: String::new(),
            query: String::new(),
            status: 0,
            body: None,
            started: since(from),
            ended: since(to),
        };
        let (tcp, tls) = (
            setup("TCP", accepted, tcp_done),
            setup("TLS", tcp_done, Instant::now()),
        );
        state.setups.push(tcp);
        state.setups.push(tls);
    }
    let _ = http.serve_connection(TokioIo::new(stream), service).await;
}
