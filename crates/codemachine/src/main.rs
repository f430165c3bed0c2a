//! The `codemachine` binary: parses the command line and hands over to one command.

mod cli;
mod commands;
mod settings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    commands::run(cli.command)
}
