//! The `bouncelog` binary: parse the command line, run, map the outcome to an
//! exit status (0 ok, 2 error; a closed pipe is not an error).

use std::process::ExitCode;

fn main() -> ExitCode {
    bouncelog::cli::main()
}
