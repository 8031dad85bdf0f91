use super::*;

/// Every instruction set this processor can run, the baseline first.
fn isas() -> Vec<Isa> {
    let best = Isa::best();
    [Isa::Baseline, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|&i| i == Isa::Baseline || i == best || (i == Isa::Avx2 && best == Isa::Avx512))
        .collect()
}

fn tokens(text: &[u8], delim: u8) -> Vec<(u64, Vec<String>)> {
    let all: Vec<_> = isas()
        .into_iter()
        .map(|isa| tokens_with(isa, text, delim))
        .collect();
    assert!(
        all.windows(2).all(|w| w[0] == w[1]),
        "instruction sets disagree"
    );
    all.into_iter().next().unwrap_or_default()
}

fn tokens_with(isa: Isa, text: &[u8], delim: u8) -> Vec<(u64, Vec<String>)> {
    let mut t = Tokenizer::new(text, 0, text.len(), 1, delim).with_isa(isa);
    let mut fields = Vec::new();
    let mut out = Vec::new();
    while let Some(r) = t.next_record(&mut fields) {
        let f = fields
            .iter()
            .map(|f| String::from_utf8_lossy(&text[f.start..f.end]).into_owned())
            .collect();
        out.push((r.line, f));
    }
    out
}

#[test]
fn prefix_xor_marks_inside_quotes() {
    // quotes at 1 and 4: bytes 1..4 are inside.
    assert_eq!(prefix_xor(0b10010), 0b01110);
}

#[test]
fn splits_records_and_fields_across_blocks() {
    let long = "x".repeat(100);
    let text = format!("a,\"b,\r\nc\"\r\n\"{long}\",\"q\"\"q\"\r\n\nlast,1");
    let got = tokens(text.as_bytes(), b',');
    assert_eq!(
        got,
        vec![
            (1, vec!["a".into(), "\"b,\r\nc\"".into()]),
            (3, vec![format!("\"{long}\""), "\"q\"\"q\"".into()]),
            (4, vec!["".into()]),
            (5, vec!["last".into(), "1".into()]),
        ]
    );
}

#[test]
fn same_tokens_as_a_byte_by_byte_reference() {
    // A reference tokenizer written the obvious way, on many shapes and lengths.
    fn reference(text: &[u8]) -> Vec<(u64, Vec<String>)> {
        let (mut out, mut fields, mut field, mut inside, mut line, mut start_line) =
            (vec![], vec![], vec![], false, 1u64, 1u64);
        for &b in text {
            match b {
                b'"' => {
                    inside = !inside;
                    field.push(b);
                }
                b',' if !inside => fields.push(std::mem::take(&mut field)),
                b'\n' => {
                    line += 1;
                    if inside {
                        field.push(b);
                    } else {
                        while field.last() == Some(&b'\r') {
                            field.pop();
                        }
                        fields.push(std::mem::take(&mut field));
                        let f = fields
                            .drain(..)
                            .map(|f: Vec<u8>| String::from_utf8_lossy(&f).into_owned())
                            .collect();
                        out.push((start_line, f));
                        start_line = line;
                    }
                }
                _ => field.push(b),
            }
        }
        if !field.is_empty() || !fields.is_empty() {
            while field.last() == Some(&b'\r') {
                field.pop();
            }
            fields.push(field);
            let f = fields
                .into_iter()
                .map(|f| String::from_utf8_lossy(&f).into_owned())
                .collect();
            out.push((start_line, f));
        }
        out
    }
    // Long runs too, so that whole blocks hold no structure (walked without a look at
    // their bits), in quotes and out.
    let pieces: [&[u8]; 8] = [b"\"", b",", b"\r\n", b"\n", b"ab", b"\"\"", b"xyz,", b"\r"];
    let long: [&[u8]; 2] = [
        b"a run of text as long as a block, or longer than one: 0123456789abcdefghijkl",
        b"\"a quoted run, with commas, a line\nbreak and \"\"quotes\"\" inside it, long\"",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for len in 0..400 {
        let mut text = Vec::new();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % 10) as usize;
            text.extend_from_slice(if i < 8 { pieces[i] } else { long[i - 8] });
        }
        assert_eq!(
            tokens(&text, b','),
            reference(&text),
            "{:?}",
            String::from_utf8_lossy(&text)
        );
    }
}

