//! Shared by the test suites that walk the conformance vectors (core and CLI).

use std::path::{Path, PathBuf};

/// The vectors directory.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every vector file, sorted by path.
pub fn vector_files() -> Vec<PathBuf> {
    files_under(&vectors_dir(), "json")
}

/// Every file under `dir` (recursively) with extension `ext`, sorted by path.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(d: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let mut items: Vec<_> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        items.sort();
        for p in items {
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out
}
