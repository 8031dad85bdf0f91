//! What the bench measures about the system rather than about mbxaudit: heap (a counting
//! global allocator), CPU time (this process, its children, and everyone else, from Linux's
//! `/proc`), and a description of the machine and of the source that was built.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[global_allocator]
static HEAP: CountingAlloc = CountingAlloc;

static HEAP_NOW: AtomicUsize = AtomicUsize::new(0);
static HEAP_PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts live heap bytes and their high-water mark; allocation itself is [`System`]'s.
struct CountingAlloc;

fn grew(bytes: usize) {
    let now = HEAP_NOW.fetch_add(bytes, Ordering::Relaxed) + bytes;
    HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    HEAP_NOW.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through us).
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through us).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// Heap bytes live now.
pub fn heap_now() -> usize {
    HEAP_NOW.load(Ordering::Relaxed)
}

/// Starts a new high-water mark at the current heap.
pub fn reset_heap_peak() {
    HEAP_PEAK.store(heap_now(), Ordering::Relaxed);
}

/// The high-water mark since [`reset_heap_peak`].
pub fn heap_peak() -> usize {
    HEAP_PEAK.load(Ordering::Relaxed)
}

/// Fields of `/proc/self/stat` (1-based, as `man proc` numbers them), in seconds.
fn self_stat(fields: &[usize]) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the `(comm)`: state is field 3. Times are in clock ticks, 100 a second.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let values: Vec<&str> = after.split_whitespace().collect();
    fields
        .iter()
        .filter_map(|&n| values.get(n - 3)?.parse::<f64>().ok())
        .sum::<f64>()
        / 100.0
}

/// User + system CPU seconds of this process's waited-for children (Linux; 0 elsewhere).
pub fn children_cpu() -> f64 {
    self_stat(&[16, 17])
}

/// CPU seconds used on the whole machine (Linux `/proc/stat`), and by this process and its
/// children: their difference is what other processes took while the bench ran.
#[derive(Clone, Copy)]
pub struct CpuSnapshot {
    machine: f64,
    ours: f64,
    at: Instant,
}

impl CpuSnapshot {
    pub fn now() -> CpuSnapshot {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<f64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
        let busy: f64 = ticks
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 3 && i != 4)
            .map(|(_, t)| t)
            .sum();
        CpuSnapshot {
            machine: busy / 100.0,
            ours: self_stat(&[14, 15, 16, 17]),
            at: Instant::now(),
        }
    }

    /// CPU seconds other processes took since `self`, and their share of the machine.
    pub fn others(self, cores: usize) -> (f64, f64) {
        let now = CpuSnapshot::now();
        let others = ((now.machine - self.machine) - (now.ours - self.ours)).max(0.0);
        let share = others / (now.at - self.at).as_secs_f64().max(1e-9) / cores as f64;
        (others, share)
    }

    /// What other processes took since `self`, as a sentence for the table's caption.
    pub fn others_since(self, cores: usize) -> String {
        let (others, share) = self.others(cores);
        format!(
            "other processes used {others:.1} CPU-s ({:.0}% of the machine) during the bench{}",
            100.0 * share,
            if share > 0.05 && others >= 0.2 {
                " — WARNING: the machine was not idle, numbers are noisy"
            } else {
                ""
            }
        )
    }
}

/// The source the binary was built from: commit, and whether the working tree had changes.
pub fn source_state() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!(
                "mbxaudit at {commit}{}",
                if dirty { " + uncommitted changes" } else { "" }
            )
        }
        None => "mbxaudit (no git)".into(),
    }
}

pub fn machine(cores: usize) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    format!(
        "{} cores (std::thread::available_parallelism){}; CSV scanner instructions: {:?}",
        cores,
        if cpu.is_empty() {
            String::new()
        } else {
            format!(", {cpu}")
        },
        mbxaudit::input::structural::Isa::detect()
    )
}

