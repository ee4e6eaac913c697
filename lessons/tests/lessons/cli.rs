//! The `course` command line, run as a reader runs it.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::snapshot_body;

fn course() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_course"));
    cmd.env_remove("KAFKA_BOOTSTRAP_SERVERS");
    // English, whatever this machine's locale: the snapshots are.
    cmd.env("COURSE_LANG", "en");
    // What `course quiz` and `course hint` record goes here, not into the
    // course's own record (.course/progress.json).
    cmd.env(
        "COURSE_PROGRESS",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-progress.json"),
    );
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
fn events_writes_the_timeline_the_tests_check() {
    // `course lesson 4 --events FILE`: the timeline, one JSON event per
    // line, is the one the lesson's test checks (ch4_consumer.events.snap).
    let file = std::env::temp_dir().join(format!("course-events-{}.jsonl", std::process::id()));
    let out = course()
        .args(["lesson", "4", "--events"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        written.trim_end(),
        snapshot_body("ch4_consumer.events").trim_end()
    );
    for line in written.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(event["kind"].is_string(), "{line}");
    }
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

/// `course --help` in French: every help text of every command, clap's
/// own included, from the catalogue (lessons/src/cli.rs#help); none left
/// in English, and the English help unchanged.
#[test]
fn help_speaks_french_in_french() {
    use clap::CommandFactory as _;
    let english = kafka_course::cli::help_texts();
    assert!(english.len() > 40, "{english:?}");
    let mut commands: Vec<Vec<String>> = vec![vec![]];
    let top = kafka_course::cli::Cli::command();
    for sub in top.get_subcommands() {
        commands.push(vec![sub.get_name().to_string()]);
        for subsub in sub.get_subcommands() {
            commands.push(vec![
                sub.get_name().to_string(),
                subsub.get_name().to_string(),
            ]);
        }
    }
    for command in &commands {
        for flag in ["-h", "--help"] {
            let mut args = vec!["--lang", "fr"];
            args.extend(command.iter().map(String::as_str));
            args.push(flag);
            let out = course().args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}");
            let help = String::from_utf8(out.stdout).unwrap();
            assert!(
                help.contains("Utilisation\u{a0}: course"),
                "{args:?}:\n{help}"
            );
            for english in [
                "Possible values",
                "possible values:",
                "[default:",
                "[env:",
                "Print help",
            ] {
                assert!(!help.contains(english), "{args:?}: {english:?}\n{help}");
            }
            for text in &english {
                // Each line of the text, as clap may wrap or join them.
                for line in text.lines().filter(|l| l.len() > 12) {
                    assert!(
                        !help.contains(line),
                        "{args:?}: English left: {line:?}\n{help}"
                    );
                }
            }
            // In English, the English.
            let out = course().args(&args[2..]).output().unwrap();
            let help = String::from_utf8(out.stdout).unwrap();
            assert!(help.contains("Usage: course"), "{args:?}:\n{help}");
        }
    }
    assert!(commands.len() > 15, "{commands:?}");
}

