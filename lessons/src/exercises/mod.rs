//! Classroom exercises that check themselves, like rustlings.
//!
//! A student edits `exercises/exN_*.rs` (it starts unsolved: it compiles,
//! has `TODO` markers, and its checks fail), then runs `just exercise N`.
//! The checks run the student's code against a fresh embedded cluster and
//! test behaviour, never text: where records land, whether anything is lost
//! after an injected fault, whether the commit comes after the work...
//!
//! Each exercise here has one check suite, run on three versions of its
//! code: the student's file, the reference solution, and the starter derived
//! from that solution (see [`starter`]). `cargo test` asserts that every
//! solution passes and every starter fails.

pub mod starter;

pub mod ex1_topic;
pub mod ex2_keys;
pub mod ex3_acks;
pub mod ex4_commit;
pub mod ex5_late;
pub mod ex6_commit;
pub mod ex7_status;

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;

use anyhow::Result;
use futures::future::LocalBoxFuture;
use futures::FutureExt;

use crate::kit::{Ctx, Narrator};

/// The files students edit (`exercises/exN_*.rs`).
pub mod student {
    include!(concat!(env!("OUT_DIR"), "/student_modules.rs"));
}

/// The reference solutions (`exercises/solutions/exN_*.rs`), teacher's copy only.
#[cfg(has_solutions)]
pub mod solution {
    include!(concat!(env!("OUT_DIR"), "/solution_modules.rs"));
}

/// The starters derived from the solutions: what students get.
#[cfg(has_solutions)]
pub mod starter_code {
    include!(concat!(env!("OUT_DIR"), "/starter_modules.rs"));
}

/// Which version of an exercise's code to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// `exercises/exN_*.rs`, as the student left it.
    Student,
    /// The reference solution.
    Solution,
    /// The starter, as shipped.
    Starter,
}

/// `pick!(variant, module::function)`: that function from the chosen
/// version of the exercise, as a plain `fn` pointer (annotate the type).
#[macro_export]
#[doc(hidden)]
macro_rules! pick {
    ($variant:expr, $module:ident :: $function:ident) => {
        match $variant {
            $crate::exercises::Variant::Student => $crate::exercises::student::$module::$function,
            #[cfg(has_solutions)]
            $crate::exercises::Variant::Solution => $crate::exercises::solution::$module::$function,
            #[cfg(has_solutions)]
            $crate::exercises::Variant::Starter => {
                $crate::exercises::starter_code::$module::$function
            }
            #[cfg(not(has_solutions))]
            _ => anyhow::bail!("this copy of the course has no reference solutions"),
        }
    };
}

/// The same for an `async fn(&Ctx) -> T`: boxed so the three versions share a type.
#[macro_export]
#[doc(hidden)]
macro_rules! pick_async {
    ($variant:expr, $module:ident :: $function:ident) => {
        match $variant {
            $crate::exercises::Variant::Student => |ctx| {
                Box::pin($crate::exercises::student::$module::$function(ctx))
                    as futures::future::LocalBoxFuture<'_, _>
            },
            #[cfg(has_solutions)]
            $crate::exercises::Variant::Solution => |ctx| {
                Box::pin($crate::exercises::solution::$module::$function(ctx))
                    as futures::future::LocalBoxFuture<'_, _>
            },
            #[cfg(has_solutions)]
            $crate::exercises::Variant::Starter => |ctx| {
                Box::pin($crate::exercises::starter_code::$module::$function(ctx))
                    as futures::future::LocalBoxFuture<'_, _>
            },
            #[cfg(not(has_solutions))]
            _ => anyhow::bail!("this copy of the course has no reference solutions"),
        }
    };
}

/// One exercise: where it is, what it is about, and its checks.
pub struct Exercise {
    pub number: u32,
    /// The chapter it practises (the same number).
    pub chapter: u32,
    /// File name in `exercises/` without `.rs`, e.g. `ex1_topic`.
    pub slug: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    /// Run the checks on one version of the code, on a fresh embedded cluster.
    pub checks: for<'a> fn(Variant, &'a Ctx, &'a Checks) -> LocalBoxFuture<'a, Result<()>>,
}

/// Every exercise, in chapter order.
pub const EXERCISES: &[Exercise] = &[
    ex1_topic::EXERCISE,
    ex2_keys::EXERCISE,
    ex3_acks::EXERCISE,
    ex4_commit::EXERCISE,
    ex5_late::EXERCISE,
    ex6_commit::EXERCISE,
    ex7_status::EXERCISE,
];

