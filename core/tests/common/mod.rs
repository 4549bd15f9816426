//! Shared by the test suites that walk the conformance vectors (core and CLI).

use std::path::{Path, PathBuf};

/// The vectors directory.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every vector file, sorted by path.
pub fn vector_files() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let mut items: Vec<_> = std::fs::read_dir(d)
            .expect("vectors dir")
            .map(|e| e.expect("entry").path())
            .collect();
        items.sort();
        for p in items {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&vectors_dir(), &mut out);
    out
}
