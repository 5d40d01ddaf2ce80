//! Randomness from the operating system's generator.

/// Fills an array from the OS CSPRNG.
///
/// Failure to read the OS generator leaves no safe way to continue (every key,
/// nonce and id depends on it), so it aborts the operation with a panic that
/// carries no secret.
pub(crate) fn random_array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// Fills a buffer from the OS CSPRNG.
pub(crate) fn fill(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
}
