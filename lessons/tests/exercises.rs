//! The exercises work as a class needs them to: `course dev check` finds
//! every authoring invariant true (every reference solution passes its
//! checks, every exercise as shipped fails them, the shipped files are what
//! their single source generates, every exercise has its files, runner,
//! hints and chapter); a student's file that does not compile, hangs or
//! panics stops only its own exercise, and says so; and the teacher's
//! commands work on a class. (In a student's copy, made by `course teacher
//! export`, there are no solutions: the tests that need them are ignored
//! there.)
//!
//! Everything runs `course` as a student, a teacher or an author does: it
//! builds the exercise runners with cargo, in this build's target directory
//! and profile, so only the small runner programs compile. Every run of
//! `course` chooses its language (`COURSE_LANG=en`, or `--lang fr` for the
//! French edition's tests), never the machine's locale.

use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_course::exercises::{comments, starter::starter_from_solution, Exercise, EXERCISES};

// The course's library, at this test's root, as the runners have it.
pub use kafka_course::*;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `course dev check`: the table, every exercise's files, runner, title and
/// hints in both languages, its chapter's page, the catalogues; every
/// solution passes its checks (`every_solution_passes_its_checks`, before
/// it was a command), every starter fails them and says why
/// (`every_exercise_fails_its_checks_as_shipped`), each shipped file is the
/// starter of its solution (`shipped_exercises_are_the_starters_of_their_solutions`:
/// a note only, except in CI), each exercise has its files, runner, hint and
/// chapter (`every_exercise_has_its_files_a_runner_a_hint_and_a_chapter`).
/// See lessons/src/exercises/dev.rs.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn dev_check_finds_every_exercise_complete() {
    let (ok, out, err) = run(&["dev", "check"]);
    assert!(ok, "course dev check:\n{out}\n{err}");
    assert!(
        out.contains(&format!(
            "Every exercise is complete: {} exercises",
            EXERCISES.len()
        )),
        "{out}\n{err}"
    );
    for step in [
        "every solution passes its checks",
        "every starter fails its checks",
    ] {
        assert!(err.contains(step), "{step:?} in:\n{err}");
    }
}

#[test]
fn starter_markers_are_checked() {
    assert_eq!(
        starter_from_solution(
            "a\n  //@ starter: b();\n  //@ solution-begin\n  c();\n  //@ solution-end\nd\n"
        )
        .unwrap(),
        "a\n  b();\nd\n"
    );
    assert!(starter_from_solution("//@ solution-begin\n").is_err());
    assert!(starter_from_solution("//@ solution-end\n").is_err());
    assert!(starter_from_solution("//@ typo\n").is_err());
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn starter_of(e: &Exercise) -> String {
    let source = read(&root().join(format!("exercises/solutions/{}.rs", e.slug)));
    starter_from_solution(&source).unwrap()
}

/// `course`, in English unless the arguments say `--lang fr`.
fn course() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_course"));
    c.env_remove("KAFKA_BOOTSTRAP_SERVERS");
    c.env("COURSE_LANG", "en");
    // Verdicts are recorded here, not into the course's own record.
    c.env(
        "COURSE_PROGRESS",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("exercises-progress.json"),
    );
    c
}

/// Run `course` with `args`: (success, stdout, stderr).
fn run(args: &[&str]) -> (bool, String, String) {
    let out = course().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A fresh folder for one test, in cargo's scratch space for tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An `exercises/` folder as handed out, in the copy at `dir`.
fn handed_out(dir: &Path) {
    std::fs::create_dir_all(dir.join("exercises")).unwrap();
    for e in EXERCISES {
        std::fs::write(dir.join(format!("exercises/{}.rs", e.slug)), starter_of(e)).unwrap();
    }
}

/// Replace `from` by `to` in the student's file of exercise `number`.
fn edit(dir: &Path, id: &str, from: &str, to: &str) {
    let e = exercises::exercise(id).unwrap();
    let path = dir.join(format!("exercises/{}.rs", e.slug));
    let text = read(&path);
    assert!(text.contains(from), "{}: no {from:?}", path.display());
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The line of `text` whose first word is `first`.
fn row<'t>(text: &'t str, first: &str) -> &'t str {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first}:\n{text}"))
}

