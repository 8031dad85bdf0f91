//! `cargo bench --bench search`: the seed job against `wc -l`, end to end, on generated exports.
//!
//! For each input (a legacy `Search-MailboxAuditLog | Export-Csv` export, a Purview UAL CSV,
//! UAL JSON Lines, and the legacy events dumped by Windows PowerShell 5.1 and PowerShell 7
//! `ConvertTo-Json`; generated once by [`generate`] and cached under `target/bench-data/`),
//! with the page cache warm, it times in alternating (paired) runs:
//!
//! - `wc -l FILE`, the baseline: what reading the bytes costs on this machine;
//! - `mbxaudit search --start-date 2017-01-01 --end-date 2017-12-31 --subject 'good news|résumé'
//!   --stdout -q FILE`, the release binary as a subprocess, with `-j 1` and with the default
//!   thread count;
//!
//! then runs the same job in-process through the library under a counting global allocator,
//! for its peak heap (mapped input pages are not heap). It prints one table: median seconds,
//! median CPU seconds (children's user + system, from `/proc`), MB/s, the median of the
//! per-pair ratios to `wc -l` and their range, the 1-thread → all-thread speedup and the peak
//! heap. Its caption says how much CPU other processes took meanwhile, and warns when the
//! machine was not idle (on a shared 2-core machine, a neighbour's `cargo build` halves the
//! speedup).
//!
//! A bench that cannot lie (as rust-csv's `benches/bench.rs` checks its results in the loop):
//! every run's report is counted and hashed; the reports of legacy events (CSV and JSON) must
//! hold exactly the rows the generator says the job must find, and every run, at any thread count, subprocess or
//! in-process, must write the same bytes as the first one.
//!
//! Settings (environment): `MBXAUDIT_BENCH_MB` size of each input in MB (10^6 bytes, default
//! 1000), `MBXAUDIT_BENCH_RUNS` paired runs (default 5), `MBXAUDIT_BENCH_SEED` (default 1),
//! `MBXAUDIT_BENCH_FORMATS` (default all: `legacy,ual-csv,ual-jsonl,ps51-json,ps7-json,ual-ps-json`),
//! `MBXAUDIT_BENCH_JOBS` (default `seed,dump,summary,triage,report`: the seed job, then
//! issue 11's whole-export jobs, [`jobs`]), `MBXAUDIT_BENCH_MEMORY` (default 1: the piped
//! dump's peak RSS and heap with and without `--memory-limit 64M`),
//! `MBXAUDIT_BENCH_LINEARITY=1` (or `-- --linearity`): the legacy job on 1×, 2× and 4× the size
//! (default base 250 MB), time per MB and peak heap at each size. Run without `--bench`
//! (`cargo test --benches`), it makes a 2 MB smoke run: every check, one pair.

mod generate;
#[path = "search/jobs.rs"]
mod jobs;
#[path = "search/sys.rs"]
mod sys;

use std::ffi::OsString;
use std::fs::File;
use std::hash::{DefaultHasher, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Parser;

use generate::{Format, Summary, SEED_SUBJECT};

// ---------------------------------------------------------------------------------------
// Settings

struct Settings {
    mb: f64,
    runs: usize,
    seed: u64,
    formats: Vec<Format>,
    /// `MBXAUDIT_BENCH_JOBS`: the jobs timed (default all).
    jobs: Vec<Job>,
    /// `MBXAUDIT_BENCH_MEMORY` (default 1): the piped dump's memory with and without
    /// `--memory-limit`.
    memory: bool,
    linearity: bool,
    bin: PathBuf,
    data: PathBuf,
    cores: usize,
}

/// The inputs measured unless `MBXAUDIT_BENCH_FORMATS` says otherwise: every shape.
const DEFAULT_FORMATS: &str = "legacy,ual-csv,ual-jsonl,ps51-json,ps7-json,ual-ps-json";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a valid value")),
        _ => default,
    }
}

