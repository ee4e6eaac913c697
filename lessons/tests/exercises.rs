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
    let mut c = course();
    c.args(args);
    output(c)
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

/// One copy with five kinds of trouble: exercise 3 does not compile,
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
    // Exercise 1's code asks for more memory than a check may take.
    edit(
        &copy,
        "1",
        "    let partitions = 1;",
        "    std::hint::black_box(vec![1u8; 8 << 30]);\n    let partitions = 1;",
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
    // Stopped by the runner's memory limit, not the machine's.
    let hog = status("1.1");
    assert!(
        hog[0] == "crashed"
            && hog[1]
                .starts_with("the program stopped out of memory (a check may take at most 4 GiB)"),
        "{table}\n{err}"
    );
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
    /// `--csv-excel`'s file, as bytes.
    excel: Vec<u8>,
    /// The line of Bob's missing semicolon.
    bob_line: usize,
    /// Chapter 1's quiz answers Carol got right, as her record says.
    carol_right: usize,
    /// A second check of the same class, unchanged: its table and its
    /// standard error.
    again: String,
    again_err: String,
}

/// The class checks' time limit per exercise, in seconds.
const CLASS_TIME_LIMIT: &str = "120";

fn check_a_class(name: &str, lang: &str) -> Class {
    let class = scratch(name);
    // Verdicts kept between checks go here, empty at first.
    let cache = scratch(&format!("{name}-verdicts"));
    for student in ["alice", "bob", "carol"] {
        let copy = class.join(student);
        let (ok, _, err) = run(&[
            "--lang",
            lang,
            "teacher",
            "export",
            "--without-book",
            copy.to_str().unwrap(),
        ]);
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
    // Alice started exercise 4.1 and has not found the fix yet.
    edit(
        &class.join("alice"),
        "4",
        "let offset = processed.offset();",
        "let offset = processed.offset(); // the offset of the last record done?",
    );
    // Carol took chapter 1's quiz and asked for a hint, in her copy: both
    // are kept in her copy's record, which the table reads.
    let carol_record = class.join("carol/.course/progress.json");
    let mut quiz = course()
        .env("COURSE_PROGRESS", &carol_record)
        .args(["--lang", lang, "quiz", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        quiz.stdin
            .take()
            .unwrap()
            .write_all(b"a\na\na\na\na\n")
            .unwrap();
    }
    assert!(quiz.wait().unwrap().success());
    let hint = course()
        .env("COURSE_PROGRESS", &carol_record)
        .args(["hint", "2"])
        .output()
        .unwrap();
    assert!(hint.status.success());
    let record: serde_json::Value = serde_json::from_str(&read(&carol_record)).unwrap();
    let carol_right = record["quizzes"]["1"]["right"].as_u64().unwrap() as usize;
    assert_eq!(record["exercises"]["2.1"]["hints_seen"], 1, "{record}");
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
        .env("COURSE_CLASS_CACHE", &cache)
        .args([
            "--lang",
            lang,
            "teacher",
            "check",
            ".",
            "--csv",
            "class.csv",
            "--csv-excel",
            "class-excel.csv",
            // This test is not about slow code (another one is): a limit
            // well above a loaded machine's worst keeps it about the table.
            "--time-limit",
            CLASS_TIME_LIMIT,
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{table}\n{err}");
    // Again, nothing changed: every verdict is the one kept from the first
    // check (no build, no run), and the table is the same.
    let again = course()
        .current_dir(&class)
        .env("COURSE_CLASS_CACHE", &cache)
        .args([
            "--lang",
            lang,
            "teacher",
            "check",
            ".",
            "--time-limit",
            CLASS_TIME_LIMIT,
        ])
        .output()
        .unwrap();
    assert!(again.status.success());
    Class {
        csv: read(&class.join("class.csv")),
        excel: std::fs::read(class.join("class-excel.csv")).unwrap(),
        bob_line: line_of(&bob, "4", "let offset = processed.offset()"),
        carol_right,
        table,
        err,
        again: String::from_utf8(again.stdout).unwrap(),
        again_err: String::from_utf8_lossy(&again.stderr).to_string(),
    }
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_exports_a_class_and_checks_it() {
    let class = check_a_class("class", "en");
    let (table, err, line) = (&class.table, &class.err, class.bob_line);
    let n = EXERCISES.len();
    let expected = Expected::new("solved");
    assert_eq!(cells(row(table, "alice")), expected.alice(), "{table}");
    assert_eq!(
        cells(row(table, "bob"))[expected.bob_column()],
        "comp",
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "bob ex4.1: does not compile: bob/exercises/ex4_commit.rs:{line}"
        )),
        "{table}"
    );
    assert_eq!(
        cells(row(table, "carol")),
        expected.carol(class.carol_right),
        "{table}"
    );
    assert_eq!(cells(row(table, "solved")), expected.totals(), "{table}");
    assert!(table.contains("\nok = solved, 2/3 = started"), "{table}");
    assert!(err.contains("3 copies in"), "{err}");
    expected.check_csv(&class);
    // The teachers' page shows this very table.
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("teacher_check", table);
    });

    // Carol's files are all as handed out, as Bob's or Alice's were, but
    // for 4.1 (both edited theirs): those verdicts are reused, not built and
    // run again.
    assert!(
        err.contains(&format!("checked carol: 0 of {n} solved"))
            && err.contains(&format!(
                "{} file(s) seen in an earlier copy or check)\n",
                n - 1
            )),
        "{err}"
    );
    // Checked again, unchanged: every file's verdict is kept from the first
    // check, for every copy.
    assert_eq!(class.again, class.table);
    for student in ["alice", "bob", "carol"] {
        assert!(
            class.again_err.contains(&format!("checked {student}: "))
                && class
                    .again_err
                    .matches(&format!("{n} file(s) seen in an earlier copy or check"))
                    .count()
                    == 3,
            "{}",
            class.again_err
        );
    }
}

/// The same class in French (`--lang fr` for the export and the check),
/// as the French teachers' page shows it: every word of the table is
/// French, the CSV's codes are the same in every language, and the columns
/// still line up.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_exports_a_class_and_checks_it_in_french() {
    let class = check_a_class("class-fr", "fr");
    let (table, err, line) = (&class.table, &class.err, class.bob_line);
    let n = EXERCISES.len();
    let expected = Expected::new("résolus");
    assert_eq!(cells(row(table, "alice")), expected.alice(), "{table}");
    assert_eq!(
        cells(row(table, "bob"))[expected.bob_column()],
        "comp",
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "bob ex4.1\u{a0}: ne compile pas\u{a0}: bob/exercises/ex4_commit.rs:{line}"
        )),
        "{table}"
    );
    assert_eq!(
        cells(row(table, "carol")),
        expected.carol(class.carol_right),
        "{table}"
    );
    assert_eq!(cells(row(table, "résolus")), expected.totals(), "{table}");
    assert!(table.contains("\nok = résolu, 2/3 = commencé"), "{table}");
    // Every row's cells start where the header's do (widths in characters:
    // "résolus" is 7 wide and 8 bytes long).
    let starts = |line: &str| -> Vec<usize> {
        let chars: Vec<char> = line.chars().collect();
        (0..chars.len())
            .filter(|&i| chars[i] != ' ' && (i == 0 || (i >= 2 && chars[i - 2..i] == [' ', ' '])))
            .collect()
    };
    let header = row(table, "étudiant");
    for (cell, e) in cells(header)[1..=n].iter().zip(EXERCISES) {
        if e.id != "capstone" {
            assert_eq!(*cell, e.id, "{table}");
        }
    }
    for student in ["alice", "bob", "carol", "résolus"] {
        // The totals' row has no quiz or hints cells.
        let (mine, all) = (starts(row(table, student)), starts(header));
        assert_eq!(mine, all[..mine.len()], "{table}");
    }
    assert!(
        table.contains("Ce qui a empêché une vérification de rendre son verdict\u{a0}:"),
        "{table}"
    );
    expected.check_csv(&class);
    assert!(
        err.contains(&format!("copie de carol vérifiée\u{a0}: 0/{n} résolus"))
            && err.contains(&format!(
                "fichiers déjà vus dans une copie ou une vérification précédente\u{a0}: {})\n",
                n - 1
            ))
            && err.contains("copies vérifiées\u{a0}: 3 en"),
        "{err}"
    );
    assert_eq!(class.again, class.table);
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

