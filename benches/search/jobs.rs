//! Issue 11's jobs on whole exports: every row kept and written (`search
//! --include-folder-bind --logon-types all`), `summary`, `triage` and `report --html`,
//! timed as the seed job is (paired with `wc -l`, page cache warm, checked in every run),
//! and the memory of the piped dump with and without `--memory-limit`: peak RSS of the
//! binary reading the file from a pipe, and the peak heap of the same job in this
//! process under the counting allocator (standard input redirected to a pipe).

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;

use super::{describe, input, measure, print_summary, reference, sys, Job, Report, Settings};
use crate::generate::Format;

/// The whole-export jobs table.
pub fn whole_export_table(s: &Settings) {
    let jobs: Vec<Job> = s.jobs.iter().copied().filter(|&j| j != Job::Seed).collect();
    if jobs.is_empty() {
        return;
    }
    let cpu = sys::CpuSnapshot::now();
    let mut lines = Vec::new();
    for &format in &s.formats {
        let input = input(s, format, s.mb);
        print_summary(&input);
        for &job in &jobs {
            eprintln!("{} on {}:", job.name(), describe(format));
            let reference = match reference(s, job, &input) {
                Ok(r) => r,
                Err(why) => {
                    lines.push(format!(
                        "| {} | {} | not supported yet ({why}) | | | | | | | |",
                        describe(format),
                        job.name()
                    ));
                    continue;
                }
            };
            let m = measure(s, job, &input, reference);
            let note = match job {
                Job::Report => {
                    let page = s.scratch("report.html");
                    let size = std::fs::metadata(&page).map_or(0, |m| m.len());
                    match page_ready_ms(&page) {
                        Some(ms) => format!(
                            "page {:.1} MB, ready in {ms} ms in headless Chromium",
                            size as f64 / 1e6
                        ),
                        None => format!("page {:.1} MB", size as f64 / 1e6),
                    }
                }
                Job::Dump => format!("{} rows", m.rows),
                _ => String::new(),
            };
            lines.push(format!(
                "| {} | {} | {:.3} | {:.3} | {:.3} | **{:.2}×** | {:.2}–{:.2} | {:.2}× | {:.2} | {note}{} |",
                describe(format),
                job.name(),
                m.wc,
                m.one.secs,
                m.all.secs,
                m.all.ratio,
                m.all.lo,
                m.all.hi,
                m.speedup,
                m.all.cpu,
                if m.kept_busy > 0 { "; NOISY" } else { "" }
            ));
        }
    }
    println!();
    println!(
        "Whole-export jobs ({}; {}; {} paired runs; medians; {}).",
        sys::source_state(),
        sys::machine(s.cores),
        s.runs,
        cpu.others_since(s.cores)
    );
    println!();
    println!("| input ({:.0} MB) | job | `wc -l` s | `-j 1` s | default s | × `wc -l` (median of pairs) | ratio range | 1 → all threads | CPU s | |", s.mb);
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for l in lines {
        println!("{l}");
    }
}

/// How long the page at `page` took to be ready in headless Chromium (its `#mbx-ready`
/// marker's `data-ready-ms`: from navigation to the timeline unpacked and drawn), when
/// `chromium` is on PATH; `None` (with a note) otherwise.
fn page_ready_ms(page: &Path) -> Option<u64> {
    let profile =
        std::env::temp_dir().join(format!("mbxaudit-bench-chromium-{}", std::process::id()));
    let user_data = format!("--user-data-dir={}", profile.display());
    let run = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--dump-dom",
            "--virtual-time-budget=60000",
            &user_data,
        ])
        .arg(format!("file://{}", page.display()))
        .env("HOME", &profile)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&profile);
    let Ok(run) = run else {
        eprintln!("note: chromium is not on PATH: the page's load time is not measured");
        return None;
    };
    let dom = String::from_utf8_lossy(&run.stdout);
    let marker = &dom[dom.find("<div id=\"mbx-ready\"")?..];
    let at = marker.find("data-ready-ms=\"")? + "data-ready-ms=\"".len();
    marker[at..].split('"').next()?.parse().ok()
}

/// The dump's command line reading standard input, with `extra` options.
fn dump_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "search",
        "--include-folder-bind",
        "--logon-types",
        "all",
        "-q",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// Runs the dump on `file` fed through a pipe; returns its peak RSS (bytes), the report
