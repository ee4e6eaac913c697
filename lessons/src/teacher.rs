//! For teachers: hand students a clean copy, and check a class of copies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};

use crate::exercises::harness::{self, Builds, Harness, Status, Verdict};
use crate::exercises::EXERCISES;
use crate::record::Record;
use crate::{tr, tr_static};

/// The course's root directory (where Cargo.toml, book/ and exercises/ are).
pub fn root() -> PathBuf {
    // lessons/'s parent, written without "..": paths shown to students
    // read /home/ana/kafka-course/exercises/..., not .../lessons/../exercises/...
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR"));
    lessons
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| lessons.join(".."))
}

/// Copy every file of the course to `dir` (the files git tracks, in a git
/// clone; else every file but builds and records), without the reference
/// solutions, and with every exercise back in its starting state, its
/// explanations (comments) in the reader's language (`--lang fr`: in
/// French). The starters also go to `exercises/starters/`, so that a
/// student can start an exercise over (`course exercise N --reset`). In
/// French, the copy opens on the French README.
pub fn export(dir: &Path, offline: bool, with_book: bool) -> Result<()> {
    let root = root();
    ensure!(
        !dir.exists() || fs::read_dir(dir)?.next().is_none(),
        "{}",
        tr!(
            "{} exists and is not empty: give a new directory",
            dir.display()
        )
    );
    let mut copied = 0;
    for file in course_files(&root)? {
        if file.starts_with("exercises/solutions/") || file.starts_with("exercises/starters/") {
            continue;
        }
        let target = dir.join(&file);
        fs::create_dir_all(target.parent().unwrap())?;
        fs::copy(root.join(&file), &target).with_context(|| tr!("copying {file}"))?;
        copied += 1;
    }
    // The exercises as a student starts them, whatever state this copy is
    // in, explained in the reader's language; and again in starters/, to
    // start over from.
    fs::create_dir_all(dir.join("exercises/starters"))?;
    for e in crate::exercises::EXERCISES {
        let path = root.join(format!("exercises/solutions/{}.rs", e.slug));
        let text = fs::read_to_string(&path).with_context(|| tr!("reading {}", path.display()))?;
        let starter = crate::exercises::starter_in_reader_language(e.slug, &text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        fs::write(dir.join(format!("exercises/{}.rs", e.slug)), &starter)?;
        fs::write(
            dir.join(format!("exercises/starters/{}.rs", e.slug)),
            &starter,
        )?;
    }
    // A French class opens the French README.
    if crate::i18n::french() && dir.join("README.fr.md").is_file() {
        let english = fs::read_to_string(dir.join("README.md"))?;
        let french = fs::read_to_string(dir.join("README.fr.md"))?;
        fs::write(
            dir.join("README.en.md"),
            english.replace("[README.fr.md](README.fr.md)", "[README.md](README.md)"),
        )?;
        fs::write(
            dir.join("README.md"),
            french.replace("[README.md](README.md)", "[README.en.md](README.en.md)"),
        )?;
        fs::remove_file(dir.join("README.fr.md"))?;
    }
    if offline {
        vendor(&root, dir)?;
    }
    // Last, so that the book is newer than every source it is made of:
    // the copy serves it without building it (course serve).
    if with_book {
        build_book_into(&root, &dir.join("book/build"))?;
    }
    crate::outln!(
        "Copied {copied} files to {}: the exercises are unsolved, and the solutions are not there.",
        dir.display()
    );
    crate::outln!("Students run `just watch` (or `cargo run --release -- watch`) in it.");
    Ok(())
}

/// The course's files, relative to `root`: what git tracks in a clone,
/// else every file except builds (`target/`, `book/build/`), git's folder,
/// a student's record (`.course/`) and vendored crates.
fn course_files(root: &Path) -> Result<Vec<String>> {
    if root.join(".git").exists() {
        let listing = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["ls-files", "-z"])
            .output()
            .context(tr!(
                "running `git ls-files` (export copies the files git tracks)"
            ))?;
        ensure!(
            listing.status.success(),
            "{}",
            tr!("`git ls-files` failed: is {} a git clone?", root.display())
        );
        return listing
            .stdout
            .split(|&b| b == 0)
            .filter(|f| !f.is_empty())
            .map(|f| Ok(std::str::from_utf8(f)?.to_string()))
            .collect();
    }
    // A release archive: no git, walk the folder.
    const SKIPPED: &[&str] = &["target", "book/build", ".git", ".course", "vendor"];
    let mut files = Vec::new();
    let mut folders = vec![PathBuf::new()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(root.join(&folder))? {
            let entry = entry?;
            let relative = folder.join(entry.file_name());
            let name = relative.to_string_lossy().replace('\\', "/");
            if SKIPPED.contains(&name.as_str()) {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(relative);
            } else if kind.is_file() {
                files.push(name);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Build both editions of the book into `out` with the book's own program
/// (`build-book`, package kafka-course-book: mdBook, compiled once).
fn build_book_into(root: &Path, out: &Path) -> Result<()> {
    crate::outln!("Building the book into the copy (both editions): students read it at once.");
    let (target, profile) = harness::own_build(root);
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "kafka-course-book",
            "--bin",
            "build-book",
        ])
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(&target)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--")
        .arg(out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| tr!("running cargo to build the book"))?;
    ensure!(
        status.success(),
        "{}",
        tr!("the book could not be built into the copy (`--without-book` leaves it out)")
    );
    Ok(())
}

/// `--offline`: every crate the course needs, in `dir/vendor/`, and
/// `dir/.cargo/config.toml` telling cargo to use them, so the class builds
/// without the network (`cargo vendor`).
fn vendor(root: &Path, dir: &Path) -> Result<()> {
    crate::outln!("Vendoring the crates (cargo vendor): a class builds without the network.");
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(dir)
        .args(["vendor", "--locked", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg(dir.join("vendor"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| tr!("running cargo vendor"))?;
    ensure!(
        out.status.success(),
        "{}",
        tr!(
            "cargo vendor failed: it needs the crates, downloaded or from the network ({})",
            root.display()
        )
    );
    // The configuration `cargo vendor` prints, for crates.io's crates (the
    // only source Cargo.lock names), with a path relative to the copy.
    fs::create_dir_all(dir.join(".cargo"))?;
    fs::write(
        dir.join(".cargo/config.toml"),
        "# Written by `course teacher export --offline`: cargo builds the course\n\
         # from vendor/, without the network.\n\
         [source.crates-io]\n\
         replace-with = \"vendored-sources\"\n\
         \n\
         [source.vendored-sources]\n\
         directory = \"vendor\"\n",
    )?;
    Ok(())
}

/// One student's copy: a folder with an `exercises/` folder in it.
#[derive(Debug, Clone)]
pub struct Copy {
    /// How the table names the student: the folder's name.
    pub name: String,
    pub dir: PathBuf,
}

/// The copies `dirs` name: each is a copy of the course, or a folder of
/// copies (a class), which may hold folders of copies (groups): those are
/// named by their path in the class ("group-a/alice"). Copies are taken in
/// name order; a folder in a class that holds no copy is named on standard
/// error, never skipped silently.
pub fn find_copies(dirs: &[PathBuf]) -> Result<Vec<Copy>> {
    let mut copies = Vec::new();
    for dir in dirs {
        ensure!(dir.is_dir(), "{}", tr!("{} is not a folder", dir.display()));
        if is_copy(dir) {
            let name = dir
                .canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| dir.display().to_string());
            copies.push(Copy {
                name,
                dir: dir.clone(),
            });
            continue;
        }
        let before = copies.len();
        let mut skipped = Vec::new();
        collect_copies(dir, "", 0, &mut copies, &mut skipped)?;
        ensure!(
            copies.len() > before,
            "{}",
            tr!(
                "{} is neither a copy of the course (it has no exercises/ folder) nor a folder of copies",
                dir.display()
            )
        );
        for folder in skipped {
            eprintln!(
                "{}",
                tr!(
                    "note: {}/{folder} holds no copy of the course (no exercises/ folder): not checked",
                    dir.display()
                )
            );
        }
    }
    Ok(copies)
}

/// A copy of the course: a folder with an `exercises/` folder in it.
fn is_copy(dir: &Path) -> bool {
    dir.join("exercises").is_dir()
}

/// The copies in `dir` (named `prefix` + their folder's name) and in its
/// folders, down to 3 levels; the folders with none go to `skipped`.
fn collect_copies(
    dir: &Path,
    prefix: &str,
    depth: usize,
    copies: &mut Vec<Copy>,
    skipped: &mut Vec<String>,
) -> Result<()> {
    let mut inside: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| tr!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            // Hidden folders (.git) and builds are nobody's copy.
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !name.starts_with('.') && name != "target"
        })
        .collect();
    inside.sort();
    for folder in inside {
        let name = format!(
            "{prefix}{}",
            folder.file_name().unwrap_or_default().to_string_lossy()
        );
        if is_copy(&folder) {
            copies.push(Copy { name, dir: folder });
            continue;
        }
        let before = copies.len();
        if depth < 2 {
            collect_copies(&folder, &format!("{name}/"), depth + 1, copies, skipped)?;
        }
        if copies.len() == before {
            skipped.push(name);
        }
    }
    Ok(())
}

/// One row of the class table.
pub struct Row {
    pub student: String,
    pub verdicts: Vec<Verdict>,
    /// Per verdict, in the same order: its file is still as handed out.
    pub untouched: Vec<bool>,
    /// What the student's copy recorded (quizzes, hints, attempts).
    pub record: Record,
}

impl Row {
    /// The stable code of verdict `i` (`solved`, `in_progress`...).
    fn code(&self, i: usize) -> &'static str {
        crate::record::status_code(&self.verdicts[i], self.untouched[i])
    }
}

/// A copy whose runners are built, waiting for its checks.
struct Built {
    copy: Copy,
    harness: Harness,
    /// The text of each of its exercise files (those that are there).
    files: BTreeMap<&'static str, String>,
    /// Verdicts a check of the same file by the same course gave before
    /// (kept in the target folder: see [`VerdictCache`]).
    cached: BTreeMap<&'static str, Verdict>,
    /// Runners of the files no copy before had (the others are known).
    builds: Option<Builds>,
    build_time: Duration,
}

/// Verdicts kept between runs of `teacher check`, one file each, named by
/// what decides the verdict: this course's program (its size and time:
/// cargo writes a new one when the checks change), the time limit, the
/// language, the exercise and the student's file, byte for byte. So a copy
/// nobody touched since the last check costs reading a few files, no build
/// and no run. Only verdicts a second run would repeat are kept: solved,
/// not yet, does not compile (a time-out or a crash may come from a busy
/// machine, and deserves another try).
struct VerdictCache {
    dir: PathBuf,
    course: String,
}

/// Stands for a copy's folder in a cached verdict's words.
const COPY_MARK: &str = "\u{1}copy\u{1}";

impl VerdictCache {
    fn new(harness: &Harness, time_limit: Duration) -> VerdictCache {
        let exe = std::env::current_exe().ok();
        let identity = exe
            .as_deref()
            .and_then(|p| fs::metadata(p).ok())
            .map(|m| {
                let time = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}-{time}", m.len())
            })
            .unwrap_or_default();
        VerdictCache {
            // COURSE_CLASS_CACHE: another folder (the tests start empty).
            dir: std::env::var_os("COURSE_CLASS_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| harness.scratch_dir("class-verdicts")),
            course: format!(
                "{identity}-{}-{}",
                time_limit.as_millis(),
                crate::i18n::current().code()
            ),
        }
    }

    fn path(&self, exercise: &str, text: &str) -> PathBuf {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.course, exercise, text).hash(&mut h);
        self.dir
            .join(format!("{exercise}-{:016x}.json", h.finish()))
    }

    fn get(&self, exercise: &str, text: &str, shown_dir: &str) -> Option<Verdict> {
        let saved = fs::read_to_string(self.path(exercise, text)).ok()?;
        let verdict: Verdict = serde_json::from_str(&saved).ok()?;
        let mine = |t: &str| t.replace(COPY_MARK, shown_dir);
        Some(Verdict {
            summary: mine(&verdict.summary),
            report: mine(&verdict.report),
            ..verdict
        })
    }

    fn put(&self, exercise: &str, text: &str, shown_dir: &str, verdict: &Verdict) {
        if !matches!(
            verdict.status,
            Status::Solved | Status::NotYet | Status::DoesNotCompile
        ) {
            return;
        }
        let general = |t: &str| t.replace(&format!("{shown_dir}/"), &format!("{COPY_MARK}/"));
        let saved = Verdict {
            summary: general(&verdict.summary),
            report: general(&verdict.report),
            ..verdict.clone()
        };
        // A cache that cannot be written only costs time next run.
        let _ = fs::create_dir_all(&self.dir);
        if let Ok(json) = serde_json::to_string(&saved) {
            let _ = fs::write(self.path(exercise, text), json);
        }
    }
}

