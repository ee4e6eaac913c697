//! `course join URL --name NAME`: send your results to your teacher's live
//! class table (`course teacher live`, in class/).
//!
//! Once joined, every result recorded in `.course/progress.json` (see
//! record.rs: an exercise checked, a hint, a quiz) is sent at once: per
//! exercise its status, checks passed and total, hints seen and attempts;
//! per quiz its score. Never code, never files. The copy keeps what it
//! needs in `.course/class.json` beside the record: the address, the name,
//! and a random token that keeps this student's row theirs.
//! `COURSE_TEACHER=URL` and `COURSE_STUDENT=NAME` do the same as joining.
//!
//! A teacher who cannot be reached never stops a student: it is said once
//! (and once more when it works again), and the next result sends the
//! whole record again, so nothing is lost.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::record::Record;
use crate::{outln, tr};

/// The longest name the teacher's table shows.
const MAX_NAME: usize = 40;

/// What joining left in the copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Membership {
    /// `http://ADDRESS:PORT/class/CODE`, as the teacher's screen shows it.
    pub url: String,
    pub name: String,
    /// Random: the teacher's table keys its rows on it.
    pub student: String,
    /// The last send failed (it was said; it is not said again).
    #[serde(default)]
    pub unreachable: bool,
}

/// `.course/class.json`, beside the record (`COURSE_PROGRESS` moves both).
pub fn path() -> PathBuf {
    let record = crate::record::path();
    record
        .parent()
        .map(|dir| dir.join("class.json"))
        .unwrap_or_else(|| PathBuf::from("class.json"))
}

fn load() -> Option<Membership> {
    let text = std::fs::read_to_string(path()).ok()?;
    serde_json::from_str(&text).ok()
}

fn save(m: &Membership) -> std::io::Result<()> {
    crate::record::save_json(m, &path())
}

/// This copy's class, if it joined one: `COURSE_TEACHER` and
/// `COURSE_STUDENT` first, else `.course/class.json`.
pub fn membership() -> Option<Membership> {
    let kept = load();
    match (
        std::env::var("COURSE_TEACHER")
            .ok()
            .filter(|u| !u.is_empty()),
        std::env::var("COURSE_STUDENT")
            .ok()
            .filter(|n| !n.is_empty()),
    ) {
        (Some(url), Some(name)) => {
            let (student, unreachable) = match &kept {
                Some(k) if k.url == url => (k.student.clone(), k.unreachable),
                Some(k) => (k.student.clone(), false),
                None => (new_token().ok()?, false),
            };
            let m = Membership {
                url,
                name: name.trim().to_string(),
                student,
                unreachable,
            };
            // Keep the token (and whether it was said that the teacher
            // cannot be reached) for the next command.
            let _ = save(&m);
            Some(m)
        }
        _ => kept,
    }
}

