//! The server behind `course serve`: the built book, and on its chapter
//! pages a Run button that runs the chapter's lesson and streams its output
//! into the page, and a Check button that runs an exercise's checks on the
//! student's file (book/theme/course.js is the page's side).
//!
//! A web page can send requests to any address, loopback included, so the
//! server is small and strict:
//!
//! * it listens on 127.0.0.1 only: no other machine can reach it;
//! * it serves the files of the built book only (tower-http's `ServeDir`
//!   refuses `..` and other ways out of its folder, however encoded);
//! * it runs only the course's own program (`course lesson N`,
//!   `course exercise N`), for a number from the course's own lists: the
//!   child gets the list's number back, never text from the request, and
//!   the page's language is picked from a fixed list;
//! * a lesson's timeline (what it observed on the cluster, as the pages'
//!   pictures draw it) comes back through a pipe of its own, the child's
//!   file descriptor 3 (`course lesson N --events /dev/fd/3`): no file, and
//!   a line of it reaches the page only if the server parsed it as one JSON
//!   object, which it then sends inside its own line: nothing in it can
//!   break the stream's framing;
//! * every line read from a child is cut at [`MAX_LINE`] bytes, and
//!   between the child and the page every buffer is bounded: a run that
//!   writes faster than its page reads waits on its pipe;
//! * it refuses a request whose `Host` is not its own address (a foreign
//!   name pointed at 127.0.0.1: DNS rebinding) and one whose `Origin` is not
//!   its own (another site's page sending to localhost); a run needs its own
//!   `Origin`, which browsers always send with a POST;
//! * at most [`MAX_RUNS`] runs at once, each with a time limit, each a child
//!   in a process group of its own, killed with everything it started when
//!   its page stops reading (Stop, a closed tab), when its time is up, or
//!   when the server stops. On Linux the child also dies with the server,
//!   even if the server is killed outright.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, Semaphore};
use tower_http::services::{ServeDir, ServeFile};

use crate::EDITIONS;

/// Runs at once: each starts an embedded cluster and a few clients, on a
/// machine that may have 2 cores. A third is refused, not queued.
pub const MAX_RUNS: usize = 2;
/// A lesson runs in about a second: one still going after this is stuck.
pub const LESSON_LIMIT: Duration = Duration::from_secs(60);
/// An exercise's check compiles its runner (seconds; the first time on a
/// busy machine, a minute or more), then runs its checks (at most 30 s:
/// the course's own limit).
pub const EXERCISE_LIMIT: Duration = Duration::from_secs(180);
/// A page that stopped reading is noticed only when a write to it fails: a
/// heartbeat this often bounds how long that takes while the run is quiet.
const HEARTBEAT: Duration = Duration::from_millis(300);
/// The longest line a run's stream carries (text or timeline event):
/// longer ones are cut (text) or left out (an event; the course's are
/// well under a kilobyte).
pub const MAX_LINE: usize = 64 * 1024;
/// Where a lesson writes its timeline: its file descriptor 3, the write
/// end of a pipe the server reads.
#[cfg(unix)]
const EVENTS_FD: i32 = 3;

/// An exercise the page may check.
#[derive(Clone, Debug, Serialize)]
pub struct Exercise {
    /// Its id, as `course exercise ID` takes it: "4.2", "capstone".
    pub id: String,
    /// The chapter whose page has its section.
    pub chapter: u32,
    /// The file the student edits, from the course's folder.
    pub file: String,
}

/// What the server serves and runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The built book, served as it is.
    pub book_dir: PathBuf,
    /// The course's program, which runs the lessons and the checks.
    pub course: PathBuf,
    /// The lessons' numbers.
    pub lessons: Vec<u32>,
    pub exercises: Vec<Exercise>,
    pub lesson_limit: Duration,
    pub exercise_limit: Duration,
}

impl Config {
    /// The limits above, for the course's program `course`.
    pub fn new(book_dir: PathBuf, course: PathBuf) -> Config {
        Config {
            book_dir,
            course,
            lessons: Vec::new(),
            exercises: Vec::new(),
            lesson_limit: LESSON_LIMIT,
            exercise_limit: EXERCISE_LIMIT,
        }
    }
}

