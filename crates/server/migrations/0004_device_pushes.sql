-- The manifest version of each device's last accepted push, given back to
-- that device in its index so a vault file put back from an older copy
-- finds out at its next sync (DESIGN §5, whole-file rollback). The
-- server's word only: a false value can raise an alarm, never hide one
-- the file itself would see.
ALTER TABLE devices ADD COLUMN last_push_version BIGINT NOT NULL DEFAULT 0;
