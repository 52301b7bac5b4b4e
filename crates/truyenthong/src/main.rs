//! `truyenthong`: the command line for school staff. Everything is in the library.

fn main() -> std::process::ExitCode {
    truyenthong::run(std::env::args_os())
}
