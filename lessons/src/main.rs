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
use clap::{Args, Parser, Subcommand};
use kafka_course::exercises::harness::{self, Harness, Status};
use kafka_course::exercises::{self, watch};
use kafka_course::kit::{Narrator, Options, ProtocolChoice};
use kafka_course::{bench, out, outln, run_lesson, teacher, tr, tr_static, trn, LESSONS};

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

    /// Make the embedded cluster pose as a broker whose consumer groups
    /// never complete (no KIP-848, classic groups stuck), as one build of
    /// Tansu 0.6.0 does: lessons must stop in time there.
    #[arg(long, global = true, hide = true)]
    embedded_stuck_groups: bool,

    /// The language of everything the course prints: `en` or `fr`. Unset:
    /// the locale's (LC_ALL, LC_MESSAGES, LANG: fr_* gives French), else English.
    #[arg(long, global = true, env = "COURSE_LANG", value_enum)]
    lang: Option<kafka_course::i18n::Lang>,

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
        /// Also write the lesson's timeline to FILE, as JSON Lines: one
        /// event per line, everything it observed on the cluster (topics
        /// and their leaders, deliveries, assignments, reads, commits...).
        /// The schema is in MAINTAINING.md. Written even if the lesson fails.
        #[arg(long, value_name = "FILE")]
        events: Option<std::path::PathBuf>,
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
        /// Time the exercises' loop instead: from saving a file to its
        /// verdict, and a verdict when nothing changed.
        #[arg(long)]
        exercises: bool,
    },
    /// Check your solution of an exercise: `course exercise 4.2` (its file
    /// is exercises/ex4_2_*.rs); `4` means 4.1; `capstone` the capstone.
    Exercise {
        id: String,
        /// Start over: put back the exercise's original file (your edits are lost).
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// A hint for an exercise (`course hint 4.2`): a first nudge, then a
    /// stronger hint each time you ask again.
    Hint { id: String },
    /// Chapter N's quiz, the one at the end of its page: answer each
    /// question with its letter; each wrong answer is explained.
    Quiz { number: u32 },
    /// Send your results to your teacher's live class table: `course join
    /// URL --name NAME`, with the address on the teacher's screen. Each
    /// result is then sent as you get it: exercise, status, checks passed,
    /// hints seen, quiz scores. Never your code. (Or set COURSE_TEACHER=URL
    /// and COURSE_STUDENT=NAME.)
    Join {
        /// The class's address: http://ADDRESS:PORT/class/CODE.
        #[arg(required_unless_present = "leave")]
        url: Option<String>,
        /// Your name, as the teacher's table shows it.
        #[arg(long, required_unless_present = "leave")]
        name: Option<String>,
        /// Stop sending (forget the class).
        #[arg(long, conflicts_with_all = ["url", "name"])]
        leave: bool,
    },
    /// Is this machine ready for the course? Rust's version, a C compiler,
    /// make, disk space, crates downloaded, the course built (also
    /// `cargo run -p course-doctor`, which runs before the course can build).
    Doctor,
    /// Your progress: every exercise and its result.
    Exercises {
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Check the first exercise not solved, again at each save of its file,
    /// then the next one (like rustlings' watch mode). Keys: q quits.
    Watch {
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Delete the topics and groups the lessons created on the real cluster
    /// (KAFKA_BOOTSTRAP_SERVERS or --brokers), and nothing else; list them.
    Clean {
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Serve the book, both editions, at http://127.0.0.1:3000 (this
    /// machine only), with Run and Check buttons on its pages that run the
    /// lessons and check the exercises; builds the book first if needed.
    Serve {
        /// The port on 127.0.0.1.
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// The embedded 3-broker cluster alone, for your own programs and kcat,
    /// until Ctrl-C.
    ///
    /// Prints its address and commands to paste (lessons/examples/producer.rs
    /// and consumer.rs, kcat), with a topic `playground` ready. It listens
    /// on 127.0.0.1: this machine only. Always the embedded cluster:
    /// KAFKA_BOOTSTRAP_SERVERS and --brokers are not read.
    Cluster,
    /// For teachers: hand out a clean copy, check a class's copies.
    #[command(subcommand)]
    Teacher(TeacherCommand),
    /// For the course's authors: the exercises, from their table
    /// (exercises/exercises.toml).
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Subcommand)]
enum DevCommand {
    /// Check every invariant of the exercises: the table, each exercise's
    /// files, runner, title and hints (in English and French), the
    /// catalogues; every solution passes its checks, every starter fails
    /// them. Builds and runs every runner twice: a minute or so.
    Check,
    /// Write what the table decides: the runners' [[bin]]s in
    /// exercises/Cargo.toml, the checks' modules in
    /// lessons/src/exercises/mod.rs, a new exercise's file in exercises/.
    Update,
}

#[derive(Subcommand)]
enum TeacherCommand {
    /// Copy the course to DIR for a student: exercises unsolved, no solutions.
    Export {
        dir: std::path::PathBuf,
        /// Also copy every crate the course needs (`cargo vendor`) and the
        /// cargo configuration to use them: the class builds without network.
        #[arg(long)]
        offline: bool,
        /// Leave the built book out (it is built into the copy by default,
        /// both editions, so that students read it at once).
        #[arg(long)]
        without_book: bool,
    },
    /// The class's table, live: students who ran `course join` with the
    /// address this prints appear as their results come (verdicts only),
    /// in this terminal and in your browser.
    Live {
        /// Where to listen: this machine's address on the classroom's
        /// network (192.168.1.10 or 192.168.1.10:7979). By default
        /// 127.0.0.1: this machine only.
        #[arg(long, default_value = "127.0.0.1:7979")]
        listen: String,
        /// Allow listening on every network of this machine (0.0.0.0, ::).
        #[arg(long)]
        all_interfaces: bool,
        /// The class's one file (default: .course/class-live.json): kept
        /// across restarts, delete it to start a new class.
        #[arg(long, value_name = "FILE")]
        data: Option<std::path::PathBuf>,
    },
    /// Check students' copies with this copy's checks and print a class
    /// table: one row per student, one column per exercise.
    Check {
        /// Students' copies of the course, or folders that hold them.
        #[arg(required = true)]
        dirs: Vec<std::path::PathBuf>,
        /// Also write the class to FILE, as CSV: one line per student and
        /// exercise or quiz, with stable codes (solved, in_progress,
        /// not_started, does_not_compile, timed_out, crashed, missing),
        /// checks passed and total, hints, attempts and dates.
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
        /// The same CSV for spreadsheets set for French (Excel, LibreOffice):
        /// `;` between fields, UTF-8 with a byte-order mark.
        #[arg(long, value_name = "FILE")]
        csv_excel: Option<std::path::PathBuf>,
        /// How long one exercise's checks may take, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = harness::TIME_LIMIT.as_secs_f64())]
        time_limit: f64,
    },
}

/// Which exercise files to check, and for how long.
#[derive(Args)]
struct CheckArgs {
    /// Check the exercises of another copy of the course (a student's) with
    /// this copy's checks, instead of this copy's exercises/.
    #[arg(long, value_name = "DIR")]
    copy: Option<std::path::PathBuf>,
    /// How long one exercise's checks may take before they count as
    /// hanging, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = harness::TIME_LIMIT.as_secs_f64())]
    time_limit: f64,
}

impl CheckArgs {
    fn harness(&self) -> Result<Harness> {
        let mut harness = Harness::new(&teacher::root());
        if let Some(copy) = &self.copy {
            let dir = copy.join("exercises");
            anyhow::ensure!(
                dir.is_dir(),
                "{}",
                tr!(
                    "{} has no exercises/ folder: give the root of a copy of the course",
                    copy.display()
                )
            );
            harness = harness.with_exercises(&dir, &format!("{}/exercises", copy.display()));
        }
        harness.time_limit = harness::time_limit(self.time_limit)?;
        Ok(harness)
    }
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
