//! `mbxaudit report --html`: the page is self-contained (no URL, no external resource, a
//! policy that forbids any), escapes every value from the input, is the same bytes for
//! the same inputs but for its generation line, holds the findings, charts and tables,
//! and works in a real browser: headless Chromium loads it without a console message or
//! a network request, runs its filter, and renders it (the README's screenshot,
//! `testdata/triage/report.png`, is rewritten with `MBXAUDIT_BLESS=1`). A 100,000-row
//! timeline stays usable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// The fixtures the report tests use: findings of several rules, hostile values.
const STORY: [&str; 5] = [
    "testdata/triage/mass_deletion_fires.csv",
    "testdata/triage/inbox_rule_fires.csv",
    "testdata/triage/forwarding_fires.jsonl",
    "testdata/triage/many_client_ips_fires.jsonl",
    "testdata/triage/html_escape.csv",
];

/// Runs `report --html DIR/report.html ARGS` and returns the run and the page.
fn report(dir: &Path, args: &[&str]) -> (Run, String) {
    let out = dir.join("report.html");
    let o = out.to_str().expect("utf-8 path").to_string();
    let mut full = vec!["report", "--html", o.as_str()];
    full.extend_from_slice(args);
    let run = mbxaudit(&full);
    let html = std::fs::read_to_string(&out).unwrap_or_default();
    (run, html)
}

fn story(dir: &Path) -> String {
    let (run, html) = report(dir, &STORY);
    run.expect_code(0)
        .expect_stderr("Writing the HTML report to");
    html
}

#[test]
fn html_is_self_contained() {
    let dir = tempdir();
    let html = story(dir.path());
    let lower = html.to_lowercase();
    let url_attr = regex::Regex::new(
        r#"(?i)\b(src|href|action|data|poster|srcset)\s*=\s*["']?\s*(https?:|//|file:|ftp:)"#,
    )
    .expect("regex");
    assert!(!url_attr.is_match(&html), "a URL in an attribute");
    for bad in [
        "<link",
        "<script src",
        "@import",
        "url(",
        "<iframe",
        "<object",
        "<embed",
        "<img",
    ] {
        assert!(!lower.contains(bad), "{bad} in the page");
    }
    // One inline script, one inline style, and a policy that allows only them.
    assert_eq!(lower.matches("<script").count(), 1);
    assert_eq!(lower.matches("<style").count(), 1);
    let csp = html
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .expect("a CSP meta element");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    // Only links within the page.
    for href in html.split("href=\"").skip(1) {
        assert!(
            href.starts_with('#'),
            "href=\"{}",
            &href[..href.len().min(40)]
        );
    }
}

#[test]
fn html_escapes_input_values() {
    let dir = tempdir();
    let html = story(dir.path());
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("=HYPERLINK(&quot;http://evil.example&quot;,&quot;open&quot;)"));
    assert!(!html.contains("<b>loot</b>"));
    assert!(html.contains("\\Inbox\\&lt;b&gt;loot&lt;/b&gt;"));
    // Controls and bidirectional overrides are shown, not obeyed.
    assert!(html.contains("Wire transfer\\r\\nURGENT \\u{202e}exe.pdf"));
    assert!(!html.contains('\u{202E}'));
    assert!(html.contains("=cmd|&#39; /C calc&#39;!A0"));
}

#[test]
fn html_is_deterministic_but_for_one_line() {
    let (a, b) = (tempdir(), tempdir());
    let (one, two) = (story(a.path()), story(b.path()));
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("<p class=\"gen\">Generated "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        one.lines().count(),
        strip(&one).len() + 1,
        "one generation line"
    );
    assert_eq!(strip(&one), strip(&two));
}

