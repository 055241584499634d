//! `kikeru`: parse the command line, run, and turn failures into a message and an exit code.

use std::process::ExitCode;

use clap::Parser;
use kikeru_server::{Cli, config::ConfigError, mail::Exit, run};

/// `EX_CONFIG` from sysexits: a configuration error.
const EX_CONFIG: u8 = 78;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "the process's last word")]
            {
                eprintln!("kikeru: {e:#}");
            }
            if let Some(exit) = e.downcast_ref::<Exit>() {
                ExitCode::from(exit.code)
            } else if e.is::<ConfigError>() {
                ExitCode::from(EX_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
