//! Sharing's SQL (DESIGN §11): identities, shares, membership chains,
//! members, grants and shared items. Every read and write is scoped by
//! membership: a share the account is not in looks exactly like a missing
//! one. The server reads a chain record's public fields to enforce roles;
//! it never needs to be believed, since every client verifies the chain.

use sqlx::Row;
use tessera_sync::wire::{
    ChainBody, ChainRecord, Changes, CreateShare, Grant, Limit, PushItem, ShareIndex, ShareSummary, StaleItem,
};

use super::{Db, DbError, Result, changes_page, unpack_index};

/// Why a share request was refused.
pub enum ShareRefused {
    /// No such share for this account (or no such account to invite).
    NotFound,
    /// The role does not allow it.
    Forbidden(String),
    /// The chain, epoch or manifest moved on.
    Stale(String),
    /// Items' base revisions are not their current ones.
    StaleItems(Vec<StaleItem>),
    /// Malformed for the share's state.
    BadRequest(String),
    /// Over the share's item quota.
    OverQuota(Limit),
}

type Refusable<T> = std::result::Result<T, ShareRefused>;

/// Who is asking.
pub struct Caller<'a> {
    pub account: &'a str,
    pub email: &'a str,
}

/// A member row.
struct MemberRow {
    role: String,
    accepted: bool,
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

async fn member(tx: &mut Tx<'_>, share: &str, account: &str) -> Result<Option<MemberRow>> {
    let row = sqlx::query("SELECT role, accepted FROM share_members WHERE share_id = $1 AND account_id = $2")
        .bind(share)
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok(MemberRow { role: r.try_get(0)?, accepted: r.try_get::<i64, _>(1)? != 0 }))
        .transpose()
        .map_err(DbError)
}

/// A share as one member is answered about it, without its items: what
/// its tag is computed over, and what `GET /shares/{id}` sends with the
/// items added.
pub struct ShareAnswer {
    share: String,
    chain: Vec<ChainRecord>,
    grant: Option<Grant>,
    manifest: String,
    manifest_version: u64,
    seq: u64,
    /// The items' count and the sums of their sequence numbers, revisions
    /// and tombstone flags (`None` for a removed member, who gets no items).
    items: Option<[i64; 4]>,
}

impl ShareAnswer {
    /// The `ETag`: SHA-256 over every field of the answer but the item
    /// list, and over aggregates of the items that every change the server
    /// makes moves (each write gives the item a new sequence number), as
    /// do rows dropped, added, moved in from another share or put back at
    /// an older revision behind the server's back. The tag is only ever
    /// believed to mean "the answer verified last"; a wrong one withholds
    /// news, which a hostile server can do anyway.
    pub fn tag(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"tessera/v1/share-answer");
        field(&(self.chain.len() as u64).to_be_bytes());
        for r in &self.chain {
            field(r.body.as_bytes());
            field(r.sig.as_bytes());
        }
        match &self.grant {
            Some(g) => {
                field(b"grant");
                field(g.member.as_bytes());
                field(&g.epoch.to_be_bytes());
                field(g.sealed.as_bytes());
            }
            None => field(b"no grant"),
        }
        field(self.manifest.as_bytes());
        field(&self.manifest_version.to_be_bytes());
        field(&self.seq.to_be_bytes());
        match self.items {
            Some(sums) => sums.iter().for_each(|v| field(&v.to_be_bytes())),
            None => field(b"no items"),
        }
        format!("\"{}\"", data_encoding::HEXLOWER.encode(&h.finalize()))
    }

    /// The answer itself, its items read in the same transaction.
    async fn into_index(self, tx: &mut Tx<'_>) -> Result<ShareIndex> {
        let items = match self.items {
            None => Vec::new(),
            Some(_) => {
                let packed: Option<String> = sqlx::query(
                    "SELECT string_agg(item_id || ':' || revision || ':' || deleted, ',') FROM share_items
                     WHERE share_id = $1",
                )
                .bind(&self.share)
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
                packed.as_deref().map_or_else(|| Ok(Vec::new()), unpack_index)?
            }
        };
        Ok(ShareIndex {
            chain: self.chain,
            grant: self.grant,
            manifest: self.manifest,
            manifest_version: self.manifest_version,
            seq: self.seq,
            items,
        })
    }
}