#[test]
fn sparse_records_agree_with_full_ones() {
    let pieces: [&[u8]; 12] = [
        b"\"", b",", b"\r\n", b"\n", b"ab", b"\"\"", b"xyz,", b"\r", b"\"q\",", b"\",\"",
        b"\"\r\n", b"\0",
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (mut sound_seen, mut unsound_seen) = (0, 0);
    for len in 0..600 {
        let mut text = Vec::new();
        for _ in 0..len % 200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.extend_from_slice(pieces[(seed % 12) as usize]);
        }
        let wanted: &[usize] = match len % 3 {
            0 => &[0, 1, 3, 7],
            1 => &[2],
            _ => &[0, 4, 5, 6, 40],
        };
        let isa = isas()[len % isas().len()];
        let (sound, unsound) = sparse_agrees_with_full(&text, wanted, isa);
        sound_seen += sound;
        unsound_seen += unsound;
    }
    assert!(
        sound_seen > 1000 && unsound_seen > 100,
        "{sound_seen} {unsound_seen}"
    );
}

#[test]
fn sparse_walk_skips_long_fields_alike() {
    // Long runs between the structure, so that most blocks hold neither a line end nor
    // a wanted field (the quiet blocks a sparse walk only counts); rarely a NUL, a stray
    // quote, text after a closing quote or a `\r` across a block edge.
    let pieces: [&[u8]; 9] = [
        b"abcdefghijklmnopqrstuvwxyz0123456789",
        b",",
        b"\"a long quoted field, with a comma, a \"\"doubled\"\" quote and\r\na line break\"",
        b"\r\n",
        b"\0",
        b"\"",
        b"\"x\"y",
        b"\r",
        "résumé".as_bytes(),
    ];
    let weights = [60, 40, 10, 4, 1, 1, 1, 1, 1];
    let total: u64 = weights.iter().sum();
    let mut seed = 0x5851_F42D_4C95_7F2Du64;
    for round in 0..3000 {
        let mut text = Vec::new();
        for _ in 0..round % 300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut pick = seed % total;
            let i = weights
                .iter()
                .position(|&w| {
                    let here = pick < w;
                    pick = pick.saturating_sub(w);
                    here
                })
                .unwrap_or(0);
            text.extend_from_slice(pieces[i]);
        }
        let wanted: &[usize] = match round % 4 {
            0 => &[0, 30],
            1 => &[],
            2 => &[5],
            _ => &[1, 2, 60],
        };
        for isa in isas() {
            sparse_agrees_with_full(&text, wanted, isa);
        }
    }
}

