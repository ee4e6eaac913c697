//! `course serve`: the book in a browser, both editions, with a Run button
//! on each chapter page (the lesson's output streams into the page as it
//! runs) and a Check button in each exercise section.
//!
//! The server is the book's own program, `serve-book` (package
//! `kafka-course-book`, in book/builder), which builds the book when it is
//! missing or stale and serves it. This command builds that program with
//! cargo, as the exercise runners are built, in this program's own target
//! directory and profile, then hands over to it, telling it where this
//! program is and what the lessons and exercises are: its pages run
//! `course lesson N` and `course exercise N`. So the program that runs the
//! lessons never compiles mdBook, and reading the book never compiles
//! librdkafka a second time.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::exercises::harness::own_build;
use crate::exercises::EXERCISES;
use crate::kit::Options;
use crate::{outln, teacher, tr, LESSONS};

/// The book's package, and its server program.
const PACKAGE: &str = "kafka-course-book";
const SERVER: &str = "serve-book";

/// Where cargo puts the server when built like this program.
pub fn server_path() -> PathBuf {
    let (target, profile) = own_build(&teacher::root());
    let folder = if profile == "dev" { "debug" } else { &profile };
    target
        .join(folder)
        .join(format!("{SERVER}{}", std::env::consts::EXE_SUFFIX))
}

/// Build the server (quickly when it is built already, since cargo only
/// checks it), and return its path.
pub fn build_server() -> Result<PathBuf> {
    let root = teacher::root();
    let (target, profile) = own_build(&root);
    let path = server_path();
    let first = !path.is_file();
    if first {
        outln!(
            "Building the book's server, once: cargo compiles mdBook and the server (a few minutes the first time; the lessons never need it)."
        );
    }
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(&root)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["--package", PACKAGE, "--bin", SERVER])
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null());
    if !first {
        cargo.arg("--quiet");
    }
    let status = cargo
        .status()
        .with_context(|| tr!("running cargo to build the book's server"))?;
    anyhow::ensure!(
        status.success(),
        "{}",
        tr!("cargo could not build the book's server")
    );
    Ok(path)
}

/// The server's command: this program, its lessons and exercises, the
/// language of its messages.
fn server_command(server: &Path, port: u16) -> Result<Command> {
    let course = std::env::current_exe().with_context(|| tr!("finding the course's program"))?;
    let mut cmd = Command::new(server);
    cmd.arg("--course")
        .arg(course)
        .args(["--port", &port.to_string()])
        .args(["--lang", crate::i18n::current().code()]);
    for lesson in LESSONS {
        cmd.args(["--lesson", &lesson.number.to_string()]);
    }
    for e in EXERCISES {
        cmd.arg("--exercise").arg(format!(
            "{}:{}:exercises/{}.rs",
            e.number, e.chapter, e.slug
        ));
    }
    Ok(cmd)
}

/// `course serve --port PORT`: build the server, and become it.
pub fn run(port: u16, options: &Options) -> Result<()> {
    let server = build_server()?;
    let mut cmd = server_command(&server, port)?;
    // The pages' runs are this program's: they get the cluster it was given.
    if let Some(brokers) = &options.brokers {
        cmd.env("KAFKA_BOOTSTRAP_SERVERS", brokers);
    }
    hand_over(cmd, &server)
}

/// This process becomes the server: Ctrl-C reaches it, and no process of
/// ours is left waiting in between.
#[cfg(unix)]
fn hand_over(mut cmd: Command, server: &Path) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    Err(e).with_context(|| tr!("starting {}", server.display()))
}

#[cfg(not(unix))]
fn hand_over(mut cmd: Command, server: &Path) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| tr!("starting {}", server.display()))?;
    anyhow::ensure!(
        status.success(),
        "{}",
        tr!("the book's server stopped with {status}")
    );
    Ok(())
}

/// The server, on a free port, serving an empty folder (the bench asks for
/// runs, not pages), stopped when dropped.
struct Bench {
    child: std::process::Child,
    port: u16,
    /// Its output, kept open: it may still print.
    _output: BufReader<std::process::ChildStdout>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bench's line: how long after Run is pressed lesson 1's first line
/// reaches the page, through the server (`just bench` builds it first).
pub fn bench(runs: usize) -> Result<()> {
    let server = server_path();
    if !server.is_file() {
        outln!(
            "course serve: not measured, its server is not built (`just serve` or `just bench` builds it)."
        );
        return Ok(());
    }
    let (target, _) = own_build(&teacher::root());
    let pages = target.join("serve-bench");
    std::fs::create_dir_all(&pages)?;
    let mut cmd = server_command(&server, 0)?;
    cmd.arg("--no-build")
        .arg("--book-dir")
        .arg(&pages)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .with_context(|| tr!("starting {}", server.display()))?;
    let mut said = String::new();
    let mut output = BufReader::new(child.stdout.take().expect("piped"));
    output.read_line(&mut said)?;
    let port = said
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok());
    let Some(port) = port else {
        let _ = child.kill();
        anyhow::bail!(tr!("the book's server did not say its address: {said}"));
    };
    let bench = Bench {
        child,
        port,
        _output: output,
    };
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (f, l) = time_a_run(bench.port)?;
        first.push(f);
        last.push(l);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    outln!(
        "course serve, lesson 1 run from its page: first line {} after the request, last line {} (median of {}; goal: first line within 1 s).",
        crate::i18n::seconds(median(first), 3),
        crate::i18n::seconds(median(last), 3),
        runs.max(1)
    );
    Ok(())
}

/// Ask the server to run lesson 1 as its page does; return when its first
/// line of output arrived, and when the run ended.
fn time_a_run(port: u16) -> Result<(Duration, Duration)> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "POST /api/lesson/1?lang={} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        crate::i18n::current().code()
    )?;
    let mut first = None;
    let mut ended = false;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        if first.is_none() && line.contains("{\"event\":\"line\"") {
            first = Some(start.elapsed());
        }
        if line.contains("{\"event\":\"end\"") {
            anyhow::ensure!(
                line.contains("\"status\":\"ok\""),
                "{}",
                tr!("lesson 1 failed when run through the server: {line}")
            );
            ended = true;
        }
    }
    anyhow::ensure!(
        ended,
        "{}",
        tr!("the server's stream of lesson 1 ended early")
    );
    let first = first.with_context(|| tr!("lesson 1 printed nothing through the server"))?;
    Ok((first, start.elapsed()))
}
