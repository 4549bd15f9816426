//! `uniffi-bindgen`: generates the Swift and Kotlin sources of `partnerkit-ffi` from its
//! compiled library (see `bindings-swift/generate.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
