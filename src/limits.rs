//! The bounds of one call, whatever a server sends or a caller sets: how long it may take,
//! how much of an answer is read, and the longest duration any setting takes.

use std::time::Duration;

/// How long one call may take as a whole: connecting, sending, every retry and `Retry-After`
/// wait, and reading the answer. Five minutes: room for the default retries of a slow
/// service, and a bound on a server that answers a byte at a time.
///
/// A wait (agent provisioning, a message job) has its own deadline
/// ([`PollPolicy`](crate::PollPolicy)); each check inside it is one call. A streamed reply's
/// events are bounded by the read timeout between them, not by this.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The largest successful answer read, and the largest single event of a streamed reply:
/// 16 MiB, far above any page either API documents (their largest pages hold a few hundred
/// records).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The longest request URL sent: 16 KiB, what common front ends accept. Both APIs' cursors
/// and filters are a few dozen characters; a longer URL (a forged or corrupted cursor, a
/// pasted document) is refused before it is sent, as an invalid request, instead of meeting a
/// 414 or a reset connection that would look like a network failure worth retrying.
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// The longest duration a setting takes: longer ones (`Duration::MAX` meant as "forever")
/// are shortened to this, which no program outlives: ten years.
pub const LONGEST_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// A caller's duration, shortened to [`LONGEST_DURATION`].
pub(crate) fn saturated(duration: Duration) -> Duration {
    duration.min(LONGEST_DURATION)
}

/// The bounds of one call, from the client's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The deadline of one whole call; `None` for none.
    pub(crate) call_timeout: Option<Duration>,
    /// The largest successful answer (and streamed event) read.
    pub(crate) max_response_bytes: u64,
}
