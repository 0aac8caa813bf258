//! How a call ended, as its caller sees it.

pub use crate::model::cause::Cause;

/// The result of a call as its caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step ran and every call succeeded.
    Ok,
    /// It succeeded, but an `optional` call on the way failed and was
    /// skipped (a fallback answer): a success of lesser quality.
    Degraded,
    /// The call was rejected, or one of its own calls failed with this
    /// cause (the first one to fail).
    Failed(Cause),
}

impl Outcome {
    /// True for `Ok` and `Degraded`.
    #[inline]
    pub fn succeeded(self) -> bool {
        !matches!(self, Outcome::Failed(_))
    }
}