impl Settings {
    /// A scratch file of this bench process (several benches may share target/bench-data).
    fn scratch(&self, name: &str) -> PathBuf {
        self.data
            .join(format!("scratch-{}-{name}", std::process::id()))
    }

    /// Removes this process's scratch files.
    fn clean_scratch(&self) {
        for name in [
            "stdout.csv",
            "stderr.txt",
            "inprocess-report.csv",
            "report.html",
        ] {
            let _ = std::fs::remove_file(self.scratch(name));
        }
    }

    fn from_env() -> Settings {
        let linearity = env_or("MBXAUDIT_BENCH_LINEARITY", 0u8) != 0
            || std::env::args().any(|a| a == "--linearity");
        let formats = std::env::var("MBXAUDIT_BENCH_FORMATS")
            .unwrap_or_else(|_| DEFAULT_FORMATS.into())
            .split(',')
            .map(|f| Format::parse(f).unwrap_or_else(|| panic!("unknown format {f:?}")))
            .collect();
        // `cargo bench` passes --bench; without it (`cargo test --benches`), a quick smoke
        // run that still checks the results, as criterion does in test mode.
        let smoke = !std::env::args().any(|a| a == "--bench");
        let default_mb = match (smoke, linearity) {
            (true, _) => 2.0,
            (false, true) => 250.0,
            (false, false) => 1000.0,
        };
        // Cargo builds the binary for benches; it lives in target/<profile>/, so the data
        // goes next to it, in target/bench-data/ (CARGO_TARGET_DIR respected).
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_mbxaudit"));
        let target = bin
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
        let jobs = std::env::var("MBXAUDIT_BENCH_JOBS")
            .unwrap_or_else(|_| "seed,dump,summary,triage,report".into())
            .split(',')
            .map(|j| Job::parse(j).unwrap_or_else(|| panic!("unknown job {j:?}")))
            .collect();
        Settings {
            jobs,
            memory: env_or("MBXAUDIT_BENCH_MEMORY", 1u8) != 0,
            mb: env_or("MBXAUDIT_BENCH_MB", default_mb),
            runs: env_or("MBXAUDIT_BENCH_RUNS", if smoke { 1 } else { 5 }).max(1),
            seed: env_or("MBXAUDIT_BENCH_SEED", 1u64),
            formats,
            linearity,
            bin,
            data: target.join("bench-data"),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data

struct Input {
    format: Format,
    path: PathBuf,
    summary: Summary,
}

impl Input {
    fn mb(&self) -> f64 {
        self.summary.bytes as f64 / 1e6
    }
}

/// The generated file for (format, size, seed): from the cache if complete, else made now.
fn input(s: &Settings, format: Format, mb: f64) -> Input {
    std::fs::create_dir_all(&s.data).expect("cannot create target/bench-data");
    let stem = format!(
        "{}-{}MB-seed{}-v{}",
        format.name(),
        mb,
        s.seed,
        generate::VERSION
    );
    let path = s.data.join(format!("{stem}.{}", format.extension()));
    let meta = s.data.join(format!("{stem}.meta"));
    let cached = std::fs::read_to_string(&meta)
        .ok()
        .and_then(|t| Summary::from_text(&t))
        .filter(|sum| std::fs::metadata(&path).is_ok_and(|m| m.len() == sum.bytes));
    let summary = match cached {
        Some(sum) => sum,
        None => {
            eprintln!("generating {} (once; cached)...", path.display());
            let t = Instant::now();
            let sum = generate::generate_file(format, (mb * 1e6) as u64, s.seed, &path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            std::fs::write(&meta, sum.to_text()).expect("cannot write the .meta file");
            eprintln!("  {:.1} s", t.elapsed().as_secs_f64());
            sum
        }
    };
    let input = Input {
        format,
        path,
        summary,
    };
    warm(&input);
    input
}

/// Reads the whole file once, so that every timed run finds it in the page cache.
fn warm(input: &Input) {
    let mut f = File::open(&input.path).expect("cannot open the bench input");
    let mut buf = vec![0u8; 8 << 20];
    while f.read(&mut buf).expect("cannot read the bench input") > 0 {}
}

// ---------------------------------------------------------------------------------------
// Runs

#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    Wc,
    One,
    All,
}

/// A report, as the checks see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Report {
    rows: u64,
    hash: u64,
}

impl Report {
    /// Counts records (line ends outside quotes) and hashes the bytes, BOM left out.
    fn of(bytes: &[u8]) -> Report {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut quoted = false;
        let mut lines = 0u64;
        for &b in bytes {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => lines += 1,
                _ => {}
            }
        }
        if bytes.last().is_some_and(|&b| b != b'\n') {
            lines += 1;
        }
        let mut h = DefaultHasher::new();
        h.write(bytes);
        Report {
            rows: lines.saturating_sub(1), // the header
            hash: h.finish(),
        }
    }
}

/// A job the bench times: the seed job, or one of the whole-export jobs of issue 11.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// `search --start-date ... --subject ...`: the seed script's job.
    Seed,
    /// `search --include-folder-bind --logon-types all`: every row kept and written.
    Dump,
    Summary,
    Triage,
    /// `report --html`: the page (to a scratch file).
    Report,
}

