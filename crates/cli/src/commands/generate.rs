//! `generate`: passwords and passphrases, no vault needed.

use serde_json::json;
use tessera_core::generator::{
    PassphrasePolicy, PasswordPolicy, generate_passphrase, generate_password, passphrase_entropy_bits,
    password_entropy_bits,
};

use crate::cli::GenerateArgs;
use crate::exit::{CliResult, Failure};
use crate::output::Out;

pub fn generate(args: &GenerateArgs, json: bool, out: &mut Out) -> CliResult {
    let (secret, bits) = match args.words {
        Some(words) => {
            let policy = PassphrasePolicy { words, separator: args.separator.clone(), ..PassphrasePolicy::default() };
            (generate_passphrase(&policy).map_err(Failure::usage)?, passphrase_entropy_bits(&policy))
        }
        None => {
            let mut policy = PasswordPolicy { avoid_ambiguous: args.avoid_ambiguous, ..PasswordPolicy::default() };
            if let Some(len) = args.length {
                policy.length = len;
            }
            if args.no_symbols {
                policy.symbols = false;
            }
            (generate_password(&policy).map_err(Failure::usage)?, password_entropy_bits(&policy))
        }
    };
    if json {
        out.json(&json!({ "password": secret.as_str(), "entropy_bits": (bits * 10.0).round() / 10.0 }));
    } else {
        out.line(secret.as_str());
    }
    Ok(())
}
