//! Why a call failed. Every failure has a named cause that propagates to
//! the caller and is counted in the metrics; retry policies choose which
//! causes they retry.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// A replica's queue was full.
    Rejected,
    /// The caller gave up waiting (its policy's `timeout`).
    Timeout,
    /// The callee could not be reached or died with the call: a crashed
    /// or starting replica, or a network partition.
    ConnectionFailed,
    /// An `errors` fault failed the call after its work.
    InjectedError,
    /// The caller's circuit breaker was open: the call was never sent.
    CircuitOpen,
    /// The caller's bulkhead for this dependency was full.
    BulkheadFull,
    /// The callee dropped the request because it had waited in the queue
    /// longer than the service's `shed_after`.
    Shed,
    /// Service discovery gave the caller no instance to call: the
    /// registry could not be reached and no usable cached list was left,
    /// or the list was empty (every instance evicted or not yet
    /// registered).
    NoInstance,
}

impl Cause {
    /// Every cause, in reporting order.
    pub const ALL: [Cause; 8] = [
        Cause::Rejected,
        Cause::Timeout,
        Cause::ConnectionFailed,
        Cause::InjectedError,
        Cause::CircuitOpen,
        Cause::BulkheadFull,
        Cause::Shed,
        Cause::NoInstance,
    ];

    /// The causes a scenario without service discovery can meet: results
    /// of such scenarios list only these, so they read as before
    /// discovery existed.
    pub const WITHOUT_DISCOVERY: [Cause; 7] = [
        Cause::Rejected,
        Cause::Timeout,
        Cause::ConnectionFailed,
        Cause::InjectedError,
        Cause::CircuitOpen,
        Cause::BulkheadFull,
        Cause::Shed,
    ];

    /// The cause's name in results and in scenario files (`retries.on`).
    pub fn name(self) -> &'static str {
        match self {
            Cause::Rejected => "rejected",
            Cause::Timeout => "timeout",
            Cause::ConnectionFailed => "connection_failed",
            Cause::InjectedError => "injected_error",
            Cause::CircuitOpen => "circuit_open",
            Cause::BulkheadFull => "bulkhead_full",
            Cause::Shed => "shed",
            Cause::NoInstance => "no_instance",
        }
    }

    /// The cause called `name`, if any.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Position in [`Cause::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// This cause as a bit of a [`CauseSet`].
    pub fn bit(self) -> CauseSet {
        CauseSet(1 << self as u8)
    }
}

/// A set of causes, as a bit mask (`Copy`, no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CauseSet(pub u8);

impl CauseSet {
    /// Whether `c` is in the set.
    #[inline]
    pub fn contains(self, c: Cause) -> bool {
        self.0 & c.bit().0 != 0
    }

    /// The set with `c` added.
    pub fn with(self, c: Cause) -> CauseSet {
        CauseSet(self.0 | c.bit().0)
    }

    /// The causes worth retrying by default: failures of the callee or the
    /// network, not the caller's own fast-fails (an open breaker or a full
    /// bulkhead would only fail again at once).
    pub fn transient() -> CauseSet {
        [
            Cause::Rejected,
            Cause::Timeout,
            Cause::ConnectionFailed,
            Cause::InjectedError,
            Cause::Shed,
            Cause::NoInstance,
        ]
        .into_iter()
        .fold(CauseSet::default(), CauseSet::with)
    }

    /// Names of the causes in the set, in reporting order.
    pub fn names(self) -> Vec<&'static str> {
        Cause::ALL
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(Cause::name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_follow_all() {
        for (i, c) in Cause::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(Cause::from_name(c.name()), Some(c));
        }
        assert_eq!(Cause::from_name("nope"), None);
    }

    #[test]
    fn transient_excludes_local_fast_fails() {
        let t = CauseSet::transient();
        assert!(t.contains(Cause::Timeout));
        assert!(!t.contains(Cause::CircuitOpen));
        assert!(!t.contains(Cause::BulkheadFull));
    }
}
