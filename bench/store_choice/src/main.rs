//! How the file tier's store was chosen: redb and SQLite (rusqlite, bundled), 10,000 sets
//! then 10,000 gets of ~100-byte values, one transaction per write as a cache makes them, at
//! each store's durability settings. Standalone (not in the workspace, so its crates are
//! not built by `npm run build`): `cargo run --release -- <directory>` from this folder.

use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use rusqlite::{params, Connection};
use std::time::Instant;

const T: TableDefinition<&str, &[u8]> = TableDefinition::new("entries");
const N: usize = 10_000;

fn keys() -> Vec<String> {
    (0..N).map(|i| format!("bentocache:users:{i}")).collect()
}
fn value(i: usize) -> Vec<u8> {
    format!("{{\"id\":{i},\"name\":\"user number {i}\",\"email\":\"user{i}@example.com\",\"x\":\"{}\"}}", "y".repeat(20)).into_bytes()
}

fn per_op(label: &str, t: Instant) {
    let e = t.elapsed();
    println!("{label:50} {:8.2} µs/op", e.as_secs_f64() * 1e6 / N as f64);
}

fn redb_run(dir: &str, durability: Durability, label: &str) {
    let path = format!("{dir}/redb-{label}.redb");
    let _ = std::fs::remove_file(&path);
    let db = Database::create(&path).unwrap();
    let k = keys();
    let t = Instant::now();
    for (i, key) in k.iter().enumerate() {
        let mut tx = db.begin_write().unwrap();
        tx.set_durability(durability).unwrap();
        {
            let mut tab = tx.open_table(T).unwrap();
            tab.insert(key.as_str(), value(i).as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    per_op(&format!("redb {label}: set, 1 txn per write"), t);
    let t = Instant::now();
    let mut total = 0;
    for key in &k {
        let tx = db.begin_read().unwrap();
        let tab = tx.open_table(T).unwrap();
        total += tab.get(key.as_str()).unwrap().unwrap().value().len();
    }
    per_op(&format!("redb {label}: get, 1 txn per read"), t);
    assert!(total > 0);
}

fn sqlite_run(dir: &str, sync: &str) {
    let path = format!("{dir}/sqlite-{sync}.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", sync).unwrap();
    c.execute_batch("CREATE TABLE entries (key BLOB PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER) WITHOUT ROWID").unwrap();
    let k = keys();
    let t = Instant::now();
    for (i, key) in k.iter().enumerate() {
        let tx = c.unchecked_transaction().unwrap();
        tx.prepare_cached(
            "INSERT OR REPLACE INTO entries (key, value, expires_at) VALUES (?1, ?2, ?3)",
        )
        .unwrap()
        .execute(params![key.as_bytes(), value(i), 1_900_000_000_000i64])
        .unwrap();
        tx.commit().unwrap();
    }
    per_op(
        &format!("sqlite WAL synchronous={sync}: set, 1 txn per write"),
        t,
    );
    let t = Instant::now();
    let mut total = 0;
    for key in &k {
        let v: Vec<u8> = c
            .prepare_cached("SELECT value FROM entries WHERE key = ?1")
            .unwrap()
            .query_row(params![key.as_bytes()], |r| r.get(0))
            .unwrap();
        total += v.len();
    }
    per_op(&format!("sqlite WAL synchronous={sync}: get"), t);
    assert!(total > 0);
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or("target/store-choice-data".into());
    std::fs::create_dir_all(&dir).unwrap();
    println!("value bytes: {}", value(5000).len());
    redb_run(&dir, Durability::Immediate, "immediate");
    redb_run(&dir, Durability::None, "none");
    sqlite_run(&dir, "NORMAL");
    sqlite_run(&dir, "FULL");
}