/// The cells of a table's line: the text between runs of two spaces or more.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The line number of `needle` in the student's file of exercise `number`.
fn line_of(dir: &Path, id: &str, needle: &str) -> usize {
    let e = exercises::exercise(id).unwrap();
    let text = read(&dir.join(format!("exercises/{}.rs", e.slug)));
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in {}", e.slug))
}

#[test]
fn unknown_exercise_lists_the_exercises() {
    let (ok, _, err) = run(&["exercise", "99"]);
    assert!(!ok);
    assert!(
        err.contains("there is no exercise 99") && err.contains("\n  1.1       A topic"),
        "{err}"
    );
    let (ok, _, _) = run(&["hint", "99"]);
    assert!(!ok);
}

#[test]
fn exercise_command_explains_a_failure_and_exits_non_zero() {
    let (ok, stdout, stderr) = run(&["exercise", "1"]);
    if std::env::var_os("CI").is_some() {
        assert!(!ok, "exercise 1 is unsolved as shipped");
        assert!(
            stdout.contains("FAIL") && stdout.contains("just hint 1.1"),
            "{stdout}"
        );
        assert!(stderr.contains("exercise 1.1: not solved yet"), "{stderr}");
    }
    assert!(
        stdout.contains("Exercise 1.1: A topic for a group of four consumers"),
        "{stdout}\n{stderr}"
    );
}

/// One copy with four kinds of trouble: exercise 3 does not compile,
/// exercise 2 never returns, exercise 4 panics, exercises 5 to 7 are gone.
/// Each is reported as what it is, in its own row, and exercise 1 and the
/// lessons still work.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn a_broken_a_hanging_and_a_panicking_exercise_stop_only_themselves() {
    let copy = scratch("troubled-copy");
    handed_out(&copy);
    edit(
        &copy,
        "3",
        "config.set(\"retries\", \"0\");",
        "config.set(\"retries\", \"0\")\n    let",
    );
    // Exercise 2's `to_record` never returns.
    edit(
        &copy,
        "2",
        "    // TODO: which key",
        "    #[allow(clippy::empty_loop)]\n    loop {}\n    // TODO: which key",
    );
    edit(
        &copy,
        "4",
        "    let offset = processed.offset();",
        "    let offset = processed.offset();\n    if offset == 2 {\n        panic!(\"offset {offset} is cursed\");\n    }",
    );
    for slug in ["ex5_late", "ex6_commit", "ex7_status"] {
        std::fs::remove_file(copy.join(format!("exercises/{slug}.rs"))).unwrap();
    }
    let copy_arg = copy.to_str().unwrap();
    let shown = format!("{copy_arg}/exercises");

    // Every exercise gets its row, whatever the others do.
    let (_, table, err) = run(&["exercises", "--copy", copy_arg, "--time-limit", "5"]);
    let status = |n: &str| cells(row(&table, n))[2..].to_vec();
    let broken = status("3.1");
    assert!(
        broken[0] == "does not compile" && broken[1].starts_with(&format!("{shown}/ex3_acks.rs:")),
        "{table}\n{err}"
    );
    assert_eq!(
        status("2.1"),
        [
            "timed out",
            "no verdict after 5 s, while producing each command with the key and value of your to_record"
        ],
        "{table}\n{err}"
    );
    let panic_line = line_of(&copy, "4", "is cursed");
    assert_eq!(
        status("4.1"),
        [
            "crashed",
            &format!(
                "your code panicked at {shown}/ex4_commit.rs:{panic_line}: offset 2 is cursed"
            )
        ],
        "{table}\n{err}"
    );
    assert!(status("1.1")[0].ends_with(" checks"), "{table}\n{err}");
    assert_eq!(
        status("5.1"),
        ["missing", &format!("{shown}/ex5_late.rs is missing")],
        "{table}\n{err}"
    );
    assert_eq!(status("7.1")[0], "missing", "{table}\n{err}");
    assert!(
        table.contains(&format!("0 of {} exercises solved", EXERCISES.len())),
        "{table}"
    );

    // The panic, in one exercise's report: the student's file and line, the
    // chapter, no backtrace.
    let (ok, report, err) = run(&["exercise", "4", "--copy", copy_arg]);
    assert!(!ok);
    assert!(
        report.contains(&format!(
            "your code panicked at {shown}/ex4_commit.rs:{panic_line}: offset 2 is cursed"
        )) && report.contains("reread chapter 4")
            && report.contains(
                "while a consumer processes offsets 0 to 3, calling your commit_processed"
            ),
        "{report}\n{err}"
    );
    assert!(
        !format!("{report}{err}").contains("backtrace"),
        "{report}\n{err}"
    );
    assert!(err.contains("exercise 4.1: crashed"), "{err}");

    // The compiler's error, with the code, names the student's file.
    let (ok, report, _) = run(&["exercise", "3", "--copy", copy_arg]);
    assert!(!ok);
    assert!(
        report.contains("Your file does not compile")
            && report.contains(&format!("{shown}/ex3_acks.rs:")),
        "{report}"
    );

    // The lessons do not depend on the exercises at all.
    let (ok, lesson, err) = run(&["lesson", "1"]);
    assert!(ok && lesson.starts_with("Lesson 1:"), "{lesson}\n{err}");
}

