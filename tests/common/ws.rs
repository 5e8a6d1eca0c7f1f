//! A `graphql-transport-ws` client over a real socket, and serving a test app on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::{net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// Serves `app` on a free loopback port until the test ends; returns the address.
pub async fn serve(app: &customer_portal::app::App) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    address
}

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How a connection attempt ended.
pub enum Opened {
    Acknowledged(Box<Client>),
    Closed(u16, String),
}

impl Client {
    /// Connects and sends `connection_init` with `authorization`.
    pub async fn open(address: SocketAddr, authorization: Option<&str>) -> Opened {
        let mut request = format!("ws://{address}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = connect_async(request).await.unwrap();
        let mut client = Self { socket };
        let payload = match authorization {
            Some(token) => json!({"authorization": format!("Bearer {token}")}),
            None => json!({}),
        };
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        match client.receive().await {
            Ok(message) if message["type"] == "connection_ack" => {
                Opened::Acknowledged(Box::new(client))
            }
            Ok(message) => panic!("unexpected {message}"),
            Err((code, reason)) => Opened::Closed(code, reason),
        }
    }

    /// Connects and expects the acknowledgement.
    pub async fn connect(address: SocketAddr, token: &str) -> Self {
        match Self::open(address, Some(token)).await {
            Opened::Acknowledged(client) => *client,
            Opened::Closed(code, reason) => panic!("closed {code}: {reason}"),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next protocol message, or the close frame; pings are answered.
    pub async fn receive(&mut self) -> Result<Value, (u16, String)> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("nothing arrived within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return Ok(value);
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Err((frame.code.into(), frame.reason.to_string()));
                }
                Some(Ok(Message::Close(None))) | None => return Err((1005, String::new())),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err((1006, error.to_string())),
            }
        }
    }

    /// The close frame's code and reason, skipping whatever comes before it.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Err(closed) = self.receive().await {
                return closed;
            }
        }
    }

    /// The payload of the next `next` message.
    pub async fn next_payload(&mut self) -> Value {
        let message = self.receive().await.unwrap();
        assert_eq!(message["type"], "next", "{message}");
        message["payload"].clone()
    }
}
