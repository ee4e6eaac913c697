//! What every exercise runner's `main` calls. (The runners are
//! `exercises/runner.rs`, with a `main` that exercises/build.rs writes for
//! each exercise of the table `exercises/exercises.toml`.)
//!
//! A runner is a small program: the student's file, compiled on its own
//! next to this library, and the exercise's checks. It runs in a process of
//! its own, so whatever the student's code does (panic, loop forever,
//! abort) it cannot take the course with it.
//!
//! Started by the course (`course exercise N`, with `--events`), it prints
//! one [`Event`] line per step and check as it goes, then the outcome; the
//! course turns that into the report. Started by hand, it prints the report.
//! Either way, its exit status says the result: 0 solved, 1 not yet,
//! 3 panicked, 124 ran out of time.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use super::{emit, quiet_panics, report, run_with, Checks, Event, Exercise, Suite};
use crate::i18n::{self, Lang};
use crate::tr;

/// The environment variable that gives the runner its time limit, in
/// seconds. The course kills a runner at its limit; this is the runner's own
/// guard for when nobody is there to kill it (the course was stopped).
pub const TIME_LIMIT_VAR: &str = "COURSE_TIME_LIMIT";

/// The environment variable that gives the runner its language (`en`,
/// `fr`): the course always sets it to its own, so that the checks'
/// words and the report agree. Unset (a runner started by hand): the
/// locale's, as for `course`.
pub const LANG_VAR: &str = "COURSE_LANG";

/// How long a runner started by hand may take.
const DEFAULT_LIMIT: Duration = Duration::from_secs(30);

/// Run `suite` on the student's `code`, report, and exit.
pub fn main<C>(exercise: &'static Exercise, suite: Suite<C>, code: C) -> ExitCode {
    let lang = std::env::var(LANG_VAR).ok().and_then(|v| Lang::parse(&v));
    i18n::set(i18n::choose(lang));
    let events = std::env::args().skip(1).any(|a| a == "--events");
    let limit = std::env::var(TIME_LIMIT_VAR)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_LIMIT);
    // A watchdog thread: whatever the student's code does on the main
    // thread, this one still runs, and ends the process a little after the
    // limit (the course normally kills it first, at the limit).
    std::thread::spawn(move || {
        std::thread::sleep(limit + Duration::from_secs(2));
        eprintln!(
            "{}",
            tr!(
                "exercise {}: no verdict within {} s, stopping",
                exercise.id,
                limit.as_secs()
            )
        );
        std::process::exit(124);
    });
    quiet_panics();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the tokio runtime");
    let checks = if events {
        Checks::echoing()
    } else {
        Checks::default()
    };
    let outcome = runtime.block_on(run_with(suite, code, &checks));
    if events {
        emit(&Event::Outcome(outcome.clone()));
    } else {
        print!(
            "{}",
            report(
                exercise,
                &outcome,
                &format!("exercises/{}.rs", exercise.slug)
            )
        );
    }
    let _ = std::io::stdout().flush();
    let status = if outcome.passed() {
        0
    } else if outcome.panic.is_some() {
        3
    } else {
        1
    };
    // Exit at once: a thread the student's code left running, or a client
    // still closing, must not keep the verdict waiting.
    std::process::exit(status)
}
