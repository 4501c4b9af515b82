//! The file tier's store: one SQLite database, used synchronously by the tier's own thread.
//!
//! Tables (schema version [`SCHEMA_VERSION`], kept in `PRAGMA user_version`):
//!
//! - `entries(key, value, expires_at)`: the [`WireEntry`] envelope of each key (tier prefix
//!   included), and its physical expiry for the pruning index;
//! - `tags(tag, key)`: which keys each tag was written with, so that [`FileStore::delete_tagged`]
//!   needs no scan; rows go with their entry (overwrite, delete, prune, clear);
//! - `invalidations(field, at)`: when each `<prefix><kind>:<tag>` was invalidated.
//!
//! Keys and tags are stored as BLOBs so that a prefix is a byte range (`>= p AND < succ(p)`),
//! which the primary keys answer without a scan.
//!
//! The journal is SQLite's write-ahead log with `synchronous = NORMAL`: a commit is a write to
//! the log without an fsync, so a killed process loses nothing it committed (the operating
//! system holds the bytes) and a power cut loses at most the last commits; neither can leave
//! a torn entry, because a transaction is applied whole or not at all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::envelope::WireEntry;
use crate::redis_tier::{L2Error, Read};

/// The layout this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// The database's file name inside the tier's directory (SQLite adds `-wal` and `-shm`).
pub const FILE_NAME: &str = "rustocache.sqlite";

