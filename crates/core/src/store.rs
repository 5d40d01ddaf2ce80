//! The SQLite file (DESIGN §3): schema, pragmas and every SQL statement the
//! vault runs. Nothing here knows a key; rows go in and out as bytes.
//!
//! Durability: WAL with `synchronous = FULL`, so a transaction that
//! committed survives a crash or power loss, and a crash at any instant
//! leaves either the old or the new vault. Writers take the write lock up
//! front (`BEGIN IMMEDIATE`) and wait up to the lock timeout for it.

use std::path::Path;
use std::time::Duration;

use crate::rollback::RollbackBinding;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};

/// `PRAGMA application_id`: "TSRA", so `file(1)` and we can tell a vault
/// from any other SQLite database.
const APPLICATION_ID: i32 = 0x5453_5241;
/// Schema version, in `PRAGMA user_version`: the newest this build reads.
/// Version 2 added `records`; a version-1 vault is raised to 2 the first
/// time a record is written (an older Tessera would count a record it
/// cannot see as tampering, so it must refuse the file as too new instead).
/// Version 3 added `rollback_binding`, for the same reason: a vault is
/// raised to 3 when it is bound to a TPM counter, and only then, so vaults
/// without a binding stay readable by a Tessera that knows version 2.
const SCHEMA_VERSION: i32 = 3;
/// The version that has `records`: what a new vault starts at.
const RECORDS_SCHEMA_VERSION: i32 = 2;
/// The version that has `rollback_binding`.
const ROLLBACK_SCHEMA_VERSION: i32 = 3;

const SCHEMA: &str = "
CREATE TABLE vault_meta (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    format_version      INTEGER NOT NULL,
    vault_id            BLOB    NOT NULL,
    created_at          INTEGER NOT NULL,
    current_key_version INTEGER NOT NULL,
    item_count          INTEGER NOT NULL,
    manifest_sum        BLOB    NOT NULL,
    audit_seq           INTEGER NOT NULL,
    audit_head          BLOB    NOT NULL,
    header_sha256       BLOB    NOT NULL,
    header_mac          BLOB    NOT NULL
);
CREATE TABLE slots (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL,
    label             TEXT    NOT NULL,
    params            BLOB    NOT NULL,
    wrapped_vault_key BLOB    NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE TABLE data_keys (
    version     INTEGER PRIMARY KEY,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE items (
    id          BLOB    NOT NULL UNIQUE,
    item_type   INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    revision    INTEGER NOT NULL,
    title_tag   BLOB    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    deleted_at  INTEGER
);
CREATE INDEX items_title_tag ON items (title_tag);
CREATE INDEX items_manifest ON items (id, revision, key_version);
CREATE INDEX items_key_version ON items (key_version);
CREATE TABLE item_history (
    item_id     BLOB    NOT NULL,
    revision    INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    ciphertext  BLOB    NOT NULL,
    PRIMARY KEY (item_id, revision)
);
CREATE INDEX item_history_key_version ON item_history (key_version);
CREATE TABLE attachments (
    id          BLOB    NOT NULL UNIQUE,
    item_id     BLOB    NOT NULL,
    key_version INTEGER NOT NULL,
    ciphertext  BLOB    NOT NULL
);
CREATE INDEX attachments_item ON attachments (item_id);
CREATE INDEX attachments_key_version ON attachments (key_version);
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    details BLOB    NOT NULL,
    hash    BLOB    NOT NULL
);
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE records (
    name       TEXT    PRIMARY KEY,
    revision   INTEGER NOT NULL,
    ciphertext BLOB    NOT NULL
);
";

/// What went wrong below the vault: the file, the lock or SQLite.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process held the write lock for longer than the timeout.
    #[error("the vault is busy: another Tessera process is writing to it")]
    Busy,
    /// SQLite reports the file damaged, or it is not an SQLite file.
    #[error("the vault file is damaged ({0})")]
    Corrupt(String),
    /// The file is an SQLite database but not a Tessera vault.
    #[error("this file is not a Tessera vault")]
    NotAVault,
    /// The vault was written by a newer Tessera.
    #[error("this vault uses schema version {found}; this Tessera understands up to {supported}. Upgrade Tessera")]
    TooNew {
        /// Version in the file.
        found: i32,
        /// Newest this build reads.
        supported: i32,
    },
    /// Any other SQLite failure (disk full, permissions, I/O…).
    #[error("vault storage error: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => StoreError::Busy,
            Some(DatabaseCorrupt | NotADatabase) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Sqlite(e.to_string()),
        }
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The single `vault_meta` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MetaRow {
    pub(crate) format_version: i64,
    pub(crate) vault_id: Vec<u8>,
    pub(crate) created_at: i64,
    pub(crate) current_key_version: i64,
    pub(crate) item_count: i64,
    pub(crate) manifest_sum: Vec<u8>,
    pub(crate) audit_seq: i64,
    pub(crate) audit_head: Vec<u8>,
    pub(crate) header_sha256: Vec<u8>,
    pub(crate) header_mac: Vec<u8>,
    /// The binding to a TPM counter (`rollback_binding`), if any.
    pub(crate) rollback: Option<RollbackBinding>,
}

