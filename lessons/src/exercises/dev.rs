//! `course dev check` and `course dev update`: the exercises as their
//! authors must leave them (like rustlings' `dev check` and `dev update`).
//!
//! The table `exercises/exercises.toml` is the one list of the exercises
//! ([`EXERCISES`] is compiled from it). From it, `dev update` writes what
//! cargo and rustc cannot read from a data file: the runners' `[[bin]]`s
//! (the end of `exercises/Cargo.toml`), the `pub mod` of each exercise's
//! checks (in `lessons/src/exercises/mod.rs`), and a new exercise's
//! student file. `dev check` checks every invariant of the exercises, and
//! says what is wrong:
//!
//! - the table: ids "C.1", "C.2"... in order within each chapter, the
//!   chapters in order and the capstone last; each slug `exC_<word>` (the
//!   first exercise of a chapter) or `exC_K_<word>`, or `capstone`; each
//!   chapter a lesson, a title and hints (each a real one), in English and
//!   in French (lessons/po/fr.po);
//! - each exercise's files: its reference solution (which defines the
//!   student's function), its starter derived from it (with `TODO`
//!   markers) and shipped as `exercises/exN_*.rs`, its checks' module, its
//!   runner target, and its chapter's page linking to it;
//! - the catalogues: every text of the French edition translated
//!   (`cargo run --example i18n -- check`);
//! - every reference solution passes its checks, and every starter fails
//!   them, with a report that explains why (built and run by the real
//!   runners, as a student's file is).
//!
//! `cargo test` runs `course dev check` (tests/exercises.rs). It is a tool
//! for the course's authors: its words are English only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use super::harness::{self, Harness, Status, Verdict};
use super::starter::starter_from_solution;
use super::{Exercise, Kind, EXERCISES};
use crate::i18n::{self, Lang};
use crate::LESSONS;

/// The line that starts the runners' `[[bin]]`s in exercises/Cargo.toml:
/// from the first one to the end of the file, `dev update` writes them.
const BIN: &str = "[[bin]]";

/// The lines around the checks' `pub mod`s in lessons/src/exercises/mod.rs.
const MODS_BEGIN: &str = "// BEGIN exercises\n";
const MODS_END: &str = "// END exercises\n";

/// The runners' `[[bin]]`s, as exercises/Cargo.toml must end.
pub fn cargo_bins(exercises: &[Exercise]) -> String {
    let mut s = String::new();
    for e in exercises {
        let _ = write!(s, "{BIN}\nname = \"{}\"\npath = \"runner.rs\"\n\n", e.slug);
    }
    s.pop();
    s
}

/// The checks' modules, as lessons/src/exercises/mod.rs lists them.
pub fn check_modules(exercises: &[Exercise]) -> String {
    // In name order, as rustfmt orders them (`cargo fmt` leaves them be).
    let mut slugs: Vec<&str> = exercises.iter().map(|e| e.slug).collect();
    slugs.sort_unstable();
    slugs
        .iter()
        .map(|slug| format!("pub mod {slug};\n"))
        .collect()
}

/// `manifest` (the text of exercises/Cargo.toml) with `bins` in place of
/// its `[[bin]]`s.
fn with_bins(manifest: &str, bins: &str) -> String {
    let head = match manifest.find(&format!("\n{BIN}\n")) {
        Some(at) => &manifest[..at + 1],
        None => manifest,
    };
    format!("{head}{bins}")
}