#[test]
fn html_holds_findings_charts_tables_and_every_row() {
    let dir = tempdir();
    let html = story(dir.path());
    // The same findings as triage.
    let mut args = vec!["triage", "--format", "json"];
    args.extend(STORY);
    let run = mbxaudit(&args);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(html.matches("<tr class=\"finding ").count(), findings.len());
    assert_eq!(findings.len(), 9);
    for f in findings {
        assert!(html.contains(&format!(
            "<span class=\"rule\">{}</span>",
            f["rule"].as_str().unwrap_or_default()
        )));
    }
    // Charts: the stacked one and one per operation.
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.matches("<svg class=\"spark\"").count() >= 8);
    // Tables, inputs and funnel, timeline: one row per record.
    for id in [
        "overview", "findings", "activity", "tables", "inputs", "timeline",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    for title in ["Logon types", "Top client IPs", "Operations"] {
        assert!(html.contains(&format!("<h3>{title}")), "{title}");
    }
    assert!(html.contains("= rows in the timeline"));
    let records = doc["records"].as_u64().expect("records") as usize;
    assert_eq!(html.matches("<tr id=r").count(), records);
    assert!(
        html.contains(&format!("<tr id=r{} ", records - 1))
            || html.contains(&format!("<tr id=r{}>", records - 1))
    );
    // Evidence rows are marked.
    assert_eq!(html.matches(" class=e>").count(), 52 + 4 + 1 + 5 + 2);
}

#[test]
fn html_output_is_checked_like_any_report() {
    let dir = tempdir();
    story(dir.path());
    let (run, _) = report(dir.path(), &STORY);
    run.expect_code(2).expect_stderr("already exists");
    let (run, _) = report(dir.path(), &["--force", STORY[0]]);
    run.expect_code(0);
    // Evidence is never overwritten.
    let input = dir.path().join("in.csv");
    std::fs::copy(root().join(STORY[0]), &input).expect("copy");
    let i = input.to_str().expect("utf-8 path");
    mbxaudit(&["report", "--force", "--html", i, i])
        .expect_code(2)
        .expect_stderr("the output is also an input");
    // --html is required.
    mbxaudit(&["report", STORY[0]])
        .expect_code(2)
        .expect_stderr("--html");
}

// ---------------------------------------------------------------------------------------
// In a browser
// ---------------------------------------------------------------------------------------

/// `chromium` on PATH; `None` (with a note) when it is missing outside CI. Under CI it
/// must be there (`.ci/run` installs it).
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not on PATH (.ci/run installs Debian's chromium)"
        );
        eprintln!("note: chromium is not on PATH: skipping the browser test (CI runs it)");
    }
    found
}

