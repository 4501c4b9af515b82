//! Keeps Rust panics from crossing into Node.
//!
//! A panic unwinding out of an `extern "C"` callback aborts the whole process, and one in a
//! task on the I/O thread would leave its promise pending forever. Every way into Rust is
//! therefore shielded: the `#[napi]` exports by napi-rs's `catch_unwind`, and the paths it
//! does not cover — the raw `l1Get`, futures on the I/O thread, values converted to
//! JavaScript when a promise settles or a threadsafe function calls back — by the helpers
//! here. A caught panic becomes an error whose message starts with `[panic]`.
//!
//! This only works because the release profile unwinds (`panic = "unwind"`, stated in the
//! workspace's Cargo.toml): with `abort` nothing could be caught.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use napi::bindgen_prelude::ToNapiValue;
use napi::{sys, Error, Result, Status};

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with a non-text payload");
    format!("[panic] internal error in the RustoCache engine: {text}")
}

/// Runs `work`; if it panics, runs `on_panic` with the panic's message instead.
///
/// The state `work` touched is not inspected afterwards (locks are taken through
/// poison-tolerant helpers), hence the `AssertUnwindSafe`.
pub fn shielded<R>(work: impl FnOnce() -> R, on_panic: impl FnOnce(String) -> R) -> R {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(value) => value,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            // The payload's own drop could panic again; leaking it is harmless.
            std::mem::forget(payload);
            on_panic(message)
        }
    }
}

/// A future whose panics, at any poll, resolve it to an error instead of unwinding into
/// the runtime (where tokio would swallow them and the promise would never settle).
pub struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F> CatchUnwind<F> {
    /// Shields `inner`.
    pub fn new(inner: F) -> Self {
        CatchUnwind {
            inner: Box::pin(inner),
        }
    }
}

impl<T, F: Future<Output = Result<T>>> Future for CatchUnwind<F> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let inner = self.inner.as_mut();
        shielded(
            || inner.poll(cx),
            |message| Poll::Ready(Err(Error::new(Status::GenericFailure, message))),
        )
    }
}

/// A value converted to JavaScript under a shield: a panic during the conversion (which
/// napi-rs runs inside a C callback when a promise settles or a threadsafe function calls
/// back) becomes an error instead of aborting the process.
pub struct Guarded<T>(pub T);

