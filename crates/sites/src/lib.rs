//! # tessera-sites
//!
//! Which item belongs to which website. One matcher for every integration
//! that hands a login to something that names a place — the browser
//! extension, `tessera list --url`, git's credential helper — so they all
//! refuse the same look-alikes.
//!
//! ## The rules
//!
//! An item URL (`https://github.com`, or just `github.com`, which means
//! `https://github.com`) matches a page when:
//!
//! - **the host is the item's host or one of its subdomains**, compared
//!   label by label in punycode: an item for `github.com` matches
//!   `github.com` and `gist.github.com`, never `github.com.evil.example`,
//!   `githubb.com` or `evil.example/?github.com`; a host in another script
//!   that looks the same (`gіthub.com` with a Cyrillic `і`) is another host;
//! - **the item's host is not itself a public suffix** (Mozilla's Public
//!   Suffix List, private section included): an item for `co.uk` or
//!   `github.io` matches nothing, not even that host, so no one can
//!   register a name under it and be offered the login; IP addresses and
//!   one-label hosts (`localhost`) match only themselves;
//! - **the scheme allows it**: an `https` page takes `https` and `http`
//!   items (going up is safe); an `http` page never gets an `https` item
//!   unless [`Policy::allow_http`] says so; other schemes must be equal;
//! - **the port is the same**: `:8080` is not `:9090`, and an item without
//!   a port means the scheme's default.
//!
//! Matches are ranked: [`MatchKind::Exact`] (same host and the item's path
//! contains the page's), then [`MatchKind::Host`], then
//! [`MatchKind::Parent`] (the item is for a parent domain of the page, or
//! for the `www.` form of the page's host).
//!
//! ```
//! use tessera_sites::{MatchKind, Page, Policy};
//!
//! let policy = Policy::default();
//! let page = Page::parse("https://gist.github.com/octo").unwrap();
//! assert_eq!(tessera_sites::url_match("github.com", &page, &policy), Some(MatchKind::Parent));
//! let phish = Page::parse("https://github.com.evil.example/login").unwrap();
//! assert_eq!(tessera_sites::url_match("github.com", &phish, &policy), None);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod index;

use std::fmt;
use std::net::IpAddr;

pub use index::SiteIndex;

/// How good a match is; better matches compare greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The item is for a parent domain of the page's host (`github.com`
    /// for `gist.github.com`), or for the page host's `www.` form.
    Parent,
    /// Same host, port and a compatible scheme.
    Host,
    /// Same host, and the page's path is the item's path or under it.
    Exact,
}

impl MatchKind {
    /// `exact`, `host` or `parent`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Host => "host",
            MatchKind::Parent => "parent",
        }
    }
}

/// What the user allows beyond the safe defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Offer `https` items on `http` pages of the same host. Off by
    /// default: a page served without TLS can be anyone's on the way.
    pub allow_http: bool,
}

/// A URL that cannot be matched against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// Not a URL at all.
    Malformed(String),
    /// A URL without a host (`mailto:`, `data:`, `file:///…`).
    NoHost,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Malformed(why) => write!(f, "not a valid URL ({why})"),
            UrlError::NoHost => f.write_str("the URL names no host"),
        }
    }
}

impl std::error::Error for UrlError {}

/// A host, normalised: a lower-case ASCII (punycode) domain without a
/// trailing dot, or an IP address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name.
    Domain(String),
    /// An IPv4 or IPv6 address (the `url` crate also normalises forms such
    /// as `0x7f.1` to `127.0.0.1`).
    Ip(IpAddr),
}

impl Host {
    fn from_url(url: &url::Url) -> Result<Host, UrlError> {
        match url.host() {
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d.is_empty() {
                    return Err(UrlError::NoHost);
                }
                Ok(Host::Domain(d))
            }
            Some(url::Host::Ipv4(a)) => Ok(Host::Ip(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => Ok(Host::Ip(IpAddr::V6(a))),
            None => Err(UrlError::NoHost),
        }
    }

    /// The host as text, as the index files it.
    fn key(&self) -> String {
        match self {
            Host::Domain(d) => d.clone(),
            Host::Ip(a) => a.to_string(),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(a) => write!(f, "{a}"),
        }
    }
}

/// Whether `domain` is itself a public suffix on Mozilla's list (`com`,
/// `co.uk`, `github.io`). One-label names the list does not know
/// (`localhost`, an intranet host) are not: they can only match themselves.
pub fn is_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == domain.as_bytes())
}

/// A parsed URL: scheme, host, effective port and path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    scheme: String,
    host: Host,
    /// The host as text (a domain, or an IP address's canonical form).
    host_key: String,
    /// The port, explicit or the scheme's default (`None` when the scheme
    /// has none).
    port: Option<u16>,
    /// Whether the port is the scheme's default.
    default_port: bool,
    path: String,
}

/// What the matcher compares, borrowed: from a [`Location`], or from a
/// compact index entry.
#[derive(Clone, Copy, Debug)]
struct Target<'a> {
    scheme: &'a str,
    host: &'a str,
    ip: bool,
    port: Option<u16>,
    default_port: bool,
    path: &'a str,
}

impl Location {
    fn parse(text: &str, assume_https: bool) -> Result<Location, UrlError> {
        let text = text.trim();
        let owned;
        // An item URL written without a scheme ("github.com", "github.com:8080/x")
        // means https. A page URL always has one.
        let text = if assume_https && !has_scheme(text) {
            owned = format!("https://{text}");
            owned.as_str()
        } else {
            text
        };
        let url = url::Url::parse(text).map_err(|e| UrlError::Malformed(e.to_string()))?;
        let host = Host::from_url(&url)?;
        let scheme = url.scheme().to_owned();
        let default = url::Url::parse(&format!("{scheme}://x/")).ok().and_then(|u| u.port_or_known_default());
        let port = url.port_or_known_default();
        Ok(Location {
            default_port: url.port().is_none() || port == default,
            port,
            host_key: host.key(),
            host,
            path: url.path().to_owned(),
            scheme,
        })
    }