/// One key slot as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlotRow {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) label: String,
    pub(crate) params: Vec<u8>,
    pub(crate) wrapped_vault_key: Vec<u8>,
    pub(crate) created_at: i64,
}

/// One wrapped data key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DataKeyRow {
    pub(crate) version: i64,
    pub(crate) wrapped_key: Vec<u8>,
    pub(crate) created_at: i64,
}

/// One item row: the sealed blob and the plaintext columns that index it.
/// The columns are a cache; the sealed payload is the truth, and rows are
/// checked against it when opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ItemRow {
    pub(crate) id: Vec<u8>,
    pub(crate) item_type: i64,
    pub(crate) key_version: i64,
    pub(crate) revision: i64,
    pub(crate) title_tag: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) deleted_at: Option<i64>,
}

/// The part of an item row the manifest covers.
pub(crate) struct ManifestRow {
    pub(crate) id: Vec<u8>,
    pub(crate) revision: i64,
    pub(crate) key_version: i64,
}

/// One earlier version of an item.
#[derive(Clone, Debug)]
pub(crate) struct HistoryRow {
    pub(crate) item_id: Vec<u8>,
    pub(crate) revision: i64,
    pub(crate) key_version: i64,
    pub(crate) ciphertext: Vec<u8>,
}

/// One attachment's sealed content.
#[derive(Clone, Debug)]
pub(crate) struct AttachmentRow {
    pub(crate) id: Vec<u8>,
    pub(crate) item_id: Vec<u8>,
    pub(crate) key_version: i64,
    pub(crate) ciphertext: Vec<u8>,
}

/// One audit-log entry.
#[derive(Clone, Debug)]
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) details: Vec<u8>,
    pub(crate) hash: Vec<u8>,
}

/// An open vault file.
pub(crate) struct Store {
    conn: Connection,
    lock_timeout: Duration,
}

impl Store {
    /// Creates a new, empty vault file at `path`, which must not exist.
    pub(crate) fn create(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL is a property of the file: set once here, it persists.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        conn.pragma_update(None, "user_version", RECORDS_SCHEMA_VERSION)?;
        conn.execute_batch(SCHEMA)?;
        let store = Store { conn, lock_timeout: Duration::ZERO };
        store.configure(Duration::ZERO)?;
        Ok(store)
    }

