//! `course teacher live`: the class's table, live.
//!
//! Each student who joined (`course join URL --name NAME`) has their copy
//! send its record after every result: for each exercise its status, the
//! checks passed out of how many, the hints seen, the attempts; for each
//! quiz its score. Never code, never files: this server runs nothing it
//! receives, it only shows it, in the teacher's terminal and at a private
//! address in the teacher's browser.
//!
//! Safe by default: it listens on the one address it is given; a request
//! without the class code gets nothing; every request is bounded in size
//! and in rate; every name is escaped where it is shown; every connection
//! is bounded in time and in number (listen.rs); the whole class is one
//! file the teacher can delete.

pub mod listen;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kafka_course_macros::tr;
use serde::{Deserialize, Serialize};

/// The largest request accepted: a whole record is about 3 KB.
pub const MAX_BODY: usize = 16 * 1024;
/// The longest name shown, in characters.
pub const MAX_NAME: usize = 40;
/// Students in one class, at most: a class of 25 fits many times over.
pub const MAX_STUDENTS: usize = 200;
/// Requests one address may make per [`RATE_WINDOW`]: a student's copy
/// sends one per result, a few a minute.
pub const RATE_LIMIT: u32 = 60;
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// What the class table can show: the course's exercises ("4.2",
/// "capstone") and quizzes (chapter numbers), in the course's order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub exercises: Vec<String>,
    pub quizzes: Vec<String>,
}

/// What a student's copy sends: its record, results only (the student's
/// `.course/progress.json`, less what the teacher does not need).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// A random token the copy chose when it joined: two students with the
    /// same name stay two rows, and nobody else can write over a row.
    pub student: String,
    pub name: String,
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseCell>,
    #[serde(default)]
    pub quizzes: BTreeMap<String, QuizCell>,
}

/// One exercise, as the student's copy last checked it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseCell {
    /// `solved`, `in_progress`, `not_started`, `does_not_compile`,
    /// `timed_out`, `crashed`, `missing`; empty when only hints were asked.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub checks_passed: u32,
    #[serde(default)]
    pub checks_total: u32,
    #[serde(default)]
    pub hints_seen: u32,
    #[serde(default)]
    pub attempts: u32,
}

/// One quiz: the last score, the best one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizCell {
    pub right: u32,
    pub total: u32,
    #[serde(default)]
    pub best: u32,
    #[serde(default)]
    pub attempts: u32,
}

/// The status codes a cell may hold.
pub const STATUSES: &[&str] = &[
    "",
    "solved",
    "in_progress",
    "not_started",
    "does_not_compile",
    "timed_out",
    "crashed",
    "missing",
];

/// Why a report is refused (400).
pub fn invalid(report: &Report) -> Option<String> {
    let token_ok = (16..=64).contains(&report.student.len())
        && report
            .student
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !token_ok {
        return Some("student: 16 to 64 letters, digits or '-'".into());
    }
    if let Some(why) = bad_name(&report.name) {
        return Some(why);
    }
    for cell in report.exercises.values() {
        if !STATUSES.contains(&cell.status.as_str()) {
            return Some(format!("unknown status {:?}", clip(&cell.status)));
        }
        if cell.checks_total > 100 || cell.checks_passed > cell.checks_total {
            return Some("checks: at most 100, passed ≤ total".into());
        }
        if cell.hints_seen > 100 {
            return Some("hints: at most 100".into());
        }
    }
    for quiz in report.quizzes.values() {
        if quiz.total > 100 || quiz.right > quiz.total || quiz.best > quiz.total {
            return Some("quiz: at most 100 questions, right ≤ total".into());
        }
    }
    None
}

/// Why a name cannot be shown: empty, too long, or holding characters that
/// would change what a terminal or a page shows around it.
pub fn bad_name(name: &str) -> Option<String> {
    let n = name.chars().count();
    if name.trim().is_empty() || n > MAX_NAME || name.trim() != name {
        return Some(format!("name: 1 to {MAX_NAME} characters, no space around"));
    }
    if name.chars().any(hidden) {
        return Some("name: no control or direction characters".into());
    }
    None
}

