//! The sandbox's one clock. Every time the sandbox reads (provisioning runs, message jobs,
//! retention, rate-limit windows, credit windows, what HyperRep stamps and its analytics
//! windows) comes from here: Tokio's time (so a paused test runs in virtual time) since the
//! sandbox started, on top of the date it started, plus however far a test has moved it.
//! Timestamps and durations therefore always agree, and a state saved by one run reads the
//! same in the next.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// The furthest the clock goes ahead of real time: a century covers any wait a test skips,
/// and keeps every date the sandbox writes a plausible one.
pub(crate) const MAX_AHEAD: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    started_utc: DateTime<Utc>,
    ahead_nanos: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            started_utc: Utc::now(),
            ahead_nanos: AtomicU64::new(0),
        }
    }
}

impl Clock {
    fn ahead(&self) -> Duration {
        Duration::from_nanos(self.ahead_nanos.load(Ordering::Relaxed))
    }

    /// Now, for measuring how long something has run (the rate-limit windows).
    pub(crate) fn instant(&self) -> Instant {
        Instant::now() + self.ahead()
    }

    /// Now, for timestamps and for everything the state records.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let since = self.instant().saturating_duration_since(self.started);
        chrono::Duration::from_std(since)
            .ok()
            .and_then(|since| self.started_utc.checked_add_signed(since))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// How long ago `then` was, by this clock; nothing for a time still to come.
    pub(crate) fn since(&self, then: DateTime<Utc>) -> Duration {
        (self.now() - then).to_std().unwrap_or_default()
    }

    /// Moves the clock forward; it never goes back, and stops at [`MAX_AHEAD`].
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let most = MAX_AHEAD.as_nanos() as u64;
        // A compare-and-swap loop rather than `fetch_update`, which newer toolchains deprecate
        // for a `try_update` that the crate's minimum Rust version does not have.
        let mut ahead = self.ahead_nanos.load(Ordering::Relaxed);
        loop {
            let next = ahead.saturating_add(by).min(most);
            match self.ahead_nanos.compare_exchange_weak(
                ahead,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => ahead = now,
            }
        }
    }

    /// Moves the clock forward by `by`, or refuses when that would take it past
    /// [`MAX_AHEAD`] (nothing moves then), saying how far it may still go.
    pub(crate) fn try_advance(&self, by: Duration) -> Result<(), Duration> {
        let room = MAX_AHEAD.saturating_sub(self.ahead());
        if by > room {
            return Err(room);
        }
        self.advance(by);
        Ok(())
    }

    /// Moves the clock forward to `when` if it is behind it: a state saved by a run whose
    /// clock had been moved ahead is not read by a clock that has fallen back.
    pub(crate) fn catch_up(&self, when: DateTime<Utc>) {
        self.advance((when - self.now()).to_std().unwrap_or_default());
    }

    /// How far ahead of real time it is.
    pub(crate) fn ahead_of_real_time(&self) -> Duration {
        self.ahead()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn dates_and_durations_move_together() {
        let clock = Clock::default();
        let start = clock.now();
        tokio::time::advance(Duration::from_secs(10)).await;
        clock.advance(Duration::from_secs(50));
        assert_eq!(clock.since(start), Duration::from_secs(60));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(60));
        // Catching up to an earlier time does nothing; to a later one moves the clock.
        clock.catch_up(start);
        assert_eq!(clock.since(start), Duration::from_secs(60));
        clock.catch_up(start + chrono::Duration::seconds(100));
        assert_eq!(clock.since(start), Duration::from_secs(100));
        assert_eq!(
            clock.since(clock.now() + chrono::Duration::seconds(5)),
            Duration::ZERO
        );
    }
}
