//! What a student did, kept in their copy: `.course/progress.json`.
//!
//! `course exercise`, `course exercises`, `course watch`, `course hint` and
//! `course quiz` write down their results there, so that the student's
//! next hint is a stronger one, and so that a teacher who checks the copy
//! (`course teacher check`) sees quiz scores and hints used beside the
//! exercises' verdicts. Only results: never code. The file is the
//! student's: deleting it forgets the record, nothing else.
//!
//! A record that cannot be read (edited by hand, say) is never overwritten:
//! it is moved aside to `progress.json.unreadable`, and a new one starts.
//! Failing to write is said once on standard error and never stops the
//! student's work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::exercises::harness::{Status, Verdict};
use crate::tr;

/// Where the record is: `COURSE_PROGRESS` names another file (the tests
/// use it), else `.course/progress.json` in the course's folder.
pub fn path() -> PathBuf {
    match std::env::var_os("COURSE_PROGRESS") {
        Some(file) => PathBuf::from(file),
        None => of_copy(&crate::teacher::root()),
    }
}

/// The record of the copy at `root`.
pub fn of_copy(root: &Path) -> PathBuf {
    root.join(".course").join("progress.json")
}

/// Everything recorded in one copy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Per exercise id ("4.2", "capstone").
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseRecord>,
    /// Per chapter number, as a text ("4").
    #[serde(default)]
    pub quizzes: BTreeMap<String, QuizRecord>,
}

/// One exercise: its last verdict, and what it took.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExerciseRecord {
    /// Checks run on it (each save in `course watch`, each `course exercise`).
    #[serde(default)]
    pub attempts: u32,
    /// The last verdict's status code: `solved`, `in_progress`,
    /// `not_started`, `does_not_compile`, `timed_out`, `crashed`, `missing`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub checks_passed: usize,
    #[serde(default)]
    pub checks_total: usize,
    /// How many of its hints the student has seen.
    #[serde(default)]
    pub hints_seen: usize,
    /// Seconds since 1970 (UTC) of the first solved verdict, if any.
    #[serde(default)]
    pub solved_at: Option<u64>,
    /// Seconds since 1970 (UTC) of the last thing recorded.
    #[serde(default)]
    pub last_activity: u64,
}

/// One quiz: the last complete (or stopped) attempt, and the best score.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuizRecord {
    pub right: usize,
    pub total: usize,
    pub answered: usize,
    #[serde(default)]
    pub best: usize,
    #[serde(default)]
    pub attempts: u32,
    pub at: u64,
}

/// Write `value` as JSON to `path`, whole or not at all (a temporary file
/// renamed): the record, and the class a copy joined (class.rs).
pub fn save_json(value: &impl Serialize, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(value).expect("plain data serializes");
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}

/// Seconds since 1970, UTC.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The stable code of a verdict's status, as records and CSV files write it:
/// a "not yet" with no check passing is `not_started` when the file is
/// still its starter, else `in_progress`.
pub fn status_code(verdict: &Verdict, untouched: bool) -> &'static str {
    match verdict.status {
        Status::Solved => "solved",
        Status::NotYet if untouched => "not_started",
        Status::NotYet => "in_progress",
        Status::DoesNotCompile => "does_not_compile",
        Status::TimedOut => "timed_out",
        Status::Crashed => "crashed",
        Status::Missing => "missing",
    }
}

impl Record {
    /// The record at `path`; a missing file is an empty record. An
    /// unreadable one is moved aside (see the module's comment).
    pub fn load(path: &Path) -> Record {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Record::default();
        };
        match serde_json::from_str(&text) {
            Ok(record) => record,
            Err(e) => {
                let aside = path.with_extension("json.unreadable");
                let _ = std::fs::rename(path, &aside);
                eprintln!(
                    "{}",
                    tr!(
                        "note: {} could not be read ({e}); it is kept as {} and a new record starts",
                        path.display(),
                        aside.display()
                    )
                );
                Record::default()
            }
        }
    }

    /// Write it to `path`, whole or not at all.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        save_json(self, path)
    }

    /// Record a verdict on an exercise (`untouched`: its file is still the starter).
    pub fn verdict(&mut self, verdict: &Verdict, untouched: bool) {
        let e = self.exercises.entry(verdict.id.clone()).or_default();
        let now = now();
        if verdict.status != Status::Missing {
            e.attempts += 1;
        }
        e.status = status_code(verdict, untouched).to_string();
        let (passed, total) = verdict.progress();
        e.checks_passed = passed;
        e.checks_total = total;
        if verdict.status == Status::Solved && e.solved_at.is_none() {
            e.solved_at = Some(now);
        }
        e.last_activity = now;
    }

    /// The student asked for a hint of exercise `id`, having `available`:
    /// returns how many to show now (one more than before, at most all).
    pub fn next_hint(&mut self, id: &str, available: usize) -> usize {
        let e = self.exercises.entry(id.to_string()).or_default();
        e.hints_seen = (e.hints_seen + 1).min(available.max(1));
        e.last_activity = now();
        e.hints_seen
    }

    /// A quiz attempt on chapter `chapter`.
    pub fn quiz(&mut self, chapter: u32, right: usize, total: usize, answered: usize) {
        let q = self.quizzes.entry(chapter.to_string()).or_default();
        q.right = right;
        q.total = total;
        q.answered = answered;
        q.best = q.best.max(right);
        q.attempts += 1;
        q.at = now();
    }
}

/// Load the copy's record, change it with `f`, save it. A failure to save
/// is said on standard error, once per process, and otherwise ignored: the
/// record must never stop a student's work.
pub fn update<T>(f: impl FnOnce(&mut Record) -> T) -> T {
    let path = path();
    let mut record = Record::load(&path);
    let result = f(&mut record);
    if let Err(e) = record.save(&path) {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "{}",
                tr!(
                    "note: your progress could not be recorded in {}: {e}",
                    path.display()
                )
            )
        });
    }
    // A student who joined a class (`course join`): the teacher's table gets
    // the record too, once it is safe in the copy. Without a class, nothing
    // is sent anywhere.
    crate::class::send(&record);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("course-record-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("progress.json")
    }

    #[test]
    fn a_record_survives_a_round_trip_and_hints_grow_one_at_a_time() {
        let path = temp("round-trip");
        let mut r = Record::load(&path);
        assert_eq!(r, Record::default());
        assert_eq!(r.next_hint("4.2", 2), 1);
        assert_eq!(r.next_hint("4.2", 2), 2);
        assert_eq!(r.next_hint("4.2", 2), 2, "never more than there are");
        r.quiz(4, 3, 6, 6);
        r.quiz(4, 5, 6, 6);
        r.quiz(4, 2, 6, 3);
        r.save(&path).unwrap();
        let back = Record::load(&path);
        assert_eq!(back, r);
        let q = &back.quizzes["4"];
        assert_eq!((q.right, q.best, q.attempts, q.answered), (2, 5, 3, 3));
    }

    #[test]
    fn an_unreadable_record_is_kept_aside_not_overwritten() {
        let path = temp("unreadable");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{ not json").unwrap();
        let r = Record::load(&path);
        assert_eq!(r, Record::default());
        let aside = path.with_extension("json.unreadable");
        assert_eq!(std::fs::read_to_string(aside).unwrap(), "{ not json");
    }
}
