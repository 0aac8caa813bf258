//! Resilience policies a caller applies to a call: timeout, retries,
//! circuit breaker and bulkhead (whether a call is optional belongs to the
//! call site, [`super::CallSite`]). A policy
//! belongs to a call site; callers that share a named policy towards the
//! same service share one [`Client`] (breaker, bulkhead and retry budget),
//! as the instances of a service share one client library configuration.

use super::cause::CauseSet;
use super::ServiceId;
use crate::engine::SimTime;

/// Index of a client in [`super::Model::clients`].
pub type ClientId = u32;

/// The client of an in-process call ([`super::CallSite::local`]), which
/// goes through no client: an index that is never valid, so a mistaken
/// use fails loudly instead of charging another client's meters.
pub const NO_CLIENT: ClientId = u32::MAX;

/// What a caller does around one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Give up on an attempt after this long (network hops included); the
    /// callee keeps working on it. `None`: wait forever.
    pub timeout: Option<SimTime>,
    /// Try again after failures.
    pub retry: Option<Retry>,
    /// Stop calling a dependency that keeps failing.
    pub breaker: Option<BreakerConfig>,
    /// At most this many attempts in flight from the caller service to the
    /// dependency; more fail fast with `bulkhead_full`.
    pub bulkhead: Option<u32>,
}

/// Retry settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first one included (at least 2).
    pub attempts: u32,
    /// How the wait before each retry grows.
    pub backoff: Backoff,
    /// Randomisation of each wait.
    pub jitter: Jitter,
    /// Causes that are retried; others fail the call at once.
    pub on: CauseSet,
    /// Retries allowed per first attempt, as a token bucket (see
    /// [`BUDGET_BURST`]); `None`: unlimited.
    pub budget: Option<f64>,
}

/// Retries a budget can save up in quiet times, so that a long healthy
/// period does not fund a storm.
pub const BUDGET_BURST: f64 = 10.0;

/// The wait before retry number `k` (1 = the first retry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Always `base`.
    Constant {
        /// The wait.
        base: SimTime,
    },
    /// `base * 2^(k-1)`, at most `max`.
    Exponential {
        /// The first wait.
        base: SimTime,
        /// The longest wait.
        max: SimTime,
    },
}

impl Backoff {
    /// The wait before retry `k` (k >= 1), before jitter.
    pub fn delay(self, k: u32) -> SimTime {
        match self {
            Backoff::Constant { base } => base,
            Backoff::Exponential { base, max } => {
                let shift = (k.saturating_sub(1)).min(63);
                base.saturating_mul(1u64 << shift).min(max)
            }
        }
    }
}

/// Randomisation of a backoff wait `d` (AWS Architecture Blog's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly `d`.
    None,
    /// Uniform in `[0, d]`.
    Full,
    /// `d/2` plus uniform in `[0, d/2]`.
    Equal,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Open when the failure fraction over the window reaches this.
    pub failure_rate: f64,
    /// Length of the sliding window of outcomes.
    pub window: SimTime,
    /// Outcomes needed in the window before the breaker may open.
    pub min_calls: u32,
    /// How long it stays open before letting trial calls through.
    pub open_for: SimTime,
    /// Trial calls in the half-open state; all must succeed to close it.
    pub half_open_calls: u32,
}

/// One caller service's client for one dependency under one policy: the
/// unit that owns a breaker, a bulkhead and a retry budget, and whose calls
/// are reported as one row of the dependency table.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// `caller->callee`, with ` (policy NAME)` when a service talks to the
    /// same dependency under several policies.
    pub name: String,
    /// The calling service.
    pub caller: ServiceId,
    /// The service called.
    pub callee: ServiceId,
    /// Name of the named policy, if the calls use one.
    pub policy_name: Option<String>,
    /// The policy applied.
    pub policy: Policy,
}