/// What `teacher check` writes besides its table.
pub struct Outputs<'a> {
    /// `--csv FILE`: comma-separated, UTF-8.
    pub csv: Option<&'a Path>,
    /// `--csv-excel FILE`: the same for spreadsheets set for French (and
    /// most of Europe): `;`-separated, UTF-8 with a byte-order mark.
    pub excel: Option<&'a Path>,
}

/// Check every copy with this copy's checks, and print the class table
/// (and write it as CSV).
///
/// Builds are shared: every copy's runners are built in this course's own
/// target directory, where the library and all dependencies already are,
/// so a copy costs a few small compiles and links, not a build of the
/// course. A file that an earlier copy had too, byte for byte (the starter,
/// as handed out, most often), gets that copy's verdict without a build or
/// a run: the same program on a fresh cluster gives the same verdict; and
/// so does a file checked in an earlier run ([`VerdictCache`]). While one
/// copy's checks run, the next copy's runners are built (the checks mostly
/// wait on the embedded cluster's timers, the compiler needs the CPU).
pub fn check_class(dirs: &[PathBuf], outputs: Outputs, time_limit: Duration) -> Result<()> {
    let rows = check_rows(dirs, time_limit, true)?;
    crate::out!("{}", class_table(&rows));
    for (path, sep, bom) in [(outputs.csv, ',', false), (outputs.excel, ';', true)] {
        if let Some(path) = path {
            let mut text = if bom {
                "\u{feff}".to_string()
            } else {
                String::new()
            };
            text.push_str(&class_csv(&rows, sep));
            fs::write(path, text).with_context(|| tr!("writing {}", path.display()))?;
            eprintln!("{}", tr!("wrote {}", path.display()));
        }
    }
    Ok(())
}

