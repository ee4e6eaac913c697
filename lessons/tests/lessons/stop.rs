//! Every lesson with consumer groups stops within 10 seconds of starting
//! to wait for its first group, explanation included, on a broker whose
//! groups never complete: `course lesson N` is run as a reader runs it,
//! and timed from the start of the process to its end.
//!
//! The brokers tried:
//! - the embedded cluster posing as the build of Tansu 0.6.0 whose classic
//!   groups never complete (`--embedded-stuck-groups`): a member joins,
//!   its group never completes, and the LeaveGroup it sends when it closes
//!   gets no answer, as there. Before the kit closed such members apart
//!   (`kit::closing`), lessons 4 to 7 stopped after 13 to 18 s there, as on
//!   that Tansu (13.5 to 18.8 s);
//! - the embedded cluster without KIP-848, KIP-848 forced
//!   (`--embedded-without-kip848 --group-protocol consumer`): the consumer
//!   never gets partitions (it never finds a coordinator for the protocol),
//!   and it closes at once;
//! - Tansu with KIP-848 forced, when Tansu is installed (see tansu.rs).
//!
//! This is a bound on "never hang", not a measure of speed (that is
//! `course bench`): 10 s from the start of the wait (the lesson's last
//! line of output), and 10 s plus [`START_UP`] from the start of the
//! process.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The lessons whose consumers read in groups, and the group each one
/// waits for first.
const LESSONS: [(u32, &str); 4] = [
    (4, "machines"),
    (5, "machine-controller"),
    (6, "machine-controller"),
    (7, "machine-M1"),
];

/// How long a lesson may wait for its group, explanation included.
const WAIT_BOUND: Duration = Duration::from_secs(10);

/// What a lesson does before it starts to wait (start the embedded
/// cluster or reach the real one, create its topics, write its first
/// records) takes about a second at most: lesson 6, which first writes
/// through brokers that answer 50 ms late, starts to wait after 0.9 s.
/// The bound from the start of the process allows twice that, for a
/// loaded machine; the wait itself is timed from the lesson's last line.
const START_UP: Duration = Duration::from_secs(2);

/// How a run of `course lesson N` ended, timed from its start.
struct Run {
    number: u32,
    /// When the lesson printed its last line before the error: the wait
    /// starts right after it.
    last_line: Duration,
    /// When the process ended.
    exited: Duration,
    success: bool,
    stdout: String,
    stderr: String,
}

/// Run `course lesson N` with `args`, and time it: each line of its
/// output as it comes, and its end.
fn run(number: u32, args: &[String]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_GROUP_PROTOCOL")
        .env_remove("KAFKA_DEBUG")
        .env("COURSE_LANG", "en")
        .args(["lesson", &number.to_string()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting course");
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut stdout = String::new();
    let mut last_line = Duration::ZERO;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.expect("reading course's output");
        last_line = started.elapsed();
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().expect("waiting for course");
    let exited = started.elapsed();
    Run {
        number,
        last_line,
        exited,
        success: status.success(),
        stdout,
        stderr: stderr.join().unwrap(),
    }
}

/// Run lessons 4 to 7 side by side with `args` (on `broker`, for the
/// messages), and check that each one stops with the whole explanation,
/// ending with `advice`, within 10 s of starting to wait.
fn each_lesson_stops_in_time(broker: &str, args: &[&str], protocol: &str, advice: &str) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let runs: Vec<(Run, &str)> = std::thread::scope(|s| {
        let running: Vec<_> = LESSONS
            .iter()
            .map(|&(number, group)| {
                let args = &args;
                (s.spawn(move || run(number, args)), group)
            })
            .collect();
        running
            .into_iter()
            .map(|(r, group)| (r.join().unwrap(), group))
            .collect()
    });
    for (r, group) in &runs {
        let n = r.number;
        let all = format!("--- stdout\n{}--- stderr\n{}", r.stdout, r.stderr);
        assert!(!r.success, "lesson {n} on {broker} completed:\n{all}");
        for needle in [
            format!("error: group \"{group}\" got no partitions within 8s, with the {protocol} group protocol"),
            "What the brokers offer for consumer groups:".to_string(),
            "ConsumerGroupHeartbeat: none".to_string(),
            advice.to_string(),
        ] {
            assert!(
                r.stderr.contains(&needle),
                "lesson {n} on {broker}: {needle:?} missing from its explanation:\n{all}"
            );
        }
        // The wait starts after the last line the lesson prints: nothing
        // is printed while it waits, and the error comes on stderr.
        let waited = r.exited.saturating_sub(r.last_line);
        assert!(
            waited <= WAIT_BOUND && r.exited <= START_UP + WAIT_BOUND,
            "lesson {n} on {broker} exited {:.1} s after the process started; it started to \
             wait at {:.1} s (its last line of output), and stopped {:.1} s later. The bound is \
             {} s from the start of the wait, explanation included (and {} s from the start of \
             the process):\n{all}",
            r.exited.as_secs_f64(),
            r.last_line.as_secs_f64(),
            waited.as_secs_f64(),
            WAIT_BOUND.as_secs(),
            (START_UP + WAIT_BOUND).as_secs()
        );
        eprintln!(
            "lesson {n} on {broker}: started to wait at {:.2} s, stopped at {:.2} s",
            r.last_line.as_secs_f64(),
            r.exited.as_secs_f64()
        );
    }
}

#[test]
fn on_a_broker_whose_groups_never_complete_every_lesson_stops_within_10_s() {
    each_lesson_stops_in_time(
        "the embedded cluster posing as a broker whose groups never complete",
        &["--embedded-stuck-groups"],
        "classic",
        "KAFKA_DEBUG=cgrp shows what the group did.",
    );
}

#[test]
fn with_kip848_forced_where_it_is_missing_every_lesson_stops_within_10_s() {
    each_lesson_stops_in_time(
        "the embedded cluster without KIP-848, KIP-848 forced",
        &["--embedded-without-kip848", "--group-protocol", "consumer"],
        "consumer",
        "run with KAFKA_GROUP_PROTOCOL=classic (or auto, the default, which chooses it).",
    );
}

#[test]
#[cfg_attr(
    not(has_tansu),
    ignore = "did not run: Tansu 0.6.0 is not installed (see README, Tests against an independent broker)"
)]
fn on_tansu_with_kip848_forced_every_lesson_stops_within_10_s() {
    let tansu = crate::tansu::Tansu::start();
    let brokers = tansu.address.clone();
    each_lesson_stops_in_time(
        "Tansu, KIP-848 forced",
        &["--brokers", &brokers, "--group-protocol", "consumer"],
        "consumer",
        "run with KAFKA_GROUP_PROTOCOL=classic (or auto, the default, which chooses it).",
    );
}
