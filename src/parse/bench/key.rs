//! The key of a llama-bench result: its test name (`pp512`, `tg128`,
//! `pp512+tg128`, `tg64 @ d512`) plus the parameters that vary within the
//! invocation (more than one value among its rows), spelled with
//! llama-bench's short flag names and the values as its output prints them:
//! `tg128 fa=1`, `pp512 @ d4096 t=8`, `tg128 ngl=99`.
//!
//! One invocation of `-fa 0,1` prints two `pp512` rows and two `tg128` rows;
//! without the varying part they would collapse into one name in every
//! table, file and comparison. Parameters that are the same in every row stay
//! out of the key (they are kept in the result's fields), so `-fa 1` alone
//! gives `tg128`, as llama-bench's own table would name it.

use serde_json::Value;

use crate::model::BenchTest;

/// llama-bench's parameter fields, in the order its JSON prints them, with
/// its short flag name. Markdown column names that differ from the JSON
/// names (`fa`, `dev`, `mmap`, ...) are listed too, so a key reads the same
/// whichever format the result came in.
const FLAGS: [(&str, &str); 40] = [
    ("model_filename", "m"),
    ("n_batch", "b"),
    ("n_ubatch", "ub"),
    ("n_threads", "t"),
    ("cpu_mask", "C"),
    ("cpu_strict", "cpu-strict"),
    ("poll", "poll"),
    ("type_k", "ctk"),
    ("type_v", "ctv"),
    ("n_gpu_layers", "ngl"),
    ("n_cpu_moe", "ncmoe"),
    ("split_mode", "sm"),
    ("main_gpu", "mg"),
    ("no_kv_offload", "nkvo"),
    ("flash_attn", "fa"),
    ("devices", "dev"),
    ("tensor_split", "ts"),
    ("tensor_buft_overrides", "ot"),
    ("load_mode", "lm"),
    ("lazy_mode", "lzm"),
    ("use_mmap", "mmp"),
    ("use_direct_io", "dio"),
    ("embeddings", "embd"),
    ("no_op_offload", "nopo"),
    ("no_host", "no-host"),
    ("repack", "repack"),
    ("fit_target", "fitt"),
    ("fit_min_ctx", "fitc"),
    ("prio", "prio"),
    // Markdown column names (llama-bench's table header).
    ("fa", "fa"),
    ("dev", "dev"),
    ("mmap", "mmp"),
    ("dio", "dio"),
    ("embd", "embd"),
    ("nkvo", "nkvo"),
    ("nopo", "nopo"),
    ("sm", "sm"),
    ("mg", "mg"),
    ("ot", "ot"),
    ("ncmoe", "ncmoe"),
];

/// Fields that describe or measure a test rather than configure it: never
/// part of a key (the test name already carries prompt, generation, depth).
const NOT_PARAMETERS: [&str; 22] = [
    "build_commit",
    "build_number",
    "cpu_info",
    "gpu_info",
    "backends",
    "backend",
    "model_type",
    "model_size",
    "model_n_params",
    "model_size_printed",
    "model_n_params_printed",
    "test_printed",
    "n_prompt",
    "n_gen",
    "n_depth",
    "test_time",
    "avg_ns",
    "stddev_ns",
    "avg_ts",
    "stddev_ts",
    "samples_ts",
    "samples_ns",
];

/// llama-bench's short flag for a field (`flash_attn` -> `fa`); a field it
/// has no flag for keeps its own name.
pub fn short_flag(field: &str) -> &str {
    FLAGS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(field, |(_, s)| s)
}

/// A field's value as llama-bench printed it: strings bare, the rest as JSON.
fn printed(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every parameter of a test by field name, with its printed value, in
/// llama-bench's field order (then any field tokbench does not know).
pub fn parameters(t: &BenchTest) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let typed = [
        ("n_threads", t.n_threads.map(Value::from)),
        ("n_gpu_layers", t.n_gpu_layers.map(Value::from)),
    ];
    let lookup = |name: &str| {
        typed
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
            .or_else(|| t.extra.get(name).cloned())
    };
    for (field, _) in FLAGS {
        if let Some(v) = lookup(field) {
            out.push((field.to_string(), printed(&v)));
        }
    }
    for (k, v) in &t.extra {
        let known = FLAGS.iter().any(|(f, _)| f == k) || NOT_PARAMETERS.contains(&k.as_str());
        if !known {
            out.push((k.clone(), printed(v)));
        }
    }
    out
}

