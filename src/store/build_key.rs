//! The identity of a build as the history stores it (`builds`): a tokbench
//! run's binary (path, hashes, version), or, for an imported llama-bench
//! result that has no binary, what llama-bench printed (commit, build number,
//! backends, device and a hash of the configuration columns). Both the
//! history writer and the importer key builds through here.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{BenchTest, RunRecord};

/// Identity of a build as stored in `builds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildKey {
    pub source: String,
    pub binary_path: Option<String>,
    pub binary_sha256: Option<String>,
    pub libs_sha256: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub build_number: Option<u64>,
    pub backend: Option<String>,
    /// llama-bench's gpu_info, else cpu_info (imports only).
    pub device: Option<String>,
    /// Hash of llama-bench's non-test configuration columns (imports only).
    pub config_sha256: Option<String>,
}

impl BuildKey {
    /// The identity of a run's build. Imported records carry theirs in
    /// `import_key`; tokbench's own runs are identified by their binary.
    pub fn of(r: &RunRecord) -> BuildKey {
        if let Some(k) = import_key(r) {
            return k;
        }
        BuildKey {
            source: "tokbench".to_string(),
            binary_path: Some(r.binary.path.clone()),
            binary_sha256: Some(r.binary.sha256.clone()),
            libs_sha256: r.binary.libs_sha256.clone(),
            version: r.build.version.clone(),
            commit: r.build.commit.clone(),
            build_number: r.build.build_number,
            backend: r.build.backend.clone(),
            device: None,
            config_sha256: None,
        }
    }

    pub fn digest(&self) -> String {
        sha256_json(self)
    }
}

/// Columns that describe the test or its result, or that are part of the
/// build/model identity in their own right: left out of the config hash.
const NOT_CONFIG: [&str; 14] = [
    "cpu_info",
    "gpu_info",
    "model_filename",
    "test_time",
    "stddev_ns",
    "test_printed",
    // markdown spellings of identity and result columns
    "model",
    "size",
    "params",
    "backend",
    "test",
    "t/s",
    "build_commit",
    "build_number",
];

/// The build identity of an imported llama-bench record (no binary hash),
/// None for records tokbench measured itself.
pub fn import_key(r: &RunRecord) -> Option<BuildKey> {
    if !r.binary.sha256.is_empty() {
        return None;
    }
    let t = r.bench.first()?;
    Some(test_key(t))
}

pub(super) fn text(t: &BenchTest, k: &str) -> Option<String> {
    match t.extra.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::String(_) | Value::Null => None,
        v => Some(v.to_string()),
    }
}

/// A config value as text, the same whichever format printed it: the csv
/// and sql outputs print `0` and `"2048"` where json prints `false` and `2048`.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::String(if *b { "1" } else { "0" }.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

pub(super) fn test_key(t: &BenchTest) -> BuildKey {
    let mut config: Map<String, Value> = t
        .extra
        .iter()
        .filter(|(k, _)| !NOT_CONFIG.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), canonical(v)))
        .collect();
    config.insert("n_gpu_layers".into(), canonical(&t.n_gpu_layers.into()));
    config.insert("n_threads".into(), canonical(&t.n_threads.into()));
    let config_sha = hex::encode(Sha256::digest(
        serde_json::to_vec(&config).unwrap_or_default(),
    ));
    BuildKey {
        source: "llama-bench".to_string(),
        commit: t.build_commit.clone(),
        build_number: t.build_number,
        backend: t.backends.clone(),
        device: text(t, "gpu_info").or_else(|| text(t, "cpu_info")),
        config_sha256: Some(config_sha),
        ..BuildKey::default()
    }
}

pub(super) fn sha256_json<T: Serialize>(v: &T) -> String {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}