/// A class of three, as the teachers' page shows it: one copy with
/// exercise 1 solved, one whose exercise 4 does not compile, one as handed
/// out. Exported with `course teacher export`, checked with `course teacher
/// check` on the folder that holds them, all in the language `lang`.
struct Class {
    /// `course teacher check`'s output: the table, and its standard error.
    table: String,
    err: String,
    csv: String,
    /// The line of Bob's missing semicolon.
    bob_line: usize,
}

fn check_a_class(name: &str, lang: &str) -> Class {
    let class = scratch(name);
    for student in ["alice", "bob", "carol"] {
        let copy = class.join(student);
        let (ok, _, err) = run(&["--lang", lang, "teacher", "export", copy.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert!(
            !copy.join("exercises/solutions").exists(),
            "the student's copy has no solutions"
        );
        assert!(copy.join("Cargo.lock").is_file() && copy.join("book/src/SUMMARY.md").is_file());
        // In English, the starters exactly (French: see
        // teacher_export_in_french_explains_the_exercises_in_french).
        if lang == "en" {
            for e in EXERCISES {
                assert_eq!(
                    read(&copy.join(format!("exercises/{}.rs", e.slug))),
                    starter_of(e),
                    "exercise {} starts unsolved",
                    e.id
                );
            }
        }
    }
    // Alice solves exercise 1 (with the reference solution, here).
    std::fs::copy(
        root().join("exercises/solutions/ex1_topic.rs"),
        class.join("alice/exercises/ex1_topic.rs"),
    )
    .unwrap();
    // Bob's exercise 4 misses a semicolon.
    let bob = class.join("bob");
    edit(
        &bob,
        "4",
        "let offset = processed.offset();",
        "let offset = processed.offset()",
    );
    let out = course()
        .current_dir(&class)
        .args([
            "--lang",
            lang,
            "teacher",
            "check",
            ".",
            "--csv",
            "class.csv",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{table}\n{err}");
    Class {
        csv: read(&class.join("class.csv")),
        bob_line: line_of(&bob, "4", "let offset = processed.offset()"),
        table,
        err,
    }
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_exports_a_class_and_checks_it() {
    let Class {
        table,
        err,
        csv,
        bob_line: line,
        ..
    } = check_a_class("class", "en");
    let n = EXERCISES.len();
    let expected = Expected::new("not yet", "does not compile", "solved", "of");
    assert_eq!(cells(row(&table, "alice")), expected.alice(), "{table}");
    assert_eq!(
        cells(row(&table, "bob"))[expected.bob_column()],
        "does not compile",
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "bob ex4.1: does not compile: bob/exercises/ex4_commit.rs:{line}"
        )),
        "{table}"
    );
    assert!(
        row(&table, "carol").ends_with(&format!("0 of {n}")),
        "{table}"
    );
    assert_eq!(
        cells(row(&table, "solved")),
        expected.totals("solved"),
        "{table}"
    );
    assert!(err.contains("3 copies in"), "{err}");
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        expected.csv("student", "solved")
    );
    // The teachers' page shows this very table.
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("teacher_check", table);
    });

    // Carol's files are all as Bob's or Alice's were: their verdicts are
    // reused, not built and run again.
    assert!(
        err.contains(&format!("checked carol: 0 of {n} solved"))
            && err.contains(&format!("{n} file(s) seen in an earlier copy")),
        "{err}"
    );
}

