//! Instant search over item summaries, held in memory while the vault is
//! unlocked and dropped when it locks (DESIGN §3).
//!
//! Summaries are kept sorted by title, and every summary's searchable text
//! (title, username, URLs, tags, folder), lower-cased, sits in one
//! contiguous buffer. A query scans that buffer once with a SIMD substring
//! search (`memchr::memmem`) for its most selective term, maps each hit back
//! to its summary, and checks the remaining terms on those only. Ranking
//! puts title matches first without a comparison sort: results are bucketed
//! by rank while walking summaries in title order. At 100,000 items that is
//! one pass over a few megabytes per keystroke.

use memchr::memmem;
use rayon::prelude::*;

use crate::item::ItemSummary;

/// Separates fields inside one summary's text; never produced by lower-casing.
const FIELD_SEP: char = '\u{1f}';
/// Separates summaries in the buffer.
const ITEM_SEP: char = '\u{1e}';

/// An in-memory search index over summaries.
pub struct SearchIndex {
    /// Sorted by lower-cased title, then id.
    entries: Vec<ItemSummary>,
    /// All entries' searchable text, lower-cased, in entry order.
    text: String,
    /// Byte offset of each entry's text in `text`, plus one final offset.
    starts: Vec<usize>,
    /// Length in bytes of each entry's lower-cased title (its text's prefix).
    title_lens: Vec<usize>,
}

/// How well an entry matches; lower sorts first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    TitleEquals = 0,
    TitlePrefix = 1,
    TitleContains = 2,
    Elsewhere = 3,
}

impl SearchIndex {
    /// Builds an index over `summaries`.
    pub fn new(mut summaries: Vec<ItemSummary>) -> Self {
        let mut keyed: Vec<(String, ItemSummary)> =
            summaries.par_drain(..).map(|s| (s.title.to_lowercase(), s)).collect();
        // (title, id) is unique, so an unstable sort still gives one order.
        keyed.par_sort_unstable_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.id.cmp(&y.id)));

        let mut text = String::with_capacity(keyed.len() * 64);
        let mut starts = Vec::with_capacity(keyed.len() + 1);
        let mut title_lens = Vec::with_capacity(keyed.len());
        let mut entries = Vec::with_capacity(keyed.len());
        for (title_lc, s) in keyed {
            starts.push(text.len());
            title_lens.push(title_lc.len());
            text.push_str(&title_lc);
            for part in std::iter::once(&s.username).chain(&s.urls).chain(&s.tags).chain(std::iter::once(&s.folder)) {
                text.push(FIELD_SEP);
                push_lowercase(&mut text, part);
            }
            text.push(ITEM_SEP);
            entries.push(s);
        }
        starts.push(text.len());
        SearchIndex { entries, text, starts, title_lens }
    }

    /// Number of summaries indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every summary, in title order.
    pub fn all(&self) -> &[ItemSummary] {
        &self.entries
    }

    /// Summaries matching every whitespace-separated term of `query`
    /// (case-insensitive substrings of title, username, URLs, tags or
    /// folder): exact title matches first, then titles starting with the
    /// query, then titles containing it, then matches elsewhere; title order
    /// within each group. An empty query matches everything.
    pub fn search(&self, query: &str) -> Vec<&ItemSummary> {
        self.search_positions(query).into_iter().map(|i| &self.entries[i]).collect()
    }

    /// [`SearchIndex::search`] as positions in [`SearchIndex::all`]: what a
    /// list that pages through the hits keeps, without looking each one up
    /// by id.
    pub fn search_positions(&self, query: &str) -> Vec<usize> {
        // Control characters never occur in what users type, and dropping
        // them means a query cannot match across the field separators.
        let query: String = query.chars().filter(|c| !c.is_control()).collect();
        let query = query.trim().to_lowercase();
        let mut terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() {
            return (0..self.entries.len()).collect();
        }
        // Scan for the longest term: it has the fewest hits to verify.
        terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let (first, rest) = terms.split_first().expect("terms is not empty");

        let mut buckets: [Vec<usize>; 4] = Default::default();
        let finder = memmem::Finder::new(first.as_bytes());
        let rest: Vec<memmem::Finder<'_>> = rest.iter().map(|t| memmem::Finder::new(t.as_bytes())).collect();
        let single_term = rest.is_empty();
        let bytes = self.text.as_bytes();
        let mut pos = 0;
        let mut entry = 0;
        while let Some(hit) = finder.find(&bytes[pos..]) {
            let at = pos + hit;
            entry = self.entry_at(at, entry);
            let (start, end) = (self.starts[entry], self.starts[entry + 1]);
            if rest.iter().all(|f| f.find(&bytes[start..end]).is_some()) {
                let rank =
                    if single_term { self.rank_of_hit(entry, at, first.len()) } else { self.rank(entry, &query) };
                buckets[rank as usize].push(entry);
            }
            // Each entry is reported once: resume after it.
            pos = end;
        }
        let mut out = Vec::with_capacity(buckets.iter().map(Vec::len).sum());
        for b in buckets {
            out.extend(b);
        }
        out
    }

    /// The entry whose text holds byte `at`, searching forward from entry
    /// `from` (hits come in increasing order): gallop, then bisect, so a
    /// dense run of hits costs O(1) each and a sparse one O(log gap).
    fn entry_at(&self, at: usize, from: usize) -> usize {
        let (mut lo, mut step) = (from, 1);
        let mut hi = from + 1;
        while hi < self.starts.len() && self.starts[hi] <= at {
            lo = hi;
            hi = (hi + step).min(self.starts.len());
            step *= 2;
        }
        lo + self.starts[lo..hi].partition_point(|&s| s <= at) - 1
    }

    /// Rank of a one-term query from where its first hit in the entry is:
    /// the scan resumed at the entry's start, so the hit is the earliest
    /// occurrence, and the title comes first in the entry's text.
    fn rank_of_hit(&self, entry: usize, at: usize, len: usize) -> Rank {
        let start = self.starts[entry];
        let title_len = self.title_lens[entry];
        if at == start && len == title_len {
            Rank::TitleEquals
        } else if at == start {
            Rank::TitlePrefix
        } else if at < start + title_len {
            Rank::TitleContains
        } else {
            Rank::Elsewhere
        }
    }

    fn rank(&self, entry: usize, query: &str) -> Rank {
        let start = self.starts[entry];
        let title = &self.text[start..start + self.title_lens[entry]];
        if title == query {
            Rank::TitleEquals
        } else if title.starts_with(query) {
            Rank::TitlePrefix
        } else if title.contains(query) {
            Rank::TitleContains
        } else {
            Rank::Elsewhere
        }
    }
}