struct AppState {
    config: Config,
    /// What `Host` may be (and `Origin`, after `http://`): this server's
    /// own address, nothing else.
    hosts: Vec<String>,
    slots: Arc<Semaphore>,
    /// The process groups of the runs going on.
    runs: Runs,
}

/// The process groups of the runs going on, to end them all when the
/// server stops.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashSet<i32>>>);

impl Runs {
    fn kill_all(&self) {
        for group in self.0.lock().unwrap().drain() {
            kill_group(group);
        }
    }
}

/// A run's process group: killed, everything in it, when this is dropped
/// (the run ended, its page went, the server stops).
struct Group {
    id: i32,
    runs: Runs,
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.runs.0.lock().unwrap().remove(&self.id) {
            kill_group(self.id);
        }
    }
}

#[cfg(unix)]
fn kill_group(id: i32) {
    // SAFETY: a plain system call on a process group this server created.
    unsafe {
        libc::killpg(id, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_id: i32) {}

/// Serve on `listener` (bound to a loopback address) until `stop`
/// completes; then end every run still going.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let addr = listener.local_addr()?;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "the course's server listens on loopback only, not on {addr}"
    );
    let port = addr.port();
    let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if addr.is_ipv6() {
        hosts.push(format!("[::1]:{port}"));
    }
    let runs = Runs::default();
    let state = Arc::new(AppState {
        hosts,
        slots: Arc::new(Semaphore::new(MAX_RUNS)),
        runs: runs.clone(),
        config,
    });
    let served = axum::serve(listener, app(state)).into_future();
    let result = tokio::select! {
        r = served => r.map_err(anyhow::Error::from),
        () = stop => Ok(()),
    };
    runs.kill_all();
    result
}

fn app(state: Arc<AppState>) -> Router {
    let dir = &state.config.book_dir;
    let files = ServeDir::new(dir).not_found_service(ServeFile::new(dir.join("404.html")));
    Router::new()
        .route("/api/course", get(course_info))
        .route("/api/lesson/{number}", post(run_lesson))
        .route("/api/exercise/{id}", post(check_exercise))
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            own_pages_only,
        ))
        .with_state(state)
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, format!("{why}\n")).into_response()
}

/// Every request must name this server in `Host`, and come from one of its
/// own pages if it says where it comes from (`Origin`); a run must say so.
/// A page cannot forge either header.
async fn own_pages_only(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| state.hosts.iter().any(|own| own == h)) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown Host: this server answers to its own address only",
        );
    }
    let own_origin = |o: &str| {
        o.strip_prefix("http://")
            .is_some_and(|h| state.hosts.iter().any(|own| own == h))
    };
    match headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or(""))
    {
        Some(o) if !own_origin(o) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "foreign Origin: only the book's own pages may use this server",
            );
        }
        None if req.method() != Method::GET && req.method() != Method::HEAD => {
            return refuse(
                StatusCode::FORBIDDEN,
                "no Origin: runs start from the book's own pages only",
            );
        }
        _ => {}
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // No other site may show the book in a frame and click its buttons.
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

#[derive(Serialize)]
struct CourseInfo<'a> {
    /// Tells the page it talks to `course serve`, not to a static host.
    server: &'static str,
    lessons: &'a [u32],
    exercises: &'a [Exercise],
}

/// What the page may offer: Run and Check only for what exists.
async fn course_info(State(state): State<Arc<AppState>>) -> Response {
    let info = CourseInfo {
        server: "course serve",
        lessons: &state.config.lessons,
        exercises: &state.config.exercises,
    };
    let body = serde_json::to_string(&info).expect("the course's info serializes");
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// One line of the stream the page reads: JSON, one object a line, so that
/// a line of output can hold any text and the end says how the run ended.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Event {
    /// The child started (its process id: the tests check it is gone after).
    Start { pid: u32 },
    /// One line of its output (standard output or error), as a terminal shows it.
    Line { text: String },
    /// One event of a lesson's timeline, as it happened: the object
    /// `course lesson N --events` writes (`seq`, `line`, `kind`...; see
    /// MAINTAINING.md, "The timeline").
    Timeline { entry: Box<RawValue> },
    /// It ended: `ok`, `failed` (with its exit code), `timeout`, or `error`
    /// (it could not start).
    End {
        status: &'static str,
        code: Option<i32>,
    },
}

