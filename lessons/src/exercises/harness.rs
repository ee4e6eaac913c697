//! The course's side of an exercise: build its runner with cargo, run it
//! with a time limit, and turn what happened into a [`Verdict`].
//!
//! Each exercise is its own small program (a `[[bin]]` of the package
//! `kafka-course-exercises` in `exercises/`), linking this library, which
//! cargo has already built. So a check costs one small compile and link,
//! and a file that does not compile stops only its own exercise.
//!
//! The runners are built with the profile and in the target directory of
//! the `course` program that asks for them (release for `cargo run
//! --release`, dev under `cargo test`): the library and every dependency are
//! then already there, nothing heavy is built twice.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use super::runner::{LANG_VAR, TIME_LIMIT_VAR};
use super::{
    check_line, failed_line, panic_text, report, Check, Event, Exercise, Outcome, EVENT_PREFIX,
    EXERCISES,
};
use crate::{tr, tr_static};

/// How long one exercise's checks may take before they count as hanging.
/// (A working solution takes one to three seconds.)
pub const TIME_LIMIT: Duration = Duration::from_secs(30);

/// A time limit given in seconds on the command line, or why it is not one.
pub fn time_limit(seconds: f64) -> Result<Duration> {
    match Duration::try_from_secs_f64(seconds) {
        Ok(limit) if !limit.is_zero() => Ok(limit),
        _ => bail!(
            "{}",
            tr!("--time-limit takes a positive number of seconds, not {seconds}")
        ),
    }
}

/// The runner package's build script reads the folder of the students'
/// files from this variable (unset: `exercises/` beside it).
pub const EXERCISES_DIR_VAR: &str = "COURSE_EXERCISES_DIR";

/// The package of the runners, and its manifest in the course.
const RUNNERS_PACKAGE: &str = "kafka-course-exercises";

/// What a check found, in the words of the progress table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Solved,
    NotYet,
    DoesNotCompile,
    TimedOut,
    Crashed,
    /// The student's file is not there.
    Missing,
}

impl Status {
    /// Its name in the tables, in the reader's language.
    pub fn label(self) -> &'static str {
        match self {
            Status::Solved => tr_static!("solved"),
            Status::NotYet => tr_static!("not yet"),
            Status::DoesNotCompile => tr_static!("does not compile"),
            Status::TimedOut => tr_static!("timed out"),
            Status::Crashed => tr_static!("crashed"),
            Status::Missing => tr_static!("missing"),
        }
    }
}

/// The verdict on one exercise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// The exercise's id ("4.2", "capstone").
    pub id: String,
    pub status: Status,
    /// One line: the first failing check, the compiler's first error with
    /// its file:line, what a hanging run was doing... Empty when solved.
    pub summary: String,
    /// The whole report, for `course exercise N`.
    pub report: String,
    /// What the checks said, when they finished (`course dev check` reads it).
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

impl Verdict {
    pub fn exercise(&self) -> &'static Exercise {
        super::exercise(&self.id).expect("a verdict is on a known exercise")
    }

    /// (checks passed, checks run): (0, 0) when none ran (it did not compile...).
    pub fn progress(&self) -> (usize, usize) {
        self.outcome.as_ref().map_or((0, 0), |o| {
            (o.checks.iter().filter(|c| c.passed).count(), o.checks.len())
        })
    }

    /// Its status for a table, with partial progress: "2 of 3 checks"
    /// rather than "not yet" when some checks ran.
    pub fn result(&self) -> String {
        match (self.status, self.progress()) {
            (Status::NotYet, (passed, total)) if total > 0 => {
                tr!("{passed} of {total} checks")
            }
            (status, _) => status.label().to_string(),
        }
    }
}

/// A runner built, or why not.
#[derive(Debug, Clone)]
pub enum Build {
    Built(PathBuf),
    /// The compiler's first error: where (file:line as the student reads
    /// it), its one-line message, and its full text with the code shown.
    DoesNotCompile {
        at: String,
        message: String,
        rendered: String,
    },
}

/// The runners of one build, each under a name of its own (see
/// [`Harness::build`]); dropped, they are removed.
#[derive(Debug)]
pub struct Builds {
    builds: BTreeMap<&'static str, Build>,
    dir: PathBuf,
}

impl Builds {
    /// The build of exercise `id`.
    pub fn get(&self, id: &str) -> Option<&Build> {
        self.builds.get(id)
    }
}

