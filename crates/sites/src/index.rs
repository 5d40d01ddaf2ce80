//! An index for answering "which items are for this page?" without parsing
//! every item URL on every request. Each item URL is parsed once and filed
//! under its host (and an item for `www.example.com` also under
//! `example.com`). An item can only match a page whose host is the item's
//! host or a subdomain of it, so a lookup reads the entries filed under the
//! page's host and each parent of it down to its registrable domain — a
//! handful of hash lookups however many items share that domain — and runs
//! the matcher on those alone.

use std::collections::HashMap;
use std::hash::Hash;

use crate::{Host, Location, MatchKind, Page, Policy, is_public_suffix, match_location};

/// Item URLs filed by host. `K` identifies an item (an id, an index).
#[derive(Clone, Debug)]
pub struct SiteIndex<K> {
    by_host: HashMap<String, Vec<(K, Location)>>,
    urls: usize,
}

impl<K> Default for SiteIndex<K> {
    fn default() -> Self {
        SiteIndex { by_host: HashMap::new(), urls: 0 }
    }
}

fn key(host: &Host) -> String {
    match host {
        Host::Domain(d) => d.clone(),
        Host::Ip(a) => a.to_string(),
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
        let mut index = SiteIndex::default();
        for (item, urls) in items {
            for url in urls {
                let Ok(location) = Location::parse(url.as_ref(), true) else { continue };
                if let Host::Domain(d) = &location.host {
                    if is_public_suffix(d) {
                        continue;
                    }
                    if let Some(bare) = d.strip_prefix("www.") {
                        if bare.contains('.') && !is_public_suffix(bare) {
                            index.by_host.entry(bare.to_owned()).or_default().push((item, location.clone()));
                        }
                    }
                }
                index.urls += 1;
                index.by_host.entry(key(&location.host)).or_default().push((item, location));
            }
        }
        index
    }

    /// How many item URLs are filed.
    pub fn len(&self) -> usize {
        self.urls
    }

    /// Whether no URL is filed.
    pub fn is_empty(&self) -> bool {
        self.urls == 0
    }

    /// The items that match `page`, each with its best match, best first;
    /// items of equal rank keep the order they were filed in.
    pub fn lookup(&self, page: &Page, policy: &Policy) -> Vec<(K, MatchKind)> {
        let mut best: Vec<(K, MatchKind)> = Vec::new();
        let mut position: HashMap<K, usize> = HashMap::new();
        for host in candidate_hosts(page.host()) {
            let Some(candidates) = self.by_host.get(&host) else { continue };
            for (item, location) in candidates {
                let Some(kind) = match_location(location, &page.location, policy) else { continue };
                match position.get(item) {
                    Some(&i) => best[i].1 = best[i].1.max(kind),
                    None => {
                        position.insert(*item, best.len());
                        best.push((*item, kind));
                    }
                }
            }
        }
        best.sort_by_key(|b| std::cmp::Reverse(b.1));
        best
    }
}

/// The page's host and each parent of it down to its registrable domain
/// (`a.b.example.co.uk`, `b.example.co.uk`, `example.co.uk`): the only
/// hosts an item for this page can be filed under.
fn candidate_hosts(host: &Host) -> Vec<String> {
    let Host::Domain(d) = host else { return vec![key(host)] };
    let mut out = vec![d.clone()];
    let Some(registrable) = psl::domain(d.as_bytes()).map(|r| r.as_bytes().len()) else { return out };
    let mut rest = d.as_str();
    while let Some((_, parent)) = rest.split_once('.') {
        if parent.len() < registrable {
            break;
        }
        out.push(parent.to_owned());
        rest = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_stop_at_the_registrable_domain() {
        let hosts = |u: &str| candidate_hosts(Page::parse(u).unwrap().host());
        assert_eq!(hosts("https://a.b.example.co.uk/"), ["a.b.example.co.uk", "b.example.co.uk", "example.co.uk"]);
        assert_eq!(hosts("https://github.com/"), ["github.com"]);
        assert_eq!(hosts("http://localhost/"), ["localhost"]);
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
