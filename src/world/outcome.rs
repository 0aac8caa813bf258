//! How a call ended. Every failure has a named cause that propagates to the
//! caller and is counted in the metrics.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A replica's queue was full.
    Rejected,
}

impl Cause {
    /// Every cause, in reporting order.
    pub const ALL: [Cause; 1] = [Cause::Rejected];

    /// The cause's name in results.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Rejected => "rejected",
        }
    }

    /// Position in [`Cause::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The result of a call as its caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step ran and every call succeeded.
    Ok,
    /// The call was rejected, or one of its own calls failed with this
    /// cause (the first one to fail).
    Failed(Cause),
}
