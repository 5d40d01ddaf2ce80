//! The matcher's table: what it must offer and, above all, what it must
//! refuse. Each row is (item URL, page URL, allow http, expected).

use super::*;

const E: Option<MatchKind> = Some(MatchKind::Exact);
const H: Option<MatchKind> = Some(MatchKind::Host);
const P: Option<MatchKind> = Some(MatchKind::Parent);
const NO: Option<MatchKind> = None;

#[rustfmt::skip]
const TABLE: &[(&str, &str, bool, Option<MatchKind>)] = &[
    // The plain cases.
    ("https://github.com", "https://github.com/", false, E),
    ("https://github.com", "https://github.com/login", false, H),
    ("github.com", "https://github.com/login", false, H),
    ("GitHub.COM", "https://github.com/login", false, H),
    ("https://github.com/login", "https://github.com/login?return_to=%2F", false, E),
    ("https://github.com/login", "https://github.com/login/oauth", false, E),
    ("https://github.com/login", "https://github.com/loginx", false, H),
    ("https://github.com/app/", "https://github.com/app/settings", false, E),
    ("https://github.com", "https://gist.github.com/octo", false, P),
    ("https://github.com", "https://a.b.github.com/", false, P),
    ("https://github.com.", "https://github.com/", false, E),
    ("https://github.com", "https://github.com./", false, E),
    ("  https://github.com  ", "https://github.com/", false, E),
    // Look-alikes: never.
    ("https://github.com", "https://github.com.evil.example/login", false, NO),
    ("https://github.com", "https://githubb.com/login", false, NO),
    ("https://github.com", "https://evil.example/?github.com", false, NO),
    ("https://github.com", "https://evil.example/github.com", false, NO),
    ("https://github.com", "https://evil.example/#github.com", false, NO),
    ("https://github.com", "https://github.com@evil.example/", false, NO),
    ("https://github.com", "https://evilgithub.com/", false, NO),
    ("https://github.com", "https://github.co/", false, NO),
    ("https://github.com", "https://xn--gthub-n4a.com/", false, NO),
    ("https://github.com", "https://gіthub.com/", false, NO),
    ("https://gist.github.com", "https://github.com/", false, NO),
    ("https://gist.github.com", "https://api.github.com/", false, NO),
    ("https://alice.github.io", "https://bob.github.io/", false, NO),
    ("https://alice.github.io", "https://x.alice.github.io/", false, P),
    // An item for a public suffix matches nothing, not even itself.
    ("https://github.io", "https://alice.github.io/", false, NO),
    ("https://github.io", "https://github.io/", false, NO),
    ("https://co.uk", "https://bank.co.uk/", false, NO),
    ("com", "https://example.com/", false, NO),
    ("https://bank.co.uk", "https://www.bank.co.uk/", false, P),
    ("https://bank.co.uk", "https://bank.co.uk.evil.example/", false, NO),
    // www.
    ("https://www.github.com", "https://github.com/", false, P),
    ("https://www.github.com", "https://www.github.com/", false, E),
    ("https://www.github.com", "https://gist.github.com/", false, P),
    ("https://www.co.uk", "https://bank.co.uk/", false, NO),
    // Scheme.
    ("https://example.com", "http://example.com/", false, NO),
    ("https://example.com", "http://example.com/", true, H),
    ("example.com", "http://example.com/", false, NO),
    ("http://example.com", "https://example.com/", false, H),
    ("http://example.com", "http://example.com/", false, E),
    ("ftp://example.com", "https://example.com/", false, NO),
    // Ports.
    ("https://example.com:8080", "https://example.com:8080/", false, E),
    ("https://example.com:8080", "https://example.com:9090/", false, NO),
    ("https://example.com:8080", "https://example.com/", false, NO),
    ("https://example.com", "https://example.com:8443/", false, NO),
    ("https://example.com:443", "https://example.com/", false, E),
    ("example.com:8080", "https://example.com:8080/", false, E),
    ("http://example.com:8080", "https://example.com:8080/", false, H),
    // IDN: compared in punycode, whichever form was stored.
    ("https://bücher.example", "https://xn--bcher-kva.example/", false, E),
    ("https://xn--bcher-kva.example", "https://bücher.example/", false, E),
    ("https://BÜCHER.example", "https://shop.bücher.example/", false, P),
    // IP addresses and one-label hosts match only themselves.
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/login", false, H),
    ("http://127.0.0.1", "http://127.0.0.2/", false, NO),
    ("http://0x7f.1", "http://127.0.0.1/", false, E),
    ("http://[::1]:8080", "http://[::1]:8080/", false, E),
    ("http://localhost:3000", "http://localhost:3000/", false, E),
    ("http://localhost:3000", "http://app.localhost:3000/", false, NO),
    ("http://intranet", "http://intranet/", false, E),
    // What cannot match.
    ("", "https://example.com/", false, NO),
    ("not a url at all", "https://example.com/", false, NO),
    ("https://", "https://example.com/", false, NO),
    ("mailto:me@example.com", "https://example.com/", false, NO),
];

