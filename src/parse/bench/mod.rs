//! llama-bench output in its five formats: markdown, json, jsonl, csv and sql
//! (FORMATS.md section 2), read into one [`BenchTest`] per test, one file per
//! format ([`md`], [`json`], [`jsonl`], [`csv`], [`sql`]), the field mapping
//! in [`fields`] and the test keys in [`key`].
//!
//! Every format is reduced to a list of named fields per test and mapped by
//! one function, so a test reads the same whichever format it came in.
//!
//! Policy for broken input, the same in every format:
//! - an input that ends in the middle of a record (llama-bench killed or a
//!   file cut short) keeps the complete records before it and adds a
//!   [`ParseWarning`] naming the line; with no complete record it is
//!   [`ParseError::Malformed`];
//! - a broken record with more input after it (a markdown row with the wrong
//!   number of cells, a `t/s` cell that is not a number, an object without
//!   `avg_ts`) is [`ParseError::Malformed`]: dropping it would silently change
//!   what gets compared;
//! - a header with no test under it is [`ParseError::Malformed`];
//! - lines that belong to no format (stderr mixed into stdout) are skipped.
//!
//! `inf` and `nan` are kept as such. llama-bench prints them bare in JSON
//! (`"avg_ts": inf`), which is not JSON, so those tokens are quoted before the
//! JSON is read. Markdown prints only mean ± stddev: its tests have no
//! samples, and its size and params are rounded, so their printed strings are
//! kept in `extra` (`model_size_printed`, `model_n_params_printed`).

mod csv;
mod fields;
#[cfg(test)]
mod fixtures;
mod json;
mod jsonl;
pub mod key;
mod md;
mod sql;

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{ParseError, ParseWarning};
use crate::model::{BenchFormat, BenchTest};

/// What one llama-bench output holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOutput {
    /// The format it was read as.
    pub format: BenchFormat,
    /// The tests in the order printed; never empty.
    pub tests: Vec<BenchTest>,
    /// Records left out because the input was cut short.
    pub warnings: Vec<ParseWarning>,
}

/// `pp512`, `tg128`, `pp512+tg128`, ` @ d4096`; 2023 builds wrote `pp 512`.
pub(super) static TEST_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:pp ?(\d+)(?:\+tg ?(\d+))?|tg ?(\d+))(?: ?@ ?d(\d+))?$")
        .expect("test-name regex is valid")
});

/// A record's fields in the order printed, with the 1-based line it starts on.
pub(super) struct Record {
    pub(super) line: usize,
    pub(super) fields: Map<String, Value>,
}

/// What a format reader found before mapping: records plus remarks.
#[derive(Default)]
pub(super) struct Found {
    pub(super) records: Vec<Record>,
    pub(super) warnings: Vec<ParseWarning>,
}

/// Which llama-bench format `text` looks like, if any.
pub fn detect_bench_format(text: &str) -> Option<BenchFormat> {
    if sql::sql_insert_line(text).is_some()
        || text.contains("CREATE TABLE IF NOT EXISTS llama_bench")
    {
        return Some(BenchFormat::Sql);
    }
    if md::md_header_line(text).is_some() {
        return Some(BenchFormat::Md);
    }
    if json::json_array_start(text).is_some() {
        return Some(BenchFormat::Json);
    }
    if text.lines().any(jsonl::is_jsonl_record) {
        return Some(BenchFormat::Jsonl);
    }
    if csv::csv_header_line(text).is_some() {
        return Some(BenchFormat::Csv);
    }
    None
}

/// Parses llama-bench output of any format. `source_name` names the input in errors.
pub fn parse_bench(source_name: &str, text: &str) -> Result<BenchOutput, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            source_name: source_name.to_string(),
        });
    }
    let malformed = |line: usize, message: String| ParseError::Malformed {
        source_name: source_name.to_string(),
        line,
        message,
    };
    let format = detect_bench_format(text).ok_or_else(|| ParseError::NothingRecognised {
        source_name: source_name.to_string(),
    })?;
    let found = match format {
        BenchFormat::Md => md::read_md(text),
        BenchFormat::Json => json::read_json(text),
        BenchFormat::Jsonl => jsonl::read_jsonl(text),
        BenchFormat::Csv => csv::read_csv(text),
        BenchFormat::Sql => sql::read_sql(text),
    }
    .map_err(|(line, message)| malformed(line, message))?;
    if found.records.is_empty() {
        let line = found.warnings.first().map_or(1, |w| w.line);
        let why = found.warnings.first().map_or("", |w| w.message.as_str());
        return Err(malformed(
            line,
            format!("llama-bench output with no complete test. {why}"),
        ));
    }
    let mut tests = found
        .records
        .into_iter()
        .map(|r| fields::test_from_fields(r.fields).map_err(|m| malformed(r.line, m)))
        .collect::<Result<Vec<_>, _>>()?;
    key::assign(&mut tests);
    Ok(BenchOutput {
        format,
        tests,
        warnings: found.warnings,
    })
}

