//! `course`'s command line: its commands, arguments and help, read by
//! clap from the doc comments below. In the library rather than in
//! main.rs so that the French catalogue can list every help text
//! (`cargo run --example i18n -- update`) and [`command`] can show them in
//! French (`course --lang fr --help`).

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::exercises::harness::{self, Harness};
use crate::kit::ProtocolChoice;
use crate::{teacher, tr, trn};

#[derive(Parser)]
#[command(
    name = "course",
    about = "Learn Apache Kafka with Rust: run the book's lessons"
)]
pub struct Cli {
    /// Kafka cluster to use (host:port,...). Unset: an embedded 3-broker
    /// cluster starts inside the process, nothing to install.
    #[arg(long, global = true, env = "KAFKA_BOOTSTRAP_SERVERS")]
    pub brokers: Option<String>,

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
    pub group_protocol: ProtocolChoice,

    /// Make the embedded cluster pose as one without the KIP-848 group
    /// protocol, as a Kafka 3.x cluster would be.
    #[arg(long, global = true, hide = true)]
    pub embedded_without_kip848: bool,

    /// Make the embedded cluster pose as a broker whose consumer groups
    /// never complete (no KIP-848, classic groups stuck), as one build of
    /// Tansu 0.6.0 does: lessons must stop in time there.
    #[arg(long, global = true, hide = true)]
    pub embedded_stuck_groups: bool,

