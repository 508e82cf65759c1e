//! llama-bench's JSON lines (`-o jsonl`, what tokbench asks for): one object
//! per line; stderr lines between them are skipped.

use serde_json::Value;

use super::json::{json_record, names_bench_field, quote_non_finite};
use super::{warning, Failure, Found};

pub(super) fn is_jsonl_record(line: &str) -> bool {
    line.trim_start().starts_with('{') && names_bench_field(line)
}

pub(super) fn read_jsonl(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let last = text.lines().count();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if !raw.trim_start().starts_with('{') {
            continue;
        }
        match serde_json::from_str::<Value>(&quote_non_finite(raw)) {
            Ok(value) => found.records.push(json_record(value, line)?),
            Err(e) if e.is_eof() && line == last => {
                found
                    .warnings
                    .push(warning(line, "JSON line cut short; ignored"));
            }
            Err(e) => return Err((line, e.to_string())),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::model::{BenchFormat, Num};

    #[test]
    fn jsonl_current_cpu() {
        let out = parse(CPU_JSONL);
        assert_eq!(out.format, BenchFormat::Jsonl);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 302.804064, 0.225572);
        check(tg, "tg8", 0, 8, 0, 39.444750, 0.108972);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.samples_tps, vec![302.964, 302.645]);
        assert_eq!(pp.samples_ns, vec![105623261, 105734595]);
        assert_eq!(tg.samples_tps, vec![39.3677, 39.5218]);
        assert_eq!(tg.samples_ns, vec![203212304, 202419907]);
        assert_eq!((tg.avg_ns, tg.n_threads), (Some(202816105), Some(2)));
    }

    #[test]
    fn jsonl_depth_pp_tg_and_bare_non_finite() {
        let out = parse(SYN_JSONL);
        check(&out.tests[0], "pp512 @ d512", 512, 0, 512, 12345.67, 89.01);
        check(&out.tests[1], "pp512+tg128", 512, 128, 0, 880.25, 3.10);
        assert_eq!(out.tests[1].samples_tps, vec![883.35, 877.15]);
        let t = &out.tests[2];
        assert_eq!(t.test, "tg128");
        assert_eq!(t.avg_tps, Num(f64::INFINITY));
        assert!(t.stddev_tps.0.is_nan());
        assert_eq!(t.samples_tps, vec![f64::INFINITY, f64::INFINITY]);
        check_build(&out, "0c1e570", 7001, "CUDA");
    }
}
