//! `course bench --exercises` (`just bench`): how long the student waits.
//!
//! For each exercise, on a scratch copy of the exercise files (never the
//! student's own): edit the file (append a comment), and time until the
//! verdict (the runner's compile and link, then its checks); then ask again
//! without changing anything. The goals: edit to verdict within 5 s on a
//! 2-core machine, and 1 s when nothing changed.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::harness::{self, Harness};
use super::EXERCISES;
use crate::{outln, tr};

/// The goals the figures are measured against.
const EDIT_GOAL: Duration = Duration::from_secs(5);
const SAME_GOAL: Duration = Duration::from_secs(1);

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn run(base: &Harness, runs: usize) -> Result<()> {
    let runs = runs.max(1);
    let dir = base.scratch_dir("exercise-bench/exercises");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| tr!("creating {}", dir.display()))?;
    for e in EXERCISES {
        let file = format!("{}.rs", e.slug);
        fs::copy(base.exercises_dir().join(&file), dir.join(&file))
            .with_context(|| tr!("copying exercises/{file}"))?;
    }
    let harness = base.clone().with_exercises(&dir, "exercises");

    // Pointing the runners at another folder rebuilds each of them once.
    let start = Instant::now();
    harness.build(&harness::all())?;
    outln!(
        "Exercises: median of {runs} run(s), this build; first build of the 7 runners for the scratch copy: {}",
        crate::i18n::seconds(start.elapsed().as_secs_f64(), 1)
    );
    outln!();
    outln!("exercise  edit to verdict (s)  build (s)  checks (s)  no change (s)  verdict");
    let mut over = Vec::new();
    for e in EXERCISES {
        let path = dir.join(format!("{}.rs", e.slug));
        let (mut edit, mut build, mut same) = (Vec::new(), Vec::new(), Vec::new());
        let mut label = "";
        for run in 0..runs {
            // An edit the compiler must see: the file's text changes.
            let mut text = fs::read_to_string(&path)?;
            text.push_str(&format!("// bench edit {run}\n"));
            fs::write(&path, text)?;

            let start = Instant::now();
            let builds = harness.build(&[e])?;
            build.push(start.elapsed());
            harness.cached_verdict(e, builds.get(e.id).expect("built"))?;
            edit.push(start.elapsed());

            let start = Instant::now();
            let verdict = harness.check(&[e])?.remove(0);
            same.push(start.elapsed());
            label = verdict.status.label();
        }
        let (edit, build, same) = (median(edit), median(build), median(same));
        outln!(
            "{:>8}  {:>19}  {:>9}  {:>10}  {:>13}  {label}",
            e.id,
            crate::i18n::fixed(edit.as_secs_f64(), 2),
            crate::i18n::fixed(build.as_secs_f64(), 2),
            crate::i18n::fixed(edit.saturating_sub(build).as_secs_f64(), 2),
            crate::i18n::fixed(same.as_secs_f64(), 2),
        );
        if edit > EDIT_GOAL || same > SAME_GOAL {
            over.push(e.id);
        }
    }
    outln!();
    outln!(
        "Goals: edit to verdict within {} s, no change within {} s.",
        EDIT_GOAL.as_secs(),
        SAME_GOAL.as_secs()
    );
    if over.is_empty() {
        outln!("Every exercise meets both.");
    } else {
        outln!("Over a goal: exercise(s) {over:?}.");
    }
    Ok(())
}
