//! The `capm` binary: parse arguments, run, and turn the outcome into an exit code.

fn main() -> std::process::ExitCode {
    capm::cli::main()
}