/// The same class in French (`--lang fr` for the export and the check),
/// as the French teachers' page shows it: every word of the table and of
/// the CSV is French, and the columns still line up.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_exports_a_class_and_checks_it_in_french() {
    let Class {
        table,
        err,
        csv,
        bob_line: line,
        ..
    } = check_a_class("class-fr", "fr");
    let n = EXERCISES.len();
    let expected = Expected::new("pas encore", "ne compile pas", "résolu", "sur");
    assert_eq!(cells(row(&table, "alice")), expected.alice(), "{table}");
    assert_eq!(
        cells(row(&table, "bob"))[expected.bob_column()],
        "ne compile pas",
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "bob ex4.1\u{a0}: ne compile pas\u{a0}: bob/exercises/ex4_commit.rs:{line}"
        )),
        "{table}"
    );
    assert!(
        row(&table, "carol").ends_with(&format!("0 sur {n}")),
        "{table}"
    );
    assert_eq!(
        cells(row(&table, "résolus")),
        expected.totals("résolus"),
        "{table}"
    );
    // Every row's cells start where the header's do (widths in characters:
    // "résolu" is 6 wide and 7 bytes long).
    let starts = |line: &str| -> Vec<usize> {
        let chars: Vec<char> = line.chars().collect();
        (0..chars.len())
            .filter(|&i| chars[i] != ' ' && (i == 0 || (i >= 2 && chars[i - 2..i] == [' ', ' '])))
            .collect()
    };
    let header = row(&table, "étudiant");
    let ids: Vec<String> = EXERCISES.iter().map(|e| format!("ex{}", e.id)).collect();
    assert_eq!(cells(header)[1..=n], ids);
    for student in ["alice", "bob", "carol", "résolus"] {
        assert_eq!(starts(row(&table, student)), starts(header), "{table}");
    }
    assert!(
        table.contains("Ce qui a empêché une vérification de rendre son verdict\u{a0}:"),
        "{table}"
    );
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        expected.csv("étudiant", "résolus")
    );
    assert!(
        err.contains(&format!("copie de carol vérifiée\u{a0}: 0/{n} résolus"))
            && err.contains(&format!(
                "fichiers déjà vus dans une copie précédente\u{a0}: {n})"
            ))
            && err.contains("copies vérifiées\u{a0}: 3 en"),
        "{err}"
    );
    // The French teachers' page shows this table (book/src/teachers.md,
    // built in French, includes snapshots/fr/ instead of snapshots/).
    insta::with_settings!({
        snapshot_path => "snapshots/fr",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("teacher_check", table);
    });
}

/// What the class of [`check_a_class`] must show, in the table's words:
/// Alice solved exercise 1.1, Bob's 4.1 does not compile, Carol did nothing.
struct Expected {
    not_yet: &'static str,
    broken: &'static str,
    solved: &'static str,
    of: &'static str,
}

impl Expected {
    fn new(
        not_yet: &'static str,
        broken: &'static str,
        solved: &'static str,
        of: &'static str,
    ) -> Self {
        Expected {
            not_yet,
            broken,
            solved,
            of,
        }
    }

    /// Bob's 4.1, counted from the student's name.
    fn bob_column(&self) -> usize {
        1 + EXERCISES.iter().position(|e| e.id == "4.1").unwrap()
    }

