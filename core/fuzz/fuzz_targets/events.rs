//! Event decoding on arbitrary JSON values: a decoded event or a coded error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match &value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let _ = partnerkit::input::event_from_value(item, &format!("events[{i}]"));
            }
        }
        other => {
            let _ = partnerkit::input::event_from_value(other, "event");
        }
    }
});
