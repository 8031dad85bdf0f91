//! Memory maps of input files that survive the file being cut short while it is read.
//!
//! Inputs are memory-mapped: a 1 GB export is read without 1 GB of heap, from the page
//! cache. The price is that a file truncated by another process while mapped makes every
//! read of a page past its new end raise SIGBUS, which kills the process with no message
//! and, before this module, could leave nothing said about why.
//!
//! Why not the alternatives: reading every file with `read()` gives up what mapping buys
//! (memory that does not grow with the input, no copy); checking the size before and
//! after reading cannot stop the fault, which happens in between; reading "files that are
//! being written" with `read()` needs to know which those are, and a file can be cut at
//! any moment. `sigsetjmp`/`siglongjmp` out of the handler would unwind through Rust
//! frames, which is undefined behaviour.
//!
//! What is done instead, without jumping anywhere: every map of an input is registered
//! in a fixed, lock-free table of address ranges. A SIGBUS handler, installed once, looks
//! the faulting address up: inside a registered map, it maps anonymous zero pages over
//! the rest of that map (`mmap` with `MAP_FIXED`), marks the map as faulted, and returns;
//! the faulting read is retried and reads zeros. The reader carries on over those zeros
//! (NUL bytes, which the readers already survive), and when the file is done the caller
//! asks [`Mapped::changed`]: a fault, or a size or modification time that differs from
//! when the file was mapped, means the bytes read are not the file's, and the run stops
//! with a message naming the file, without writing a partial report. A fault at any
//! other address is passed to the handler that was there before (Rust's own, which
//! reports stack overflows), or to the default action, which ends the process as before.
//!
//! `mmap` is not on POSIX's list of async-signal-safe functions, but on Linux and macOS
//! it is a plain system call that takes no user-space lock; replacing pages of the
//! faulting map is what the kernel offers for this case. Elsewhere maps are not guarded
//! (as before: a truncation during the run ends it with SIGBUS).
//!
//! Test hook (tests only, documented here and in the README): with the environment
//! variable `MBXAUDIT_TEST_AFTER_MAP` naming a FIFO, each input is opened for reading
//! through the FIFO after it is mapped and before a byte of it is read, and the run waits
//! until the writer closes it, so that a test can cut the file short at that moment
//! (`tests/correctness.rs`).

use std::fs::File;
use std::io::Read;
use std::time::SystemTime;

use memmap2::Mmap;

/// A file's memory map, registered with the SIGBUS guard while it lives.
pub struct Mapped {
    map: Mmap,
    /// The guard's slot, when the map is guarded.
    slot: Option<usize>,
    /// The file, to look at its size and time again.
    file: Option<File>,
    /// Size and modification time when mapped.
    stamp: Option<(u64, Option<SystemTime>)>,
}

