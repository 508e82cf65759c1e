//! llama-server's `/metrics` (Prometheus text): the counters, read before
//! and after a block and reported as deltas. Gauges are left out: several
//! (`prompt_tokens_seconds`, `predicted_tokens_seconds`) are reset when
//! read, so a value taken by tokbench would be another reader's loss, and
//! `n_tokens_max` is typed a counter but is a maximum, not a running total.

use std::collections::BTreeMap;

/// Every `*_total` sample of a metric declared `counter`, by name.
pub fn counters(text: &str) -> BTreeMap<String, f64> {
    let mut kinds = BTreeMap::new();
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (it.next(), it.next()) {
                kinds.insert(name.to_string(), kind.to_string());
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace();
        let (Some(name), Some(value)) = (it.next(), it.next()) else {
            continue;
        };
        let base = name.split('{').next().unwrap_or(name);
        let counter = kinds.get(base).is_some_and(|k| k == "counter");
        if let (true, true, Ok(v)) = (counter, base.ends_with("_total"), value.parse::<f64>()) {
            out.insert(base.trim_start_matches("llamacpp:").to_string(), v);
        }
    }
    out
}

/// After minus before, for counters present in both (a restart that resets
/// a counter gives a negative delta: it is dropped, not reported).
pub fn deltas(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter_map(|(k, a)| {
            let d = a - before.get(k)?;
            (d >= 0.0).then(|| (k.clone(), d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_metrics_give_counters_only() {
        let text = crate::fixtures::read_fixture("serve/metrics.txt");
        let c = counters(&text);
        assert_eq!(c.get("tokens_predicted_total"), Some(&1760.0));
        assert_eq!(c.get("prompt_tokens_total"), Some(&134.0));
        assert_eq!(c.get("n_decode_total"), Some(&608.0));
        assert!(!c.contains_key("n_tokens_max"), "a maximum, not a total");
        assert!(
            !c.contains_key("predicted_tokens_seconds"),
            "gauges are left out"
        );
        assert!(!c.contains_key("requests_processing"));
    }

    #[test]
    fn deltas_skip_resets_and_missing() {
        let b = BTreeMap::from([("a".to_string(), 10.0), ("b".to_string(), 5.0)]);
        let a = BTreeMap::from([
            ("a".to_string(), 25.0),
            ("b".to_string(), 1.0),
            ("c".to_string(), 3.0),
        ]);
        assert_eq!(deltas(&b, &a), BTreeMap::from([("a".to_string(), 15.0)]));
    }
}
