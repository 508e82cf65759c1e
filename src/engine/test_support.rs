//! Cells and recordings for the tests of the engine and of the commands.

use std::path::{Path, PathBuf};

use super::Cell;
use crate::driver::for_probe;
use crate::driver::probe::{Flags, ToolKind};

pub fn fixture(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A stand-in binary file (the engine hashes it; nothing runs it).
pub fn bin(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, name).unwrap();
    p
}

pub fn cell(bin: PathBuf, kind: ToolKind, processes: Vec<bool>) -> Cell {
    let probe = crate::driver::test_support::probe(kind, Flags::default());
    Cell {
        label: "test".into(),
        bin,
        argv: vec!["-m".into(), "/m.gguf".into()],
        driver: for_probe(&probe),
        probe,
        model: Default::default(),
        side: None,
        sweep_cell: None,
        offload_to: None,
        notes: Vec::new(),
        processes,
    }
}
