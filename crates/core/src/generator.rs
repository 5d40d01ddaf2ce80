//! Password and passphrase generation from the operating system's CSPRNG.
//!
//! Passwords draw every character uniformly (rejection sampling inside
//! `random_range`, no modulo bias) from the union of the chosen classes,
//! with one character of each class guaranteed and the result shuffled, so
//! the guaranteed characters can be anywhere. Passphrases draw words from
//! the EFF large word list (7,776 words, 12.9 bits each), shipped with the
//! code.
//!
//! Secrets are built in [`Zeroizing`] buffers sized up front, so no
//! reallocation leaves a copy behind.

use std::sync::OnceLock;

use rand::RngExt;
use zeroize::Zeroizing;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
/// Characters that look alike in many fonts, or are awkward to type.
const AMBIGUOUS: &[u8] = b"Il1O0o|`'\"";

/// Shortest password accepted, whatever the classes.
const MIN_LENGTH: usize = 4;
/// Longest password accepted.
const MAX_LENGTH: usize = 1024;
/// Fewest passphrase words accepted.
const MIN_WORDS: usize = 3;
/// Most passphrase words accepted.
const MAX_WORDS: usize = 64;

/// What a generated password is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Number of characters.
    pub length: usize,
    /// Include a–z.
    pub lowercase: bool,
    /// Include A–Z.
    pub uppercase: bool,
    /// Include 0–9.
    pub digits: bool,
    /// Include ASCII punctuation.
    pub symbols: bool,
    /// Leave out look-alike characters (`I l 1 O 0 o |` and quotes).
    pub avoid_ambiguous: bool,
}

impl Default for PasswordPolicy {
    /// 20 characters from all four classes: about 130 bits.
    fn default() -> Self {
        PasswordPolicy {
            length: 20,
            lowercase: true,
            uppercase: true,
            digits: true,
            symbols: true,
            avoid_ambiguous: false,
        }
    }
}

/// What a generated passphrase is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassphrasePolicy {
    /// Number of words.
    pub words: usize,
    /// Between words.
    pub separator: String,
    /// Capitalise each word's first letter.
    pub capitalize: bool,
}

impl Default for PassphrasePolicy {
    /// Six words joined by `-`: about 77.5 bits.
    fn default() -> Self {
        PassphrasePolicy { words: 6, separator: "-".into(), capitalize: false }
    }
}

/// A policy that cannot produce a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneratorError {
    /// Every character class is switched off.
    #[error("choose at least one kind of character")]
    NoCharacterClass,
    /// Shorter than the minimum.
    #[error("a password of {length} characters is too short; the minimum here is {required}")]
    TooShort {
        /// Asked for.
        length: usize,
        /// Minimum.
        required: usize,
    },
    /// Longer than the maximum.
    #[error("a password of {length} characters is too long; the maximum is {max}")]
    TooLong {
        /// Asked for.
        length: usize,
        /// Maximum.
        max: usize,
    },
    /// Fewer words than the minimum.
    #[error("a passphrase of {words} words is too short; use at least {min}")]
    TooFewWords {
        /// Asked for.
        words: usize,
        /// Minimum.
        min: usize,
    },
    /// More words than the maximum.
    #[error("a passphrase of {words} words is too long; the maximum is {max}")]
    TooManyWords {
        /// Asked for.
        words: usize,
        /// Maximum.
        max: usize,
    },
}

/// The enabled classes, each filtered for ambiguity.
fn classes(policy: &PasswordPolicy) -> Vec<Vec<u8>> {
    [(policy.lowercase, LOWER), (policy.uppercase, UPPER), (policy.digits, DIGITS), (policy.symbols, SYMBOLS)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, set)| set.iter().copied().filter(|c| !(policy.avoid_ambiguous && AMBIGUOUS.contains(c))).collect())
        .collect()
}

