//! What sagas and repeated executions did: per saga endpoint, how its
//! sagas ended and how long they took; per tracked endpoint, how many
//! times each logical call executed (duplicate side effects) and how many
//! repeats an idempotency key absorbed.

use super::latency::LatencySummary;
use serde::{Deserialize, Serialize};

/// One saga endpoint over the measured period. Sagas count when they
/// started after the warm-up, so `started = completed + compensated +
/// inconsistent + interrupted + in_flight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SagaSummary {
    /// Sagas started (invocations of the endpoint admitted on a replica,
    /// or called in-process in a monolith).
    pub started: u64,
    /// Every step succeeded (an injected error on the orchestrator's own
    /// answer after its last step still counts here: the steps' effects
    /// stand).
    pub completed: u64,
    /// A step failed and every earlier step with a compensation was
    /// compensated (possibly after retries); with nothing to compensate
    /// when it failed at its first step, or was shed from its replica's
    /// queue before it.
    pub compensated: u64,
    /// A step failed and some compensation failed after all its retries:
    /// the saga left the services inconsistent.
    pub inconsistent: u64,
    /// The orchestrator's replica crashed (or was cut off at the end of a
    /// drain) mid-saga: steps done were neither finished nor compensated.
    /// A saga still queued on that replica counts here too.
    pub interrupted: u64,
    /// Still running at the end.
    pub in_flight: u64,
    /// Compensating calls made (one per compensated step, retries not
    /// counted).
    pub compensations: u64,
    /// Of those, calls that failed after all their retries.
    pub compensation_failures: u64,
    /// Duration of every saga that ended (completed, compensated or
    /// inconsistent), from admission to its answer; `null` when none.
    pub duration_ms: Option<LatencySummary>,
    /// Duration of the completed sagas.
    pub completed_ms: Option<LatencySummary>,
    /// Duration of the sagas that compensated (consistent or not).
    pub compensated_ms: Option<LatencySummary>,
}

/// How often one endpoint's side effects happened per logical call. A
/// logical call is one call with all its attempts (retries), or one event
/// with all its deliveries; executions are invocations that finished
/// successfully (their side effect committed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    /// Whether callers send an idempotency key.
    pub idempotent: bool,
    /// Logical calls (calls or events) started after the warm-up.
    pub logical_calls: u64,
    /// Successful executions of those.
    pub executions: u64,
    /// Executions beyond the first for the same logical call: duplicate
    /// side effects (always 0 when idempotent).
    pub duplicates: u64,
    /// Repeated executions whose side effect the idempotency key
    /// suppressed (0 when not idempotent).
    pub deduplicated: u64,
}