/// and the seconds it took.
fn piped_rss(s: &Settings, file: &Path, extra: &[&str]) -> (u64, Report, f64) {
    let out_path = s.scratch("stdout.csv");
    let stdout = File::create(&out_path).expect("cannot create the run's stdout file");
    let mut args = dump_args(extra);
    args.extend(["--stdout".into(), "-".into()]);
    let t = Instant::now();
    let mut child = Command::new(&s.bin)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run mbxaudit");
    let mut pipe = child.stdin.take().expect("stdin");
    let path = file.to_path_buf();
    let feeder = std::thread::spawn(move || {
        let mut f = File::open(path).expect("cannot open the input");
        let _ = std::io::copy(&mut f, &mut pipe);
    });
    let (ok, rss) = sys::wait_rss(child);
    let secs = t.elapsed().as_secs_f64();
    feeder.join().expect("feeder thread");
    assert!(ok, "the piped dump failed ({args:?})");
    let bytes = std::fs::read(&out_path).expect("cannot read the report");
    (rss, Report::of(&bytes), secs)
}

/// Runs the dump in this process on `file` fed to standard input through a pipe; returns
/// the peak heap above what was live before, and the report.
fn piped_heap(s: &Settings, file: &Path, extra: &[&str]) -> (usize, Report) {
    let out_path = s.scratch("inprocess-report.csv");
    let mut args = vec![OsString::from("mbxaudit")];
    args.extend(dump_args(extra).into_iter().map(OsString::from));
    args.extend([
        "--force".into(),
        "-o".into(),
        out_path.clone().into(),
        "-".into(),
    ]);
    let cli = mbxaudit::cmd::cli::Cli::parse_from(args);
    let stdin = sys::StdinPipe::new();
    let mut writer = stdin.writer();
    let path = file.to_path_buf();
    let feeder = std::thread::spawn(move || {
        let mut f = File::open(path).expect("cannot open the input");
        let _ = std::io::copy(&mut f, &mut writer);
        let _ = writer.flush();
    });
    let base = sys::heap_now();
    sys::reset_heap_peak();
    let code = mbxaudit::cmd::run(cli)
        .unwrap_or_else(|e| panic!("in-process piped dump failed: {e:#}"))
        .code();
    let peak = sys::heap_peak().saturating_sub(base);
    feeder.join().expect("feeder thread");
    drop(stdin);
    assert!(
        code == std::process::ExitCode::SUCCESS,
        "in-process piped dump: {code:?}"
    );
    let bytes = std::fs::read(&out_path).expect("cannot read the in-process report");
    (peak, Report::of(&bytes))
}

/// The piped dump's memory on the legacy export, with and without `--memory-limit`.
pub fn memory_table(s: &Settings) {
    let input = input(s, Format::Legacy, s.mb);
    let from_file = reference(s, Job::Dump, &input).expect("the dump reads the legacy export");
    let mut lines = Vec::new();
    for limit in [None, Some("64M")] {
        let extra: Vec<&str> = limit.map_or(Vec::new(), |l| vec!["--memory-limit", l]);
        let (rss, report, secs) = piped_rss(s, &input.path, &extra);
        assert_eq!(
            report, from_file,
            "piped dump {extra:?}: not the report of the file"
        );
        let (heap, report) = piped_heap(s, &input.path, &extra);
        assert_eq!(
            report, from_file,
            "in-process piped dump {extra:?}: not the report of the file"
        );
        lines.push(format!(
            "| `cat FILE \\| mbxaudit search --include-folder-bind --logon-types all{} -` | {:.0} | {:.0} | {secs:.2} | same bytes as from the file |",
            limit.map_or(String::new(), |l| format!(" --memory-limit {l}")),
            rss as f64 / 1e6,
            heap as f64 / 1e6
        ));
    }
    println!();
    println!(
        "Memory of the piped dump, legacy {:.0} MB ({} rows kept and written; {}).",
        input.mb(),
        from_file.rows,
        sys::machine(s.cores)
    );
    println!();
    println!("| run | peak RSS MB | peak heap MB (in-process) | seconds | report |");
    println!("|---|---:|---:|---:|---|");
    for l in lines {
        println!("{l}");
    }
}