impl Event {
    fn bytes(&self) -> Bytes {
        let mut v = serde_json::to_vec(self).expect("events serialize");
        v.push(b'\n');
        Bytes::from(v)
    }
}

/// The page's edition, from the fixed list: `?lang=fr` picks an entry, and
/// only the entry's own text reaches the child.
fn language(uri: &Uri) -> &'static str {
    let asked = uri
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("lang="));
    EDITIONS
        .iter()
        .find(|(lang, _)| Some(*lang) == asked)
        .map_or(EDITIONS[0].0, |(lang, _)| lang)
}

/// `number` as one of `numbers`, or nothing.
fn known(number: &str, mut numbers: impl Iterator<Item = u32>) -> Option<u32> {
    let n: u32 = number.parse().ok()?;
    numbers.find(|&known| known == n)
}

async fn run_lesson(
    State(state): State<Arc<AppState>>,
    UrlPath(number): UrlPath<String>,
    uri: Uri,
) -> Response {
    let Some(number) = known(&number, state.config.lessons.iter().copied()) else {
        return refuse(StatusCode::NOT_FOUND, "no such lesson");
    };
    let cmd = course_command(
        &state.config.course,
        language(&uri),
        "lesson",
        &number.to_string(),
    );
    start(&state, cmd, state.config.lesson_limit, true)
}

async fn check_exercise(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    uri: Uri,
) -> Response {
    // One of the course's own ids, never the request's text.
    let Some(exercise) = state.config.exercises.iter().find(|e| e.id == id) else {
        return refuse(StatusCode::NOT_FOUND, "no such exercise");
    };
    // `course exercise ID` builds the exercise's runner from the student's
    // file as it is now, then runs its checks.
    let cmd = course_command(
        &state.config.course,
        language(&uri),
        "exercise",
        &exercise.id,
    );
    start(&state, cmd, state.config.exercise_limit, false)
}

/// `course --lang LANG WHAT NUMBER`, in the page's language.
fn course_command(course: &Path, lang: &'static str, what: &'static str, which: &str) -> Command {
    let mut cmd = Command::new(course);
    cmd.env("COURSE_LANG", lang)
        .args(["--lang", lang, what])
        .arg(which);
    cmd
}

/// Take a run slot, start the run, and answer with the stream of its output
/// (and, for a lesson, `timeline`: its events).
fn start(state: &AppState, cmd: Command, limit: Duration, timeline: bool) -> Response {
    let Ok(slot) = state.slots.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "two runs are going already: stop one, or wait for it to end",
        );
    };
    // A small buffer: if the page reads slowly, the child waits on its pipe.
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let runs = state.runs.clone();
    tokio::spawn(async move {
        let _slot = slot; // free again when the run is over
        drive(cmd, limit, timeline, runs, &tx).await;
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, Body::from_stream(body)).into_response()
}

/// What a run's readers pass on: a line of text, or a timeline event.
enum Out {
    /// A line of standard output.
    Line(String),
    /// A line of standard error.
    Error(String),
    /// A timeline event: as written, and its `line`.
    Timeline(Box<RawValue>, Option<u64>),
}

/// Events held back at most: beyond, the oldest goes even if its text has
/// not come (a lesson's text never lags that far).
const MAX_HELD: usize = 256;

/// Keeps a lesson's events in step with its text. An event's `line` is how
/// many lines the lesson had printed when it happened: the event goes to
/// the page once that many lines of standard output have, so the picture
/// and the text move together even though they come through two pipes.
#[derive(Default)]
struct InStep {
    printed: usize,
    held: std::collections::VecDeque<(Box<RawValue>, Option<u64>)>,
}

