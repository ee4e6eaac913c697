//! Classroom exercises that check themselves, like rustlings.
//!
//! A student edits `exercises/exN_*.rs` (it starts unsolved: it compiles,
//! has `TODO` markers, and its checks fail), then runs `just exercise N`.
//! The checks run the student's code against a fresh embedded cluster and
//! test behaviour, never text: where records land, whether anything is lost
//! after an injected fault, whether the commit comes after the work...
//!
//! The exercises are listed in one table, `exercises/exercises.toml`
//! ([`EXERCISES`] is made from it when the course compiles; its first
//! lines say how to add an exercise).
//!
//! This library never compiles a student's file. Each exercise here has one
//! check suite, `exN_*::checks`, which takes the student's function as a
//! plain `fn` value (its `exN_*::Code` type). The runners (package
//! `kafka-course-exercises`, in `exercises/`: one small program per
//! exercise, its `main` written from the table) compile the student's file
//! next to this library and call [`runner::main`] with it: so a file that
//! does not compile, panics or never returns stops only its own exercise,
//! never the lessons or the other exercises.
//!
//! `course dev check` ([`dev`]) checks the exercises as their authors must
//! leave them: every solution passes its checks, every starter (derived
//! from its solution, see [`starter`]) fails them, every file, runner,
//! title and hint is there, in both languages. `cargo test` runs it.
//!
//! [`harness`] is the course's side: build a runner with cargo, run it with
//! a time limit, and turn what happened into a [`harness::Verdict`].

pub mod bench;
pub mod comments;
pub mod dev;
pub mod harness;
pub mod runner;
pub mod starter;
pub mod watch;

// The checks of each exercise of the table, one module each: written by
// `course dev update` (`course dev check` says when they are not current).
// BEGIN exercises
pub mod capstone;
pub mod ex1_2_leaders;
pub mod ex1_3_count;
pub mod ex1_topic;
pub mod ex2_2_send;
pub mod ex2_3_producer;
pub mod ex2_keys;
pub mod ex3_2_report;
pub mod ex3_3_batch;
pub mod ex3_acks;
pub mod ex4_2_loop;
pub mod ex4_3_consumer;
pub mod ex4_commit;
pub mod ex5_2_lag;
pub mod ex5_3_reader;
pub mod ex5_late;
pub mod ex6_2_sequence;
pub mod ex6_3_producer;
pub mod ex6_commit;
pub mod ex7_2_report;
pub mod ex7_3_workflow;
pub mod ex7_status;
// END exercises

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use anyhow::Result;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use serde::{Deserialize, Serialize};

use crate::kit::{Narrator, Stage};
use crate::{tr, tr_static};

/// One exercise: where it is and what it is about, as the table
/// `exercises/exercises.toml` says. Its checks are `exN_*::checks`, whose
/// type depends on the student's function.
pub struct Exercise {
    /// "C.K", the K-th exercise of chapter C in order of difficulty, or
    /// "capstone": what `just exercise ID` takes (a bare "C" means "C.1").
    pub id: &'static str,
    /// The chapter it practises.
    pub chapter: u32,
    /// What the student does: fix a line, complete a body, write it all.
    pub kind: Kind,
    /// File name in `exercises/` without `.rs`, e.g. `ex1_topic`; also the
    /// name of its runner and of its checks' module.
    pub slug: &'static str,
    /// The function the student writes, as the reports name it.
    pub function: &'static str,
    /// Its title in the reader's language: a function, since the language
    /// is chosen when the course starts. Call [`Exercise::title`].
    title: fn() -> &'static str,
    /// Its hints, first nudge first, each in the reader's language (see
    /// `title`). Call [`Exercise::hints`] or [`Exercise::hint`].
    hints: &'static [fn() -> &'static str],
}

/// The three grades of exercise of a chapter, and the capstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A program that almost works: find and fix the wrong line or value.
    Fix,
    /// A function's signature and comments are given: write its body.
    Completion,
    /// A blank function that does real Kafka work: write all of it.
    Blank,
    /// The whole workshop, end to end, under injected faults.
    Capstone,
}

impl Kind {
    /// Its name in `course exercises`, in the reader's language.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Fix => tr_static!("fix"),
            Kind::Completion => tr_static!("complete"),
            Kind::Blank => tr_static!("write"),
            Kind::Capstone => tr_static!("capstone"),
        }
    }
}

