//! The budget kept in this process: for each credential and pool, the moments at which the
//! requests sent in the current window stop counting. At most `limit` of them are alive at
//! any time, so no window of that length ever holds more than `limit` requests, which is how
//! the services count (a rolling window, not a bucket that refills in one go).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use tokio::time::Instant;

use super::{Pool, PoolLimit};

/// One pool's window for one credential.
#[derive(Debug, Default)]
struct Window {
    /// When each counted request stops counting, earliest first.
    expiries: VecDeque<Instant>,
    /// No request before this (a 429's `Retry-After`).
    paused_until: Option<Instant>,
}

impl Window {
    fn forget_expired(&mut self, now: Instant) {
        while self.expiries.front().is_some_and(|&e| e <= now) {
            self.expiries.pop_front();
        }
    }

    fn count_until(&mut self, expiry: Instant) {
        let at = self.expiries.partition_point(|&e| e <= expiry);
        self.expiries.insert(at, expiry);
    }
}

/// Every window this budget keeps, by (credential key, pool).
#[derive(Debug, Default)]
pub(crate) struct LocalStore {
    windows: Mutex<HashMap<(u64, Pool), Window>>,
}

impl LocalStore {
    /// Takes a slot now, or says how long until one may free.
    pub(crate) fn try_take(&self, key: u64, pool: Pool, limit: PoolLimit) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry((key, pool)).or_default();
        if let Some(until) = window.paused_until {
            if until > now {
                return Err(until - now);
            }
            window.paused_until = None;
        }
        window.forget_expired(now);
        if window.expiries.len() < limit.requests as usize {
            window.count_until(now + limit.counted_for());
            return Ok(());
        }
        // Full: the earliest expiry frees the next slot.
        let first = window.expiries.front().copied().unwrap_or(now);
        Err(first.saturating_duration_since(now))
    }

    /// Brings the count up to what the server says it has used (`used`), the difference
    /// counting until `reset`; a server that counts fewer is not followed, so the budget
    /// only ever gets stricter.
    pub(crate) fn correct(&self, key: u64, pool: Pool, used: u32, reset: Instant) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry((key, pool)).or_default();
        window.forget_expired(now);
        let missing = (used as usize).saturating_sub(window.expiries.len());
        for _ in 0..missing {
            window.count_until(reset);
        }
    }

    /// Lets no request of the pool go before `until`.
    pub(crate) fn pause(&self, key: u64, pool: Pool, until: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry((key, pool)).or_default();
        window.paused_until = Some(window.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn limit(requests: u32) -> PoolLimit {
        PoolLimit {
            requests,
            window: MINUTE,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_ever_holds_more_than_the_limit() {
        let store = LocalStore::default();
        let mut sent = Vec::new();
        let start = Instant::now();
        // Requests as fast as the budget allows, for three windows.
        while Instant::now() - start < 3 * MINUTE {
            match store.try_take(1, Pool::Write, limit(60)) {
                Ok(()) => sent.push(Instant::now()),
                Err(wait) => tokio::time::advance(wait.max(Duration::from_millis(1))).await,
            }
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        for (i, &at) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < at + MINUTE).count();
            assert!(
                in_window <= 60,
                "{in_window} requests in the window from request {i}"
            );
        }
        // And the budget is used: 60 at once, then 60 each further window (and margin).
        assert!(sent.len() >= 180, "{}", sent.len());
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_pool_says_when_its_first_slot_frees() {
        let store = LocalStore::default();
        for _ in 0..3 {
            store.try_take(1, Pool::Read, limit(3)).unwrap();
            tokio::time::advance(Duration::from_secs(10)).await;
        }
        // Sent at 0, 10 and 20 s; now 30 s: the first frees at 61 s (a minute and the
        // margin for the way to the server).
        assert_eq!(
            store.try_take(1, Pool::Read, limit(3)),
            Err(Duration::from_secs(31))
        );
        // Other pools and other credentials have their own windows.
        assert!(store.try_take(1, Pool::Write, limit(3)).is_ok());
        assert!(store.try_take(2, Pool::Read, limit(3)).is_ok());
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(store.try_take(1, Pool::Read, limit(3)).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_servers_count_and_pause_make_the_budget_stricter_only() {
        let store = LocalStore::default();
        store.try_take(1, Pool::Write, limit(5)).unwrap();
        // Another process used three more: the server says four used, refilling in 20 s.
        let reset = Instant::now() + Duration::from_secs(20);
        store.correct(1, Pool::Write, 4, reset);
        assert!(store.try_take(1, Pool::Write, limit(5)).is_ok());
        assert_eq!(
            store.try_take(1, Pool::Write, limit(5)),
            Err(Duration::from_secs(20))
        );
        // A server that counts fewer changes nothing.
        store.correct(1, Pool::Write, 0, reset);
        assert!(store.try_take(1, Pool::Write, limit(5)).is_err());

        // A 429's Retry-After holds the whole pool, even with slots free.
        let other = LocalStore::default();
        other.pause(1, Pool::Read, Instant::now() + Duration::from_secs(7));
        assert_eq!(
            other.try_take(1, Pool::Read, limit(600)),
            Err(Duration::from_secs(7))
        );
        tokio::time::advance(Duration::from_secs(7)).await;
        assert!(other.try_take(1, Pool::Read, limit(600)).is_ok());
    }
}
