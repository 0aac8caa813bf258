//! The `microsim` binary: parse the command line, call the library, map
//! errors to exit codes (0 ok, 1 the run failed, 2 bad input or usage, 130
//! interrupted by Ctrl-C).

use clap::Parser;

fn main() {
    let cli = microsim::cli::Cli::parse();
    if let Err(e) = microsim::cli::main(cli) {
        match e {
            // Not an error: the user asked to stop.
            microsim::cli::CliError::Interrupted(_) => eprintln!("{e}"),
            _ => eprintln!("error: {e}"),
        }
        std::process::exit(e.exit_code());
    }
}
