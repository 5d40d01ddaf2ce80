//! An attacker (or a failing disk) with the vault file: every altered byte
//! of an item, slot or meta row, every swapped or rolled-back row is
//! detected and reported with exit 5 — never repaired, never mistaken for a
//! wrong password, never silently dropped.

use rusqlite::types::Value as Sql;
use tessera_test_support::{TestVault, assert_code, assert_success, stderr};

/// Flips one bit of one column of one row, whatever its type.
fn flip(v: &TestVault, table: &str, column: &str, rowid: i64, byte: usize) {
    let db = v.sqlite();
    let value: Sql =
        db.query_row(&format!("SELECT {column} FROM {table} WHERE rowid = ?1"), [rowid], |r| r.get(0)).unwrap();
    let flipped = match value {
        Sql::Blob(mut b) => {
            let i = byte % b.len();
            b[i] ^= 0x01;
            Sql::Blob(b)
        }
        Sql::Integer(n) => Sql::Integer(n ^ 1),
        Sql::Text(t) => {
            let mut b = t.into_bytes();
            let i = byte % b.len();
            b[i] ^= 0x01;
            Sql::Text(String::from_utf8_lossy(&b).into_owned())
        }
        Sql::Null => Sql::Integer(1),
        Sql::Real(r) => Sql::Real(r + 1.0),
    };
    db.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE rowid = ?2"), rusqlite::params![flipped, rowid])
        .unwrap();
}