/// The key of each test of one invocation, in order: its name plus
/// ` flag=value` for every parameter with more than one value among `tests`.
pub fn keys(tests: &[BenchTest]) -> Vec<String> {
    let params: Vec<Vec<(String, String)>> = tests.iter().map(parameters).collect();
    let mut varying: Vec<&str> = Vec::new();
    for p in &params {
        for (field, _) in p {
            if varying.contains(&field.as_str()) {
                continue;
            }
            let value_of = |q: &Vec<(String, String)>| {
                q.iter().find(|(f, _)| f == field).map(|(_, v)| v.clone())
            };
            let first = value_of(&params[0]);
            if params.iter().any(|q| value_of(q) != first) {
                varying.push(field.as_str());
            }
        }
    }
    tests
        .iter()
        .zip(&params)
        .map(|(t, p)| {
            let mut key = t.test.clone();
            for (field, value) in p.iter().filter(|(f, _)| varying.contains(&f.as_str())) {
                key.push_str(&format!(" {}={value}", short_flag(field)));
            }
            key
        })
        .collect()
}

/// Whether `name` has the shape of a key: a test name (`pp512`,
/// `tg64 @ d512`, `pp512+tg128`) then any number of ` flag=value`.
pub fn is_key(name: &str) -> bool {
    let words: Vec<&str> = name.split(' ').collect();
    let params = words.iter().rev().take_while(|w| w.contains('=')).count();
    let test = words[..words.len() - params].join(" ");
    let flags_ok = words[words.len() - params..]
        .iter()
        .all(|w| w.split_once('=').is_some_and(|(f, _)| !f.is_empty()));
    flags_ok && super::TEST_NAME.is_match(&test)
}

/// Sets the key of every test of one invocation (see [`keys`]).
pub fn assign(tests: &mut [BenchTest]) {
    let keys = keys(tests);
    for (t, k) in tests.iter_mut().zip(keys) {
        t.key = k;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn keys_of(text: &str) -> Vec<String> {
        parse(text).tests.iter().map(|t| t.key.clone()).collect()
    }

    #[test]
    fn fa_grid_rows_get_fa_in_their_keys() {
        assert_eq!(
            keys_of(FA_GRID_MD),
            ["pp512 fa=0", "tg128 fa=0", "pp512 fa=1", "tg128 fa=1"]
        );
        assert_eq!(
            keys_of(FA_GRID_JSONL),
            ["pp512 fa=0", "tg128 fa=0", "pp512 fa=1", "tg128 fa=1"]
        );
    }

    #[test]
    fn parameters_the_same_in_every_row_stay_out_of_the_key() {
        assert_eq!(keys_of(CPU_JSON), ["pp32", "tg8"]);
        assert_eq!(keys_of(CPU_MD), ["pp32", "tg8"]);
        assert_eq!(
            keys_of(SYN_MD),
            ["pp512 @ d512", "tg128 @ d512", "pp512+tg128", "tg128"]
        );
    }

    #[test]
    fn threads_depth_and_ngl_grids_use_short_flags() {
        assert_eq!(
            keys_of(CUDA_SQL),
            ["pp64 ngl=99", "tg16 ngl=99", "pp64 ngl=0", "tg16 ngl=0"]
        );
        let mut tests = parse(CPU_JSON).tests;
        tests[1].n_threads = Some(8);
        tests[1].n_depth = 4096;
        tests[1].test = "pp512 @ d4096".into();
        assert_eq!(keys(&tests), ["pp32 t=2", "pp512 @ d4096 t=8"]);
    }

    #[test]
    fn key_shapes() {
        for k in [
            "tg128",
            "tg64 @ d512",
            "pp512 @ d4096 t=8",
            "pp512+tg128 fa=1 ngl=99",
        ] {
            assert!(is_key(k), "{k}");
        }
        for k in [
            "",
            "eval_tps",
            "tg",
            "tg128 fa",
            "tg128 =1",
            "fa=1",
            "tg128  fa=1",
            "evl_tps",
        ] {
            assert!(!is_key(k), "{k}");
        }
    }

    #[test]
    fn unknown_fields_that_vary_keep_their_own_name() {
        let mut tests = parse(CPU_JSON).tests;
        tests[0].extra.insert("new_knob".into(), Value::from(3));
        assert_eq!(keys(&tests), ["pp32 new_knob=3", "tg8"]);
        assert_eq!(short_flag("flash_attn"), "fa");
        assert_eq!(short_flag("new_knob"), "new_knob");
    }
}