    fn alice(&self) -> Vec<String> {
        let n = EXERCISES.len();
        let mut row = vec!["alice".to_string(), self.solved.to_string()];
        row.extend(std::iter::repeat_n(self.not_yet.to_string(), n - 1));
        row.push(format!("1 {} {n}", self.of));
        row
    }

    fn totals(&self, name: &str) -> Vec<String> {
        let n = EXERCISES.len();
        let mut row = vec![name.to_string(), format!("1 {} 3", self.of)];
        row.extend(std::iter::repeat_n(format!("0 {} 3", self.of), n - 1));
        row.push(format!("1 {} {}", self.of, 3 * n));
        row
    }

    fn csv(&self, student: &str, solved: &str) -> Vec<String> {
        let n = EXERCISES.len();
        let ids: Vec<String> = EXERCISES.iter().map(|e| format!("ex{}", e.id)).collect();
        let mut lines = vec![format!("{student},{},{solved}", ids.join(","))];
        let row = |name: &str, cells: Vec<&str>, count: usize| {
            format!("{name},{},{count}", cells.join(","))
        };
        let mut alice = vec![self.not_yet; n];
        alice[0] = self.solved;
        lines.push(row("alice", alice, 1));
        let mut bob = vec![self.not_yet; n];
        bob[self.bob_column() - 1] = self.broken;
        lines.push(row("bob", bob, 0));
        lines.push(row("carol", vec![self.not_yet; n], 0));
        let mut totals = vec!["0"; n];
        totals[0] = "1";
        lines.push(row(solved, totals, 1));
        lines
    }
}

/// The code of a Rust file: its lines that are not whole-line comments.
fn code_of(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect()
}

/// `course teacher export --lang fr` hands out the exercises explained in
/// French: every comment that explains the task, every TODO, with the code
/// of the starter unchanged; and each file, as handed out, compiles and
/// fails its checks.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_export_in_french_explains_the_exercises_in_french() {
    let copy = scratch("french-copy");
    let copy_arg = copy.to_str().unwrap();
    let (ok, out, err) = run(&["--lang", "fr", "teacher", "export", copy_arg]);
    assert!(ok, "{err}");
    assert!(
        out.contains("fichiers copiés dans") && out.contains("Les étudiants y lancent"),
        "{out}"
    );
    for e in EXERCISES {
        let english = starter_of(e);
        let french = read(&copy.join(format!("exercises/{}.rs", e.slug)));
        assert_eq!(
            code_of(&french),
            code_of(&english),
            "exercise {}: the code is the starter's",
            e.id
        );
        let in_french: Vec<String> = comments::paragraphs(&french)
            .into_iter()
            .map(|p| p.text)
            .collect();
        for p in comments::paragraphs(&english) {
            assert!(
                !in_french.contains(&p.text),
                "exercises/{}.rs: still in English: {:?}",
                e.slug,
                p.text
            );
        }
        assert!(
            (french.contains(&format!("Exercice {} (chapitre {})", e.id, e.chapter))
                || e.id == "capstone")
                && french.contains("TODO")
                && french.contains(&format!("`just exercise {}`", e.id))
                && french.contains("Vous bloquez\u{a0}?"),
            "exercises/{}.rs:\n{french}",
            e.slug
        );
    }
    // As handed out, every French file compiles and fails its checks (and
    // the progress table says so in French).
    let (_, table, err) = run(&["--lang", "fr", "exercises", "--copy", copy_arg]);
    assert!(table.starts_with("exercice  type"), "{table}\n{err}");
    for e in EXERCISES {
        let result = cells(row(&table, e.id))[2];
        assert!(
            result.ends_with(" vérifications réussies") || result == "pas encore",
            "{result:?}:\n{table}\n{err}"
        );
    }
    assert!(
        table.contains(&format!(
            "Exercices résolus\u{a0}: 0 sur {}. Suivant\u{a0}: `just exercise 1.1`.",
            EXERCISES.len()
        )),
        "{table}"
    );
}