    /// Opens an existing vault file.
    pub(crate) fn open(path: &Path, lock_timeout: Duration) -> Result<Store> {
        // No SQLITE_OPEN_CREATE: a missing file must not become an empty one.
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        let store = Store { conn, lock_timeout };
        store.configure(lock_timeout)?;
        let app_id: i32 = store.conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version: i32 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if app_id != APPLICATION_ID {
            return Err(StoreError::NotAVault);
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version, supported: SCHEMA_VERSION });
        }
        if version < 1 {
            return Err(StoreError::NotAVault);
        }
        Ok(store)
    }

    fn configure(&self, lock_timeout: Duration) -> Result<()> {
        // FULL: fsync the WAL at every commit, so "saved" means on disk.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        // Overwrite freed pages, so purged items leave no ciphertext behind.
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        self.conn.pragma_update(None, "cell_size_check", "ON")?;
        self.conn.pragma_update(None, "trusted_schema", "OFF")?;
        self.conn.busy_timeout(lock_timeout)?;
        Ok(())
    }

    /// How long a writer waits for another process's lock.
    pub(crate) fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// Starts a read transaction: a consistent snapshot (WAL readers never
    /// block writers).
    pub(crate) fn read(&self) -> Result<Transaction<'_>> {
        // `unchecked_transaction` only because a read needs no `&mut`: the
        // vault never nests transactions on one connection.
        Ok(self.conn.unchecked_transaction()?)
    }

    /// Starts a write transaction, waiting up to the lock timeout for other
    /// writers. Everything it does commits together or not at all.
    pub(crate) fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Runs `f` in a write transaction only if the write lock is free right
    /// now: for advisory bookkeeping that must never make a reader wait.
    pub(crate) fn write_if_free<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.busy_timeout(Duration::ZERO)?;
        let result = (|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        self.conn.busy_timeout(self.lock_timeout)?;
        result
    }

    /// Runs SQLite's own structural check of the file.
    pub(crate) fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let problems: Vec<String> = rows.collect::<Result<_, _>>()?;
        Ok(problems.into_iter().filter(|p| p != "ok").collect())
    }
}

// --- slot_usage --------------------------------------------------------------
//
// When each slot last opened the vault, for `slot list`. Advisory, like a
// file's access time: outside the authenticated header, so recording it
// needs no Vault Key and tampering with it changes nothing but the display.
// Made on first use, so vaults from before it need no migration.

const SLOT_USAGE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS slot_usage (slot_id INTEGER PRIMARY KEY, last_used INTEGER NOT NULL)";

pub(crate) fn record_slot_use(tx: &Connection, slot: i64, at: i64) -> Result<()> {
    tx.execute_batch(SLOT_USAGE_TABLE)?;
    // Only for a slot that still exists: the session may have removed it.
    tx.execute(
        "INSERT INTO slot_usage (slot_id, last_used)
         SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM slots WHERE id = ?1)
         ON CONFLICT (slot_id) DO UPDATE SET last_used = excluded.last_used",
        params![slot, at],
    )?;
    Ok(())
}

pub(crate) fn forget_slot_use(tx: &Connection, slot: i64) -> Result<()> {
    if has_table(tx, "slot_usage")? {
        tx.execute("DELETE FROM slot_usage WHERE slot_id = ?1", [slot])?;
    }
    Ok(())
}

pub(crate) fn slot_usage(tx: &Connection) -> Result<Vec<(i64, i64)>> {
    if !has_table(tx, "slot_usage")? {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare("SELECT slot_id, last_used FROM slot_usage")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

fn has_table(tx: &Connection, name: &str) -> Result<bool> {
    let mut stmt = tx.prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?;
    Ok(stmt.exists([name])?)
}

// --- vault_meta ------------------------------------------------------------

pub(crate) fn insert_meta(tx: &Connection, m: &MetaRow) -> Result<()> {
    tx.execute(
        "INSERT INTO vault_meta (id, format_version, vault_id, created_at, current_key_version,
             item_count, manifest_sum, audit_seq, audit_head, header_sha256, header_mac)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            m.format_version,
            m.vault_id,
            m.created_at,
            m.current_key_version,
            m.item_count,
            m.manifest_sum,
            m.audit_seq,
            m.audit_head,
            m.header_sha256,
            m.header_mac
        ],
    )?;
    write_rollback_binding(tx, m.rollback)?;
    Ok(())
}