impl Job {
    pub fn parse(name: &str) -> Option<Job> {
        Some(match name.trim() {
            "seed" => Job::Seed,
            "dump" => Job::Dump,
            "summary" => Job::Summary,
            "triage" => Job::Triage,
            "report" => Job::Report,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Job::Seed => "seed",
            Job::Dump => "dump",
            Job::Summary => "summary",
            Job::Triage => "triage",
            Job::Report => "report --html",
        }
    }

    /// The command line, up to the options every run adds (threads, output, input).
    fn words(self) -> Vec<&'static str> {
        match self {
            Job::Seed => vec![
                "search",
                "--start-date",
                "2017-01-01",
                "--end-date",
                "2017-12-31",
                "--subject",
                SEED_SUBJECT,
            ],
            Job::Dump => vec!["search", "--include-folder-bind", "--logon-types", "all"],
            Job::Summary => vec!["summary"],
            Job::Triage => vec!["triage"],
            Job::Report => vec!["report", "--force"],
        }
    }

    /// Whether the job writes a file (`--html`) rather than standard output.
    fn writes_file(self) -> bool {
        self == Job::Report
    }
}

fn job_args(job: Job, file: &Path, threads: Option<usize>) -> Vec<OsString> {
    let mut args: Vec<OsString> = job.words().into_iter().map(OsString::from).collect();
    args.push("-q".into());
    if let Some(n) = threads {
        args.extend(["-j".into(), n.to_string().into()]);
    }
    args.push(file.into());
    args
}

/// Outcome of one subprocess run of the job.
enum Outcome {
    Done { secs: f64, cpu: f64, report: Report },
    Failed { code: Option<i32>, message: String },
}

