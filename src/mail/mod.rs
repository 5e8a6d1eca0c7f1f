//! Sending mail: the dispatcher that empties the outbox through SMTP (`SMTP_URL`) or into
//! `.eml` files (`MAIL_DIR`), retrying failures with a growing back-off.
//!
//! Writers only queue letters (`store::outbox::enqueue`) in their own transaction and call
//! [`Mailer::wake`] after commit; nothing is sent for a change that rolled back, and nothing
//! is lost when the relay is down.

pub mod digest;
pub mod letters;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use entities::mail_outbox;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{clock::Clock, config::Config, error::AppResult, store::outbox};

/// Messages claimed per round.
const BATCH: u64 = 50;
/// How long a claimed message is left to its dispatcher before another may try it.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// A quiet dispatcher still looks this often, for retries that came due.
const POLL: Duration = Duration::from_secs(30);
/// Longest wait between two tries of one message.
const MAX_BACKOFF_MINUTES: i64 = 60;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

/// The outbox's dispatcher.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    wake: Notify,
    /// Base of links in digests.
    public_url: String,
}

/// What one round of sending did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
}

impl Mailer {
    /// The transport the configuration asks for.
    pub fn new(config: &Config) -> Self {
        let transport = match &config.smtp {
            Some(server) => Transport::Smtp(
                // Plain SMTP to a relay next to the service; the relay does onward TLS.
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str())
                    .port(server.port)
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => Transport::Directory(config.mail_dir.clone()),
        };
        Self {
            transport,
            from: config.mail_from.clone(),
            wake: Notify::new(),
            public_url: config.public_url.clone(),
        }
    }

    /// Tells the dispatcher that letters were queued; call after the commit.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Queues the change digests that are due, then sends what is due now; failures are kept
    /// for a later round.
    pub async fn deliver_due(
        &self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> AppResult<Round> {
        digest::queue_due(db, &self.public_url, now).await?;
        // Sub-second jitter keeps two instances' leases apart.
        let jitter = chrono::Duration::microseconds(rand::random_range(0..1_000_000));
        let claimed = outbox::claim_due(db, now, now + LEASE + jitter, BATCH).await?;
        let mut round = Round::default();
        for message in claimed {
            match self.send(&message).await {
                Ok(()) => {
                    outbox::mark_sent(db, message.id, now).await?;
                    round.sent += 1;
                }
                Err(error) => {
                    let backoff = 2_i64
                        .pow(message.attempts.clamp(0, 6) as u32)
                        .min(MAX_BACKOFF_MINUTES);
                    let retry_at = now + chrono::Duration::minutes(backoff);
                    tracing::warn!(
                        message = message.id,
                        attempts = message.attempts + 1,
                        %retry_at,
                        error = format!("{error:#}"),
                        "sending mail failed; it stays in the outbox"
                    );
                    outbox::mark_failed(db, message.id, &format!("{error:#}"), retry_at).await?;
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    /// Sends queued mail until the process ends: when woken, and every half minute for retries.
    pub async fn run(self: Arc<Self>, db: DatabaseConnection, clock: Clock) {
        loop {
            match self.deliver_due(&db, clock.now()).await {
                Ok(round) if round.sent + round.failed > 0 => {
                    tracing::info!(sent = round.sent, failed = round.failed, "mail round");
                    // A full batch may mean more are waiting.
                    if round.sent + round.failed == BATCH as usize {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = %error, "mail dispatcher cannot read the outbox")
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn send(&self, message: &mail_outbox::Model) -> anyhow::Result<()> {
        let email = Message::builder()
            .from(self.from.clone())
            .to(message
                .recipient
                .parse()
                .with_context(|| format!("recipient {:?}", message.recipient))?)
            .subject(message.subject.as_str())
            .date(message.created_at.into())
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .context("building the message")?;
        match &self.transport {
            Transport::Smtp(transport) => {
                transport.send(email).await.context("SMTP")?;
            }
            Transport::Directory(directory) => {
                tokio::fs::create_dir_all(directory)
                    .await
                    .with_context(|| format!("creating {}", directory.display()))?;
                // Named by outbox id: a message sent twice after a crash overwrites itself.
                let path = directory.join(format!("{:010}.eml", message.id));
                let partial = path.with_extension("eml.partial");
                tokio::fs::write(&partial, email.formatted())
                    .await
                    .with_context(|| format!("writing {}", partial.display()))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}
