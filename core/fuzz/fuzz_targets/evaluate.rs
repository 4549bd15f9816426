//! Whole documents through `evaluate`: a report or a coded error, never a panic or hang; and a
//! report that is produced is conserved (statements never pay more than was earned).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match partnerkit::evaluate_json(text) {
        Ok(report) => {
            // Canonical output must always be writable and must parse back as JSON.
            let json = report.to_canonical_json();
            assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        }
        Err(e) => {
            assert!(!e.code().as_str().is_empty());
        }
    }
});