/// The rows of the class table for the copies `dirs` name (see
/// [`check_class`]); `say`: tell how each copy went, on standard error.
pub fn check_rows(dirs: &[PathBuf], time_limit: Duration, say: bool) -> Result<Vec<Row>> {
    let copies = find_copies(dirs)?;
    let mut base = Harness::new(&root());
    base.time_limit = time_limit;
    let start = Instant::now();
    let all = harness::all();
    let cache = std::sync::Arc::new(VerdictCache::new(&base, time_limit));

    // The builder: one copy ahead of the checks, no more (sync_channel(0)
    // hands each copy over only when the checks are ready for it).
    let (built_tx, built_rx) = mpsc::sync_channel::<Result<Built>>(0);
    let builder_base = base.clone();
    let builder_copies = copies.clone();
    let builder_cache = cache.clone();
    let builder = std::thread::spawn(move || {
        let mut seen = HashSet::new();
        for copy in builder_copies {
            let t = Instant::now();
            let shown = format!("{}/exercises", copy.name);
            let harness = builder_base
                .clone()
                .with_exercises(&copy.dir.join("exercises"), &shown);
            let files: BTreeMap<&'static str, String> = all
                .iter()
                .filter_map(|e| Some((e.id, harness.read(e)?)))
                .collect();
            let cached: BTreeMap<&'static str, Verdict> = files
                .iter()
                .filter_map(|(id, text)| Some((*id, builder_cache.get(id, text, &shown)?)))
                .collect();
            let new: Vec<_> = all
                .iter()
                .copied()
                .filter(|e| !cached.contains_key(e.id))
                .filter(|e| {
                    files
                        .get(e.id)
                        .is_some_and(|text| seen.insert((e.id, text.clone())))
                })
                .collect();
            let result = build_copy(&harness, &new).map(|builds| Built {
                copy,
                harness,
                files,
                cached,
                builds,
                build_time: t.elapsed(),
            });
            if built_tx.send(result).is_err() {
                return;
            }
        }
    });

    let mut rows = Vec::new();
    // The verdict on each file text checked so far, and whose copy it was.
    let mut known: HashMap<(&'static str, String), (Verdict, Harness)> = HashMap::new();
    for built in built_rx {
        let built = built?;
        let t = Instant::now();
        let mut verdicts = Vec::new();
        let mut reused = 0;
        for e in EXERCISES {
            let build = built.builds.as_ref().and_then(|b| b.get(e.id));
            let text = built.files.get(e.id);
            let shown = format!("{}/exercises", built.copy.name);
            let verdict = match (built.harness.missing(e), build, text) {
                (Some(missing), _, _) => missing,
                (None, _, Some(_)) if built.cached.contains_key(e.id) => {
                    reused += 1;
                    built.cached[e.id].clone()
                }
                (None, Some(build), Some(text)) => {
                    let verdict = built.harness.verdict(e, build)?;
                    cache.put(e.id, text, &shown, &verdict);
                    let key = (e.id, text.clone());
                    known.insert(key, (verdict.clone(), built.harness.clone()));
                    verdict
                }
                (None, None, Some(text)) => {
                    reused += 1;
                    let (verdict, theirs) = &known[&(e.id, text.clone())];
                    built.harness.rehome(verdict, theirs)
                }
                (None, _, None) => unreachable!("a file that is there has a text"),
            };
            verdicts.push(verdict);
        }
        let solved = verdicts
            .iter()
            .filter(|v| v.status == Status::Solved)
            .count();
        if say {
            eprintln!(
            "{}",
            tr!(
                "checked {}: {solved} of {} solved (build {build}, checks {checks}; {reused} file(s) seen in an earlier copy or check)",
                built.copy.name,
                verdicts.len(),
                build = crate::i18n::seconds(built.build_time.as_secs_f64(), 1),
                checks = crate::i18n::seconds(t.elapsed().as_secs_f64(), 1),
            )
        );
        }
        let untouched = EXERCISES
            .iter()
            .map(|e| {
                built.files.get(e.id).is_some_and(|text| {
                    crate::exercises::starters(built.harness.exercises_dir(), e).contains(text)
                        || crate::exercises::starters(&root().join("exercises"), e).contains(text)
                })
            })
            .collect();
        rows.push(Row {
            student: built.copy.name.clone(),
            verdicts,
            untouched,
            record: Record::load(&crate::record::of_copy(&built.copy.dir)),
        });
    }
    builder.join().expect("the builder thread does not panic");
    let took = start.elapsed().as_secs_f64();
    if say {
        eprintln!(
            "{}",
            tr!(
                "{} copies in {}: {} per copy",
                rows.len(),
                crate::i18n::seconds(took, 1),
                crate::i18n::seconds(took / rows.len().max(1) as f64, 1)
            )
        );
    }
    Ok(rows)
}

/// `course bench --exercises`, the teacher's part: a class of three copies
/// as handed out, checked once; then checked again unchanged (every verdict
/// kept: the goal is 0.5 s per copy); then with one file changed in each
/// copy (built and run again: the goal is 3 s per changed file).
pub fn bench(base: &Harness) -> Result<()> {
    let class = base.scratch_dir("class-bench");
    let _ = fs::remove_dir_all(&class);
    let students = ["alice", "bob", "carol"];
    for student in students {
        let dir = class.join(student).join("exercises");
        fs::create_dir_all(&dir).with_context(|| tr!("creating {}", dir.display()))?;
        for e in EXERCISES {
            let file = format!("{}.rs", e.slug);
            fs::copy(base.exercises_dir().join(&file), dir.join(&file))
                .with_context(|| tr!("copying exercises/{file}"))?;
        }
    }
    let limit = base.time_limit;
    // Its own verdicts, none at first; never the teacher's.
    let verdicts = base.scratch_dir("class-bench-verdicts");
    let _ = fs::remove_dir_all(&verdicts);
    std::env::set_var("COURSE_CLASS_CACHE", &verdicts);
    let dirs = [class.clone()];
    let time = |what: &dyn Fn() -> Result<()>| -> Result<f64> {
        let start = Instant::now();
        what()?;
        Ok(start.elapsed().as_secs_f64())
    };
    let first = time(&|| check_rows(&dirs, limit, false).map(drop))?;
    let again = time(&|| check_rows(&dirs, limit, false).map(drop))?;
    // One changed file per copy, a different one each, as in a class.
    for (student, e) in students.iter().zip(EXERCISES) {
        let path = class.join(student).join(format!("exercises/{}.rs", e.slug));
        let mut text = fs::read_to_string(&path)?;
        text.push_str(&format!("// {student} was here\n"));
        fs::write(&path, text)?;
    }
    let changed = time(&|| check_rows(&dirs, limit, false).map(drop))?;
    std::env::remove_var("COURSE_CLASS_CACHE");
    let n = students.len() as f64;
    crate::outln!();
    crate::outln!(
        "teacher check, a class of 3 copies: first check {}; again, unchanged, {} ({} per copy, goal 0.5 s); one file changed per copy, {} ({} per changed file, goal 3 s).",
        crate::i18n::seconds(first, 1),
        crate::i18n::seconds(again, 2),
        crate::i18n::seconds(again / n, 2),
        crate::i18n::seconds(changed, 1),
        crate::i18n::seconds(changed / n, 1)
    );
    Ok(())
}

/// Build the runners of `exercises` for one copy.
fn build_copy(
    harness: &Harness,
    exercises: &[&'static crate::exercises::Exercise],
) -> Result<Option<Builds>> {
    if exercises.is_empty() {
        return Ok(None);
    }
    harness.build(exercises).map(Some)
}

/// A table cell for the code `code` with `passed` of `total` checks: short,
/// so that a class's 22 exercises fit a terminal; the legend says them.
fn cell(code: &str, passed: usize, total: usize) -> String {
    match code {
        "solved" => tr!("ok"),
        "in_progress" if total > 0 => format!("{passed}/{total}"),
        "in_progress" => "~".to_string(),
        "not_started" => ".".to_string(),
        "does_not_compile" => tr!("comp"),
        "timed_out" => tr!("time"),
        "crashed" => tr!("crash"),
        _ => tr!("miss"),
    }
}

/// Quizzes a copy recorded: "right/total" over the quizzes taken (their
/// last attempt), or "." for none.
fn quizzes(record: &Record) -> String {
    if record.quizzes.is_empty() {
        return ".".to_string();
    }
    let right: usize = record.quizzes.values().map(|q| q.right).sum();
    let total: usize = record.quizzes.values().map(|q| q.total).sum();
    format!("{right}/{total}")
}

/// Hints a copy recorded, all exercises together.
fn hints(record: &Record) -> usize {
    record.exercises.values().map(|e| e.hints_seen).sum()
}

/// The class table: one row per student, one column per exercise (its id:
/// 1.1, 1.2...), then exercises solved, quiz answers right and hints seen
/// (from the copy's record), and a totals row; a legend; then what went
/// wrong beyond "not yet", one line each.
pub fn class_table(rows: &[Row]) -> String {
    let n = EXERCISES.len();
    let (student, solved_header) = (student_header(), solved_header());
    let mut header = vec![student.to_string()];
    header.extend(EXERCISES.iter().map(|e| match e.id {
        "capstone" => tr!("cap"),
        id => id.to_string(),
    }));
    header.extend([solved_header.to_string(), tr!("quiz"), tr!("hints")]);
    let mut lines = vec![header];
    for row in rows {
        let mut line = vec![row.student.clone()];
        for (i, v) in row.verdicts.iter().enumerate() {
            let (passed, total) = v.progress();
            line.push(cell(row.code(i), passed, total));
        }
        line.push(format!("{}/{n}", solved(&row.verdicts)));
        line.push(quizzes(&row.record));
        line.push(hints(&row.record).to_string());
        lines.push(line);
    }
    let mut totals = vec![solved_header.to_string()];
    for (i, _) in EXERCISES.iter().enumerate() {
        let count = rows
            .iter()
            .filter(|r| r.verdicts[i].status == Status::Solved)
            .count();
        totals.push(format!("{count}/{}", rows.len()));
    }
    let all: usize = rows.iter().map(|r| solved(&r.verdicts)).sum();
    totals.push(format!("{all}/{}", rows.len() * n));
    lines.push(totals);

    // Widths in characters, as `{:<w$}` pads ("résolus" is 7 wide, 8 bytes).
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s.push_str(&tr!(
        "\nok = solved, 2/3 = started, 2 of its 3 checks pass, ~ = started, no check ran, . = not started,\ncomp = does not compile, time = timed out, crash = crashed, miss = file missing.\nquiz = answers right over questions, in the quizzes taken (course quiz N); hints = hints seen.\n"
    ));
    let problems: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.verdicts
                .iter()
                .filter(|v| !matches!(v.status, Status::Solved | Status::NotYet))
                .map(move |v| {
                    tr!(
                        "  {} ex{}: {}: {}",
                        r.student,
                        v.id,
                        v.status.label(),
                        v.summary
                    )
                })
        })
        .collect();
    if !problems.is_empty() {
        s.push_str(&tr!("\nWhat kept a check from giving a verdict:\n"));
        for p in problems {
            s.push_str(&p);
            s.push('\n');
        }
    }
    s
}