/// Control characters, and the invisible ones that reorder or hide text.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// At most 20 characters of what a client sent, to quote it back.
fn clip(s: &str) -> String {
    s.chars().take(20).collect()
}

/// The class, as kept in its one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassData {
    /// What students give to join (in the URL they use).
    pub code: String,
    /// What the teacher's page needs (in its URL): the students' code does
    /// not open it.
    pub key: String,
    /// Per student token.
    #[serde(default)]
    pub students: BTreeMap<String, Student>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Student {
    pub name: String,
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseCell>,
    #[serde(default)]
    pub quizzes: BTreeMap<String, QuizCell>,
    /// When this server last heard from them (its own clock, seconds
    /// since 1970): students' clocks may be wrong.
    pub last_seen: u64,
}

impl ClassData {
    /// A new class, with a new code and key.
    pub fn new() -> Result<ClassData> {
        Ok(ClassData {
            code: random_text(8)?,
            key: random_text(24)?,
            students: BTreeMap::new(),
        })
    }

    /// The class kept at `path`, or a new one if there is none.
    pub fn load_or_new(path: &Path) -> Result<(ClassData, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let data = serde_json::from_str(&text).with_context(|| {
                    tr!(
                        "{} is not a class this program wrote: delete it (or give another --data file) to start a new class",
                        path.display()
                    )
                })?;
                Ok((data, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((ClassData::new()?, false)),
            Err(e) => Err(e).with_context(|| tr!("reading {}", path.display())),
        }
    }

    /// Write the class to `path`, whole or not at all.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// `n` characters a student can copy without confusion: no 0/O, 1/I/L.
pub fn random_text(n: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!(tr!("no randomness from the system: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Seconds since 1970, UTC.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The running class: its data, where it is kept, who asked how often.
pub struct Live {
    pub catalogue: Catalogue,
    pub data: Mutex<ClassData>,
    pub path: PathBuf,
    rates: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// Told of every change: the terminal's table redraws.
    pub changed: tokio::sync::watch::Sender<u64>,
    /// Each change as lines ("Alice: 4.2 2/3"), for a terminal that is not one.
    pub log: bool,
}

impl Live {
    pub fn new(catalogue: Catalogue, data: ClassData, path: PathBuf, log: bool) -> Arc<Live> {
        Arc::new(Live {
            catalogue,
            data: Mutex::new(data),
            path,
            rates: Mutex::new(HashMap::new()),
            changed: tokio::sync::watch::channel(0).0,
            log,
        })
    }

    /// One more request from `ip`: false once it has made too many lately.
    fn allow(&self, ip: IpAddr) -> bool {
        let mut rates = self.rates.lock().unwrap();
        let now = Instant::now();
        if rates.len() > 10_000 {
            // Forget the quiet ones rather than grow without bound.
            rates.retain(|_, (since, _)| now.duration_since(*since) < RATE_WINDOW);
        }
        let (since, count) = rates.entry(ip).or_insert((now, 0));
        if now.duration_since(*since) >= RATE_WINDOW {
            *since = now;
            *count = 0;
        }
        *count += 1;
        *count <= RATE_LIMIT
    }

    /// Take a report in: the student's row, replaced. Returns the changed
    /// cells, as a terminal line says them.
    fn accept(&self, report: Report) -> Result<Vec<String>, (StatusCode, String)> {
        let mut data = self.data.lock().unwrap();
        if !data.students.contains_key(&report.student) && data.students.len() >= MAX_STUDENTS {
            return Err((
                StatusCode::CONFLICT,
                format!("this class is full ({MAX_STUDENTS} students)"),
            ));
        }
        let before = data.students.get(&report.student).cloned();
        // What this course has not (a student's copy of another version of
        // the course): kept out, the rest shown.
        let student = Student {
            name: report.name,
            exercises: report
                .exercises
                .into_iter()
                .filter(|(id, _)| self.catalogue.exercises.contains(id))
                .collect(),
            quizzes: report
                .quizzes
                .into_iter()
                .filter(|(q, _)| self.catalogue.quizzes.contains(q))
                .collect(),
            last_seen: now(),
        };
        let changes = changes(&self.catalogue, before.as_ref(), &student);
        data.students.insert(report.student, student);
        data.save(&self.path).map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the teacher's machine could not keep it: {e}"),
            )
        })?;
        Ok(changes)
    }
}

/// What changed in a student's row, as "Alice: 4.2 2/3, quiz 4 5/6".
fn changes(catalogue: &Catalogue, before: Option<&Student>, after: &Student) -> Vec<String> {
    let mut said = Vec::new();
    for id in &catalogue.exercises {
        let old = before.and_then(|b| b.exercises.get(id));
        let Some(new) = after.exercises.get(id) else {
            continue;
        };
        // A verdict says its cell; a hint asked (no verdict yet, or the
        // same one) says the hint.
        if !new.status.is_empty() && old.map(exercise_cell) != Some(exercise_cell(new)) {
            said.push(format!("{id} {}", exercise_cell(new)));
        } else if old.map_or(0, |o| o.hints_seen) != new.hints_seen {
            said.push(tr!("{id} hint {}", new.hints_seen));
        }
    }
    for chapter in &catalogue.quizzes {
        let old = before.and_then(|b| b.quizzes.get(chapter)).map(quiz_cell);
        let new = after.quizzes.get(chapter).map(quiz_cell);
        if new.is_some() && new != old {
            said.push(format!(
                "{} {}",
                tr!("quiz {chapter}"),
                new.unwrap_or_default()
            ));
        }
    }
    if said.is_empty() && before.is_none() {
        said.push(tr!("joined"));
    }
    if said.is_empty() {
        return said;
    }
    vec![format!("{}: {}", after.name, said.join(", "))]
}

/// An exercise's cell: "ok", "2/3", ".", "comp", "time", "crash", "miss".
pub fn exercise_cell(cell: &ExerciseCell) -> String {
    match cell.status.as_str() {
        "solved" => "ok".into(),
        "in_progress" if cell.checks_total > 0 => {
            format!("{}/{}", cell.checks_passed, cell.checks_total)
        }
        "in_progress" => "~".into(),
        "does_not_compile" => "comp".into(),
        "timed_out" => "time".into(),
        "crashed" => "crash".into(),
        "missing" => "miss".into(),
        _ => ".".into(),
    }
}

/// A quiz's cell: the best score, "5/6".
pub fn quiz_cell(q: &QuizCell) -> String {
    format!("{}/{}", q.best.max(q.right), q.total)
}

/// "now", "40 s", "3 min", "2 h": how long since `then`.
pub fn ago(then: u64, now: u64) -> String {
    let s = now.saturating_sub(then);
    match s {
        0..=4 => tr!("now"),
        5..=59 => tr!("{s} s"),
        60..=3599 => tr!("{} min", s / 60),
        _ => tr!("{} h", s / 3600),
    }
}

/// What a terminal may show of a name: hidden characters were refused
/// already; this also cuts it to `width` characters.
fn shown(name: &str, width: usize) -> String {
    let clean: String = name
        .chars()
        .map(|c| if hidden(c) { '?' } else { c })
        .collect();
    if clean.chars().count() > width {
        let cut: String = clean.chars().take(width - 1).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

/// The column headers: exercises by id ("cap" for the capstone), quizzes "Q4".
fn headers(catalogue: &Catalogue) -> Vec<String> {
    catalogue
        .exercises
        .iter()
        .map(|id| {
            if id == "capstone" {
                "cap".to_string()
            } else {
                id.clone()
            }
        })
        .chain(catalogue.quizzes.iter().map(|q| format!("Q{q}")))
        .collect()
}

/// One student's cells, in the catalogue's order.
fn cells(catalogue: &Catalogue, s: &Student) -> Vec<String> {
    catalogue
        .exercises
        .iter()
        .map(|id| {
            s.exercises
                .get(id)
                .map(exercise_cell)
                .unwrap_or_else(|| ".".into())
        })
        .chain(catalogue.quizzes.iter().map(|q| {
            s.quizzes
                .get(q)
                .map(quiz_cell)
                .unwrap_or_else(|| "-".into())
        }))
        .collect()
}

/// "3/22": exercises solved, of all.
fn solved(catalogue: &Catalogue, s: &Student) -> String {
    let n = s
        .exercises
        .values()
        .filter(|e| e.status == "solved")
        .count();
    format!("{n}/{}", catalogue.exercises.len())
}

/// Students in the order the table shows them: by name.
fn students(data: &ClassData) -> Vec<&Student> {
    let mut all: Vec<&Student> = data.students.values().collect();
    all.sort_by_key(|s| s.name.to_lowercase());
    all
}

/// The table as text, for the teacher's terminal.
pub fn table_text(data: &ClassData, catalogue: &Catalogue, now: u64) -> String {
    const NAME: usize = 16;
    let headers = headers(catalogue);
    let rows: Vec<(&Student, Vec<String>)> = students(data)
        .into_iter()
        .map(|s| (s, cells(catalogue, s)))
        .collect();
    // Each column as wide as its widest cell: 29 columns fit a laptop's
    // terminal (about 140 characters) until someone crashes.
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|(_, cells)| cells[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let mut out = String::new();
    let mut line = format!("{:<NAME$}", tr!("student"));
    for (h, w) in headers.iter().zip(&widths) {
        line += &format!(" {h:>w$}");
    }
    line += &format!("  {}", tr!("last seen"));
    out += line.trim_end();
    out.push('\n');
    for (s, cells) in &rows {
        let mut line = format!("{:<NAME$}", shown(&s.name, NAME));
        for (c, w) in cells.iter().zip(&widths) {
            line += &format!(" {c:>w$}");
        }
        line += &format!("  {}", ago(s.last_seen, now));
        out += &line;
        out.push('\n');
    }
    if data.students.is_empty() {
        out += &tr!("(nobody has joined yet)");
        out.push('\n');
    }
    out += &legend();
    out.push('\n');
    out
}

fn legend() -> String {
    tr!("ok solved · 2/3 in progress, checks passed · . not started · comp does not compile · time too slow · crash crashed · miss file missing · Q4 5/6 quiz 4, best score")
}

/// The table as a page, for the teacher's browser: it reloads itself every
/// few seconds. Every name is escaped.
pub fn table_html(data: &ClassData, catalogue: &Catalogue, now: u64, join_url: &str) -> String {
    use html_escape::encode_text as esc;
    let lang = course_i18n::current().code();
    let mut rows = String::new();
    for s in students(data) {
        rows += "<tr><th scope=\"row\">";
        rows += &esc(&s.name);
        rows += "</th>";
        rows += &format!("<td class=\"count\">{}</td>", solved(catalogue, s));
        for (i, c) in cells(catalogue, s).iter().enumerate() {
            let class = match c.as_str() {
                "ok" => "solved",
                "." | "-" => "none",
                "comp" | "time" | "crash" | "miss" => "fault",
                _ if i < catalogue.exercises.len() => "partial",
                _ => "quiz",
            };
            let hints = catalogue
                .exercises
                .get(i)
                .and_then(|id| s.exercises.get(id))
                .filter(|e| e.hints_seen > 0)
                .map(|e| format!(" title=\"{}\"", esc(&tr!("hints seen: {}", e.hints_seen))))
                .unwrap_or_default();
            rows += &format!("<td class=\"{class}\"{hints}>{}</td>", esc(c));
        }
        rows += &format!(
            "<td class=\"seen\">{}</td></tr>\n",
            esc(&ago(s.last_seen, now))
        );
    }
    let mut head = format!(
        "<th scope=\"col\">{}</th><th scope=\"col\">{}</th>",
        esc(&tr!("student")),
        esc(&tr!("solved"))
    );
    for h in headers(catalogue) {
        head += &format!("<th scope=\"col\">{}</th>", esc(&h));
    }
    head += &format!("<th scope=\"col\">{}</th>", esc(&tr!("last seen")));
    // The last row: how many solved each exercise, where the class is stuck.
    let mut foot = format!("<th scope=\"row\">{}</th><td></td>", esc(&tr!("solved by")));
    for id in &catalogue.exercises {
        let n = data
            .students
            .values()
            .filter(|s| s.exercises.get(id).is_some_and(|e| e.status == "solved"))
            .count();
        foot += &format!("<td class=\"count\">{n}</td>");
    }
    foot += &"<td></td>".repeat(catalogue.quizzes.len() + 1);
    let title = tr!("Class table, live");
    let count = data.students.len();
    let word = if count == 1 {
        tr!("student")
    } else {
        tr!("students")
    };
    let joined = tr!("{count} {word} · students join with:");
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.8em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.3em; text-align: center; }}
td.count, tfoot th {{ font-weight: bold; }}
th[scope=row] {{ text-align: left; white-space: nowrap; }}
td.solved {{ background: #c8efc8; }} td.partial {{ background: #fbe7a6; }}
td.fault {{ background: #f6c1c1; }} td.quiz {{ background: #d7e6fb; }}
td.none, td.seen {{ color: #777; }}
code {{ background: #eee; padding: 0.1em 0.3em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{joined} <code>course join {url} --name "…"</code></p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}</tbody>
<tfoot><tr>{foot}</tr></tfoot>
</table>
<p>{legend}</p>
</body></html>
"#,
        title = esc(&title),
        joined = esc(&joined),
        url = esc(join_url),
        legend = esc(&legend()),
    )
}

/// The server's routes. `join_url` is what students were told to use.
pub fn router(live: Arc<Live>, join_url: String) -> Router {
    Router::new()
        .route("/class/{code}", get(hello))
        .route("/class/{code}/verdicts", post(verdicts))
        .route("/teacher/{key}", get(page))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state((live, Arc::new(join_url)))
}

type Shared = (Arc<Live>, Arc<String>);

fn refused(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": why }).to_string(),
    )
        .into_response()
}

fn too_many() -> Response {
    refused(
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests: wait a few seconds",
    )
}

/// `course join` asks whether the code is right before it keeps the URL.
async fn hello(
    State((live, _)): State<Shared>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    UrlPath(code): UrlPath<String>,
) -> Response {
    if !live.allow(from.ip()) {
        return too_many();
    }
    if code != live.data.lock().unwrap().code {
        return refused(StatusCode::FORBIDDEN, "wrong class code");
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "class": "kafka-course", "exercises": live.catalogue.exercises.len() })
            .to_string(),
    )
        .into_response()
}

/// A student's record: checked, then their row replaced.
async fn verdicts(
    State((live, _)): State<Shared>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    UrlPath(code): UrlPath<String>,
    body: Bytes,
) -> Response {
    if !live.allow(from.ip()) {
        return too_many();
    }
    if code != live.data.lock().unwrap().code {
        return refused(StatusCode::FORBIDDEN, "wrong class code");
    }
    let report: Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return refused(StatusCode::BAD_REQUEST, &format!("not a record: {e}")),
    };
    if let Some(why) = invalid(&report) {
        return refused(StatusCode::BAD_REQUEST, &why);
    }
    match live.accept(report) {
        Ok(lines) => {
            if live.log {
                for line in lines {
                    println!("{}", shown(&line, 200));
                }
            }
            live.changed.send_modify(|n| *n += 1);
            (
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"ok":true}"#,
            )
                .into_response()
        }
        Err((status, why)) => refused(status, &why),
    }
}

/// The teacher's page, with the key only.
async fn page(
    State((live, join_url)): State<Shared>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    UrlPath(key): UrlPath<String>,
) -> Response {
    if !live.allow(from.ip()) {
        return too_many();
    }
    let data = live.data.lock().unwrap();
    if key != data.key {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let html = table_html(&data, &live.catalogue, now(), &join_url);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            exercises: vec!["1.1".into(), "4.2".into(), "capstone".into()],
            quizzes: vec!["1".into(), "4".into()],
        }
    }

    fn report(name: &str) -> Report {
        Report {
            student: "ABCDEFGHJKMNPQRS".into(),
            name: name.into(),
            ..Report::default()
        }
    }

    #[test]
    fn names_that_would_change_the_display_are_refused() {
        assert_eq!(invalid(&report("Zoé Martin")), None);
        assert!(invalid(&report("")).is_some());
        assert!(invalid(&report(" Bob")).is_some());
        assert!(
            invalid(&report("Bob\x1b[2J")).is_some(),
            "a terminal escape"
        );
        assert!(
            invalid(&report("evil\u{202e}txt")).is_some(),
            "a direction override"
        );
        assert!(invalid(&report(&"x".repeat(MAX_NAME + 1))).is_some());
        // Markup is a name like another: refused nowhere, escaped everywhere.
        assert_eq!(invalid(&report("<b>Bob</b>")), None);
    }

    #[test]
    fn only_sane_numbers_and_known_statuses() {
        let mut r = report("Ana");
        r.exercises.insert(
            "4.2".into(),
            ExerciseCell {
                status: "in_progress".into(),
                checks_passed: 4,
                checks_total: 3,
                ..ExerciseCell::default()
            },
        );
        assert!(invalid(&r).is_some());
        let mut r = report("Ana");
        r.quizzes.insert(
            "4".into(),
            QuizCell {
                right: 5,
                total: 6,
                best: 5,
                attempts: 1,
            },
        );
        assert_eq!(invalid(&r), None);
        let mut r = report("Ana");
        r.student = "short".into();
        assert!(invalid(&r).is_some());
    }

    #[test]
    fn the_page_escapes_names_and_the_terminal_cuts_them() {
        let c = catalogue();
        let mut data = ClassData::new().unwrap();
        data.students.insert(
            "t".into(),
            Student {
                name: "<script>alert(1)</script>".into(),
                exercises: BTreeMap::from([(
                    "4.2".into(),
                    ExerciseCell {
                        status: "in_progress".into(),
                        checks_passed: 2,
                        checks_total: 3,
                        hints_seen: 1,
                        attempts: 2,
                    },
                )]),
                quizzes: BTreeMap::new(),
                last_seen: 100,
            },
        );
        let html = table_html(&data, &c, 100, "http://127.0.0.1:7979/class/X");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains(">2/3</td>"));
        let text = table_text(&data, &c, 100);
        assert!(text.contains("<script>alert(1…"), "{text}");
        assert!(text.contains("2/3"));
    }

    #[test]
    fn one_address_is_slowed_down_not_the_others() {
        let live = Live::new(
            catalogue(),
            ClassData::new().unwrap(),
            PathBuf::from("/nonexistent"),
            false,
        );
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..RATE_LIMIT {
            assert!(live.allow(a));
        }
        assert!(!live.allow(a));
        assert!(live.allow(b));
    }

    #[test]
    fn a_row_is_replaced_whole_kept_on_disk_and_unknown_exercises_left_out() {
        let path = std::env::temp_dir().join(format!("class-live-{}.json", std::process::id()));
        let live = Live::new(catalogue(), ClassData::new().unwrap(), path.clone(), false);
        let mut r = report("Ana");
        for id in ["4.2", "9.9"] {
            r.exercises.insert(
                id.into(),
                ExerciseCell {
                    status: "in_progress".into(),
                    checks_passed: 1,
                    checks_total: 3,
                    ..ExerciseCell::default()
                },
            );
        }
        assert_eq!(live.accept(r.clone()).unwrap(), vec!["Ana: 4.2 1/3"]);
        r.exercises.get_mut("4.2").unwrap().status = "solved".into();
        assert_eq!(live.accept(r).unwrap(), vec!["Ana: 4.2 ok"]);
        let kept: ClassData =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let row = &kept.students["ABCDEFGHJKMNPQRS"];
        assert_eq!(row.exercises.keys().collect::<Vec<_>>(), ["4.2"]);
        assert_eq!(row.exercises["4.2"].status, "solved");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn codes_are_easy_to_copy() {
        let code = random_text(8).unwrap();
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| !"01OIL".contains(c)), "{code}");
        assert_ne!(code, random_text(8).unwrap());
    }
}