impl Drop for Builds {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the runners are built, and from which student files.
#[derive(Debug, Clone)]
pub struct Harness {
    /// The course's root: `Cargo.toml`, `exercises/`.
    root: PathBuf,
    /// The folder of the students' files checked.
    exercises_dir: PathBuf,
    /// How to name that folder to the reader: `exercises` for the student,
    /// `alice/exercises` in a teacher's table...
    shown_dir: String,
    /// Whether `exercises_dir` is another copy's (the build must be told).
    elsewhere: bool,
    target_dir: PathBuf,
    profile: String,
    /// How long a run may take.
    pub time_limit: Duration,
}

impl Harness {
    /// The course's own exercises (`exercises/`), built like this program.
    pub fn new(root: &Path) -> Harness {
        let (target_dir, profile) = own_build(root);
        // Canonical, as the compiler names the file in its messages.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Harness {
            exercises_dir: root.join("exercises"),
            root,
            shown_dir: "exercises".into(),
            elsewhere: false,
            target_dir,
            profile,
            time_limit: TIME_LIMIT,
        }
    }

    /// Check the files in `dir` (another copy's `exercises/` folder) with
    /// this copy's checks, naming them `shown/...` in reports.
    pub fn with_exercises(mut self, dir: &Path, shown: &str) -> Harness {
        self.exercises_dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        self.shown_dir = shown.to_string();
        self.elsewhere = true;
        self
    }