/// What the class of [`check_a_class`] must show: Alice solved exercise
/// 1.1, Bob's 4.1 does not compile, Carol did nothing; none took a quiz or
/// a hint. `solved` names the totals' row in the table's language.
struct Expected {
    solved: &'static str,
}

impl Expected {
    fn new(solved: &'static str) -> Self {
        Expected { solved }
    }

    /// Bob's 4.1, counted from the student's name.
    fn bob_column(&self) -> usize {
        1 + EXERCISES.iter().position(|e| e.id == "4.1").unwrap()
    }

    /// Alice: 1.1 solved, 4.1 started (none of its 4 checks passes yet).
    fn alice(&self) -> Vec<String> {
        let n = EXERCISES.len();
        let mut row = vec!["alice".to_string(), "ok".to_string()];
        row.extend(std::iter::repeat_n(".".to_string(), n - 1));
        row[self.bob_column()] = "0/4".to_string();
        row.extend([format!("1/{n}"), ".".to_string(), "0".to_string()]);
        row
    }

    /// Carol: nothing started; chapter 1's quiz taken, one hint seen.
    fn carol(&self, right: usize) -> Vec<String> {
        let n = EXERCISES.len();
        let mut row = vec!["carol".to_string()];
        row.extend(std::iter::repeat_n(".".to_string(), n));
        row.extend([format!("0/{n}"), format!("{right}/5"), "1".to_string()]);
        row
    }

