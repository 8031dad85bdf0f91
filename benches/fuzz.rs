//! `cargo bench --bench fuzz -- [SECONDS] [SEED]`: fuzzing on stable Rust, for a fixed time.
//!
//! Random and mutated inputs go through [`mbxaudit::pipeline::read_bytes`] — the whole
//! reading path of one input: decoding, format detection, the CSV, Unified Audit Log and
//! JSON readers, date parsing, the rules — as five targets in turn, one per reader:
//!
//! | target | seeds |
//! |---|---|
//! | `legacy-csv` | `Search-MailboxAuditLog` CSV exports and reports (UTF-8) |
//! | `ual-csv` | Unified Audit Log CSV exports |
//! | `json` | PowerShell `ConvertTo-Json` dumps and UAL JSON documents |
//! | `json-lines` | UAL JSON Lines |
//! | `utf-16` | UTF-16 exports, and every other seed transcoded to UTF-16 LE or BE |
//!
//! Seeds are the fixtures of `testdata/legacy`, `testdata/ual` and `testdata/json`, sorted
//! into targets by what the reader itself says they are. A case is a seed with one to eight
//! mutations (bytes set, inserted, deleted; CSV and JSON syntax and broken UTF-8 inserted;
//! ranges duplicated; slices of other seeds spliced in; long runs of one byte; digits
//! changed; truncation), now and then plain random bytes, and about one case in 400 is
//! grown past the 4 MiB chunk size so that the parallel chunk planners run too. Each case
//! is read under options drawn at random (time zone, date order, record types, date window,
//! subject, expand items, a forced encoding), parsed by the real command line.
//!
//! A case fails when it panics or breaks an invariant (the funnel adds up; the rows kept
//! are the rows matched). Its input is saved to `target/fuzz-crashes/<target>-<hash>.bin`
//! (the first 20 failures of a run), with the command that replays it (`.sh`: `mbxaudit
//! search --stdout OPTIONS X.bin`) and the panic message (`.txt`). A case slower than 2 s
//! (`MBXAUDIT_FUZZ_SLOW_MS` sets it) and than 2 MB/s is saved as `slow-...` (work growing
//! faster than the input: the sign of a quadratic path); a case still running after 20 s
//! as `hang-...`,
//! and the run stops. The exit status is 1 if anything failed. One worker per core; a
//! `SEED` (default: from the clock) makes the run repeatable, on one worker.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;
use mbxaudit::cmd::cli::{Cli, Command};
use mbxaudit::cmd::search::SearchConfig;
use mbxaudit::input::Origin;
use mbxaudit::pipeline::{read_bytes, FileStatus, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    LegacyCsv,
    UalCsv,
    Json,
    JsonLines,
    Utf16,
}

const TARGETS: [Target; 5] = [
    Target::LegacyCsv,
    Target::UalCsv,
    Target::Json,
    Target::JsonLines,
    Target::Utf16,
];

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::LegacyCsv => "legacy-csv",
            Target::UalCsv => "ual-csv",
            Target::Json => "json",
            Target::JsonLines => "json-lines",
            Target::Utf16 => "utf-16",
        }
    }
}