impl Mapped {
    /// Maps `file` read-only, guarded where the platform allows. The file must not be
    /// empty (a zero-length map is an error on some platforms).
    pub fn new(file: File) -> std::io::Result<Mapped> {
        let meta = file.metadata()?;
        // SAFETY: the file is opened read-only and never written through the map. Another
        // process may change or truncate it while it is mapped: reads of pages past a new
        // end raise SIGBUS, which the guard registered below turns into zero pages and a
        // "changed" mark ([`Mapped::changed`]), so no reader sees undefined memory; bytes
        // changed in place are caught by the size and time check (or, for a rewrite that
        // keeps both, are read as changed text: still initialised bytes, never UB).
        let map = unsafe { Mmap::map(&file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let slot = guard::register(map.as_ptr() as usize, map.len());
        test_hook();
        Ok(Mapped {
            map,
            slot,
            stamp: Some((meta.len(), meta.modified().ok())),
            file: Some(file),
        })
    }

    /// A map of a file that is ours alone (an unnamed temporary file): not guarded.
    pub fn private(map: Mmap) -> Mapped {
        Mapped {
            map,
            slot: None,
            file: None,
            stamp: None,
        }
    }

    /// Why the bytes read through this map may not be the file's: it was cut short while
    /// read (a page fault past its end), or its size or modification time changed since
    /// it was mapped. `None` when it is unchanged.
    pub fn changed(&self) -> Option<String> {
        if self.slot.is_some_and(guard::faulted) {
            return Some(format!(
                "changed while it was read: it was cut short (it had {} bytes when the run \
                 began); no report is written from bytes that are gone. Copy the evidence \
                 to a place nothing else writes to, and run again",
                self.map.len()
            ));
        }
        let (len, modified) = self.stamp?;
        let now = self.file.as_ref()?.metadata().ok()?;
        if now.len() != len || now.modified().ok() != modified {
            return Some(format!(
                "changed while it was read: {len} bytes when the run began, {} now{}; no \
                 report is written from a file that changes under it. Copy the evidence to \
                 a place nothing else writes to, and run again",
                now.len(),
                if now.len() == len {
                    ", and modified"
                } else {
                    ""
                }
            ));
        }
        None
    }

    /// Lets the kernel drop the page-table entries of `range` (the whole pages inside it),
    /// once a reader is done with it: the pages stay in the page cache, and a later read
    /// maps them again with the file's bytes. Done by the threads that read each chunk,
    /// it spares the end of the run from unmapping the whole file on one thread (~10 ms a
    /// 250 MB file: a tenth of a whole run of the seed job). Only on Linux; elsewhere it
    /// does nothing.
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(target_os = "linux")]
        {
            const PAGE: usize = 4096;
            let start = range.start.div_ceil(PAGE) * PAGE;
            let end = (range.end.min(self.map.len()) / PAGE) * PAGE;
            if start < end {
                // SAFETY: the map is a read-only, shared map of a file. MADV_DONTNEED drops
                // the range's page-table entries only: a later read faults the pages in
                // again from the page cache (or the file), with the file's bytes, so no
                // reference into the map ever sees other memory (it is not an anonymous
                // map, whose pages would come back zeroed). A page past a cut file's end
                // raises SIGBUS as any read of it does, which the guard handles.
                let _ = unsafe {
                    self.map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = range;
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // Unregistered before the map goes (the fields are dropped after this).
        if let Some(slot) = self.slot.take() {
            guard::unregister(slot);
        }
    }
}

/// See the module documentation: waits on the FIFO named by `MBXAUDIT_TEST_AFTER_MAP`.
fn test_hook() {
    if let Some(fifo) = std::env::var_os("MBXAUDIT_TEST_AFTER_MAP") {
        if let Ok(mut f) = File::open(fifo) {
            let _ = f.read_to_end(&mut Vec::new());
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
mod guard {
    //! The lock-free table of guarded ranges and the SIGBUS handler.

    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::OnceLock;

    /// Maps guarded at once: a few per worker thread (the scan's and the hash's).
    const SLOTS: usize = 256;
    const FREE: usize = 0;
    const CLAIMED: usize = 1;
    const ACTIVE: usize = 2;

    struct Slot {
        state: AtomicUsize,
        start: AtomicUsize,
        len: AtomicUsize,
        faulted: AtomicBool,
    }

    static TABLE: [Slot; SLOTS] = [const {
        Slot {
            state: AtomicUsize::new(FREE),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faulted: AtomicBool::new(false),
        }
    }; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    /// Whether our handler is installed (decided once).
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    /// The disposition SIGBUS had before ours: set before ours is installed.
    static PREVIOUS: OnceLock<Previous> = OnceLock::new();

    struct Previous(libc::sigaction);
    // SAFETY: a plain C struct of a handler address, flags and a signal mask, written once
    // before the handler is installed and only read afterwards.
    unsafe impl Sync for Previous {}
    // SAFETY: as above.
    unsafe impl Send for Previous {}

    fn install() -> bool {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if let Ok(page) = usize::try_from(page) {
            if page.is_power_of_two() {
                PAGE.store(page, Ordering::Relaxed);
            }
        }
        // SAFETY: zeroed is a valid `sigaction` (no handler, empty mask, no flags); the
        // calls get valid pointers to it, and `on_sigbus` has the SA_SIGINFO signature.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return false;
            }
            // Known to the handler before it can run.
            if PREVIOUS.set(Previous(old)).is_err() {
                return false;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0
        }
    }

    /// Registers `[start, start + len)`; `None` when the handler could not be installed
    /// or the table is full (the map is then unguarded, as before).
    pub fn register(start: usize, len: usize) -> Option<usize> {
        if !*INSTALLED.get_or_init(install) {
            return None;
        }
        for (i, slot) in TABLE.iter().enumerate() {
            if slot
                .state
                .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                slot.start.store(start, Ordering::Relaxed);
                slot.len.store(len, Ordering::Relaxed);
                slot.faulted.store(false, Ordering::Relaxed);
                slot.state.store(ACTIVE, Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    pub fn unregister(i: usize) {
        if let Some(slot) = TABLE.get(i) {
            slot.state.store(FREE, Ordering::Release);
        }
    }

    pub fn faulted(i: usize) -> bool {
        TABLE
            .get(i)
            .is_some_and(|s| s.faulted.load(Ordering::Acquire))
    }

    /// The SIGBUS handler: zero pages over the rest of a guarded map that faulted, else
    /// the previous disposition. Only atomics, `mmap` and `sigaction` are used.
    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO handler.
        let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
        let page = PAGE.load(Ordering::Relaxed);
        // A SIGBUS sent by a process (kill, si_code ≤ 0) names no address.
        let table = if code > 0 { &TABLE[..] } else { &[] };
        for slot in table {
            if slot.state.load(Ordering::Acquire) != ACTIVE {
                continue;
            }
            let (start, len) = (
                slot.start.load(Ordering::Relaxed),
                slot.len.load(Ordering::Relaxed),
            );
            if addr < start || addr - start >= len {
                continue;
            }
            let from = addr & !(page - 1);
            let end = (start + len).div_ceil(page) * page;
            // SAFETY: [from, end) lies inside the registered map (whole pages of it: the
            // map starts on a page and the kernel maps whole pages), which is alive (it is
            // unregistered before it is unmapped) and only read. Replacing its pages with
            // anonymous zero pages changes what later reads see, never what memory is
            // valid.
            let p = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                slot.faulted.store(true, Ordering::Release);
                return;
            }
            break;
        }
        chain(sig, info, ctx);
    }

    /// Hands a fault that is not ours to the disposition that was there before.
    fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let Some(Previous(old)) = PREVIOUS.get() else {
            return;
        };
        let handler = old.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            // Back to it: the faulting instruction runs again and the fault takes its
            // default course (the process ends with SIGBUS), as without us.
            // SAFETY: `old` is a valid sigaction read from the kernel.
            unsafe { libc::sigaction(sig, old, std::ptr::null_mut()) };
        } else if old.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the kernel gave this address as an SA_SIGINFO handler.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(handler) };
            f(sig, info, ctx);
        } else {
            // SAFETY: the kernel gave this address as a plain handler.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
            f(sig);
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod guard {
    //! No guard on this platform: maps are used as they are.
    pub fn register(_start: usize, _len: usize) -> Option<usize> {
        None
    }
    pub fn unregister(_i: usize) {}
    pub fn faulted(_i: usize) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_short_while_mapped_reads_zeros_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        std::fs::write(&path, vec![b'x'; 64 * 1024]).unwrap();
        let mapped = Mapped::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(mapped.changed(), None);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100)
            .unwrap();
        // Past the new end: a SIGBUS without the guard.
        let tail: u64 = mapped[32 * 1024..].iter().map(|&b| u64::from(b)).sum();
        assert_eq!(tail, 0);
        assert_eq!(mapped[..100], [b'x'; 100]);
        let why = mapped.changed().unwrap();
        assert!(why.contains("cut short"), "{why}");
        drop(mapped);

        // Grown: the size says so.
        std::fs::write(&path, vec![b'y'; 8192]).unwrap();
        let mapped = Mapped::new(File::open(&path).unwrap()).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .set_len(9000)
            .unwrap();
        assert!(mapped
            .changed()
            .unwrap()
            .contains("8192 bytes when the run began"));
    }

    #[test]
    fn released_pages_read_the_file_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let bytes: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mapped = Mapped::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(&mapped[..], &bytes[..]);
        mapped.release(100..60_000);
        mapped.release(0..mapped.len());
        assert_eq!(&mapped[..], &bytes[..]);
        assert_eq!(mapped.changed(), None);
    }
}
