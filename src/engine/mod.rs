//! The discrete-event core: simulated time, the event queue and the seeded
//! random streams. Nothing here knows about services or requests; the
//! microservice world lives in [`crate::world`].

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::Stream;
pub use time::SimTime;