impl Exercise {
    /// Its title, in the reader's language.
    pub fn title(&self) -> &'static str {
        (self.title)()
    }

    /// Its first hint (`course hint N`), in the reader's language.
    pub fn hint(&self) -> &'static str {
        self.hints.first().map_or("", |hint| hint())
    }

    /// Every hint, the first nudge first, in the reader's language.
    pub fn hints(&self) -> Vec<&'static str> {
        self.hints.iter().map(|hint| hint()).collect()
    }
}

/// A check suite: runs the checks of one exercise on `code` (the student's
/// function, or the solution's, or the starter's), on the cluster of `ctx`.
pub type Suite<C> = for<'a> fn(C, &'a Stage, &'a Checks) -> LocalBoxFuture<'a, Result<()>>;

// `pub const EXERCISES: &[Exercise]`, every exercise in order: written by
// build.rs from exercises/exercises.toml.
include!(concat!(env!("OUT_DIR"), "/exercise_table.rs"));

/// The exercise `id` names: "4.2", "capstone", or "4", which means "4.1"
/// (the first exercise of chapter 4, as `just exercise 4` always meant).
pub fn exercise(id: &str) -> Result<&'static Exercise> {
    let id = id.trim();
    let wanted = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("{id}.1")
    } else {
        id.to_ascii_lowercase()
    };
    EXERCISES.iter().find(|e| e.id == wanted).ok_or_else(|| {
        let list: Vec<String> = EXERCISES
            .iter()
            .map(|e| format!("  {:<8}  {}", e.id, e.title()))
            .collect();
        anyhow::anyhow!(tr!(
            "there is no exercise {id}. The exercises are:\n{}",
            list.join("\n")
        ))
    })
}

/// Where `exercise` is in [`EXERCISES`]: the order of the course.
pub fn position(exercise: &Exercise) -> usize {
    EXERCISES
        .iter()
        .position(|e| e.id == exercise.id)
        .expect("an exercise of the table")
}

/// The result of one check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Why it failed, pointing at the concept (empty when it passed).
    pub detail: String,
}

/// What a runner tells the course, one line each, as it goes: a runner may
/// never finish (a student's loop that never ends), so the course must
/// already know what it was doing when the time limit struck.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The checks start something that may wait, e.g. "calling your
    /// `commit_processed` for offsets 0 to 3".
    Step(String),
    /// A check finished.
    Check(Check),
    /// Every check finished (or the code under test stopped them).
    Outcome(Outcome),
}

/// Marks the runner's event lines on its standard output, so that whatever
/// the student's code prints there stays apart from them.
pub const EVENT_PREFIX: &str = "@@course-event ";

/// The checks of one run, collected as they happen.
#[derive(Default)]
pub struct Checks {
    results: RefCell<Vec<Check>>,
    step: RefCell<Option<String>>,
    /// Print each event as it happens (in a runner started by the course).
    echo: bool,
}

impl Checks {
    /// Checks that also print every step and result as an [`Event`] line.
    pub fn echoing() -> Checks {
        Checks {
            echo: true,
            ..Checks::default()
        }
    }

    /// Say what the checks do next, before anything that may wait on the
    /// student's code: if it never returns, this is what the time-out names.
    pub fn step(&self, what: impl Into<String>) {
        let what = what.into();
        self.emit(&Event::Step(what.clone()));
        *self.step.borrow_mut() = Some(what);
    }

    /// Record a check: `passed`, or failed with `detail`.
    pub fn check(&self, name: &str, passed: bool, detail: impl Into<String>) -> bool {
        let detail = if passed { String::new() } else { detail.into() };
        let check = Check {
            name: name.to_string(),
            passed,
            detail,
        };
        self.emit(&Event::Check(check.clone()));
        self.results.borrow_mut().push(check);
        passed
    }

    pub fn results(&self) -> Vec<Check> {
        self.results.borrow().clone()
    }

    /// The last step announced.
    pub fn current_step(&self) -> Option<String> {
        self.step.borrow().clone()
    }

    fn emit(&self, event: &Event) {
        if self.echo {
            emit(event);
        }
    }
}