    /// The language of everything the course prints: `en` or `fr`. Unset:
    /// the locale's (LC_ALL, LC_MESSAGES, LANG: fr_* gives French), else English.
    #[arg(long, global = true, env = "COURSE_LANG", value_enum)]
    pub lang: Option<crate::i18n::Lang>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
pub enum DevCommand {
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
pub enum TeacherCommand {
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
pub struct CheckArgs {
    /// Check the exercises of another copy of the course (a student's) with
    /// this copy's checks, instead of this copy's exercises/.
    #[arg(long, value_name = "DIR")]
    pub copy: Option<std::path::PathBuf>,
    /// How long one exercise's checks may take before they count as
    /// hanging, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = harness::TIME_LIMIT.as_secs_f64())]
    pub time_limit: f64,
}

impl CheckArgs {
    pub fn harness(&self) -> Result<Harness> {
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

/// Where the help texts are in the French catalogue (lessons/po/fr.po):
/// their entries' reference. `cargo run --example i18n -- update` lists
/// them there from [`help_texts`].
pub const HELP_TEXTS_PLACE: &str = "lessons/src/cli.rs#help";

/// The command line as clap reads it, its help in the reader's language:
/// in French, every help text the catalogue translates, clap's own ones
/// ("Print help") included, the headings, and what clap adds after an
/// option (`[default: ...]`, `[env: ...]`, its possible values). Its usage
/// errors are [`exit_on`]'s.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    let mut command = Cli::command();
    if !crate::i18n::french() {
        return command;
    }
    // Building makes clap's own parts (the -h flags, the help command), so
    // that they are translated too.
    command.build();
    in_french(command)
}

/// `command`'s help texts in French, and those of its subcommands.
fn in_french(command: clap::Command) -> clap::Command {
    // The texts of HELP_TEXTS_PLACE (a macro needs the literal).
    let french = kafka_course_macros::tr_lookup!("lessons/src/cli.rs#help");
    let text = |s: Option<&clap::builder::StyledStr>| s.map(|s| s.to_string());
    let mut command = command
        .help_template(
            // clap's default template, with the heading from the catalogue.
            "{before-help}{about-with-newline}\n".to_string()
                + &tr!("Usage:")
                + " {usage}\n\n{all-args}{after-help}",
        )
        .subcommand_help_heading("Commandes\u{a0}");
    if let Some(fr) = text(command.get_about()).and_then(|t| french(&t)) {
        command = command.about(fr);
    }
    if let Some(fr) = text(command.get_long_about()).and_then(|t| french(&t)) {
        command = command.long_about(fr);
    }
    command
        .mut_args(|mut arg| {
            // The headings, as French typography wants them: a space
            // before the colon clap writes.
            let heading = if arg.is_positional() {
                "Arguments\u{a0}"
            } else {
                "Options\u{a0}"
            };
            arg = arg.help_heading(heading);
            if let Some(fr) = text(arg.get_help()).and_then(|t| french(&t)) {
                arg = arg.help(fr);
            }
            if let Some(fr) = text(arg.get_long_help()).and_then(|t| french(&t)) {
                arg = arg.long_help(fr);
            }
            values_in_french(arg)
        })
        .mut_subcommands(in_french)
}

/// What clap adds after an option's help in English (`[env: X=]`,
/// `[default: 3]`, `[possible values: a, b]`), said in French instead.
fn values_in_french(arg: clap::Arg) -> clap::Arg {
    let sp = '\u{a0}';
    let mut short = Vec::new();
    let mut long = Vec::new();
    let takes_values = arg.get_action().takes_values();
    let values: Vec<clap::builder::PossibleValue> =
        if takes_values && !arg.is_hide_possible_values_set() {
            arg.get_possible_values()
                .into_iter()
                .filter(|v| !v.is_hide_set())
                .collect()
        } else {
            Vec::new()
        };
    if !values.is_empty() {
        let names: Vec<&str> = values.iter().map(|v| v.get_name()).collect();
        short.push(tr!("[possible values: {}]", names.join(", ")));
        let mut list = tr!("Possible values:");
        for v in &values {
            match v.get_help() {
                Some(help) => list += &format!("\n- {}{sp}: {help}", v.get_name()),
                None => list += &format!("\n- {}", v.get_name()),
            }
        }
        long.push(list);
    }
    if let Some(name) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
        let name = name.to_string_lossy();
        let value = std::env::var(&*name).unwrap_or_default();
        let env = tr!("[env: {name}={value}]");
        short.push(env.clone());
        long.push(env);
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if takes_values && !defaults.is_empty() && !arg.is_hide_default_value_set() {
        let default = tr!("[default: {}]", defaults.join(", "));
        short.push(default.clone());
        long.push(default);
    }
    if short.is_empty() {
        return arg;
    }
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    let long_help = arg
        .get_long_help()
        .map(|h| h.to_string())
        .unwrap_or(help.clone());
    arg.hide_possible_values(true)
        .hide_env(true)
        .hide_default_value(true)
        .help(format!("{help} {}", short.join(" ")).trim().to_string())
        .long_help(
            format!("{long_help}\n\n{}", long.join("\n"))
                .trim()
                .to_string(),
        )
}

/// Every help text of the command line, as clap shows it in English: the
/// French catalogue's entries for `--help` (see `HELP_TEXTS_PLACE`).
pub fn help_texts() -> Vec<String> {
    use clap::CommandFactory as _;
    fn walk(command: &clap::Command, found: &mut Vec<String>) {
        let mut add = |s: Option<&clap::builder::StyledStr>| {
            if let Some(s) = s {
                let s = s.to_string();
                if !found.contains(&s) {
                    found.push(s);
                }
            }
        };
        add(command.get_about());
        add(command.get_long_about());
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            add(arg.get_help());
            add(arg.get_long_help());
        }
        for sub in command.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, found);
        }
    }
    let mut command = Cli::command();
    command.build();
    let mut found = Vec::new();
    walk(&command, &mut found);
    found
}

/// The language asked on the command line (`--lang fr`, `--lang=fr`) or in
/// `COURSE_LANG`, read before clap parses it: clap needs the language to
/// write the help it prints while it parses.
pub fn lang_asked(args: impl IntoIterator<Item = std::ffi::OsString>) -> Option<crate::i18n::Lang> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "--" {
            break;
        }
        if arg == "--lang" {
            return args
                .next()
                .and_then(|v| crate::i18n::Lang::parse(&v.to_string_lossy()));
        }
        if let Some(value) = arg.strip_prefix("--lang=") {
            return crate::i18n::Lang::parse(value);
        }
    }
    std::env::var("COURSE_LANG")
        .ok()
        .and_then(|v| crate::i18n::Lang::parse(&v))
}

/// Ends the program on a command line clap refused (or on `--help`), saying
/// why in the reader's language: in French, the mistakes a student makes
/// (a mistyped command or option, a missing or wrong value) through
/// [`ErrorsInFrench`]; anything rarer in clap's English.
pub fn exit_on(error: clap::Error) -> ! {
    use clap::error::ErrorKind::*;
    let ours = matches!(
        error.kind(),
        InvalidSubcommand
            | UnknownArgument
            | InvalidValue
            | ValueValidation
            | MissingRequiredArgument
            | MissingSubcommand
            | ArgumentConflict
    );
    if crate::i18n::french() && ours {
        error.apply::<ErrorsInFrench>().exit()
    }
    error.exit()
}

