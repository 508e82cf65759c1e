//! Test helpers shared by the parser tests: where the public samples live.
//!
//! Samples from other people's repositories are not copied into the project;
//! tests read them from the shared directory beside the crate (CI puts it
//! there). A missing directory fails the test loudly instead of skipping.

/// `$TOKBENCH_SHARED_DIR/samples/public`, by default `../shared/samples/public`
/// beside the crate (where CI puts it). Missing means failure, not a skip.
pub(crate) fn public_dir() -> std::path::PathBuf {
    samples_dir("public")
}

/// `$TOKBENCH_SHARED_DIR/samples/NAME` (by default beside the crate); missing means failure.
pub(crate) fn samples_dir(name: &str) -> std::path::PathBuf {
    let shared = std::env::var_os("TOKBENCH_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("samples").join(name);
    assert!(
        dir.is_dir(),
        "samples directory '{}' is missing: put the shared samples beside the crate \
         or set TOKBENCH_SHARED_DIR to the shared directory",
        dir.display()
    );
    dir
}

pub(crate) fn read_public(name: &str) -> String {
    let dir = public_dir();
    let path = dir.join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read '{}': {e}", path.display()))
}
