//! The French edition of every lesson: `course --lang fr lesson N`, run as
//! a French reader runs it, prints the French snapshot
//! (`lessons/tests/snapshots/fr/<slug>.snap`) that the French chapter
//! includes. The claims behind the words are the English tests' (the same
//! lesson code observed the same cluster); these check the words.

use std::process::Command;

/// `course --lang fr lesson N`'s standard output, on the embedded cluster.
fn french_lesson(number: u32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("COURSE_LANG")
        .args(["--lang", "fr", "lesson", &number.to_string()])
        .output()
        .expect("running course");
    assert!(
        out.status.success(),
        "lesson {number} in French failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn assert_french_output(number: u32) {
    let slug = kafka_course::lesson(number).unwrap().slug;
    let text = french_lesson(number);
    insta::with_settings!({
        snapshot_path => "../snapshots/fr",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(slug, text);
    });
}

#[test]
fn lesson_1_in_french() {
    assert_french_output(1);
}

#[test]
fn lesson_2_in_french() {
    assert_french_output(2);
}

#[test]
fn lesson_3_in_french() {
    assert_french_output(3);
}

#[test]
fn lesson_4_in_french() {
    assert_french_output(4);
}

#[test]
fn lesson_5_in_french() {
    assert_french_output(5);
}

#[test]
fn lesson_6_in_french() {
    assert_french_output(6);
}

#[test]
fn lesson_7_in_french() {
    assert_french_output(7);
}

#[test]
fn the_locale_chooses_french_when_nothing_else_does() {
    // As a gettext program: LANG=fr_FR.UTF-8 and no --lang / COURSE_LANG.
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("COURSE_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "fr_FR.UTF-8")
        .args(["lesson", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let first = String::from_utf8(out.stdout).unwrap();
    assert_eq!(first.lines().next(), french_lesson(1).lines().next());
    assert_ne!(
        first.lines().next(),
        Some("Lesson 1: Brokers, topics, partitions and replicas")
    );
}