#[test]
fn the_table_holds() {
    assert!(TABLE.len() >= 40);
    let mut failures = Vec::new();
    for &(item, page, allow_http, expected) in TABLE {
        let page_parsed = Page::parse(page).unwrap_or_else(|e| panic!("page {page}: {e}"));
        let got = url_match(item, &page_parsed, &Policy { allow_http });
        if got != expected {
            failures
                .push(format!("{item:?} on {page:?} (allow http: {allow_http}): got {got:?}, expected {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), TABLE.len(), failures.join("\n"));
}

#[test]
fn the_index_agrees_with_the_matcher_on_every_row() {
    for &(item, page, allow_http, expected) in TABLE {
        let index = SiteIndex::new([(0usize, [item])]);
        let page_parsed = Page::parse(page).unwrap();
        let got = index.lookup(&page_parsed, &Policy { allow_http }).first().map(|&(_, kind)| kind);
        assert_eq!(got, expected, "{item:?} on {page:?}");
    }
}

#[test]
fn best_matches_come_first_and_each_item_once() {
    let items = [
        (1, vec!["https://example.com"]),
        (2, vec!["https://login.example.com/sso", "https://example.com"]),
        (3, vec!["https://example.com/other"]),
        (4, vec!["https://evil.example"]),
        (5, vec!["https://login.example.com"]),
    ];
    let index = SiteIndex::new(items.iter().map(|(k, u)| (*k, u.iter().copied())));
    assert_eq!(index.len(), 6);
    let page = Page::parse("https://login.example.com/sso/start").unwrap();
    let hits = index.lookup(&page, &Policy::default());
    assert_eq!(hits, vec![(2, MatchKind::Exact), (5, MatchKind::Host), (1, MatchKind::Parent), (3, MatchKind::Parent)]);
    assert_eq!(best_match(&["https://example.com", "https://login.example.com/sso"], &page, &Policy::default()), E);
}

#[test]
fn pages_without_a_host_are_refused() {
    assert_eq!(Page::parse("file:///home/me/login.html"), Err(UrlError::NoHost));
    assert!(matches!(Page::parse("not a url"), Err(UrlError::Malformed(_))));
}

#[test]
fn the_origin_label_shows_a_port_only_when_it_is_not_the_default() {
    assert_eq!(Page::parse("https://Example.com:443/x").unwrap().origin_label(), "example.com");
    assert_eq!(Page::parse("http://localhost:8080/").unwrap().origin_label(), "localhost:8080");
    assert_eq!(Page::parse("https://bücher.example/").unwrap().origin_label(), "xn--bcher-kva.example");
}

#[test]
fn a_saved_url_drops_query_and_fragment() {
    let page = Page::parse("https://Login.Example.com:8443/sign-in?token=abc#x").unwrap();
    assert_eq!(page.save_url(), "https://login.example.com:8443/sign-in");
    assert_eq!(url_match(&page.save_url(), &page, &Policy::default()), E);
}
