-- A share's answer is tagged (its ETag) from its head, chain, grant and
-- these aggregates of its items, which this index covers: checking ten
-- shares of a thousand items each reads the index, not every sealed item.
-- It serves the change feed's (share_id, seq) range scans as well, so it
-- replaces share_items_seq.
CREATE INDEX IF NOT EXISTS share_items_tag ON share_items (share_id, seq, revision, deleted);
DROP INDEX IF EXISTS share_items_seq;