/// Runs the job through the release binary, stdout (or the page) to a file (read back
/// after the clock stops, to check it), stderr to another.
fn run_binary(s: &Settings, job: Job, input: &Input, threads: Option<usize>) -> Outcome {
    let out_path = s.scratch("stdout.csv");
    let err_path = s.scratch("stderr.txt");
    let page_path = s.scratch("report.html");
    let stdout = File::create(&out_path).expect("cannot create the run's stdout file");
    let stderr = File::create(&err_path).expect("cannot create the run's stderr file");
    let mut args = job_args(job, &input.path, threads);
    if job.writes_file() {
        args.insert(args.len() - 1, "--html".into());
        args.insert(args.len() - 1, page_path.clone().into());
    } else if matches!(job, Job::Seed | Job::Dump) {
        args.insert(args.len() - 1, "--stdout".into());
    }
    let cpu0 = sys::children_cpu();
    let t = Instant::now();
    let status = Command::new(&s.bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", s.bin.display()));
    let secs = t.elapsed().as_secs_f64();
    let cpu = sys::children_cpu() - cpu0;
    if !status.success() {
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        let message = err
            .lines()
            .find(|l| l.contains("not supported"))
            .or_else(|| err.lines().find(|l| l.starts_with("error")))
            .or_else(|| err.lines().next())
            .unwrap_or("")
            .chars()
            .take(120)
            .collect();
        return Outcome::Failed {
            code: status.code(),
            message,
        };
    }
    let bytes = if job.writes_file() {
        // The page, without the one line that says when it was generated.
        let page = std::fs::read(&page_path).expect("cannot read the page");
        let size = page.len();
        let mut kept: Vec<u8> = page
            .split(|&b| b == b'\n')
            .filter(|l| !l.starts_with(b"<p class=\"gen\">Generated "))
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect();
        kept.extend_from_slice(format!("\n{size}").as_bytes());
        kept
    } else {
        std::fs::read(&out_path).expect("cannot read the run's stdout file")
    };
    Outcome::Done {
        secs,
        cpu,
        report: Report::of(&bytes),
    }
}

/// `wc -l FILE`: seconds and the line count it printed.
fn run_wc(input: &Input) -> (f64, u64) {
    let t = Instant::now();
    let out = Command::new("wc")
        .arg("-l")
        .arg(&input.path)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run wc");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "wc -l failed");
    let lines = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("wc -l printed no count");
    (secs, lines)
}

/// Runs the job in this process through the library; returns seconds, peak heap bytes
/// above what was live before, and the report.
fn run_in_process(s: &Settings, input: &Input, threads: Option<usize>) -> (f64, usize, Report) {
    let out_path = s.scratch("inprocess-report.csv");
    let mut args = vec![OsString::from("mbxaudit")];
    args.extend(job_args(Job::Seed, &input.path, threads));
    args.insert(args.len() - 1, "--force".into());
    args.insert(args.len() - 1, "-o".into());
    args.insert(args.len() - 1, out_path.clone().into());
    let cli = mbxaudit::cmd::cli::Cli::parse_from(args);
    let base = sys::heap_now();
    sys::reset_heap_peak();
    let t = Instant::now();
    let code = mbxaudit::cmd::run(cli)
        .unwrap_or_else(|e| panic!("in-process run failed: {e:#}"))
        .code();
    let secs = t.elapsed().as_secs_f64();
    let peak = sys::heap_peak().saturating_sub(base);
    assert!(code == ExitCode::SUCCESS, "in-process run: {code:?}");
    let bytes = std::fs::read(&out_path).expect("cannot read the in-process report");
    (secs, peak, Report::of(&bytes))
}

// ---------------------------------------------------------------------------------------
// Measuring one input

/// One command's numbers on one input.
#[derive(Clone, Copy, Default)]
struct Timing {
    /// Median wall seconds.
    secs: f64,
    /// Median CPU seconds (user + system, all threads).
    cpu: f64,
    /// Median, lowest and highest of the per-pair ratios to `wc -l`.
    ratio: f64,
    lo: f64,
    hi: f64,
    /// Peak heap of the in-process run, bytes.
    peak: usize,
}

/// Medians and spreads for one input.
struct Measured {
    input_mb: f64,
    wc: f64,
    one: Timing,
    all: Timing,
    /// Median of the per-pair `-j 1` / default time ratios.
    speedup: f64,
    rows: u64,
    /// Pairs run again because other processes took more than [`OTHERS_LIMIT`] meanwhile.
    redone: usize,
    /// Pairs kept although the machine was busy (after too many retries): noisy medians.
    kept_busy: usize,
}

/// Share of the machine other processes may take during a pair before it is run again.
const OTHERS_LIMIT: f64 = 0.10;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// The first (untimed) run: establishes the report every later run must reproduce.
/// `Err` carries why mbxaudit cannot read this input (yet).
fn reference(s: &Settings, job: Job, input: &Input) -> Result<Report, String> {
    let report = match run_binary(s, job, input, None) {
        Outcome::Done { report, .. } => report,
        Outcome::Failed { code, message } => {
            let why = format!(
                "exit {}: {message}",
                code.map_or("by signal".into(), |c| c.to_string())
            );
            if input.format.legacy_events() {
                panic!("mbxaudit failed on {}: {why}", input.path.display());
            }
            return Err(why);
        }
    };
    if job != Job::Seed {
        return Ok(report);
    }
    let expected = input.summary.expected_rows;
    if input.format.legacy_events() {
        assert_eq!(
            report.rows,
            expected,
            "{}: mbxaudit reported {} rows, the generator put {expected} matching records in",
            input.path.display(),
            report.rows
        );
    } else if report.rows != expected {
        eprintln!(
            "note: {}: {} report rows; the generator counted {expected} records with a \
             matching subject in an Exchange record with logon Owner/Admin/Delegate",
            input.path.display(),
            report.rows
        );
    }
    Ok(report)
}

fn measure(s: &Settings, job: Job, input: &Input, reference: Report) -> Measured {
    let check = |what: &str, got: Outcome| -> (f64, f64) {
        match got {
            Outcome::Done { secs, cpu, report } => {
                assert_eq!(
                    report, reference,
                    "{what}: the report differs from the first run's"
                );
                (secs, cpu)
            }
            Outcome::Failed { code, message } => {
                panic!("{what}: failed (exit {code:?}): {message}")
            }
        }
    };
    // Untimed warm-up of each command.
    let (_, wc_lines) = run_wc(input);
    check("-j 1 warm-up", run_binary(s, job, input, Some(1)));

    let mut wc = Vec::new();
    let (mut one, mut all) = (Vec::new(), Vec::new());
    let order = [Run::Wc, Run::One, Run::All];
    let (mut redone, mut kept_busy) = (0, 0);
    let mut i = 0;
    while i < s.runs {
        let mut pair = [(0.0f64, 0.0f64); 3];
        let cpu = sys::CpuSnapshot::now();
        for k in 0..3 {
            let run = order[(i + k) % 3];
            pair[run as usize] = match run {
                Run::Wc => {
                    let (secs, lines) = run_wc(input);
                    assert_eq!(lines, wc_lines, "wc -l changed its mind");
                    (secs, 0.0)
                }
                Run::One => check("-j 1", run_binary(s, job, input, Some(1))),
                Run::All => check("default threads", run_binary(s, job, input, None)),
            };
        }
        let (others, share) = cpu.others(s.cores);
        // (CPU times come in 10 ms ticks: a tick or two on a short pair is no evidence.)
        let busy = share > OTHERS_LIMIT && others >= 0.05;
        if busy && redone < 3 * s.runs {
            redone += 1;
            eprintln!(
                "  run {}/{} redone: other processes took {:.0}% of the machine meanwhile",
                i + 1,
                s.runs,
                100.0 * share
            );
            continue;
        }
        eprintln!(
            "  run {}/{}: wc -l {:.3} s; -j 1 {:.3} s ({:.2} s CPU); default {:.3} s ({:.2} s CPU)",
            i + 1,
            s.runs,
            pair[0].0,
            pair[1].0,
            pair[1].1,
            pair[2].0,
            pair[2].1
        );
        wc.push(pair[0].0);
        one.push(pair[1]);
        all.push(pair[2]);
        kept_busy += usize::from(busy);
        i += 1;
    }
    let timing = |runs: &[(f64, f64)], peak: usize| -> Timing {
        let mut secs: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let mut cpu: Vec<f64> = runs.iter().map(|r| r.1).collect();
        let mut ratios: Vec<f64> = runs.iter().zip(&wc).map(|(r, w)| r.0 / w).collect();
        let (lo, hi) = min_max(&ratios);
        Timing {
            secs: median(&mut secs),
            cpu: median(&mut cpu),
            ratio: median(&mut ratios),
            lo,
            hi,
            peak,
        }
    };
    let mut speedups: Vec<f64> = one.iter().zip(&all).map(|(a, b)| a.0 / b.0).collect();

    let (mut peak_one, mut peak_all) = (0, 0);
    if job == Job::Seed {
        let (_, peak, rep_one) = run_in_process(s, input, Some(1));
        assert_eq!(rep_one, reference, "in-process -j 1: report differs");
        peak_one = peak;
        let (_, peak, rep_all) = run_in_process(s, input, None);
        assert_eq!(rep_all, reference, "in-process: report differs");
        peak_all = peak;
    }

    let (one, all) = (timing(&one, peak_one), timing(&all, peak_all));
    Measured {
        input_mb: input.mb(),
        wc: median(&mut wc),
        one,
        all,
        speedup: median(&mut speedups),
        rows: reference.rows,
        redone,
        kept_busy,
    }
}

// ---------------------------------------------------------------------------------------
// Modes

fn describe(format: Format) -> &'static str {
    match format {
        Format::Legacy => "legacy Export-Csv",
        Format::UalCsv => "UAL Purview CSV",
        Format::UalJsonl => "UAL JSON Lines",
        Format::Ps51Json => "PowerShell 5.1 ConvertTo-Json (UTF-16)",
        Format::Ps7Json => "PowerShell 7 ConvertTo-Json",
        Format::UalPsJson => "UAL PowerShell 7 ConvertTo-Json",
    }
}