impl InStep {
    /// What to send now, given what a reader passed on.
    fn take(&mut self, out: Out) -> Vec<Event> {
        let mut now = Vec::new();
        match out {
            Out::Line(text) => {
                self.printed += 1;
                now.push(Event::Line { text });
            }
            Out::Error(text) => now.push(Event::Line { text }),
            Out::Timeline(entry, line) => self.held.push_back((entry, line)),
        }
        while let Some((_, line)) = self.held.front() {
            let due = line.is_none_or(|line| line <= self.printed as u64);
            if !due && self.held.len() <= MAX_HELD {
                break;
            }
            let (entry, _) = self.held.pop_front().expect("there is a first");
            now.push(Event::Timeline { entry });
        }
        now
    }

    /// The events held back, at the run's end.
    fn rest(&mut self) -> Vec<Event> {
        self.held
            .drain(..)
            .map(|(entry, _)| Event::Timeline { entry })
            .collect()
    }
}

/// Run one child to its end, its time limit, or until its page stops
/// reading, sending its output line by line, and with `timeline` the
/// events of its timeline as they come.
async fn drive(
    mut cmd: Command,
    limit: Duration,
    timeline: bool,
    runs: Runs,
    tx: &mpsc::Sender<Bytes>,
) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // If this task is dropped (the server stops), so is the child.
        .kill_on_drop(true);
    own_process_group(&mut cmd);
    let events = if timeline {
        events_pipe(&mut cmd)
    } else {
        None
    };
    let spawned = cmd.spawn();
    // The write end is the child's now: once the child (and whatever it
    // started) is gone, the read end sees the pipe's end.
    let events = events.map(|(reader, _writer)| reader);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let text = format!("{}: {e}", cmd.as_std().get_program().to_string_lossy());
            let _ = tx.send(Event::Line { text }.bytes()).await;
            let end = Event::End {
                status: "error",
                code: None,
            };
            let _ = tx.send(end.bytes()).await;
            return;
        }
    };
    let pid = child.id().unwrap_or_default();
    // The child leads a process group of its own (same id): whatever it
    // starts (cargo, an exercise's runner) is in it too, and goes with it.
    runs.0.lock().unwrap().insert(pid as i32);
    let group = Group {
        id: pid as i32,
        runs,
    };
    let _ = tx.send(Event::Start { pid }.bytes()).await;
    let (line_tx, mut lines) = mpsc::channel::<Out>(64);
    let readers = [
        child
            .stdout
            .take()
            .map(|s| tokio::spawn(read_lines(s, line_tx.clone(), Out::Line))),
        child
            .stderr
            .take()
            .map(|s| tokio::spawn(read_lines(s, line_tx.clone(), Out::Error))),
        events.map(|r| tokio::spawn(read_events(r, line_tx))),
    ];
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let mut beat = tokio::time::interval(HEARTBEAT);
    let mut in_step = InStep::default();
    let end = 'run: loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(out) => {
                    for event in in_step.take(out) {
                        if tx.send(event.bytes()).await.is_err() {
                            break 'run None; // the page is gone
                        }
                    }
                }
                // Every pipe closed: the child is ending.
                None => {
                    let status = child.wait().await.ok();
                    let code = status.and_then(|s| s.code());
                    let ok = status.is_some_and(|s| s.success());
                    break Some(Event::End { status: if ok { "ok" } else { "failed" }, code });
                }
            },
            _ = beat.tick() => {
                // An empty line, which the page skips: writing it is how a
                // closed connection is noticed.
                if tx.send(Bytes::from_static(b"\n")).await.is_err() {
                    break None;
                }
            }
            () = tx.closed() => break None,
            () = &mut deadline => break Some(Event::End { status: "timeout", code: None }),
        }
    };
    for reader in readers.into_iter().flatten() {
        reader.abort();
    }
    // Whatever happened, nothing the run started outlives it (dropping
    // the group kills it); reap the child itself now.
    drop(group);
    let _ = child.kill().await;
    if let Some(end) = end {
        for event in in_step.rest() {
            let _ = tx.send(event.bytes()).await;
        }
        let _ = tx.send(end.bytes()).await;
    }
}