/// `course --lang fr exercise 4` on the file as shipped: what fails, where,
/// and what to do, in French; and a verdict remembered from an English run
/// is not served to it.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn exercise_4_as_shipped_reports_in_french() {
    let copy = scratch("french-exercise-4");
    handed_out(&copy);
    let copy_arg = copy.to_str().unwrap();
    let shown = format!("{copy_arg}/exercises");
    // English first: its verdict is remembered.
    let (ok, english, err) = run(&["exercise", "4", "--copy", copy_arg]);
    assert!(
        !ok && english.contains("Not yet: 0 of 4 checks pass"),
        "{english}\n{err}"
    );
    let (ok, report, err) = run(&["--lang", "fr", "exercise", "4", "--copy", copy_arg]);
    assert!(!ok, "exercise 4 is unsolved as shipped");
    for expected in [
        "Exercice 4.1\u{a0}: Corriger un commit décalé d'une unité (chapitre 4)\n",
        &format!("Votre fichier\u{a0}: {shown}/ex4_commit.rs\n"),
        "  ÉCHEC une fois les offsets 0 à 3 traités, l'offset commité est 4, le prochain à lire\n",
        "Une fois les offsets 0 à 3 traités, l'offset commité du groupe est 3.",
        "un redémarrage traiterait une seconde fois l'offset 3 (lot-D M2 drill)",
        "(chapitre 4\u{a0}: offsets et commits)",
        "L'enregistrement 3 (lot-D M2 drill) a été traité deux fois\u{a0}: le groupe avait\n",
        "Pas encore (vérifications réussies\u{a0}: 0 sur 4). Vous bloquez\u{a0}? `just hint 4.1`\n",
    ] {
        assert!(
            report.contains(expected),
            "{expected:?} in:\n{report}\n{err}"
        );
    }
    for english in [
        "FAIL",
        "PASS",
        "Not yet",
        "checks pass",
        "chapter",
        "Nothing changed",
    ] {
        assert!(!report.contains(english), "{english:?} in:\n{report}");
    }
}

/// Building a runner must not rebuild the course's dependencies: its
/// package asks for no feature the course does not already enable, with or
/// without the course's test-only dependencies. (Otherwise each first
/// `course exercise N` after `cargo test`, or after `cargo build`, would
/// compile librdkafka and the library again, with other features; so would
/// the book's browser tests, which build `course` as a plain build does.)
/// Of those dependencies only insta changes one today (once_cell's
/// `default`, enabled in lessons/Cargo.toml); the book's package is not one
/// of them: its tests run as a cargo of their own (tests/book.rs).
#[test]
fn runners_share_the_courses_dependency_features() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let features = |args: &[&str]| -> Vec<String> {
        let out = Command::new(&cargo)
            .current_dir(root())
            .args([
                "tree",
                "--offline",
                "--prefix",
                "none",
                "--format",
                "{p} {f}",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.trim_end_matches(" (*)").to_string())
            // The course's own packages differ by definition.
            .filter(|l| !l.starts_with("kafka-course"))
            .collect();
        lines.sort();
        lines.dedup();
        lines
    };
    let course_alone = features(&["-p", "kafka-course", "-e", "normal,build"]);
    let runners = features(&["-p", "kafka-course-exercises", "-e", "normal,build"]);
    assert_eq!(
        runners, course_alone,
        "the runners' dependencies differ from the course's"
    );
    // Under `cargo test`, the course's dev-dependencies join in: they must
    // not change a feature of a dependency the runners share.
    // (A package may appear twice, for build scripts and for the program,
    // with features of its own: each of the course's must still be there.)
    let with_dev = features(&["-p", "kafka-course", "-e", "normal,build,dev"]);
    let changed: Vec<&String> = course_alone
        .iter()
        .filter(|l| !with_dev.contains(l))
        .collect();
    assert!(
        changed.is_empty(),
        "the dev-dependencies change the features of these: {changed:#?}\n\
         (enable them in lessons/Cargo.toml, so that test builds and runner builds agree)"
    );
}