pub(crate) fn read_meta(tx: &Connection) -> Result<MetaRow> {
    tx.query_row(
        "SELECT format_version, vault_id, created_at, current_key_version, item_count,
                manifest_sum, audit_seq, audit_head, header_sha256, header_mac
         FROM vault_meta WHERE id = 1",
        [],
        |r| {
            Ok(MetaRow {
                format_version: r.get(0)?,
                vault_id: r.get(1)?,
                created_at: r.get(2)?,
                current_key_version: r.get(3)?,
                item_count: r.get(4)?,
                manifest_sum: r.get(5)?,
                audit_seq: r.get(6)?,
                audit_head: r.get(7)?,
                header_sha256: r.get(8)?,
                header_mac: r.get(9)?,
                rollback: None,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::Corrupt("the vault_meta row is missing".into()))
    .and_then(|mut m| {
        m.rollback = read_rollback_binding(tx)?;
        Ok(m)
    })
}

pub(crate) fn update_meta(tx: &Connection, m: &MetaRow) -> Result<()> {
    let n = tx.execute(
        "UPDATE vault_meta SET current_key_version = ?1, item_count = ?2, manifest_sum = ?3,
             audit_seq = ?4, audit_head = ?5, header_sha256 = ?6, header_mac = ?7
         WHERE id = 1",
        params![
            m.current_key_version,
            m.item_count,
            m.manifest_sum,
            m.audit_seq,
            m.audit_head,
            m.header_sha256,
            m.header_mac
        ],
    )?;
    if n != 1 {
        return Err(StoreError::Corrupt("the vault_meta row is missing".into()));
    }
    write_rollback_binding(tx, m.rollback)
}

// --- rollback_binding ------------------------------------------------------
//
// The vault's binding to a TPM counter (crate::rollback), part of the
// authenticated header. Made when a vault is first bound (schema 3), so
// vaults without one need no migration. Values are stored bit for bit in
// SQLite's signed integers.

const ROLLBACK_TABLE: &str = "CREATE TABLE IF NOT EXISTS rollback_binding (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    nv_index INTEGER NOT NULL,
    value    INTEGER NOT NULL
)";

fn read_rollback_binding(tx: &Connection) -> Result<Option<RollbackBinding>> {
    if !has_table(tx, "rollback_binding")? {
        return Ok(None);
    }
    let row: Option<(i64, i64)> = tx
        .prepare_cached("SELECT nv_index, value FROM rollback_binding WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(index, value)| {
        let index = u32::try_from(index)
            .map_err(|_| StoreError::Corrupt("the rollback binding's NV index is out of range".into()))?;
        Ok(RollbackBinding { index, value: value as u64 })
    })
    .transpose()
}

fn write_rollback_binding(tx: &Connection, binding: Option<RollbackBinding>) -> Result<()> {
    match binding {
        Some(b) => {
            if !has_table(tx, "rollback_binding")? {
                tx.execute_batch(ROLLBACK_TABLE)?;
                raise_schema(tx, ROLLBACK_SCHEMA_VERSION)?;
            }
            tx.prepare_cached(
                "INSERT INTO rollback_binding (id, nv_index, value) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET nv_index = excluded.nv_index, value = excluded.value",
            )?
            .execute(params![i64::from(b.index), b.value as i64])?;
        }
        None => {
            if has_table(tx, "rollback_binding")? {
                tx.execute("DELETE FROM rollback_binding", [])?;
            }
        }
    }
    Ok(())
}

// --- slots -----------------------------------------------------------------

pub(crate) fn read_slots(tx: &Connection) -> Result<Vec<SlotRow>> {
    let mut stmt =
        tx.prepare_cached("SELECT id, kind, label, params, wrapped_vault_key, created_at FROM slots ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(SlotRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            label: r.get(2)?,
            params: r.get(3)?,
            wrapped_vault_key: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn insert_slot(tx: &Connection, s: &SlotRow) -> Result<()> {
    tx.execute(
        "INSERT INTO slots (id, kind, label, params, wrapped_vault_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![s.id, s.kind, s.label, s.params, s.wrapped_vault_key, s.created_at],
    )?;
    Ok(())
}

pub(crate) fn replace_slot(tx: &Connection, s: &SlotRow) -> Result<bool> {
    let n = tx.execute(
        "UPDATE slots SET kind = ?2, label = ?3, params = ?4, wrapped_vault_key = ?5, created_at = ?6
         WHERE id = ?1",
        params![s.id, s.kind, s.label, s.params, s.wrapped_vault_key, s.created_at],
    )?;
    Ok(n == 1)
}

pub(crate) fn delete_slot(tx: &Connection, id: i64) -> Result<bool> {
    Ok(tx.execute("DELETE FROM slots WHERE id = ?1", [id])? == 1)
}

// --- data keys -------------------------------------------------------------

pub(crate) fn read_data_keys(tx: &Connection) -> Result<Vec<DataKeyRow>> {
    let mut stmt = tx.prepare_cached("SELECT version, wrapped_key, created_at FROM data_keys ORDER BY version")?;
    let rows =
        stmt.query_map([], |r| Ok(DataKeyRow { version: r.get(0)?, wrapped_key: r.get(1)?, created_at: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn insert_data_key(tx: &Connection, k: &DataKeyRow) -> Result<()> {
    tx.execute(
        "INSERT INTO data_keys (version, wrapped_key, created_at) VALUES (?1, ?2, ?3)",
        params![k.version, k.wrapped_key, k.created_at],
    )?;
    Ok(())
}

pub(crate) fn delete_data_key(tx: &Connection, version: i64) -> Result<()> {
    tx.execute("DELETE FROM data_keys WHERE version = ?1", [version])?;
    Ok(())
}

/// How many rows in any table are still sealed under `version`.
pub(crate) fn uses_of_key_version(tx: &Connection, version: i64) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT (SELECT count(*) FROM items WHERE key_version = ?1)
              + (SELECT count(*) FROM item_history WHERE key_version = ?1)
              + (SELECT count(*) FROM attachments WHERE key_version = ?1)",
        [version],
        |r| r.get(0),
    )?)
}

// --- items -----------------------------------------------------------------

const ITEM_COLUMNS: &str = "id, item_type, key_version, revision, title_tag, ciphertext,
    created_at, updated_at, expires_at, deleted_at";

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        id: r.get(0)?,
        item_type: r.get(1)?,
        key_version: r.get(2)?,
        revision: r.get(3)?,
        title_tag: r.get(4)?,
        ciphertext: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        expires_at: r.get(8)?,
        deleted_at: r.get(9)?,
    })
}

pub(crate) fn get_item(tx: &Connection, id: &[u8]) -> Result<Option<ItemRow>> {
    let mut stmt = tx.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?;
    Ok(stmt.query_row([id], item_row).optional()?)
}

pub(crate) fn item_exists(tx: &Connection, id: &[u8]) -> Result<bool> {
    let mut stmt = tx.prepare_cached("SELECT 1 FROM items WHERE id = ?1")?;
    Ok(stmt.exists([id])?)
}

pub(crate) fn item_ids_by_title_tag(tx: &Connection, tag: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut stmt = tx.prepare_cached("SELECT id FROM items WHERE title_tag = ?1")?;
    let rows = stmt.query_map([tag], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ids of every item, live or trashed (ids only: cheap even at 100,000).
pub(crate) fn all_item_ids(tx: &Connection) -> Result<Vec<Vec<u8>>> {
    let mut stmt = tx.prepare_cached("SELECT id FROM items")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn manifest_rows(tx: &Connection, mut each: impl FnMut(ManifestRow)) -> Result<()> {
    let mut stmt = tx.prepare_cached("SELECT id, revision, key_version FROM items")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        each(ManifestRow { id: r.get(0)?, revision: r.get(1)?, key_version: r.get(2)? });
    }
    Ok(())
}

/// Runs `sql` and calls `each` with its rows in batches of up to `batch`,
/// so a caller can decrypt a batch in parallel without holding every
/// ciphertext of a large vault in memory at once.
fn query_in_batches<T>(
    tx: &Connection,
    sql: &str,
    batch: usize,
    map: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    mut each: impl FnMut(Vec<T>) -> Result<(), StoreError>,
) -> Result<()> {
    let mut stmt = tx.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut buf = Vec::with_capacity(batch);
    while let Some(r) = rows.next()? {
        buf.push(map(r)?);
        if buf.len() == batch {
            each(std::mem::replace(&mut buf, Vec::with_capacity(batch)))?;
        }
    }
    if !buf.is_empty() {
        each(buf)?;
    }
    Ok(())
}

/// Every item row, in batches of up to `batch`, in rowid order.
pub(crate) fn item_rows_in_batches(
    tx: &Connection,
    batch: usize,
    each: impl FnMut(Vec<ItemRow>) -> Result<(), StoreError>,
) -> Result<()> {
    query_in_batches(tx, &format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY rowid"), batch, item_row, each)
}

pub(crate) fn insert_item(tx: &Connection, row: &ItemRow) -> Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO items ({ITEM_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))?;
    stmt.execute(params![
        row.id,
        row.item_type,
        row.key_version,
        row.revision,
        row.title_tag,
        row.ciphertext,
        row.created_at,
        row.updated_at,
        row.expires_at,
        row.deleted_at
    ])?;
    Ok(())
}

pub(crate) fn update_item(tx: &Connection, row: &ItemRow) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE items SET item_type = ?2, key_version = ?3, revision = ?4, title_tag = ?5,
             ciphertext = ?6, created_at = ?7, updated_at = ?8, expires_at = ?9, deleted_at = ?10
         WHERE id = ?1",
    )?;
    let n = stmt.execute(params![
        row.id,
        row.item_type,
        row.key_version,
        row.revision,
        row.title_tag,
        row.ciphertext,
        row.created_at,
        row.updated_at,
        row.expires_at,
        row.deleted_at
    ])?;
    if n != 1 {
        return Err(StoreError::Sqlite("an item row vanished during its update".into()));
    }
    Ok(())
}

pub(crate) fn delete_item(tx: &Connection, id: &[u8]) -> Result<()> {
    tx.execute("DELETE FROM item_history WHERE item_id = ?1", [id])?;
    tx.execute("DELETE FROM attachments WHERE item_id = ?1", [id])?;
    tx.execute("DELETE FROM items WHERE id = ?1", [id])?;
    Ok(())
}

/// Ids of item rows sealed under an older key version than `current`.
pub(crate) fn stale_item_ids(tx: &Connection, current: i64, limit: usize) -> Result<Vec<Vec<u8>>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM items WHERE key_version < ?1
         UNION SELECT item_id FROM item_history WHERE key_version < ?1
         UNION SELECT item_id FROM attachments WHERE key_version < ?1
         LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![current, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn count_stale(tx: &Connection, current: i64) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM (SELECT id FROM items WHERE key_version < ?1
             UNION SELECT item_id FROM item_history WHERE key_version < ?1
             UNION SELECT item_id FROM attachments WHERE key_version < ?1)",
        [current],
        |r| r.get(0),
    )?)
}