/// A small fast generator (xorshift64*), one per worker.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that mean something to one reader or another.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\r\r\n",
    b"\0",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\"\r\n\"",
    b"\",\"",
    b"\\\"",
    b"\\u0000",
    b"\\ud83d",
    b"\\uZZ",
    b"/Date(",
    b")/",
    b"\\/Date(1491837731000)\\/",
    b"1e999",
    b"-",
    b"=HYPERLINK(",
    b"{\"a\":",
    b"]}",
    b"null",
    b"true",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"#TYPE x\r\n",
    b"\xC3",
    b"\xE2\x82",
    b"\xF0\x9F\x98",
    b"\x80",
    b"\xED\xA0\x80",
    b"\"AuditData\"",
    b"\"CreationTime\":",
    b"\"Operation\"",
    b"LastAccessed",
    b"13/13/2017 25:61:61 PM",
    b"31.02.2017 00:00:00",
    b"2017-04-10T15:22:11.1234567+14:00",
    b"12:00:00 AM",
    b"\"RecordType\":50",
    b"  ",
];

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, others: &[Vec<u8>]) {
    let len = bytes.len();
    let at = |rng: &mut Rng| rng.below(len + 1);
    match rng.below(12) {
        0 if len > 0 => {
            let i = rng.below(len);
            bytes[i] = rng.next() as u8;
        }
        1 | 2 => {
            let i = at(rng);
            let t = *rng.pick(TOKENS);
            bytes.splice(i..i, t.iter().copied());
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let max = if rng.chance(4) { 4096 } else { 16 };
            let n = 1 + rng.below(max);
            bytes.drain(i..(i + n).min(len));
        }
        4 => bytes.truncate(at(rng)),
        5 if len > 0 => {
            let s = rng.below(len);
            let e = (s + 1 + rng.below(2048)).min(len);
            let copy = bytes[s..e].to_vec();
            let i = at(rng);
            bytes.splice(i..i, copy);
        }
        6 => {
            let other = rng.pick(others);
            if !other.is_empty() {
                let s = rng.below(other.len());
                let e = (s + 1 + rng.below(4096)).min(other.len());
                let i = at(rng);
                bytes.splice(i..i, other[s..e].iter().copied());
            }
        }
        7 => {
            let i = at(rng);
            let b = *rng.pick(b"A\"\\,\n{[0 \xC3");
            let max = if rng.chance(8) { 200_000 } else { 300 };
            let n = 1 + rng.below(max);
            bytes.splice(i..i, std::iter::repeat_n(b, n));
        }
        8 if len > 0 => {
            // A digit changed: impossible dates, other record types and logon types.
            let start = rng.below(len);
            if let Some(p) = bytes[start..].iter().position(u8::is_ascii_digit) {
                bytes[start + p] = b'0' + rng.below(10) as u8;
            }
        }
        9 if len > 0 => {
            let i = rng.below(len);
            bytes[i] = *rng.pick(b"\",;\t\n\r\0\\{}[]:");
        }
        10 if len > 0 => {
            // A whole line from another seed, at a line start.
            let other = rng.pick(others);
            let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
            let line = rng.pick(&lines);
            let s = rng.below(len);
            let i = bytes[s..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |p| s + p + 1);
            let mut ins = line.to_vec();
            ins.push(b'\n');
            bytes.splice(i..i, ins);
        }
        _ => {
            let i = at(rng);
            let n = 1 + rng.below(8);
            let noise: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            bytes.splice(i..i, noise);
        }
    }
}

fn utf16(text: &[u8], big_endian: bool) -> Vec<u8> {
    let s = String::from_utf8_lossy(text);
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in s.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

/// The options of one case, as typed on the command line.
fn options(rng: &mut Rng, target: Target) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |a: &[&str]| args.extend(a.iter().map(|s| s.to_string()));
    push(&[
        "--tz",
        *rng.pick(&[
            "UTC",
            "+02:00",
            "-09:30",
            "Europe/Berlin",
            "America/New_York",
        ]),
    ]);
    match rng.below(4) {
        0 => push(&["--date-order", "mdy"]),
        1 => push(&["--date-order", "dmy"]),
        _ => {}
    }
    push(&["--record-types", *rng.pick(&["mailbox", "admin", "all"])]);
    if rng.chance(3) {
        push(&["--logon-types", "all"]);
    }
    if rng.chance(3) {
        push(&["--include-folder-bind"]);
    }
    if rng.chance(4) {
        push(&["--start-date", "04/12/17", "--end-date", "2024-03-05"]);
    }
    if rng.chance(5) {
        push(&[
            "--subject",
            *rng.pick(&["good news|résumé", "(", "INVOICE", "^$"]),
        ]);
    }
    if rng.chance(6) {
        push(&["--ip", "203.0.113.0/24", "--user", "eve attacker"]);
    }
    if rng.chance(2) {
        push(&["--expand-items"]);
    }
    if target == Target::Utf16 && rng.chance(10) {
        push(&[
            "--encoding",
            *rng.pick(&["utf-16le", "utf-16be", "windows-1252"]),
        ]);
    }
    args
}

fn settings_of(args: &[String]) -> Settings {
    let mut argv = vec!["mbxaudit".to_string(), "search".into(), "--stdout".into()];
    argv.extend(args.iter().cloned());
    argv.push("case".into());
    let cli = Cli::try_parse_from(&argv).expect("fuzz options parse");
    let Command::Search(search) = cli.command else {
        unreachable!("a search")
    };
    SearchConfig::from_args(search)
        .expect("fuzz options are valid")
        .scan
        .settings
}

