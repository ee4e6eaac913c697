//! The exercises work as a class needs them to: every reference solution
//! passes its checks, every exercise as shipped fails them, the shipped files
//! are what their single source generates, and the teacher's commands work.
//! (In a student's copy, made by `course teacher export`, there are no
//! solutions: the tests that need them are ignored there.)

use std::path::Path;
use std::process::Command;

use kafka_course::exercises::{self, starter::starter_from_solution, Variant, EXERCISES};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn every_solution_passes_its_checks() {
    for e in EXERCISES {
        let outcome = block_on(exercises::run(e, Variant::Solution));
        assert!(
            outcome.passed(),
            "solution of exercise {} fails:\n{}",
            e.number,
            exercises::report(e, &outcome)
        );
    }
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn every_exercise_fails_its_checks_as_shipped() {
    for e in EXERCISES {
        let outcome = block_on(exercises::run(e, Variant::Starter));
        assert!(
            !outcome.passed(),
            "exercise {} passes before anyone solved it",
            e.number
        );
        // Failing is not enough: the report must explain, not crash.
        assert!(
            outcome
                .checks
                .iter()
                .any(|c| !c.passed && !c.detail.is_empty())
                || outcome.error.is_some()
        );
    }
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn every_exercise_has_its_files_a_hint_and_a_chapter() {
    for e in EXERCISES {
        assert!(
            root().join(format!("exercises/{}.rs", e.slug)).is_file(),
            "exercises/{}.rs",
            e.slug
        );
        assert!(root()
            .join(format!("exercises/solutions/{}.rs", e.slug))
            .is_file());
        assert!(e.hint.len() > 40, "exercise {} needs a real hint", e.number);
        assert!(kafka_course::LESSONS.iter().any(|l| l.number == e.chapter));
        let page = std::fs::read_to_string(root().join(format!(
            "book/src/{}.md",
            kafka_course::LESSONS.iter().find(|l| l.number == e.chapter).unwrap().slug
        )))
        .unwrap();
        assert!(
            page.contains(&format!("exercises/{}.rs", e.slug)),
            "chapter {} links to its exercise",
            e.chapter
        );
        assert!(
            page.contains(&format!("just exercise {}", e.number)),
            "chapter {} says how to check it",
            e.chapter
        );
    }
}

#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn shipped_exercises_are_the_starters_of_their_solutions() {
    for e in EXERCISES {
        let source =
            std::fs::read_to_string(root().join(format!("exercises/solutions/{}.rs", e.slug)))
                .unwrap();
        let starter = starter_from_solution(&source).unwrap();
        assert!(
            starter.contains("TODO"),
            "exercise {} has TODO markers",
            e.number
        );
        let shipped =
            std::fs::read_to_string(root().join(format!("exercises/{}.rs", e.slug))).unwrap();
        if shipped != starter {
            // A student's copy differs once they start; the course's own
            // repository (and CI, which sets CI=true) must ship the starter.
            assert!(
                std::env::var_os("CI").is_none(),
                "exercises/{}.rs is not the starter generated from its solution: run `cargo run -- exercise {} --reset`",
                e.slug,
                e.number
            );
            eprintln!(
                "note: exercises/{}.rs differs from its starter (being solved?)",
                e.slug
            );
        }
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

fn course() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_course"));
    c.env_remove("KAFKA_BOOTSTRAP_SERVERS");
    c
}

#[test]
fn unknown_exercise_lists_the_exercises() {
    let out = course().args(["exercise", "99"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("there is no exercise 99") && err.contains("1  A topic"),
        "{err}"
    );
    let out = course().args(["hint", "99"]).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn exercise_command_explains_a_failure_and_exits_non_zero() {
    let out = course().args(["exercise", "1"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    if std::env::var_os("CI").is_some() {
        assert!(!out.status.success(), "exercise 1 is unsolved as shipped");
        assert!(
            stdout.contains("FAIL") && stdout.contains("just hint 1"),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("Exercise 1: A topic for a group of four consumers"),
        "{stdout}"
    );
}

/// Export a clean copy, solve exercise 1 in it, and check it as a teacher.
/// (Builds the course once more, in target/student-check.)
#[test]
#[cfg_attr(
    not(has_solutions),
    ignore = "a student's copy has no reference solutions"
)]
fn teacher_exports_a_clean_copy_and_checks_it() {
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("student-copy");
    let _ = std::fs::remove_dir_all(&copy);
    let out = course()
        .args(["teacher", "export"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !copy.join("exercises/solutions").exists(),
        "the student's copy has no solutions"
    );
    assert!(copy.join("Cargo.lock").is_file() && copy.join("book/src/SUMMARY.md").is_file());
    for e in EXERCISES {
        let text = std::fs::read_to_string(copy.join(format!("exercises/{}.rs", e.slug))).unwrap();
        assert!(
            text.contains("TODO"),
            "exercise {} starts unsolved",
            e.number
        );
    }

    // The student solves exercise 1 (with the reference solution, here).
    std::fs::copy(
        root().join("exercises/solutions/ex1_topic.rs"),
        copy.join("exercises/ex1_topic.rs"),
    )
    .unwrap();
    let out = course()
        .args(["teacher", "check"])
        .arg(&copy)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |n: u32| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&n.to_string()))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row(1).contains("pass"), "{table}");
    for e in EXERCISES.iter().filter(|e| e.number != 1) {
        assert!(row(e.number).contains("FAIL"), "{table}");
    }
    assert!(
        table.contains(&format!("1 of {} exercises solved", EXERCISES.len())),
        "{table}"
    );
    // The teachers' page shows this very table.
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("teacher_check", table);
    });
}
