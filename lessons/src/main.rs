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
//! cargo run --release -- watch        # check the exercise you edit at each save
//! cargo run --release -- serve        # the book at http://127.0.0.1:3000, with Run and Check
//! cargo run --release -- cluster      # the embedded cluster alone, for your own code, until Ctrl-C
//! cargo run --release -- teacher check ../class   # a class table
//! cargo run --release -- dev check    # authors: every invariant of the exercises
//! KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run --release -- lesson 1
//! KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run --release -- clean   # delete what the lessons left there
//! ```

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::FromArgMatches as _;
use kafka_course::cli::{self, Cli, Command, DevCommand, TeacherCommand};
use kafka_course::exercises::harness::{self, Harness, Status};
use kafka_course::exercises::{self, watch};
use kafka_course::kit::{Narrator, Options};
use kafka_course::{bench, out, outln, run_lesson, teacher, tr, tr_static, trn, LESSONS};

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
    // The language first: clap prints the help, in it, while it parses.
    kafka_course::i18n::set(kafka_course::i18n::choose(cli::lang_asked(
        std::env::args_os().skip(1),
    )));
    let cli = cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .unwrap_or_else(|e| cli::exit_on(e));
    kafka_course::i18n::set(kafka_course::i18n::choose(cli.lang));
    // One thread is enough for a lesson, and keeps its output in order.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e:#}", tr!("error:"));
            // A lesson that gave up on a group closes its consumers apart
            // (kit::closing): a quick close is over in a moment, and the
            // process does not wait for the others, whose coordinator does
            // not answer. It ends them, and says so.
            let left = kafka_course::kit::wait_closed(CLOSE_GRACE);
            if left > 0 {
                eprintln!(
                    "{}",
                    trn!(left;
                        "({left} consumer had not finished leaving its group: the group's coordinator did not answer. The course stops without waiting for it.)",
                        "({left} consumers had not finished leaving their groups: the groups' coordinators did not answer. The course stops without waiting for them.)"
                    )
                );
            }
            ExitCode::FAILURE
        }
    }
}

/// How long `course` gives consumers being closed apart to finish, once a
/// lesson has stopped: a close answered by the broker takes a round trip.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

async fn run(cli: Cli) -> Result<()> {
    let options = Options {
        brokers: cli.brokers.clone(),
        group_protocol: cli.group_protocol,
        embedded_without_kip848: cli.embedded_without_kip848,
        embedded_stuck_groups: cli.embedded_stuck_groups,
    };
    match cli.command {
        Command::Lesson {
            number,
            keep,
            events,
        } => {
            let mut out = Narrator::echoing();
            if let Some(file) = &events {
                // Each event is written as it happens: the timeline of what
                // ran stays even if the lesson stops early.
                let file = std::fs::File::create(file)
                    .with_context(|| tr!("writing the timeline to {}", file.display()))?;
                out = out.with_events_file(file);
            }
            let ctx = run_lesson(number, &options, out).await?;
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
                    l.title(),
                    l.number,
                    l.slug
                );
            }
            Ok(())
        }
        Command::Bench {
            runs,
            exercises: false,
        } => bench::run(runs).await,
        Command::Bench {
            runs,
            exercises: true,
        } => {
            let harness = Harness::new(&teacher::root());
            exercises::bench::run(&harness, runs)?;
            teacher::bench(&harness)
        }
        Command::Exercise { id, reset, check } => {
            let exercise = exercises::exercise(&id)?;
            if reset {
                anyhow::ensure!(
                    check.copy.is_none(),
                    "{}",
                    tr!("--reset puts back this copy's own file: it takes no --copy")
                );
                let path = exercises::reset(&teacher::root(), exercise)?;
                outln!(
                    "Exercise {} starts over: {} is back to its original state.",
                    exercise.id,
                    path.display()
                );
                return Ok(());
            }
            let harness = check.harness()?;
            let verdict = harness.check(&[exercise])?.remove(0);
            if check.copy.is_none() {
                harness.record(std::slice::from_ref(&verdict));
            }
            out!("{}", verdict.report);
            anyhow::ensure!(
                verdict.status == Status::Solved,
                "{}",
                tr!(
                    "exercise {}: {}",
                    exercise.id,
                    match verdict.status {
                        Status::NotYet => tr_static!("not solved yet"),
                        other => other.label(),
                    }
                )
            );
            Ok(())
        }
        Command::Hint { id } => {
            let exercise = exercises::exercise(&id)?;
            let hints = exercise.hints();
            // One more each time: the nudge first, then stronger ones. The
            // copy's record counts them (the teacher's table shows it).
            let shown = kafka_course::record::update(|r| r.next_hint(exercise.id, hints.len()));
            outln!("{}", exercises::hints_text(exercise, shown));
            Ok(())
        }
        Command::Exercises { check } => {
            let harness = check.harness()?;
            let verdicts = harness.check(&harness::all())?;
            if check.copy.is_none() {
                harness.record(&verdicts);
            }
            out!("{}", harness::table(&verdicts));
            Ok(())
        }
        Command::Doctor => {
            let machine = course_doctor::Machine::here(&teacher::root());
            let (report, ready) = course_doctor::report(&course_doctor::check(&machine));
            out!("{report}");
            anyhow::ensure!(ready, "{}", tr!("this machine cannot build the course yet"));
            Ok(())
        }
        Command::Clean { dry_run } => {
            kafka_course::clean::run(options.brokers.as_deref(), dry_run).await
        }
        Command::Quiz { number } => {
            let stdin = std::io::stdin();
            match kafka_course::quiz::run(number, &mut stdin.lock(), &mut std::io::stdout()) {
                // The reader went away (`course quiz 1 | head`): stop
                // quietly, as the lessons do.
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
                {
                    Ok(())
                }
                other => other,
            }
        }
        Command::Cluster => kafka_course::playground::run().await,
        Command::Watch { check } => watch::run(&check.harness()?),
        Command::Serve { port } => kafka_course::serve::run(port, &options),
        Command::Teacher(TeacherCommand::Export {
            dir,
            offline,
            without_book,
        }) => teacher::export(&dir, offline, !without_book),
        Command::Join { url, name, leave } => match (leave, url, name) {
            (true, ..) => kafka_course::class::leave(),
            (false, Some(url), Some(name)) => kafka_course::class::join(&url, &name),
            _ => unreachable!("clap requires a URL and a name"),
        },
        Command::Teacher(TeacherCommand::Live {
            listen,
            all_interfaces,
            data,
        }) => kafka_course::class::live(&listen, all_interfaces, data),
        Command::Teacher(TeacherCommand::Check {
            dirs,
            csv,
            csv_excel,
            time_limit,
        }) => teacher::check_class(
            &dirs,
            teacher::Outputs {
                csv: csv.as_deref(),
                excel: csv_excel.as_deref(),
            },
            harness::time_limit(time_limit)?,
        ),
        Command::Dev(DevCommand::Check) => exercises::dev::check_command(&teacher::root()),
        Command::Dev(DevCommand::Update) => exercises::dev::update_command(&teacher::root()),
    }
}