/// Reads one case; `Err` is the reason it fails (a panic or a broken invariant).
fn run_case(bytes: &[u8], settings: &Settings) -> Result<(), String> {
    let origin = Origin::Named("case".into());
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if let Ok((report, rows)) = read_bytes(&origin, bytes, settings) {
            assert!(report.counts.adds_up(), "funnel: {:?}", report.counts);
            assert_eq!(rows.len() as u64, report.counts.matched, "rows vs matched");
        }
    }));
    result.map_err(|e| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// Failing cases saved per run, at most.
const MAX_SAVED: usize = 20;

/// A case running longer than this is a hang.
const HANG: Duration = Duration::from_secs(20);

/// A worker's case in progress.
struct Current {
    started: Instant,
    target: Target,
    bytes: Vec<u8>,
    args: Vec<String>,
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

struct Seeds {
    by_target: Vec<Vec<Vec<u8>>>,
    all: Vec<Vec<u8>>,
}

fn load_seeds(root: &Path) -> Seeds {
    let mut by_target = vec![Vec::new(); TARGETS.len()];
    let mut all = Vec::new();
    let settings = settings_of(&["--record-types".into(), "all".into()]);
    for dir in ["legacy", "ual", "json"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join("testdata").join(dir))
            .expect("testdata")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "csv" || e.to_string_lossy().starts_with("json"))
            })
            .collect();
        entries.sort();
        for path in entries {
            let bytes = std::fs::read(&path).expect("seed");
            let origin = Origin::Named(path.clone());
            let Ok((report, _)) = read_bytes(&origin, &bytes, &settings) else {
                continue;
            };
            let target = match &report.status {
                FileStatus::Read { encoding, .. } if encoding.starts_with("UTF-16") => {
                    Some(Target::Utf16)
                }
                FileStatus::Read { format, .. } if format.starts_with("Unified Audit Log CSV") => {
                    Some(Target::UalCsv)
                }
                FileStatus::Read { format, .. } if format.contains("CSV") => {
                    Some(Target::LegacyCsv)
                }
                FileStatus::Read { format, .. } if format == "JSON Lines" => {
                    Some(Target::JsonLines)
                }
                FileStatus::Read { format, .. } if format == "JSON" => Some(Target::Json),
                _ => None, // empty, not an export: still a splice source
            };
            if let Some(t) = target {
                by_target[TARGETS.iter().position(|&x| x == t).expect("target")]
                    .push(bytes.clone());
            }
            all.push(bytes);
        }
    }
    for (t, seeds) in TARGETS.iter().zip(&by_target) {
        assert!(!seeds.is_empty(), "no seed for {}", t.name());
    }
    Seeds { by_target, all }
}

/// One case of `target`: its bytes and options.
fn make_case(rng: &mut Rng, seeds: &Seeds, target: Target) -> (Vec<u8>, Vec<String>) {
    let t = TARGETS.iter().position(|&x| x == target).expect("target");
    let mut bytes = if rng.chance(20) {
        let max = if rng.chance(4) { 8192 } else { 512 };
        let n = rng.below(max);
        (0..n).map(|_| rng.next() as u8).collect()
    } else if target == Target::Utf16 && !rng.chance(3) {
        // Another seed as UTF-16: mutated as text first (valid UTF-16 of broken text),
        // then maybe as bytes (odd lengths, lone surrogates).
        let mut text = rng.pick(&seeds.all).clone();
        for _ in 0..rng.below(4) {
            mutate(rng, &mut text, &seeds.all);
        }
        utf16(&text, rng.chance(3))
    } else {
        rng.pick(&seeds.by_target[t]).clone()
    };
    let n = 1 + rng.below(8);
    for _ in 0..n {
        mutate(rng, &mut bytes, &seeds.all);
    }
    if rng.chance(400) && !bytes.is_empty() {
        // Past the 4 MiB chunk size: the parallel planners cut it.
        let body = bytes.clone();
        bytes.reserve(6 << 20);
        while bytes.len() < (5 << 20) {
            bytes.extend_from_slice(&body);
        }
        for _ in 0..rng.below(4) {
            mutate(rng, &mut bytes, &seeds.all);
        }
    }
    (bytes, options(rng, target))
}