/// Print one event line (standard output is line-buffered: it leaves at once).
pub fn emit(event: &Event) {
    let json = serde_json::to_string(event).expect("events serialize");
    println!("{EVENT_PREFIX}{json}");
}

/// Where the student's code panicked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panic {
    pub message: String,
    /// The source file as the compiler saw it (absolute for a student's
    /// file: the runners include it by its full path).
    pub file: Option<String>,
    pub line: u32,
    /// What the checks were doing (their last [`Checks::step`]).
    pub during: Option<String>,
}

/// The outcome of running an exercise's checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub checks: Vec<Check>,
    /// The code under test returned an error before the checks finished, or
    /// the embedded cluster could not start.
    pub error: Option<String>,
    /// The code under test panicked.
    pub panic: Option<Panic>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.panic.is_none()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| c.passed)
    }

    /// The first thing that went wrong, in one line.
    pub fn first_failure(&self) -> String {
        if let Some(p) = &self.panic {
            return tr!(
                "your code panicked: {}",
                p.message.lines().next().unwrap_or_default()
            );
        }
        if let Some(e) = &self.error {
            return e.lines().next().unwrap_or_default().to_string();
        }
        self.checks
            .iter()
            .find(|c| !c.passed)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }
}

/// Run a check suite on `code`, on a fresh embedded cluster, recording into
/// `checks`. A panic in the code under test (a `todo!()` left in, say) is a
/// failed run with its place, not a crash of the checker: call
/// [`quiet_panics`] first, or the panic is also printed with a backtrace note.
pub async fn run_with<C>(suite: Suite<C>, code: C, checks: &Checks) -> Outcome {
    let ctx = match Stage::embedded(Narrator::quiet()) {
        Ok(ctx) => ctx,
        Err(e) => {
            return Outcome {
                error: Some(tr!("the embedded cluster did not start: {e:#}")),
                ..Outcome::default()
            }
        }
    };
    let result = AssertUnwindSafe(suite(code, &ctx, checks))
        .catch_unwind()
        .await;
    let (error, panic) = match result {
        Ok(Ok(())) => (None, None),
        Ok(Err(e)) => (Some(tr!("your code returned an error: {e:#}")), None),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| tr!("a panic"));
            let (file, line) = LAST_PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            let panic = Panic {
                message,
                file,
                line,
                during: checks.current_step(),
            };
            (None, Some(panic))
        }
    };
    Outcome {
        checks: checks.results(),
        error,
        panic,
    }
}

/// [`run_with`] on a fresh, silent [`Checks`].
pub async fn run<C>(suite: Suite<C>, code: C) -> Outcome {
    run_with(suite, code, &Checks::default()).await
}

/// For the checks' own tests: the names of the checks `code` fails, run
/// as a runner runs them (a fresh embedded cluster, a single thread). The
/// code must neither return an error nor panic: that would be a test of
/// something else.
#[cfg(test)]
pub(crate) fn failed_checks<C>(suite: Suite<C>, code: C) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(run(suite, code));
    assert!(
        outcome.error.is_none() && outcome.panic.is_none(),
        "{:?} {:?}",
        outcome.error,
        outcome.panic.map(|p| p.message)
    );
    outcome
        .checks
        .into_iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect()
}

/// Keep a panicking exercise from printing a raw panic and its backtrace
/// note: remember where it happened instead, so the report can say it in
/// one line that names the student's file.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| (Some(l.file().to_string()), l.line()));
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }));
}

/// Where the last panic happened, as `file:line`, if [`quiet_panics`]
/// caught one that nobody has asked about yet: for a suite that catches the
/// student's panics itself, to say where.
pub fn take_panic_place() -> Option<String> {
    let taken = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    match taken? {
        (Some(file), line) => Some(format!("{file}:{line}")),
        (None, _) => None,
    }
}

/// Where the last panic happened (file, line), for [`run_with`].
static LAST_PANIC: std::sync::Mutex<Option<(Option<String>, u32)>> = std::sync::Mutex::new(None);