// --- history ---------------------------------------------------------------

pub(crate) fn insert_history(tx: &Connection, h: &HistoryRow) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO item_history (item_id, revision, key_version, ciphertext)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![h.item_id, h.revision, h.key_version, h.ciphertext])?;
    Ok(())
}

fn history_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    Ok(HistoryRow { item_id: r.get(0)?, revision: r.get(1)?, key_version: r.get(2)?, ciphertext: r.get(3)? })
}

/// Earlier versions of an item, newest first.
pub(crate) fn history_of(tx: &Connection, item: &[u8]) -> Result<Vec<HistoryRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT item_id, revision, key_version, ciphertext FROM item_history
         WHERE item_id = ?1 ORDER BY revision DESC",
    )?;
    let rows = stmt.query_map([item], history_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn delete_history(tx: &Connection, item: &[u8], revision: i64) -> Result<()> {
    tx.execute("DELETE FROM item_history WHERE item_id = ?1 AND revision = ?2", params![item, revision])?;
    Ok(())
}

/// Every history row, in batches of up to `batch`.
pub(crate) fn all_history_in_batches(
    tx: &Connection,
    batch: usize,
    each: impl FnMut(Vec<HistoryRow>) -> Result<(), StoreError>,
) -> Result<()> {
    query_in_batches(
        tx,
        "SELECT item_id, revision, key_version, ciphertext FROM item_history",
        batch,
        history_row,
        each,
    )
}

// --- attachments -----------------------------------------------------------

pub(crate) fn insert_attachment(tx: &Connection, a: &AttachmentRow) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO attachments (id, item_id, key_version, ciphertext) VALUES (?1, ?2, ?3, ?4)",
        params![a.id, a.item_id, a.key_version, a.ciphertext],
    )?;
    Ok(())
}