    fn target(&self) -> Target<'_> {
        Target {
            scheme: &self.scheme,
            host: &self.host_key,
            ip: matches!(self.host, Host::Ip(_)),
            port: self.port,
            default_port: self.default_port,
            path: &self.path,
        }
    }
}

/// `scheme:` before any `/`, `?` or `#`, and not a bare `host:port`.
fn has_scheme(text: &str) -> bool {
    let Some(colon) = text.find(':') else { return false };
    let (scheme, rest) = (&text[..colon], &text[colon + 1..]);
    let is_scheme = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    // "github.com:8080/x" is a host and a port, not a scheme "github.com".
    let port_follows = rest.chars().next().is_some_and(|c| c.is_ascii_digit());
    is_scheme && !port_follows && !scheme.contains('.')
}

/// The page a request comes from: an `http` or `https` URL (anything else
/// — `file:`, `about:`, an extension page — is matched by scheme and host
/// like any other URL, and `file:` pages have no host, so nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    location: Location,
}

impl Page {
    /// Parses the URL a browser reports for a page.
    pub fn parse(url: &str) -> Result<Page, UrlError> {
        Ok(Page { location: Location::parse(url, false)? })
    }

    /// The page's host, normalised (what access decisions are keyed by).
    pub fn host(&self) -> &Host {
        &self.location.host
    }

    /// The page's scheme.
    pub fn scheme(&self) -> &str {
        &self.location.scheme
    }

    /// The host, with the port when it is not the scheme's default:
    /// `example.com`, `localhost:8080`. What a person is shown.
    pub fn origin_label(&self) -> String {
        let l = &self.location;
        match (l.default_port, l.port) {
            (false, Some(p)) => format!("{}:{p}", l.host),
            _ => l.host.to_string(),
        }
    }

    /// The URL to store with a login saved from this page: scheme, host,
    /// port and path, without the query or fragment (which can carry
    /// one-time tokens).
    pub fn save_url(&self) -> String {
        format!("{}://{}{}", self.location.scheme, self.origin_label(), self.location.path)
    }
}

/// How (and whether) one item URL matches `page`. `None` for no match,
/// and for an item URL that cannot be parsed.
pub fn url_match(item_url: &str, page: &Page, policy: &Policy) -> Option<MatchKind> {
    let item = Location::parse(item_url, true).ok()?;
    match_target(&item.target(), &page.location.target(), policy)
}

/// The best match of any of an item's URLs.
pub fn best_match<S: AsRef<str>>(item_urls: &[S], page: &Page, policy: &Policy) -> Option<MatchKind> {
    item_urls.iter().filter_map(|u| url_match(u.as_ref(), page, policy)).max()
}

fn match_target(item: &Target<'_>, page: &Target<'_>, policy: &Policy) -> Option<MatchKind> {
    if !scheme_allows(item.scheme, page.scheme, policy) || !port_matches(item, page) {
        return None;
    }
    if item.ip || page.ip {
        return (item.ip && page.ip && item.host == page.host).then(|| same_host(item, page));
    }
    let (item_host, page_host) = (item.host, page.host);
    // Anyone can register a name under a public suffix: an item for one
    // is offered nowhere.
    if is_public_suffix(item_host) {
        return None;
    }
    if item_host == page_host {
        return Some(same_host(item, page));
    }
    // One-label names (localhost) match only themselves.
    if !item_host.contains('.') {
        return None;
    }
    if is_subdomain(page_host, item_host) {
        return Some(MatchKind::Parent);
    }
    // An item saved for "www.github.com" also serves "github.com" and its
    // other subdomains: both are the same registrant's.
    let bare = item_host.strip_prefix("www.")?;
    if bare.contains('.') && !is_public_suffix(bare) && (page_host == bare || is_subdomain(page_host, bare)) {
        return Some(MatchKind::Parent);
    }
    None
}

/// `page` is `parent` with one or more labels in front.
fn is_subdomain(page: &str, parent: &str) -> bool {
    page.len() > parent.len() + 1 && page.ends_with(parent) && page.as_bytes()[page.len() - parent.len() - 1] == b'.'
}

/// Exact when the page's path is the item's or under it, and the scheme
/// is the same (an item saved for the other scheme ranks below).
fn same_host(item: &Target<'_>, page: &Target<'_>) -> MatchKind {
    if item.scheme != page.scheme {
        return MatchKind::Host;
    }
    let (item_path, page_path) = (item.path, page.path);
    let exact = if item_path.is_empty() || item_path == "/" {
        page_path.is_empty() || page_path == "/"
    } else {
        let prefix = item_path.trim_end_matches('/');
        page_path == prefix || page_path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
    };
    if exact { MatchKind::Exact } else { MatchKind::Host }
}

fn scheme_allows(item: &str, page: &str, policy: &Policy) -> bool {
    match (item, page) {
        _ if item == page => true,
        // An http login on the https version of its site: safer, not riskier.
        ("http", "https") => true,
        ("https", "http") => policy.allow_http,
        _ => false,
    }
}

fn port_matches(item: &Target<'_>, page: &Target<'_>) -> bool {
    // http and https each have their own default port; "the default" on
    // both sides is the same place when the scheme rule allowed the pair.
    (item.default_port && page.default_port) || item.port == page.port
}

#[cfg(test)]
mod tests;