/// What `just exercise N` prints for an outcome. `file` is the student's
/// file as the student should read it (e.g. `exercises/ex4_commit.rs`).
pub fn report(exercise: &Exercise, outcome: &Outcome, file: &str) -> String {
    let mut s = header(exercise, file);
    for c in &outcome.checks {
        s.push_str(&check_line(c));
        for line in c.detail.lines() {
            s.push_str(&format!("        {line}\n"));
        }
    }
    if let Some(e) = &outcome.error {
        s.push_str(&failed_line(e));
    }
    if let Some(p) = &outcome.panic {
        s.push_str(&failed_line(&panic_text(exercise, p, file)));
    }
    let passed = outcome.checks.iter().filter(|c| c.passed).count();
    let total = outcome.checks.len();
    s.push('\n');
    if outcome.passed() {
        s.push_str(&tr!("Solved: all {passed} checks pass.\n"));
    } else {
        s.push_str(&tr!(
            "Not yet: {passed} of {total} checks pass. Stuck? `just hint {}`\n",
            exercise.id
        ));
    }
    s
}

/// `  PASS  <check>` or `  FAIL  <check>`: the check's name starts in
/// column 8, where the lines of its detail do.
pub fn check_line(c: &Check) -> String {
    let name = &c.name;
    if c.passed {
        tr!("  PASS  {name}\n")
    } else {
        failed_line(name)
    }
}

/// `  FAIL  <what>`, `what` starting in column 8.
pub fn failed_line(what: &str) -> String {
    tr!("  FAIL  {what}\n")
}

/// The first lines of every report on an exercise.
pub fn header(exercise: &Exercise, file: &str) -> String {
    tr!(
        "Exercise {}: {} (chapter {})\nYour file: {file}\n\n",
        exercise.id,
        exercise.title(),
        exercise.chapter
    )
}

/// "your code panicked at exercises/ex7_status.rs:12: not yet (while ...)",
/// with the chapter to reread. `file` names the student's file.
pub fn panic_text(exercise: &Exercise, p: &Panic, file: &str) -> String {
    let place = match &p.file {
        // The student's file, whatever path the compiler was given for it.
        Some(f) if f.ends_with(&format!("{}.rs", exercise.slug)) => format!("{file}:{}", p.line),
        Some(f) => tr!("{f}:{} (called from your code)", p.line),
        None => tr!("an unknown place"),
    };
    let mut s = tr!(
        "your code panicked at {place}: {}",
        p.message.lines().next().unwrap_or_default()
    );
    if let Some(during) = &p.during {
        s.push_str(&tr!("\n        (while {during})"));
    }
    s.push_str(&tr!(
        "\n        A panic stops the program: fix that line, and reread chapter {} for what\n        {} should do.",
        exercise.chapter,
        exercise.function
    ));
    s
}

/// The text of `course hint ID` when the student has now seen `shown` of
/// the exercise's hints: each of them, the first nudge first, and how to
/// get a stronger one.
pub fn hints_text(exercise: &Exercise, shown: usize) -> String {
    let hints = exercise.hints();
    let shown = shown.clamp(1, hints.len().max(1));
    let mut s = tr!("Hints for exercise {}: {}\n", exercise.id, exercise.title());
    for (i, hint) in hints.iter().take(shown).enumerate() {
        s.push_str(&tr!(
            "\nHint {} of {}:\n{}\n",
            i + 1,
            hints.len(),
            hint.trim()
        ));
    }
    if shown < hints.len() {
        s.push_str(&tr!(
            "\nStill stuck? `just hint {}` again gives a stronger hint.\n",
            exercise.id
        ));
    }
    s
}

/// The file a student starts exercise `exercise` with, in either language,
/// if this copy can make it (it has the exercises' sources): to tell an
/// untouched file (not started) from one being solved.
/// `exercises` is the copy's `exercises/` folder.
pub fn starters(exercises: &std::path::Path, exercise: &Exercise) -> Vec<String> {
    let source = exercises.join(format!("solutions/{}.rs", exercise.slug));
    let Ok(text) = std::fs::read_to_string(source) else {
        // A student's copy: the starter it was handed out with.
        let kept = exercises.join(format!("starters/{}.rs", exercise.slug));
        return std::fs::read_to_string(kept).into_iter().collect();
    };
    let Ok(english) = starter::starter_from_solution(&text) else {
        return Vec::new();
    };
    let file = format!("exercises/{}.rs", exercise.slug);
    let french = file_translations();
    let in_french = comments::translate(&english, |text| {
        french.get(&(file.clone(), text.to_string())).cloned()
    });
    vec![english, in_french]
}