    /// A folder of the course's own in the target directory, for files a
    /// command keeps between builds (a teacher's class check, the bench).
    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        self.target_dir.join(name)
    }

    pub fn exercises_dir(&self) -> &Path {
        &self.exercises_dir
    }

    /// The student's file of `exercise`, as the reader should see its name.
    pub fn shown_file(&self, exercise: &Exercise) -> String {
        format!("{}/{}.rs", self.shown_dir, exercise.slug)
    }

    /// The text of the student's file of `exercise`, if it is there.
    pub fn read(&self, exercise: &Exercise) -> Option<String> {
        std::fs::read_to_string(self.file(exercise)).ok()
    }

    /// Whether the student's file of `exercise` is still the one they
    /// started with (known only where the exercises' sources are).
    pub fn untouched(&self, exercise: &Exercise) -> bool {
        let Some(text) = self.read(exercise) else {
            return false;
        };
        super::starters(&self.exercises_dir, exercise).contains(&text)
    }

    /// Write these verdicts down in the copy's record (`.course/progress.json`):
    /// what the teacher's table shows of the student's progress.
    pub fn record(&self, verdicts: &[Verdict]) {
        let untouched: Vec<bool> = verdicts
            .iter()
            .map(|v| self.untouched(v.exercise()))
            .collect();
        crate::record::update(|r| {
            for (v, untouched) in verdicts.iter().zip(untouched) {
                r.verdict(v, untouched);
            }
        });
    }

    /// `verdict`, given by `theirs` on a file with the same text, as this
    /// harness would have said it: the file names are this copy's.
    pub fn rehome(&self, verdict: &Verdict, theirs: &Harness) -> Verdict {
        let mine = |text: &str| {
            text.replace(
                &format!("{}/", theirs.shown_dir),
                &format!("{}/", self.shown_dir),
            )
        };
        Verdict {
            summary: mine(&verdict.summary),
            report: mine(&verdict.report),
            ..verdict.clone()
        }
    }

    fn file(&self, exercise: &Exercise) -> PathBuf {
        self.exercises_dir.join(format!("{}.rs", exercise.slug))
    }

    /// Build the runners of `exercises` in one cargo command; one that does
    /// not compile does not stop the others (`--keep-going`).
    ///
    /// Every build of the runners writes the same files (`<target>/<profile>/exN_*`),
    /// whichever folder of student files it reads: two at once (a teacher's
    /// class check beside `course watch`, tests in parallel) would run each
    /// other's programs. So builds take turns (a lock file), and each keeps
    /// its programs under a name of its own (a hard link: the linker writes
    /// a new file next time, this one stays as it is) until [`Builds`] is
    /// dropped.
    pub fn build(&self, exercises: &[&'static Exercise]) -> Result<Builds> {
        std::fs::create_dir_all(&self.target_dir)
            .with_context(|| tr!("creating {}", self.target_dir.display()))?;
        let lock_path = self.target_dir.join("exercise-runners.lock");
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| tr!("creating {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| tr!("locking {}", lock_path.display()))?;
        let mut builds = self.build_locked(exercises)?;
        static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self
            .target_dir
            .join("exercise-runs")
            .join(format!("{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| tr!("creating {}", dir.display()))?;
        for build in builds.values_mut() {
            if let Build::Built(exe) = build {
                let own = dir.join(exe.file_name().expect("a program has a name"));
                std::fs::hard_link(&*exe, &own)
                    .or_else(|_| std::fs::copy(&*exe, &own).map(drop))
                    .with_context(|| tr!("linking {}", exe.display()))?;
                *exe = own;
            }
        }
        drop(lock);
        Ok(Builds { builds, dir })
    }

    fn build_locked(
        &self,
        exercises: &[&'static Exercise],
    ) -> Result<BTreeMap<&'static str, Build>> {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .current_dir(&self.root)
            .args(["build", "--quiet", "--keep-going", "--message-format=json"])
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .args(["--package", RUNNERS_PACKAGE])
            .args(["--profile", &self.profile])
            .arg("--target-dir")
            .arg(&self.target_dir);
        for e in exercises {
            cargo.args(["--bin", e.slug]);
        }
        if self.elsewhere {
            cargo.env(EXERCISES_DIR_VAR, &self.exercises_dir);
        } else {
            cargo.env_remove(EXERCISES_DIR_VAR);
        }
        let output = cargo
            .stdin(Stdio::null())
            .output()
            .context(tr!("running cargo to build the exercise"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut built = BTreeMap::new();
        let mut other_errors = Vec::new();
        for line in stdout.lines() {
            let Ok(msg) = serde_json::from_str::<CargoMessage>(line) else {
                continue;
            };
            let exercise = exercises.iter().find(|e| e.slug == msg.target.name);
            match (msg.reason.as_str(), exercise) {
                ("compiler-artifact", Some(e)) => {
                    if let Some(exe) = msg.executable {
                        built.insert(e.id, Build::Built(exe));
                    }
                }
                ("compiler-message", _) => {
                    let Some(diag) = msg.message else { continue };
                    if diag.level != "error" {
                        continue;
                    }
                    match exercise {
                        // The first error of a runner is the one to show.
                        Some(e) if !built.contains_key(e.id) => {
                            built.insert(e.id, self.compile_error(e, &diag));
                        }
                        Some(_) => {}
                        None => other_errors.push(diag.rendered.unwrap_or(diag.message)),
                    }
                }
                _ => {}
            }
        }
        if !other_errors.is_empty() {
            bail!(
                "{}",
                tr!(
                    "the course itself does not compile, so no exercise can be checked:\n{}",
                    other_errors.join("\n")
                )
            );
        }
        for e in exercises {
            if !built.contains_key(e.id) {
                // Cargo stopped before the runner (a broken manifest, no
                // network for a first download...): its own words say why.
                bail!(
                    "{}",
                    tr!(
                        "cargo could not build exercise {}'s checks:\n{}",
                        e.id,
                        String::from_utf8_lossy(&output.stderr).trim_end()
                    )
                );
            }
        }
        Ok(built)
    }

    /// The compiler's error, with the student's file named as they know it.
    fn compile_error(&self, e: &Exercise, diag: &Diagnostic) -> Build {
        let span = diag
            .spans
            .iter()
            .find(|s| s.is_primary)
            .or(diag.spans.first());
        let at = match span {
            Some(s) => format!("{}:{}", self.shown_path(&s.file_name, e), s.line_start),
            None => self.shown_file(e),
        };
        let rendered = diag
            .rendered
            .clone()
            .unwrap_or_else(|| diag.message.clone());
        Build::DoesNotCompile {
            at,
            message: diag.message.clone(),
            rendered: self.shorten_paths(&rendered),
        }
    }

    /// `file` as the reader knows it: the student's file by its short name.
    fn shown_path(&self, file: &str, e: &Exercise) -> String {
        let student = self.file(e);
        if Path::new(file) == student || file.ends_with(&format!("/{}.rs", e.slug)) {
            self.shown_file(e)
        } else {
            file.to_string()
        }
    }

    /// Replace the full path of the students' folder with its short name.
    fn shorten_paths(&self, text: &str) -> String {
        text.replace(&self.exercises_dir.display().to_string(), &self.shown_dir)
    }

    /// Run a built runner and judge it, within the time limit.
    pub fn run(&self, exercise: &'static Exercise, exe: &Path) -> Result<Verdict> {
        let spawn = |isolated: bool| {
            let mut command = Command::new(exe);
            limit_resources(&mut command, isolated);
            command
                .arg("--events")
                .env(TIME_LIMIT_VAR, self.time_limit.as_secs_f64().to_string())
                // The checks' own words (their names, what failed) are written
                // by the runner: in the language this program speaks, whatever
                // the runner's environment would choose.
                .env(LANG_VAR, crate::i18n::current().code())
                // Checks always run on the embedded cluster: they must be repeatable.
                .env_remove("KAFKA_BOOTSTRAP_SERVERS")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        };
        let mut child = match spawn(loopback::usable()) {
            // This system made the namespace but not its loopback: run the
            // checks without it, from now on.
            Err(e) if e.raw_os_error() == Some(loopback::FAILED) => {
                loopback::give_up();
                spawn(false)
            }
            spawned => spawned,
        }
        .with_context(|| tr!("starting {}", exe.display()))?;
        // Read both outputs on their own threads, so that a full pipe never
        // blocks the runner and the time limit is kept here.
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("piped");
        let stderr_text = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });

        let start = Instant::now();
        let mut seen = Seen::default();
        let timed_out = loop {
            let left = self.time_limit.saturating_sub(start.elapsed());
            match lines.recv_timeout(left) {
                Ok(line) => seen.line(&line),
                Err(mpsc::RecvTimeoutError::Timeout) => break true,
                // The runner closed its output: it is ending.
                Err(mpsc::RecvTimeoutError::Disconnected) => break false,
            }
        };
        let status = if timed_out {
            let _ = child.kill();
            child.wait().ok()
        } else {
            // Closed output but still running (the student's code closed
            // it?): give it until the limit, then stop it.
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Some(status),
                    Ok(None) if start.elapsed() < self.time_limit => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = child.kill();
                        break child.wait().ok();
                    }
                }
            }
        };
        let stderr_text = stderr_text.join().unwrap_or_default();
        Ok(self.judge(exercise, seen, timed_out, status, &stderr_text))
    }

    fn judge(
        &self,
        exercise: &'static Exercise,
        seen: Seen,
        timed_out: bool,
        status: Option<std::process::ExitStatus>,
        stderr: &str,
    ) -> Verdict {
        let file = self.shown_file(exercise);
        let printed = printed_by_the_code(&seen.printed);
        let verdict = |status: Status, summary: String, report: String| Verdict {
            id: exercise.id.to_string(),
            status,
            summary: self.shorten_paths(&summary),
            report: self.shorten_paths(&format!("{report}{printed}")),
            outcome: seen.outcome.clone().filter(|_| !timed_out),
        };
        if let (false, Some(outcome)) = (timed_out, &seen.outcome) {
            let text = report(exercise, outcome, &file);
            return match &outcome.panic {
                Some(p) => {
                    let line = panic_text(exercise, p, &file);
                    let summary = line.lines().next().unwrap_or_default().to_string();
                    verdict(Status::Crashed, summary, text)
                }
                None if outcome.passed() => verdict(Status::Solved, String::new(), text),
                None => verdict(Status::NotYet, outcome.first_failure(), text),
            };
        }
        // No outcome: the run hung, or the process died before its end.
        let so_far = Outcome {
            checks: seen.checks.clone(),
            ..Outcome::default()
        };
        let mut text = super::header(exercise, &file);
        for c in &so_far.checks {
            text.push_str(&check_line(c));
        }
        let during = seen
            .step
            .clone()
            .unwrap_or_else(|| tr!("starting the embedded cluster"));
        if timed_out {
            let secs = self.time_limit.as_secs();
            text.push_str(&tr!(
                "  TIME  no verdict after {secs} s: the checks were still waiting while\n        \
                 {during}.\n        \
                 Does {} return? A loop that never ends, or a wait without a time-out\n        \
                 (poll(None), a blocking recv...), keeps it from returning (chapter {}).\n",
                exercise.function,
                exercise.chapter
            ));
            text.push_str(&tr!(
                "\nTimed out: exercise {} was stopped after {secs} s.\n",
                exercise.id
            ));
            return verdict(
                Status::TimedOut,
                tr!("no verdict after {secs} s, while {during}"),
                text,
            );
        }
        let how = match status {
            // Rust's allocator says so before it aborts.
            _ if stderr.contains("memory allocation of") => tr!(
                "out of memory (a check may take at most {} GiB)",
                MEMORY_LIMIT >> 30
            ),
            Some(s) => describe_exit(s),
            None => tr!("in a way the course could not see"),
        };
        let last_words: Vec<&str> = stderr.lines().rev().take(5).collect();
        text.push_str(&failed_line(&tr!(
            "the exercise's program stopped {how}, before its checks finished,\n        \
             while {during}."
        )));
        for line in last_words.iter().rev() {
            text.push_str(&format!("        | {line}\n"));
        }
        text.push_str(&tr!(
            "        Something in {file} ended the program (std::process::exit, abort, a stack\n        \
             overflow from endless recursion...): reread chapter {}.\n",
            exercise.chapter
        ));
        text.push_str(&tr!(
            "\nCrashed: exercise {} did not finish.\n",
            exercise.id
        ));
        verdict(
            Status::Crashed,
            tr!("the program stopped {how}, while {during}"),
            text,
        )
    }

    /// The verdict on one exercise whose build is known.
    pub fn verdict(&self, exercise: &'static Exercise, build: &Build) -> Result<Verdict> {
        match build {
            Build::Built(exe) => self.run(exercise, exe),
            Build::DoesNotCompile {
                at,
                message,
                rendered,
            } => {
                let mut report = super::header(exercise, &self.shown_file(exercise));
                report.push_str(&tr!(
                    "Your file does not compile:\n\n{}\n\n",
                    rendered.trim_end()
                ));
                report.push_str(&tr!(
                    "Does not compile: fix {at} first (the other exercises are not affected).\n"
                ));
                Ok(Verdict {
                    id: exercise.id.to_string(),
                    status: Status::DoesNotCompile,
                    summary: format!("{at}: {message}"),
                    report,
                    outcome: None,
                })
            }
        }
    }

    /// A missing student file: a verdict that says how to get it back.
    pub fn missing(&self, exercise: &'static Exercise) -> Option<Verdict> {
        let path = self.file(exercise);
        if path.is_file() {
            return None;
        }
        let shown = self.shown_file(exercise);
        // A file that looks like it, as a rename would leave it.
        // "ex4" for ex4_commit, "ex4_2" for ex4_2_loop, "capstone" for capstone.
        let prefix = lookalike_prefix(exercise.slug);
        let lookalike = std::fs::read_dir(&self.exercises_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|name| name.starts_with(&prefix) && name != &format!("{}.rs", exercise.slug))
            // Another exercise's file is not a lookalike.
            .filter(|name| {
                !super::EXERCISES
                    .iter()
                    .any(|e| *name == format!("{}.rs", e.slug))
            })
            .find(|name| {
                // ex4_commit's lookalikes start with "ex4", not "ex41" or "ex4_2".
                let rest = &name[prefix.len()..];
                let rest = rest.strip_prefix('_').unwrap_or(rest);
                !rest.starts_with(|c: char| c.is_ascii_digit())
            });
        let mut how = match &lookalike {
            Some(name) => tr!(
                "There is {}/{name}: if that is it, rename it back to {}.rs.\n",
                self.shown_dir,
                exercise.slug
            ),
            None => String::new(),
        };
        if self.elsewhere {
            how.push_str(tr_static!("It is missing in the student's copy.\n"));
        } else if super::can_reset(&self.root, exercise) {
            how.push_str(&tr!(
                "To get its original back: `course exercise {n} --reset`\n\
                 (`cargo run --release -- exercise {n} --reset`).\n",
                n = exercise.id
            ));
        } else {
            how.push_str(&tr!("Ask your teacher for a fresh {}.rs.\n", exercise.slug));
        }
        let mut report = super::header(exercise, &shown);
        let summary = tr!("{shown} is missing");
        report.push_str(&format!("{summary}.\n{how}"));
        Some(Verdict {
            id: exercise.id.to_string(),
            status: Status::Missing,
            summary,
            report,
            outcome: None,
        })
    }

    /// Build and check `exercises` (missing files are reported, not built),
    /// in order, returning one verdict each.
    pub fn check(&self, exercises: &[&'static Exercise]) -> Result<Vec<Verdict>> {
        let present: Vec<&'static Exercise> = exercises
            .iter()
            .copied()
            .filter(|e| self.file(e).is_file())
            .collect();
        let builds = if present.is_empty() {
            None
        } else {
            Some(self.build(&present)?)
        };
        let mut verdicts = Vec::new();
        for e in exercises {
            let build = builds.as_ref().and_then(|b| b.get(e.id));
            let verdict = match (self.missing(e), build) {
                (Some(missing), _) => missing,
                (None, Some(build)) => self.cached_verdict(e, build)?,
                (None, None) => unreachable!("build() returns every exercise it was given"),
            };
            verdicts.push(verdict);
        }
        Ok(verdicts)
    }

    /// [`Self::verdict`], remembered for an unchanged runner: run again on a
    /// program that has not changed, the checks give the same verdict, so a
    /// second look costs only cargo's "nothing to do". Only solved and not
    /// yet are remembered: a time-out or a crash may come from a busy
    /// machine, and deserves another try. A verdict is in words, so one is
    /// remembered per language: a French check never gets an English report.
    pub fn cached_verdict(&self, exercise: &'static Exercise, build: &Build) -> Result<Verdict> {
        let Build::Built(exe) = build else {
            return self.verdict(exercise, build);
        };
        let lang = crate::i18n::current().code();
        let cache = self
            .target_dir
            .join("exercise-verdicts")
            .join(&self.profile)
            .join(format!("{}.{lang}.json", exercise.slug));
        let key = identity(exe);
        let files = self.exercises_dir.display().to_string();
        if let (Some(key), Ok(text)) = (&key, std::fs::read_to_string(&cache)) {
            if let Ok(saved) = serde_json::from_str::<Saved>(&text) {
                if &saved.key == key
                    && saved.files == files
                    && saved.shown_dir == self.shown_dir
                    && saved.lang == lang
                {
                    let mut verdict = saved.verdict;
                    verdict.report.push_str(tr_static!(
                        "(Nothing changed since the last check: this is its verdict.)\n"
                    ));
                    return Ok(verdict);
                }
            }
        }
        let verdict = self.verdict(exercise, build)?;
        if let (Some(key), Status::Solved | Status::NotYet) = (key, verdict.status) {
            let saved = Saved {
                key,
                files,
                shown_dir: self.shown_dir.clone(),
                lang: lang.to_string(),
                verdict: verdict.clone(),
            };
            // A cache that cannot be written only costs time.
            if let Some(dir) = cache.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(&cache, serde_json::to_string(&saved)?);
        }
        Ok(verdict)
    }
}

/// A remembered verdict, and the runner program it was given on.
#[derive(Serialize, Deserialize)]
struct Saved {
    key: (u64, u128),
    /// The folder of the student files it was built from.
    files: String,
    shown_dir: String,
    /// The language its words are in (`en`, `fr`).
    lang: String,
    verdict: Verdict,
}

/// Size and modification time of a program: cargo writes a new file
/// whenever it rebuilds it.
fn identity(exe: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), mtime))
}

