//! The thread all Redis I/O runs on.
//!
//! One tokio runtime on one dedicated thread: a request goes from the JS thread to it, the
//! `redis` crate's connection task lives on it too, and the reply comes back to JS through
//! a deferred promise. Two thread crossings per operation, the fewest there can be, where a
//! multi-threaded runtime adds hops between its workers (measured: a sequential L2 read
//! took ~112 µs on napi-rs's shared runtime).

use std::future::Future;
use std::sync::OnceLock;

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Error, Result, Status};
use tokio::runtime::{Builder, Handle};

use crate::guard::{CatchUnwind, Guarded};

fn io_runtime() -> Option<&'static Handle> {
    static HANDLE: OnceLock<Option<Handle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let runtime = Builder::new_current_thread().enable_all().build().ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("rustocache-io".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Runs `work` on the I/O thread and returns a promise of its outcome. A panic in `work`,
/// or while its value is converted for JavaScript, rejects the promise (`[panic] ...`).
pub fn settle<T, F>(env: &Env, work: F) -> Result<Object<'_>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let runtime = io_runtime()
        .ok_or_else(|| Error::new(Status::GenericFailure, "could not start the I/O thread"))?;
    let (deferred, promise) = env.create_deferred()?;
    runtime.spawn(async move {
        match CatchUnwind::new(work).await {
            Ok(value) => deferred.resolve(move |_| Ok(Guarded(value))),
            Err(err) => deferred.reject(err),
        }
    });
    Ok(promise)
}