/// Generates a password following `policy`.
pub fn generate_password(policy: &PasswordPolicy) -> Result<Zeroizing<String>, GeneratorError> {
    let classes = classes(policy);
    if classes.is_empty() {
        return Err(GeneratorError::NoCharacterClass);
    }
    let required = classes.len().max(MIN_LENGTH);
    if policy.length < required {
        return Err(GeneratorError::TooShort { length: policy.length, required });
    }
    if policy.length > MAX_LENGTH {
        return Err(GeneratorError::TooLong { length: policy.length, max: MAX_LENGTH });
    }
    let union: Vec<u8> = classes.concat();
    let mut rng = rand::rng();
    let mut chars = Zeroizing::new(Vec::with_capacity(policy.length));
    for class in &classes {
        chars.push(class[rng.random_range(0..class.len())]);
    }
    while chars.len() < policy.length {
        chars.push(union[rng.random_range(0..union.len())]);
    }
    // Fisher–Yates: every arrangement equally likely, so the guaranteed
    // characters are not always at the front.
    for i in (1..chars.len()).rev() {
        let j = rng.random_range(0..=i);
        chars.swap(i, j);
    }
    let mut out = Zeroizing::new(String::with_capacity(chars.len()));
    out.extend(chars.iter().map(|&b| b as char));
    Ok(out)
}

/// Generates a passphrase following `policy`.
pub fn generate_passphrase(policy: &PassphrasePolicy) -> Result<Zeroizing<String>, GeneratorError> {
    if policy.words < MIN_WORDS {
        return Err(GeneratorError::TooFewWords { words: policy.words, min: MIN_WORDS });
    }
    if policy.words > MAX_WORDS {
        return Err(GeneratorError::TooManyWords { words: policy.words, max: MAX_WORDS });
    }
    let list = wordlist();
    let longest = list.iter().map(|w| w.len()).max().unwrap_or(0);
    let mut rng = rand::rng();
    let mut out = Zeroizing::new(String::with_capacity(policy.words * (longest + policy.separator.len())));
    for i in 0..policy.words {
        if i > 0 {
            out.push_str(&policy.separator);
        }
        let word = list[rng.random_range(0..list.len())];
        let mut letters = word.chars();
        if let (true, Some(first)) = (policy.capitalize, letters.next()) {
            out.extend(first.to_uppercase());
            out.push_str(letters.as_str());
        } else {
            out.push_str(word);
        }
    }
    Ok(out)
}

/// Entropy of a generated password in bits: `length × log2(alphabet)`.
/// The one-of-each-class rule removes a sliver of the space, so this is an
/// upper bound, within a fraction of a bit for sensible lengths.
pub fn password_entropy_bits(policy: &PasswordPolicy) -> f64 {
    let alphabet: usize = classes(policy).iter().map(Vec::len).sum();
    if alphabet == 0 {
        return 0.0;
    }
    policy.length as f64 * (alphabet as f64).log2()
}

/// Entropy of a generated passphrase in bits: `words × log2(7776)`.
pub fn passphrase_entropy_bits(policy: &PassphrasePolicy) -> f64 {
    policy.words as f64 * (wordlist().len() as f64).log2()
}