/// Runs headless Chromium on `url` with `extra` arguments; returns stdout and stderr.
fn run_chromium(bin: &Path, url: &str, extra: &[&str], timeout: Duration) -> (String, String) {
    let profile = tempdir();
    let user_data = format!("--user-data-dir={}", profile.path().display());
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
        &user_data,
    ])
    .args(extra)
    .arg(url)
    .env("HOME", profile.path())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    // Read both pipes on threads so a large DOM cannot block the browser.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within {timeout:?}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let out = t_out.join().expect("stdout thread");
    let err = t_err.join().expect("stderr thread");
    (
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The attributes of the `#mbx-ready` element the page's script adds when it is done.
fn ready_marker(dom: &str) -> String {
    let start = dom
        .find("<div id=\"mbx-ready\"")
        .unwrap_or_else(|| panic!("the page's script did not run: no #mbx-ready in the DOM"));
    let end = dom[start..].find('>').map_or(dom.len(), |e| start + e);
    dom[start..end].to_string()
}

fn attr(marker: &str, name: &str) -> u64 {
    let key = format!("{name}=\"");
    let at = marker
        .find(&key)
        .unwrap_or_else(|| panic!("{name} in {marker}"))
        + key.len();
    marker[at..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {marker}"))
}

/// The page at `url` as headless Chromium holds it once its script ran (timers running
/// for `budget_ms` of virtual time), checked to have logged nothing to the console.
fn loaded_dom(bin: &Path, url: &str, budget_ms: u32, timeout: Duration) -> String {
    let budget = format!("--virtual-time-budget={budget_ms}");
    let (dom, log) = run_chromium(bin, url, &["--dump-dom", &budget], timeout);
    assert!(console_messages(&log).is_empty(), "{log}");
    dom
}

/// Console messages (script errors, policy violations) in Chromium's log.
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn html_in_headless_chromium() {
    let Some(bin) = chromium() else { return };
    let dir = tempdir();
    story(dir.path());
    let page = dir.path().join("report.html");

    // Loaded as is: the script runs, nothing is logged, nothing is fetched.
    let (dom, log) = run_chromium(
        &bin,
        &file_url(&page),
        &["--dump-dom"],
        Duration::from_secs(120),
    );
    let console = console_messages(&log);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    let marker = ready_marker(&dom);
    assert_eq!(
        attr(&marker, "data-resources"),
        0,
        "no resource loaded: {marker}"
    );
    let rows = attr(&marker, "data-rows");
    assert_eq!(rows, attr(&marker, "data-matches"));
    assert_eq!(rows, attr(&marker, "data-visible"));
    assert!(dom.contains("<svg class=\"chart\""), "charts rendered");
    assert_eq!(
        dom.matches("<tr class=\"finding ").count(),
        9,
        "findings rendered"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains("<script>alert(1)</script>"));

    // The filter, from the address: rows without "eve" and "softdelete" are hidden.
    let (dom, log) = run_chromium(
        &bin,
        &format!("{}#q=eve%20softdelete", file_url(&page)),
        &["--dump-dom"],
        Duration::from_secs(120),
    );
    assert!(console_messages(&log).is_empty(), "{log}");
    let marker = ready_marker(&dom);
    assert_eq!(attr(&marker, "data-matches"), 30, "{marker}");
    assert_eq!(attr(&marker, "data-visible"), 30, "{marker}");
    assert_eq!(
        dom.matches("<tr id=\"r").count() - dom.matches("hidden=\"\"><td>").count(),
        30
    );

    // A screenshot: a real rendering, kept for the README when blessing.
    let shot = dir.path().join("report.png");
    let arg = format!("--screenshot={}", shot.display());
    run_chromium(
        &bin,
        &file_url(&page),
        &[&arg, "--window-size=1280,2000"],
        Duration::from_secs(120),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{}",
        png.len()
    );
    if std::env::var_os("MBXAUDIT_BLESS").is_some() {
        let dest = testdata("triage/report.png");
        let shrunk = Command::new("python3")
            .arg(testdata("triage/shrink_png.py"))
            .arg(&shot)
            .arg(&dest)
            .status()
            .is_ok_and(|s| s.success());
        if !shrunk {
            std::fs::copy(&shot, &dest).expect("copy the screenshot");
        }
    }
}

/// A legacy export of `n` rows: a day of delegate reads, a deletion burst, SendAs.
fn big_export(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    f.write_all(
        b"\xEF\xBB\xBF\"Operation\",\"LogonType\",\"FolderPathName\",\"ClientIPAddress\",\
          \"MailboxOwnerUPN\",\"LogonUserDisplayName\",\"ItemSubject\",\"LastAccessed\"\r\n",
    )
    .expect("write");
    for i in 0..n {
        let (op, user, logon) = match i % 50 {
            0..=39 => ("MessageBind", "Eve Attacker", "Delegate"),
            40..=47 => ("SoftDelete", "Test User 1", "Owner"),
            48 => ("SendAs", "Eve Attacker", "Delegate"),
            _ => ("Update", "Test User 1", "Owner"),
        };
        let secs = i * 5;
        writeln!(
            f,
            "\"{op}\",\"{logon}\",\"\\Inbox\\Folder {}\",\"203.0.113.{}\",\"test1@contoso.com\",\
             \"{user}\",\"Message {i} <about> \"\"quotes\"\" & more\",\"2024-03-{:02}T{:02}:{:02}:{:02}\"\r",
            i % 17,
            i % 3,
            1 + secs / 86_400,
            secs / 3_600 % 24,
            secs / 60 % 60,
            secs % 60
        )
        .expect("write");
    }
}

#[test]
fn html_100k_rows_stays_usable() {
    const N: usize = 100_000;
    let dir = tempdir();
    let input = dir.path().join("big.csv");
    big_export(&input, N);
    let i = input.to_str().expect("utf-8 path");
    let start = Instant::now();
    let (run, html) = report(dir.path(), &["-q", i]);
    run.expect_code(0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(60), "report took {took:?}");
    // Packed: the first page as rows, every row in the compressed block.
    assert_eq!(html.matches("<tr id=r").count(), 1000);
    assert!(html.contains(
        "<script type=\"application/x-mbxaudit-timeline\" id=\"tld\" data-rows=\"100000\">"
    ));
    // Small: well under 30 bytes a row.
    assert!(html.len() < N * 30, "{} bytes", html.len());

    let Some(bin) = chromium() else { return };
    let page = dir.path().join("report.html");
    let dom = loaded_dom(
        &bin,
        &format!("{}#q=SoftDelete%20203.0.113.2", file_url(&page)),
        30_000,
        Duration::from_secs(300),
    );
    let marker = ready_marker(&dom);
    assert_eq!(attr(&marker, "data-rows"), N as u64);
    assert_eq!(attr(&marker, "data-packed"), 1);
    // Every word must appear (any case): SoftDelete rows (i % 50 in 40..=47) from
    // 203.0.113.2 (i % 3 == 2).
    let expected = (0..N)
        .filter(|i| (40..=47).contains(&(i % 50)) && i % 3 == 2)
        .count() as u64;
    assert_eq!(attr(&marker, "data-matches"), expected, "{marker}");
    // One page of them is displayed; the rest on demand.
    assert_eq!(
        attr(&marker, "data-visible"),
        expected.min(1000),
        "{marker}"
    );
    assert_eq!(dom.matches("<tr id=\"r").count(), 1000);
    let ms = attr(&marker, "data-filter-ms");
    assert!(ms < 5_000, "filtering 100,000 rows took {ms} ms");
    let ms = attr(&marker, "data-ready-ms");
    assert!(ms < 5_000, "the page took {ms} ms to be ready");
}

/// A packed timeline draws the same rows as the same timeline written as rows, under any
/// filter: the page's script renders exactly what the report writes.
#[test]
fn packed_timeline_draws_the_rows_the_report_writes() {
    const N: usize = 3_000;
    let dir = tempdir();
    let input = dir.path().join("big.csv");
    big_export(&input, N);
    let i = input.to_str().expect("utf-8 path");
    let env = |limit: &'static str| [("MBXAUDIT_TIMELINE_INLINE", limit)];
    let pages: Vec<PathBuf> = ["1000000", "500"]
        .into_iter()
        .map(|limit| {
            let out = dir.path().join(format!("r{limit}.html"));
            let o = out.to_str().expect("utf-8 path");
            let run = mbxaudit_env(dir.path(), &["report", "-q", "--html", o, i], &env(limit));
            run.expect_code(0);
            out
        })
        .collect();
    let inline = std::fs::read_to_string(&pages[0]).expect("page");
    let packed = std::fs::read_to_string(&pages[1]).expect("page");
    assert_eq!(inline.matches("<tr id=r").count(), N);
    assert_eq!(packed.matches("<tr id=r").count(), 1000);
    assert!(
        packed.len() * 2 < inline.len(),
        "{} vs {}",
        packed.len(),
        inline.len()
    );

    let Some(bin) = chromium() else { return };
    for hash in [
        "",
        "#q=SoftDelete%20203.0.113.2",
        "#q=quotes%20%22%22",
        "#q=folder%2016%20eve",
    ] {
        let rows = |page: &Path| {
            let dom = loaded_dom(
                &bin,
                &format!("{}{hash}", file_url(page)),
                30_000,
                Duration::from_secs(120),
            );
            let marker = ready_marker(&dom);
            // The rows displayed, as the browser holds them.
            let body = dom
                .split("<tbody>")
                .nth(1)
                .and_then(|b| b.split("</tbody>").next())
                .unwrap_or_default()
                .to_string();
            let shown: Vec<String> = body
                .split("<tr ")
                .skip(1)
                .filter(|r| !r.contains("hidden=\"\""))
                .map(|r| r.trim_end().to_string())
                .collect();
            (attr(&marker, "data-matches"), shown)
        };
        let (want_n, want) = rows(&pages[0]);
        let (got_n, got) = rows(&pages[1]);
        assert_eq!(got_n, want_n, "{hash}");
        assert!(!got.is_empty(), "{hash}: no rows shown");
        assert_eq!(
            got, want,
            "{hash}: packed rows differ from the written ones"
        );
    }
}

/// Decodes standard base64 (the page's data blocks).
fn unbase64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {}", c as char),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    out
}

/// Past the first findings drawn, the rest are packed in the page (a whole export can give
/// thousands, which took a browser many seconds to lay out) and unpack to the same rows,
/// in order, as drawn ones; the page still loads cleanly in a browser, with the button.
#[test]
fn findings_past_the_first_are_packed_and_unpack_to_the_same_rows() {
    const FINDINGS: usize = 250;
    const SHOWN: usize = 200;
    let dir = tempdir();
    let input = dir.path().join("many.csv");
    let mut text = String::from(
        "\u{feff}\"Operation\",\"LogonType\",\"FolderPathName\",\"ClientIPAddress\",\
         \"MailboxOwnerUPN\",\"LogonUserDisplayName\",\"ItemSubject\",\"LastAccessed\"\r\n",
    );
    for i in 0..FINDINGS {
        text.push_str(&format!(
            "\"SendAs\",\"Delegate\",\"\\Sent Items\",\"203.0.113.{}\",\"user{i}@contoso.com\",\
             \"Eve Attacker\",\"Invoice {i}\",\"2024-03-01T{:02}:{:02}:00\"\r\n",
            i % 200,
            i / 60,
            i % 60
        ));
    }
    std::fs::write(&input, text).expect("write");
    let (run, html) = report(dir.path(), &["-q", input.to_str().expect("utf-8 path")]);
    run.expect_code(0);
    assert_eq!(html.matches("<tr class=\"finding ").count(), SHOWN);
    let open = format!(
        "<script type=\"application/x-mbxaudit-findings\" id=\"fnd\" data-rows=\"{}\">",
        FINDINGS - SHOWN
    );
    let start = html.find(&open).expect("the packed findings") + open.len();
    let end = start + html[start..].find("</script>").expect("its end");
    let mut rows = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&unbase64(&html[start..end])[..]),
        &mut rows,
    )
    .expect("gzip");
    assert_eq!(
        rows.matches("<tr class=\"finding ").count(),
        FINDINGS - SHOWN
    );
    // The packed rows follow the drawn ones: f200, f201... in order, as a drawn row is.
    let ids: Vec<&str> = rows
        .split("id=\"f")
        .skip(1)
        .map(|r| r.split('"').next().unwrap_or_default())
        .collect();
    let want: Vec<String> = (SHOWN..FINDINGS).map(|n| n.to_string()).collect();
    assert_eq!(ids, want);
    let drawn = &html[html.find("id=\"f0\"").expect("f0")..];
    let drawn_row = &drawn[..drawn.find("</tr>").expect("row end")];
    let packed_row = &rows[rows.find("id=\"f").expect("a packed row")..];
    assert_eq!(
        drawn_row.matches("<td").count(),
        packed_row[..packed_row.find("</tr>").expect("row end")]
            .matches("<td")
            .count()
    );

    let Some(bin) = chromium() else { return };
    let page = dir.path().join("report.html");
    let dom = loaded_dom(&bin, &file_url(&page), 10_000, Duration::from_secs(120));
    assert!(
        dom.contains("<button type=\"button\" id=\"morefindings\">Show the other 50 findings"),
        "the button is shown once the script runs"
    );
    assert_eq!(dom.matches("<tr class=\"finding ").count(), SHOWN);
    // With #findings=all, the browser unpacks and draws every finding.
    let dom = loaded_dom(
        &bin,
        &format!("{}#findings=all", file_url(&page)),
        10_000,
        Duration::from_secs(120),
    );
    assert_eq!(dom.matches("<tr class=\"finding ").count(), FINDINGS);
    assert!(dom.contains("id=\"f249\""));
}

