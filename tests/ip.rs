//! `--ip` end to end (issue 15 item 3): bad values are refused with exit 2 and a message
//! naming them; host names in exports are matched and counted the way addresses are.

use crate::util::*;

/// Report column of ClientIPAddress (the seed script's order).
const IP: usize = 7;

/// basic_en-US.csv with its client 203.0.113.7 written as a host name instead: in turn
/// as `Mail.Contoso.com:443` and as `mail.contoso.com`.
fn export_with_host_names(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(testdata("legacy/basic_en-US.csv")).expect("fixture");
    let cell = "\"203.0.113.7\"";
    assert!(text.matches(cell).count() > 2, "fixture has the client");
    let mut parts = text.split(cell);
    let mut text = parts.next().unwrap_or_default().to_string();
    for (i, part) in parts.enumerate() {
        text.push_str(match i % 2 {
            0 => "\"Mail.Contoso.com:443\"",
            _ => "\"mail.contoso.com\"",
        });
        text.push_str(part);
    }
    let path = dir.join("hosts.csv");
    std::fs::write(&path, text).expect("write export");
    path.to_string_lossy().into_owned()
}

#[test]
fn bad_ip_values_are_refused_naming_the_value() {
    for (value, why) in [
        ("10.11.12.300", "not a valid IPv4 address"),
        ("10.11.12.13/33", "/0 to /32"),
        ("notanip", "not an IP address"),
    ] {
        for command in ["search", "summary", "triage"] {
            let run = mbxaudit(&[command, "--ip", value, "testdata/legacy/basic_en-US.csv"]);
            run.expect_code(2)
                .expect_stderr(&format!("--ip '{value}': "))
                .expect_stderr(why);
            assert!(
                run.stdout.is_empty(),
                "{command} --ip {value}: nothing written"
            );
        }
    }
    // A good value next to a bad one is no excuse.
    mbxaudit(&[
        "search",
        "--ip",
        "203.0.113.7",
        "--ip",
        "notanip",
        "testdata/legacy/basic_en-US.csv",
    ])
    .expect_code(2)
    .expect_stderr("--ip 'notanip': ")
    .expect_stderr("mail.contoso.com");
}

#[test]
fn host_names_with_ports_are_matched_like_addresses() {
    let dir = tempdir();
    let hosts = export_with_host_names(dir.path());
    let (run, by_addr) = rows_of(&["--ip", "203.0.113.7", "testdata/legacy/basic_en-US.csv"]);
    run.expect_code(0);
    assert!(by_addr.len() > 2);
    for pattern in [
        "mail.contoso.com",
        "MAIL.CONTOSO.COM",
        "mail.contoso.com:25",
    ] {
        let (run, by_host) = rows_of(&["--ip", pattern, &hosts]);
        run.expect_code(0);
        assert_eq!(by_host.len(), by_addr.len(), "--ip {pattern}");
        for (h, a) in by_host.iter().zip(&by_addr) {
            assert!(
                h[IP] == "Mail.Contoso.com:443" || h[IP] == "mail.contoso.com",
                "written as exported: {}",
                h[IP]
            );
            let (mut h, mut a) = (h.clone(), a.clone());
            h[IP].clear();
            a[IP].clear();
            assert_eq!(h, a, "the same events, but for the client");
        }
        assert!(by_host.iter().any(|r| r[IP] == "Mail.Contoso.com:443"));
    }
    let (run, none) = rows_of(&["--ip", "contoso.com", &hosts]);
    run.expect_code(0);
    assert!(
        none.is_empty(),
        "a host name is matched whole, not as a suffix"
    );
    let (_, none) = rows_of(&["--ip", "203.0.113.7", &hosts]);
    assert!(none.is_empty(), "a host name is not resolved");
}

#[test]
fn summary_counts_a_host_name_with_and_without_port_as_one_client() {
    let dir = tempdir();
    let hosts = export_with_host_names(dir.path());
    let before = mbxaudit(&["summary", "testdata/legacy/basic_en-US.csv"]);
    let after = mbxaudit(&["summary", &hosts]);
    after.expect_code(0);
    let (before, after) = (
        String::from_utf8(before.stdout).expect("utf-8"),
        String::from_utf8(after.stdout).expect("utf-8"),
    );
    assert!(before.contains("  203.0.113.7        9  69.2%"), "{before}");
    assert!(
        after.contains("  mail.contoso.com      9  69.2%"),
        "{after}"
    );
    assert!(!after.to_lowercase().contains(":443"), "{after}");
    assert!(after.contains("Top client IPs (3 distinct)"), "{after}");
}
