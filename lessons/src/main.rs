//! `course`: the command line of the book "Learn Apache Kafka with Rust".
//!
//! ```text
//! cargo run --release -- lesson 1     # run lesson 1 on the embedded cluster
//! cargo run --release -- lessons      # run them all
//! cargo run --release -- list         # what the lessons are
//! cargo run --release -- bench        # time each lesson against a floor
//! KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run --release -- lesson 1
//! ```

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use kafka_course::kit::Narrator;
use kafka_course::{bench, run_lesson, LESSONS};

#[derive(Parser)]
#[command(name = "course", about = "Learn Apache Kafka with Rust: run the book's lessons")]
struct Cli {
    /// Kafka cluster to use (host:port,...). Unset: an embedded 3-broker
    /// cluster starts inside the process, nothing to install.
    #[arg(long, global = true, env = "KAFKA_BOOTSTRAP_SERVERS")]
    brokers: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one lesson: `course lesson 1`.
    Lesson {
        /// The lesson's number, the same as its chapter's.
        number: u32,
    },
    /// Run every lesson, in order.
    Lessons,
    /// List the lessons.
    List,
    /// Time each lesson on the embedded cluster against a measured floor.
    Bench {
        /// Runs per lesson; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread is enough for a lesson, and keeps its output in order.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let brokers = cli.brokers.as_deref();
    match cli.command {
        Command::Lesson { number } => run_lesson(number, brokers, Narrator::echoing()).await,
        Command::Lessons => {
            for lesson in LESSONS {
                run_lesson(lesson.number, brokers, Narrator::echoing()).await?;
                println!();
            }
            Ok(())
        }
        Command::List => {
            for l in LESSONS {
                println!("{}  {:<45} (just lesson-{}, book chapter {})", l.number, l.title, l.number, l.slug);
            }
            Ok(())
        }
        Command::Bench { runs } => bench::run(runs).await,
    }
}
