//! New passwords: the generator and the strength estimate, which need no
//! vault.

use super::Desktop;
use crate::dto::{GeneratedPassword, GeneratorOptions, PasswordStrength};
use crate::error::{CommandError, CommandResult};

impl Desktop {
    pub fn password_strength(password: &str, user_inputs: &[&str]) -> PasswordStrength {
        let estimate = zxcvbn::zxcvbn(password, user_inputs);
        let feedback = estimate.feedback();
        PasswordStrength {
            score: u8::from(estimate.score()),
            guesses_log10: estimate.guesses_log10(),
            crack_time: estimate.crack_times().offline_slow_hashing_1e4_per_second().to_string(),
            warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
            suggestions: feedback.map(|f| f.suggestions().iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
        }
    }

    pub fn generate(options: &GeneratorOptions) -> CommandResult<GeneratedPassword> {
        use tessera_core::generator::*;
        let (value, entropy_bits) = match options {
            GeneratorOptions::Password { length, lowercase, uppercase, digits, symbols, avoid_ambiguous } => {
                let policy = PasswordPolicy {
                    length: *length,
                    lowercase: *lowercase,
                    uppercase: *uppercase,
                    digits: *digits,
                    symbols: *symbols,
                    avoid_ambiguous: *avoid_ambiguous,
                };
                let value = generate_password(&policy).map_err(|e| CommandError::invalid(e.to_string()))?;
                (value, password_entropy_bits(&policy))
            }
            GeneratorOptions::Passphrase { words, separator, capitalize } => {
                let policy = PassphrasePolicy { words: *words, separator: separator.clone(), capitalize: *capitalize };
                let value = generate_passphrase(&policy).map_err(|e| CommandError::invalid(e.to_string()))?;
                (value, passphrase_entropy_bits(&policy))
            }
        };
        Ok(GeneratedPassword { value: value.to_string(), entropy_bits: (entropy_bits * 10.0).round() / 10.0 })
    }
}
