//! Connections to BMS opened ahead of need, while the function waits for its secret.
//!
//! On a real network a new connection costs two round trips before its first request (the TCP
//! handshake, then TLS 1.3's). The login cannot leave before the secret is read, but its
//! connection can: opened beside the secret's fetch, it is ready when the login needs it. So are
//! the connections of the first press's concurrent calls (BMS speaks HTTP/1.1: one call per
//! connection at a time).
//!
//! reqwest opens connections only for requests. This layer sits where it opens them: the
//! connection a request sent by [`OpenAhead::open`] asks for is opened and kept, and that request
//! fails without having been sent (nothing reaches BMS but the handshakes). The next request
//! that needs a connection gets a kept one at once, or waits for one still opening rather than
//! opening its own.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// A kept connection older than this is closed, not handed over: servers close connections
/// left idle, and one kept across a freeze may be gone. Long enough for a container started by
/// a waiting request, whose first press follows init at once.
const KEPT_FOR: Duration = Duration::from_secs(10);

/// The layer, and the handle that asks it for connections. Clones share their state.
#[derive(Clone, Default)]
pub struct OpenAhead {
    shared: Arc<Shared>,
}

tokio::task_local! {
    /// Set while a request of [`OpenAhead::open`] runs: reqwest opens a request's connection
    /// inside the request's own future, so the layer sees it.
    static AHEAD: ();
}

#[derive(Default)]
struct Shared {
    /// Connections being opened ahead.
    opening: AtomicUsize,
    /// Connections opened ahead, when each was opened. Their type is reqwest's, which it does
    /// not name; they go back out as what they came in as.
    kept: Mutex<Vec<(Instant, Box<dyn Any + Send>)>>,
    /// Woken when a kept connection is ready or failed.
    changed: Notify,
}

impl OpenAhead {
    /// Opens `n` connections to `url`'s server through `http` (a client built with this layer)
    /// and keeps them; returns once each is open or failed. `timeout` bounds each.
    pub async fn open(&self, http: &reqwest::Client, url: &str, n: usize, timeout: Duration) {
        self.shared.opening.fetch_add(n, Ordering::SeqCst);
        let attempts: Vec<_> = (0..n)
            .map(|_| {
                let (shared, request) = (self.shared.clone(), http.head(url).timeout(timeout));
                tokio::spawn(async move {
                    // Fails once its connection is kept: the request itself is never sent.
                    let _ = AHEAD.scope((), request.send()).await;
                    shared.opening.fetch_sub(1, Ordering::SeqCst);
                    shared.changed.notify_waiters();
                })
            })
            .collect();
        for attempt in attempts {
            let _ = attempt.await;
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Instant, Box<dyn Any + Send>)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A kept connection young enough to use; older ones are closed. One the server has
    /// closed meanwhile is no loss: hyper reads the server's end before it sends a request, and
    /// sends the request again on a new connection.
    fn take<C: 'static>(&self) -> Option<C> {
        let mut kept = self.lock();
        kept.retain(|(at, _)| at.elapsed() < KEPT_FOR);
        let (_, conn) = kept.pop()?;
        conn.downcast::<C>().ok().map(|c| *c)
    }

    /// A kept connection, waiting for one still opening; `None` when none is or will be.
    async fn take_or_wait<C: 'static>(&self) -> Option<C> {
        loop {
            let changed = self.changed.notified();
            if let Some(conn) = self.take() {
                return Some(conn);
            }
            if self.opening.load(Ordering::SeqCst) == 0 {
                return None;
            }
            changed.await;
        }
    }
}

/// The connection was opened and kept; the request that asked for it is not sent.
#[derive(Debug)]
struct Kept;

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection opened ahead and kept")
    }
}

impl std::error::Error for Kept {}

impl<S> tower_layer::Layer<S> for OpenAhead {
    type Service = Service<S>;

    fn layer(&self, inner: S) -> Service<S> {
        Service {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Service<S> {
    inner: S,
    shared: Arc<Shared>,
}

type Connecting<C, E> = Pin<Box<dyn Future<Output = Result<C, E>> + Send>>;

impl<S, R> tower_service::Service<R> for Service<S>
where
    S: tower_service::Service<R> + Clone + Send + 'static,
    S::Response: Send + 'static,
    S::Error: From<Kept> + Send + 'static,
    S::Future: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Connecting<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let shared = self.shared.clone();
        // The instance polled ready makes the call; a clone stays for the next one.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        if AHEAD.try_with(|_| ()).is_ok() {
            return Box::pin(async move {
                let conn = inner.call(request).await?;
                shared.lock().push((Instant::now(), Box::new(conn)));
                shared.changed.notify_waiters();
                Err(Kept.into())
            });
        }
        Box::pin(async move {
            match shared.take_or_wait().await {
                Some(conn) => Ok(conn),
                None => inner.call(request).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::net::Net;

    /// The sandbox's count of accepted connections, once it has caught up with the kernel's.
    async fn connections(bms: &bms_sandbox::Sandbox, at_least: usize) -> usize {
        for _ in 0..100 {
            if bms.connections() >= at_least {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bms.connections()
    }

    #[tokio::test]
    async fn connections_opened_ahead_carry_the_next_requests_and_send_nothing() {
        let bms = bms_sandbox::Sandbox::start().await;
        let net = Net::new(&[]).expect("a client");
        let http = net.bms();
        net.ahead()
            .open(http, &bms.url(), 3, Duration::from_secs(3))
            .await;
        assert_eq!(connections(&bms, 3).await, 3);
        assert!(bms.calls().is_empty(), "sent: {:?}", bms.calls());

        let url = format!("{}/v2/system/statuses/lookup", bms.url());
        let (a, b, c) = tokio::join!(
            http.get(&url).send(),
            http.get(&url).send(),
            http.get(&url).send()
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        assert_eq!(bms.calls().len(), 3);
        assert_eq!(
            bms.connections(),
            3,
            "a request opened a connection of its own"
        );

        // None kept any more: the next concurrent requests open their own.
        let (d, e, f, g) = tokio::join!(
            http.get(&url).send(),
            http.get(&url).send(),
            http.get(&url).send(),
            http.get(&url).send()
        );
        assert!(d.is_ok() && e.is_ok() && f.is_ok() && g.is_ok());
        assert_eq!(connections(&bms, 4).await, 4);
    }
}
