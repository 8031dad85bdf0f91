//! Unit and property tests of the client-address reader and `--ip` patterns.

use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[test]
fn every_export_form_reads_to_one_address() {
    let v4 = Some(ip("203.0.113.7"));
    for text in [
        "203.0.113.7",
        " 203.0.113.7 ",
        "203.0.113.7:52044",
        "\t203.0.113.7:0\r",
        "::ffff:203.0.113.7",
        "::FFFF:cb00:7107",
        "[::ffff:203.0.113.7]:443",
        "::ffff:203.0.113.7:443",
        "[203.0.113.7]:80",
    ] {
        assert_eq!(parse_client_ip(text), v4, "{text:?}");
    }
    let v6 = Some(ip("2001:db8::1"));
    for text in [
        "2001:db8::1",
        "2001:DB8:0:0:0:0:0:1",
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        " [2001:db8::1]:65535 ",
        "2001:db8:0:0:0:0:0:1:443",
    ] {
        assert_eq!(parse_client_ip(text), v6, "{text:?}");
    }
    assert_eq!(parse_client_ip("fe80::1%eth0"), Some(ip("fe80::1")));
    assert_eq!(parse_client_ip("[fe80::1%12]:443"), Some(ip("fe80::1")));
    assert_eq!(parse_client_ip("fe80::1%eth0:443"), Some(ip("fe80::1")));
    // `::1.2.3.4` (IPv4-compatible, deprecated) is not IPv4-mapped: it stays IPv6.
    assert_eq!(parse_client_ip("::203.0.113.7"), Some(ip("::203.0.113.7")));
}

#[test]
fn what_is_not_an_address() {
    for text in [
        "",
        "   ",
        "mail.contoso.com",
        "mail.contoso.com:443",
        "10.11.12.300",
        "10.11.12.13:65536",
        "10.11.12.13:",
        "10.11.12.13:+80",
        "10.11.12",
        "010.11.12.13",
        "[2001:db8::1]443",
        "[2001:db8::1]:x",
        "[2001:db8::1",
        "2001:db8::1%",
        "2001:db8::1%a:b:c",
        "203.0.113.7%eth0",
        "notanip",
        "203.0.113.7/24",
    ] {
        assert_eq!(parse_client_ip(text), None, "{text:?}");
    }
}

#[test]
fn host_names_with_and_without_port() {
    assert_eq!(client_host("mail.contoso.com"), Some("mail.contoso.com"));
    assert_eq!(
        client_host(" MAIL.Contoso.com:443 "),
        Some("MAIL.Contoso.com")
    );
    assert_eq!(
        client_host("mail.contoso.com.:25"),
        Some("mail.contoso.com")
    );
    assert_eq!(
        client_host("xn--bcher-kva.example"),
        Some("xn--bcher-kva.example")
    );
    for text in [
        "localhost",
        "notanip",
        "10.11.12.300",
        "1.2.3.4",
        "mail.contoso.com:99999",
        "mail..contoso.com",
        "-mail.contoso.com",
        "mail-.contoso.com",
        "mail_1.contoso.com",
        "mail.contoso.com:443:1",
        "[mail.contoso.com]:443",
        "bücher.example",
        "2001:db8::1",
        "",
    ] {
        assert_eq!(client_host(text), None, "{text:?}");
    }
    let long_label = format!("{}.com", "a".repeat(64));
    assert_eq!(client_host(&long_label), None);
}

#[test]
fn client_keys_merge_forms_of_one_client() {
    assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
    assert!(matches!(client_key("203.0.113.7"), Cow::Borrowed(_)));
    assert_eq!(client_key("203.0.113.7:51234"), "203.0.113.7");
    assert_eq!(client_key("::ffff:203.0.113.7"), "203.0.113.7");
    assert_eq!(client_key("[2001:db8::7]:443"), "2001:db8::7");
    assert_eq!(client_key("2001:DB8::7"), "2001:db8::7");
    assert_eq!(client_key("Mail.Contoso.com:443"), "mail.contoso.com");
    assert_eq!(client_key("mail.contoso.com"), "mail.contoso.com");
    assert!(matches!(client_key("mail.contoso.com"), Cow::Borrowed(_)));
    assert_eq!(client_key(" not an ip "), "not an ip");
    assert_eq!(
        client_key("HOST:443"),
        "HOST:443",
        "a single label is not a host name"
    );
    assert_eq!(client_key(""), "");
}