/// What a probe script appended to a copy of the page records (see [`interactions`]).
const PROBE: &str = r##"<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var out = [];
    function state(tag) {
      var tb = document.querySelector("#tl tbody");
      var vis = Array.prototype.filter.call(tb.rows, function (r) { return !r.hidden; })
        .map(function (r) { return r.id; });
      out.push(tag + " " + vis.length + " " + vis.slice(0, 2).join(",") + " " +
        vis.slice(-1).join(",") + " | " + document.getElementById("shown").textContent +
        " | clear " + !document.getElementById("clearsel").hidden +
        " more " + !document.getElementById("more").hidden);
    }
    state("load");
    var buttons = document.querySelectorAll("button[data-rows]");
    buttons[buttons.length - 1].click(); state("last-finding");
    buttons[0].click(); state("first-finding");
    var selected = buttons[0].getAttribute("data-rows").split(" ");
    var links = document.querySelectorAll("a[href^='#r']");
    for (var i = 0; i < links.length; i++) {
      var id = links[i].getAttribute("href").slice(2);
      if (selected.indexOf(id) < 0) { links[i].click(); state("link-r" + id); break; }
    }
    document.getElementById("clearsel").click(); state("clear");
    var ev = document.getElementById("evonly");
    ev.checked = true; ev.dispatchEvent(new Event("change")); state("evidence");
    ev.checked = false; ev.dispatchEvent(new Event("change"));
    document.getElementById("more").click(); state("more");
    document.getElementById("all").click(); state("all");
    var pre = document.createElement("pre");
    pre.id = "probe";
    pre.textContent = out.join("\n");
    document.body.appendChild(pre);
  }, 2000);
});
</script>"##;

