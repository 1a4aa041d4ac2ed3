//! The `kiln` binary: parse the command line, run the command, exit with its code.

fn main() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: kiln hit an internal error and stopped (exit 2); please report it: {}",
            kiln::secrets::redact(&info.to_string())
        );
        std::process::exit(kiln::cli::EXIT_ERROR);
    }));
    std::process::exit(kiln::cli::main());
}