/// A random token: 24 letters and digits.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!(tr!("no randomness from the system: {e}")))?;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Why a name cannot be used, as the teacher's table would refuse it.
fn bad_name(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Some(tr!("a name has 1 to {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Some(tr!("a name has no control characters"));
    }
    None
}

/// An HTTP client that never keeps a student waiting long: on a classroom
/// network an answer takes milliseconds. `hurried`: the last try failed,
/// so this one gives up sooner (a student in `course watch` saves often).
fn agent(hurried: bool) -> ureq::Agent {
    let (connect, whole) = if hurried { (300, 1000) } else { (2000, 3000) };
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(whole)))
        .timeout_connect(Some(Duration::from_millis(connect)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// What the teacher's server answered, when it answered.
enum Answer {
    Ok,
    Refused(u16, String),
}

/// The server's reason, from its `{"error": "..."}`.
fn reason(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer> {
    let mut response = response?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(Answer::Ok);
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    Ok(Answer::Refused(status, reason(&body)))
}

/// A refusal, said for a student.
fn refusal(url: &str, status: u16, why: &str) -> String {
    match status {
        403 => tr!("the teacher's table refused the class code in {url}: copy the address again from the teacher's screen"),
        429 => tr!("the teacher's table asks to slow down (too many requests); your next result is sent as usual"),
        _ => tr!("the teacher's table refused it (HTTP {status}: {why})"),
    }
}

/// What is sent: the record's results, per exercise and per quiz.
fn report(m: &Membership, record: &Record) -> serde_json::Value {
    let exercises: serde_json::Map<String, serde_json::Value> = record
        .exercises
        .iter()
        .map(|(id, e)| {
            (
                id.clone(),
                json!({
                    "status": e.status,
                    "checks_passed": e.checks_passed,
                    "checks_total": e.checks_total,
                    "hints_seen": e.hints_seen,
                    "attempts": e.attempts,
                }),
            )
        })
        .collect();
    let quizzes: serde_json::Map<String, serde_json::Value> = record
        .quizzes
        .iter()
        .map(|(chapter, q)| {
            (
                chapter.clone(),
                json!({ "right": q.right, "total": q.total, "best": q.best, "attempts": q.attempts }),
            )
        })
        .collect();
    json!({
        "student": m.student,
        "name": m.name,
        "exercises": exercises,
        "quizzes": quizzes,
    })
}

fn post(m: &Membership, record: &Record) -> Result<Answer> {
    let url = format!("{}/verdicts", m.url.trim_end_matches('/'));
    let body = report(m, record).to_string();
    answer(
        agent(m.unreachable)
            .post(&url)
            .header("content-type", "application/json")
            .send(&body),
    )
}

/// What the student is told about sending: printed on standard error, or,
/// once `course watch` holds them (its screen is redrawn at each event,
/// which would wipe a line printed beside it), kept for it to show.
static HELD: std::sync::Mutex<Option<Option<String>>> = std::sync::Mutex::new(None);

/// From now on, keep notices for [`take_notice`] instead of printing them.
pub fn hold_notices() {
    *HELD.lock().unwrap() = Some(None);
}

/// The last notice held since the last call, if any.
pub fn take_notice() -> Option<String> {
    HELD.lock().unwrap().as_mut().and_then(Option::take)
}

fn notice(text: String) {
    match HELD.lock().unwrap().as_mut() {
        Some(slot) => *slot = Some(text),
        None => eprintln!("{text}"),
    }
}

/// Send the record to the teacher, if this copy joined a class. Never
/// fails: a failure is said once, on standard error.
pub fn send(record: &Record) {
    let Some(mut m) = membership() else {
        return;
    };
    let failure = match post(&m, record) {
        Ok(Answer::Ok) => None,
        Ok(Answer::Refused(status, why)) => Some(refusal(&m.url, status, &why)),
        Err(e) => Some(tr!("{} could not be reached ({e})", m.url)),
    };
    match failure {
        Some(why) if !m.unreachable => {
            notice(tr!("note: your result was not sent to your teacher's table: {why}. Your work goes on, recorded in your copy; the next result sends everything again."));
            m.unreachable = true;
            let _ = save(&m);
        }
        None if m.unreachable => {
            notice(tr!(
                "note: your teacher's table is reachable again: your results are sent."
            ));
            m.unreachable = false;
            let _ = save(&m);
        }
        _ => {}
    }
}

/// `course join URL --name NAME`: check the address and the class code with
/// the teacher's server, keep them, and send what is recorded so far.
pub fn join(url: &str, name: &str) -> Result<()> {
    let url = url.trim().trim_end_matches('/').to_string();
    let name = name.trim().to_string();
    if let Some(why) = bad_name(&name) {
        bail!(tr!("--name {name:?}: {why}"));
    }
    let looks_right = url.starts_with("http://")
        && url.split('/').nth(3) == Some("class")
        && url.split('/').nth(4).is_some_and(|c| !c.is_empty());
    if !looks_right {
        bail!(tr!(
            "{url} is not a class address: it looks like http://192.168.1.10:7979/class/K7QM2XPA, as the teacher's screen shows it"
        ));
    }
    match answer(agent(false).get(&url).call()) {
        Ok(Answer::Ok) => {}
        Ok(Answer::Refused(status, why)) => bail!(refusal(&url, status, &why)),
        Err(e) => bail!(tr!(
            "{url} could not be reached ({e}): is the address the one on the teacher's screen, is `course teacher live` running, and is this machine on the same network?"
        )),
    }
    let student = match load() {
        Some(kept) => kept.student,
        None => new_token()?,
    };
    let m = Membership {
        url: url.clone(),
        name: name.clone(),
        student,
        unreachable: false,
    };
    save(&m).with_context(|| tr!("keeping the class's address in {}", path().display()))?;
    let record = Record::load(&crate::record::path());
    match post(&m, &record)? {
        Answer::Ok => {}
        Answer::Refused(status, why) => bail!(refusal(&url, status, &why)),
    }
    outln!("{}", tr!("Joined the class at {url} as {name}."));
    outln!(
        "{}",
        tr!("From now on each result (an exercise checked, a hint, a quiz) is sent to your teacher's table: the exercise, its status, checks passed, hints seen. Never your code. `course join --leave` stops it.")
    );
    Ok(())
}

/// `course join --leave`: stop sending.
pub fn leave() -> Result<()> {
    let path = path();
    match std::fs::remove_file(&path) {
        Ok(()) => outln!("{}", tr!("Left the class: nothing is sent any more.")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            outln!("{}", tr!("This copy had not joined a class."))
        }
        Err(e) => return Err(e).with_context(|| tr!("removing {}", path.display())),
    }
    if std::env::var_os("COURSE_TEACHER").is_some() {
        outln!(
            "{}",
            tr!("COURSE_TEACHER and COURSE_STUDENT are set in your environment: unset them too.")
        );
    }
    Ok(())
}

// The teacher's side.

/// The live table's package and program (class/).
const PACKAGE: &str = "course-class";

/// Where the teacher's class is kept by default: `.course/class-live.json`
/// in the teacher's copy. One file: deleting it forgets the class.
pub fn default_data() -> PathBuf {
    crate::teacher::root()
        .join(".course")
        .join("class-live.json")
}

/// `course teacher live`: build the live table's server (once: a minute the
/// first time), then become it, telling it the course's exercises and
/// quizzes and the language.
pub fn live(listen: &str, all_interfaces: bool, data: Option<PathBuf>) -> Result<()> {
    let server = crate::serve::program_path(PACKAGE);
    let first = !server.is_file();
    if first {
        outln!(
            "{}",
            tr!("Building the class table's server, once (about a minute the first time).")
        );
    }
    let status = crate::serve::cargo_build(PACKAGE, PACKAGE, false, !first)
        .with_context(|| tr!("running cargo to build the class table's server"))?;
    anyhow::ensure!(
        status.success(),
        "{}",
        tr!("cargo could not build the class table's server")
    );
    let data = data.unwrap_or_else(default_data);
    let mut cmd = std::process::Command::new(&server);
    cmd.args(["--listen", listen])
        .arg("--data")
        .arg(&data)
        .args(["--lang", crate::i18n::current().code()]);
    if all_interfaces {
        cmd.arg("--all-interfaces");
    }
    for e in crate::exercises::EXERCISES {
        cmd.args(["--exercise", e.id]);
    }
    for (chapter, ..) in crate::quiz::QUIZZES {
        cmd.args(["--quiz", &chapter.to_string()]);
    }
    crate::serve::hand_over(cmd, &server)
}
