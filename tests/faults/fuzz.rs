//! Every parser, fed mutated fixtures inside `cargo test` (the long runs with
//! execution counts are `benches/fuzz_parsers.rs`): byte flips, truncation,
//! lines spliced in from other fixtures, random lines, duplicated lines. A
//! panic fails the test and proptest shrinks it to a small input.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use tokbench::detect;
use tokbench::parse::{bench, server, timings, version};
use tokbench::sample::{capture, macmon, nvidia_smi, powermetrics, procfs, vmmap};

fn fixtures() -> &'static [Vec<u8>] {
    static ALL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut out = Vec::new();
        for dir in ["llama", "llama-bench", "llama-cli", "help", "sample"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                out.push(std::fs::read(e.path()).unwrap());
            }
        }
        assert!(out.len() > 50, "fixtures not found");
        out
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Cut(Index),
    Splice(Index, Index, Index),
    Junk(Index, Vec<u8>),
    Repeat(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        any::<Index>().prop_map(Edit::Cut),
        (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(f, l, at)| Edit::Splice(f, l, at)),
        (
            any::<Index>(),
            proptest::collection::vec(any::<u8>(), 0..60)
        )
            .prop_map(|(at, junk)| Edit::Junk(at, junk)),
        any::<Index>().prop_map(Edit::Repeat),
    ]
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(input: &mut Vec<u8>, e: &Edit) {
    let mut ls = lines(input);
    match e {
        Edit::Flip(i, b) if !input.is_empty() => {
            let i = i.index(input.len());
            input[i] ^= b;
            return;
        }
        Edit::Cut(i) => {
            input.truncate(i.index(input.len() + 1));
            return;
        }
        Edit::Splice(f, l, at) => {
            let other = lines(&fixtures()[f.index(fixtures().len())]);
            if !other.is_empty() {
                ls.insert(at.index(ls.len() + 1), other[l.index(other.len())].clone());
            }
        }
        Edit::Junk(at, junk) => ls.insert(at.index(ls.len() + 1), junk.clone()),
        Edit::Repeat(i) if !ls.is_empty() => {
            let l = ls[i.index(ls.len())].clone();
            ls.insert(i.index(ls.len()), l);
        }
        _ => return,
    }
    *input = ls.concat();
}

/// Every parser tokbench has, on one input.
fn parse_everything(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _ = timings::parse_timings(&text);
    let _ = server::parse_server_json(&text);
    let _ = bench::parse_bench("fuzz", &text);
    let _ = version::parse_build_info(&text);
    let _ = detect::parse_any("fuzz", bytes);
    let _ = powermetrics::parse_text(&text);
    let _ = powermetrics::parse_plist_stream(bytes);
    let _ = vmmap::parse_summary(&text);
    let _ = macmon::parse_capture(&text);
    let _ = nvidia_smi::parse_capture(&text);
    let _ = procfs::parse_capture(&text);
    if let Some(format) = capture::detect(&text) {
        let _ = capture::parse(format, &text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_parser_panics_on_mutated_fixtures(
        seed in any::<Index>(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let mut input = fixtures()[seed.index(fixtures().len())].clone();
        for e in &edits {
            apply(&mut input, e);
        }
        parse_everything(&input);
    }
}
