//! A global allocator that wipes every block it frees.
//!
//! Zeroizing types cover the secrets we name; they cannot cover the copies
//! libraries make on the way (a JSON parser's scratch buffer, the
//! environment `std::process::Command` keeps, the old buffer a `Vec` leaves
//! behind when it grows). This allocator does: `dealloc` overwrites the
//! block before handing it back, and `realloc` allocates anew, copies and
//! wipes the old block instead of letting the system allocator move it
//! unwiped. The wipe goes through `zeroize`, which the optimiser may not
//! remove. The cost is one `memset` per free, small beside decrypting
//! what was freed.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

use zeroize::Zeroize;

/// The system allocator, wiping on free. Install with
/// `#[global_allocator] static ALLOC: ZeroOnFree = ZeroOnFree;`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ZeroOnFree;

/// Overwrites `len` bytes at `ptr` with zeros.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    // SAFETY: the caller guarantees `ptr..ptr+len` is one live allocation
    // we own; a `u8` slice over it has no alignment or validity needs.
    unsafe { std::slice::from_raw_parts_mut(ptr, len) }.zeroize();
}

// SAFETY: every method forwards to `System` with the same layout contract
// the caller gave us; the only additions are writes inside blocks the
// caller is handing back (dealloc) or that we allocated (realloc).
unsafe impl GlobalAlloc for ZeroOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes from this
        // allocator (GlobalAlloc's contract), ours until `System.dealloc`.
        unsafe {
            wipe(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` is non-zero and valid for `layout.align()`
        // (GlobalAlloc's contract), so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a fresh block; on failure the old one stays untouched, as
        // `realloc` must leave it.
        let new = unsafe { System.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; we copy the bytes
            // both hold, then wipe and free the old one.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_realloc_keeps_the_content() {
        let a = ZeroOnFree;
        let layout = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: the layout is non-zero; every block is freed once with
        // the layout it was allocated with.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            for i in 0..64 {
                *p.add(i) = i as u8;
            }
            let q = a.realloc(p, layout, 4096);
            assert!(!q.is_null());
            assert!((0..64).all(|i| *q.add(i) == i as u8));
            let shrunk = a.realloc(q, Layout::from_size_align(4096, 8).unwrap(), 16);
            assert!((0..16).all(|i| *shrunk.add(i) == i as u8));
            a.dealloc(shrunk, Layout::from_size_align(16, 8).unwrap());
        }
    }

    #[test]
    fn a_freed_block_is_wiped_before_it_goes_back() {
        // Wipe a block by hand through the same path dealloc takes, and
        // read it back before freeing it: the freed bytes themselves belong
        // to the system allocator, whose bookkeeping may reuse them.
        let mut block = vec![0xA5u8; 256];
        // SAFETY: `block` is a live, exclusively borrowed 256-byte buffer.
        unsafe { wipe(block.as_mut_ptr(), block.len()) };
        assert!(block.iter().all(|&b| b == 0));
    }
}
