-- Per-account usage, kept up to date by every push so a quota check reads
-- one row instead of summing every blob: live (not deleted) items, and
-- bytes of sealed items as stored, counted as base64 length / 4 * 3 (the
-- same formula at every push, so the sum stays exact to its own rule).
ALTER TABLE accounts ADD COLUMN live_items BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET
    live_items = (SELECT COUNT(*) FROM items WHERE items.account_id = accounts.id AND items.deleted = 0),
    stored_bytes = (SELECT COALESCE(SUM(LENGTH(items.blob) / 4 * 3), 0) FROM items
                    WHERE items.account_id = accounts.id);
-- The hourly erasure of old client addresses looks events up by time.
CREATE INDEX IF NOT EXISTS account_events_at ON account_events (at)
