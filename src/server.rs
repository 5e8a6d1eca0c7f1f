//! Serving HTTP: the accept loop with its timeouts, and a bounded drain when the process
//! stops.
//!
//! A connection has `Limits::request_head_timeout` to send each request head (so a client
//! that never finishes one, or idles between requests, is disconnected) and
//! `Limits::request_body_timeout` for each body. On shutdown the listener closes, WebSocket
//! connections get a 1001 close frame, requests in flight may finish, and after the drain
//! whatever is still open is dropped: the process exits whatever clients hold.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Extension, extract::ConnectInfo};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::app::{App, until_true};

/// How long to wait before accepting again when accepting failed (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most `drain`.
pub async fn serve(
    app: App,
    listener: TcpListener,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let limits = app.services.limits.clone();
    let router = app
        .router()
        .layer(RequestBodyDeadlineLayer::new(limits.request_body_timeout));
    let (stopping, _) = watch::channel(false);
    let open = Arc::new(watch::channel(0usize).0);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(error = %error, "accepting a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let service = router.clone().layer(Extension(ConnectInfo(peer)));
        let connection = Connection {
            open: open.clone(),
            stopping: stopping.subscribe(),
        };
        tokio::spawn(connection.serve(
            TokioIo::new(stream),
            TowerToHyperService::new(service),
            limits.request_head_timeout,
            peer,
        ));
    }
    drop(listener);
    tracing::info!("stopping: draining for at most {drain:?}");
    stopping.send_replace(true);
    let mut connections = open.subscribe();
    let requests_done = async {
        let _ = connections.wait_for(|open| *open == 0).await;
    };
    let drained = futures_util::future::join(requests_done, app.close_sockets());
    if tokio::time::timeout(drain, drained).await.is_err() {
        tracing::warn!(
            connections = *open.borrow(),
            "the drain is over: closing what is still open"
        );
    }
}

/// One client connection, counted in `open` until it ends.
struct Connection {
    open: Arc<watch::Sender<usize>>,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(
        mut self,
        io: TokioIo<tokio::net::TcpStream>,
        service: TowerToHyperService<axum::Router>,
        head_timeout: Duration,
        peer: SocketAddr,
    ) {
        self.open.send_modify(|open| *open += 1);
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(head_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(connection);
        let served = tokio::select! {
            served = connection.as_mut() => served,
            () = until_true(&mut self.stopping) => {
                // Finish the request in flight, then close.
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(error) = served {
            tracing::debug!(error = %error, %peer, "connection ended");
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.open.send_modify(|open| *open -= 1);
    }
}
