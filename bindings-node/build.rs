//! Link setup for a Node addon (napi-build handles the platform's undefined-symbol rules).

fn main() {
    napi_build::setup();
}