/// The headers of the students' column and of the totals' column (also the
/// name of the totals' row). One message, "student|solved": the status
/// "solved" is another message with the same English (`tr!` looks messages
/// up by their English alone), and French says them differently.
fn headers() -> (&'static str, &'static str) {
    let both = tr_static!("student|solved");
    both.split_once('|').unwrap_or((both, both))
}

fn student_header() -> &'static str {
    headers().0
}

fn solved_header() -> &'static str {
    headers().1
}

fn solved(verdicts: &[Verdict]) -> usize {
    verdicts
        .iter()
        .filter(|v| v.status == Status::Solved)
        .count()
}

/// A date for a spreadsheet: "2026-12-07 21:40:00" (UTC), or "" for none.
fn date(seconds: Option<u64>) -> String {
    seconds
        .filter(|s| *s > 0)
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The class as CSV, one line per student and item (each exercise, each
/// quiz taken): what a spreadsheet filters and pivots. Its words are codes
/// that stay the same in every language and every version: `solved`,
/// `in_progress`, `not_started`, `does_not_compile`, `timed_out`,
/// `crashed`, `missing`; a quiz is `quiz`. Dates are UTC.
pub fn class_csv(rows: &[Row], sep: char) -> String {
    let field = |s: &str| -> String {
        if s.contains([sep, '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut lines = vec![[
        "student",
        "item",
        "kind",
        "status",
        "checks_passed",
        "checks_total",
        "hints_seen",
        "attempts",
        "solved_at",
        "last_activity",
    ]
    .join(&sep.to_string())];
    for row in rows {
        for (i, (e, v)) in EXERCISES.iter().zip(&row.verdicts).enumerate() {
            let (passed, total) = v.progress();
            let recorded = row.record.exercises.get(e.id);
            let kind = match e.kind {
                crate::exercises::Kind::Fix => "fix",
                crate::exercises::Kind::Completion => "completion",
                crate::exercises::Kind::Blank => "blank",
                crate::exercises::Kind::Capstone => "capstone",
            };
            let cells = [
                field(&row.student),
                field(&format!("exercise-{}", e.id)),
                kind.to_string(),
                row.code(i).to_string(),
                passed.to_string(),
                total.to_string(),
                recorded.map_or(0, |r| r.hints_seen).to_string(),
                recorded.map_or(0, |r| r.attempts).to_string(),
                date(recorded.and_then(|r| r.solved_at)),
                date(recorded.map(|r| r.last_activity)),
            ];
            lines.push(cells.join(&sep.to_string()));
        }
        for (chapter, q) in &row.record.quizzes {
            let cells = [
                field(&row.student),
                field(&format!("quiz-{chapter}")),
                "quiz".to_string(),
                if q.answered == q.total {
                    "answered"
                } else {
                    "partly_answered"
                }
                .to_string(),
                q.right.to_string(),
                q.total.to_string(),
                String::new(),
                q.attempts.to_string(),
                String::new(),
                date(Some(q.at)),
            ];
            lines.push(cells.join(&sep.to_string()));
        }
    }
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_named_one_by_one_or_found_in_a_class_folder() {
        let class = std::env::temp_dir().join(format!("kafka-course-class-{}", std::process::id()));
        let _ = fs::remove_dir_all(&class);
        for student in ["carol", "alice", "bob"] {
            fs::create_dir_all(class.join(student).join("exercises")).unwrap();
        }
        // Not a copy: no exercises/ folder.
        fs::create_dir_all(class.join("notes")).unwrap();
        // A group of copies, in the class.
        fs::create_dir_all(class.join("group-b/dave/exercises")).unwrap();
        let names = |dirs: &[PathBuf]| -> Vec<String> {
            find_copies(dirs)
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(
            names(std::slice::from_ref(&class)),
            ["alice", "bob", "carol", "group-b/dave"]
        );
        assert_eq!(
            names(&[class.join("carol"), class.join("alice")]),
            ["carol", "alice"]
        );
        let err = find_copies(&[class.join("notes")]).unwrap_err().to_string();
        assert!(err.contains("neither a copy of the course"), "{err}");
        let err = find_copies(&[class.join("nobody")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a folder"), "{err}");
        fs::remove_dir_all(class).unwrap();
    }
}
