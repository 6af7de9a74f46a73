//! Progress of one tool call: notifications for a client that asked for them with a progress
//! token, or the status message of the task a call runs as. The waits' checks and a long
//! list's pages are reported. Each message is scrubbed of credentials like a result, and
//! `progress` only grows.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use futures_util::StreamExt;
use rmcp::{
    RoleServer,
    model::{ProgressNotificationParam, ProgressToken},
    service::Peer,
    task_manager::TaskContext,
};

use crate::ProgressStream;

/// How a message is cleaned before it goes out: the served clients' redaction.
pub(crate) type Scrub = Arc<dyn Fn(String) -> String + Send + Sync>;

/// Where one call's progress goes.
#[derive(Clone)]
pub(crate) enum Watcher {
    /// Nobody: the client gave no progress token and the call is no task.
    Nobody,
    /// Progress notifications with the client's token.
    Client(Peer<RoleServer>, ProgressToken),
    /// The status message of the task the call runs as, for `tasks/get`.
    Task(TaskContext),
}

/// Reports one call's progress to its [`Watcher`].
#[derive(Clone)]
pub(crate) struct Reporter {
    to: Watcher,
    scrub: Scrub,
    sent: Arc<AtomicU32>,
}

impl Reporter {
    pub(crate) fn new(to: Watcher, scrub: Scrub) -> Self {
        Self {
            to,
            scrub,
            sent: Arc::default(),
        }
    }

    /// Sends one notification, or sets the task's status. A client that went away is not an
    /// error of the call.
    pub(crate) async fn say(&self, message: String) {
        match &self.to {
            Watcher::Nobody => {}
            Watcher::Client(peer, token) => {
                let count = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
                let notification = ProgressNotificationParam::new(token.clone(), f64::from(count))
                    .with_message((self.scrub)(message));
                let _ = peer.notify_progress(notification).await;
            }
            Watcher::Task(task) => task.set_status_message((self.scrub)(message)),
        }
    }

    /// Forwards a wait's updates until the wait ends; await the handle before answering, since
    /// a client stops listening for a call's progress once it has the result.
    pub(crate) fn forward(
        &self,
        mut updates: ProgressStream,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if matches!(self.to, Watcher::Nobody) {
            return None;
        }
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
