//! `course`: the command line of the book "Learn Apache Kafka with Rust".
//!
//! ```text
//! cargo run --release -- lesson 1     # run lesson 1 on the embedded cluster
//! cargo run --release -- lessons      # run them all
//! cargo run --release -- list         # what the lessons are
//! cargo run --release -- bench        # time each lesson against a floor
//! cargo run --release -- exercise 1   # check your solution of exercise 1
//! cargo run --release -- hint 1       # a hint for exercise 1
//! cargo run --release -- exercises    # which exercises pass
//! cargo run --release -- teacher check ../student-copy   # a student's summary
//! KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run --release -- lesson 1
//! KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run --release -- clean   # delete what the lessons left there
//! ```

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use kafka_course::exercises::{self, Variant, EXERCISES};
use kafka_course::kit::{Narrator, Options, ProtocolChoice};
use kafka_course::{bench, out, outln, run_lesson, teacher, LESSONS};

#[derive(Parser)]
#[command(
    name = "course",
    about = "Learn Apache Kafka with Rust: run the book's lessons"
)]
struct Cli {
    /// Kafka cluster to use (host:port,...). Unset: an embedded 3-broker
    /// cluster starts inside the process, nothing to install.
    #[arg(long, global = true, env = "KAFKA_BOOTSTRAP_SERVERS")]
    brokers: Option<String>,

    /// The consumer-group protocol: `consumer` (KIP-848, Kafka 4.0+),
    /// `classic` (every Kafka), or `auto`: consumer where every broker
    /// offers it, else classic.
    #[arg(
        long,
        global = true,
        env = "KAFKA_GROUP_PROTOCOL",
        value_enum,
        default_value_t
    )]
    group_protocol: ProtocolChoice,

    /// Make the embedded cluster pose as one without the KIP-848 group
    /// protocol, as a Kafka 3.x cluster would be.
    #[arg(long, global = true, hide = true)]
    embedded_without_kip848: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one lesson: `course lesson 1`.
    Lesson {
        /// The lesson's number, the same as its chapter's.
        number: u32,
        /// Keep the embedded cluster up after the lesson, to explore its
        /// topics with other Kafka tools (kcat...), until Ctrl-C.
        #[arg(long)]
        keep: bool,
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
    /// Check your solution of exercise N (in exercises/exN_*.rs).
    Exercise {
        number: u32,
        /// Start over: put back the exercise's original file (your edits are lost).
        #[arg(long)]
        reset: bool,
    },
    /// A hint for exercise N.
    Hint { number: u32 },
    /// Your progress: which exercises pass.
    Exercises,
    /// Delete the topics and groups the lessons created on the real cluster
    /// (KAFKA_BOOTSTRAP_SERVERS or --brokers), and nothing else; list them.
    Clean {
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// For teachers: hand out a clean copy, check a student's copy.
    #[command(subcommand)]
    Teacher(TeacherCommand),
}

#[derive(Subcommand)]
enum TeacherCommand {
    /// Copy the course to DIR for a student: exercises unsolved, no solutions.
    Export { dir: std::path::PathBuf },
    /// Check the exercises of the student's copy at DIR with this copy's
    /// checks, and print a summary table.
    Check { dir: std::path::PathBuf },
}

/// librdkafka's log, on standard error, when `KAFKA_DEBUG` asks for it
/// (`KAFKA_DEBUG=cgrp course lesson 4`: what the consumer groups do).
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("librdkafka")
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}", record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    if std::env::var_os("KAFKA_DEBUG").is_some() {
        let _ = log::set_logger(&StderrLog);
        log::set_max_level(log::LevelFilter::Trace);
    }
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
    let options = Options {
        brokers: cli.brokers.clone(),
        group_protocol: cli.group_protocol,
        embedded_without_kip848: cli.embedded_without_kip848,
    };
    match cli.command {
        Command::Lesson { number, keep } => {
            let ctx = run_lesson(number, &options, Narrator::echoing()).await?;
            if keep {
                kafka_course::keep::hold(&ctx).await?;
            }
            Ok(())
        }
        Command::Lessons => {
            for lesson in LESSONS {
                run_lesson(lesson.number, &options, Narrator::echoing()).await?;
                outln!();
            }
            Ok(())
        }
        Command::List => {
            for l in LESSONS {
                outln!(
                    "{}  {:<45} (just lesson-{}, book chapter {})",
                    l.number,
                    l.title,
                    l.number,
                    l.slug
                );
            }
            Ok(())
        }
        Command::Bench { runs } => bench::run(runs).await,
        Command::Exercise { number, reset } => {
            let exercise = exercises::exercise(number)?;
            if reset {
                return reset_exercise(exercise);
            }
            exercises::quiet_panics();
            let outcome = exercises::run(exercise, Variant::Student).await;
            out!("{}", exercises::report(exercise, &outcome));
            anyhow::ensure!(outcome.passed(), "exercise {number} is not solved yet");
            Ok(())
        }
        Command::Hint { number } => {
            let exercise = exercises::exercise(number)?;
            outln!(
                "Hint for exercise {}: {}

{}",
                exercise.number,
                exercise.title,
                exercise.hint
            );
            Ok(())
        }
        Command::Exercises => {
            exercises::quiet_panics();
            let mut rows = Vec::new();
            for e in EXERCISES {
                rows.push((e, exercises::run(e, Variant::Student).await));
            }
            out!("{}", exercises::table(&rows));
            Ok(())
        }
        Command::Clean { dry_run } => {
            kafka_course::clean::run(options.brokers.as_deref(), dry_run).await
        }
        Command::Teacher(TeacherCommand::Export { dir }) => teacher::export(&dir),
        Command::Teacher(TeacherCommand::Check { dir }) => teacher::check(&dir),
    }
}

#[cfg(has_solutions)]
fn reset_exercise(exercise: &exercises::Exercise) -> Result<()> {
    let path = exercises::reset(exercise)?;
    outln!(
        "Exercise {} starts over: {} is back to its original state.",
        exercise.number,
        path.display()
    );
    Ok(())
}

#[cfg(not(has_solutions))]
fn reset_exercise(exercise: &exercises::Exercise) -> Result<()> {
    anyhow::bail!(
        "this copy has no exercise sources to reset exercise {} from: ask your teacher for a fresh exercises/{}.rs",
        exercise.number,
        exercise.slug
    )
}
