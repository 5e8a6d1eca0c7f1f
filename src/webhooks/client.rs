//! The HTTP client of webhook delivery: one connection per delivery, to an address checked
//! just before connecting, over TLS unless the receiver is on this host and the configuration
//! allows that. Redirects are not followed (a 3xx is a failure like any non-2xx), only the
//! status and a bounded start of the answer are read. The deliverer caps the connections a
//! process holds, however slow the receivers.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, client::conn::http1};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;
use url::{Host, Url};

use crate::{
    config::WebhookSettings,
    domain::address::{Reach, reach},
};

/// Why a URL is not acceptable, in words for the person who gave it.
pub type Refusal = String;

/// Checks the form of a webhook URL: `https://` with a host, or `http://` on this host when
/// `allow_loopback`; no credentials, no fragment.
pub fn parse_url(text: &str, allow_loopback: bool) -> Result<Url, Refusal> {
    let url = Url::parse(text).map_err(|error| format!("not a URL: {error}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not hold a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("the URL must not have a #fragment".into());
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_loopback => Ok(url),
        _ => Err("only https:// URLs are accepted".into()),
    }
}

/// Resolves the URL's host and checks every address it gives: none may be internal, and
/// plain `http://` (or a loopback address at all) only to this host when `allow_loopback`.
pub async fn resolve(url: &Url, allow_loopback: bool) -> Result<Vec<SocketAddr>, Refusal> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_owned())?;
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|error| format!("{name} does not resolve: {error}"))?
            .collect(),
        None => return Err("the URL has no host".into()),
    };
    if addresses.is_empty() {
        return Err("the host has no address".into());
    }
    for address in &addresses {
        match reach(address.ip()) {
            Reach::Public if url.scheme() == "https" => {}
            Reach::Loopback if allow_loopback => {}
            Reach::Public => return Err("only https:// URLs are accepted".into()),
            Reach::Loopback | Reach::Internal => {
                return Err(format!(
                    "{} is a private, loopback or link-local address: webhooks go to the public internet only",
                    address.ip()
                ));
            }
        }
    }
    Ok(addresses)
}

/// What a receiver did with a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It answered with this status.
    Status(u16),
    /// It did not answer: refused, unreachable, timed out, or not allowed.
    Failed(String),
}

/// Sends deliveries.
pub struct Client {
    tls: TlsConnector,
    timeout: Duration,
    max_response_bytes: usize,
    allow_loopback: bool,
}

impl Client {
    pub fn new(settings: &WebhookSettings) -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS
                .iter()
                .chain(&settings.extra_roots)
                .cloned()
                .collect(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|error| unreachable!("ring supports the default versions: {error}"));
        Self {
            tls: TlsConnector::from(Arc::new(tls)),
            timeout: settings.timeout,
            max_response_bytes: settings.max_response_bytes,
            allow_loopback: settings.allow_loopback,
        }
    }

    /// POSTs `body` with `headers` to `url`; the timeout covers resolving, connecting and
    /// the answer.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Bytes) -> Answer {
        match tokio::time::timeout(self.timeout, self.exchange(url, headers, body)).await {
            Ok(Ok(status)) => Answer::Status(status),
            Ok(Err(error)) => Answer::Failed(format!("{error:#}")),
            Err(_) => Answer::Failed(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> anyhow::Result<u16> {
        let url = parse_url(url, self.allow_loopback).map_err(|refusal| anyhow!(refusal))?;
        let addresses = resolve(&url, self.allow_loopback)
            .await
            .map_err(|refusal| anyhow!(refusal))?;
        let host = url.host_str().context("the URL has no host")?.to_owned();
        let stream = TcpStream::connect(addresses.as_slice())
            .await
            .with_context(|| format!("connecting to {host}"))?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "customer-portal-webhooks/1");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(body))
            .context("building the request")?;
        if url.scheme() == "https" {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .context("the host is not a valid TLS name")?;
            let stream = self
                .tls
                .connect(name, stream)
                .await
                .context("TLS handshake")?;
            self.send(stream, request).await
        } else {
            self.send(stream, request).await
        }
    }

    async fn send(
        &self,
        stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
        request: Request<Full<Bytes>>,
    ) -> anyhow::Result<u16> {
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        let exchange = async {
            let response = sender
                .send_request(request)
                .await
                .context("sending the request")?;
            let status = response.status().as_u16();
            // Read a little of the answer, so that a receiver that answers before reading
            // the whole request is not cut off, and never more than the limit.
            let mut body = response.into_body();
            let mut read = 0;
            while read < self.max_response_bytes {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                    Some(Err(_)) | None => break,
                }
            }
            Ok(status)
        };
        // The connection is driven here rather than in a task of its own, so that it closes
        // with this future (on the timeout too) and never outlives its permit.
        tokio::pin!(connection, exchange);
        tokio::select! {
            answered = &mut exchange => answered,
            closed = &mut connection => match closed {
                Ok(()) => exchange.await,
                Err(error) => Err(anyhow::Error::new(error).context("HTTP connection")),
            },
        }
    }
}
