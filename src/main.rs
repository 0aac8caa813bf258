//! The `microsim` binary: parse the command line, call the library, map
//! errors to exit codes (0 ok, 1 the run failed, 2 bad input or usage).

use clap::Parser;

fn main() {
    let cli = microsim::cli::Cli::parse();
    if let Err(e) = microsim::cli::main(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
