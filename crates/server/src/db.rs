//! The one place that speaks SQL. The same migrations and queries serve
//! SQLite and PostgreSQL through sqlx's `Any` driver: TEXT and BIGINT
//! columns only, `$n` placeholders (both engines accept them), and every
//! write transaction starts with a write so SQLite takes its lock up front
//! instead of failing to upgrade a read lock under contention.

use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};
use tessera_sync::wire::{AccountEvent, Change, Changes, IndexEntry, Limit, PushRequest, StaleItem, VaultIndex};

/// How many earlier revisions of each item the server keeps.
pub const KEPT_REVISIONS: i64 = 5;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_usage_and_retention.sql")),
    (3, include_str!("../migrations/0003_sharing.sql")),
    (4, include_str!("../migrations/0004_device_pushes.sql")),
    (5, include_str!("../migrations/0005_share_answer_tags.sql")),
];

mod shares;
pub use shares::{Caller, ShareIndexAnswer, ShareRefused};

/// A storage failure (the database is away or refused a query).
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(#[from] sqlx::Error);

type Result<T> = std::result::Result<T, DbError>;

/// The connection pool.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// SQLite has one writer at a time, and a connection that finds the
    /// lock taken sleeps in SQLite's busy handler (up to 100 ms a nap).
    /// Writers of this process queue here instead; PostgreSQL locks rows
    /// and needs none.
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// An account row, minus the item data.
pub struct Account {
    pub id: String,
    pub email: String,
    pub auth_hash: String,
    pub salt: String,
    pub kdf: String,
    pub wrapped_vault_key: String,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: i64,
    pub failed_logins: i64,
    pub locked_until: i64,
}

/// A new account.
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub auth_hash: &'a str,
    pub salt: &'a str,
    pub kdf: &'a str,
    pub wrapped_vault_key: &'a str,
    pub manifest: &'a str,
    pub now: i64,
}

/// What became of a refresh token.
pub enum Refresh {
    /// Used for the first time: a new token was stored for the device.
    Rotated { account: String, device: String },
    /// Used before: the device was revoked.
    Reused { account: String, device: String },
    /// Expired, unknown, or its device was revoked.
    Invalid,
}

/// Why a push was refused.
pub enum PushRefused {
    /// Items' base revisions are not their current ones.
    Stale(Vec<StaleItem>),
    /// Another device pushed a manifest since this one pulled.
    ManifestStale,
    /// The account is gone.
    NoAccount,
    /// The batch would take the account past a quota.
    OverQuota(Limit),
}

/// Per-account quotas a push is checked against.
#[derive(Clone, Copy, Debug)]
pub struct Quotas {
    /// Live (not deleted) items.
    pub items: u64,
    /// Bytes of sealed items, as [`sealed_len`] counts them.
    pub bytes: u64,
}

