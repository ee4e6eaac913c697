//! The `course` command line, run as a reader runs it.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::snapshot_body;

fn course() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_course"));
    cmd.env_remove("KAFKA_BOOTSTRAP_SERVERS");
    cmd
}

#[test]
fn lesson_output_in_a_terminal_is_the_snapshot() {
    // What `course lesson 1` prints is what the book's chapter 1 shows.
    let out = course().args(["lesson", "1"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        snapshot_body("ch1_cluster")
    );
}

#[test]
fn unknown_lesson_lists_the_lessons() {
    let out = course().args(["lesson", "99"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("there is no lesson 99"), "{err}");
    assert!(
        err.contains("1  Brokers, topics, partitions and replicas"),
        "{err}"
    );
}

#[test]
fn unreachable_broker_fails_fast_and_names_the_address() {
    let start = Instant::now();
    let out = course()
        .args(["lesson", "1"])
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(!out.status.success());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(err.contains("just cluster-up"), "{err}");
    assert!(err.contains("unset KAFKA_BOOTSTRAP_SERVERS"), "{err}");
}

#[test]
fn bench_times_every_lesson_against_the_floor() {
    // `just bench`: every lesson runs on the embedded cluster and is timed
    // next to a floor measured in the same run. Lesson 1 must stay within 3x
    // the floor; no lesson may take more than a few seconds.
    let out = course().args(["bench", "--runs", "1"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("floor (produce one, consume one in a group):"),
        "{text}"
    );
    for lesson in kafka_course::LESSONS {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&lesson.number.to_string()))
            .unwrap_or_else(|| panic!("no row for lesson {}:\n{text}", lesson.number));
        let cols: Vec<f64> = row
            .split_whitespace()
            .skip(1)
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(
            cols[0] < 5.0,
            "lesson {} took {} s:\n{text}",
            lesson.number,
            cols[0]
        );
        if lesson.number == 1 {
            assert!(
                cols[1] <= 3.0,
                "lesson 1 is {}x the floor:\n{text}",
                cols[1]
            );
        }
    }
}
