//! Replays the inputs the fuzzer kept (`fuzz/regressions/`, a minimised
//! corpus plus every input that once crashed kiln) through the same harness
//! as the fuzz target: loading, parsing and compiling must never panic.

#[path = "../../fuzz/harness.rs"]
mod harness;

#[test]
fn kept_fuzz_inputs_do_not_panic() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut inputs: Vec<_> = std::fs::read_dir(&corpus)
        .expect("fuzz/regressions exists")
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "the kept corpus is missing");
    let dir = tempfile::tempdir().unwrap();
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| harness::run(&data, &dir.path().join("p")));
        assert!(outcome.is_ok(), "{} panicked", input.display());
    }
}