/// Waits for `child` (an `mbxaudit` process); returns whether it succeeded and its peak
/// resident set in bytes (Linux: `VmHWM` of `/proc/PID/status`, read every 2 ms while it
/// runs, once it is `mbxaudit` — before its exec the spawned process still shows this
/// one's memory, which is also why `wait4`'s `ru_maxrss` would overstate it; 0 where
/// there is no `/proc`).
pub fn wait_rss(mut child: std::process::Child) -> (bool, u64) {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let ours = text
                .lines()
                .any(|l| l.starts_with("Name:") && l.contains("mbxaudit"));
            let hwm = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok());
            if let (true, Some(kib)) = (ours, hwm) {
                peak = peak.max(kib * 1024);
            }
        }
        match child.try_wait() {
            Ok(Some(done)) => return (done.success(), peak),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(2)),
            Err(_) => return (false, peak),
        }
    }
}

/// Standard input of this process replaced by a pipe while it lives (for an in-process
/// run that reads `-`), restored when dropped.
#[cfg(unix)]
pub struct StdinPipe {
    saved: libc::c_int,
    write: libc::c_int,
}

#[cfg(unix)]
impl StdinPipe {
    pub fn new() -> StdinPipe {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` is a valid array of two descriptors for pipe to fill.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
        // SAFETY: duplicating descriptor 0 (standard input), which is open.
        let saved = unsafe { libc::dup(0) };
        assert!(saved >= 0, "dup");
        // SAFETY: `fds[0]` is the pipe's open read end; 0 is replaced atomically.
        assert!(unsafe { libc::dup2(fds[0], 0) } == 0, "dup2");
        // SAFETY: the read end is now also descriptor 0; this copy is ours to close.
        unsafe { libc::close(fds[0]) };
        StdinPipe {
            saved,
            write: fds[1],
        }
    }

    /// The pipe's write end (closed when the writer is dropped: end of input).
    pub fn writer(&self) -> std::fs::File {
        use std::os::unix::io::FromRawFd;
        // SAFETY: `self.write` is an open descriptor this process owns; the File takes it
        // over (it is not closed elsewhere).
        unsafe { std::fs::File::from_raw_fd(self.write) }
    }
}

#[cfg(unix)]
impl Drop for StdinPipe {
    fn drop(&mut self) {
        // SAFETY: `saved` is the descriptor standard input was; put it back and close the copy.
        unsafe {
            libc::dup2(self.saved, 0);
            libc::close(self.saved);
        }
    }
}

/// The share of `path`'s cached pages that the page cache holds in 2 MiB pieces (folios),
/// read from this process's `/proc/self/smaps` after mapping the file and touching every
/// page: `FilePmdMapped` over `Rss`. On the bench's machine (Linux 6.18, ext4) a file read
/// from disk by readahead was mostly held so, the generator's files mostly in smaller
/// pieces, and `wc -l` read the first kind about 1.7 times as fast, while mbxaudit gained
/// less: the ratios of the tables depend on it (docs/performance.md, "The page cache's
/// pieces"). `None` where the system does not say (not Linux).
pub fn huge_page_share(path: &std::path::Path) -> Option<f64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: a read-only map of a bench input nothing else writes during the bench.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let mut sum = 0u64;
    for page in map.chunks(4096) {
        sum = sum.wrapping_add(u64::from(page[0]));
    }
    std::hint::black_box(sum);
    let start = format!("{:x}-", map.as_ptr() as usize);
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&start)).skip(1);
    let (mut rss, mut pmd) = (None, None);
    for line in lines.by_ref().take_while(|l| !l.starts_with("VmFlags")) {
        let kb = |l: &str| l.split_whitespace().nth(1)?.parse::<f64>().ok();
        if line.starts_with("Rss:") {
            rss = kb(line);
        } else if line.starts_with("FilePmdMapped:") {
            pmd = kb(line);
        }
    }
    Some(pmd? / rss?.max(1.0))
}