    fn totals(&self) -> Vec<String> {
        let n = EXERCISES.len();
        let mut row = vec![self.solved.to_string(), "1/3".to_string()];
        row.extend(std::iter::repeat_n("0/3".to_string(), n - 1));
        row.push(format!("1/{}", 3 * n));
        row
    }

    /// The CSV, the same codes in every language, one line per student and
    /// exercise; and the spreadsheet's variant: `;`, with a byte-order mark.
    fn check_csv(&self, class: &Class) {
        let n = EXERCISES.len();
        let lines: Vec<&str> = class.csv.lines().collect();
        assert_eq!(
            lines[0],
            "student,item,kind,status,checks_passed,checks_total,hints_seen,attempts,solved_at,last_activity"
        );
        // Each student's exercises, and Carol's quiz.
        assert_eq!(lines.len(), 1 + 3 * n + 1, "{}", class.csv);
        assert!(
            lines[1].starts_with("alice,exercise-1.1,fix,solved,"),
            "{}",
            class.csv
        );
        let alice_4 = lines[self.bob_column()];
        assert!(
            alice_4.starts_with("alice,exercise-4.1,fix,in_progress,0,4,0,0,,"),
            "{}",
            class.csv
        );
        let untouched = lines[2..=n]
            .iter()
            .filter(|l| l.contains(",not_started,"))
            .count();
        assert_eq!(untouched, n - 2, "{}", class.csv);
        // Carol's line of exercise 2.1, wherever the table puts it.
        let carol_2 = lines[1 + 2 * n..1 + 3 * n]
            .iter()
            .find(|l| l.starts_with("carol,exercise-2.1,"))
            .copied()
            .unwrap_or_default();
        assert!(
            carol_2.starts_with("carol,exercise-2.1,fix,not_started,")
                && carol_2.contains(",1,0,,"),
            "one hint seen, no check run by her: {}",
            class.csv
        );
        let quiz = lines[1 + 3 * n];
        assert!(
            quiz.starts_with(&format!(
                "carol,quiz-1,quiz,answered,{},5,,1,,",
                class.carol_right
            )),
            "{}",
            class.csv
        );
        let bob = lines[1 + n + self.bob_column() - 1];
        assert!(
            bob.starts_with("bob,exercise-4.1,fix,does_not_compile,0,0,0,0,"),
            "{}",
            class.csv
        );
        assert!(class.csv.ends_with("\r\n"), "CSV lines end with CRLF");
        let excel = String::from_utf8(class.excel.clone()).unwrap();
        let excel = excel.strip_prefix('\u{feff}').expect("a byte-order mark");
        assert_eq!(excel, class.csv.replace(',', ";"));
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
    let (ok, out, err) = run(&[
        "--lang",
        "fr",
        "teacher",
        "export",
        "--without-book",
        copy_arg,
    ]);
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

/// `course teacher export --lang fr --offline`: a student's copy that opens
/// on the French README, can start an exercise over without the solutions
/// (the starters travel with it), and has every crate it needs, with the
/// cargo configuration to use them: cargo finds everything without the
/// network, from an empty cargo home.
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn a_french_offline_export_opens_in_french_resets_and_needs_no_network() {
    let copy = scratch("offline-copy");
    let copy_arg = copy.to_str().unwrap();
    let (ok, out, err) = run(&["--lang", "fr", "teacher", "export", "--offline", copy_arg]);
    assert!(ok, "{out}\n{err}");
    // The book, both editions, built after every source it is made of: the
    // copy serves it as it is (course serve builds no mdBook for it).
    let built = |p: &str| {
        std::fs::metadata(copy.join(p))
            .and_then(|m| m.modified())
            .unwrap()
    };
    assert!(
        copy.join("book/build/index.html").is_file()
            && copy.join("book/build/fr/ch4_consumer.html").is_file()
    );
    let stamp = built("book/build/.built");
    for source in [
        "book/book.toml",
        "book/po/fr.po",
        "book/src/ch4_consumer.md",
    ] {
        assert!(
            built(source) <= stamp,
            "{source} is newer than the copy's book"
        );
    }
    assert!(
        out.contains("Les étudiants y lancent `just watch`"),
        "{out}"
    );

    let readme = read(&copy.join("README.md"));
    assert!(
        readme.starts_with("# Apprendre Apache Kafka avec Rust")
            && readme.contains("[README.en.md](README.en.md)"),
        "{readme}"
    );
    assert!(read(&copy.join("README.en.md")).starts_with("# Learn Apache Kafka with Rust"));
    assert!(!copy.join("README.fr.md").exists());

    // A student's edit, then a fresh start, from the starters the copy has.
    assert!(!copy.join("exercises/solutions").exists());
    let e = exercises::exercise("4").unwrap();
    let file = copy.join(format!("exercises/{}.rs", e.slug));
    let handed_out = read(&file);
    std::fs::write(&file, "// a student's mess\n").unwrap();
    exercises::reset(&copy, e).unwrap();
    assert_eq!(read(&file), handed_out);
    assert!(
        handed_out.contains("Exercice 4.1 (chapitre 4)"),
        "{handed_out}"
    );

    // Every crate, from vendor/, with nothing downloaded and no network.
    let config = read(&copy.join(".cargo/config.toml"));
    assert!(
        config.contains("vendored-sources") && config.contains("directory = \"vendor\""),
        "{config}"
    );
    let empty_home = copy.join("empty-cargo-home");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let fetched = Command::new(cargo)
        .current_dir(&copy)
        .env("CARGO_HOME", &empty_home)
        .args(["fetch", "--offline", "--locked"])
        .output()
        .unwrap();
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let _ = std::fs::remove_dir_all(&copy);
}

/// `course teacher live`, started as a teacher does (it builds its server
/// first), on loopback and a free port; stopped when dropped. Its standard
/// output is not a terminal: each change is a line, kept in `lines`.
struct Live {
    child: std::process::Child,
    join_url: String,
    page_url: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Live {
    fn start(data: &Path) -> Live {
        use std::io::BufRead;
        let mut child = course()
            .args(["teacher", "live", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut join_url, mut page_url) = (None, None);
        // The first time, cargo builds the server: minutes on a slow machine.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while join_url.is_none() || page_url.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines
                .recv_timeout(left)
                .expect("course teacher live prints its addresses");
            let word = |prefix: &str| {
                line.split_whitespace()
                    .find(|w| w.starts_with(prefix))
                    .map(str::to_string)
            };
            if line.trim_start().starts_with("course join") {
                join_url = word("http://");
            }
            if line.contains("/teacher/") {
                page_url = word("http://");
            }
        }
        Live {
            child,
            join_url: join_url.unwrap(),
            page_url: page_url.unwrap(),
            lines,
        }
    }

    /// Wait for a change line that contains `needle`.
    fn said(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("course teacher live never said {needle:?}"),
            }
        }
    }
}

/// A student's `course`, with their own record (and so their own class file).
fn student(home: &Path) -> Command {
    let mut c = course();
    c.env("COURSE_PROGRESS", home.join("progress.json"));
    c.env_remove("COURSE_TEACHER").env_remove("COURSE_STUDENT");
    c
}

/// Run `c`: (success, stdout, stderr).
fn output(mut c: Command) -> (bool, String, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A class of three over loopback: each joins its own way and appears live
/// in the teacher's terminal and page, with partial progress, hints and a
/// quiz score; a wrong class code, an oversized request and a name with
/// markup are refused or escaped; a student whose teacher has gone keeps
/// working, told once.
#[test]
fn a_class_of_three_appears_live_in_the_teachers_table() {
    let dir = scratch("live-class");
    let data = dir.join("teacher/class-live.json");
    let live = Live::start(&data);
    // Every network at once only when asked in so many words.
    let (ok, _, err) = run(&[
        "teacher",
        "live",
        "--listen",
        "0.0.0.0:0",
        "--data",
        dir.join("open.json").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("--all-interfaces"), "{err}");
    assert!(!dir.join("open.json").exists());
    let url = live.join_url.clone();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/class/"),
        "{url}"
    );

    // Ana worked before she joined: her record (as `course exercise` wrote
    // it) says exercise 6.1 is two thirds right. Joining sends it; then she
    // checks exercise 1.1 (the course's own file, as shipped: not started).
    let ana = dir.join("ana");
    std::fs::create_dir_all(&ana).unwrap();
    std::fs::write(
        ana.join("progress.json"),
        r#"{"exercises":{"6.1":{"attempts":3,"status":"in_progress","checks_passed":2,"checks_total":3,"hints_seen":1,"last_activity":1}}}"#,
    )
    .unwrap();
    let mut join = student(&ana);
    join.args(["join", &url, "--name", "Ana"]);
    let (ok, out, err) = output(join);
    assert!(
        ok && out.contains("Joined the class") && out.contains("Never your code"),
        "{out}\n{err}"
    );
    live.said("Ana: 6.1 2/3");
    let mut check = student(&ana);
    check.args(["exercise", "1.1"]);
    let (ok, _, err) = output(check);
    assert!(!ok && !err.contains("not sent"), "{err}");
    live.said("Ana: 1.1 .");

    // Bob's name holds markup; he asks for a hint and takes a quiz.
    let bob = dir.join("bob");
    let mut join = student(&bob);
    join.args(["join", &url, "--name", "<b>Bob</b>"]);
    assert!(output(join).0);
    let mut hint = student(&bob);
    hint.args(["hint", "2.1"]);
    assert!(output(hint).0);
    live.said("<b>Bob</b>: 2.1 hint 1");
    let mut quiz = student(&bob);
    quiz.args(["quiz", "1"]).stdin(std::process::Stdio::piped());
    let mut child = quiz.stdout(std::process::Stdio::null()).spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"a\na\na\na\na\na\na\na\n");
    }
    child.wait().unwrap();
    live.said("<b>Bob</b>: quiz 1 ");

