-- One schema for SQLite and PostgreSQL: TEXT and BIGINT only, binary
-- values as base64 text, no autoincrement (ids are random).
CREATE TABLE IF NOT EXISTS accounts (
    id                TEXT   PRIMARY KEY,
    email             TEXT   NOT NULL UNIQUE,
    auth_hash         TEXT   NOT NULL,
    salt              TEXT   NOT NULL,
    kdf               TEXT   NOT NULL,
    wrapped_vault_key TEXT   NOT NULL,
    manifest          TEXT   NOT NULL,
    manifest_version  BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    totp_secret       TEXT,
    totp_enabled      BIGINT NOT NULL,
    totp_last_step    BIGINT NOT NULL,
    failed_logins     BIGINT NOT NULL,
    locked_until      BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    id         TEXT   PRIMARY KEY,
    account_id TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_account ON devices (account_id);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT   PRIMARY KEY,
    device_id  TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    used       BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_device ON refresh_tokens (device_id);
CREATE TABLE IF NOT EXISTS items (
    account_id TEXT   NOT NULL,
    item_id    TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    deleted    BIGINT NOT NULL,
    blob       TEXT   NOT NULL,
    PRIMARY KEY (account_id, item_id)
);
CREATE INDEX IF NOT EXISTS items_seq ON items (account_id, seq);
CREATE TABLE IF NOT EXISTS item_revisions (
    account_id TEXT   NOT NULL,
    item_id    TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    deleted    BIGINT NOT NULL,
    blob       TEXT   NOT NULL,
    PRIMARY KEY (account_id, item_id, revision)
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    account_id TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    PRIMARY KEY (account_id, code_hash)
);
CREATE TABLE IF NOT EXISTS account_events (
    account_id TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    event      TEXT   NOT NULL,
    device     TEXT   NOT NULL,
    address    TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS account_events_account ON account_events (account_id, at);