/// What `GET /shares/{id}` answers.
pub enum ShareIndexAnswer {
    /// The tag the client sent is the answer's.
    Unchanged(String),
    /// The answer, and its tag.
    Full(ShareIndex, String),
}

async fn share_answer(tx: &mut Tx<'_>, share: &str, account: &str) -> Result<Option<ShareAnswer>> {
    Ok(share_answers(tx, account, &[share]).await?.remove(share))
}

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The answers for every share in `shares` the account is in, in five
/// queries whatever their number (a member of many shares is checked at
/// every sync). One path for one share and for many, so that a tag given
/// by `GET /shares/{id}` is the one `POST /shares/check` computes.
async fn share_answers(
    tx: &mut Tx<'_>,
    account: &str,
    shares: &[&str],
) -> Result<std::collections::HashMap<String, ShareAnswer>> {
    use std::collections::HashMap;
    let mut out = HashMap::new();
    if shares.is_empty() {
        return Ok(out);
    }
    let list = placeholders(2, shares.len());
    // The statements are built from this file's text and numbered
    // placeholders alone; every value is bound.
    macro_rules! scoped {
        ($sql:expr) => {{
            let mut q = sqlx::query(sqlx::AssertSqlSafe($sql)).bind(account);
            for s in shares {
                q = q.bind(*s);
            }
            q.fetch_all(&mut **tx).await?
        }};
    }
    let roles: HashMap<String, String> =
        scoped!(format!("SELECT share_id, role FROM share_members WHERE account_id = $1 AND share_id IN ({list})"))
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<std::result::Result<_, sqlx::Error>>()?;
    // Each query is scoped by membership again: `$1` is the account.
    let member = "SELECT share_id FROM share_members WHERE account_id = $1";
    let heads = scoped!(format!(
        "SELECT id, manifest, manifest_version, seq, epoch FROM shares WHERE id IN ({list}) AND id IN ({member})"
    ));
    let mut chains: HashMap<String, Vec<ChainRecord>> = HashMap::new();
    for r in scoped!(format!(
        "SELECT share_id, body, sig FROM share_chain WHERE share_id IN ({list}) AND share_id IN ({member})
         ORDER BY share_id, seq"
    )) {
        chains.entry(r.try_get(0)?).or_default().push(ChainRecord { body: r.try_get(1)?, sig: r.try_get(2)? });
    }
    let mut grants: HashMap<(String, i64), Grant> = HashMap::new();
    for r in scoped!(format!(
        "SELECT g.share_id, g.epoch, g.sealed, m.email FROM share_grants g JOIN share_members m
           ON m.share_id = g.share_id AND m.account_id = g.account_id
         WHERE g.account_id = $1 AND g.share_id IN ({list})"
    )) {
        let epoch: i64 = r.try_get(1)?;
        grants.insert(
            (r.try_get(0)?, epoch),
            Grant { member: r.try_get(3)?, epoch: epoch as u64, sealed: r.try_get(2)? },
        );
    }
    let mut sums: HashMap<String, [i64; 4]> = HashMap::new();
    for r in scoped!(format!(
        "SELECT share_id, count(*), CAST(sum(seq) AS BIGINT), CAST(sum(revision) AS BIGINT),
                CAST(sum(deleted) AS BIGINT)
         FROM share_items WHERE share_id IN ({list}) AND share_id IN ({member}) GROUP BY share_id"
    )) {
        sums.insert(r.try_get(0)?, [r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?]);
    }
    for head in heads {
        let id: String = head.try_get(0)?;
        let Some(role) = roles.get(&id) else { continue };
        let chain = chains.remove(&id).unwrap_or_default();
        let answer = if role == "removed" {
            ShareAnswer {
                share: id.clone(),
                chain,
                grant: None,
                manifest: String::new(),
                manifest_version: 0,
                seq: 0,
                items: None,
            }
        } else {
            let epoch: i64 = head.try_get(4)?;
            ShareAnswer {
                share: id.clone(),
                chain,
                grant: grants.remove(&(id.clone(), epoch)),
                manifest: head.try_get(1)?,
                manifest_version: head.try_get::<i64, _>(2)? as u64,
                seq: head.try_get::<i64, _>(3)? as u64,
                items: Some(sums.remove(&id).unwrap_or_default()),
            }
        };
        out.insert(id, answer);
    }
    Ok(out)
}

