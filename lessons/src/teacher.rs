//! For teachers: hand students a clean copy, and check a student's copy.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context as _, Result};

/// The course's root directory (where Cargo.toml, book/ and exercises/ are).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copy every file git tracks to `dir`, without the reference solutions,
/// and with every exercise back in its starting state.
pub fn export(dir: &Path) -> Result<()> {
    let root = root();
    ensure!(
        !dir.exists() || fs::read_dir(dir)?.next().is_none(),
        "{} exists and is not empty: give a new directory",
        dir.display()
    );
    let listing = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        .context("running `git ls-files` (export copies the files git tracks)")?;
    ensure!(
        listing.status.success(),
        "`git ls-files` failed: is {} a git clone?",
        root.display()
    );
    let mut copied = 0;
    for file in listing.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file)?;
        if file.starts_with("exercises/solutions/") {
            continue;
        }
        let target = dir.join(file);
        fs::create_dir_all(target.parent().unwrap())?;
        fs::copy(root.join(file), &target).with_context(|| format!("copying {file}"))?;
        copied += 1;
    }
    // The exercises as a student starts them, whatever state this copy is in.
    fs::create_dir_all(dir.join("exercises"))?;
    for entry in fs::read_dir(root.join("exercises/solutions"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)?;
            let starter = crate::exercises::starter::starter_from_solution(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            fs::write(
                dir.join("exercises").join(path.file_name().unwrap()),
                starter,
            )?;
        }
    }
    crate::outln!(
        "Copied {copied} files to {}: the exercises are unsolved, and the solutions are not there.",
        dir.display()
    );
    crate::outln!("Students run `just exercises` (or `cargo run --release -- exercises`) in it.");
    Ok(())
}

/// Build this copy of the course with the student's `exercises/` folder in
/// place of its own, and run every check on it: the student's own copy of
/// the checks is never used.
pub fn check(dir: &Path) -> Result<()> {
    let exercises = dir.join("exercises");
    if !exercises.is_dir() {
        bail!(
            "{} has no exercises/ folder: give the root of the student's copy",
            dir.display()
        );
    }
    let exercises = exercises.canonicalize()?;
    let root = root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "run",
            "--release",
            "--quiet",
            "--bin",
            "course",
            "--",
            "exercises",
        ])
        .env("EXERCISES_DIR", &exercises)
        // A target directory of its own, so checking students does not
        // rebuild the teacher's own build, and the other way round.
        .env("CARGO_TARGET_DIR", root.join("target/student-check"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "the student's exercises in {} do not compile (cargo's messages above name the file and line)",
            exercises.display()
        );
    }
    Ok(())
}