/// What the course saw of a run.
#[derive(Default)]
struct Seen {
    step: Option<String>,
    checks: Vec<Check>,
    outcome: Option<Outcome>,
    /// Lines the student's code printed itself.
    printed: Vec<String>,
}

impl Seen {
    fn line(&mut self, line: &str) {
        let event = line
            .strip_prefix(EVENT_PREFIX)
            .and_then(|json| serde_json::from_str::<Event>(json).ok());
        match event {
            Some(Event::Step(s)) => self.step = Some(s),
            Some(Event::Check(c)) => self.checks.push(c),
            Some(Event::Outcome(o)) => self.outcome = Some(o),
            None => self.printed.push(line.to_string()),
        }
    }
}

/// The student's own output, shown after the report (at most 20 lines).
fn printed_by_the_code(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut s = tr!("\nYour code printed:\n");
    for line in lines.iter().take(20) {
        s.push_str(&format!("  | {line}\n"));
    }
    if lines.len() > 20 {
        s.push_str(&tr!("  | ... ({} more lines)\n", lines.len() - 20));
    }
    s
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => tr_static!(" (SIGABRT: an abort)"),
                9 => " (SIGKILL)",
                11 => tr_static!(" (SIGSEGV: a bad memory access, or a stack overflow)"),
                _ => "",
            };
            return tr!("on signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => tr!("with exit status {code}"),
        None => tr!("abnormally"),
    }
}