/// A read failure: 1-based line and message.
pub(super) type Failure = (usize, String);

pub(super) fn warning(line: usize, message: impl Into<String>) -> ParseWarning {
    ParseWarning {
        line,
        message: message.into(),
    }
}

/// 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// End of a bare token (number or word) starting at `start`.
/// `also` lists the punctuation a token may hold besides letters and digits.
pub(super) fn token_end(text: &str, start: usize, also: &str) -> usize {
    text[start..]
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || also.contains(c)))
        .map_or(text.len(), |(j, _)| start + j)
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_every_format() {
        assert_eq!(detect_bench_format(CPU_MD), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(CUDA_MD_STDERR), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(MD_2023), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(CPU_JSON), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format(TRUNC_FIRST), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format(CPU_JSONL), Some(BenchFormat::Jsonl));
        assert_eq!(detect_bench_format(CPU_CSV), Some(BenchFormat::Csv));
        assert_eq!(detect_bench_format(CUDA_SQL), Some(BenchFormat::Sql));
        let noisy = format!("main: warming up\n{CPU_JSON}");
        assert_eq!(detect_bench_format(&noisy), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format("hello\n[1, 2]\n"), None);
        assert_eq!(detect_bench_format("| a | b |\n"), None);
    }

    #[test]
    fn stderr_between_rows_is_skipped() {
        let log = "llama_model_load: loaded meta data with 36 key-value pairs\n";
        let md = CPU_MD.replacen("\n| gemma3", &format!("\n{log}| gemma3"), 2);
        assert_eq!(md.matches(log).count(), 2);
        assert_eq!(parse(&md).tests, parse(CPU_MD).tests);
        let jsonl = CPU_JSONL.replacen("\n{", &format!("\n{log}{{"), 1);
        assert!(jsonl.contains(log));
        assert_eq!(parse(&jsonl).tests, parse(CPU_JSONL).tests);
    }

    /// Each format was a separate llama-bench run, so t/s differs between
    /// files; everything that describes the tests must agree.
    #[test]
    fn formats_of_the_same_build_agree() {
        let md = parse(CPU_MD).tests;
        for other in [CPU_JSON, CPU_JSONL, CPU_CSV] {
            let tests = parse(other).tests;
            assert_eq!(tests.len(), md.len());
            for (a, b) in md.iter().zip(&tests) {
                assert_eq!(
                    (&a.test, a.n_prompt, a.n_gen, a.n_depth),
                    (&b.test, b.n_prompt, b.n_gen, b.n_depth)
                );
                assert_eq!(
                    (&a.model_type, &a.backends, a.n_threads),
                    (&b.model_type, &b.backends, b.n_threads)
                );
                assert_eq!(
                    (&a.build_commit, a.build_number),
                    (&b.build_commit, b.build_number)
                );
                let printed_mib = b
                    .model_size_bytes
                    .map(|s| format!("{:.2} MiB", s as f64 / 1048576.0));
                assert_eq!(printed_mib.as_deref(), Some(extra(a, "model_size_printed")));
                let printed_m = b.model_n_params.map(|p| format!("{:.2} M", p as f64 / 1e6));
                assert_eq!(
                    printed_m.as_deref(),
                    Some(extra(a, "model_n_params_printed"))
                );
            }
        }
    }

    #[test]
    fn json_average_matches_its_samples() {
        for text in [CPU_JSON, CPU_JSONL, GEMMA_R3, CUDA_JSON] {
            for t in parse(text).tests {
                let mean = t.samples_tps.iter().sum::<f64>() / t.samples_tps.len() as f64;
                assert!(
                    (mean - t.avg_tps.0).abs() < 1e-2 * t.avg_tps.0.max(1.0),
                    "{}",
                    t.test
                );
            }
        }
    }

    #[test]
    fn truncated_inputs_keep_complete_tests_or_fail_typed() {
        let out = parse(TRUNC_JSON);
        assert_eq!(out.tests.len(), 1);
        check(&out.tests[0], "pp32", 32, 0, 0, 248.647764, 0.849410);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].line, 48);
        let out = parse(TRUNC_MD);
        assert_eq!(out.tests.len(), 1);
        assert_eq!(out.warnings[0].line, 4);
        // Cut short before the footer: the build is unknown, not invented.
        assert_eq!(out.tests[0].build_commit, None);
        // Killed between two objects: the array is never closed.
        let unclosed = CPU_JSON.trim_end().trim_end_matches(']');
        let out = parse(unclosed);
        assert_eq!((out.tests.len(), out.warnings.len()), (2, 1));
        assert!(out.warnings[0].message.contains("not closed"));
        match parse_bench("cut", TRUNC_FIRST) {
            Err(ParseError::Malformed {
                line: 2, message, ..
            }) => {
                assert!(message.contains("cut short"), "{message}")
            }
            other => panic!("expected Malformed at line 2, got {other:?}"),
        }
        let cut_jsonl = &CPU_JSONL[..CPU_JSONL.len() - 40];
        let out = parse(cut_jsonl);
        assert_eq!((out.tests.len(), out.warnings[0].line), (1, 2));
        let cut_csv = &CPU_CSV[..CPU_CSV.len() - 3];
        let out = parse(cut_csv);
        assert_eq!((out.tests.len(), out.warnings[0].line), (1, 3));
        let cut_sql = &CUDA_SQL[..CUDA_SQL.len() - 30];
        let out = parse(cut_sql);
        assert_eq!((out.tests.len(), out.warnings[0].line), (3, 49));
    }

    fn malformed_line(text: &str) -> (usize, String) {
        match parse_bench("bad", text) {
            Err(ParseError::Malformed {
                line,
                message,
                source_name,
            }) => {
                assert_eq!(source_name, "bad");
                (line, message)
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn broken_rows_are_malformed_with_their_line() {
        let wrong_cells = CPU_MD.replacen("|       2 |            pp32", "|            pp32", 1);
        let (line, msg) = malformed_line(&wrong_cells);
        assert_eq!(line, 3);
        assert!(msg.contains("6 cells, header has 7"), "{msg}");
        let (line, msg) = malformed_line(&CPU_MD.replacen("371.00 ± 1.09", "fast ± 1.09", 1));
        assert_eq!(line, 3);
        assert!(msg.contains("'fast ± 1.09'"), "{msg}");
        let (line, _) = malformed_line(&CPU_MD.replacen("pp32", "xx32", 1));
        assert_eq!(line, 3);
        let (line, msg) = malformed_line(&CPU_JSON.replacen("\"avg_ts\": 248.647764,", "", 1));
        assert_eq!(line, 2);
        assert!(msg.contains("'avg_ts' is missing"), "{msg}");
        let (line, _) = malformed_line(&CPU_JSON.replacen("\"n_gen\": 8,", "\"n_gen\": 8,,", 1));
        assert_eq!(line, 84);
        let (line, _) = malformed_line(&CPU_JSONL.replacen("\"n_gen\": 0,", "\"n_gen\": 0,,", 1));
        assert_eq!(line, 1);
        let (line, msg) = malformed_line(&CPU_CSV.replacen("\"354.163860\",", "", 1));
        assert_eq!(line, 2);
        assert!(msg.contains("fields"), "{msg}");
        let header_only = CPU_MD.lines().take(2).collect::<Vec<_>>().join("\n");
        assert_eq!(malformed_line(&header_only).0, 1);
    }

    #[test]
    fn empty_and_garbage_inputs() {
        for text in ["", " \n\t\n"] {
            assert!(matches!(
                parse_bench("e", text),
                Err(ParseError::Empty { .. })
            ));
        }
        for text in [
            "hello world\n",
            "| x | y |\n|---|---|\n",
            "[1,2,3]",
            "{\"a\": 1}\n",
        ] {
            assert!(
                matches!(
                    parse_bench("g", text),
                    Err(ParseError::NothingRecognised { .. })
                ),
                "{text}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
            let _ = detect_bench_format(&text);
            let _ = parse_bench("p", &text);
        }

        #[test]
        fn never_panics_on_cut_or_mutated_fixtures(
            which in 0..ALL.len(),
            cut in 0usize..5000,
            at in 0usize..5000,
            insert in prop::sample::select(vec!["", "|", "\n", "\"", "'", ",", "±", "inf", "{", "]", ";", "é"]),
        ) {
            let text = ALL[which];
            let cut = floor_char_boundary(text, cut);
            let mut mutated = text[..cut].to_string();
            let at = floor_char_boundary(&mutated, at);
            mutated.insert_str(at, insert);
            let _ = parse_bench("m", &mutated);
            let _ = parse_bench("m", &text[floor_char_boundary(text, at)..]);
        }
    }

    fn floor_char_boundary(s: &str, mut i: usize) -> usize {
        i = i.min(s.len());
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
