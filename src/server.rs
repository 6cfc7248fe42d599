//! Serving HTTP/1.1 on a TCP listener with hyper, under the connection limits that
//! `axum::serve` lacks (it keeps a connection that never sends a byte open forever):
//!
//! - `read_header_timeout`: a request head must arrive within this time of the connection
//!   opening, or of the first byte of a later request on a kept-alive connection;
//! - `read_timeout` (Grafana's key, Go's `http.Server.ReadTimeout`): the whole request, head and
//!   body, must arrive within this time of its start, so a body trickled a byte at a time ends;
//! - `idle_timeout`: a kept-alive connection waits this long for its next request;
//! - `max_connections`: at the limit, a new connection takes the place of the connection that has
//!   waited longest without a request in progress (idle, or still sending its head), which is
//!   closed; when every connection has a request in progress, the new one is closed at once
//!   rather than left waiting. So sockets that only hold a connection open cannot lock real
//!   clients out.
//!
//! A timeout closes the connection without an answer, as Go's server does. The deadlines are
//! enforced on the socket's reads ([`TimedIo`]) and follow the request through its phases:
//! hyper calls the service once the head is read, the request body reports its end, and the
//! response body reports when it has been sent. Shutdown stops accepting, lets in-flight requests
//! finish and closes idle connections.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::ServerSection;

/// Connection limits; `None` turns one off.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub read_header_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub max_connections: Option<usize>,
}

impl Limits {
    pub fn from_config(server: &ServerSection) -> Self {
        Limits {
            read_header_timeout: server.read_header_timeout,
            read_timeout: server.read_timeout,
            idle_timeout: server.idle_timeout,
            max_connections: server.max_connections,
        }
    }

    /// When a head started at `start` must be complete.
    fn head_deadline(&self, start: Instant) -> Option<Instant> {
        let shortest = match (self.read_header_timeout, self.read_timeout) {
            (Some(h), Some(r)) => Some(h.min(r)),
            (h, r) => h.or(r),
        };
        shortest.map(|d| start + d)
    }
}

/// Where a connection is in its request/response cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head.
    Head,
    /// A request is in the service or its response is being sent.
    Busy,
    /// Kept alive between requests.
    Idle,
}

struct ConnState {
    phase: Phase,
    /// When the current request's head started (connection opened, or first byte after idle).
    head_started: Instant,
    /// When the socket's reads time out.
    deadline: Option<Instant>,
    /// When the connection last changed phase (the longest-waiting one is evicted first).
    since: Instant,
    /// Chosen to make room for a new connection.
    evicting: bool,
    /// The task waiting on the socket, woken when a new deadline must be armed.
    reader: Option<Waker>,
}

impl ConnState {
    /// Sets the read deadline; a reader already waiting is woken to arm it.
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
        if deadline.is_some() {
            if let Some(reader) = self.reader.take() {
                reader.wake();
            }
        }
    }
}

/// One connection as the server tracks it.
struct Conn {
    limits: Limits,
    state: Mutex<ConnState>,
    evict: Notify,
}