fn print_summary(input: &Input) {
    let g = &input.summary;
    let pct = |n: u64| 100.0 * n as f64 / g.records.max(1) as f64;
    eprintln!(
        "{}: {:.1} MB, {} records ({:.0} B each), FolderBind {:.1}%, other logon {:.1}%, \
         non-mailbox {:.1}%, line break in a field {:.1}%, subject matches {} ({:.2}%), \
         seed job must report {}",
        input.path.display(),
        input.mb(),
        g.records,
        g.bytes as f64 / g.records.max(1) as f64,
        pct(g.folder_bind),
        pct(g.other_logon),
        pct(g.non_mailbox),
        pct(g.multiline),
        g.subject_hits,
        pct(g.subject_hits),
        g.expected_rows
    );
    if let Some(share) = sys::huge_page_share(&input.path) {
        eprintln!(
            "  page cache: {:.0}% of it held in 2 MiB pages (`wc -l` reads such a file faster; \
             see docs/performance.md, \"The page cache's pieces\")",
            100.0 * share
        );
    }
}

fn main_table(s: &Settings) {
    let cpu = sys::CpuSnapshot::now();
    let mut lines = Vec::new();
    for &format in &s.formats {
        let input = input(s, format, s.mb);
        print_summary(&input);
        let name = format!(
            "{} `{}`",
            describe(format),
            input.path.file_name().unwrap_or_default().to_string_lossy()
        );
        let reference = match reference(s, Job::Seed, &input) {
            Ok(r) => r,
            Err(why) => {
                eprintln!("  mbxaudit cannot read it yet: {why}");
                lines.push(format!(
                    "| {name} | {:.0} | search | not supported yet ({why}) | | | | | | |",
                    input.mb()
                ));
                continue;
            }
        };
        let m = measure(s, Job::Seed, &input, reference);
        let mbps = |secs: f64| m.input_mb / secs;
        lines.push(format!(
            "| {name} | {:.0} | `wc -l` | {:.3} | | {:.0} | 1.00 | | | |",
            m.input_mb,
            m.wc,
            mbps(m.wc)
        ));
        for (label, r, speedup) in [
            ("search `-j 1`".to_string(), m.one, String::new()),
            (
                format!("search ({} threads)", s.cores),
                m.all,
                format!("{:.2}×", m.speedup),
            ),
        ] {
            lines.push(format!(
                "| | | {label} | {:.3} | {:.2} | {:.0} | {:.2}× | {:.2}–{:.2} | {speedup} | {:.1} |",
                r.secs,
                r.cpu,
                mbps(r.secs),
                r.ratio,
                r.lo,
                r.hi,
                r.peak as f64 / 1e6
            ));
        }
        lines.push(format!(
            "| | | report rows: {} (checked in every run){} | | | | | | | |",
            m.rows,
            match (m.redone, m.kept_busy) {
                (0, _) => String::new(),
                (r, 0) => format!("; {r} pairs redone (machine busy)"),
                (r, k) => format!(
                    "; {r} pairs redone, then {k} of {} kept while the machine was busy: \
                     NOISY",
                    s.runs
                ),
            }
        ));
    }
    println!();
    println!(
        "Seed job: mbxaudit search --start-date 2017-01-01 --end-date 2017-12-31 --subject \
         '{SEED_SUBJECT}' --stdout -q FILE ({}).",
        sys::source_state()
    );
    println!(
        "Machine: {}; page cache warm; {} paired runs, order rotated; seed {}; {}.",
        sys::machine(s.cores),
        s.runs,
        s.seed,
        cpu.others_since(s.cores)
    );
    println!();
    println!("| input | MB | run | median s | CPU s | MB/s | × `wc -l` (median of pairs) | ratio range | speedup vs `-j 1` | peak heap MB (in-process) |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for l in lines {
        println!("{l}");
    }
}

