//! The file (embedded, persistent) L2 tier, as JavaScript sees it: a constructor whose
//! handle every `l2*` function of [`crate::l2`] takes, and `l2Prune`. The store runs on
//! its own thread (see `rustocache_core::file_tier`); promises settle from the I/O thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{External, Object};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use rustocache_core::file_tier::{FileConfig, FileTier};
use rustocache_core::l2_tier::L2Tier;

use crate::convert::millis;
use crate::io_thread::settle;
use crate::l2::{l2_error, L2Handle};

/// Where the file tier keeps its database, and how often it prunes.
#[napi(object)]
pub struct FileOptions {
    /// The directory of the database; created if missing.
    pub directory: String,
    /// Key prefix; empty for none.
    pub prefix: String,
    /// ms between two prunings of expired entries; `null` never.
    pub prune_interval: Option<f64>,
}

/// A file tier: opens (creating if need be) the database in `directory` now, so that a
/// directory that cannot be written fails here, with a `[config]` error.
#[napi(catch_unwind, ts_return_type = "ExternalObject<L2Tier>")]
pub fn file_create(options: FileOptions) -> Result<L2Handle> {
    if options.directory.is_empty() {
        return Err(Error::new(
            Status::InvalidArg,
            "directory must not be empty",
        ));
    }
    let prune_interval = options
        .prune_interval
        .map(|ms| millis("pruneInterval", ms).map(|ms| Duration::from_millis(ms.max(1))))
        .transpose()?;
    let tier = FileTier::open(FileConfig {
        directory: PathBuf::from(options.directory),
        prefix: options.prefix,
        prune_interval,
    })
    .map_err(l2_error)?;
    Ok(External::new(Arc::new(L2Tier::File(tier))))
}

/// Removes the entries past their physical expiry; resolves how many (always 0 on Redis,
/// which drops them by itself).
#[napi(
    ts_args_type = "store: ExternalObject<L2Tier>",
    ts_return_type = "Promise<number>"
)]
pub fn l2_prune<'env>(env: &'env Env, store: &L2Handle) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.prune().await.map(|n| n as f64).map_err(l2_error)
    })
}

/// What a file tier's database holds, for diagnostics and tests.
#[napi(object, object_from_js = false)]
pub struct FileReport {
    /// Entries on disk, expired ones not yet pruned included.
    pub entries: f64,
    /// Of them, the ones past their physical expiry.
    pub expired: f64,
    /// SQLite's integrity check: `"ok"`, or what is wrong.
    pub integrity: String,
}

/// Counts a file tier's rows and checks its database's integrity (reads the whole file: not
/// for a hot path). Rejects for a Redis tier.
#[napi(
    ts_args_type = "store: ExternalObject<L2Tier>",
    ts_return_type = "Promise<FileReport>"
)]
pub fn file_report<'env>(env: &'env Env, store: &L2Handle) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        let L2Tier::File(file) = &*tier else {
            return Err(Error::new(Status::InvalidArg, "not a file tier"));
        };
        let report = file.report().await.map_err(l2_error)?;
        Ok(FileReport {
            entries: report.entries as f64,
            expired: report.expired as f64,
            integrity: report.integrity,
        })
    })
}
