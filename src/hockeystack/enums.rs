//! HockeyStack's status-like enums, open to values added after this crate was released.

use crate::open_enum::open_enum;

open_enum! {
    /// Where an agent is in its life.
    pub enum AgentStatus {
        /// Provisioned and ready for messages.
        Active = "active",
        /// The provisioning worker is still running (usually 3–8 minutes).
        Initializing = "initializing",
        /// The last provisioning run failed; sending the PUT again retries it.
        ProvisioningFailed = "provisioning_failed",
    }
}

open_enum! {
    /// The state of a message job.
    pub enum MessageJobStatus {
        /// The agent is still working.
        Pending = "pending",
        /// The reply is in the job's `result`.
        Completed = "completed",
        /// The job's `error` says why.
        Failed = "failed",
    }
}

open_enum! {
    /// Who wrote a message.
    pub enum MessageRole {
        /// The person (or program) talking to the agent.
        User = "user",
        /// The agent.
        Assistant = "assistant",
    }
}

open_enum! {
    /// The state of a task.
    pub enum TaskStatus {
        /// Waiting for someone to act.
        Pending = "pending",
        /// Done (final).
        Completed = "completed",
        /// Rejected with a reason (final).
        Dismissed = "dismissed",
        /// Withdrawn (final); still listed.
        Cancelled = "cancelled",
    }
}

open_enum! {
    /// How urgent a task is.
    pub enum TaskPriority {
        /// Act now.
        Urgent = "urgent",
        /// Soon.
        High = "high",
        /// The default.
        Medium = "medium",
        /// When there is time.
        Low = "low",
    }
}

open_enum! {
    /// How credit use is grouped.
    pub enum CreditGroupBy {
        /// One group per feature (the default).
        Feature = "feature",
        /// One group per day.
        Day = "day",
        /// One group per feature and day.
        FeatureAndDay = "feature,day",
    }
}

open_enum! {
    /// The rate-limit pool a request was charged to.
    pub enum RateLimitPool {
        /// GET and HEAD: 600 requests a minute per token.
        Read = "read",
        /// POST, PUT, PATCH and DELETE: 60 requests a minute per token.
        Write = "write",
    }
}

impl Default for TaskPriority {
    /// `medium`, the server's default.
    fn default() -> Self {
        TaskPriority::Medium
    }
}

impl Default for CreditGroupBy {
    /// `feature`, the server's default.
    fn default() -> Self {
        CreditGroupBy::Feature
    }
}

/// The states a wait reports about itself rather than from the server.
const WAIT_STATES: &[&str] = &["rate_limited", "not_found", "timed_out", "error", "expired"];

impl crate::poll::Progress {
    /// The agent's status, typed, when the wait is a provisioning one and the server reported
    /// a status (not for the wait's own `rate_limited`, `not_found`, `timed_out` or `error`).
    pub fn agent_status(&self) -> Option<AgentStatus> {
        match self.phase {
            crate::poll::Phase::Provisioning
            | crate::poll::Phase::RestartingProvisioning { .. }
                if !WAIT_STATES.contains(&self.state.as_str()) =>
            {
                self.state.parse().ok()
            }
            _ => None,
        }
    }

    /// The job's status, typed, when the wait is for a message job and the server reported a
    /// status.
    pub fn job_status(&self) -> Option<MessageJobStatus> {
        match self.phase {
            crate::poll::Phase::WaitingForJob if !WAIT_STATES.contains(&self.state.as_str()) => {
                self.state.parse().ok()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_enum::{assert_known_values_match, known_texts};

    #[test]
    fn every_open_enum_knows_exactly_the_values_the_spec_lists() {
        assert_known_values_match(
            &[
                ("AgentStatus", known_texts(AgentStatus::KNOWN)),
                ("MessageJobStatus", known_texts(MessageJobStatus::KNOWN)),
                ("MessageRole", known_texts(MessageRole::KNOWN)),
                ("TaskStatus", known_texts(TaskStatus::KNOWN)),
                ("TaskPriority", known_texts(TaskPriority::KNOWN)),
                ("CreditGroupBy", known_texts(CreditGroupBy::KNOWN)),
                ("RateLimitPool", known_texts(RateLimitPool::KNOWN)),
            ],
            super::super::operations::KNOWN_VALUES,
        );
    }
}