    // Chloé joins through her environment, as a lab machine would be set.
    let chloe = dir.join("chloe");
    let mut hint = student(&chloe);
    hint.env("COURSE_TEACHER", &url)
        .env("COURSE_STUDENT", "Chloé")
        .args(["hint", "4.2"]);
    assert!(output(hint).0);
    live.said("Chloé: 4.2 hint 1");

    // A wrong class code is refused, and the copy keeps no class.
    let eve = dir.join("eve");
    let mut join = student(&eve);
    join.args(["join", &format!("{url}X"), "--name", "Eve"]);
    let (ok, _, err) = output(join);
    assert!(!ok && err.contains("refused the class code"), "{err}");
    assert!(!eve.join("class.json").exists());

    // An oversized request is refused before it is read.
    let big = format!(r#"{{"student":"{}","name":"x"}}"#, "a".repeat(20_000));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent.post(&format!("{url}/verdicts")).send(&big).unwrap();
    assert_eq!(response.status().as_u16(), 413);

    // The teacher's page: three rows, the markup escaped, Ana's 2/3.
    let page = agent
        .get(&live.page_url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("&lt;b&gt;Bob&lt;/b&gt;") && !page.contains("<b>Bob"),
        "{page}"
    );
    assert!(
        page.contains("Ana</th>") && page.contains("Chloé</th>"),
        "{page}"
    );
    assert!(
        page.contains(r#"<td class="partial" title="hints seen: 1">2/3</td>"#),
        "{page}"
    );
    assert!(page.contains("3 students"), "{page}");
    // The students' code does not open the teacher's page.
    let code_page = live.page_url.replace(
        live.page_url.rsplit('/').next().unwrap(),
        url.rsplit('/').next().unwrap(),
    );
    assert_eq!(agent.get(&code_page).call().unwrap().status().as_u16(), 404);

    // The class is one file, results only.
    let kept = read(&data);
    assert!(
        kept.contains("\"Ana\"") && kept.contains("<b>Bob</b>"),
        "{kept}"
    );

    // The teacher stops: Ana keeps working, told once.
    drop(live);
    for told in [true, false] {
        let mut hint = student(&ana);
        hint.args(["hint", "6.1"]);
        let (ok, out, err) = output(hint);
        assert!(ok && out.contains("Hint"), "{out}\n{err}");
        assert_eq!(
            err.contains("was not sent to your teacher's table"),
            told,
            "{err}"
        );
    }
}
