//! Progress of one tool call: notifications for a client that asked for them with a progress
//! token, or the status message of the task a call runs as. The waits' checks and a long
//! list's pages are reported. Each message is scrubbed of credentials like a result, and
//! `progress` only grows.

use std::sync::Arc;

use futures_util::StreamExt;
use rmcp::{
    RoleServer,
    model::{ProgressNotificationParam, ProgressToken},
    service::Peer,
    task_manager::TaskContext,
};

use crate::poll::ProgressStream;

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
    /// Notifications sent. Held while one is sent, so that two senders (a wait's updates and
    /// a reply's text) cannot overtake each other with a smaller `progress`.
    sent: Arc<tokio::sync::Mutex<u32>>,
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
                let mut sent = self.sent.lock().await;
                *sent += 1;
                let notification = ProgressNotificationParam::new(token.clone(), f64::from(*sent))
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

/// The reply's text as progress, gathered into messages of a readable size rather than one a
/// piece.
pub(crate) struct TextProgress<'a> {
    reporter: &'a Reporter,
    gathered: String,
}

/// The characters of text gathered before they go out as one message.
const TEXT_PER_MESSAGE: usize = 200;

impl<'a> TextProgress<'a> {
    pub(crate) fn new(reporter: &'a Reporter) -> Self {
        Self {
            reporter,
            gathered: String::new(),
        }
    }

    pub(crate) async fn piece(&mut self, piece: &str) {
        if matches!(self.reporter.to, Watcher::Nobody) {
            return;
        }
        self.gathered.push_str(piece);
        if self.gathered.chars().count() >= TEXT_PER_MESSAGE {
            self.flush().await;
        }
    }

    /// The text so far was not the reply's start; the whole reply follows.
    pub(crate) async fn restart(&mut self) {
        self.flush().await;
        self.reporter
            .say("reply: the stream was cut; the reply as stored follows".to_owned())
            .await;
    }

    pub(crate) async fn flush(&mut self) {
        if !self.gathered.is_empty() {
            let text = std::mem::take(&mut self.gathered);
            self.reporter.say(format!("reply: {text}")).await;
        }
    }
}