/// The size a stored blob counts for: its base64 length / 4 * 3, the
/// formula migration 0002 uses too.
pub fn sealed_len(blob: &str) -> i64 {
    blob.len() as i64 / 4 * 3
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Db {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        install_default_drivers();
        let url = if let Some(path) = url.strip_prefix("sqlite:") {
            let file = path.split('?').next().unwrap_or(path).trim_start_matches("//");
            create_private(file)?;
            if path.contains('?') { url.to_string() } else { format!("sqlite:{path}?mode=rwc") }
        } else {
            url.to_string()
        };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA wal_autocheckpoint = 0;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
        let db = Db { pool, writer: sqlite.then(|| std::sync::Arc::new(tokio::sync::Mutex::new(()))) };
        db.migrate().await.context("cannot migrate the database")?;
        if sqlite {
            // Checkpoints (and their fsync) run here, every half second,
            // instead of inside whichever commit crossed the threshold.
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_all(&pool).await {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                    }
                }
            });
        }
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            // The insert doubles as the lock: two instances starting at once
            // apply a migration once; its statements are idempotent anyway.
            let fresh = sqlx::query(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
            )
            .bind(*version)
            .bind(now_ms() / 1000)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if fresh {
                for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty() && !is_comment(s)) {
                    // Our own migration files, compiled in.
                    tx.execute(sqlx::AssertSqlSafe(statement)).await?;
                }
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Waits for this process's turn to write (SQLite only).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writer {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// Checks the database answers.
    pub async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Connections open and idle, for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    // --- accounts ---------------------------------------------------------

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        self.account_where(
            "SELECT id, email, auth_hash, salt, kdf, wrapped_vault_key, totp_secret, totp_enabled, totp_last_step,
                    failed_logins, locked_until
             FROM accounts WHERE email = $1",
            email,
        )
        .await
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.account_where(
            "SELECT id, email, auth_hash, salt, kdf, wrapped_vault_key, totp_secret, totp_enabled, totp_last_step,
                    failed_logins, locked_until
             FROM accounts WHERE id = $1",
            id,
        )
        .await
    }

    async fn account_where(&self, sql: &'static str, value: &str) -> Result<Option<Account>> {
        let row = sqlx::query(sql).bind(value).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(Account {
                id: r.try_get(0)?,
                email: r.try_get(1)?,
                auth_hash: r.try_get(2)?,
                salt: r.try_get(3)?,
                kdf: r.try_get(4)?,
                wrapped_vault_key: r.try_get(5)?,
                totp_secret: r.try_get(6)?,
                totp_enabled: r.try_get::<i64, _>(7)? != 0,
                totp_last_step: r.try_get(8)?,
                failed_logins: r.try_get(9)?,
                locked_until: r.try_get(10)?,
            })
        })
        .transpose()
        .map_err(DbError)
    }

    /// Creates an account; `false` if the email is taken.
    pub async fn create_account(&self, a: &NewAccount<'_>) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query(
            "INSERT INTO accounts (id, email, auth_hash, salt, kdf, wrapped_vault_key, manifest, manifest_version, seq,
                                   totp_secret, totp_enabled, totp_last_step, failed_logins, locked_until, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, NULL, 0, 0, 0, 0, $8)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(a.id)
        .bind(a.email)
        .bind(a.auth_hash)
        .bind(a.salt)
        .bind(a.kdf)
        .bind(a.wrapped_vault_key)
        .bind(a.manifest)
        .bind(a.now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Deletes an account and everything it owns, in one transaction.
    pub async fn delete_account(&self, id: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for statement in [
            "DELETE FROM items WHERE account_id = $1",
            "DELETE FROM item_revisions WHERE account_id = $1",
            "DELETE FROM refresh_tokens WHERE account_id = $1",
            "DELETE FROM devices WHERE account_id = $1",
            "DELETE FROM recovery_codes WHERE account_id = $1",
            "DELETE FROM account_events WHERE account_id = $1",
            "DELETE FROM identities WHERE account_id = $1",
            "DELETE FROM share_grants WHERE account_id = $1",
            "UPDATE share_members SET role = 'removed' WHERE account_id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_login_failures(&self, id: &str, failed: i64, locked_until: i64) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE accounts SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(failed)
            .bind(locked_until)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets (or with `None` clears) the TOTP secret; `enabled` switches it on.
    pub async fn set_totp(&self, id: &str, secret: Option<&str>, enabled: bool) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE accounts SET totp_secret = $1, totp_enabled = $2 WHERE id = $3")
            .bind(secret)
            .bind(i64::from(enabled))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the TOTP time step just used; `false` if it (or a later one)
    /// was used before: a code works once.
    pub async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query("UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn replace_recovery_codes(&self, id: &str, hashes: &[String]) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                .bind(id)
                .bind(h)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Spends a recovery code; `false` if there is no such unused code.
    pub async fn use_recovery_code(&self, id: &str, hash: &str) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1 AND code_hash = $2")
            .bind(id)
            .bind(hash)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    // --- devices and refresh tokens ----------------------------------------

    pub async fn create_device(
        &self,
        account: &str,
        device: &str,
        name: &str,
        token_hash: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO devices (id, account_id, name, created_at, revoked) VALUES ($1, $2, $3, $4, 0)")
            .bind(device)
            .bind(account)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_refresh(&mut tx, token_hash, device, account, expires_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `device` belongs to `account` and is not revoked.
    pub async fn device_active(&self, account: &str, device: &str) -> Result<bool> {
        let row = sqlx::query("SELECT revoked FROM devices WHERE id = $1 AND account_id = $2")
            .bind(device)
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>(0)? == 0,
            None => false,
        })
    }

    pub async fn device_name(&self, device: &str) -> Result<String> {
        let row = sqlx::query("SELECT name FROM devices WHERE id = $1").bind(device).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or_default())
    }

    /// Trades a refresh token for a new one. A token can be traded once: a
    /// second use means it leaked, so the whole device is revoked.
    pub async fn rotate_refresh(&self, old_hash: &str, new_hash: &str, new_expires: i64, now: i64) -> Result<Refresh> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let won =
            sqlx::query("UPDATE refresh_tokens SET used = 1 WHERE token_hash = $1 AND used = 0 AND expires_at > $2")
                .bind(old_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        let row = sqlx::query(
            "SELECT t.device_id, t.account_id, t.used, d.revoked FROM refresh_tokens t
             JOIN devices d ON d.id = t.device_id WHERE t.token_hash = $1",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(Refresh::Invalid);
        };
        let device: String = row.try_get(0)?;
        let account: String = row.try_get(1)?;
        let revoked = row.try_get::<i64, _>(3)? != 0;
        let outcome = if revoked {
            Refresh::Invalid
        } else if won {
            insert_refresh(&mut tx, new_hash, &device, &account, new_expires).await?;
            Refresh::Rotated { account, device }
        } else if row.try_get::<i64, _>(2)? != 0 {
            revoke(&mut tx, &device).await?;
            Refresh::Reused { account, device }
        } else {
            Refresh::Invalid // expired
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// The account's devices, newest first.
    pub async fn devices(&self, account: &str) -> Result<Vec<(String, String, i64, bool)>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, revoked FROM devices WHERE account_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get::<i64, _>(3)? != 0)))
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(DbError)
    }

    /// Revokes `device` if it is `account`'s; `false` otherwise.
    pub async fn revoke_device_of(&self, account: &str, device: &str) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("UPDATE devices SET revoked = 1 WHERE id = $1 AND account_id = $2")
            .bind(device)
            .bind(account)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            revoke(&mut tx, device).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Revokes a device: its refresh tokens and access tokens stop working.
    pub async fn revoke_device(&self, device: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        revoke(&mut tx, device).await?;
        tx.commit().await?;
        Ok(())
    }

    // --- the account's event log -------------------------------------------

    pub async fn log_event(&self, account: &str, event: &str, device: &str, address: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO account_events (account_id, at, event, device, address) VALUES ($1, $2, $3, $4, $5)")
            .bind(account)
            .bind(now_ms() / 1000)
            .bind(event)
            .bind(device)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Erases the client address of every event older than `before` (Unix
    /// seconds); returns how many were erased. The column is `NOT NULL`
    /// (SQLite cannot drop that without rebuilding the table), so an
    /// erased address is the empty string.
    pub async fn forget_addresses(&self, before: i64) -> Result<u64> {
        let _turn = self.write_turn().await;
        let n = sqlx::query("UPDATE account_events SET address = '' WHERE at < $1 AND address <> ''")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n)
    }

    /// The latest 500 events, newest first.
    pub async fn events(&self, account: &str) -> Result<Vec<AccountEvent>> {
        let rows = sqlx::query(
            "SELECT at, event, device, address FROM account_events WHERE account_id = $1 ORDER BY at DESC LIMIT 500",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountEvent {
                    at: r.try_get(0)?,
                    event: r.try_get(1)?,
                    device: r.try_get(2)?,
                    address: r.try_get(3)?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(DbError)
    }

    // --- vault data -----------------------------------------------------------

    /// The signed manifest and every item's revision, in one read transaction.
    /// The account's index, with the manifest version of the last push
    /// `device` made.
    pub async fn index(&self, account: &str, device: &str) -> Result<Option<VaultIndex>> {
        let mut tx = self.pool.begin().await?;
        let Some(head) = sqlx::query("SELECT manifest, manifest_version, seq FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        // One row instead of one per item: the driver's per-row cost was
        // most of the time at 10,000 items. `string_agg` is standard in
        // PostgreSQL and in SQLite since 3.44.
        let packed: Option<String> = sqlx::query(
            "SELECT string_agg(item_id || ':' || revision || ':' || deleted, ',') FROM items WHERE account_id = $1",
        )
        .bind(account)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let device_pushed = sqlx::query("SELECT last_push_version FROM devices WHERE id = $1 AND account_id = $2")
            .bind(device)
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .map(|v| v as u64);
        tx.commit().await?;
        let items = packed.as_deref().map_or_else(|| Ok(Vec::new()), unpack_index)?;
        Ok(Some(VaultIndex {
            manifest: head.try_get(0)?,
            manifest_version: head.try_get::<i64, _>(1)? as u64,
            seq: head.try_get::<i64, _>(2)? as u64,
            items,
            device_pushed,
        }))
    }

    /// Changes after `since`, oldest first, at most `limit`.
    pub async fn changes(&self, account: &str, since: u64, limit: u32) -> Result<Changes> {
        let rows = sqlx::query(
            "SELECT item_id, revision, seq, deleted, blob FROM items
             WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(account)
        .bind(since as i64)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        changes_page(&rows, since, limit)
    }

    /// Applies a push in one transaction, or refuses it whole. A push that
    /// would take the account past a quota is refused unless it shrinks
    /// that measure (deleting must work for an account already over a
    /// quota lowered since).
    pub async fn push(
        &self,
        account: &str,
        device: &str,
        push: &PushRequest,
        quotas: Quotas,
    ) -> Result<std::result::Result<u64, PushRefused>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // A write first: takes SQLite's write lock and PostgreSQL's row lock.
        let Some(head) = sqlx::query(
            "UPDATE accounts SET seq = seq WHERE id = $1 RETURNING manifest_version, seq, live_items, stored_bytes",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(PushRefused::NoAccount));
        };
        let manifest_version = head.try_get::<i64, _>(0)? as u64;
        let mut seq = head.try_get::<i64, _>(1)?;
        let (items_before, bytes_before) = (head.try_get::<i64, _>(2)?, head.try_get::<i64, _>(3)?);
        if manifest_version != push.base_manifest_version {
            return Ok(Err(PushRefused::ManifestStale));
        }
        let mut stale = Vec::new();
        let (mut items_after, mut bytes_after) = (items_before, bytes_before);
        for item in &push.items {
            let current = sqlx::query(
                "SELECT revision, deleted, CAST(LENGTH(blob) AS BIGINT) FROM items WHERE account_id = $1 AND item_id = $2",
            )
            .bind(account)
            .bind(&item.id)
            .fetch_optional(&mut *tx)
            .await?;
            let (revision, was_live, old_bytes) = match current {
                Some(r) => {
                    (r.try_get::<i64, _>(0)? as u64, r.try_get::<i64, _>(1)? == 0, r.try_get::<i64, _>(2)? / 4 * 3)
                }
                None => (0, false, 0),
            };
            if revision != item.base_revision {
                stale.push(StaleItem { id: item.id.clone(), revision });
            }
            items_after += i64::from(!item.deleted) - i64::from(was_live);
            bytes_after += sealed_len(&item.blob) - old_bytes;
        }
        if !stale.is_empty() {
            return Ok(Err(PushRefused::Stale(stale)));
        }
        if items_after > items_before && items_after as u64 > quotas.items {
            return Ok(Err(PushRefused::OverQuota(Limit::new("items", quotas.items))));
        }
        if bytes_after > bytes_before && bytes_after as u64 > quotas.bytes {
            return Ok(Err(PushRefused::OverQuota(Limit::new("bytes", quotas.bytes))));
        }
        for item in &push.items {
            seq += 1;
            let revision = item.base_revision as i64 + 1;
            let deleted = i64::from(item.deleted);
            if item.base_revision == 0 {
                sqlx::query(
                    "INSERT INTO items (account_id, item_id, revision, seq, deleted, blob) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(account)
                .bind(&item.id)
                .bind(revision)
                .bind(seq)
                .bind(deleted)
                .bind(&item.blob)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE items SET revision = $1, seq = $2, deleted = $3, blob = $4
                     WHERE account_id = $5 AND item_id = $6",
                )
                .bind(revision)
                .bind(seq)
                .bind(deleted)
                .bind(&item.blob)
                .bind(account)
                .bind(&item.id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO item_revisions (account_id, item_id, revision, deleted, blob) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(account)
            .bind(&item.id)
            .bind(revision)
            .bind(deleted)
            .bind(&item.blob)
            .execute(&mut *tx)
            .await?;
            if revision > KEPT_REVISIONS {
                sqlx::query("DELETE FROM item_revisions WHERE account_id = $1 AND item_id = $2 AND revision <= $3")
                    .bind(account)
                    .bind(&item.id)
                    .bind(revision - KEPT_REVISIONS)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "UPDATE accounts SET manifest = $1, manifest_version = $2, seq = $3, live_items = $4, stored_bytes = $5
             WHERE id = $6",
        )
        .bind(&push.manifest)
        .bind(push.manifest_version as i64)
        .bind(seq)
        .bind(items_after)
        .bind(bytes_after)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE devices SET last_push_version = $1 WHERE id = $2 AND account_id = $3")
            .bind(push.manifest_version as i64)
            .bind(device)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(seq as u64))
    }
}

/// A page of changes from rows of (item id, revision, seq, deleted, blob),
/// fetched with one row more than `limit` to tell whether more follow.
fn changes_page(rows: &[sqlx::any::AnyRow], since: u64, limit: u32) -> Result<Changes> {
    let more = rows.len() > limit as usize;
    let changes: Vec<Change> = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            Ok(Change {
                id: r.try_get(0)?,
                revision: r.try_get::<i64, _>(1)? as u64,
                seq: r.try_get::<i64, _>(2)? as u64,
                deleted: r.try_get::<i64, _>(3)? != 0,
                blob: r.try_get(4)?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()?;
    let next = changes.last().map_or(since, |c| c.seq);
    Ok(Changes { changes, next, more })
}

/// Parses `id:revision:deleted,…` as written by the index query.
fn unpack_index(packed: &str) -> Result<Vec<IndexEntry>> {
    let bad = || DbError(sqlx::Error::Protocol("malformed index row".into()));
    packed
        .split(',')
        .map(|entry| {
            let mut parts = entry.split(':');
            let (Some(id), Some(revision), Some(deleted), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            Ok(IndexEntry {
                id: id.to_owned(),
                revision: revision.parse().map_err(|_| bad())?,
                deleted: deleted != "0",
            })
        })
        .collect()
}

async fn insert_refresh(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token_hash: &str,
    device: &str,
    account: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, device_id, account_id, expires_at, used) VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(token_hash)
    .bind(device)
    .bind(account)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke(tx: &mut sqlx::Transaction<'_, sqlx::Any>, device: &str) -> Result<()> {
    sqlx::query("UPDATE devices SET revoked = 1 WHERE id = $1").bind(device).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE device_id = $1 AND used = 0").bind(device).execute(&mut **tx).await?;
    Ok(())
}

/// Creates the SQLite file with mode 0600 before SQLite does (it would use
/// the umask): it holds password hashes. SQLite gives its -wal and -shm
/// files the same mode.
fn create_private(file: &str) -> anyhow::Result<()> {
    if file.is_empty() || file == ":memory:" || std::path::Path::new(file).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create the database file {file}")),
    }
}

fn is_comment(statement: &str) -> bool {
    statement.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
