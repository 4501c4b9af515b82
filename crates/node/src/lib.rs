//! The napi-rs binding of RustoCache.
//!
//! It translates between JavaScript values and `rustocache-core`, nothing more: every
//! decision about caching lives in the engine crate or in the TypeScript facade.

#![deny(clippy::all)]

mod bus;
mod clock;
mod convert;
mod file;
mod guard;
mod handle;
mod hot_path;
mod io_thread;
mod l1;
mod l2;