/// The target directory and profile this program was built in: a runner
/// built the same way finds the library and every dependency ready.
/// `course` lives at `<target>/<profile dir>/course` (`debug` is the dev
/// profile's folder). Anything else (an installed copy): the workspace's
/// `target/`, release.
pub(crate) fn own_build(root: &Path) -> (PathBuf, String) {
    let exe = std::env::current_exe().ok();
    let dirs = exe.as_ref().and_then(|exe| {
        let profile_dir = exe.parent()?;
        let target = profile_dir.parent()?;
        // Cargo marks its target directories with this file.
        target.join("CACHEDIR.TAG").is_file().then_some(())?;
        let profile = match profile_dir.file_name()?.to_str()? {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        Some((target.to_path_buf(), profile))
    });
    dirs.unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        (target, "release".to_string())
    })
}

/// The lines of `cargo --message-format=json` the harness reads.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    target: Target,
    message: Option<Diagnostic>,
    executable: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
struct Target {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Clone)]
struct Diagnostic {
    message: String,
    level: String,
    #[serde(default)]
    spans: Vec<Span>,
    rendered: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Span {
    file_name: String,
    line_start: u32,
    is_primary: bool,
}

/// Every exercise, as the list [`Harness::check`] takes.
pub fn all() -> Vec<&'static Exercise> {
    EXERCISES.iter().collect()
}