fn push_lowercase(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.push_str(&s.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Item, ItemType};

    fn summary(title: &str, username: &str, url: &str, folder: &str) -> ItemSummary {
        let mut item = Item::new(ItemType::Login, title);
        item.username = username.into();
        item.urls = vec![url.into()];
        item.folder = folder.into();
        item.summary()
    }

    fn titles(r: &[&ItemSummary]) -> Vec<String> {
        r.iter().map(|s| s.title.clone()).collect()
    }

    fn index() -> SearchIndex {
        SearchIndex::new(vec![
            summary("Mail Archive", "old", "https://archive.example", ""),
            summary("GitHub", "octo", "https://github.com", "Work"),
            summary("Gmail", "me@gmail.com", "https://mail.google.com", ""),
            summary("Mail", "me", "https://mail.example", ""),
            summary("Bank — Überweisung", "kunde", "https://bank.example.de", "Finance"),
        ])
    }

    #[test]
    fn positions_are_the_hits_places_in_the_list_in_the_same_order() {
        let index = index();
        for query in ["", "a", "mail", "git hub", "no such thing", "example.com"] {
            let by_ref: Vec<_> = index.search(query).iter().map(|s| s.id).collect();
            let by_position: Vec<_> = index.search_positions(query).iter().map(|&i| index.all()[i].id).collect();
            assert_eq!(by_ref, by_position, "{query:?}");
        }
    }

    #[test]
    fn ranks_exact_then_prefix_then_contains_then_elsewhere() {
        let idx = index();
        assert_eq!(titles(&idx.search("mail")), ["Mail", "Mail Archive", "Gmail"]);
        assert_eq!(titles(&idx.search("MAIL")), ["Mail", "Mail Archive", "Gmail"]);
        assert_eq!(titles(&idx.search("google")), ["Gmail"]);
    }

    #[test]
    fn all_terms_must_match_in_any_field() {
        let idx = index();
        assert_eq!(titles(&idx.search("work octo")), ["GitHub"]);
        assert!(idx.search("work gmail").is_empty());
    }

    #[test]
    fn unicode_is_case_folded() {
        let idx = index();
        assert_eq!(titles(&idx.search("überweisung")), ["Bank — Überweisung"]);
        assert_eq!(titles(&idx.search("ÜBER")), ["Bank — Überweisung"]);
    }

    #[test]
    fn each_item_is_reported_once_and_empty_query_lists_all_in_title_order() {
        let idx = index();
        // "a" occurs many times in several items.
        let hits = idx.search("a");
        let mut ids: Vec<_> = hits.iter().map(|s| s.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), hits.len());
        assert_eq!(titles(&idx.search("  ")), ["Bank — Überweisung", "GitHub", "Gmail", "Mail", "Mail Archive"]);
    }

    #[test]
    fn fast_one_term_ranking_agrees_with_the_general_rule() {
        let idx = SearchIndex::new(
            (0..300)
                .map(|i| {
                    summary(&format!("t{} mail {}", i % 7, i % 13), &format!("u{i}"), &format!("https://x{i}"), "f")
                })
                .collect(),
        );
        for q in ["t", "t1", "t0", "mail", "u1", "x2", "f", "1", "ail", "s://x1"] {
            for s in idx.search(q) {
                let entry = idx.entries.iter().position(|e| e.id == s.id).unwrap();
                let start = idx.starts[entry];
                let at = start + idx.text[start..].find(q).unwrap();
                assert!(idx.rank_of_hit(entry, at, q.len()) == idx.rank(entry, q), "query {q:?}, entry {entry}");
            }
        }
        // Entries far apart: the galloping cursor must still land right.
        let hits = idx.search("u299");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].username, "u299");
    }

    #[test]
    fn separators_do_not_create_matches_across_fields() {
        let idx = SearchIndex::new(vec![summary("ab", "cd", "ef", "")]);
        assert!(idx.search("bc").is_empty());
        assert!(idx.search("b\u{1f}c").is_empty());
    }
}