/// The share's head, locked for writing (the first statement is a write).
struct Head {
    manifest_version: i64,
    seq: i64,
    epoch: i64,
    chain_len: i64,
    live_items: i64,
}

async fn lock_head(tx: &mut Tx<'_>, share: &str) -> Result<Option<Head>> {
    let row = sqlx::query(
        "UPDATE shares SET seq = seq WHERE id = $1 RETURNING manifest_version, seq, epoch, chain_len, live_items",
    )
    .bind(share)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(Head {
            manifest_version: r.try_get(0)?,
            seq: r.try_get(1)?,
            epoch: r.try_get(2)?,
            chain_len: r.try_get(3)?,
            live_items: r.try_get(4)?,
        })
    })
    .transpose()
    .map_err(DbError)
}

fn role_rank(role: &str) -> u8 {
    match role {
        "read" => 1,
        "write" => 2,
        "manage" => 3,
        _ => 0,
    }
}

async fn account_of_email(tx: &mut Tx<'_>, email: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT id FROM accounts WHERE email = $1").bind(email).fetch_optional(&mut **tx).await?;
    row.map(|r| r.try_get(0)).transpose().map_err(DbError)
}

async fn insert_record(tx: &mut Tx<'_>, share: &str, seq: i64, record: &ChainRecord) -> Result<()> {
    sqlx::query("INSERT INTO share_chain (share_id, seq, body, sig) VALUES ($1, $2, $3, $4)")
        .bind(share)
        .bind(seq)
        .bind(&record.body)
        .bind(&record.sig)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_grant(tx: &mut Tx<'_>, share: &str, account: &str, grant: &Grant) -> Result<()> {
    sqlx::query(
        "INSERT INTO share_grants (share_id, epoch, account_id, sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (share_id, epoch, account_id) DO UPDATE SET sealed = excluded.sealed",
    )
    .bind(share)
    .bind(grant.epoch as i64)
    .bind(account)
    .bind(&grant.sealed)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes items at their next revision with new sequence numbers; returns
/// the new sequence number and the change in live items.
async fn write_items(tx: &mut Tx<'_>, share: &str, items: &[PushItem], mut seq: i64) -> Result<(i64, i64)> {
    let mut live_delta = 0;
    for item in items {
        seq += 1;
        let revision = item.base_revision as i64 + 1;
        let deleted = i64::from(item.deleted);
        let was_live = if item.base_revision == 0 {
            sqlx::query(
                "INSERT INTO share_items (share_id, item_id, revision, seq, deleted, blob) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(share)
            .bind(&item.id)
            .bind(revision)
            .bind(seq)
            .bind(deleted)
            .bind(&item.blob)
            .execute(&mut **tx)
            .await?;
            false
        } else {
            let before: i64 = sqlx::query("SELECT deleted FROM share_items WHERE share_id = $1 AND item_id = $2")
                .bind(share)
                .bind(&item.id)
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
            sqlx::query(
                "UPDATE share_items SET revision = $1, seq = $2, deleted = $3, blob = $4 WHERE share_id = $5 AND item_id = $6",
            )
            .bind(revision)
            .bind(seq)
            .bind(deleted)
            .bind(&item.blob)
            .bind(share)
            .bind(&item.id)
            .execute(&mut **tx)
            .await?;
            before == 0
        };
        live_delta += i64::from(!item.deleted) - i64::from(was_live);
    }
    Ok((seq, live_delta))
}

/// Checks every item's base revision against the share's current one.
async fn stale_items(tx: &mut Tx<'_>, share: &str, items: &[PushItem]) -> Result<Vec<StaleItem>> {
    let mut stale = Vec::new();
    for item in items {
        let current: Option<i64> = sqlx::query("SELECT revision FROM share_items WHERE share_id = $1 AND item_id = $2")
            .bind(share)
            .bind(&item.id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let revision = current.unwrap_or(0) as u64;
        if revision != item.base_revision {
            stale.push(StaleItem { id: item.id.clone(), revision });
        }
    }
    Ok(stale)
}

impl Db {
    // --- identities ---------------------------------------------------------

    /// This account's identity: the public record (JSON) and the sealed keys.
    pub async fn own_identity(&self, account: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT public, sealed FROM identities WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose().map_err(DbError)
    }

    /// Publishes an identity once; `false` if the account has one.
    pub async fn publish_identity(
        &self,
        account: &str,
        email: &str,
        public: &str,
        sealed: &str,
        now: i64,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query(
            "INSERT INTO identities (account_id, email, public, sealed, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account)
        .bind(email)
        .bind(public)
        .bind(sealed)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Another account's published record (JSON), by email.
    pub async fn identity_of(&self, email: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT i.public FROM identities i JOIN accounts a ON a.id = i.account_id WHERE a.email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(DbError)
    }

    // --- shares ---------------------------------------------------------------

    /// The shares this account is in, was invited to, or was removed from.
    pub async fn shares(&self, account: &str) -> Result<Vec<ShareSummary>> {
        let rows = sqlx::query(
            "SELECT m.share_id, m.role, m.accepted, s.chain_len,
                    (SELECT COUNT(*) FROM share_members o WHERE o.share_id = m.share_id AND o.role <> 'removed')
             FROM share_members m JOIN shares s ON s.id = m.share_id WHERE m.account_id = $1 ORDER BY m.share_id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShareSummary {
                    id: r.try_get(0)?,
                    role: r.try_get(1)?,
                    accepted: r.try_get::<i64, _>(2)? != 0,
                    chain_len: r.try_get::<i64, _>(3)? as u64,
                    members: r.try_get::<i64, _>(4)? as u64,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(DbError)
    }

    /// A new share with its creator as `manage`.
    pub async fn create_share(&self, who: &Caller<'_>, req: &CreateShare, body: &ChainBody, now: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "INSERT INTO shares (id, manifest, manifest_version, seq, epoch, chain_len, live_items, created_at)
             VALUES ($1, $2, 1, 0, $3, 1, 0, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&req.id)
        .bind(&req.manifest)
        .bind(body.epoch as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        insert_record(&mut tx, &req.id, 0, &req.record).await?;
        sqlx::query(
            "INSERT INTO share_members (share_id, account_id, email, role, accepted) VALUES ($1, $2, $3, 'manage', 1)",
        )
        .bind(&req.id)
        .bind(who.account)
        .bind(who.email)
        .execute(&mut *tx)
        .await?;
        insert_grant(&mut tx, &req.id, who.account, &req.grant).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// What a member checks before reading: the chain, its grant, the
    /// manifest and the index (a removed member gets the chain alone), with
    /// its tag; or only the tag, when it is `unless`.
    pub async fn share_index(
        &self,
        share: &str,
        account: &str,
        unless: Option<&str>,
    ) -> Result<Option<ShareIndexAnswer>> {
        let mut tx = self.pool.begin().await?;
        let Some(answer) = share_answer(&mut tx, share, account).await? else { return Ok(None) };
        let tag = answer.tag();
        let out = match unless == Some(tag.as_str()) {
            true => ShareIndexAnswer::Unchanged(tag),
            false => ShareIndexAnswer::Full(answer.into_index(&mut tx).await?, tag),
        };
        tx.commit().await?;
        Ok(Some(out))
    }

    /// The tag of every share in `shares` this account is in (a share it
    /// is not in is left out), and every share it has accepted, as of one
    /// transaction.
    pub async fn share_check(&self, account: &str, shares: &[&str]) -> Result<(Vec<(String, String)>, Vec<String>)> {
        let mut tx = self.pool.begin().await?;
        let answers = share_answers(&mut tx, account, shares).await?;
        let accepted = sqlx::query("SELECT share_id FROM share_members WHERE account_id = $1 AND accepted <> 0")
            .bind(account)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<Vec<String>, sqlx::Error>>()?;
        tx.commit().await?;
        Ok((answers.into_iter().map(|(id, answer)| (id, answer.tag())).collect(), accepted))
    }

    /// Changes of a share after `since`, for an accepted member.
    pub async fn share_changes(&self, share: &str, account: &str, since: u64, limit: u32) -> Result<Option<Changes>> {
        let mut tx = self.pool.begin().await?;
        match member(&mut tx, share, account).await? {
            Some(m) if m.accepted && m.role != "removed" => {}
            _ => return Ok(None),
        }
        let rows = sqlx::query(
            "SELECT item_id, revision, seq, deleted, blob FROM share_items
             WHERE share_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(share)
        .bind(since as i64)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        changes_page(&rows, since, limit).map(Some)
    }

    /// Accepts an invitation.
    pub async fn accept_share(&self, share: &str, account: &str) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = sqlx::query(
            "UPDATE share_members SET accepted = 1 WHERE share_id = $1 AND account_id = $2 AND role <> 'removed'",
        )
        .bind(share)
        .bind(account)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Appends an `add`, `role` or `leave` record.
    pub async fn append_record(
        &self,
        share: &str,
        who: &Caller<'_>,
        record: &ChainRecord,
        body: &ChainBody,
        grants: &[Grant],
    ) -> Result<Refusable<()>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let Some(head) = lock_head(&mut tx, share).await? else { return Ok(Err(ShareRefused::NotFound)) };
        let me = match member(&mut tx, share, who.account).await? {
            Some(m) if m.role != "removed" => m,
            _ => return Ok(Err(ShareRefused::NotFound)),
        };
        if body.seq as i64 != head.chain_len {
            return Ok(Err(ShareRefused::Stale("the share's membership changed; sync and try again".into())));
        }
        if body.signer != who.email {
            return Ok(Err(ShareRefused::Forbidden("a record must be signed by the account that sends it".into())));
        }
        if body.epoch as i64 != head.epoch {
            return Ok(Err(ShareRefused::Stale("the share was re-keyed; sync and try again".into())));
        }
        match body.kind.as_str() {
            "add" => {
                if role_rank(&me.role) < 3 || !me.accepted {
                    return Ok(Err(ShareRefused::Forbidden("only a member with manage may invite".into())));
                }
                if role_rank(&body.role) == 0 {
                    return Ok(Err(ShareRefused::BadRequest("role must be read, write or manage".into())));
                }
                let Some(account) = account_of_email(&mut tx, &body.member).await? else {
                    return Ok(Err(ShareRefused::NotFound));
                };
                if member(&mut tx, share, &account).await?.is_some_and(|m| m.role != "removed") {
                    return Ok(Err(ShareRefused::BadRequest(format!("{} is already a member", body.member))));
                }
                let [grant] = grants else {
                    return Ok(Err(ShareRefused::BadRequest("an invitation carries one grant".into())));
                };
                if grant.member != body.member || grant.epoch as i64 != head.epoch {
                    return Ok(Err(ShareRefused::BadRequest("the grant is not for the invitee at this epoch".into())));
                }
                sqlx::query("DELETE FROM share_members WHERE share_id = $1 AND account_id = $2")
                    .bind(share)
                    .bind(&account)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO share_members (share_id, account_id, email, role, accepted) VALUES ($1, $2, $3, $4, 0)",
                )
                .bind(share)
                .bind(&account)
                .bind(&body.member)
                .bind(&body.role)
                .execute(&mut *tx)
                .await?;
                insert_grant(&mut tx, share, &account, grant).await?;
            }
            "role" => {
                if role_rank(&me.role) < 3 || !me.accepted {
                    return Ok(Err(ShareRefused::Forbidden("only a member with manage may change roles".into())));
                }
                if role_rank(&body.role) == 0 {
                    return Ok(Err(ShareRefused::BadRequest("role must be read, write or manage".into())));
                }
                let n = sqlx::query(
                    "UPDATE share_members SET role = $1 WHERE share_id = $2 AND email = $3 AND role <> 'removed'",
                )
                .bind(&body.role)
                .bind(share)
                .bind(&body.member)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Ok(Err(ShareRefused::NotFound));
                }
            }
            "leave" => {
                if body.member != who.email {
                    return Ok(Err(ShareRefused::Forbidden("only members themselves may leave".into())));
                }
                sqlx::query("UPDATE share_members SET role = 'removed' WHERE share_id = $1 AND account_id = $2")
                    .bind(share)
                    .bind(who.account)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM share_grants WHERE share_id = $1 AND account_id = $2")
                    .bind(share)
                    .bind(who.account)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {
                return Ok(Err(ShareRefused::BadRequest(
                    "this route takes add, role and leave records; remove and rekey go to /rekey".into(),
                )));
            }
        }
        insert_record(&mut tx, share, head.chain_len, record).await?;
        sqlx::query("UPDATE shares SET chain_len = chain_len + 1 WHERE id = $1").bind(share).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A push to a share, by a member who may write: the share's sequence
    /// number after it, and the tag of the pusher's answer then.
    #[allow(clippy::too_many_arguments)]
    pub async fn share_push(
        &self,
        share: &str,
        account: &str,
        epoch: u64,
        base_manifest_version: u64,
        manifest: &str,
        items: &[PushItem],
        max_items: u64,
        verified: Option<&str>,
    ) -> Result<Refusable<(u64, Option<String>)>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let Some(head) = lock_head(&mut tx, share).await? else { return Ok(Err(ShareRefused::NotFound)) };
        match member(&mut tx, share, account).await? {
            Some(m) if m.accepted && role_rank(&m.role) >= 2 => {}
            Some(m) if m.accepted && m.role != "removed" => {
                return Ok(Err(ShareRefused::Forbidden(format!(
                    "your role in this share is {}: it does not allow changing its items",
                    m.role
                ))));
            }
            _ => return Ok(Err(ShareRefused::NotFound)),
        }
        if epoch as i64 != head.epoch {
            return Ok(Err(ShareRefused::Stale("the share was re-keyed; sync and try again".into())));
        }
        if base_manifest_version as i64 != head.manifest_version {
            return Ok(Err(ShareRefused::Stale("another member pushed since your last pull".into())));
        }
        let stale = stale_items(&mut tx, share, items).await?;
        if !stale.is_empty() {
            return Ok(Err(ShareRefused::StaleItems(stale)));
        }
        // Whether the pusher's verified answer is still the share's: then
        // the answer after this push is one it knows entirely.
        let known = match verified {
            Some(tag) => share_answer(&mut tx, share, account).await?.is_some_and(|a| a.tag() == tag),
            None => false,
        };
        let (seq, delta) = write_items(&mut tx, share, items, head.seq).await?;
        let live = head.live_items + delta;
        if delta > 0 && live as u64 > max_items {
            return Ok(Err(ShareRefused::OverQuota(Limit::new("items", max_items))));
        }
        sqlx::query("UPDATE shares SET manifest = $1, manifest_version = $2, seq = $3, live_items = $4 WHERE id = $5")
            .bind(manifest)
            .bind(base_manifest_version as i64 + 1)
            .bind(seq)
            .bind(live)
            .bind(share)
            .execute(&mut *tx)
            .await?;
        // The tag of the answer as this push leaves it, when the pusher
        // knows that answer already (what it verified, and what it sent).
        let tag = match known {
            true => share_answer(&mut tx, share, account).await?.map(|a| a.tag()),
            false => None,
        };
        tx.commit().await?;
        Ok(Ok((seq as u64, tag)))
    }

    /// A re-key: a `remove` or `rekey` record, the new epoch's grants for
    /// every remaining member, and every item re-sealed, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn rekey(
        &self,
        share: &str,
        who: &Caller<'_>,
        record: &ChainRecord,
        body: &ChainBody,
        grants: &[Grant],
        base_manifest_version: u64,
        manifest: &str,
        items: &[PushItem],
    ) -> Result<Refusable<u64>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let Some(head) = lock_head(&mut tx, share).await? else { return Ok(Err(ShareRefused::NotFound)) };
        match member(&mut tx, share, who.account).await? {
            Some(m) if m.accepted && m.role == "manage" => {}
            Some(m) if m.role != "removed" => {
                return Ok(Err(ShareRefused::Forbidden("only a member with manage may remove or re-key".into())));
            }
            _ => return Ok(Err(ShareRefused::NotFound)),
        }
        if body.seq as i64 != head.chain_len || base_manifest_version as i64 != head.manifest_version {
            return Ok(Err(ShareRefused::Stale("the share changed; sync and try again".into())));
        }
        if body.signer != who.email || body.epoch as i64 != head.epoch + 1 {
            return Ok(Err(ShareRefused::BadRequest(
                "a re-key is signed by its sender and starts the next epoch".into(),
            )));
        }
        match body.kind.as_str() {
            "remove" => {
                let n = sqlx::query(
                    "UPDATE share_members SET role = 'removed' WHERE share_id = $1 AND email = $2 AND role <> 'removed'",
                )
                .bind(share)
                .bind(&body.member)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Ok(Err(ShareRefused::NotFound));
                }
            }
            "rekey" => {}
            _ => return Ok(Err(ShareRefused::BadRequest("this route takes remove and rekey records".into()))),
        }
        // One grant for each remaining member, at the new epoch.
        let remaining: Vec<(String, String)> = sqlx::query(
            "SELECT account_id, email FROM share_members WHERE share_id = $1 AND role <> 'removed' ORDER BY email",
        )
        .bind(share)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<std::result::Result<_, sqlx::Error>>()?;
        let mut given: Vec<&str> = grants.iter().map(|g| g.member.as_str()).collect();
        given.sort_unstable();
        let wanted: Vec<&str> = remaining.iter().map(|(_, e)| e.as_str()).collect();
        if given != wanted || grants.iter().any(|g| g.epoch as i64 != head.epoch + 1) {
            return Ok(Err(ShareRefused::BadRequest("a re-key carries one grant per remaining member".into())));
        }
        // Every item, each at its current revision.
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM share_items WHERE share_id = $1")
            .bind(share)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let stale = stale_items(&mut tx, share, items).await?;
        if !stale.is_empty() || count as usize != items.len() || items.iter().any(|i| i.base_revision == 0) {
            return Ok(Err(ShareRefused::Stale("the share's items changed; sync and try again".into())));
        }
        sqlx::query("DELETE FROM share_grants WHERE share_id = $1").bind(share).execute(&mut *tx).await?;
        for grant in grants {
            let account = &remaining.iter().find(|(_, e)| *e == grant.member).expect("checked above").0;
            insert_grant(&mut tx, share, account, grant).await?;
        }
        let (seq, delta) = write_items(&mut tx, share, items, head.seq).await?;
        insert_record(&mut tx, share, head.chain_len, record).await?;
        sqlx::query(
            "UPDATE shares SET manifest = $1, manifest_version = $2, seq = $3, epoch = $4, chain_len = chain_len + 1,
                    live_items = live_items + $5
             WHERE id = $6",
        )
        .bind(manifest)
        .bind(base_manifest_version as i64 + 1)
        .bind(seq)
        .bind(head.epoch + 1)
        .bind(delta)
        .bind(share)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(seq as u64))
    }
}