/// A mistyped command line: clap's errors, in French too, with the same
/// exit code (2) and suggestions.
#[test]
fn command_line_mistakes_are_explained_in_french() {
    let run = |args: &[&str]| {
        let out = course().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let err = run(&["--lang", "fr", "lesons"]);
    assert!(
        err.starts_with("erreur\u{a0}: commande inconnue «\u{a0}lesons\u{a0}»"),
        "{err}"
    );
    assert!(err.contains("«\u{a0}lessons\u{a0}»"), "{err}");
    assert!(err.contains("Utilisation\u{a0}: course"), "{err}");
    let err = run(&["--lang", "fr", "lesson", "x"]);
    assert!(err.contains("ce n'est pas un nombre entier"), "{err}");
    let err = run(&["--lang", "fr", "lesson"]);
    assert!(err.contains("ces arguments obligatoires manquent"), "{err}");
    assert!(err.contains("<NUMBER>"), "{err}");
    let err = run(&["--lang", "fr", "lesson", "1", "--kep"]);
    assert!(err.contains("«\u{a0}--keep\u{a0}»"), "{err}");
    // In English, clap's own words.
    let err = run(&["lesons"]);
    assert!(
        err.starts_with("error: unrecognized subcommand 'lesons'"),
        "{err}"
    );
}

#[test]
fn unknown_lesson_in_french_lists_the_lessons_in_french() {
    let out = course()
        .args(["--lang", "fr", "lesson", "9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("erreur\u{a0}: il n'y a pas de leçon 9."),
        "{err}"
    );
    for (number, title) in [
        (1, "Brokers, topics, partitions et répliques"),
        (2, "Le producteur\u{a0}: sérialisation et clés"),
        (3, "acks\u{a0}: ce que «\u{a0}livré\u{a0}» veut dire"),
        (4, "Le consommateur\u{a0}: groupes et offsets"),
        (5, "L'indépendance\u{a0}: un tampon durable"),
        (6, "L'ordre strict dans un topic"),
        (7, "L'ordre entre topics\u{a0}: les événements d'état"),
    ] {
        assert!(err.contains(&format!("\n  {number}  {title}\n")), "{err}");
    }
    assert!(!err.contains("lesson"), "{err}");
}

#[test]
fn unreachable_broker_fails_fast_in_french() {
    let start = Instant::now();
    let out = course()
        .args(["--lang", "fr", "--brokers", "127.0.0.1:1", "lesson", "1"])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(!out.status.success());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("erreur\u{a0}: impossible de joindre un broker Kafka à 127.0.0.1:1 "),
        "{err}"
    );
    assert!(
        err.contains("Démarrez le cluster du cours avec `just cluster-up`"),
        "{err}"
    );
    assert!(err.contains("`unset KAFKA_BOOTSTRAP_SERVERS`"), "{err}");
    assert!(!err.contains("cannot reach"), "{err}");
}

#[test]
fn bench_times_every_lesson_against_the_floor() {
    // `just bench`: every lesson runs on the embedded cluster and is timed
    // next to a floor measured in the same run: a row per lesson, its time
    // and its ratio to the floor. (How fast they are is what the benchmark
    // measures; a test does not assert it.)
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
            cols.len() >= 2 && cols[0] > 0.0 && cols.iter().all(|c| c.is_finite() && *c >= 0.0),
            "lesson {}: {row:?}\n{text}",
            lesson.number
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_lesson_quietly() {
    // `course lesson 1 | head -1`: the reader goes away after one line.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = course()
        .args(["lesson", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap(); // the reader is dropped here: the pipe is closed
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        first,
        "Lesson 1: Brokers, topics, partitions and replicas\n"
    );
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no panic, no backtrace"
    );
}

#[test]
fn keep_holds_the_cluster_for_other_clients() {
    // `course lesson 1 --keep`: another process reads the lesson's records
    // from the embedded cluster while the lesson holds it, then Ctrl-C.
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = course()
        .args(["lesson", "1", "--keep"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let (bootstrap, topic) = loop {
        let line = lines
            .next()
            .expect("the lesson printed the kcat commands")
            .unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.trim().strip_prefix("kcat -b ") {
            if let Some((addr, cmd)) = rest.split_once(" -C -t ") {
                break (
                    addr.to_string(),
                    cmd.split_whitespace().next().unwrap().to_string(),
                );
            }
        }
    };
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("kcat -b {bootstrap} -L"))),
        "{printed:#?}"
    );
    assert_eq!(topic, "machine-commands");

    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "keep-test")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition_offset(&topic, p, Offset::Beginning)
            .unwrap();
    }
    reader.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut records = Vec::new();
    while records.len() < kafka_course::ch1_cluster::RECORDS.len() && Instant::now() < deadline {
        if let Some(m) = reader.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            records.push(String::from_utf8_lossy(m.payload().unwrap()).to_string());
        }
    }
    assert_eq!(
        records.len(),
        kafka_course::ch1_cluster::RECORDS.len(),
        "{records:?}"
    );
    drop(reader);

    // Ctrl-C: the lesson stops and says so.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success());
    assert!(rest.iter().any(|l| l.starts_with("Stopped")), "{rest:?}");
}

#[test]
fn the_group_protocol_can_be_chosen() {
    let out = course()
        .args(["lesson", "4"])
        .env("KAFKA_GROUP_PROTOCOL", "classic")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .starts_with("(its groups use the classic protocol"),
        "{text}"
    );
    let out = course()
        .args(["lesson", "1", "--group-protocol", "fast"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("auto") && err.contains("classic"), "{err}");
}

