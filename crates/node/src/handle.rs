//! Opaque handles to engine objects, as JavaScript holds them.
//!
//! A handle is a plain N-API external wrapping a boxed engine object, dropped when the
//! JavaScript value is collected. Reading one back costs a single `napi_get_value_external`
//! and a check of the magic number every handle starts with, so a foreign external passed
//! in by mistake is refused instead of misread.

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{sys, Error, Result, Status, ValueType};
use rustocache_core::namespace::Namespace;

const MAGIC: u64 = 0x5275_7374_6f4c_3121; // "RustoL1!"

#[repr(C)]
struct Boxed {
    magic: u64,
    namespace: Namespace,
}

/// A namespace of an L1 store, crossing to JavaScript (as an external).
pub struct L1Handle(pub Namespace);

impl ToNapiValue for L1Handle {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let data = Box::into_raw(Box::new(Boxed {
            magic: MAGIC,
            namespace: val.0,
        }));
        let mut out = std::ptr::null_mut();
        let status = sys::napi_create_external(
            env,
            data.cast(),
            Some(finalize),
            std::ptr::null_mut(),
            &mut out,
        );
        if status != sys::Status::napi_ok {
            drop(Box::from_raw(data));
            return Err(Error::new(
                Status::GenericFailure,
                "could not create a store handle",
            ));
        }
        Ok(out)
    }
}

unsafe extern "C" fn finalize(
    _env: sys::napi_env,
    data: *mut std::ffi::c_void,
    _hint: *mut std::ffi::c_void,
) {
    drop(Box::from_raw(data.cast::<Boxed>()));
}

/// Reads the namespace behind a handle; `None` if `value` is not one of ours.
///
/// # Safety
/// `env` and `value` must be valid for the current call.
pub unsafe fn namespace_of<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Option<&'a Namespace> {
    let mut data = std::ptr::null_mut();
    if sys::napi_get_value_external(env, value, &mut data) != sys::Status::napi_ok || data.is_null()
    {
        return None;
    }
    let boxed = &*data.cast::<Boxed>();
    (boxed.magic == MAGIC).then_some(&boxed.namespace)
}

/// A borrowed handle as a function argument.
pub struct L1Ref(&'static Namespace);

impl std::ops::Deref for L1Ref {
    type Target = Namespace;
    fn deref(&self) -> &Namespace {
        self.0
    }
}

impl FromNapiValue for L1Ref {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        // The JS caller keeps the handle alive for the duration of the call.
        namespace_of(env, value)
            .map(L1Ref)
            .ok_or_else(|| Error::new(Status::InvalidArg, "expected a store handle from l1Create"))
    }
}

impl TypeName for L1Ref {
    fn type_name() -> &'static str {
        "L1Handle"
    }
    fn value_type() -> ValueType {
        ValueType::External
    }
}

impl ValidateNapiValue for L1Ref {}
