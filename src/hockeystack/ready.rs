//! The agents a client saw active recently. A question to an agent seen active within the
//! last minutes skips the provisioning request, which would spend one of the 60 writes a
//! minute on every question.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use tokio::time::Instant;

use super::Client;
use crate::error::AgentRef;

/// How long an agent seen active is trusted without checking again.
const READY_FOR: Duration = Duration::from_secs(10 * 60);

/// The most agents remembered.
const MOST_REMEMBERED: usize = 4096;

/// Agents seen active, with when; kept in the client's per-API state, so the clones of one
/// client share it.
#[derive(Default)]
pub(crate) struct ReadyAgents {
    seen: Mutex<HashMap<AgentRef, Instant>>,
}

impl ReadyAgents {
    /// The memory of this client (and its clones).
    pub(crate) fn of(client: &Client) -> Option<&ReadyAgents> {
        client.inner.api_state::<ReadyAgents>()
    }

    /// Whether the agent was seen active within [`READY_FOR`].
    pub(crate) fn knows(&self, agent: &AgentRef) -> bool {
        self.seen
            .lock()
            .map(|seen| {
                seen.get(agent)
                    .is_some_and(|when| when.elapsed() < READY_FOR)
            })
            .unwrap_or(false)
    }

    pub(crate) fn remember(&self, agent: AgentRef) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.retain(|_, when| when.elapsed() < READY_FOR);
            // Bounded: past it the oldest is forgotten, which costs one extra check later.
            if seen.len() >= MOST_REMEMBERED
                && let Some(oldest) = seen
                    .iter()
                    .min_by_key(|(_, when)| **when)
                    .map(|(agent, _)| agent.clone())
            {
                seen.remove(&oldest);
            }
            seen.insert(agent, Instant::now());
        }
    }

    pub(crate) fn forget(&self, agent: &AgentRef) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(agent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_is_bounded_and_shared_by_clones() {
        let client = Client::builder()
            .credential("hsr_live_bounded")
            .build()
            .unwrap();
        let clone = client.clone();
        let memory = ReadyAgents::of(&client).unwrap();
        for n in 0..(MOST_REMEMBERED + 100) {
            memory.remember(AgentRef::Deal(format!("{n}")));
        }
        assert_eq!(memory.seen.lock().unwrap().len(), MOST_REMEMBERED);
        let newest = AgentRef::Deal(format!("{}", MOST_REMEMBERED + 99));
        assert!(ReadyAgents::of(&clone).unwrap().knows(&newest));
        memory.forget(&newest);
        assert!(!ReadyAgents::of(&clone).unwrap().knows(&newest));
    }

    #[tokio::test(start_paused = true)]
    async fn an_agent_seen_long_ago_is_checked_again() {
        let client = Client::builder().credential("hsr_live_x").build().unwrap();
        let memory = ReadyAgents::of(&client).unwrap();
        let agent = AgentRef::Company("acme".into());
        memory.remember(agent.clone());
        assert!(memory.knows(&agent));
        tokio::time::advance(READY_FOR).await;
        assert!(!memory.knows(&agent));
    }
}
