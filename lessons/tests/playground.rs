//! `course cluster`: the embedded cluster alone, serving other processes, as
//! a reader uses it: the course's example programs (lessons/examples/
//! producer.rs and consumer.rs, run as programs of their own) and kcat.
//!
//! Everything is bounded in time: a step that hangs fails the test within
//! seconds, and the cluster's process is stopped at the end, even when a
//! test fails.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `course cluster` may take to print its address, and to stop.
const START: Duration = Duration::from_secs(10);
/// How long one run of an example or of kcat may take. The consumer stops
/// after 5 s without new records, and a run that reads nothing waits that long.
const RUN: Duration = Duration::from_secs(20);

fn course() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_course"));
    cmd.env_remove("KAFKA_BOOTSTRAP_SERVERS");
    cmd.env("COURSE_LANG", "en");
    cmd
}

/// `course cluster`, running, with its bootstrap address. Dropping it kills
/// the process if `stop` did not end it.
struct Playground {
    child: Child,
    bootstrap: String,
    /// What it printed so far.
    printed: Vec<String>,
    lines: Receiver<String>,
}

impl Playground {
    fn start(lang: &str) -> Playground {
        let mut child = course()
            .env("COURSE_LANG", lang)
            .arg("cluster")
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("starting course cluster");
        // Lines are read on a thread of their own, so that waiting for one
        // has a deadline.
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut playground = Playground {
            child,
            bootstrap: String::new(),
            printed: Vec::new(),
            lines,
        };
        // The last line before it waits for Ctrl-C is about Ctrl-C.
        let deadline = Instant::now() + START;
        while !playground
            .printed
            .last()
            .is_some_and(|l| l.contains("Ctrl-C"))
        {
            let left = deadline.saturating_duration_since(Instant::now());
            match playground.lines.recv_timeout(left) {
                Ok(line) => playground.printed.push(line),
                Err(e) => panic!(
                    "course cluster printed no line about Ctrl-C within {START:?} ({e}):\n{}",
                    playground.printed.join("\n")
                ),
            }
        }
        playground.bootstrap = playground
            .printed
            .iter()
            .find_map(|l| {
                let (_, rest) = l.split_once("KAFKA_BOOTSTRAP_SERVERS=")?;
                rest.split_whitespace().next().map(str::to_string)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no KAFKA_BOOTSTRAP_SERVERS=... command in:\n{}",
                    playground.printed.join("\n")
                )
            });
        playground
    }

    /// The command of the printed line that contains `needle`, without its
    /// comment: what a reader pastes.
    fn command(&self, needle: &str) -> String {
        let line = self
            .printed
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", self.printed.join("\n")));
        line.split_once("   # ")
            .map_or(line.as_str(), |(command, _comment)| command)
            .trim()
            .to_string()
    }

    /// Ctrl-C, as a reader stops it: what it printed then, once it exited.
    fn stop(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + START;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "course cluster still runs {START:?} after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "course cluster ended with {status}");
        let rest: Vec<String> = self.lines.try_iter().collect();
        // The brokers are gone with the process: nothing listens there any more.
        for address in self.bootstrap.split(',') {
            assert!(
                std::net::TcpStream::connect(address).is_err(),
                "{address} still accepts connections"
            );
        }
        rest
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Run `cmd` to its end, within [`RUN`]: its output, or a failed test (and
/// the process killed) if it takes longer.
fn run(mut cmd: Command) -> Output {
    let what = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A reader's terminal shows no backtrace unless asked for one.
        .env("RUST_BACKTRACE", "0")
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{what} did not end within {RUN:?}");
        }
    }
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// The example programs, built as `cargo test` builds them (under
/// target/<profile>/examples/), once per run of this file: building them
/// here too keeps `cargo test --test playground` from running old ones.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // This test is <target>/<profile>/deps/playground-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let target = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev",
            other => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--package", "kafka-course"])
            .args(["--example", "producer", "--example", "consumer"])
            .args(["--profile", profile])
            .arg("--target-dir")
            .arg(target)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the examples: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples")
    });
    let exe = dir.join(name);
    assert!(exe.is_file(), "{} was not built", exe.display());
    exe
}

