//! The bus: Redis pub/sub that keeps the in-memory (L1) stores of many processes coherent.
//!
//! When one process writes, removes or expires keys, it publishes a [`frame::BusFrame`]
//! naming them; every other process subscribed to the channel drops its own copies. Pub/sub
//! is fire-and-forget, so the bus also notices what it may have missed: each frame carries
//! its sender's sequence number, and a skipped number ([`sequence`]) or a lost subscription
//! is reported, so that the receiver can treat its whole L1 as suspect.
//!
//! - [`frame`]: the versioned binary form of a message;
//! - [`sequence`]: the per-sender gap detector;
//! - [`redis_bus`]: publishing, and the subscriber task that reconnects by itself.

pub mod frame;
pub mod redis_bus;
pub mod sequence;
