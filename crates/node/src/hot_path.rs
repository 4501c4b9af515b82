//! `l1Get`, the hot path of every cache hit, written against raw N-API.
//!
//! napi-rs's generated wrapper costs about 150 ns per call on these machines (argument
//! bookkeeping, type checks, error plumbing); this function does only what a lookup
//! needs: read two arguments, look up, create one string. Nothing in it can panic.

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{sys, JsValue, Result};
use napi_derive::napi;
use rustocache_core::clock::now_ms;
use rustocache_core::store::Lookup;

use rustocache_core::namespace::Namespace;

use crate::convert::{read_key_then, HitOut, Key};
use crate::handle::{namespace_of, L1Ref};

/// The hot path of every cache hit: the value if the entry is fresh, `null` if it is only
/// stale, `undefined` if there is none.
///
/// This napi-rs version gives the export its name and type; [`register_hot_path`], which
/// runs after the generated registrations, replaces it with the raw [`l1_get`] below.
#[napi(
    js_name = "l1Get",
    ts_args_type = "store: L1Handle, key: string",
    ts_return_type = "string | number | null | undefined"
)]
pub fn l1_get_declared(store: L1Ref, key: Key) -> HitOut {
    lookup(&store, key.as_str())
}

#[inline]
fn lookup(namespace: &Namespace, key: &str) -> HitOut {
    match namespace.get(key, now_ms()) {
        Lookup::Fresh(entry) => HitOut::Fresh(entry),
        Lookup::Stale(_) => HitOut::Stale,
        Lookup::Miss => HitOut::Miss,
    }
}

/// Replaces the `l1Get` export with the raw [`l1_get`].
#[napi(module_exports)]
pub fn register_hot_path(exports: Object) -> Result<()> {
    let value = exports.value();
    let name = "l1Get";
    let mut function = std::ptr::null_mut();
    unsafe {
        napi::check_status!(sys::napi_create_function(
            value.env,
            name.as_ptr().cast(),
            name.len() as isize,
            Some(l1_get),
            std::ptr::null_mut(),
            &mut function,
        ))?;
        napi::check_status!(sys::napi_set_named_property(
            value.env,
            value.value,
            c"l1Get".as_ptr(),
            function
        ))?;
    }
    Ok(())
}

unsafe extern "C" fn l1_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let mut argc = 2usize;
    let mut argv = [std::ptr::null_mut(); 2];
    let status = sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    );
    if status != sys::Status::napi_ok || argc < 2 {
        return throw(env, c"l1Get(store, key) takes two arguments");
    }
    let Some(namespace) = namespace_of(env, argv[0]) else {
        return throw(env, c"expected a store handle from l1Create");
    };
    let outcome = read_key_then(env, argv[1], |key| lookup(namespace, key));
    match outcome {
        Some(hit) => HitOut::to_napi_value(env, hit)
            .unwrap_or_else(|_| throw(env, c"could not return the value")),
        None => throw(env, c"a cache key must be a string"),
    }
}

unsafe fn throw(env: sys::napi_env, message: &std::ffi::CStr) -> sys::napi_value {
    sys::napi_throw_type_error(env, std::ptr::null(), message.as_ptr());
    std::ptr::null_mut()
}