fn linearity(s: &Settings) {
    let cpu = sys::CpuSnapshot::now();
    let mut rows = Vec::new();
    let mut first: Option<(f64, f64)> = None;
    for k in [1.0, 2.0, 4.0] {
        let input = input(s, Format::Legacy, s.mb * k);
        print_summary(&input);
        let reference = reference(s, Job::Seed, &input).unwrap_or_else(|why| panic!("{why}"));
        let m = measure(s, Job::Seed, &input, reference);
        let per_mb = |secs: f64| 1000.0 * secs / m.input_mb;
        let (one, all) = (per_mb(m.one.secs), per_mb(m.all.secs));
        let (one1, all1) = *first.get_or_insert((one, all));
        rows.push(format!(
            "| {k:.0}× | {:.0} | {} | {:.2} | {:.2} | {:+.1}% | {:.2} | {:+.1}% | {:.2}× | {:.1} | {} |",
            m.input_mb,
            input.summary.records,
            per_mb(m.wc),
            one,
            100.0 * (one / one1 - 1.0),
            all,
            100.0 * (all / all1 - 1.0),
            m.all.ratio,
            m.all.peak as f64 / 1e6,
            m.rows
        ));
    }
    println!();
    println!(
        "Linearity of the seed job on legacy exports ({}; {}; {} paired runs; medians; {}).",
        sys::source_state(),
        sys::machine(s.cores),
        s.runs,
        cpu.others_since(s.cores)
    );
    println!();
    println!("| size | MB | records | `wc -l` ms/MB | `-j 1` ms/MB | vs 1× | default ms/MB | vs 1× | × `wc -l` | peak heap MB | report rows |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
}

fn main() {
    let s = Settings::from_env();
    assert!(
        s.bin.exists(),
        "{} is missing: run `cargo build --release`",
        s.bin.display()
    );
    eprintln!(
        "mbxaudit bench: {} MB per input, {} runs, binary {}",
        s.mb,
        s.runs,
        s.bin.display()
    );
    if s.linearity {
        linearity(&s);
    } else {
        if s.jobs.contains(&Job::Seed) {
            main_table(&s);
        }
        jobs::whole_export_table(&s);
        if s.memory {
            jobs::memory_table(&s);
        }
    }
    s.clean_scratch();
}