/// Put a student's file back as it was handed out: made afresh from its
/// solution, in the reader's language (the teacher's copy), or copied from
/// `exercises/starters/` (a student's copy: `course teacher export` puts the
/// starters there, not the solutions).
pub fn reset(root: &std::path::Path, exercise: &Exercise) -> Result<std::path::PathBuf> {
    use anyhow::Context as _;
    let source = root.join(format!("exercises/solutions/{}.rs", exercise.slug));
    let kept = root.join(format!("exercises/starters/{}.rs", exercise.slug));
    let starter = if source.is_file() {
        let text = std::fs::read_to_string(&source)
            .with_context(|| tr!("reading {}", source.display()))?;
        starter_in_reader_language(exercise.slug, &text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", source.display()))?
    } else if kept.is_file() {
        std::fs::read_to_string(&kept).with_context(|| tr!("reading {}", kept.display()))?
    } else {
        anyhow::bail!(
            "{}",
            tr!(
                "this copy has no exercise sources to reset exercise {} from: ask your teacher for a fresh exercises/{}.rs",
                exercise.id,
                exercise.slug
            )
        );
    };
    let target = root.join(format!("exercises/{}.rs", exercise.slug));
    std::fs::write(&target, starter).with_context(|| tr!("writing {}", target.display()))?;
    Ok(target)
}

/// Whether this copy can put exercise files back (`--reset`).
pub fn can_reset(root: &std::path::Path, exercise: &Exercise) -> bool {
    root.join(format!("exercises/solutions/{}.rs", exercise.slug))
        .is_file()
        || root
            .join(format!("exercises/starters/{}.rs", exercise.slug))
            .is_file()
}

/// The starter of a solution (`exercises/solutions/<slug>.rs`, text
/// `solution`), as a student gets it: see [`starter`], with its comments
/// in the reader's language ([`in_reader_language`]).
pub fn starter_in_reader_language(slug: &str, solution: &str) -> Result<String, String> {
    starter::starter_from_solution(solution).map(|text| in_reader_language(slug, &text))
}

/// A student's file (`exercises/<slug>.rs`, as handed out) with its
/// explanations in the reader's language: in French, every paragraph of
/// comments that `exercises/po/fr.po` translates is replaced by its French
/// (see [`comments`]); the code is untouched. In English, `source` as it is.
pub fn in_reader_language(slug: &str, source: &str) -> String {
    if !crate::i18n::french() {
        return source.to_string();
    }
    let file = format!("exercises/{slug}.rs");
    let french = file_translations();
    comments::translate(source, |text| {
        french.get(&(file.clone(), text.to_string())).cloned()
    })
}

/// The French of the students' files' comments: `exercises/po/fr.po`, one
/// message per paragraph, `msgctxt` the file (`exercises/ex4_commit.rs`),
/// kept up to date from the starters by `cargo run --example i18n --
/// update` and checked with every catalogue (tests/i18n.rs).
///
/// The catalogue is embedded when the course compiles (`include_str!`:
/// cargo rebuilds the course when it changes, and a copy of the course
/// exports French files without reading anything at run time), and read
/// with polib, the parser the `tr!` macro and the i18n tool use: one PO
/// format, one parser, for every translation of the course.
static FILES_PO: &str = include_str!("../../../exercises/po/fr.po");

/// (file, English paragraph) to French, from [`FILES_PO`]; empty and fuzzy
/// translations are left out, as `tr!` leaves them out.
fn file_translations() -> &'static HashMap<(String, String), String> {
    static MAP: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    MAP.get_or_init(|| {
        // A bug in the course, not the student's: tests/exercises.rs reads it too.
        let catalog = polib::po_file::parse_from_reader(FILES_PO.as_bytes())
            .expect("exercises/po/fr.po is a valid PO file");
        catalog
            .messages()
            .filter(|m| !m.flags().is_fuzzy())
            .filter_map(|m| {
                let text = m.msgstr().ok().filter(|t| !t.is_empty())?;
                let key = (m.msgctxt().unwrap_or("").to_string(), m.msgid().to_string());
                Some((key, text.to_string()))
            })
            .collect()
    })
}
