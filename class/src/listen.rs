//! Serving the routes on a classroom's network, with the bounds a
//! network open to other machines needs.
//!
//! `axum::serve` keeps a connection as long as its client does: a client
//! that opens connections and never finishes a request (one byte a minute,
//! or nothing at all) holds them forever, and enough of them leave no room
//! for the students. Here each connection is served by hyper with a timer:
//! - its request's headers must arrive within [`Limits::headers`] (also
//!   while it waits, idle, for a next request);
//! - it lives at most [`Limits::connection`], whatever it does;
//! - one address holds at most [`Limits::per_address`] connections, and the
//!   server [`Limits::total`]; beyond, a new connection is closed at once.
//!
//! The per-request bounds (size, rate, class code) are the routes' own, in
//! lib.rs.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long a connection may take, and how many there may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request's headers arrive within this, from the connection's start
    /// or the end of its previous request.
    pub headers: Duration,
    /// A connection is closed after this, whatever it is doing.
    pub connection: Duration,
    /// Connections open at once from one address.
    pub per_address: usize,
    /// Connections open at once in all.
    pub total: usize,
}

impl Limits {
    /// A student's copy sends one small request per result and closes; the
    /// teacher's page asks every 3 s. A class of 25 stays far below these.
    pub const CLASSROOM: Limits = Limits {
        headers: Duration::from_secs(10),
        connection: Duration::from_secs(60),
        per_address: 32,
        total: 512,
    };
}

/// Connections open now, per address and in all.
#[derive(Default)]
struct Open {
    per_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// One open connection, counted in [`Open`] until it is dropped.
struct Counted {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Counted {
    /// Counts a new connection from `ip`, unless that would pass a limit.
    fn enter(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &Limits) -> Option<Counted> {
        let mut now = open.lock().unwrap();
        let from_ip = now.per_address.get(&ip).copied().unwrap_or(0);
        if from_ip >= limits.per_address || now.total >= limits.total {
            return None;
        }
        now.per_address.insert(ip, from_ip + 1);
        now.total += 1;
        Some(Counted {
            open: open.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut now = self.open.lock().unwrap();
        now.total -= 1;
        if let Some(n) = now.per_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                now.per_address.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` within `limits` until `stop` completes. The
/// routes see each client's address as `ConnectInfo<SocketAddr>`, as with
/// axum's `into_make_service_with_connect_info`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let accepting = async {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(counted) = Counted::enter(&open, peer.ip(), &limits) else {
                drop(stream); // over a limit: closed at once
                continue;
            };
            let service = app
                .clone()
                .layer(Extension(ConnectInfo::<SocketAddr>(peer)));
            tokio::spawn(async move {
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.headers);
                let connection = builder
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                // Errors are the client's (a reset, a malformed request, a
                // timeout): nothing to tell the teacher.
                let _ = tokio::time::timeout(limits.connection, connection).await;
                drop(counted);
            });
        }
    };
    tokio::select! {
        () = accepting => {}
        () = stop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    const QUICK: Limits = Limits {
        headers: Duration::from_millis(300),
        connection: Duration::from_secs(2),
        per_address: 3,
        total: 100,
    };

    /// A server of one route that answers the client's address, on a
    /// thread of its own; returns its address.
    fn server(limits: Limits) -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().route(
                    "/",
                    axum::routing::get(|ConnectInfo(from): ConnectInfo<SocketAddr>| async move {
                        from.ip().to_string()
                    }),
                );
                serve(listener, app, limits, std::future::pending()).await;
            });
        });
        rx.recv().unwrap()
    }

    fn get(addr: SocketAddr) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// Reads until the server closes the connection; how long it took.
    fn closed_after(mut stream: TcpStream) -> Duration {
        let started = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0; 256];
        while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        started.elapsed()
    }

    #[test]
    fn a_request_is_answered_with_the_clients_address() {
        let addr = server(QUICK);
        let answer = get(addr).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }

    #[test]
    fn a_client_that_never_finishes_its_headers_is_closed() {
        let addr = server(QUICK);
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        let took = closed_after(slow);
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
        // The silent one too (nothing sent at all).
        let took = closed_after(TcpStream::connect(addr).unwrap());
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
    }

    #[test]
    fn one_address_cannot_hold_every_connection() {
        let addr = server(QUICK);
        let held: Vec<TcpStream> = (0..QUICK.per_address)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        // Let the server count them.
        std::thread::sleep(Duration::from_millis(100));
        let took = closed_after(TcpStream::connect(addr).unwrap());
        assert!(took < Duration::from_millis(250), "closed after {took:?}");
        // Once they are gone (closed by the server's header timeout, or by
        // the client), the address is served again.
        drop(held);
        std::thread::sleep(Duration::from_millis(100));
        assert!(get(addr).unwrap().starts_with("HTTP/1.1 200"));
    }
}
