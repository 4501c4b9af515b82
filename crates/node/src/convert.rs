//! Conversions at the boundary, shared by every binding class.

use std::mem::MaybeUninit;

use napi::bindgen_prelude::{FromNapiValue, Null, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{sys, Error, Result, Status, ValueType};
use rustocache_core::entry::{Entry, ValueRef};
use rustocache_core::CoreError;

/// Maps an engine error to a JavaScript error whose `code` names its kind.
pub fn core_error(err: CoreError) -> Error {
    let status = match err {
        CoreError::InvalidOption(_) | CoreError::SharedStoreMismatch { .. } => Status::InvalidArg,
        CoreError::EntryTooLarge { .. } => Status::GenericFailure,
    };
    Error::new(status, err.to_string())
}

/// A millisecond count from JavaScript: a finite, non-negative number.
pub fn millis(name: &str, value: f64) -> Result<u64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value as u64)
    } else {
        Err(Error::new(
            Status::InvalidArg,
            format!("{name} must be a finite, non-negative number of ms, got {value}"),
        ))
    }
}

/// A byte limit from JavaScript: absent, or a finite, non-negative number.
pub fn limit(name: &str, value: Option<f64>) -> Result<Option<u64>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::new(
            Status::InvalidArg,
            format!("{name} must be a finite, non-negative number, got {v}"),
        )),
        v => Ok(v.map(|v| v as u64)),
    }
}

/// A key read from JavaScript without allocating: short keys (nearly all of them) are
/// copied into a buffer on the stack in one call; longer ones fall back to a `String`.
pub struct Key {
    // Left uninitialised: zeroing 256 bytes on every lookup cost more than the lookup's hash.
    inline: [MaybeUninit<u8>; Key::INLINE],
    len: usize,
    long: Option<String>,
}

impl Key {
    const INLINE: usize = 256;

    /// The key's text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.long {
            Some(long) => long,
            // Safety: napi wrote (initialised) the first `len` bytes as valid UTF-8, and `len`
            // stops before any partial character (a key within 4 bytes of the buffer's end
            // took the `long` path).
            None => unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                    self.inline.as_ptr().cast::<u8>(),
                    self.len,
                ))
            },
        }
    }
}

impl FromNapiValue for Key {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut key = Key {
            inline: [MaybeUninit::uninit(); Key::INLINE],
            len: 0,
            long: None,
        };
        let status = sys::napi_get_value_string_utf8(
            env,
            value,
            key.inline.as_mut_ptr().cast(),
            Key::INLINE,
            &mut key.len,
        );
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::StringExpected,
                "a cache key must be a string",
            ));
        }
        // napi truncates at a character boundary and keeps a byte for the terminator: a
        // key that came within one UTF-8 character of the end may have been cut short.
        if key.len + 4 >= Key::INLINE {
            key.long = Some(String::from_napi_value(env, value)?);
        }
        Ok(key)
    }
}

/// Reads a key like [`Key`] does, and runs `f` with it; `None` if `value` is not a string.
///
/// # Safety
/// `env` and `value` must be valid for the current call.
pub unsafe fn read_key_then<R>(
    env: sys::napi_env,
    value: sys::napi_value,
    f: impl FnOnce(&str) -> R,
) -> Option<R> {
    Key::from_napi_value(env, value)
        .ok()
        .map(|key| f(key.as_str()))
}

impl TypeName for Key {
    fn type_name() -> &'static str {
        "string"
    }
    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for Key {}

/// A value crossing to JavaScript: a serialized text or a slot number.
pub struct ValueOut(pub Entry);

impl ToNapiValue for ValueOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        value_to_js(env, val.0.value())
    }
}

/// A stored value as JavaScript gets it: the text, or the slot number.
///
/// # Safety
/// `env` must be the environment of the current N-API call.
pub unsafe fn value_to_js(env: sys::napi_env, value: ValueRef<'_>) -> Result<sys::napi_value> {
    match value {
        ValueRef::Text(text) => text_to_js(env, text),
        ValueRef::Slot(slot) => u32::to_napi_value(env, slot),
    }
}

/// The outcome of a hot-path lookup, in the fewest bytes JavaScript can branch on:
/// the value when the entry is fresh, `null` when only a stale entry exists (the facade
/// then asks for it in full), `undefined` when there is nothing, and `false` for a fresh
/// entry whose eager refresh this lookup claimed (the facade asks for it in full and starts
/// the refresh).
pub enum HitOut<E: AsRef<Entry> = Entry> {
    /// A fresh entry: its value.
    Fresh(E),
    /// Only a stale entry.
    Stale,
    /// Nothing.
    Miss,
    /// A fresh entry due for an eager refresh, claimed by this lookup.
    RefreshDue,
}

impl<E: AsRef<Entry>> HitOut<E> {
    /// The same outcome with the entry held another way (`map(Entry::clone)`: another handle).
    pub fn map<F: AsRef<Entry>>(self, f: impl FnOnce(E) -> F) -> HitOut<F> {
        match self {
            HitOut::Fresh(entry) => HitOut::Fresh(f(entry)),
            HitOut::Stale => HitOut::Stale,
            HitOut::Miss => HitOut::Miss,
            HitOut::RefreshDue => HitOut::RefreshDue,
        }
    }
}

impl<E: AsRef<Entry>> ToNapiValue for HitOut<E> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val {
            HitOut::Fresh(entry) => value_to_js(env, entry.as_ref().value()),
            HitOut::Stale => Null::to_napi_value(env, Null),
            HitOut::Miss => <()>::to_napi_value(env, ()),
            HitOut::RefreshDue => bool::to_napi_value(env, false),
        }
    }
}

/// Creates a JS string from UTF-8 text. JSON is mostly ASCII, which V8 stores as a
/// one-byte string: creating it as Latin-1 skips the UTF-8 decoder.
unsafe fn text_to_js(env: sys::napi_env, text: &str) -> Result<sys::napi_value> {
    if !text.is_ascii() {
        return <&str>::to_napi_value(env, text);
    }
    let mut out = std::ptr::null_mut();
    let status =
        sys::napi_create_string_latin1(env, text.as_ptr().cast(), text.len() as isize, &mut out);
    if status == sys::Status::napi_ok {
        Ok(out)
    } else {
        Err(Error::new(
            Status::GenericFailure,
            "could not create a string",
        ))
    }
}