/// The progress table of `course exercises`.
pub fn table(verdicts: &[Verdict]) -> String {
    let (exercise, kind, result, look) = (
        tr_static!("exercise"),
        tr_static!("kind"),
        tr_static!("result"),
        tr_static!("what to look at"),
    );
    // Widths in characters, as `{:<w$}` pads them.
    let width = |s: &str| s.chars().count();
    let w1 = verdicts
        .iter()
        .map(|v| width(&v.id))
        .max()
        .unwrap_or(3)
        .max(width(exercise));
    let w2 = verdicts
        .iter()
        .map(|v| width(v.exercise().kind.label()))
        .max()
        .unwrap_or(3)
        .max(width(kind));
    let w3 = verdicts
        .iter()
        .map(|v| width(&v.result()))
        .max()
        .unwrap_or(6)
        .max(width(result));
    let mut s = format!("{exercise:<w1$}  {kind:<w2$}  {result:<w3$}  {look}\n");
    for v in verdicts {
        let e = v.exercise();
        let line = format!(
            "{:<w1$}  {:<w2$}  {:<w3$}  {}",
            e.id,
            e.kind.label(),
            v.result(),
            v.summary
        );
        s.push_str(line.trim_end());
        s.push('\n');
    }
    let solved = verdicts
        .iter()
        .filter(|v| v.status == Status::Solved)
        .count();
    let total = verdicts.len();
    s.push('\n');
    s.push_str(&tr!("{solved} of {total} exercises solved."));
    if let Some(next) = verdicts.iter().find(|v| v.status != Status::Solved) {
        s.push_str(&tr!(" Next: `just exercise {}`.", next.id));
    }
    s.push('\n');
    s
}