/// How long a write waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tags (tag BLOB NOT NULL, key BLOB NOT NULL, PRIMARY KEY (tag, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key);
CREATE TABLE IF NOT EXISTS invalidations (field BLOB PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
";

/// One open database and the key prefix of the tier using it.
pub struct FileStore {
    connection: Connection,
    /// `<prefix>:`, or empty for none.
    prefix: String,
}

impl FileStore {
    /// Opens (creating it and `directory` if need be) the database in `directory`.
    pub fn open(directory: &Path, prefix: &str) -> Result<Self, L2Error> {
        std::fs::create_dir_all(directory).map_err(|e| {
            L2Error::Config(format!(
                "cannot create the directory {}: {e}",
                directory.display()
            ))
        })?;
        let path: PathBuf = directory.join(FILE_NAME);
        let cannot_open =
            |e: rusqlite::Error| L2Error::Config(format!("cannot open {}: {e}", path.display()));
        let connection = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(cannot_open)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(cannot_open)?;
        // journal_mode answers with the mode now in force: a read-only file cannot switch.
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(cannot_open)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(L2Error::Config(format!(
                "cannot open {}: the write-ahead log is unavailable (journal mode {mode})",
                path.display()
            )));
        }
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(cannot_open)?;
        let mut store = FileStore {
            connection,
            prefix: normalized_prefix(prefix),
        };
        store.migrate().map_err(|e| match e {
            L2Error::Store(reason) => {
                L2Error::Config(format!("cannot open {}: {reason}", path.display()))
            }
            other => other,
        })?;
        Ok(store)
    }

    /// Creates the tables of a new database; refuses one of another layout. Under a write
    /// lock, so that two processes creating it at once do not race.
    fn migrate(&mut self) -> Result<(), L2Error> {
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        match version {
            0 => {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            SCHEMA_VERSION => {}
            other => {
                return Err(L2Error::Config(format!(
                    "the store has layout version {other}; this build reads {SCHEMA_VERSION}"
                )))
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Reads `keys`, in order; entries past their physical expiry are missing.
    pub fn get_many(&mut self, keys: &[String], now: u64) -> Result<Vec<Read>, L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        let mut select =
            tx.prepare_cached("SELECT value, expires_at FROM entries WHERE key = ?1")?;
        let mut reads = Vec::with_capacity(keys.len());
        for key in keys {
            let row: Option<(Vec<u8>, Option<i64>)> = select
                .query_row(params![stored(prefix, key)], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            reads.push(match row {
                Some((bytes, expires_at)) if is_live(expires_at, now) => {
                    match WireEntry::decode(&bytes) {
                        Ok(entry) => Read::Found(entry),
                        Err(err) => Read::Unreadable(err),
                    }
                }
                _ => Read::Missing,
            });
        }
        drop(select);
        tx.commit()?;
        Ok(reads)
    }

    /// Writes entries in one transaction, each filed under its tags. One already past its
    /// physical expiry removes what the key held, as on Redis.
    pub fn set_many(&mut self, items: &[(String, WireEntry)], now: u64) -> Result<(), L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        for (key, entry) in items {
            let key = stored(prefix, key);
            remove_entry(&tx, &key)?;
            if !is_live(entry.physical_expires_at.map(as_sql), now) {
                continue;
            }
            tx.prepare_cached("INSERT INTO entries (key, value, expires_at) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    key,
                    entry.encode(),
                    entry.physical_expires_at.map(as_sql)
                ])?;
            let mut file =
                tx.prepare_cached("INSERT OR IGNORE INTO tags (tag, key) VALUES (?1, ?2)")?;
            for tag in &entry.tags {
                file.execute(params![stored(prefix, tag), key])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes `keys`; tells how many held a live entry.
    pub fn delete_many(&mut self, keys: &[String], now: u64) -> Result<u64, L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        let mut removed = 0;
        for key in keys {
            removed += u64::from(
                remove_entry(&tx, &stored(prefix, key))?.is_some_and(|at| is_live(at, now)),
            );
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Removes every entry filed under any of `tags`; tells how many were live.
    pub fn delete_tagged(&mut self, tags: &[String], now: u64) -> Result<u64, L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        let mut keys: Vec<Vec<u8>> = Vec::new();
        {
            let mut members = tx.prepare_cached("SELECT key FROM tags WHERE tag = ?1")?;
            for tag in tags {
                let rows = members.query_map(params![stored(prefix, tag)], |row| row.get(0))?;
                for key in rows {
                    keys.push(key?);
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let mut removed = 0;
        for key in &keys {
            removed += u64::from(remove_entry(&tx, key)?.is_some_and(|at| is_live(at, now)));
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Records that `tags` were invalidated (`kind`: `delete` or `expire`) at `at` ms.
    pub fn record_invalidations(
        &mut self,
        kind: &str,
        tags: &[String],
        at: u64,
    ) -> Result<(), L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        {
            let mut record = tx.prepare_cached(
                "INSERT OR REPLACE INTO invalidations (field, at) VALUES (?1, ?2)",
            )?;
            for tag in tags {
                record.execute(params![
                    stored(prefix, &format!("{kind}:{tag}")),
                    as_sql(at)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every invalidation recorded under this tier's prefix: (`kind:tag`, at).
    pub fn invalidations(&mut self) -> Result<Vec<(String, u64)>, L2Error> {
        let (from, to) = byte_range(self.prefix.as_bytes());
        let mut select = self.connection.prepare_cached(
            "SELECT field, at FROM invalidations WHERE field >= ?1 AND (?2 IS NULL OR field < ?2)",
        )?;
        let rows = select.query_map(params![from, to], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (field, at) = row?;
            // Fields are written from UTF-8 text; a foreign one is skipped, not fatal.
            if let Ok(field) = String::from_utf8(field[self.prefix.len()..].to_vec()) {
                records.push((field, at.max(0) as u64));
            }
        }
        Ok(records)
    }

    /// Turns the entry under `key` stale at `now`, keeping its physical expiry; tells
    /// whether there was a live, readable one.
    pub fn expire(&mut self, key: &str, now: u64) -> Result<bool, L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let tx = connection.transaction()?;
        let key = stored(prefix, key);
        let row: Option<(Vec<u8>, Option<i64>)> = tx
            .prepare_cached("SELECT value, expires_at FROM entries WHERE key = ?1")?
            .query_row(params![key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((bytes, expires_at)) = row.filter(|(_, at)| is_live(*at, now)) else {
            return Ok(false);
        };
        let Ok(mut entry) = WireEntry::decode(&bytes) else {
            return Ok(false);
        };
        entry.logical_expires_at = Some(entry.logical_expires_at.map_or(now, |at| at.min(now)));
        tx.prepare_cached("UPDATE entries SET value = ?2, expires_at = ?3 WHERE key = ?1")?
            .execute(params![key, entry.encode(), expires_at])?;
        tx.commit()?;
        Ok(true)
    }

    /// Removes every entry under `<prefix><namespace>`; for the root (an empty `namespace`),
    /// the tier's tags and invalidation records too, as a Redis SCAN of the prefix does.
    pub fn clear(&mut self, namespace: &str) -> Result<(), L2Error> {
        let (connection, prefix) = (&mut self.connection, self.prefix.as_str());
        let (from, to) = byte_range(&stored(prefix, namespace));
        let tx = connection.transaction()?;
        tx.prepare_cached("DELETE FROM tags WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)")?
            .execute(params![from, to])?;
        tx.prepare_cached("DELETE FROM entries WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)")?
            .execute(params![from, to])?;
        if namespace.is_empty() {
            tx.prepare_cached("DELETE FROM tags WHERE tag >= ?1 AND (?2 IS NULL OR tag < ?2)")?
                .execute(params![from, to])?;
            tx.prepare_cached(
                "DELETE FROM invalidations WHERE field >= ?1 AND (?2 IS NULL OR field < ?2)",
            )?
            .execute(params![from, to])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes every entry past its physical expiry at `now`, whatever its prefix (they are
    /// dead for every tier sharing the file); tells how many.
    pub fn prune(&mut self, now: u64) -> Result<u64, L2Error> {
        let tx = self.connection.transaction()?;
        tx.prepare_cached(
            "DELETE FROM tags WHERE key IN (SELECT key FROM entries WHERE expires_at <= ?1)",
        )?
        .execute(params![as_sql(now)])?;
        let pruned = tx
            .prepare_cached("DELETE FROM entries WHERE expires_at <= ?1")?
            .execute(params![as_sql(now)])?;
        tx.commit()?;
        Ok(pruned as u64)
    }
}

/// What the database holds, for diagnostics: rows whatever their prefix and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReport {
    /// Entries on disk, expired ones not yet pruned included.
    pub entries: u64,
    /// Of them, the ones past their physical expiry at the time of the report.
    pub expired: u64,
    /// SQLite's `PRAGMA integrity_check` verdict: `ok`, or what is wrong.
    pub integrity: String,
}

impl FileStore {
    /// Counts the rows and checks the database's integrity (reads every page: for tests and
    /// diagnostics, not for a hot path).
    pub fn report(&mut self, now: u64) -> Result<StoreReport, L2Error> {
        let count = |sql: &str| -> Result<u64, L2Error> {
            Ok(self
                .connection
                .query_row(sql, params![as_sql(now)], |row| row.get::<_, i64>(0))?
                .max(0) as u64)
        };
        let entries = count("SELECT count(*) FROM entries WHERE ?1 IS NOT NULL")?;
        let expired = count("SELECT count(*) FROM entries WHERE expires_at <= ?1")?;
        let integrity: String = self
            .connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(StoreReport {
            entries,
            expired,
            integrity,
        })
    }
}

/// `key` (or a tag) as stored: after the tier's prefix.
fn stored(prefix: &str, key: &str) -> Vec<u8> {
    let mut stored = Vec::with_capacity(prefix.len() + key.len());
    stored.extend_from_slice(prefix.as_bytes());
    stored.extend_from_slice(key.as_bytes());
    stored
}

/// Removes the entry under a stored key and its tag rows; its physical expiry (`Some(None)`:
/// never) if there was one.
fn remove_entry(tx: &Transaction<'_>, key: &[u8]) -> Result<Option<Option<i64>>, L2Error> {
    let removed: Option<Option<i64>> = tx
        .prepare_cached("DELETE FROM entries WHERE key = ?1 RETURNING expires_at")?
        .query_row(params![key], |row| row.get(0))
        .optional()?;
    if removed.is_some() {
        tx.prepare_cached("DELETE FROM tags WHERE key = ?1")?
            .execute(params![key])?;
    }
    Ok(removed)
}

/// Whether an entry dropped at `expires_at` (ms; `None` never) is still there at `now`. The
/// same rule as Redis's `PXAT`: gone from that millisecond on.
fn is_live(expires_at: Option<i64>, now: u64) -> bool {
    expires_at.is_none_or(|at| at > as_sql(now))
}

/// A time in ms as SQLite's signed integer (the epoch in ms fits for 292 million years).
fn as_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// `<prefix>:` from a prefix given with or without its trailing colon, as Redis keys are.
fn normalized_prefix(prefix: &str) -> String {
    let prefix = prefix.trim_end_matches(':');
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}:")
    }
}

/// The byte range of the keys starting with `prefix`: from it to its successor (the first
/// byte string after every extension of it), `None` for unbounded.
fn byte_range(prefix: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return (prefix.to_vec(), Some(end));
        }
    }
    (prefix.to_vec(), None)
}

impl From<rusqlite::Error> for L2Error {
    fn from(err: rusqlite::Error) -> Self {
        L2Error::Store(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &str, physical: Option<u64>, tags: &[&str]) -> WireEntry {
        WireEntry {
            created_at: 1,
            logical_expires_at: None,
            physical_expires_at: physical,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            value: value.as_bytes().to_vec(),
        }
    }

    fn found(read: &Read) -> Option<&str> {
        match read {
            Read::Found(e) => Some(std::str::from_utf8(&e.value).unwrap()),
            _ => None,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rustocache-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn ranges_cover_exactly_the_prefix() {
        assert_eq!(byte_range(b"ab"), (b"ab".to_vec(), Some(b"ac".to_vec())));
        assert_eq!(
            byte_range(b"a\xff"),
            (b"a\xff".to_vec(), Some(b"b".to_vec()))
        );
        assert_eq!(byte_range(b""), (Vec::new(), None));
        assert_eq!(normalized_prefix("app"), "app:");
        assert_eq!(normalized_prefix("app:"), "app:");
        assert_eq!(normalized_prefix(""), "");
    }

    #[test]
    fn entries_persist_expire_and_are_pruned() {
        let dir = temp_dir("persist");
        let now = 1_000_000;
        {
            let mut store = FileStore::open(&dir, "app").unwrap();
            store
                .set_many(
                    &[
                        ("a".into(), entry("1", None, &[])),
                        ("b".into(), entry("2", Some(now + 10), &[])),
                        ("c".into(), entry("3", Some(now - 1), &[])),
                    ],
                    now,
                )
                .unwrap();
        }
        let mut store = FileStore::open(&dir, "app:").unwrap();
        let keys = ["a", "b", "c"].map(String::from);
        let reads = store.get_many(&keys, now).unwrap();
        assert_eq!(
            reads.iter().map(found).collect::<Vec<_>>(),
            [Some("1"), Some("2"), None]
        );
        // Past b's physical expiry: never returned, even before a prune.
        let reads = store.get_many(&keys, now + 10).unwrap();
        assert_eq!(
            reads.iter().map(found).collect::<Vec<_>>(),
            [Some("1"), None, None]
        );
        assert_eq!(store.prune(now + 10).unwrap(), 1);
        assert_eq!(store.prune(now + 10).unwrap(), 0);
        assert_eq!(store.delete_many(&keys, now).unwrap(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tags_follow_their_entries() {
        let dir = temp_dir("tags");
        let mut store = FileStore::open(&dir, "app").unwrap();
        store
            .set_many(
                &[
                    ("x".into(), entry("1", None, &["t"])),
                    ("y".into(), entry("2", None, &["t", "u"])),
                    ("z".into(), entry("3", None, &["u"])),
                ],
                0,
            )
            .unwrap();
        // Rewritten without its tag: no longer removed with it.
        store
            .set_many(&[("x".into(), entry("1b", None, &[]))], 0)
            .unwrap();
        assert_eq!(store.delete_tagged(&["t".into()], 0).unwrap(), 1);
        let keys = ["x", "y", "z"].map(String::from);
        let reads = store.get_many(&keys, 0).unwrap();
        assert_eq!(
            reads.iter().map(found).collect::<Vec<_>>(),
            [Some("1b"), None, Some("3")]
        );
        // Another tier's prefix does not see this one's tags.
        let mut other = FileStore::open(&dir, "other").unwrap();
        assert_eq!(other.delete_tagged(&["u".into()], 0).unwrap(), 0);
        assert_eq!(store.delete_tagged(&["u".into()], 0).unwrap(), 1);
        let rows: i64 = store
            .connection
            .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "tag rows left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn clear_expire_and_invalidations_stay_in_their_prefix() {
        let dir = temp_dir("clear");
        let mut app = FileStore::open(&dir, "app").unwrap();
        let mut other = FileStore::open(&dir, "other").unwrap();
        let write = |store: &mut FileStore, key: &str| {
            store
                .set_many(&[(key.into(), entry("v", None, &["t"]))], 0)
                .unwrap()
        };
        write(&mut app, "users:1");
        write(&mut app, "posts:1");
        write(&mut other, "users:1");
        app.record_invalidations("delete", &["t".into()], 42)
            .unwrap();
        other
            .record_invalidations("expire", &["t".into()], 7)
            .unwrap();
        assert_eq!(app.invalidations().unwrap(), [("delete:t".to_string(), 42)]);

        assert!(app.expire("posts:1", 5).unwrap());
        assert!(!app.expire("missing", 5).unwrap());
        match &app.get_many(&["posts:1".into()], 5).unwrap()[0] {
            Read::Found(e) => assert_eq!(e.logical_expires_at, Some(5)),
            other => panic!("{other:?}"),
        }

        app.clear("users:").unwrap();
        let read = |store: &mut FileStore, key: &str| {
            found(&store.get_many(&[key.into()], 0).unwrap()[0]).is_some()
        };
        assert!(!read(&mut app, "users:1"));
        assert!(read(&mut app, "posts:1"));
        assert!(read(&mut other, "users:1"));
        assert_eq!(
            app.invalidations().unwrap().len(),
            1,
            "a namespace clear keeps records"
        );

        app.clear("").unwrap();
        assert!(!read(&mut app, "posts:1"));
        assert!(app.invalidations().unwrap().is_empty());
        assert_eq!(
            other.invalidations().unwrap(),
            [("expire:t".to_string(), 7)]
        );
        assert!(read(&mut other, "users:1"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_bytes_are_unreadable_and_a_foreign_layout_is_refused() {
        let dir = temp_dir("foreign");
        let mut store = FileStore::open(&dir, "").unwrap();
        store
            .connection
            .execute(
                "INSERT INTO entries (key, value) VALUES (?1, ?2)",
                params![b"k".to_vec(), b"junk".to_vec()],
            )
            .unwrap();
        assert!(matches!(
            store.get_many(&["k".into()], 0).unwrap()[0],
            Read::Unreadable(_)
        ));
        store
            .connection
            .pragma_update(None, "user_version", 99)
            .unwrap();
        drop(store);
        match FileStore::open(&dir, "") {
            Err(L2Error::Config(reason)) => assert!(reason.contains("version 99"), "{reason}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("opened a store of another layout"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_a_config_error() {
        let file = temp_dir("not-a-dir");
        std::fs::write(&file, b"a file").unwrap();
        match FileStore::open(&file.join("sub"), "") {
            Err(L2Error::Config(reason)) => assert!(reason.contains("cannot create"), "{reason}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("opened under a file"),
        }
        let _ = std::fs::remove_file(&file);
    }
}