#[test]
fn networks_in_one_space() {
    let net = IpNet::parse("203.0.113.0/24").expect("block");
    assert!(net.contains(ip("203.0.113.200")));
    assert!(net.contains(ip("::ffff:203.0.113.9")));
    assert!(!net.contains(ip("203.0.114.1")));
    assert_eq!(net.to_string(), "203.0.113.0/24");
    assert_eq!(net.prefix_len_v6(), 120);
    assert_eq!(IpNet::parse("203.0.113.7/24"), Ok(net), "host bits ignored");
    assert_eq!(IpNet::parse("::ffff:203.0.113.0/120"), Ok(net));
    let all_v4 = IpNet::parse("0.0.0.0/0").expect("block");
    assert!(all_v4.contains(ip("1.2.3.4")));
    assert!(!all_v4.contains(ip("2001:db8::1")));
    let v6 = IpNet::parse("2001:db8::/32").expect("block");
    assert!(v6.contains(ip("2001:db8:ffff::1")));
    assert!(!v6.contains(ip("2001:db9::1")));
    assert_eq!(v6.to_string(), "2001:db8::/32");
    let everything = IpNet::parse("::/0").expect("block");
    assert!(everything.contains(ip("1.2.3.4")) && everything.contains(ip("2001:db8::1")));
    let one = IpNet::parse("198.51.100.1").expect("address");
    assert_eq!(one.to_string(), "198.51.100.1/32");
    assert!(one.contains(ip("198.51.100.1")) && !one.contains(ip("198.51.100.2")));
}

#[test]
fn bad_blocks_say_why() {
    let err = |s: &str| IpNet::parse(s).expect_err(s).to_string();
    assert!(err("10.11.12.13/33").contains("/0 to /32"));
    assert!(err("2001:db8::/129").contains("/0 to /128"));
    assert!(err("10.0.0.0/x").contains("not a number"));
    assert!(err("10.0.0.0/+8").contains("not a number"));
    assert!(err("10.0.0.0/").contains("not a number"));
    assert!(err("10.11.12.300/24").contains("four numbers from 0 to 255"));
    assert!(err("mail.contoso.com/24").contains("not an IP address"));
    assert!(
        err("10.0.0.1:80").contains("not an IP address"),
        "no port in a list"
    );
}

#[test]
fn patterns_by_kind() {
    let p = |s: &str| IpPattern::parse(s).expect(s);
    let m = p("203.0.113.7");
    assert!(m.is_match(b"203.0.113.7:51234"));
    assert!(m.is_match(b"::ffff:203.0.113.7"));
    assert!(m.is_match(b" [::ffff:203.0.113.7]:443 "));
    assert!(!m.is_match(b"203.0.113.70"));
    assert!(!m.is_match(b"\xff203.0.113.7"));
    assert_eq!(p("203.0.113.7:443"), m, "a port in the pattern is ignored");
    assert_eq!(p("::ffff:203.0.113.7"), m);
    let m = p("2001:db8::/32");
    assert!(m.is_match(b"[2001:db8::1]:443"));
    assert!(!m.is_match(b"2001:db9::1"));
    assert!(p("10.0.0.0/8").is_match(b"10.2.3.4"));
    assert!(p("0.0.0.0/0").is_match(b"1.2.3.4"));
    let m = p("Mail.Contoso.COM");
    assert_eq!(m, IpPattern::Host("mail.contoso.com".into()));
    assert!(m.is_match(b"mail.contoso.com"));
    assert!(m.is_match(b"MAIL.contoso.com:443"));
    assert!(m.is_match(b"mail.contoso.com.:443"));
    assert!(!m.is_match(b"smtp.mail.contoso.com"));
    assert!(!m.is_match(b"203.0.113.7"));
    assert_eq!(p("mail.contoso.com:443"), p("mail.contoso.com"));
}

