//! Test helpers shared by the parser, sampler and serve tests: the project's own
//! fixtures under `fixtures/`, read at run time by path.
//!
//! Public samples from other people's repositories are not copied into the
//! project; their checks are the shared-samples suite
//! (`tests/shared_samples/`), which runs only where `../shared` exists.

/// `fixtures/<rel>` of this crate.
pub(crate) fn read_fixture(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture '{}': {e}", path.display()))
}
