//! Progress notifications of one tool call, for a client that asked for them with a progress
//! token: the waits' checks and a long list's pages. Each message is scrubbed of credentials
//! like a result, and `progress` only grows.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use futures_util::StreamExt;
use rmcp::{
    RoleServer,
    model::{ProgressNotificationParam, ProgressToken},
    service::Peer,
};

use crate::ProgressStream;

/// How a message is cleaned before it goes out: the served clients' redaction.
pub(crate) type Scrub = Arc<dyn Fn(String) -> String + Send + Sync>;

/// Where one call's progress goes; does nothing when the client gave no token.
#[derive(Clone)]
pub(crate) struct Reporter {
    to: Option<(Peer<RoleServer>, ProgressToken)>,
    scrub: Scrub,
    sent: Arc<AtomicU32>,
}

impl Reporter {
    pub(crate) fn new(to: Option<(Peer<RoleServer>, ProgressToken)>, scrub: Scrub) -> Self {
        Self {
            to,
            scrub,
            sent: Arc::default(),
        }
    }

    /// Sends one notification. A client that went away is not an error of the call.
    pub(crate) async fn say(&self, message: String) {
        let Some((peer, token)) = &self.to else {
            return;
        };
        let count = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
        let notification = ProgressNotificationParam::new(token.clone(), f64::from(count))
            .with_message((self.scrub)(message));
        let _ = peer.notify_progress(notification).await;
    }

    /// Forwards a wait's updates until the wait ends; await the handle before answering, since
    /// a client stops listening for a call's progress once it has the result.
    pub(crate) fn forward(
        &self,
        mut updates: ProgressStream,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.to.as_ref()?;
        let reporter = self.clone();
        Some(tokio::spawn(async move {
            while let Some(update) = updates.next().await {
                reporter
                    .say(format!(
                        "{}: {} after {} s, check {}",
                        update.phase,
                        update.state,
                        update.elapsed.as_secs(),
                        update.attempts
                    ))
                    .await;
            }
        }))
    }
}
