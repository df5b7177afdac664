//! The `capm` binary: parse arguments, run, and turn the outcome into an exit code.

/// jemalloc: lint and resolution allocate many small values on several threads at once,
/// where the system allocator spends its time on arena locks and consolidation.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    capm::cli::main()
}
