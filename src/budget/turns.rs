//! Waiting in line. When a pool is full, the tasks of one process wait for it in the order
//! they came: only the first of them asks the store (and, through Redis, the network), the
//! others queue behind it on a fair lock. Without the line every waiter wakes when a slot
//! frees and the fastest takes it, so one unlucky task can wait many windows while others
//! go through again and again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::{sync::OwnedMutexGuard, time::Instant};

use super::Pool;

/// One line per credential and pool.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    lines: Mutex<HashMap<(u64, Pool), Arc<Line>>>,
}

#[derive(Debug, Default)]
pub(crate) struct Line {
    /// Held by the task whose turn it is; tokio's lock serves waiters first come, first served.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// When the first in line expects a slot, for those behind it that give up.
    next_slot: Mutex<Option<Instant>>,
}

impl Turns {
    pub(crate) fn line(&self, key: u64, pool: Pool) -> Arc<Line> {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(lines.entry((key, pool)).or_default())
    }
}

impl Line {
    /// Waits for this task's turn, until `deadline` at most.
    pub(crate) async fn wait_turn(&self, deadline: Option<Instant>) -> Option<OwnedMutexGuard<()>> {
        let turn = Arc::clone(&self.turn).lock_owned();
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, turn).await.ok(),
            None => Some(turn.await),
        }
    }

    /// When the first in line expects a slot, if it is waiting for one.
    pub(crate) fn next_slot(&self) -> Option<Instant> {
        *self.next_slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_next_slot(&self, at: Option<Instant>) {
        *self.next_slot.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

/// Forgets the first in line's expected slot when its turn ends.
pub(crate) struct ClearsNextSlot<'a>(pub(crate) &'a Line);

impl Drop for ClearsNextSlot<'_> {
    fn drop(&mut self) {
        self.0.set_next_slot(None);
    }
}
