//! `publishedClock`: the engine's [published clock](rustocache_core::clock::published) as
//! an `ArrayBuffer` of two `f64`s that JavaScript reads without a call.

use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, Result, Status};
use napi_derive::napi;

use rustocache_core::clock::published::PublishedClock;

/// A 16-byte `ArrayBuffer` over a cell of the published clock: `[0]` the time in ms since
/// the epoch (`Infinity`: read the real clock), `[1]` written non-zero by the reader on use.
/// The cell lives as long as the buffer. `null` where the runtime allows no external
/// buffers (Electron): a copy would never change, so the caller reads the real clock.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
pub fn published_clock(env: Env) -> Result<Option<Unknown<'static>>> {
    let clock = Box::new(PublishedClock::new());
    let data = clock.as_ptr();
    let hint = Box::into_raw(clock);
    let mut buffer = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            data.cast(),
            16,
            Some(free_clock),
            hint.cast(),
            &mut buffer,
        )
    };
    if status != sys::Status::napi_ok {
        // Not created: the finalizer will not run, so the cell is freed here.
        drop(unsafe { Box::from_raw(hint) });
        if status == sys::Status::napi_no_external_buffers_allowed {
            return Ok(None);
        }
        return Err(napi::Error::new(
            Status::from(status),
            "could not create the clock's buffer",
        ));
    }
    Ok(Some(unsafe {
        Unknown::from_raw_unchecked(env.raw(), buffer)
    }))
}

/// The buffer's finalizer: the clock's thread stops writing into the cell, which is freed.
unsafe extern "C" fn free_clock(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(unsafe { Box::from_raw(hint.cast::<PublishedClock>()) });
}