/// The most memory a runner may take: 4 GiB of address space, far above
/// what the checks need (a few hundred MB), low enough that a student's
/// endless `Vec::push` stops with "memory allocation failed" (a crash,
/// reported as one) instead of swapping the machine to a halt; and no core
/// dump. (On systems other than Unix, the time limit alone applies.)
/// On Linux, with `isolated`, the runner also gets a network of its own
/// with nothing but loopback (see [`loopback`]).
pub const MEMORY_LIMIT: u64 = 4 << 30;

#[cfg(unix)]
fn limit_resources(command: &mut Command, isolated: bool) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec, only system calls (setrlimit, and
    // loopback::enter's), which are async-signal-safe, and no allocation.
    unsafe {
        command.pre_exec(move || {
            if isolated {
                loopback::enter()?;
            }
            let memory = libc::rlimit {
                rlim_cur: MEMORY_LIMIT as libc::rlim_t,
                rlim_max: MEMORY_LIMIT as libc::rlim_t,
            };
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // A limit that cannot be set leaves the time limit: not an error.
            libc::setrlimit(libc::RLIMIT_AS, &memory);
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn limit_resources(_: &mut Command, _: bool) {}

/// A runner's network: loopback only. The checks' embedded cluster listens
/// on 127.0.0.1, and nothing else is needed: a student's code (or a copy
/// a teacher checks) cannot reach another machine. On Linux, where the
/// system lets an unprivileged process make a user namespace (most
/// distributions; some containers and hardened systems do not), the runner
/// starts in a network namespace of its own, whose only interface,
/// loopback, is brought up. Elsewhere, the network is not limited.
mod loopback {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The error `enter` gives when the namespace was made but its
    /// loopback could not be brought up: the runner cannot start that way.
    #[cfg(target_os = "linux")]
    pub const FAILED: i32 = libc::ENETDOWN;
    #[cfg(not(target_os = "linux"))]
    pub const FAILED: i32 = -1;

    static BROKEN: AtomicBool = AtomicBool::new(false);

    /// Whether to try: on Linux, unless it failed once in this process.
    pub fn usable() -> bool {
        cfg!(target_os = "linux") && !BROKEN.load(Ordering::Relaxed)
    }

    pub fn give_up() {
        BROKEN.store(true, Ordering::Relaxed);
    }

    /// In the child, before exec: a new user and network namespace, its
    /// loopback up. A system that refuses the namespace leaves the network
    /// as it is (not an error).
    #[cfg(target_os = "linux")]
    pub fn enter() -> std::io::Result<()> {
        // SAFETY: system calls on plain values and a zeroed `ifreq`.
        unsafe {
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                return Ok(());
            }
            let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
            if socket < 0 {
                return Err(std::io::Error::from_raw_os_error(FAILED));
            }
            let mut request: libc::ifreq = std::mem::zeroed();
            for (to, from) in request.ifr_name.iter_mut().zip(b"lo\0") {
                *to = *from as libc::c_char;
            }
            let up = libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request) == 0 && {
                request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
                libc::ioctl(socket, libc::SIOCSIFFLAGS, &request) == 0
            };
            libc::close(socket);
            if up {
                Ok(())
            } else {
                Err(std::io::Error::from_raw_os_error(FAILED))
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn enter() -> std::io::Result<()> {
        Ok(())
    }
}

/// The start of a student's file name that says which exercise it is:
/// "ex4" for ex4_commit, "ex4_2" for ex4_2_loop, the slug itself otherwise.
fn lookalike_prefix(slug: &str) -> String {
    let Some(rest) = slug.strip_prefix("ex") else {
        return slug.to_string();
    };
    let mut prefix = String::from("ex");
    for (i, part) in rest.split('_').enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        if i > 0 {
            prefix.push('_');
        }
        prefix.push_str(part);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runner sees one network interface, loopback, and it is up: the
    /// checks' cluster works, nothing beyond this machine is reachable.
    /// (Only where the system lets a process make a user namespace.)
    #[cfg(target_os = "linux")]
    #[test]
    fn a_runner_has_loopback_and_no_other_network() {
        let refused = [
            "/proc/sys/kernel/unprivileged_userns_clone",
            "/proc/sys/user/max_user_namespaces",
        ]
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|v| v.trim() == "0"));
        if refused {
            eprintln!("this system allows no user namespace: the network is not limited");
            return;
        }
        let mut command = Command::new("cat");
        command.arg("/proc/net/dev");
        limit_resources(&mut command, true);
        let out = command.output().expect("cat runs in the namespace");
        let text = String::from_utf8_lossy(&out.stdout);
        let interfaces: Vec<&str> = text
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(str::trim)
            .collect();
        assert_eq!(interfaces, ["lo"], "{text}");
        // That loopback is up, every exercise's checks show: their embedded
        // cluster listens on 127.0.0.1 (lessons/tests/exercises.rs).
    }

    /// A course folder with `exercises/` and, if asked, `exercises/solutions/`.
    fn course(name: &str, solutions: bool) -> PathBuf {
        let root = std::env::temp_dir().join(format!("kafka-course-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("exercises")).unwrap();
        if solutions {
            // The teacher's copy: every exercise's source, to reset from.
            std::fs::create_dir_all(root.join("exercises/solutions")).unwrap();
            for e in super::super::EXERCISES {
                let file = format!("exercises/solutions/{}.rs", e.slug);
                std::fs::write(root.join(&file), "// a solution\n").unwrap();
            }
        }
        root
    }

    fn missing_report(root: &Path, id: &str) -> Option<Verdict> {
        Harness::new(root).missing(super::super::exercise(id).unwrap())
    }

    #[test]
    fn a_missing_file_in_the_teachers_copy_says_how_to_reset_it() {
        let root = course("missing-teacher", true);
        let v = missing_report(&root, "4").expect("the file is missing");
        assert_eq!(v.status, Status::Missing);
        assert_eq!(v.summary, "exercises/ex4_commit.rs is missing");
        assert!(
            v.report.contains("course exercise 4.1 --reset"),
            "{}",
            v.report
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_missing_file_in_a_students_copy_says_to_ask_the_teacher() {
        let root = course("missing-student", false);
        let v = missing_report(&root, "2").expect("the file is missing");
        assert!(
            v.report
                .contains("Ask your teacher for a fresh ex2_keys.rs"),
            "{}",
            v.report
        );
        assert!(!v.report.contains("--reset"), "{}", v.report);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_renamed_file_is_pointed_at() {
        let root = course("renamed", false);
        std::fs::write(root.join("exercises/ex4_commit_old.rs"), "").unwrap();
        std::fs::write(root.join("exercises/ex1_topic.rs"), "").unwrap();
        let v = missing_report(&root, "4").expect("the file is missing");
        assert!(
            v.report.contains("There is exercises/ex4_commit_old.rs: if that is it, rename it back to ex4_commit.rs"),
            "{}",
            v.report
        );
        assert!(
            missing_report(&root, "1").is_none(),
            "ex1_topic.rs is there"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_time_limit_is_a_positive_number_of_seconds() {
        assert_eq!(time_limit(2.5).unwrap(), Duration::from_millis(2500));
        for bad in [0.0, -1.0, f64::NAN, 1e300] {
            let err = time_limit(bad).unwrap_err().to_string();
            assert!(err.contains("positive number of seconds"), "{err}");
        }
    }

    #[test]
    fn events_and_the_students_own_output_are_told_apart() {
        let mut seen = Seen::default();
        seen.line(&format!(
            "{EVENT_PREFIX}{}",
            serde_json::to_string(&Event::Step("waiting".into())).unwrap()
        ));
        seen.line("debug: offset 3");
        seen.line(&format!("{EVENT_PREFIX}not json"));
        assert_eq!(seen.step.as_deref(), Some("waiting"));
        assert_eq!(
            seen.printed,
            [
                "debug: offset 3".to_string(),
                format!("{EVENT_PREFIX}not json")
            ]
        );
    }
}