/// `course quiz N` with answers piped in: `answers`, then the end of the input.
fn quiz(lang: &str, chapter: &str, answers: &str) -> String {
    use std::io::Write;
    let mut child = course()
        .env("COURSE_LANG", lang)
        .args(["quiz", chapter])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn quiz_asks_explains_and_scores_from_a_piped_input_in_both_languages() {
    // Chapter 1's first question predicts partition 1's high watermark:
    // the run's answer, option b (book/quizzes/ch1_cluster.toml).
    let high = snapshot_body("ch1_cluster.events")
        .lines()
        .find(|l| l.contains("\"watermarks\"") && l.contains("\"partition\":1,"))
        .and_then(|l| l.split("\"high\":").nth(1))
        .map(|h| h.trim_end_matches('}').to_string())
        .unwrap();
    let out = quiz("en", "1", "b\na\nx\na\na\nb\n");
    assert!(out.contains(&format!("   b) {high}\n")), "{out}");
    assert!(out.contains("Right. Partition 1 holds"), "{out}");
    // A wrong answer is explained, and the right one given.
    assert!(
        out.contains("Wrong. That is what happens to records without a key"),
        "{out}"
    );
    assert!(out.contains("The right answer: c) "), "{out}");
    assert!(
        out.trim_end()
            .ends_with("Score: 2 of 5 right (5 answered)."),
        "{out}"
    );

    let out = quiz("fr", "1", "a\n");
    assert!(
        out.contains("quel est le high watermark de la partition 1\u{a0}?"),
        "{out}"
    );
    assert!(out.contains("Faux. 12 est le nombre"), "{out}");
    // The end of the input: the quiz stops, with the score so far.
    assert!(
        out.contains("Plus de réponses\u{a0}: le quiz s'arrête ici."),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("Score\u{a0}: 0 sur 5 (questions traitées\u{a0}: 1)."),
        "{out}"
    );

    let out = quiz("en", "2", "");
    assert!(out.contains("Score: 0 of 6 right (0 answered)."), "{out}");
    // Every chapter has its quiz, of at least 5 questions, in both languages.
    for chapter in 1..=7 {
        for (lang, header) in [
            ("en", format!("Chapter {chapter}'s quiz: ")),
            ("fr", format!("Quiz du chapitre {chapter}\u{a0}: ")),
        ] {
            let out = quiz(lang, &chapter.to_string(), &"a\n".repeat(8));
            let count: usize = out
                .split_once(&header)
                .and_then(|(_, rest)| rest.split_once(' '))
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or_else(|| panic!("{lang} {chapter}: {out}"));
            assert!(count >= 5, "{lang} {chapter}: {count} questions");
            // Answered to the end.
            assert!(
                out.contains(&format!("\n{count}. ")),
                "{lang} {chapter}: {out}"
            );
        }
    }
    let out = course().args(["quiz", "99"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no quiz for chapter 99"));
}

/// `course hint` gives one more hint each time, and `course quiz` and
/// `course hint` write what the student did into the copy's record, where
/// the teacher's table reads it.
#[test]
fn hints_grow_stronger_and_quizzes_and_hints_are_recorded() {
    let record = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-record-test.json");
    let _ = std::fs::remove_file(&record);
    let hint = || {
        let out = course()
            .env("COURSE_PROGRESS", &record)
            .args(["hint", "4"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let hints = kafka_course::exercises::exercise("4.1")
        .unwrap()
        .hints()
        .len();
    let first = hint();
    assert!(first.starts_with("Hints for exercise 4.1: "), "{first}");
    assert!(first.contains(&format!("Hint 1 of {hints}:")), "{first}");
    if hints > 1 {
        assert!(
            first.contains("`just hint 4.1` again gives a stronger hint"),
            "{first}"
        );
        let second = hint();
        assert!(
            second.contains(&format!("Hint 1 of {hints}:"))
                && second.contains(&format!("Hint 2 of {hints}:")),
            "{second}"
        );
    }
    for _ in 0..hints {
        hint();
    }
    let last = hint();
    assert!(!last.contains("again gives a stronger hint"), "{last}");

    let mut child = course()
        .env("COURSE_PROGRESS", &record)
        .args(["quiz", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"a\nb\n").unwrap();
    }
    assert!(child.wait_with_output().unwrap().status.success());

    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(saved["exercises"]["4.1"]["hints_seen"], hints, "{saved}");
    let quiz = &saved["quizzes"]["2"];
    assert_eq!(
        (quiz["answered"].as_u64(), quiz["attempts"].as_u64()),
        (Some(2), Some(1)),
        "{saved}"
    );
    assert!(quiz["total"].as_u64().unwrap() >= 5, "{saved}");
}
