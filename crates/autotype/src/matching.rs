//! Which items belong to the focused window, from its title alone (X11
//! tells nothing more that every program sets).
//!
//! An item matches, in this order of preference:
//!
//! 1. **a window rule of the item** matches the whole title, ignoring
//!    case, where `*` stands for any run of characters (`*Firefox*`); a
//!    rule written `//…//` is instead a regular expression searched
//!    anywhere in the title, ignoring case (KeePassXC's semantics for
//!    both). A rule may carry its own sequence;
//! 2. **the item's URL host**, without a leading `www.`, appears in the
//!    title (`github.com` in "Sign in · github.com — Firefox"); the host is
//!    found by `tessera-sites`, the one URL parser of the workspace, so a
//!    URL it refuses matches nothing here;
//! 3. **the item's title** appears in the window title, ignoring case.
//!
//! An item is listed once, for its best reason. Matching the title is
//! only ever a suggestion: the caller asks the user when several match,
//! and the typing side refuses Tessera's own windows whatever matched.

/// A window rule of an item: the window titles it is for, and optionally
/// the sequence to type there instead of the item's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowRule {
    /// `*`-wildcard pattern matched against the whole title, or `//regex//`.
    pub window: String,
    /// The sequence for windows this rule matches; `None` for the item's.
    pub sequence: Option<String>,
}

/// One item as the matcher sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a, Id> {
    pub id: Id,
    pub title: &'a str,
    /// The item's URL (`https://github.com/login`, or just `github.com`);
    /// empty when it has none.
    pub url: &'a str,
    pub rules: &'a [WindowRule],
}

/// Why an item matched, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchedBy {
    /// The item's window rule at this index.
    Rule(usize),
    /// The item URL's host is in the title.
    UrlHost,
    /// The item's title is in the window title.
    Title,
}

/// An item that matches a window, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match<Id> {
    pub id: Id,
    pub by: MatchedBy,
}

/// Why a window rule cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the window rule is empty; write a window title, with * for any text")]
    Empty,
    #[error("the window rule {rule} is not a valid regular expression: {reason}")]
    BadRegex { rule: String, reason: String },
}

/// The compiled-size ceiling of a `//regex//` rule: a rule is typed by a
/// person and matched at every shortcut press, it never needs more.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Checks a rule as the editor saves it: not empty, and a `//…//` rule
/// must compile.
pub fn validate_rule(window: &str) -> Result<(), RuleError> {
    if window.trim().is_empty() {
        return Err(RuleError::Empty);
    }
    if let Some(pattern) = regex_body(window) {
        compile(pattern).map_err(|e| RuleError::BadRegex { rule: window.to_owned(), reason: e.to_string() })?;
    }
    Ok(())
}

/// Whether `rule` matches the window title `title`. An invalid `//regex//`
/// matches nothing.
pub fn rule_matches(rule: &str, title: &str) -> bool {
    if rule.trim().is_empty() {
        return false;
    }
    match regex_body(rule) {
        Some(pattern) => compile(pattern).is_ok_and(|re| re.is_match(title)),
        None => wildcard_matches(&rule.to_lowercase(), &title.to_lowercase()),
    }
}

/// The items that match `window_title`, best reason first, in candidate
/// order within a reason.
pub fn find_matches<Id: Clone>(window_title: &str, candidates: &[Candidate<'_, Id>]) -> Vec<Match<Id>> {
    let folded = window_title.to_lowercase();
    let mut found: Vec<Match<Id>> = candidates
        .iter()
        .filter_map(|c| matched_by(window_title, &folded, c).map(|by| Match { id: c.id.clone(), by }))
        .collect();
    // Stable: candidates keep their order within one kind of reason.
    found.sort_by_key(|m| match m.by {
        MatchedBy::Rule(_) => 0,
        MatchedBy::UrlHost => 1,
        MatchedBy::Title => 2,
    });
    found
}

fn matched_by<Id>(title: &str, folded: &str, c: &Candidate<'_, Id>) -> Option<MatchedBy> {
    if let Some(i) = c.rules.iter().position(|r| rule_matches(&r.window, title)) {
        return Some(MatchedBy::Rule(i));
    }
    if url_host(c.url).is_some_and(|host| folded.contains(&host)) {
        return Some(MatchedBy::UrlHost);
    }
    let item_title = c.title.trim();
    if !item_title.is_empty() && folded.contains(&item_title.to_lowercase()) {
        return Some(MatchedBy::Title);
    }
    None
}

/// The host of an item URL, lower case, without `www.`; `None` when the
/// URL has none.
fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    // Item URLs may be written without a scheme; tessera-sites' page
    // parser wants one.
    let page = if url.contains("://") {
        tessera_sites::Page::parse(url)
    } else {
        tessera_sites::Page::parse(&format!("https://{url}"))
    };
    let host = page.ok()?.host().to_string();
    let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

fn regex_body(rule: &str) -> Option<&str> {
    let body = rule.strip_prefix("//")?.strip_suffix("//")?;
    (!body.is_empty()).then_some(body)
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).case_insensitive(true).size_limit(REGEX_SIZE_LIMIT).build()
}

