//! Identity of what was benchmarked: a content hash of the binary (and of
//! the llama/ggml shared libraries beside it), the machine, and the
//! `LLAMA_ARG_*` environment that silently changes a binary's defaults.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::model::{BinaryInfo, MachineInfo};

fn hash_file_into(path: &Path, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    hash_file_into(path, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn is_llama_lib(name: &str) -> bool {
    let lib =
        name.starts_with("libllama") || name.starts_with("libggml") || name.starts_with("libmtmd");
    lib && (name.contains(".so") || name.ends_with(".dylib"))
}

/// Hash over the llama/ggml shared libraries in `dir` (names and contents).
fn libs_sha256(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_llama_lib(n))
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort();
    let mut h = Sha256::new();
    for name in names {
        h.update(name.as_bytes());
        hash_file_into(&dir.join(&name), &mut h).ok()?;
    }
    Some(hex::encode(h.finalize()))
}

pub fn binary_info(bin: &Path) -> std::io::Result<BinaryInfo> {
    let libs = bin.parent().and_then(libs_sha256);
    Ok(BinaryInfo {
        path: bin.display().to_string(),
        sha256: sha256_file(bin)?,
        libs_sha256: libs,
    })
}

pub fn machine_info() -> MachineInfo {
    use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    let cpu = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .filter(|s| !s.is_empty());
    MachineInfo {
        hostname: System::host_name(),
        os: System::long_os_version(),
        kernel: System::kernel_version(),
        arch: std::env::consts::ARCH.to_string(),
        cpu,
        cpu_logical_cores: sys.cpus().len(),
        cpu_physical_cores: System::physical_core_count(&sys),
        memory_total_bytes: sys.total_memory(),
    }
}

/// `LLAMA_ARG_*` variables in force: llama.cpp reads them as defaults for
/// its flags, so two runs with the same argv can differ by them.
pub fn llama_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| k.starts_with("LLAMA_ARG_"))
        .collect()
}

/// A time as RFC 3339 (`2026-01-31T12:00:00Z`), as every record stores it.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn libraries_change_the_build_identity() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("llama-completion");
        std::fs::write(&bin, b"exe").unwrap();
        assert_eq!(binary_info(&bin).unwrap().libs_sha256, None);
        std::fs::write(dir.path().join("libggml-cpu.so"), b"v1").unwrap();
        let a = binary_info(&bin).unwrap().libs_sha256.unwrap();
        std::fs::write(dir.path().join("libggml-cpu.so"), b"v2").unwrap();
        let b = binary_info(&bin).unwrap().libs_sha256.unwrap();
        assert_ne!(a, b);
    }
}