/// `source` (the text of mod.rs) with `mods` between its markers.
fn with_mods(source: &str, mods: &str) -> Result<String> {
    let (Some(begin), Some(end)) = (source.find(MODS_BEGIN), source.find(MODS_END)) else {
        bail!("lessons/src/exercises/mod.rs has lost its lines {MODS_BEGIN:?} and {MODS_END:?}");
    };
    let begin = begin + MODS_BEGIN.len();
    Ok(format!("{}{mods}{}", &source[..begin], &source[end..]))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Write `text` to `path` if it differs; whether it did.
fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// `course dev update`: write, from the table, the runners' `[[bin]]`s,
/// the checks' `pub mod`s, and the student's file of an exercise that has
/// none yet (never one that exists: it may be being solved). Returns the
/// files written.
pub fn update(root: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let manifest = root.join("exercises/Cargo.toml");
    if write_if_changed(
        &manifest,
        &with_bins(&read(&manifest)?, &cargo_bins(EXERCISES)),
    )? {
        written.push(manifest);
    }
    let mods = root.join("lessons/src/exercises/mod.rs");
    if write_if_changed(&mods, &with_mods(&read(&mods)?, &check_modules(EXERCISES))?)? {
        written.push(mods);
    }
    for e in EXERCISES {
        let solution = root.join(format!("exercises/solutions/{}.rs", e.slug));
        let shipped = root.join(format!("exercises/{}.rs", e.slug));
        if solution.is_file() && !shipped.exists() {
            let starter = starter_from_solution(&read(&solution)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", solution.display()))?;
            std::fs::write(&shipped, starter)
                .with_context(|| format!("writing {}", shipped.display()))?;
            written.push(shipped);
        }
    }
    Ok(written)
}

/// The title and hints of `e` in French. (It makes the whole process speak
/// French for a moment: only for a command, never beside other threads
/// that print.)
fn in_french(e: &Exercise) -> (&'static str, Vec<&'static str>) {
    let before = i18n::current();
    i18n::set(Lang::Fr);
    let texts = (e.title(), e.hints());
    i18n::set(before);
    texts
}

/// Whether `name` is a Rust identifier (of ASCII letters, digits and `_`).
fn identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with the table itself (`exercises` as compiled from it,
/// in the language the program speaks, English; `french` gives an
/// exercise's title and hints in French).
pub fn table_problems(
    exercises: &[Exercise],
    french: impl Fn(&Exercise) -> (&'static str, Vec<&'static str>),
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut say = |e: &Exercise, what: String| {
        problems.push(format!(
            "exercises/exercises.toml: exercise {}: {what}",
            e.id
        ));
    };
    // The id each entry must have, given the ones before it.
    let mut previous: Option<(u32, u32)> = None;
    for (i, e) in exercises.iter().enumerate() {
        if e.id == "capstone" {
            if i + 1 != exercises.len() {
                say(e, "the capstone comes last in the table".into());
            }
            if e.slug != "capstone" {
                say(e, format!("its slug {:?} is not capstone", e.slug));
            }
            if e.kind != Kind::Capstone {
                say(e, "the capstone's kind is \"capstone\"".into());
            }
        } else {
            // lessons/build.rs made sure it is "C.K" with C its chapter.
            let k: u32 =
                e.id.split_once('.')
                    .and_then(|(_, k)| k.parse().ok())
                    .unwrap_or(0);
            let expected = match previous {
                Some((c, k)) if c == e.chapter => (c, k + 1),
                Some((c, _)) if e.chapter < c => {
                    say(
                        e,
                        format!(
                            "chapter {} comes after chapter {c}: keep the chapters in order",
                            e.chapter
                        ),
                    );
                    (e.chapter, 1)
                }
                _ => (e.chapter, 1),
            };
            if (e.chapter, k) != expected {
                say(
                    e,
                    format!(
                        "is entry {} of the table: it must be {}.{} (number each chapter's exercises 1, 2, 3... in order)",
                        i + 1,
                        expected.0,
                        expected.1
                    ),
                );
            }
            previous = Some((e.chapter, k));
            // The first of a chapter keeps its old name, exC_<word>.
            let prefix = if k == 1 {
                format!("ex{}_", e.chapter)
            } else {
                format!("ex{}_{k}_", e.chapter)
            };
            let word = e.slug.strip_prefix(&prefix);
            if !word.is_some_and(|w| {
                !w.is_empty()
                    && identifier(w)
                    && w == w.to_lowercase()
                    && !w.starts_with(|c: char| c.is_ascii_digit())
            }) {
                say(
                    e,
                    format!("its slug {:?} is not {prefix}<word> (lower case)", e.slug),
                );
            }
            if e.kind == Kind::Capstone {
                say(e, "only the capstone's kind is \"capstone\"".into());
            }
        }
        if !LESSONS.iter().any(|l| l.number == e.chapter) {
            say(e, format!("there is no chapter {}", e.chapter));
        }
        if !identifier(e.function) {
            say(
                e,
                format!("its function {:?} is not a Rust name", e.function),
            );
        }
        let (title, hints) = (e.title(), e.hints());
        let (french_title, french_hints) = french(e);
        if title.trim().is_empty() {
            say(e, "its title is empty".into());
        } else if french_title == title {
            say(
                e,
                format!("its title has no French in lessons/po/fr.po: {title:?} (cargo run --example i18n -- update)"),
            );
        }
        if hints.is_empty() {
            say(e, "it has no hint".into());
        } else if hints.len() < 2 {
            say(
                e,
                "it has one hint: give a first nudge, then a stronger one (`course hint` shows one more each time)".into(),
            );
        }
        for (n, (hint, french)) in hints.iter().zip(&french_hints).enumerate() {
            if hint.len() <= 40 {
                say(e, format!("hint {} is not a real hint: {hint:?}", n + 1));
            } else if french == hint {
                say(
                    e,
                    format!(
                        "hint {} has no French in lessons/po/fr.po (cargo run --example i18n -- update)",
                        n + 1
                    ),
                );
            }
        }
    }
    problems
}

/// What is wrong with the files of the exercises in the course at `root`.
/// `in_ci`: a shipped file that is not its starter is a problem (in a
/// working copy, it is being solved: a note only, in `notes`).
pub fn file_problems(root: &Path, in_ci: bool, notes: &mut Vec<String>) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for e in EXERCISES {
        let n = e.id;
        let solution_path = format!("exercises/solutions/{}.rs", e.slug);
        let shipped_path = format!("exercises/{}.rs", e.slug);
        match std::fs::read_to_string(root.join(&solution_path)) {
            Err(_) => problems.push(format!("exercise {n}: {solution_path} is missing")),
            Ok(solution) => {
                if !solution.contains(&format!("fn {}(", e.function)) {
                    problems.push(format!(
                        "exercise {n}: {solution_path} has no `fn {}(`, the function the table names",
                        e.function
                    ));
                }
                match starter_from_solution(&solution) {
                    Err(why) => problems.push(format!(
                        "exercise {n}: {solution_path}: its starter markers: {why}"
                    )),
                    Ok(starter) => {
                        if !starter.contains("TODO") {
                            problems.push(format!(
                                "exercise {n}: its starter (from {solution_path}) has no TODO marker"
                            ));
                        }
                        match std::fs::read_to_string(root.join(&shipped_path)) {
                            Err(_) => problems.push(format!(
                                "exercise {n}: {shipped_path} is missing (cargo run -- dev update)"
                            )),
                            Ok(shipped) if shipped != starter => {
                                let what = format!(
                                    "exercise {n}: {shipped_path} is not the starter generated from its solution: \
                                     run `cargo run -- --lang en exercise {n} --reset`"
                                );
                                if in_ci {
                                    problems.push(what);
                                } else {
                                    notes.push(format!("{what} (being solved?)"));
                                }
                            }
                            Ok(_) => {}
                        }
                    }
                }
            }
        }
        let checks_path = format!("lessons/src/exercises/{}.rs", e.slug);
        match std::fs::read_to_string(root.join(&checks_path)) {
            Err(_) => problems.push(format!(
                "exercise {n}: {checks_path}, its checks, is missing"
            )),
            Ok(checks) => {
                for needed in ["pub type Code", "pub fn checks"] {
                    if !checks.contains(needed) {
                        problems.push(format!("exercise {n}: {checks_path} has no `{needed}`"));
                    }
                }
            }
        }
        if let Some(lesson) = LESSONS.iter().find(|l| l.number == e.chapter) {
            let page_path = format!("book/src/{}.md", lesson.slug);
            let page = std::fs::read_to_string(root.join(&page_path)).unwrap_or_default();
            for link in [shipped_path.clone(), format!("just exercise {n}")] {
                // `just exercise 4` is how pages wrote exercise 4.1.
                let short = n.strip_suffix(".1").map(|c| format!("just exercise {c}"));
                let linked = page.contains(&link)
                    || short.is_some_and(|short| {
                        link.starts_with("just")
                            && (page.contains(&format!("{short}\n"))
                                || page.contains(&format!("{short}`")))
                    });
                if !linked {
                    problems.push(format!(
                        "exercise {n}: its chapter's page, {page_path}, does not say `{link}`"
                    ));
                }
            }
        }
    }
    let manifest = read(&root.join("exercises/Cargo.toml"))?;
    if with_bins(&manifest, &cargo_bins(EXERCISES)) != manifest {
        problems.push(
            "exercises/Cargo.toml: its [[bin]]s are not the table's runners (cargo run -- dev update)"
                .into(),
        );
    }
    let mods = read(&root.join("lessons/src/exercises/mod.rs"))?;
    if with_mods(&mods, &check_modules(EXERCISES))? != mods {
        problems.push(
            "lessons/src/exercises/mod.rs: its `pub mod`s are not the table's exercises (cargo run -- dev update)"
                .into(),
        );
    }
    Ok(problems)
}

/// What is wrong with the solutions' verdicts: each must be solved.
pub fn solution_problems(verdicts: &[Verdict]) -> Vec<String> {
    verdicts
        .iter()
        .filter(|v| v.status != Status::Solved)
        .map(|v| {
            format!(
                "the solution of exercise {} does not pass its checks ({}):\n{}",
                v.id,
                v.status.label(),
                v.report
            )
        })
        .collect()
}

/// What is wrong with the starters' verdicts: each must compile, run, and
/// fail its checks, saying why (a failed check with its detail, or the
/// error the code returned), not crash.
pub fn starter_problems(verdicts: &[Verdict]) -> Vec<String> {
    let mut problems = Vec::new();
    for v in verdicts {
        let n = &v.id;
        match v.status {
            Status::Solved => problems.push(format!(
                "exercise {n} passes before anyone solved it: its starter passes its checks"
            )),
            Status::NotYet => {
                let explained = v.outcome.as_ref().is_some_and(|o| {
                    o.checks.iter().any(|c| !c.passed && !c.detail.is_empty()) || o.error.is_some()
                });
                if !explained {
                    problems.push(format!(
                        "exercise {n}: its starter fails without saying why (no failed check with a detail, no error):\n{}",
                        v.report
                    ));
                }
            }
            other => problems.push(format!(
                "exercise {n}: its starter must compile and fail its checks, but it {}: {}\n{}",
                other.label(),
                v.summary,
                v.report
            )),
        }
    }
    problems
}

/// The starters, as students get them (in English), in `dir`: written only
/// where they changed, so that an unchanged runner is not rebuilt.
fn write_starters(root: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for e in EXERCISES {
        let solution = root.join(format!("exercises/solutions/{}.rs", e.slug));
        let starter = starter_from_solution(&read(&solution)?)
            .map_err(|why| anyhow::anyhow!("{}: {why}", solution.display()))?;
        write_if_changed(&dir.join(format!("{}.rs", e.slug)), &starter)?;
    }
    Ok(())
}

/// `cargo run --example i18n -- check`, in this program's target directory
/// and the dev profile (the example needs the book's crates: in `cargo
/// test`, they are built already). Its problems, if any.
fn catalogue_problems(root: &Path) -> Result<Vec<String>> {
    let (target_dir, _) = harness::own_build(root);
    let output =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .args([
                "run",
                "--quiet",
                "--example",
                "i18n",
                "--package",
                "kafka-course",
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(["--", "check"])
            .stdin(std::process::Stdio::null())
            .output()
            .context("running `cargo run --example i18n -- check`")?;
    if output.status.success() {
        return Ok(Vec::new());
    }
    let mut problems: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| format!("catalogues: {l}"))
        .collect();
    // Its first line says why (a backtrace may follow).
    let stderr = String::from_utf8_lossy(&output.stderr);
    problems.push(format!(
        "catalogues: `cargo run --example i18n -- check` failed: {}",
        stderr.lines().next().unwrap_or_default()
    ));
    Ok(problems)
}

/// What `course dev check` found.
#[derive(Debug, Default)]
pub struct Findings {
    /// What must be fixed (the command fails).
    pub problems: Vec<String>,
    /// What an author may want to know (a shipped file being solved).
    pub notes: Vec<String>,
}

/// `course dev check`: every invariant of the exercises of the course at
/// `root`, its runners built like `harness` builds them. Prints what it
/// does on standard error as it goes.
pub fn check(root: &Path, harness: &Harness) -> Result<Findings> {
    let mut found = Findings::default();
    if !root.join("exercises/solutions").is_dir() {
        bail!(
            "{} has no exercises/solutions/: a student's copy, whose exercises cannot be checked",
            root.display()
        );
    }
    let in_ci = std::env::var_os("CI").is_some();
    // In English, whatever the command line chose: the table's texts, and
    // the reports of the runners below, are compared with the English.
    i18n::set(Lang::En);
    found.problems.extend(table_problems(EXERCISES, in_french));
    found
        .problems
        .extend(file_problems(root, in_ci, &mut found.notes)?);
    eprintln!(
        "dev check: the table, files, runner targets, titles and hints of {} exercises",
        EXERCISES.len()
    );
    eprintln!("dev check: the catalogues (cargo run --example i18n -- check)");
    found.problems.extend(catalogue_problems(root)?);
    if !found.problems.is_empty() {
        // Building runners on broken files would only repeat what is said.
        return Ok(found);
    }

    eprintln!("dev check: every solution passes its checks (exercises/solutions/)");
    let solutions = harness
        .clone()
        .with_exercises(&root.join("exercises/solutions"), "exercises/solutions");
    found
        .problems
        .extend(solution_problems(&solutions.check(&harness::all())?));

    let dir = harness.scratch_dir("dev-check-starters");
    write_starters(root, &dir)?;
    eprintln!(
        "dev check: every starter fails its checks ({})",
        dir.display()
    );
    let starters = harness.clone().with_exercises(&dir, "starters");
    found
        .problems
        .extend(starter_problems(&starters.check(&harness::all())?));
    Ok(found)
}

/// `course dev check`: [`check`], printed; fails on any problem.
pub fn check_command(root: &Path) -> Result<()> {
    let found = check(root, &Harness::new(root))?;
    for note in &found.notes {
        eprintln!("note: {note}");
    }
    for problem in &found.problems {
        println!("{problem}\n");
    }
    if !found.problems.is_empty() {
        bail!("dev check: {} problem(s)", found.problems.len());
    }
    println!(
        "Every exercise is complete: {} exercises, with their files, runners, titles and hints \
         in both languages; every solution passes its checks, every starter fails them.",
        EXERCISES.len()
    );
    Ok(())
}

/// `course dev update`: [`update`], printed.
pub fn update_command(root: &Path) -> Result<()> {
    let written = update(root)?;
    for file in &written {
        let shown = file.strip_prefix(root).unwrap_or(file);
        println!("wrote {}", shown.display());
    }
    if written.is_empty() {
        println!("Everything the table decides is up to date.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bins_are_the_end_of_the_manifest() {
        let bins = cargo_bins(&EXERCISES[..2]);
        assert_eq!(
            bins,
            "[[bin]]\nname = \"ex1_topic\"\npath = \"runner.rs\"\n\n\
             [[bin]]\nname = \"ex1_2_leaders\"\npath = \"runner.rs\"\n"
        );
        let head = "[package]\nname = \"x\"\n# The runners.\n";
        let stale = format!("{head}\n[[bin]]\nname = \"old\"\npath = \"old.rs\"\n");
        assert_eq!(with_bins(&stale, &bins), format!("{head}\n{bins}"));
        assert_eq!(
            with_bins(&format!("{head}\n"), &bins),
            format!("{head}\n{bins}")
        );
        let current = with_bins(&stale, &bins);
        assert_eq!(with_bins(&current, &bins), current);
    }

    #[test]
    fn the_modules_are_between_their_markers() {
        let source = format!("a\n{MODS_BEGIN}pub mod old;\n{MODS_END}b\n");
        let mods = check_modules(&EXERCISES[..1]);
        assert_eq!(
            with_mods(&source, &mods).unwrap(),
            format!("a\n{MODS_BEGIN}pub mod ex1_topic;\n{MODS_END}b\n")
        );
        assert!(with_mods("no markers", &mods).is_err());
    }

    #[test]
    fn a_wrong_table_is_reported() {
        let bad = [
            Exercise {
                id: "99.2",
                chapter: 99,
                kind: Kind::Fix,
                slug: "ex1topic",
                function: "not a name",
                title: || "",
                hints: &[|| "too short"],
            },
            Exercise {
                id: "2.2",
                chapter: 2,
                kind: Kind::Capstone,
                slug: "ex2_keys",
                function: "to_record",
                title: || "A title nobody translated",
                hints: &[],
            },
        ];
        // No French: the English again.
        let problems = table_problems(&bad, |e| (e.title(), e.hints())).join("\n");
        for expected in [
            "exercise 99.2: is entry 1 of the table: it must be 99.1",
            "its slug \"ex1topic\" is not ex99_2_<word>",
            "exercise 2.2: chapter 2 comes after chapter 99",
            "only the capstone's kind is \"capstone\"",
            "there is no chapter 99",
            "its function \"not a name\" is not a Rust name",
            "its title is empty",
            "hint 1 is not a real hint",
            "its title has no French",
            "it has no hint",
            "it has one hint: give a first nudge, then a stronger one",
        ] {
            assert!(problems.contains(expected), "{expected:?} in:\n{problems}");
        }
    }

    fn verdict(id: &str, status: Status, outcome: Option<super::super::Outcome>) -> Verdict {
        Verdict {
            id: id.to_string(),
            status,
            summary: "summary".into(),
            report: "report".into(),
            outcome,
        }
    }

    #[test]
    fn starters_must_fail_and_say_why_and_solutions_must_pass() {
        use super::super::{Check, Outcome};
        let failed = |detail: &str| Outcome {
            checks: vec![Check {
                name: "a check".into(),
                passed: false,
                detail: detail.into(),
            }],
            ..Outcome::default()
        };
        let verdicts = [
            verdict("1.1", Status::NotYet, Some(failed("because"))),
            verdict("2.1", Status::NotYet, Some(failed(""))),
            verdict("3.1", Status::Solved, None),
            verdict("4.1", Status::Crashed, None),
            verdict("5.1", Status::DoesNotCompile, None),
            verdict(
                "6.1",
                Status::NotYet,
                Some(Outcome {
                    error: Some("your code returned an error".into()),
                    ..Outcome::default()
                }),
            ),
        ];
        let problems = starter_problems(&verdicts);
        let about: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            about,
            [
                "exercise 2.1",
                "exercise 3.1 passes before anyone solved it",
                "exercise 4.1",
                "exercise 5.1"
            ],
            "{problems:#?}"
        );
        let problems = solution_problems(&verdicts);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].starts_with("the solution of exercise 1.1 does not pass"));
    }
}