fn save(
    dir: &Path,
    kind: &str,
    target: Target,
    bytes: &[u8],
    args: &[String],
    why: &str,
) -> PathBuf {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(bytes);
    let stem = format!("{kind}{}-{:016x}", target.name(), h.finish());
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{stem}.bin"));
    let _ = std::fs::write(&path, bytes);
    // The command that replays it, shell-quoted.
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let mut line = String::from("mbxaudit search --stdout");
    for a in args
        .iter()
        .map(String::as_str)
        .chain([path.to_str().unwrap_or("")])
    {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let _ = std::fs::write(dir.join(format!("{stem}.sh")), line + "\n");
    let _ = std::fs::write(dir.join(format!("{stem}.txt")), why);
    path
}

fn main() {
    let mut numbers = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse::<u64>().ok());
    let seconds = numbers.next().unwrap_or(60);
    let seed = numbers.next();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let crashes = root.join("target").join("fuzz-crashes");
    let seeds = load_seeds(&root);

    panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
    }));

    let workers = if seed.is_some() {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let base = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!(
        "fuzz: {} s, {workers} worker(s), seed {base}, {} seeds ({}), crashes -> {}",
        seconds,
        seeds.all.len(),
        TARGETS
            .iter()
            .zip(&seeds.by_target)
            .map(|(t, s)| format!("{} {}", t.name(), s.len()))
            .collect::<Vec<_>>()
            .join(", "),
        crashes.display()
    );
    let counts: Vec<AtomicU64> = TARGETS.iter().map(|_| AtomicU64::new(0)).collect();
    let bytes_read = AtomicU64::new(0);
    let failures = Mutex::new((Vec::<String>::new(), 0u64));
    let slowest = Mutex::new((Duration::ZERO, String::new()));
    let slow_after = Duration::from_millis(
        std::env::var("MBXAUDIT_FUZZ_SLOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // Each worker's case in progress, for the watchdog: a case that runs for HANG is saved
    // and the run stops (a thread cannot be cancelled).
    let current: Vec<Mutex<Option<Current>>> = (0..workers).map(|_| Mutex::new(None)).collect();
    let finished = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (current_ref, finished_ref, crashes_ref) = (&current, &finished, &crashes);
        scope.spawn(move || {
            while !finished_ref.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                for slot in current_ref {
                    let slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(c) = slot.as_ref().filter(|c| c.started.elapsed() > HANG) {
                        let path = save(crashes_ref, "hang-", c.target, &c.bytes, &c.args, "hang");
                        println!(
                            "fuzz: HANG: a {} case of {} bytes ran for over {HANG:?} (saved as {})",
                            c.target.name(),
                            c.bytes.len(),
                            path.display()
                        );
                        std::process::exit(1);
                    }
                }
            }
        });
        let mut handles = Vec::new();
        for w in 0..workers {
            let (seeds, counts, failures, slowest, crashes) =
                (&seeds, &counts, &failures, &slowest, &crashes);
            let bytes_read = &bytes_read;
            let current = &current[w];
            handles.push(scope.spawn(move || {
                let mut rng = Rng(base
                    .wrapping_add(w as u64)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    | 1);
                let mut k = w;
                while Instant::now() < deadline {
                    let index = k % TARGETS.len();
                    let target = TARGETS[index];
                    k += 1;
                    let (bytes, args) = make_case(&mut rng, seeds, target);
                    let settings = match panic::catch_unwind(|| settings_of(&args)) {
                        Ok(s) => s,
                        Err(_) => continue,
                    };
                    let started = Instant::now();
                    *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Current {
                        started,
                        target,
                        bytes: bytes.clone(),
                        args: args.clone(),
                    });
                    let outcome = run_case(&bytes, &settings);
                    let took = started.elapsed();
                    *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    counts[index].fetch_add(1, Ordering::Relaxed);
                    bytes_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    let failure = match outcome {
                        Err(why) => Some(("", why)),
                        // Slow: over 2 s for a small case, or under 2 MB/s for a large one.
                        Ok(())
                            if took > slow_after
                                && took.as_secs_f64() * 2e6 > bytes.len().max(1 << 20) as f64 =>
                        {
                            Some(("slow-", format!("{} bytes took {took:?}", bytes.len())))
                        }
                        Ok(()) => None,
                    };
                    if let Some((kind, why)) = failure {
                        let mut failures = failures.lock().unwrap_or_else(|e| e.into_inner());
                        failures.1 += 1;
                        // The first few are saved: one bug is often hit many times.
                        if failures.0.len() < MAX_SAVED {
                            let path = save(crashes, kind, target, &bytes, &args, &why);
                            let line =
                                format!("{}: {why} (saved as {})", target.name(), path.display());
                            eprintln!("{} {line}", if kind.is_empty() { "CRASH" } else { "SLOW" });
                            failures.0.push(line);
                        }
                    }
                    let mut s = slowest.lock().unwrap_or_else(|e| e.into_inner());
                    if took > s.0 {
                        *s = (took, format!("{}, {} bytes", target.name(), bytes.len()));
                    }
                }
            }));
        }
        for h in handles {
            let _ = h.join();
        }
        finished.store(true, Ordering::Relaxed);
    });
    let _ = panic::take_hook();
    let total: u64 = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    println!(
        "fuzz: {total} cases in {seconds} s ({:.0}/s, {:.0} MB read): {}",
        total as f64 / seconds.max(1) as f64,
        bytes_read.load(Ordering::Relaxed) as f64 / 1e6,
        TARGETS
            .iter()
            .zip(&counts)
            .map(|(t, c)| format!("{} {}", t.name(), c.load(Ordering::Relaxed)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let slowest = slowest.into_inner().unwrap_or_else(|e| e.into_inner());
    println!("fuzz: slowest case {:?} ({})", slowest.0, slowest.1);
    let (saved, failed) = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    if failed == 0 {
        println!("fuzz: no panic, no broken invariant, no slow case");
    } else {
        println!(
            "fuzz: {failed} failing case(s), the first {} saved:",
            saved.len()
        );
        for f in &saved {
            println!("  {f}");
        }
        std::process::exit(1);
    }
}
