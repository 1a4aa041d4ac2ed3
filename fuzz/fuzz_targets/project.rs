//! cargo fuzz target: random project files through load, parse and compile.
#![no_main]

#[path = "../harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("kiln-fuzz-{}", std::process::id()));
    harness::run(data, &dir);
});
