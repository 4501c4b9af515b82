//! `l1Get` and `l1GetOrClaimRefresh`, the hot paths of every cache hit (of `get` and of
//! `getOrSet`), written against raw N-API.
//!
//! napi-rs's generated wrapper costs about 150 ns per call on these machines (argument
//! bookkeeping, type checks, error plumbing); these functions do only what a lookup
//! needs: read two arguments, look up, create one string. napi-rs's `catch_unwind` does
//! not reach a raw callback, so each shields itself ([`crate::guard::shielded`]): a panic
//! unwinding out of an `extern "C"` function would abort the process.

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{sys, Error, JsValue, Result, Status};
use napi_derive::napi;

use rustocache_core::clock::now_ms;
use rustocache_core::entry::Entry;
use rustocache_core::store::Found;

use rustocache_core::namespace::Namespace;

use crate::convert::{read_key_then, HitOut, Key};
use crate::guard::shielded;
use crate::handle::{namespace_of, L1Ref};

/// The hot path of every cache hit: the value if the entry is fresh, `null` if it is only
/// stale, `undefined` if there is none.
///
/// This napi-rs version gives the export its name and type; [`register_hot_path`], which
/// runs after the generated registrations, replaces it with the raw [`l1_get`] below.
#[napi(
    catch_unwind,
    js_name = "l1Get",
    ts_args_type = "store: L1Handle, key: string",
    ts_return_type = "string | number | null | undefined"
)]
pub fn l1_get_declared(store: L1Ref, key: Key) -> HitOut {
    store.get_with(key.as_str(), now_ms(), |found| hit(found).map(Entry::clone))
}

/// The hot path of `getOrSet`'s hits: as `l1Get`, except that for a fresh entry past its
/// eager-refresh threshold the first caller gets `false`: it has claimed the refresh, and
/// asks for the entry in full (`l1Peek`). Later callers get the value, as from `l1Get`.
///
/// Replaced by the raw [`l1_get_or_claim_refresh`], as `l1Get` is.
#[napi(
    catch_unwind,
    js_name = "l1GetOrClaimRefresh",
    ts_args_type = "store: L1Handle, key: string",
    ts_return_type = "string | number | false | null | undefined"
)]
pub fn l1_get_or_claim_refresh_declared(store: L1Ref, key: Key) -> HitOut {
    let now = now_ms();
    store.get_with(key.as_str(), now, |found| {
        hit_claiming(found, now).map(Entry::clone)
    })
}

/// What `l1Get` answers for what the store found.
#[inline]
fn hit(found: Found<'_>) -> HitOut<&Entry> {
    match found {
        Found::Fresh(entry) => HitOut::Fresh(entry),
        Found::Stale(_) => HitOut::Stale,
        Found::Miss => HitOut::Miss,
    }
}

/// What `l1GetOrClaimRefresh` answers for what the store found at `now`.
#[inline]
fn hit_claiming(found: Found<'_>, now: u64) -> HitOut<&Entry> {
    match found {
        Found::Fresh(entry) if entry.claim_refresh(now) => HitOut::RefreshDue,
        found => hit(found),
    }
}

/// Converts the raw lookups' outcome while the store is still locked for reading (see
/// [`Namespace::get_with`]): the value is copied into a JS string in place.
#[inline]
fn lookup(env: sys::napi_env, namespace: &Namespace, key: &str) -> Result<sys::napi_value> {
    namespace.get_with(key, now_ms(), |found| unsafe {
        HitOut::to_napi_value(env, hit(found))
    })
}

#[inline]
fn lookup_claiming(
    env: sys::napi_env,
    namespace: &Namespace,
    key: &str,
) -> Result<sys::napi_value> {
    let now = now_ms();
    namespace.get_with(key, now, |found| unsafe {
        HitOut::to_napi_value(env, hit_claiming(found, now))
    })
}

/// Replaces the `l1Get` and `l1GetOrClaimRefresh` exports with the raw [`l1_get`] and
/// [`l1_get_or_claim_refresh`].
#[napi(module_exports)]
pub fn register_hot_path(exports: Object) -> Result<()> {
    shielded(
        || {
            export_raw(&exports, c"l1Get", l1_get)?;
            export_raw(&exports, c"l1GetOrClaimRefresh", l1_get_or_claim_refresh)
        },
        |message| Err(Error::new(Status::GenericFailure, message)),
    )
}

/// Sets `exports[name]` to a function whose body is `callback`, with no napi-rs wrapper.
fn export_raw(exports: &Object, name: &std::ffi::CStr, callback: RawCallback) -> Result<()> {
    let value = exports.value();
    let mut function = std::ptr::null_mut();
    unsafe {
        napi::check_status!(sys::napi_create_function(
            value.env,
            name.as_ptr(),
            name.count_bytes() as isize,
            Some(callback),
            std::ptr::null_mut(),
            &mut function,
        ))?;
        napi::check_status!(sys::napi_set_named_property(
            value.env,
            value.value,
            name.as_ptr(),
            function
        ))?;
    }
    Ok(())
}

/// A function as N-API calls it: the environment and the call's info in, a value out.
type RawCallback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

unsafe extern "C" fn l1_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    shielded(
        || unsafe { raw_lookup(env, info, lookup) },
        |message| unsafe { throw_panic(env, &message) },
    )
}

unsafe extern "C" fn l1_get_or_claim_refresh(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    shielded(
        || unsafe { raw_lookup(env, info, lookup_claiming) },
        |message| unsafe { throw_panic(env, &message) },
    )
}

/// Reads `(store, key)` from the call and returns `find`'s outcome, or throws a TypeError.
#[inline(always)]
unsafe fn raw_lookup(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    find: fn(sys::napi_env, &Namespace, &str) -> Result<sys::napi_value>,
) -> sys::napi_value {
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
    let outcome = read_key_then(env, argv[1], |key| find(env, namespace, key));
    match outcome {
        Some(value) => value.unwrap_or_else(|_| throw(env, c"could not return the value")),
        None => throw(env, c"a cache key must be a string"),
    }
}

/// Throws a plain `Error` carrying a caught panic's message.
unsafe fn throw_panic(env: sys::napi_env, message: &str) -> sys::napi_value {
    let text = std::ffi::CString::new(message.replace('\0', " "))
        .unwrap_or_else(|_| c"[panic] internal error in the RustoCache engine".to_owned());
    sys::napi_throw_error(env, std::ptr::null(), text.as_ptr());
    std::ptr::null_mut()
}

unsafe fn throw(env: sys::napi_env, message: &std::ffi::CStr) -> sys::napi_value {
    sys::napi_throw_type_error(env, std::ptr::null(), message.as_ptr());
    std::ptr::null_mut()
}