pub(crate) fn get_attachment(tx: &Connection, id: &[u8]) -> Result<Option<AttachmentRow>> {
    Ok(tx
        .query_row("SELECT id, item_id, key_version, ciphertext FROM attachments WHERE id = ?1", [id], |r| {
            Ok(AttachmentRow { id: r.get(0)?, item_id: r.get(1)?, key_version: r.get(2)?, ciphertext: r.get(3)? })
        })
        .optional()?)
}

pub(crate) fn attachment_ids_of(tx: &Connection, item: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut stmt = tx.prepare_cached("SELECT id FROM attachments WHERE item_id = ?1")?;
    let rows = stmt.query_map([item], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn all_attachment_ids(tx: &Connection) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut stmt = tx.prepare_cached("SELECT id, item_id FROM attachments")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn delete_attachment(tx: &Connection, id: &[u8]) -> Result<()> {
    tx.execute("DELETE FROM attachments WHERE id = ?1", [id])?;
    Ok(())
}

// --- audit -----------------------------------------------------------------

pub(crate) fn insert_audit(tx: &Connection, a: &AuditRow) -> Result<()> {
    tx.prepare_cached("INSERT INTO audit (seq, at, details, hash) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![a.seq, a.at, a.details, a.hash])?;
    Ok(())
}

pub(crate) fn audit_rows(tx: &Connection) -> Result<Vec<AuditRow>> {
    let mut stmt = tx.prepare("SELECT seq, at, details, hash FROM audit ORDER BY seq")?;
    let rows =
        stmt.query_map([], |r| Ok(AuditRow { seq: r.get(0)?, at: r.get(1)?, details: r.get(2)?, hash: r.get(3)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// --- sync state -------------------------------------------------------------

/// (id, revision) of every item row.
pub(crate) fn item_revisions(tx: &Connection) -> Result<Vec<(Vec<u8>, i64)>> {
    let mut stmt = tx.prepare_cached("SELECT id, revision FROM items")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The sealed root of this device's sync state, if it has an account.
pub(crate) fn get_sync_state(tx: &Connection) -> Result<Option<Vec<u8>>> {
    Ok(tx.query_row("SELECT value FROM sync_state WHERE key = 'state'", [], |r| r.get(0)).optional()?)
}

pub(crate) fn put_sync_state(tx: &Connection, sealed: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT INTO sync_state (key, value) VALUES ('state', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [sealed],
    )?;
    Ok(())
}

/// Forgets the whole sync state: its root and every part.
pub(crate) fn clear_sync_state(tx: &Connection) -> Result<()> {
    tx.execute("DELETE FROM sync_state", [])?;
    Ok(())
}

/// Where part `name` of the sync state is kept (apart from the root,
/// `state`).
const SYNC_PART_PREFIX: &str = "part:";

/// A part's name from its row's key. Any other key is not ours to read:
/// it is named as it is, and the root's check refuses it.
fn sync_part_name(key: String) -> String {
    match key.strip_prefix(SYNC_PART_PREFIX) {
        Some(name) => name.to_owned(),
        None => key,
    }
}

/// Every sealed part of the sync state, by name, in name order.
pub(crate) fn sync_state_parts(tx: &Connection) -> Result<Vec<(String, Vec<u8>)>> {
    let mut stmt = tx.prepare_cached("SELECT key, value FROM sync_state WHERE key <> 'state' ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((sync_part_name(r.get(0)?), r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every part's name and the first and last `ends` bytes of its sealed
/// value, one after the other (where a blob's nonce and tag are), in name
/// order, without reading the rest.
pub(crate) fn sync_state_part_ends(tx: &Connection, ends: usize) -> Result<Vec<(String, Vec<u8>)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT key, substr(value, 1, ?1), substr(value, -?1) FROM sync_state WHERE key <> 'state' ORDER BY key",
    )?;
    let rows = stmt.query_map([ends as i64], |r| {
        let (mut head, tail): (Vec<u8>, Vec<u8>) = (r.get(1)?, r.get(2)?);
        head.extend_from_slice(&tail);
        Ok((sync_part_name(r.get(0)?), head))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn put_sync_state_part(tx: &Connection, name: &str, sealed: Option<&[u8]>) -> Result<()> {
    let key = format!("{SYNC_PART_PREFIX}{name}");
    match sealed {
        Some(value) => tx.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rusqlite::params![key, value],
        )?,
        None => tx.execute("DELETE FROM sync_state WHERE key = ?1", [key])?,
    };
    Ok(())
}

// --- records ------------------------------------------------------------------
//
// The vault's own sealed settings that are not items (see `vault::records`).
// Vaults made before schema version 2 get the table the first time a record
// is written.

const RECORDS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, ciphertext BLOB NOT NULL)";

/// One named record as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordRow {
    pub(crate) name: String,
    pub(crate) revision: i64,
    pub(crate) ciphertext: Vec<u8>,
}

pub(crate) fn get_record(tx: &Connection, name: &str) -> Result<Option<RecordRow>> {
    if !has_table(tx, "records")? {
        return Ok(None);
    }
    Ok(tx
        .prepare_cached("SELECT name, revision, ciphertext FROM records WHERE name = ?1")?
        .query_row([name], |r| Ok(RecordRow { name: r.get(0)?, revision: r.get(1)?, ciphertext: r.get(2)? }))
        .optional()?)
}

/// Every record row, for the manifest and `verify`.
pub(crate) fn all_records(tx: &Connection) -> Result<Vec<RecordRow>> {
    if !has_table(tx, "records")? {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare_cached("SELECT name, revision, ciphertext FROM records")?;
    let rows = stmt.query_map([], |r| Ok(RecordRow { name: r.get(0)?, revision: r.get(1)?, ciphertext: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn put_record(tx: &Connection, row: &RecordRow) -> Result<()> {
    if !has_table(tx, "records")? {
        tx.execute_batch(RECORDS_TABLE)?;
    }
    raise_schema(tx, RECORDS_SCHEMA_VERSION)?;
    tx.prepare_cached(
        "INSERT INTO records (name, revision, ciphertext) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, ciphertext = excluded.ciphertext",
    )?
    .execute(params![row.name, row.revision, row.ciphertext])?;
    Ok(())
}

fn raise_schema(tx: &Connection, to: i32) -> Result<()> {
    let version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < to {
        tx.pragma_update(None, "user_version", to)?;
    }
    Ok(())
}

pub(crate) fn delete_record(tx: &Connection, name: &str) -> Result<()> {
    if has_table(tx, "records")? {
        tx.execute("DELETE FROM records WHERE name = ?1", [name])?;
    }
    Ok(())
}
