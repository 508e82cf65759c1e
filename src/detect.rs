//! Recognises what a saved file holds (llama.cpp log, llama-server log or
//! JSON, llama-bench output, version banner) and hands it to the right parser.

use serde::Serialize;

use crate::model::{BenchFormat, BenchTest, BuildInfo, TimingBlock};
use crate::parse::bench::{detect_bench_format, parse_bench};
use crate::parse::server::parse_server_json;
use crate::parse::timings::parse_timings;
use crate::parse::version::parse_build_info;
use crate::parse::{ParseError, ParseWarning};

/// Everything recognised in one input.
#[derive(Debug, Clone, Serialize)]
pub struct Parsed {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench_format: Option<BenchFormat>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<TimingBlock>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bench: Vec<BenchTest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ParseWarning>,
    /// A sampler capture (powermetrics, vmmap, macmon, nvidia-smi, /proc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_format: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<crate::sample::Sample>,
}

/// 1-based line of the first invalid UTF-8 sequence, if any.
fn first_invalid_line(bytes: &[u8]) -> Option<usize> {
    let err = std::str::from_utf8(bytes).err()?;
    let upto = &bytes[..err.valid_up_to()];
    Some(upto.iter().filter(|&&b| b == b'\n').count() + 1)
}

/// Parses any saved output. Generated text may hold invalid UTF-8 (a token
/// can split a multi-byte character), so decoding is lossy; invalid input is
/// an error only when nothing at all is recognised.
pub fn parse_any(source: &str, bytes: &[u8]) -> Result<Parsed, ParseError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty {
            source_name: source.to_string(),
        });
    }
    let text = String::from_utf8_lossy(bytes);
    let mut parsed = Parsed {
        source: source.to_string(),
        bench_format: None,
        blocks: Vec::new(),
        bench: Vec::new(),
        build: parse_build_info(&text),
        warnings: Vec::new(),
        sample_format: None,
        samples: Vec::new(),
    };
    if let Some(fmt) = crate::sample::capture::detect(&text) {
        parsed.samples =
            crate::sample::capture::parse(fmt, &text).map_err(|e| ParseError::Malformed {
                source_name: source.to_string(),
                line: 1,
                message: format!("{fmt}: {}", e.0),
            })?;
        parsed.sample_format = Some(fmt.to_string());
        return Ok(parsed);
    }
    if detect_bench_format(&text).is_some() {
        let out = parse_bench(source, &text)?;
        parsed.bench_format = Some(out.format);
        parsed.bench = out.tests;
        parsed.warnings = out.warnings;
        return Ok(parsed);
    }
    let t = parse_timings(&text);
    parsed.blocks = t.blocks;
    parsed.warnings = t.warnings;
    if parsed.blocks.is_empty() {
        parsed.blocks = parse_server_json(&text);
    }
    if parsed.blocks.is_empty() && parsed.build.is_none() {
        return Err(match first_invalid_line(bytes) {
            Some(line) => ParseError::NotUtf8 {
                source_name: source.to_string(),
                line,
            },
            None => ParseError::NothingRecognised {
                source_name: source.to_string(),
            },
        });
    }
    if let Some(line) = first_invalid_line(bytes) {
        parsed.warnings.push(ParseWarning {
            line,
            message: "invalid UTF-8 (read lossily)".to_string(),
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_inputs_are_typed_errors() {
        assert!(matches!(parse_any("e", b""), Err(ParseError::Empty { .. })));
        assert!(matches!(
            parse_any("e", b" \n\n"),
            Err(ParseError::Empty { .. })
        ));
        assert!(matches!(
            parse_any("g", b"hello\nworld\n"),
            Err(ParseError::NothingRecognised { .. })
        ));
        match parse_any("b", b"ok\nstill ok\n\xff\xfe bad\n") {
            Err(ParseError::NotUtf8 { line, source_name }) => {
                assert_eq!(line, 3);
                assert_eq!(source_name, "b");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
