//! Plan parsing and validation on arbitrary bytes: an error or a plan, never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = partnerkit::Plan::from_json(text);
    let problems = partnerkit::Plan::validate_json(text);
    // The two entry points must agree on whether the plan is acceptable.
    assert_eq!(
        parsed.is_ok(),
        problems.is_empty(),
        "from_json and validate_json disagree"
    );
    for p in &problems {
        // Every problem must serialize as the stable error JSON.
        let _ = p.to_json();
    }
});