/// Run an example against `bootstrap`, with `args`; it must succeed.
fn run_example(name: &str, bootstrap: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(example(name));
    cmd.env("KAFKA_BOOTSTRAP_SERVERS", bootstrap).args(args);
    let output = run(cmd);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{name} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// A command as the examples print it: `lot-A step 1 (... partition 0,
/// offset 2)` -> ((lot, step), (partition, offset)).
type Seen = ((String, u32), (i32, i64));

fn parse(line: &str, prefix: &str) -> Option<Seen> {
    let rest = line.strip_prefix(prefix)?;
    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || "(),:".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    let at = |name: &str| {
        let i = words.iter().position(|w| *w == name)?;
        words.get(i + 1)
    };
    Some((
        (words[0].to_string(), at("step")?.parse().ok()?),
        (at("partition")?.parse().ok()?, at("offset")?.parse().ok()?),
    ))
}

#[test]
fn the_examples_write_and_read_through_course_cluster() {
    example("producer"); // before the cluster starts
    let playground = Playground::start("en");
    let bootstrap = playground.bootstrap.clone();

    // On this machine only: every broker at the loopback address.
    assert_eq!(bootstrap.split(',').count(), 3, "{bootstrap}");
    for address in bootstrap.split(',') {
        assert!(address.starts_with("127.0.0.1:"), "{bootstrap}");
    }
    // The commands to paste, with the address.
    for name in ["producer", "consumer"] {
        assert_eq!(
            playground.command(&format!("--example {name}")),
            format!("KAFKA_BOOTSTRAP_SERVERS={bootstrap} cargo run --example {name}")
        );
    }
    assert!(
        playground.printed[0].contains("3 brokers, on this machine only (127.0.0.1)"),
        "{:#?}",
        playground.printed
    );

    // The producer: 3 lots of 3 steps, each with its delivery report.
    let produced = run_example("producer", &bootstrap, &[]);
    let sent: Vec<Seen> = produced.lines().filter_map(|l| parse(l, "sent ")).collect();
    assert_eq!(sent.len(), 9, "{produced}");
    // Each lot in one partition, its steps at increasing offsets.
    let mut partition_of = BTreeMap::new();
    for ((lot, _), (partition, _)) in &sent {
        assert_eq!(
            *partition_of.entry(lot.clone()).or_insert(*partition),
            *partition,
            "{produced}"
        );
    }

    // The consumer, in another process: it reads exactly what was written,
    // each lot's steps in order, and does each command's work.
    let consumed = run_example("consumer", &bootstrap, &["9"]);
    let read: Vec<Seen> = consumed.lines().filter_map(|l| parse(l, "read ")).collect();
    let mut sorted_sent = sent.clone();
    sorted_sent.sort_by_key(|(_, at)| *at);
    let mut sorted_read = read.clone();
    sorted_read.sort_by_key(|(_, at)| *at);
    assert_eq!(sorted_read, sorted_sent, "{consumed}");
    for lot in ["lot-A", "lot-B", "lot-C"] {
        let steps: Vec<u32> = read
            .iter()
            .filter(|((l, _), _)| l == lot)
            .map(|((_, s), _)| *s)
            .collect();
        assert_eq!(steps, [1, 2, 3], "{lot}:\n{consumed}");
    }
    assert!(
        consumed.contains("  M2 does drill on lot-B\n"),
        "{consumed}"
    );
    assert!(consumed.ends_with("read 9 record(s)\n"), "{consumed}");

    // Its group committed after each record: run again, it has nothing new
    // to read, and stops on its own once nothing has come for a while.
    let again = run_example("consumer", &bootstrap, &[]);
    assert_eq!(
        again, "nothing new for 5 s: stopping\nread 0 record(s)\n",
        "a second run reads only what is new"
    );

    let rest = playground.stop();
    assert_eq!(rest, ["Stopped: the cluster is gone."]);
}

#[test]
fn the_examples_say_how_to_start_a_cluster() {
    for name in ["producer", "consumer"] {
        let mut cmd = Command::new(example(name));
        cmd.env_remove("KAFKA_BOOTSTRAP_SERVERS");
        let output = run(cmd);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{name}: {stdout}");
        assert!(
            stderr.starts_with("Error: KAFKA_BOOTSTRAP_SERVERS is not set: start a cluster with `cargo run --release -- cluster`"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn kcat_uses_the_commands_course_cluster_prints() {
    // kcat is optional: without it, this test checks nothing.
    let kcat = Command::new("kcat").arg("-V").output();
    if !kcat.is_ok_and(|o| o.status.success()) {
        eprintln!("kcat is not installed: skipped (Debian/Ubuntu: apt install kcat)");
        return;
    }
    let playground = Playground::start("en");
    let sh = |line: &str| {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", line]);
        let output = run(cmd);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{line}:\n{stdout}\n{stderr}");
        stdout
    };

    // Metadata: three brokers, all on the loopback address, and the topic.
    let metadata = sh(&playground.command(" -L"));
    assert!(metadata.contains(" 3 brokers:"), "{metadata}");
    for id in 1..=3 {
        assert!(
            metadata.contains(&format!("  broker {id} at 127.0.0.1:")),
            "{metadata}"
        );
    }
    assert!(
        metadata.contains("topic \"playground\" with 3 partitions:"),
        "{metadata}"
    );

    // Write one record with kcat, read it back with kcat...
    sh(&playground.command(" -P -t playground"));
    let records = sh(&playground.command(" -C -t playground"));
    let record = r#"lot-Z {"lot":"lot-Z","step":1,"machine":"M1","operation":"mill"}"#;
    assert!(
        records.lines().any(|l| l.ends_with(record)) && records.lines().count() == 1,
        "{records}"
    );

    // ... and with the consumer example, another client in another process.
    let consumed = run_example("consumer", &playground.bootstrap, &["1"]);
    assert!(consumed.starts_with("read lot-Z step 1 ("), "{consumed}");

    playground.stop();
}

#[test]
fn course_cluster_speaks_french() {
    let playground = Playground::start("fr");
    assert!(
        !playground.printed[0].contains("cluster is up"),
        "{:#?}",
        playground.printed
    );
    // The commands are the same in both languages.
    assert!(playground
        .command("--example producer")
        .ends_with(" cargo run --example producer"));
    let rest = playground.stop();
    assert_eq!(rest.len(), 1);
    assert!(!rest[0].starts_with("Stopped"), "{rest:?}");
}