/// The EFF large word list (Bonneau, EFF 2016; CC BY 3.0 US), 7,776 words.
pub fn wordlist() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| include_str!("eff_large_wordlist.txt").lines().filter(|l| !l.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_every_class_present() {
        let policy = PasswordPolicy::default();
        for _ in 0..1000 {
            let p = generate_password(&policy).unwrap();
            assert_eq!(p.len(), 20);
            for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
                assert!(p.bytes().any(|b| class.contains(&b)), "missing a class in a generated password");
            }
        }
        let short = PasswordPolicy { length: 4, ..PasswordPolicy::default() };
        for _ in 0..1000 {
            let p = generate_password(&short).unwrap();
            for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
                assert!(p.bytes().any(|b| class.contains(&b)));
            }
        }
    }

    #[test]
    fn classes_can_be_left_out_and_ambiguous_characters_avoided() {
        let policy = PasswordPolicy { length: 64, symbols: false, avoid_ambiguous: true, ..PasswordPolicy::default() };
        for _ in 0..200 {
            let p = generate_password(&policy).unwrap();
            assert!(p.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(!p.bytes().any(|b| AMBIGUOUS.contains(&b)));
        }
    }

    #[test]
    fn impossible_policies_are_refused() {
        let none =
            PasswordPolicy { lowercase: false, uppercase: false, digits: false, symbols: false, ..Default::default() };
        assert_eq!(generate_password(&none), Err(GeneratorError::NoCharacterClass));
        let short = PasswordPolicy { length: 3, ..Default::default() };
        assert_eq!(generate_password(&short), Err(GeneratorError::TooShort { length: 3, required: 4 }));
        let long = PasswordPolicy { length: 1025, ..Default::default() };
        assert_eq!(generate_password(&long), Err(GeneratorError::TooLong { length: 1025, max: 1024 }));
        let few = PassphrasePolicy { words: 2, ..Default::default() };
        assert_eq!(generate_passphrase(&few), Err(GeneratorError::TooFewWords { words: 2, min: 3 }));
        let many = PassphrasePolicy { words: 65, ..Default::default() };
        assert_eq!(generate_passphrase(&many), Err(GeneratorError::TooManyWords { words: 65, max: 64 }));
    }

    #[test]
    fn characters_are_uniform_over_positions_and_values() {
        // Digits only: a 10-letter alphabet, 10 characters a password,
        // 20,000 passwords. A broken shuffle would put the forced digit at
        // position 0 every time; modulo bias or a bad range would skew the
        // value counts. Each cell (position × digit) expects 2,000; the
        // bound (±15 %) is over 6 standard deviations wide.
        let policy = PasswordPolicy {
            length: 10,
            lowercase: false,
            uppercase: false,
            digits: true,
            symbols: false,
            avoid_ambiguous: false,
        };
        let mut counts = [[0u32; 10]; 10];
        for _ in 0..20_000 {
            let p = generate_password(&policy).unwrap();
            for (pos, b) in p.bytes().enumerate() {
                counts[pos][usize::from(b - b'0')] += 1;
            }
        }
        for (pos, row) in counts.iter().enumerate() {
            for (digit, &n) in row.iter().enumerate() {
                assert!((1700..=2300).contains(&n), "position {pos} digit {digit}: {n} of 2000 expected");
            }
        }
    }

    #[test]
    fn forced_characters_are_shuffled_into_any_position() {
        // Lower-case and digits, 4 characters: one letter and one digit are
        // forced, two drawn from all 36. After a uniform shuffle position 0
        // holds a digit with probability (0 + 1 + 2·10/36) / 4 ≈ 0.389;
        // without the shuffle it never would (the letter comes first).
        let policy = PasswordPolicy {
            length: 4,
            lowercase: true,
            uppercase: false,
            digits: true,
            symbols: false,
            avoid_ambiguous: false,
        };
        let n = 20_000;
        let digit_first = (0..n).filter(|_| generate_password(&policy).unwrap().as_bytes()[0].is_ascii_digit()).count();
        // Expected 7,778; ±6 standard deviations is about ±415.
        assert!((7360..=8200).contains(&digit_first), "digit first in {digit_first} of {n}");
    }

    #[test]
    fn passphrases_come_from_the_word_list() {
        let policy = PassphrasePolicy { words: 7, separator: " ".into(), capitalize: false };
        let list = wordlist();
        for _ in 0..200 {
            let p = generate_passphrase(&policy).unwrap();
            let words: Vec<&str> = p.split(' ').collect();
            assert_eq!(words.len(), 7);
            assert!(words.iter().all(|w| list.contains(w)));
        }
        let caps = generate_passphrase(&PassphrasePolicy { capitalize: true, ..Default::default() }).unwrap();
        assert!(caps.split('-').all(|w| w.chars().next().is_some_and(char::is_uppercase)));
        assert!((passphrase_entropy_bits(&PassphrasePolicy::default()) - 77.55).abs() < 0.01);
    }

    #[test]
    fn the_word_list_is_the_eff_large_list() {
        let list = wordlist();
        assert_eq!(list.len(), 7776);
        assert_eq!(list.first(), Some(&"abacus"));
        assert_eq!(list.last(), Some(&"zoom"));
        let unique: std::collections::HashSet<_> = list.iter().collect();
        assert_eq!(unique.len(), 7776);
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate_password(&PasswordPolicy::default()).unwrap();
        let b = generate_password(&PasswordPolicy::default()).unwrap();
        assert_ne!(a, b);
    }
}
