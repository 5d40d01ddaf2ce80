//! An index for answering "which items are for this page?" without parsing
//! every item URL on every request. Each item URL is parsed once and filed
//! under its host. An item can only match a page whose host is the item's
//! host or a subdomain of it (or the bare form of a `www.` item host), so a
//! lookup reads the entries filed under the page's host and each parent of
//! it down to its registrable domain, and their `www.` forms — a handful of
//! hash lookups however many items share a domain — and runs the matcher
//! on those alone.
//!
//! Entries are kept compact (about 150 bytes per URL: one flat array
//! sorted by host, the host text stored once, no path when it is `/`), as
//! the app keeps the index for as long as the vault is unlocked.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;

use crate::{Host, Location, MatchKind, Page, Policy, Target, is_public_suffix, match_target};

/// A URL's scheme, without an allocation for the usual two.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
    Other(Box<str>),
}

impl Scheme {
    fn from(s: &str) -> Scheme {
        match s {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => Scheme::Other(other.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::Other(s) => s,
        }
    }
}

/// One item URL, less its host (the key it is filed under).
#[derive(Clone, Debug)]
struct Entry<K> {
    item: K,
    scheme: Scheme,
    port: Option<u16>,
    default_port: bool,
    ip: bool,
    /// `None` for an empty or `/` path.
    path: Option<Box<str>>,
}

/// Item URLs filed by host. `K` identifies an item (an id, an index).
#[derive(Clone, Debug)]
pub struct SiteIndex<K> {
    /// Entries sorted by host, in filing order within a host.
    entries: Vec<Entry<K>>,
    by_host: HashMap<Box<str>, Range<u32>>,
}

impl<K> Default for SiteIndex<K> {
    fn default() -> Self {
        SiteIndex { entries: Vec::new(), by_host: HashMap::new() }
    }
}

impl<K: Copy + Eq + Hash> SiteIndex<K> {
    /// Files every URL of every item. URLs that can never match (no host,
    /// unparseable, a public suffix) are left out.
    pub fn new<I, U, S>(items: I) -> SiteIndex<K>
    where
        I: IntoIterator<Item = (K, U)>,
        U: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut filed: Vec<(String, Entry<K>)> = Vec::new();
        for (item, urls) in items {
            for url in urls {
                let Ok(Location { scheme, host, host_key, port, default_port, path }) =
                    Location::parse(url.as_ref(), true)
                else {
                    continue;
                };
                let ip = matches!(host, Host::Ip(_));
                if !ip && is_public_suffix(&host_key) {
                    continue;
                }
                let path = (!path.is_empty() && path != "/").then(|| path.into_boxed_str());
                filed.push((host_key, Entry { item, scheme: Scheme::from(&scheme), port, default_port, ip, path }));
            }
        }
        // Stable: entries of one host keep the order they were filed in.
        filed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut index = SiteIndex { entries: Vec::with_capacity(filed.len()), by_host: HashMap::new() };
        for (host, entry) in filed {
            let at = index.entries.len() as u32;
            index.entries.push(entry);
            match index.by_host.get_mut(host.as_str()) {
                Some(range) => range.end = at + 1,
                None => {
                    index.by_host.insert(host.into_boxed_str(), at..at + 1);
                }
            }
        }
        index.entries.shrink_to_fit();
        index.by_host.shrink_to_fit();
        index
    }

    /// How many item URLs are filed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no URL is filed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The items that match `page`, each with its best match, best first.
    pub fn lookup(&self, page: &Page, policy: &Policy) -> Vec<(K, MatchKind)> {
        let page_target = page.location.target();
        let mut best: Vec<(K, MatchKind)> = Vec::new();
        let mut position: HashMap<K, usize> = HashMap::new();
        for host in candidate_hosts(page.host()) {
            let Some((key, range)) = self.by_host.get_key_value(host.as_str()) else { continue };
            for entry in &self.entries[range.start as usize..range.end as usize] {
                let target = Target {
                    scheme: entry.scheme.as_str(),
                    host: key,
                    ip: entry.ip,
                    port: entry.port,
                    default_port: entry.default_port,
                    path: entry.path.as_deref().unwrap_or("/"),
                };
                let Some(kind) = match_target(&target, &page_target, policy) else { continue };
                match position.get(&entry.item) {
                    Some(&i) => best[i].1 = best[i].1.max(kind),
                    None => {
                        position.insert(entry.item, best.len());
                        best.push((entry.item, kind));
                    }
                }
            }
        }
        best.sort_by_key(|b| std::cmp::Reverse(b.1));
        best
    }
}

/// The hosts an item for this page can be filed under: the page's host and
/// each parent of it down to its registrable domain
/// (`a.b.example.co.uk`, `b.example.co.uk`, `example.co.uk`), each also
/// with `www.` in front (an item for `www.example.co.uk` serves
/// `example.co.uk`).
fn candidate_hosts(host: &Host) -> Vec<String> {
    let Host::Domain(d) = host else { return vec![host.key()] };
    let mut hosts = vec![d.clone()];
    if let Some(registrable) = psl::domain(d.as_bytes()).map(|r| r.as_bytes().len()) {
        let mut rest = d.as_str();
        while let Some((_, parent)) = rest.split_once('.') {
            if parent.len() < registrable {
                break;
            }
            hosts.push(parent.to_owned());
            rest = parent;
        }
    }
    let www: Vec<String> = hosts.iter().map(|h| format!("www.{h}")).filter(|w| !hosts.contains(w)).collect();
    hosts.extend(www);
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_stop_at_the_registrable_domain() {
        let hosts = |u: &str| candidate_hosts(Page::parse(u).unwrap().host());
        assert_eq!(
            hosts("https://a.b.example.co.uk/"),
            [
                "a.b.example.co.uk",
                "b.example.co.uk",
                "example.co.uk",
                "www.a.b.example.co.uk",
                "www.b.example.co.uk",
                "www.example.co.uk"
            ]
        );
        assert_eq!(hosts("https://www.github.com/"), ["www.github.com", "github.com", "www.www.github.com"]);
        assert_eq!(hosts("http://localhost/"), ["localhost", "www.localhost"]);
        assert_eq!(hosts("http://127.0.0.1/"), ["127.0.0.1"]);
    }

    #[test]
    fn many_items_under_one_domain_are_looked_up_by_host() {
        let urls: Vec<(usize, [String; 1])> =
            (0..50_000).map(|i| (i, [format!("https://site{i}.example.org/login")])).collect();
        let index = SiteIndex::new(urls.iter().map(|(i, u)| (*i, u.iter())));
        let page = Page::parse("https://site123.example.org/login").unwrap();
        assert_eq!(index.lookup(&page, &Policy::default()), vec![(123, MatchKind::Exact)]);
    }
}