impl<T: ToNapiValue> ToNapiValue for Guarded<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        shielded(
            || T::to_napi_value(env, val.0),
            |message| Err(Error::new(Status::GenericFailure, message)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{RawWaker, RawWakerVTable, Waker};

    fn noop_waker() -> Waker {
        fn clone(_: *const ()) -> RawWaker {
            RawWaker::new(std::ptr::null(), &VTABLE)
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
    }

    fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut future = Box::pin(future);
        future.as_mut().poll(&mut cx)
    }

    #[test]
    fn shielded_returns_the_value_when_nothing_panics() {
        assert_eq!(shielded(|| 7, |_| 0), 7);
    }

    #[test]
    fn shielded_turns_a_str_panic_into_its_message() {
        let out = shielded(|| -> String { panic!("boom") }, |message| message);
        assert_eq!(out, "[panic] internal error in the RustoCache engine: boom");
    }

    #[test]
    fn shielded_turns_a_formatted_panic_into_its_message() {
        let n = 3;
        let out = shielded(|| -> String { panic!("index {n} out of range") }, |m| m);
        assert!(out.ends_with("index 3 out of range"), "{out}");
    }

    #[test]
    fn shielded_survives_a_non_text_payload() {
        let out = shielded(|| -> String { std::panic::panic_any(42u8) }, |m| m);
        assert!(out.contains("non-text payload"), "{out}");
    }

    #[test]
    fn shielded_catches_an_arithmetic_panic() {
        let values: Vec<u32> = Vec::new();
        let index = values.len() + 1;
        let out = shielded(|| Ok::<u32, String>(values[index]), Err);
        assert!(out.unwrap_err().contains("index out of bounds"));
    }

    #[test]
    fn catch_unwind_future_passes_values_and_errors_through() {
        let ok = poll_once(CatchUnwind::new(async { Ok::<_, Error>(5) }));
        assert!(matches!(ok, Poll::Ready(Ok(5))));
        let err = poll_once(CatchUnwind::new(async {
            Err::<u8, _>(Error::new(Status::InvalidArg, "bad"))
        }));
        match err {
            Poll::Ready(Err(e)) => assert_eq!(e.reason, "bad"),
            other => panic!("expected the error, got {:?}", other.is_ready()),
        }
    }

    #[test]
    fn catch_unwind_future_turns_a_panic_at_any_poll_into_an_error() {
        let polls = AtomicUsize::new(0);
        let mut future = CatchUnwind::new(std::future::poll_fn(|cx| {
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
                return Poll::<Result<u8>>::Pending;
            }
            panic!("second poll");
        }));
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut future).poll(&mut cx).is_pending());
        match Pin::new(&mut future).poll(&mut cx) {
            Poll::Ready(Err(e)) => {
                assert!(e.reason.starts_with("[panic]"), "{}", e.reason);
                assert!(e.reason.ends_with("second poll"));
            }
            _ => panic!("the panic was not turned into an error"),
        }
    }

    #[test]
    fn catch_unwind_future_settles_on_a_real_runtime() {
        // As the I/O thread runs it: a panicking request must still settle.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out: Result<u8> = runtime.block_on(CatchUnwind::new(async {
            tokio::task::yield_now().await;
            panic!("in a task")
        }));
        assert!(out.unwrap_err().reason.ends_with("in a task"));
    }

    struct PanicsWhenConverted;
    impl ToNapiValue for PanicsWhenConverted {
        unsafe fn to_napi_value(_: sys::napi_env, _: Self) -> Result<sys::napi_value> {
            panic!("conversion failed")
        }
    }

    #[test]
    fn guarded_turns_a_panicking_conversion_into_an_error() {
        let out =
            unsafe { Guarded::to_napi_value(std::ptr::null_mut(), Guarded(PanicsWhenConverted)) };
        assert!(out.unwrap_err().reason.ends_with("conversion failed"));
    }

    /// Every source file of the binding with exports, for the audit below.
    const SOURCES: [(&str, &str); 4] = [
        ("bus.rs", include_str!("bus.rs")),
        ("hot_path.rs", include_str!("hot_path.rs")),
        ("l1.rs", include_str!("l1.rs")),
        ("l2.rs", include_str!("l2.rs")),
    ];

    #[test]
    fn every_exported_function_catches_panics() {
        // An export is a `#[napi(...)]` followed by a `pub fn`; objects and the module
        // initialiser (shielded by hand) are not exports of this kind.
        let mut exports = 0;
        for (file, source) in SOURCES {
            let mut rest = source;
            while let Some(at) = rest.find("#[napi") {
                let attribute_and_item = &rest[at..];
                let end = attribute_and_item.find(")]").map_or(6, |e| e + 2);
                let attribute = &attribute_and_item[..end];
                let item = attribute_and_item[end..].trim_start();
                if item.starts_with("pub fn") && !attribute.contains("module_exports") {
                    exports += 1;
                    assert!(
                        attribute.contains("catch_unwind"),
                        "{file}: an export without catch_unwind: {}",
                        item.lines().next().unwrap_or("")
                    );
                }
                rest = &attribute_and_item[end..];
            }
        }
        assert!(exports >= 30, "the audit found only {exports} exports");
    }

    #[test]
    fn the_raw_hot_path_the_initialiser_and_the_io_thread_are_shielded() {
        let squeezed = |text: &str| text.split_whitespace().collect::<String>();
        let hot_path = squeezed(include_str!("hot_path.rs"));
        assert!(hot_path.contains("shielded(||unsafe{raw_lookup(env,info,lookup)}"));
        assert!(hot_path.contains("shielded(||unsafe{raw_lookup(env,info,lookup_claiming)}"));
        assert!(hot_path.contains("shielded(||{export_raw(&exports,c\"l1Get\",l1_get)?;"));
        let io_thread = squeezed(include_str!("io_thread.rs"));
        assert!(io_thread.contains("CatchUnwind::new(work).await"));
        assert!(io_thread.contains("Ok(Guarded(value))"));
        let bus = squeezed(include_str!("bus.rs"));
        assert!(bus.contains("listener.call(Guarded(event_object(event))"));
    }

    #[test]
    fn the_release_profile_unwinds() {
        let manifest = include_str!("../../../Cargo.toml");
        assert!(
            manifest.contains("panic = \"unwind\""),
            "catching panics needs unwinding"
        );
        assert!(!manifest.contains("panic = \"abort\""));
    }
}