impl Conn {
    fn new(limits: Limits) -> Self {
        let now = Instant::now();
        Conn {
            limits,
            state: Mutex::new(ConnState {
                phase: Phase::Head,
                head_started: now,
                deadline: limits.head_deadline(now),
                since: now,
                evicting: false,
                reader: None,
            }),
            evict: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deadline(&self) -> Option<Instant> {
        self.state().deadline
    }

    /// Bytes arrived: on an idle connection they start the next request's head.
    fn on_bytes(&self) {
        let mut s = self.state();
        if s.phase == Phase::Idle {
            let now = Instant::now();
            s.phase = Phase::Head;
            s.head_started = now;
            s.since = now;
            let deadline = self.limits.head_deadline(now);
            s.set_deadline(deadline);
        }
    }

    /// The head is read and the request goes to the service; a body must then arrive within
    /// `read_timeout` of the head's start.
    fn on_request(&self, has_body: bool) {
        let mut s = self.state();
        s.phase = Phase::Busy;
        s.since = Instant::now();
        let deadline = match (has_body, self.limits.read_timeout) {
            (true, Some(t)) => Some(s.head_started + t),
            _ => None,
        };
        s.set_deadline(deadline);
    }

    /// The request body was read (or given up): no more read deadline while the handler runs
    /// (hyper still reads the socket then, to notice a client that goes away).
    fn on_body_done(&self) {
        let mut s = self.state();
        if s.phase == Phase::Busy {
            s.deadline = None;
        }
    }

    /// The response was sent: the connection waits for the next request.
    fn on_response_done(&self) {
        let mut s = self.state();
        let now = Instant::now();
        s.phase = Phase::Idle;
        s.since = now;
        s.set_deadline(self.limits.idle_timeout.map(|t| now + t));
    }

    /// Whether closing the connection now loses no request.
    fn evictable(&self) -> bool {
        self.state().phase != Phase::Busy
    }
}

/// Open connections by id.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes room for one more connection under `max`: true when there is room, or when the
    /// connection that has waited longest without a request in progress was told to close.
    fn make_room(&self, max: usize) -> bool {
        let conns = self.conns();
        let open = conns.values().filter(|c| !c.state().evicting).count();
        if open < max {
            return true;
        }
        let victim = conns
            .values()
            .filter_map(|c| {
                let s = c.state();
                (s.phase != Phase::Busy && !s.evicting).then_some((s.since, c))
            })
            .min_by_key(|(since, _)| *since)
            .map(|(_, c)| c.clone());
        match victim {
            Some(c) => {
                c.state().evicting = true;
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for in-flight requests.
/// Each request carries `ConnectInfo<SocketAddr>` with the peer's address.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let next_id = AtomicU64::new(0);
    let mut last_refusal_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait a
                    // little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if let Some(max) = limits.max_connections {
            if !registry.make_room(max) {
                // Once a minute at most: under a flood this would be every connection.
                let now = Instant::now();
                if last_refusal_warning.is_none_or(|at| now - at >= Duration::from_secs(60)) {
                    last_refusal_warning = Some(now);
                    tracing::warn!(%peer, max, "connection refused: [server] max_connections reached and every connection is busy");
                }
                drop(stream);
                continue;
            }
        }
        let _ = stream.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(limits));
        registry.conns().insert(id, conn.clone());
        let registry = registry.clone();
        let router = router.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move {
            serve_connection(stream, peer, conn, router, stop).await;
            registry.conns().remove(&id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    conn: Arc<Conn>,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(TimedIo::new(stream, conn.clone()));
    let service_conn = conn.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let conn = service_conn.clone();
        let router = router.clone();
        async move {
            conn.on_request(!http_body::Body::is_end_stream(req.body()));
            let expects_continue = req
                .headers()
                .get(header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            let unread = Arc::new(Mutex::new(None));
            let mut req = req.map(|body| {
                Body::new(RequestBody {
                    inner: Some(body),
                    unread: unread.clone(),
                    conn: conn.clone(),
                })
            });
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut res = match router.oneshot(req).await {
                Ok(res) => res,
                Err(never) => match never {},
            };
            let left = unread.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(body) = left {
                if !finish_unread_body(body, expects_continue).await {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
            }
            conn.on_body_done();
            Ok::<_, Infallible>(res.map(|body| ResponseBody { inner: body, conn }))
        }
    });
    let mut builder = http1::Builder::new();
    // Our own deadlines (in `TimedIo`) replace hyper's, which also cut idle keep-alive short.
    builder.header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = conn.evict.notified() => {
                if conn.evictable() {
                    tracing::debug!(%peer, "connection closed to make room for a new one");
                    return;
                }
                conn.state().evicting = false;
            }
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection read timed out")
}

/// A socket whose reads fail once the connection's current deadline has passed.
struct TimedIo {
    io: TcpStream,
    conn: Arc<Conn>,
    sleep: Pin<Box<Sleep>>,
    armed_for: Option<Instant>,
}

impl TimedIo {
    fn new(io: TcpStream, conn: Arc<Conn>) -> Self {
        TimedIo {
            io,
            conn,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed_for: None,
        }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let deadline = self.conn.deadline();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Poll::Ready(Err(timed_out()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.conn.on_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                self.conn.state().reader = Some(cx.waker().clone());
                let Some(deadline) = deadline else {
                    return Poll::Pending;
                };
                if self.armed_for != Some(deadline) {
                    self.sleep.as_mut().reset(deadline);
                    self.armed_for = Some(deadline);
                }
                match self.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out())),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The most of an unread request body the server reads and discards after an early answer so
/// the connection can serve the next request (Go's server, which Grafana runs on, does the same
/// with a smaller bound); a longer body closes the connection instead.
const DRAIN_LIMIT: u64 = crate::api::BODY_LIMIT as u64;

/// Reads and discards what a handler left of its request body (it answered before reading it:
/// 401, 403, 404, a refusal before parsing). True when the body ended, so the connection can be
/// kept; false when it was too long, failed, or the client waits for `100 Continue` (which
/// reading would send, inviting a body nobody wants), and the answer must say
/// `Connection: close`. The read is bounded by `read_timeout`, still armed for this request.
async fn finish_unread_body(mut body: Incoming, expects_continue: bool) -> bool {
    use http_body_util::BodyExt;
    if expects_continue || http_body::Body::size_hint(&body).lower() > DRAIN_LIMIT {
        return false;
    }
    let mut read = 0u64;
    loop {
        match body.frame().await {
            None => return true,
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    read += data.len() as u64;
                    if read > DRAIN_LIMIT {
                        return false;
                    }
                }
            }
            Some(Err(_)) => return false,
        }
    }
}

/// The request body, which reports to its connection when it has been read (and lets go of
/// `inner` then). Dropped before its end (the handler answered without reading it), it leaves
/// the rest in `unread` for [`finish_unread_body`], keeping the read deadline armed for that.
struct RequestBody {
    inner: Option<Incoming>,
    unread: Arc<Mutex<Option<Incoming>>>,
    conn: Arc<Conn>,
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.inner = None;
            self.conn.on_body_done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        match self.inner.take() {
            Some(body) if !http_body::Body::is_end_stream(&body) => {
                *self.unread.lock().unwrap_or_else(|e| e.into_inner()) = Some(body);
            }
            _ => self.conn.on_body_done(),
        }
    }
}

/// The response body, which reports to its connection when it has been sent (or dropped).
struct ResponseBody {
    inner: Body,
    conn: Arc<Conn>,
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        self.conn.on_response_done();
    }
}
