//! The `kiln` binary: parse the command line, run the command, exit with its code.

fn main() {
    // A panic is a bug: say so, with its message. The hook only reports;
    // a panic inside one node is caught by the executor and becomes that
    // node's error (the run goes on and writes its results), and one
    // anywhere else ends here with exit 2.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: kiln hit an internal error; please report it: {}",
            kiln::secrets::redact(&info.to_string())
        );
    }));
    let code = std::panic::catch_unwind(kiln::cli::main).unwrap_or(kiln::cli::EXIT_ERROR);
    std::process::exit(code);
}