/// One line of `reader` into `buf`, at most [`MAX_LINE`] bytes of it (the
/// rest of a longer line is read and dropped); whether it was cut. `None`
/// at the end of the pipe.
async fn read_line(reader: &mut (impl AsyncBufRead + Unpin), buf: &mut Vec<u8>) -> Option<bool> {
    buf.clear();
    match reader.take(MAX_LINE as u64).read_until(b'\n', buf).await {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    if buf.ends_with(b"\n") || buf.len() < MAX_LINE {
        return Some(false);
    }
    // Too long: skip to the end of the line, a piece at a time.
    let mut rest = Vec::new();
    loop {
        rest.clear();
        match reader
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut rest)
            .await
        {
            Ok(0) | Err(_) => return Some(true),
            Ok(_) if rest.ends_with(b"\n") => return Some(true),
            Ok(_) => {}
        }
    }
}

async fn read_lines(
    pipe: impl AsyncRead + Unpin,
    tx: mpsc::Sender<Out>,
    out: impl Fn(String) -> Out,
) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    while read_line(&mut reader, &mut buf).await.is_some() {
        // Lossy: the course prints UTF-8, but a stray byte must not end the run.
        let text = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\n', '\r'])
            .to_string();
        if tx.send(out(text)).await.is_err() {
            return;
        }
    }
}

/// A lesson's timeline, one JSON object a line: each passed on as written
/// once it parsed as one; anything else (a cut line, a stray byte) is left
/// out.
async fn read_events(pipe: impl AsyncRead + Unpin, tx: mpsc::Sender<Out>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    while let Some(cut) = read_line(&mut reader, &mut buf).await {
        if cut {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            continue;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text) else {
            continue;
        };
        let Ok(entry) = RawValue::from_string(text.to_string()) else {
            continue;
        };
        let line = fields.get("line").and_then(serde_json::Value::as_u64);
        if tx.send(Out::Timeline(entry, line)).await.is_err() {
            return;
        }
    }
}

/// A pipe for the lesson's timeline: `--events /dev/fd/3` on its command
/// line, the pipe's write end its descriptor 3; the read end for the
/// server, and the write end, to drop once the child is started. None if
/// the pipe cannot be made (the run goes on without its timeline).
#[cfg(unix)]
fn events_pipe(
    cmd: &mut Command,
) -> Option<(tokio::net::unix::pipe::Receiver, std::os::fd::OwnedFd)> {
    use std::os::fd::AsRawFd as _;
    let (writer, reader) = tokio::net::unix::pipe::pipe().ok()?;
    // Blocking, as a file: the lesson writes each event as it happens.
    let writer = writer.into_blocking_fd().ok()?;
    let fd = writer.as_raw_fd();
    cmd.arg("--events").arg(format!("/dev/fd/{EVENTS_FD}"));
    // SAFETY: between fork and exec only async-signal-safe calls are
    // allowed; dup2 and fcntl are, and nothing else is touched.
    unsafe {
        cmd.pre_exec(move || {
            if fd == EVENTS_FD {
                // Already there: only let it through exec.
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, EVENTS_FD) < 0 {
                // dup2's copy is kept through exec; the original is not.
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Some((reader, writer))
}

#[cfg(not(unix))]
fn events_pipe(_cmd: &mut Command) -> Option<(tokio::process::ChildStdout, ())> {
    None
}

/// The child leads a new process group; on Linux the kernel also kills it
/// if the server dies, even by SIGKILL, when nothing here gets to run.
#[cfg(unix)]
fn own_process_group(cmd: &mut Command) {
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    {
        // SAFETY: between fork and exec only async-signal-safe calls are
        // allowed; prctl, getppid and _exit are, and nothing else is touched.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The server died before prctl: nobody would kill this child.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
}

#[cfg(not(unix))]
fn own_process_group(_cmd: &mut Command) {}
