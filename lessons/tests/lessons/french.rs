//! The French edition of every lesson: `course --lang fr lesson N`, run as
//! a French reader runs it, prints the French snapshot
//! (`lessons/tests/snapshots/fr/<slug>.snap`) that the French chapter
//! includes. The claims behind the words are the English tests' (the same
//! lesson code observed the same cluster); these check the words.

use std::process::Command;

/// `course --lang fr lesson N`'s standard output, on the embedded cluster.
fn french_lesson(number: u32) -> String {
    french_lesson_and_timeline(number).0
}

/// `course --lang fr lesson N --events FILE`: its standard output, and the
/// timeline it wrote (JSON Lines), on the embedded cluster.
fn french_lesson_and_timeline(number: u32) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("course-fr-{}-{number}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let events = dir.join("events.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("COURSE_LANG")
        .args(["--lang", "fr", "lesson", &number.to_string(), "--events"])
        .arg(&events)
        .output()
        .expect("running course");
    assert!(
        out.status.success(),
        "lesson {number} in French failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timeline = std::fs::read_to_string(&events).expect("the timeline was written");
    let _ = std::fs::remove_dir_all(&dir);
    (
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        timeline,
    )
}

/// The French text, against the snapshot the French chapter includes, and
/// the French run's timeline, against the one its picture replays: the
/// same events as the English run's, `line` counting the French lines and
/// section titles in French.
fn assert_french_output(number: u32) {
    let slug = kafka_course::lesson(number).unwrap().slug;
    let (text, timeline) = french_lesson_and_timeline(number);
    insta::with_settings!({
        snapshot_path => "../snapshots/fr",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(slug, text);
    });
    every_section_line_is_its_blank_line(&text, &timeline);
    crate::common::assert_events("fr", slug, &timeline);
}

/// Each `section` event's `line` is the blank line just before its title,
/// in the French text: `line` counts the lines the French run printed.
fn every_section_line_is_its_blank_line(text: &str, timeline: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for event in timeline.lines() {
        let event: serde_json::Value = serde_json::from_str(event).expect("JSON");
        if event["kind"] != "section" {
            continue;
        }
        let line = event["line"].as_u64().expect("line") as usize;
        let title = event["title"].as_str().expect("title");
        assert_eq!(lines.get(line), Some(&""), "{event}");
        assert_eq!(
            lines.get(line + 1).copied(),
            Some(format!("== {title} ==").as_str()),
            "{event}"
        );
    }
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