/// Whole-string match of `pattern` against `text`, where `*` is any run of
/// characters (both already case-folded).
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(window: &str) -> WindowRule {
        WindowRule { window: window.into(), sequence: None }
    }

    fn ids(title: &str, candidates: &[Candidate<'_, u32>]) -> Vec<(u32, MatchedBy)> {
        find_matches(title, candidates).into_iter().map(|m| (m.id, m.by)).collect()
    }

    #[test]
    fn wildcard_rules_match_the_whole_title_ignoring_case() {
        assert!(rule_matches("*Firefox*", "GitHub — Mozilla firefox"));
        assert!(rule_matches("Sign in*", "SIGN IN to your account"));
        assert!(rule_matches("*bank", "My Bank"));
        assert!(rule_matches("*", "anything"));
        assert!(rule_matches("a*b*c", "axxbyyc"));
        // Without a wildcard, the whole title and nothing else.
        assert!(rule_matches("login", "Login"));
        assert!(!rule_matches("login", "Login — Firefox"));
        assert!(!rule_matches("*bank", "My Bank (2)"));
        assert!(!rule_matches("a*b*c", "axxcyyb"));
        // "ab*ba" must not let the suffix reuse the prefix's characters.
        assert!(!rule_matches("ab*ba", "aba"));
        assert!(!rule_matches("", "x"));
        assert!(rule_matches("*Ünïcode*", "ein ünïcode fenster"));
    }

    #[test]
    fn regex_rules_search_the_title_ignoring_case() {
        assert!(rule_matches("//^(github|gitlab) - .*//", "GitLab - Sign in"));
        assert!(rule_matches("//bank//", "My BANK account"));
        assert!(!rule_matches("//^bank$//", "My bank"));
        // Invalid: matches nothing, and the editor is told why.
        assert!(!rule_matches("//(unclosed//", "(unclosed"));
        assert!(matches!(validate_rule("//(unclosed//"), Err(RuleError::BadRegex { .. })));
        assert_eq!(validate_rule("  "), Err(RuleError::Empty));
        assert_eq!(validate_rule("*Firefox*"), Ok(()));
        // "////" is not a regex rule: an empty body; it is a literal title.
        assert!(rule_matches("////", "////"));
    }

    #[test]
    fn url_hosts_match_without_www_and_without_a_scheme() {
        let c = |id, url| Candidate { id, title: "", url, rules: &[] };
        let candidates = [
            c(1, "https://www.github.com/login"),
            c(2, "gitlab.com"),
            c(3, ""),
            c(4, "not a url at all"),
            c(5, "http://[::1]:8080/"),
        ];
        assert_eq!(ids("Sign in to GitHub.com — Firefox", &candidates), vec![(1, MatchedBy::UrlHost)]);
        assert_eq!(ids("gitlab.com / Projects", &candidates), vec![(2, MatchedBy::UrlHost)]);
        assert_eq!(ids("Firefox", &candidates), vec![]);
    }

    #[test]
    fn item_titles_match_inside_the_window_title() {
        let c = |id, title| Candidate { id, title, url: "", rules: &[] };
        let candidates = [c(1, "Email"), c(2, "  "), c(3, "Bank")];
        assert_eq!(ids("Inbox — email — Thunderbird", &candidates), vec![(1, MatchedBy::Title)]);
        // An empty title never matches every window.
        assert_eq!(ids("Terminal", &candidates), vec![]);
    }

    #[test]
    fn several_matches_are_ranked_rule_then_url_then_title() {
        let rules = [rule("*nothing*"), rule("*Portal*")];
        let candidates = [
            Candidate { id: 1, title: "Intranet", url: "", rules: &[] },
            Candidate { id: 2, title: "x", url: "portal.example.org", rules: &[] },
            Candidate { id: 3, title: "y", url: "", rules: &rules },
            // Matches by rule and by title: listed once, for the rule.
            Candidate { id: 4, title: "Portal", url: "", rules: &rules },
        ];
        assert_eq!(
            ids("Intranet Portal — portal.example.org", &candidates),
            vec![(3, MatchedBy::Rule(1)), (4, MatchedBy::Rule(1)), (2, MatchedBy::UrlHost), (1, MatchedBy::Title)]
        );
    }
}
