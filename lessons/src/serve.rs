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
    program_path(SERVER)
}

/// Where cargo puts program `bin` of this workspace when built like this
/// program (its target folder and profile).
pub(crate) fn program_path(bin: &str) -> PathBuf {
    let (target, profile) = own_build(&teacher::root());
    let folder = if profile == "dev" { "debug" } else { &profile };
    target
        .join(folder)
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo build` of program `bin` of `package`, like this program, so that
/// it lands at [`program_path`]. `light`: without the package's default
/// features; `quiet`: cargo says nothing unless it fails.
pub(crate) fn cargo_build(
    package: &str,
    bin: &str,
    light: bool,
    quiet: bool,
) -> std::io::Result<std::process::ExitStatus> {
    let root = teacher::root();
    let (target, profile) = own_build(&root);
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(&root)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["--package", package, "--bin", bin])
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null());
    if light {
        cargo.arg("--no-default-features");
    }
    if quiet {
        cargo.arg("--quiet");
    }
    cargo.status()
}

/// Build the server (quickly when it is built already, since cargo only
/// checks it), and return its path. `with_mdbook`: the server that can
/// build the book too; without it, a server that only serves a book built
/// already, which compiles in a fraction of the time (cargo keeps both
/// builds: switching costs a copy, not a compile).
pub fn build_server(with_mdbook: bool) -> Result<PathBuf> {
    let path = server_path();
    let first = !path.is_file();
    if first && with_mdbook {
        outln!(
            "Building the book's server, once: cargo compiles mdBook and the server (a few minutes the first time; the lessons never need it)."
        );
    } else if first {
        outln!(
            "Building the book's server, once (about a minute the first time; the book is built already)."
        );
    }
    let status = cargo_build(PACKAGE, SERVER, !with_mdbook, !first)
        .with_context(|| tr!("running cargo to build the book's server"))?;
    anyhow::ensure!(
        status.success(),
        "{}",
        tr!("cargo could not build the book's server")
    );
    Ok(path)
}

/// The server for the book as it is: without mdBook when the book is built
/// and up to date (the server itself says), else with it, to build it.
fn ready_server(port: u16) -> Result<PathBuf> {
    let light = build_server(false)?;
    let mut check = server_command(&light, port)?;
    check.arg("--check-book").stdout(Stdio::null());
    let fresh = check
        .status()
        .with_context(|| tr!("starting {}", light.display()))?
        .success();
    if fresh {
        Ok(light)
    } else {
        build_server(true)
    }
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
        cmd.arg("--exercise")
            .arg(format!("{}:{}:exercises/{}.rs", e.id, e.chapter, e.slug));
    }
    Ok(cmd)
}

/// `course serve --port PORT`: build the server, and become it.
pub fn run(port: u16, options: &Options) -> Result<()> {
    let server = ready_server(port)?;
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
pub(crate) fn hand_over(mut cmd: Command, server: &Path) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    Err(e).with_context(|| tr!("starting {}", server.display()))
}

#[cfg(not(unix))]
pub(crate) fn hand_over(mut cmd: Command, server: &Path) -> Result<()> {
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

/// The server, on a free port, for the bench, stopped when dropped.
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
    cmd.arg("--no-build").arg("--book-dir").arg(&pages);
    let bench = start_server(cmd, &server)?;
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

/// Start the server `cmd` on a free port; return once it says where it
/// serves (after building the book if it does).
fn start_server(mut cmd: Command, server: &Path) -> Result<Bench> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .with_context(|| tr!("starting {}", server.display()))?;
    let mut output = BufReader::new(child.stdout.take().expect("piped"));
    let mut said = String::new();
    let port = loop {
        let mut line = String::new();
        if output.read_line(&mut line)? == 0 {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(tr!("the book's server did not say its address: {said}"));
        }
        said.push_str(&line);
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok());
        if let Some(port) = port {
            break port;
        }
    };
    Ok(Bench {
        child,
        port,
        _output: output,
    })
}

/// The picture of a run in the book's pages, in headless Chromium: how long
/// after Run is clicked the first frame with an event of the run is drawn
/// (lesson 1, through the server), and how long after chapter 1's page is
/// opened its replay has drawn its first frame (the page opened from files,
/// then from the server).
pub fn picture_bench(runs: usize) -> Result<()> {
    if !crate::browser::available() {
        outln!(
            "The picture: first frame after Run and the replay's load time not measured: Chromium is not installed (apt-get install chromium chromium-driver)."
        );
        return Ok(());
    }
    let server = server_path();
    if !server.is_file() {
        outln!(
            "The picture: not measured, the book's server is not built (`just serve` or `just bench` builds it)."
        );
        return Ok(());
    }
    // The real book this time, built here once (again when its sources change).
    let (target, _) = own_build(&teacher::root());
    let book = target.join("serve-bench-book");
    let mut cmd = server_command(&server, 0)?;
    cmd.arg("--book-dir").arg(&book);
    let bench = start_server(cmd, &server)?;
    let browser = crate::browser::Browser::start(&target.join("serve-bench-chromium"))?;
    let runs = runs.max(1);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let page = format!("http://127.0.0.1:{}/ch1_cluster.html", bench.port);
    let mut first = Vec::new();
    let mut drawn_by = true;
    for _ in 0..runs {
        browser.goto(&page)?;
        let ready = browser.until(
            "return document.querySelector('.course-run-button') !== null",
            Duration::from_secs(10),
            |v| v == true,
        )?;
        anyhow::ensure!(ready.is_some(), "{}", tr!("{page} shows no Run button"));
        drawn_by &=
            browser.js("return document.querySelector('figure.course-picture') !== null")? == true;
        browser.click(".course-run-button")?;
        let state = browser.until(
            "return document.querySelector('.course-run').dataset.state",
            Duration::from_secs(60),
            |v| v.as_str().is_some_and(|s| s != "running"),
        )?;
        anyhow::ensure!(
            state.as_ref().is_some_and(|s| s == "ok"),
            "{}",
            tr!(
                "lesson 1 run from its page ended: {}",
                state.unwrap_or_default()
            )
        );
        let ms = browser.js("return document.querySelector('.course-run').dataset.firstFrameMs")?;
        let ms: f64 = ms
            .as_str()
            .and_then(|ms| ms.parse().ok())
            .with_context(|| tr!("lesson 1's run sent the page no timeline event"))?;
        first.push(ms / 1000.0);
    }
    let first = crate::i18n::seconds(median(first), 3);
    if drawn_by {
        outln!("The picture, lesson 1 run from its page: first frame {first} after the click (median of {runs}; goal: within 1 s).");
    } else {
        outln!("The picture, lesson 1 run from its page: first event handed to the page, and the frame after it, {first} after the click (median of {runs}; goal: within 1 s). The page has no picture yet (book/theme/picture.js): no drawing in that frame.");
    }
    // The replay: from the page's start (its navigation) to the picture's
    // first frame (its figure's data-seq set), seen by an observer that
    // runs before the page's own scripts; and, beside it, to the page's
    // own DOMContentLoaded, which the picture cannot beat.
    browser.on_new_document(
        "document.addEventListener('DOMContentLoaded', () => {
           window.coursePageReadyMs = performance.now();
         });
         new MutationObserver((_, observer) => {
           const f = document.querySelector('figure.course-picture');
           if (f && f.dataset.seq !== undefined) {
             window.coursePictureDrawnMs = performance.now();
             observer.disconnect();
           }
         }).observe(document, {subtree: true, childList: true, attributes: true});",
    )?;
    let from_files = format!("file://{}", book.join("ch1_cluster.html").display());
    let mut drawn = [Vec::new(), Vec::new()];
    let mut ready = [Vec::new(), Vec::new()];
    // The picture's own measure (data-load-ms): from its script's start.
    let mut own = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, url) in [&from_files, &page].into_iter().enumerate() {
            browser.goto(url)?;
            let ms = browser.until(
                "return window.coursePictureDrawnMs",
                Duration::from_secs(5),
                |v| v.is_number(),
            )?;
            let Some(ms) = ms.and_then(|v| v.as_f64()) else {
                outln!("The picture's replay: not measured, the page has no picture (book/theme/picture.js).");
                return Ok(());
            };
            drawn[i].push(ms / 1000.0);
            let page_ms = browser.js("return window.coursePageReadyMs")?;
            ready[i].push(page_ms.as_f64().unwrap_or_default() / 1000.0);
            let own_ms = browser.js(
                "return Number(document.querySelector('figure.course-picture').dataset.loadMs)",
            )?;
            own[i].push(own_ms.as_f64().unwrap_or_default() / 1000.0);
        }
    }
    let [files, served] = drawn.map(|v| crate::i18n::seconds(median(v), 3));
    let [files_ready, served_ready] = ready.map(|v| crate::i18n::seconds(median(v), 3));
    let [files_own, served_own] = own.map(|v| crate::i18n::seconds(median(v), 3));
    outln!(
        "The picture's replay, chapter 1: drawn {files} after the page was opened from files, {served} from the server (median of {runs}; goal: under 0.2 s); the page's own DOMContentLoaded at {files_ready} and {served_ready}; from the picture's script's start to its first frame, {files_own} and {served_own}."
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