#[test]
fn bad_patterns_are_refused_with_the_accepted_forms() {
    for (spec, why) in [
        ("10.11.12.300", "four numbers from 0 to 255"),
        ("10.11.12.13/33", "/0 to /32"),
        ("notanip", "not an IP address"),
        ("", "not an IP address"),
        ("host:443", "not an IP address"),
        ("a b.com", "not an IP address"),
    ] {
        let e = IpPattern::parse(spec).expect_err(spec).to_string();
        assert!(e.contains(why), "{spec:?}: {e}");
        if !spec.contains('/') {
            assert!(e.contains("mail.contoso.com"), "{spec:?} shows forms: {e}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,64}") {
        let _ = parse_client_ip(&s);
        let _ = client_host(&s);
        let _ = client_key(&s);
        let _ = IpNet::parse(&s);
        if let Ok(p) = IpPattern::parse(&s) {
            let _ = p.is_match(s.as_bytes());
        }
    }

    #[test]
    fn address_like_text_never_panics(s in "[0-9a-fA-F:.\\[\\]%/ ]{0,48}") {
        let _ = parse_client_ip(&s);
        let _ = client_key(&s);
        if let Ok(p) = IpPattern::parse(&s) {
            let _ = p.is_match(s.as_bytes());
        }
    }

    #[test]
    fn every_address_form_matches_itself(a in any::<u32>(), port in any::<u16>()) {
        let addr = IpAddr::V4(std::net::Ipv4Addr::from(a));
        let pattern = IpPattern::parse(&addr.to_string()).expect("address");
        for form in [
            format!("{addr}"),
            format!("{addr}:{port}"),
            format!("::ffff:{addr}"),
            format!("[::ffff:{addr}]:{port}"),
        ] {
            prop_assert_eq!(parse_client_ip(&form), Some(addr));
            prop_assert!(pattern.is_match(form.as_bytes()));
            prop_assert_eq!(client_key(&form), addr.to_string());
        }
    }

    /// The key of a text that reads as an IPv4 address as written is the text itself
    /// (borrowed, not printed): what printing the address read from it gives.
    #[test]
    fn dotted_text_keys_as_its_printed_address(
        s in "[ ]?[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}(:[0-9]{1,5})?[ ]?",
        port in "[0-9]{0,6}",
    ) {
        let expected = match parse_client_ip(&s) {
            Some(addr) => addr.to_string(),
            None => client_host(&s).map_or_else(|| s.trim().to_string(), str::to_ascii_lowercase),
        };
        prop_assert_eq!(client_key(&s), expected);
        let with_port = format!("{s}:{port}");
        let expected = parse_client_ip(&with_port).map_or_else(|| with_port.trim().to_string(), |a| a.to_string());
        prop_assert_eq!(client_key(&with_port), expected);
    }

    /// Addresses print as `Display` prints them: any address, and addresses of zero and
    /// non-zero groups (runs of zeros, ties between runs), IPv4-mapped ones among them.
    #[test]
    fn addresses_print_as_display_prints_them(
        a in any::<u128>(),
        groups in prop::collection::vec(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()], 8),
    ) {
        let mut zeros = [0u16; 8];
        zeros.copy_from_slice(&groups);
        for addr in [
            IpAddr::V6(Ipv6Addr::from(a)),
            IpAddr::V6(Ipv6Addr::from(zeros)),
            IpAddr::V4(std::net::Ipv4Addr::from(a as u32)),
            IpAddr::V6(std::net::Ipv4Addr::from(a as u32).to_ipv6_mapped()),
        ] {
            let mut shown = Shown::default();
            prop_assert_eq!(shown.of(addr), addr.to_string());
        }
    }

    #[test]
    fn ipv6_forms_match_themselves(a in any::<u128>(), port in any::<u16>()) {
        let addr = IpAddr::V6(Ipv6Addr::from(a)).to_canonical();
        for form in [format!("{addr}"), format!("[{addr}]:{port}")] {
            prop_assert_eq!(parse_client_ip(&form), Some(addr));
        }
    }

    #[test]
    fn a_block_holds_its_own_addresses(a in any::<u32>(), len in 0u8..=32, low in any::<u32>()) {
        let base = std::net::Ipv4Addr::from(a);
        let net = IpNet::parse(&format!("{base}/{len}")).expect("block");
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        let inside = IpAddr::V4(std::net::Ipv4Addr::from((a & mask) | (low & !mask)));
        prop_assert!(net.contains(inside));
        let reparsed = IpNet::parse(&net.to_string()).expect("its own text");
        prop_assert_eq!(reparsed, net);
    }
}