/// clap's usage errors, written with `tr!` (see [`exit_on`]).
pub struct ErrorsInFrench;

impl clap::error::ErrorFormatter for ErrorsInFrench {
    fn format_error(error: &clap::error::Error<Self>) -> clap::builder::StyledStr {
        use clap::error::{ContextKind as K, ContextValue as V, ErrorKind};
        let one = |kind| match error.get(kind) {
            Some(V::String(s)) => Some(s.clone()),
            _ => None,
        };
        let many = |kind| match error.get(kind) {
            Some(V::Strings(v)) => v.clone(),
            Some(V::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let listed = |label: String, values: Vec<String>| {
            if values.is_empty() {
                String::new()
            } else {
                format!("\n  [{label} {}]", values.join(", "))
            }
        };
        let arg = one(K::InvalidArg).unwrap_or_default();
        let value = one(K::InvalidValue).unwrap_or_default();
        let mut text = tr!("error:") + " ";
        text += &match error.kind() {
            ErrorKind::InvalidSubcommand => {
                let sub = one(K::InvalidSubcommand).unwrap_or_default();
                tr!("unrecognized subcommand '{sub}'")
            }
            ErrorKind::UnknownArgument => tr!("unexpected argument '{arg}' found"),
            ErrorKind::InvalidValue if value.is_empty() => {
                tr!("a value is required for '{arg}' but none was supplied")
                    + &listed(tr!("possible values:"), many(K::ValidValue))
            }
            ErrorKind::InvalidValue => {
                tr!("invalid value '{value}' for '{arg}'")
                    + &listed(tr!("possible values:"), many(K::ValidValue))
            }
            ErrorKind::ValueValidation => {
                let why = std::error::Error::source(error)
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                let why = match why.as_str() {
                    "invalid digit found in string" => tr!("not a whole number"),
                    "number too large to fit in target type" => tr!("too large a number"),
                    "cannot parse integer from empty string" => tr!("empty"),
                    _ => why,
                };
                tr!("invalid value '{value}' for '{arg}': {why}")
            }
            ErrorKind::MissingRequiredArgument => {
                let mut text = tr!("the following required arguments were not provided:");
                for missing in many(K::InvalidArg) {
                    text += &format!("\n  {missing}");
                }
                text
            }
            ErrorKind::MissingSubcommand => {
                let sub = one(K::InvalidSubcommand).unwrap_or_default();
                tr!("'{sub}' requires a subcommand but one was not provided")
                    + &listed(tr!("subcommands:"), many(K::ValidSubcommand))
            }
            ErrorKind::ArgumentConflict => {
                let prior = many(K::PriorArg).join("', '");
                if prior.is_empty() || prior == arg {
                    tr!("the argument '{arg}' cannot be used more than once")
                } else {
                    tr!("the argument '{arg}' cannot be used with '{prior}'")
                }
            }
            _ => error.kind().as_str().unwrap_or_default().to_string(),
        };
        let quoted = |names: Vec<String>| {
            names
                .iter()
                .map(|name| match crate::i18n::french() {
                    true => format!("«\u{a0}{name}\u{a0}»"),
                    false => format!("'{name}'"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let subs = many(K::SuggestedSubcommand);
        if !subs.is_empty() {
            let tip = trn!(subs.len();
                "tip: a similar subcommand exists: {}",
                "tip: some similar subcommands exist: {}",
                quoted(subs.clone())
            );
            text += &format!("\n\n  {tip}");
        }
        let args = many(K::SuggestedArg);
        if !args.is_empty() {
            let tip = trn!(args.len();
                "tip: a similar argument exists: {}",
                "tip: some similar arguments exist: {}",
                quoted(args.clone())
            );
            text += &format!("\n\n  {tip}");
        }
        if let Some(V::StyledStr(usage)) = error.get(K::Usage) {
            let usage = usage.to_string();
            let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
            text += &format!("\n\n{} {usage}", tr!("Usage:"));
        }
        text += "\n\n";
        text += &tr!("For more information, try '--help'.");
        text += "\n";
        text.into()
    }
}