/// Walks `text` with the full tokenizer and the sparse one (with `isa`, locating the
/// columns `wanted`) side by side, and checks that they agree on every record: its span,
/// its field count, whether it holds a NUL (never sound then), its line, the fields
/// located; that a sound record's quoted fields end with their quote; that a record is
/// said to be all ASCII exactly when it is and ends with a line break; and whether the
/// text ended in quotes. Returns how many records were sound, and how many not.
fn sparse_agrees_with_full(text: &[u8], wanted: &[usize], isa: Isa) -> (usize, usize) {
    let shown = || String::from_utf8_lossy(text);
    let mut full = Tokenizer::new(text, 0, text.len(), 1, b',');
    let mut sparse = Tokenizer::new(text, 0, text.len(), 1, b',').with_isa(isa);
    let (mut fields, mut out) = (Vec::new(), vec![None; wanted.len()]);
    let (mut sound, mut unsound) = (0, 0);
    loop {
        let a = full.next_record(&mut fields);
        let b = sparse.next_record_sparse(wanted, &mut out);
        let (Some(a), Some(b)) = (a, b) else {
            assert_eq!(a.is_none(), b.is_none(), "{isa:?} {:?}", shown());
            break;
        };
        assert_eq!(a, b.span, "{isa:?} {:?}", shown());
        assert_eq!(fields.len(), b.fields, "{isa:?} {:?}", shown());
        let ended = text[a.end..].iter().find(|&&c| c != b'\r') == Some(&b'\n');
        let ascii = ended && text[a.start..a.end].is_ascii();
        assert_eq!(b.ascii, ascii, "{isa:?} {:?}", shown());
        let nul = memchr::memchr(0, &text[a.start..a.end]).is_some();
        assert_eq!(full.record_has_nul(), nul, "{:?}", shown());
        assert!(!(nul && b.sound), "{isa:?} {:?}", shown());
        for (i, &col) in wanted.iter().enumerate() {
            assert_eq!(fields.get(col).copied(), out[i], "{isa:?} column {col}");
        }
        if b.sound {
            sound += 1;
            for f in &fields {
                let v = &text[f.start..f.end];
                assert!(
                    v.first() != Some(&b'"') || (v.len() >= 2 && v.last() == Some(&b'"')),
                    "sound record with a bad quoted field {:?} in {:?}",
                    String::from_utf8_lossy(v),
                    shown()
                );
            }
        } else {
            unsound += 1;
        }
        assert_eq!(
            full.next_line(),
            sparse.next_line(),
            "{isa:?} {:?}",
            shown()
        );
    }
    assert_eq!(full.ended_in_quotes(), sparse.ended_in_quotes(), "{isa:?}");
    (sound, unsound)
}

#[test]
fn counts() {
    let text = "\"a\"\n".repeat(40);
    for isa in isas() {
        let c = count_for(isa, text.as_bytes());
        assert_eq!((c.quotes, c.newlines), (80, 40), "{isa:?}");
        let odd = format!("{text}\"\0x\n");
        let c = count_for(isa, &odd.as_bytes()[1..]);
        assert_eq!((c.quotes, c.newlines), (80, 41), "{isa:?}");
    }
    let c = count_quotes_newlines(text.as_bytes());
    assert_eq!((c.quotes, c.newlines), (80, 40));
}

#[test]
fn every_kind_finds_the_same_nth_set_bit() {
    /// [`MaskKind::nth_bit`] of the kind `isa` stands for.
    fn nth_bit_with(isa: Isa, bits: u64, k: usize) -> u32 {
        #[cfg(target_arch = "x86_64")]
        if isa == Isa::Avx512 {
            #[target_feature(enable = "avx512bw,bmi2")]
            fn deposit(bits: u64, k: usize) -> u32 {
                // SAFETY: compiled for, and called only with, AVX-512BW and BMI2.
                unsafe { Avx512::nth_bit(bits, k) }
            }
            // SAFETY: `isas` lists AVX-512 only where `Isa::best` found it, BMI2 included.
            return unsafe { deposit(bits, k) };
        }
        // SAFETY: the other kinds' `nth_bit` is the plain loop.
        unsafe { Baseline::nth_bit(bits, k) }
    }
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Dense, sparse and edge words.
        let bits = match round % 4 {
            0 => seed,
            1 => seed & seed.rotate_left(17) & seed.rotate_left(31),
            2 => [0, u64::MAX, 1, 1 << 63][(seed % 4) as usize],
            _ => seed >> (seed % 64),
        };
        for k in 0..=70 {
            let want = nth_bit(bits, k);
            for isa in isas() {
                assert_eq!(nth_bit_with(isa, bits, k), want, "{isa:?} {bits:#x} {k}");
            }
        }
    }
}