/// The timeline's states after the page's own controls are used (a finding's button, a
/// link to a row, clearing, "evidence only", more, all), from a copy of `page` without
/// its policy (which forbids the probe) and with [`PROBE`] appended.
fn interactions(bin: &Path, page: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(page).expect("page");
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("the page's policy");
    let end = start + html[start..].find('>').expect("end of the policy") + 1;
    let probed = format!("{}{}", &html[..start], &html[end..])
        .replace("</body>", &format!("{PROBE}</body>"));
    let copy = page.with_extension("probe.html");
    std::fs::write(&copy, probed).expect("write the probed copy");
    let dom = loaded_dom(bin, &file_url(&copy), 20_000, Duration::from_secs(120));
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").expect("end of the probe");
    dom[start..end]
        .replace("&amp;", "&")
        .lines()
        .map(str::to_string)
        .collect()
}

/// The timeline's controls do the same on a page whose rows are written and on one whose
/// rows are packed (one script drives both), but for a link to a row outside the rows
/// shown: written, the row is shown too; packed, it is drawn alone.
#[test]
fn timeline_controls_behave_alike_written_and_packed() {
    let Some(bin) = chromium() else { return };
    const N: usize = 2_500;
    let dir = tempdir();
    let input = dir.path().join("big.csv");
    big_export(&input, N);
    let i = input.to_str().expect("utf-8 path");
    let mut states = Vec::new();
    for inline in ["100000", "10"] {
        let page = dir.path().join(format!("report-{inline}.html"));
        let o = page.to_str().expect("utf-8 path");
        mbxaudit_env(
            Path::new("."),
            &["report", "--html", o, "-q", i],
            &[("MBXAUDIT_TIMELINE_INLINE", inline)],
        )
        .expect_code(0);
        let html = std::fs::read_to_string(&page).expect("page");
        assert_eq!(
            html.contains("id=\"tld\""),
            inline == "10",
            "packed only at 10"
        );
        states.push(interactions(&bin, &page));
    }
    let (written, packed) = (&states[0], &states[1]);
    let expected_written = [
        "load 1000 r0,r1 r999 | showing 1000 of 2500 rows | clear false more true",
        "last-finding 50 r48,r98 r2498 | showing 50 of 50 matching of 2500 rows | clear true more false",
        "first-finding 1000 r0,r1 r1239 | showing 1000 of 2000 matching of 2500 rows | clear true more true",
        "link-r40 1001 r0,r1 r1239 | showing 1000 of 2000 matching of 2500 rows | clear true more true",
        "clear 1000 r0,r1 r999 | showing 1000 of 2500 rows | clear false more true",
        "evidence 1000 r0,r1 r1019 | showing 1000 of 2450 matching of 2500 rows | clear false more true",
        "more 2000 r0,r1 r1999 | showing 2000 of 2500 rows | clear false more true",
        "all 2500 r0,r1 r2499 | showing 2500 of 2500 rows | clear false more false",
    ];
    assert_eq!(written, &expected_written, "written rows");
    let mut expected_packed = expected_written.map(str::to_string);
    expected_packed[3] =
        "link-r40 1 r40 r40 | showing 1 of 1 matching of 2500 rows | clear true more false".into();
    assert_eq!(packed, &expected_packed, "packed rows");
}
