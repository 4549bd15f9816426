//! The book's command-line quickstart (`tests/quickstart/quickstart.sh`, included in
//! `docs/src/quickstart/cli.md`) runs as written against the built binary and prints exactly
//! `tests/quickstart/quickstart.out`, which the book shows too. `PARTNERKIT_BLESS=1` rewrites
//! the expected output.

use std::path::Path;
use std::process::Command;

#[test]
fn quickstart_script_prints_what_the_book_shows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quickstart");
    // A scratch copy: the script writes report.json where it runs.
    let dir = std::env::temp_dir().join(format!("pk-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["quickstart.sh", "plan.json", "bad-plan.json", "input.json"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_partnerkit"));
    let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new("bash")
        .arg("quickstart.sh")
        .current_dir(&dir)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "quickstart.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = src.join("quickstart.out");
    if std::env::var_os("PARTNERKIT_BLESS").is_some() {
        std::fs::write(&expected, &stdout).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&expected).unwrap_or_default(),
        stdout,
        "quickstart.out is stale: run `PARTNERKIT_BLESS=1 cargo test -p partnerkit-cli --test quickstart`"
    );
}