fn columns(v: &TestVault, table: &str) -> Vec<String> {
    let db = v.sqlite();
    let mut stmt = db.prepare(&format!("SELECT name FROM pragma_table_info('{table}')")).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn rowids(v: &TestVault, table: &str) -> Vec<i64> {
    let db = v.sqlite();
    let mut stmt = db.prepare(&format!("SELECT rowid FROM {table} ORDER BY rowid")).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// A vault with items, an edit (history), an attachment and a trashed item.
fn populated() -> (TestVault, Vec<String>) {
    let v = TestVault::new();
    let ids: Vec<String> = (0..4).map(|i| v.add_login(&format!("Item {i}"), &format!("user{i}"))).collect();
    assert_success(&v.run_fast(&["edit", &ids[1], "--notes", "changed"]), "edit");
    let file = v.dir.path().join("a.txt");
    std::fs::write(&file, b"attached").unwrap();
    assert_success(&v.run_fast(&["attach", &ids[2], file.to_str().unwrap()]), "attach");
    assert_success(&v.run_fast(&["rm", &ids[3]]), "rm");
    (v, ids)
}

/// Runs `show` and `verify` and expects both to exit 5 (not 3), mentioning
/// `needle` when given, and the file to be left as the attacker left it.
fn expect_integrity_failure(v: &TestVault, item: &str, needle: Option<&str>, what: &str) {
    let tampered = v.bytes();
    for args in [&["show", item][..], &["verify"]] {
        let out = v.run_fast(args);
        assert_code(&out, 5, &format!("{args:?} after {what}"));
        if let Some(needle) = needle {
            assert!(stderr(&out).contains(needle), "{what}: {args:?} should name {needle}: {}", stderr(&out));
        }
        assert_eq!(v.bytes(), tampered, "{args:?} changed the file after {what}: nothing may be repaired");
    }
    // The master password path says integrity too, not "wrong password".
    assert_code(&v.run(&["verify"]), 5, &format!("verify with the password after {what}"));
}

#[test]
fn any_flipped_byte_of_an_item_row_is_detected_and_names_the_item() {
    let template = populated().0;
    for column in columns(&template, "items") {
        for byte in [0usize, 13, 40, 1000] {
            let (v, ids) = populated();
            let rowid = rowids(&v, "items")[0];
            flip(&v, "items", &column, rowid, byte);
            // Flipping the id column names the stored (altered) id; every
            // other column names the item's real id.
            let needle = if column == "id" { None } else { Some(ids[0].as_str()) };
            expect_integrity_failure(&v, &ids[0], needle, &format!("flipping items.{column} byte {byte}"));
            if column != "ciphertext" {
                break;
            }
        }
    }
}

#[test]
fn swapped_item_ciphertexts_fail_integrity() {
    let (v, ids) = populated();
    {
        let db = v.sqlite();
        let a: Vec<u8> =
            db.query_row("SELECT ciphertext FROM items WHERE id = ?1", [hex(&ids[0])], |r| r.get(0)).unwrap();
        let b: Vec<u8> =
            db.query_row("SELECT ciphertext FROM items WHERE id = ?1", [hex(&ids[2])], |r| r.get(0)).unwrap();
        db.execute("UPDATE items SET ciphertext = ?1 WHERE id = ?2", rusqlite::params![b, hex(&ids[0])]).unwrap();
        db.execute("UPDATE items SET ciphertext = ?1 WHERE id = ?2", rusqlite::params![a, hex(&ids[2])]).unwrap();
    }
    expect_integrity_failure(&v, &ids[0], Some(&ids[0]), "swapping two items' ciphertexts");
    let out = v.run_fast(&["verify"]);
    assert!(stderr(&out).contains(&ids[2]), "verify names both swapped items: {}", stderr(&out));
}

#[test]
fn any_flipped_byte_of_a_slot_or_meta_row_is_integrity_not_a_wrong_password() {
    let template = populated().0;
    for table in ["slots", "vault_meta", "data_keys"] {
        // vault_meta.id is pinned to 1 by a CHECK constraint: SQL cannot
        // change it, and a byte-level change makes the row unreadable.
        for column in columns(&template, table).into_iter().filter(|c| !(table == "vault_meta" && c == "id")) {
            let (v, ids) = populated();
            let rowid = rowids(&v, table)[0];
            flip(&v, table, &column, rowid, 5);
            let what = format!("flipping {table}.{column}");
            let out = v.run(&["show", &ids[0]]);
            assert_code(&out, 5, &format!("show with the password after {what}"));
            let out = v.run_fast(&["verify"]);
            assert_code(&out, 5, &format!("verify with the recovery code after {what}"));
        }
    }
}

#[test]
fn a_dropped_item_row_is_detected() {
    let (v, ids) = populated();
    v.sqlite().execute("DELETE FROM items WHERE id = ?1", [hex(&ids[0])]).unwrap();
    let out = v.run_fast(&["list"]);
    assert_code(&out, 5, "list after dropping a row");
    assert!(stderr(&out).contains("manifest"), "{}", stderr(&out));
    assert_code(&v.run_fast(&["show", &ids[1]]), 5, "show another item after dropping a row");
    assert_code(&v.run_fast(&["verify"]), 5, "verify after dropping a row");
}

#[test]
fn a_rolled_back_item_is_detected() {
    let (v, ids) = populated();
    let old: Vec<rusqlite::types::Value> = {
        let db = v.sqlite();
        db.query_row("SELECT * FROM items WHERE id = ?1", [hex(&ids[0])], |r| {
            (0..10).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
    };
    assert_success(&v.run_fast(&["edit", &ids[0], "--username", "new-owner"]), "edit");
    {
        let db = v.sqlite();
        db.execute("DELETE FROM items WHERE id = ?1", [hex(&ids[0])]).unwrap();
        db.execute(
            "INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params_from_iter(old),
        )
        .unwrap();
    }
    expect_integrity_failure(&v, &ids[0], Some("manifest"), "rolling an item back to an older revision");
}

#[test]
fn a_history_version_put_in_place_of_the_current_one_is_detected() {
    let (v, ids) = populated();
    {
        let db = v.sqlite();
        let (rev, ct): (i64, Vec<u8>) = db
            .query_row("SELECT revision, ciphertext FROM item_history WHERE item_id = ?1", [hex(&ids[1])], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        db.execute(
            "UPDATE items SET revision = ?1, ciphertext = ?2 WHERE id = ?3",
            rusqlite::params![rev, ct, hex(&ids[1])],
        )
        .unwrap();
    }
    expect_integrity_failure(&v, &ids[1], Some(&ids[1]), "replaying a history version as current");
}

#[test]
fn damaged_history_attachments_and_audit_are_found_by_verify() {
    for (table, column) in
        [("item_history", "ciphertext"), ("attachments", "ciphertext"), ("audit", "details"), ("audit", "hash")]
    {
        let (v, _) = populated();
        let rowid = rowids(&v, table)[0];
        flip(&v, table, column, rowid, 20);
        let out = v.run_fast(&["verify"]);
        assert_code(&out, 5, &format!("verify after flipping {table}.{column}"));
    }
    let (v, ids) = populated();
    let rowid = rowids(&v, "attachments")[0];
    flip(&v, "attachments", "ciphertext", rowid, 3);
    let out = v.run_fast(&["attachment", &ids[2], "a.txt", "-o", v.dir.path().join("o").to_str().unwrap()]);
    assert_code(&out, 5, "reading a damaged attachment");

    // Dropping the newest audit entries is caught by the authenticated head.
    let (v, _) = populated();
    v.sqlite().execute("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)", []).unwrap();
    let out = v.run_fast(&["audit"]);
    assert_code(&out, 5, "audit after truncating the log");
    assert!(stderr(&out).contains("audit log"), "{}", stderr(&out));
}

#[test]
fn an_item_moved_from_another_vault_is_refused() {
    let (a, a_ids) = populated();
    let (b, b_ids) = populated();
    let row: Vec<rusqlite::types::Value> = a
        .sqlite()
        .query_row("SELECT * FROM items WHERE id = ?1", [hex(&a_ids[0])], |r| {
            (0..10).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    let db = b.sqlite();
    db.execute("DELETE FROM items WHERE id = ?1", [hex(&b_ids[0])]).unwrap();
    db.execute("INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", rusqlite::params_from_iter(row))
        .unwrap();
    drop(db);
    expect_integrity_failure(&b, &a_ids[0], Some(&a_ids[0]), "moving an item in from another vault");
}

#[test]
fn kdf_parameters_lowered_in_the_file_are_refused() {
    let v = TestVault::new();
    let db = v.sqlite();
    let params: Vec<u8> = db.query_row("SELECT params FROM slots WHERE kind = 'password'", [], |r| r.get(0)).unwrap();
    let text = String::from_utf8(params).unwrap();
    assert!(text.contains("\"memory_kib\":65536"), "{text}");
    let lowered =
        text.replace("\"memory_kib\":65536", "\"memory_kib\":8").replace("\"iterations\":3", "\"iterations\":1");
    db.execute("UPDATE slots SET params = ?1 WHERE kind = 'password'", [lowered.as_bytes()]).unwrap();
    drop(db);
    // An attacker who also recomputes the header checksum still does not
    // get a weaker KDF: the floor is enforced while reading the slot.
    recompute_header_checksum(&v);
    let out = v.run(&["list"]);
    assert_code(&out, 5, "unlock with a KDF below the floor");
    assert!(stderr(&out).contains("below the minimum"), "{}", stderr(&out));
}

fn hex(id: &str) -> Vec<u8> {
    data_encoding::HEXLOWER.decode(id.as_bytes()).unwrap()
}

/// Recomputes the unkeyed header checksum the way the format defines it
/// (as anyone reading the source can), leaving the keyed MAC untouched.
fn recompute_header_checksum(v: &TestVault) {
    use sha2_free::Sha256Encoder;
    let db = v.sqlite();
    let mut e = Sha256Encoder::default();
    e.bytes(b"tessera-header");
    db.query_row(
        "SELECT format_version, vault_id, created_at, current_key_version, item_count, manifest_sum, audit_seq, audit_head
         FROM vault_meta",
        [],
        |r| {
            e.int(r.get(0)?);
            e.bytes(&r.get::<_, Vec<u8>>(1)?);
            e.int(r.get(2)?);
            e.int(r.get(3)?);
            e.int(r.get(4)?);
            e.bytes(&r.get::<_, Vec<u8>>(5)?);
            e.int(r.get(6)?);
            e.bytes(&r.get::<_, Vec<u8>>(7)?);
            Ok(())
        },
    )
    .unwrap();
    let count = |table: &str| db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    e.int(count("slots").unwrap());
    let mut stmt =
        db.prepare("SELECT id, kind, label, params, wrapped_vault_key, created_at FROM slots ORDER BY id").unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        e.int(r.get(0).unwrap());
        e.bytes(r.get::<_, String>(1).unwrap().as_bytes());
        e.bytes(r.get::<_, String>(2).unwrap().as_bytes());
        e.bytes(&r.get::<_, Vec<u8>>(3).unwrap());
        e.bytes(&r.get::<_, Vec<u8>>(4).unwrap());
        e.int(r.get(5).unwrap());
    }
    drop(rows);
    drop(stmt);
    e.int(count("data_keys").unwrap());
    let mut stmt = db.prepare("SELECT version, wrapped_key, created_at FROM data_keys ORDER BY version").unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        e.int(r.get(0).unwrap());
        e.bytes(&r.get::<_, Vec<u8>>(1).unwrap());
        e.int(r.get(2).unwrap());
    }
    drop(rows);
    drop(stmt);
    db.execute("UPDATE vault_meta SET header_sha256 = ?1", [e.finish().to_vec()]).unwrap();
}

/// The header's canonical encoding, fed to SHA-256 (computed by the
/// `sha256sum` tool so this test shares no code with the vault's).
mod sha2_free {
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[derive(Default)]
    pub struct Sha256Encoder(Vec<u8>);

    impl Sha256Encoder {
        pub fn int(&mut self, v: i64) {
            self.0.extend_from_slice(&v.to_be_bytes());
        }

        pub fn bytes(&mut self, b: &[u8]) {
            self.0.extend_from_slice(&(b.len() as u64).to_be_bytes());
            self.0.extend_from_slice(b);
        }

        pub fn finish(self) -> [u8; 32] {
            let mut child =
                Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
            child.stdin.take().unwrap().write_all(&self.0).unwrap();
            let out = child.wait_with_output().unwrap();
            let hex = String::from_utf8(out.stdout).unwrap();
            let bytes = data_encoding::HEXLOWER.decode(&hex.as_bytes()[..64]).unwrap();
            bytes.try_into().unwrap()
        }
    }
}

/// When each slot was last used is written when a session ends, and only by
/// a session that met no integrity failure: finding tampering writes nothing.
#[test]
fn a_session_that_finds_tampering_does_not_record_its_slot_use() {
    let v = TestVault::new();
    let id = v.add_login("Mail", "me");
    assert_code(&v.run(&["list"]), 0, "list");
    let used = |v: &TestVault| -> Option<i64> {
        v.sqlite().query_row("SELECT last_used FROM slot_usage WHERE slot_id = 1", [], |r| r.get(0)).ok()
    };
    let before = used(&v).expect("a clean session records the password slot's use");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let rowid = rowids(&v, "items")[0];
    flip(&v, "items", "ciphertext", rowid, 40);
    assert_code(&v.run(&["show", &id]), 5, "show after tampering");
    assert_eq!(used(&v), Some(before), "the failed session recorded its slot use");
}
