//! The `codemachine` binary: parses the command line and hands over to one command.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod duration;
mod output;
mod settings;
mod usage;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

fn main() -> ExitCode {
    let started = Instant::now();
    match cli::Cli::try_parse() {
        Ok(cli) => {
            let settings = settings::resolve(cli.global.flags());
            output::init(&settings);
            commands::run(cli.command, &settings)
        }
        Err(err) => {
            let settings = settings::resolve(Default::default());
            output::init(&settings);
            usage::report(&err, &settings, started)
        }
    }
}