pub fn exercise(number: u32) -> Result<&'static Exercise> {
    EXERCISES
        .iter()
        .find(|e| e.number == number)
        .ok_or_else(|| {
            let list: Vec<String> = EXERCISES
                .iter()
                .map(|e| format!("  {}  {}", e.number, e.title))
                .collect();
            anyhow::anyhow!(
                "there is no exercise {number}. The exercises are:\n{}",
                list.join("\n")
            )
        })
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Why it failed, pointing at the concept (empty when it passed).
    pub detail: String,
}

/// The checks of one run, collected as they happen.
#[derive(Default)]
pub struct Checks {
    results: RefCell<Vec<Check>>,
}

impl Checks {
    /// Record a check: `passed`, or failed with `detail`.
    pub fn check(&self, name: &str, passed: bool, detail: impl Into<String>) -> bool {
        let detail = if passed { String::new() } else { detail.into() };
        self.results.borrow_mut().push(Check {
            name: name.to_string(),
            passed,
            detail,
        });
        passed
    }

    pub fn results(&self) -> Vec<Check> {
        self.results.borrow().clone()
    }
}

/// The outcome of running an exercise's checks.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub checks: Vec<Check>,
    /// The code under test panicked or returned an error before the checks finished.
    pub error: Option<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The first thing that went wrong, in one line.
    pub fn first_failure(&self) -> String {
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

/// Run `exercise`'s checks on `variant`, on a fresh embedded cluster. A
/// panic in the code under test (a `todo!()` left in, say) is a failed
/// run, not a crash of the checker.
pub async fn run(exercise: &Exercise, variant: Variant) -> Outcome {
    let checks = Checks::default();
    let ctx = match Ctx::embedded(Narrator::quiet()) {
        Ok(ctx) => ctx,
        Err(e) => {
            return Outcome {
                checks: vec![],
                error: Some(format!("{e:#}")),
            }
        }
    };
    let result = AssertUnwindSafe((exercise.checks)(variant, &ctx, &checks))
        .catch_unwind()
        .await;
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("your code returned an error: {e:#}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            let at = std::mem::take(&mut *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()));
            Some(format!("your code panicked: {msg}{at}"))
        }
    };
    Outcome {
        checks: checks.results(),
        error,
    }
}

/// What `just exercise N` prints.
pub fn report(exercise: &Exercise, outcome: &Outcome) -> String {
    let mut s = format!(
        "Exercise {}: {} (chapter {})\nYour file: exercises/{}.rs\n\n",
        exercise.number, exercise.title, exercise.chapter, exercise.slug
    );
    for c in &outcome.checks {
        s.push_str(&format!(
            "  {}  {}\n",
            if c.passed { "PASS" } else { "FAIL" },
            c.name
        ));
        for line in c.detail.lines() {
            s.push_str(&format!("        {line}\n"));
        }
    }
    if let Some(e) = &outcome.error {
        s.push_str(&format!("  FAIL  {e}\n"));
    }
    let passed = outcome.checks.iter().filter(|c| c.passed).count();
    s.push('\n');
    if outcome.passed() {
        s.push_str(&format!("Solved: all {passed} checks pass.\n"));
    } else {
        s.push_str(&format!(
            "Not yet: {passed} of {} checks pass. Stuck? `just hint {}`\n",
            outcome.checks.len(),
            exercise.number
        ));
    }
    s
}

/// One line per exercise: what `just exercises` and the teacher's summary print.
pub fn table(rows: &[(&Exercise, Outcome)]) -> String {
    let mut s = String::from("exercise  chapter  result  what failed\n");
    for (e, o) in rows {
        let (result, what) = if o.passed() {
            ("pass", String::new())
        } else {
            ("FAIL", o.first_failure())
        };
        let line = format!("{:>8}  {:>7}  {result:<6}  {what}", e.number, e.chapter);
        s.push_str(line.trim_end());
        s.push('\n');
    }
    let solved = rows.iter().filter(|(_, o)| o.passed()).count();
    s.push_str(&format!("\n{solved} of {} exercises solved.\n", rows.len()));
    s
}

/// Regenerate a student's file from its source: a fresh start.
#[cfg(has_solutions)]
pub fn reset(exercise: &Exercise) -> Result<std::path::PathBuf> {
    use anyhow::Context as _;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = root.join(format!("exercises/solutions/{}.rs", exercise.slug));
    let text = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    let starter = starter::starter_from_solution(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", source.display()))?;
    let target = root.join(format!("exercises/{}.rs", exercise.slug));
    std::fs::write(&target, starter).with_context(|| format!("writing {}", target.display()))?;
    Ok(target)
}

/// Keep a panicking exercise from printing a raw panic: remember where it
/// happened instead, so the report can say it in one line.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }));
}

static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
