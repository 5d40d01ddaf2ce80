-- Sharing (DESIGN §11): published identities, shares, their signed
-- membership chains (stored as the clients signed them: the server reads
-- the public fields to enforce roles, the clients verify everything),
-- members, per-epoch key grants and the shares' sealed items.
CREATE TABLE IF NOT EXISTS identities (
    account_id TEXT   PRIMARY KEY,
    email      TEXT   NOT NULL,
    public     TEXT   NOT NULL,
    sealed     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS identities_email ON identities (email);
CREATE TABLE IF NOT EXISTS shares (
    id               TEXT   PRIMARY KEY,
    manifest         TEXT   NOT NULL,
    manifest_version BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    epoch            BIGINT NOT NULL,
    chain_len        BIGINT NOT NULL,
    live_items       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS share_chain (
    share_id TEXT   NOT NULL,
    seq      BIGINT NOT NULL,
    body     TEXT   NOT NULL,
    sig      TEXT   NOT NULL,
    PRIMARY KEY (share_id, seq)
);
-- role: read, write, manage, or removed (a removed member may still read
-- the chain that removed it, and nothing else).
CREATE TABLE IF NOT EXISTS share_members (
    share_id   TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    accepted   BIGINT NOT NULL,
    PRIMARY KEY (share_id, account_id)
);
CREATE INDEX IF NOT EXISTS share_members_account ON share_members (account_id);
CREATE TABLE IF NOT EXISTS share_grants (
    share_id   TEXT   NOT NULL,
    epoch      BIGINT NOT NULL,
    account_id TEXT   NOT NULL,
    sealed     TEXT   NOT NULL,
    PRIMARY KEY (share_id, epoch, account_id)
);
CREATE TABLE IF NOT EXISTS share_items (
    share_id TEXT   NOT NULL,
    item_id  TEXT   NOT NULL,
    revision BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    deleted  BIGINT NOT NULL,
    blob     TEXT   NOT NULL,
    PRIMARY KEY (share_id, item_id)
);
CREATE INDEX IF NOT EXISTS share_items_seq ON share_items (share_id, seq)
