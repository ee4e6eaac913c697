//! Wires the reference solutions into the tests.
//!
//! The course's library never compiles the files students edit: each
//! exercise has its own runner program (package `kafka-course-exercises`,
//! in `exercises/`), so a student's mistake stays in its exercise.
//!
//! If `exercises/solutions/` exists (the teacher's copy), the reference
//! solutions are listed in `$OUT_DIR/solution_modules.rs`, and the starters
//! derived from them (see src/exercises/starter.rs) are written to
//! `$OUT_DIR/starters/` and listed in `$OUT_DIR/starter_modules.rs`, with
//! `cfg(has_solutions)`: tests/exercises.rs includes both and checks that
//! every solution passes and every starter fails. A student's copy made by
//! `course teacher export` has no solutions.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "src/exercises/starter.rs"]
mod starter;

fn modules(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
                .filter(|(name, _)| name.starts_with("ex"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn module_list(mods: &[(String, PathBuf)]) -> String {
    mods.iter()
        .map(|(name, path)| {
            format!(
                "#[path = {:?}]\npub mod {name};\n",
                path.display().to_string()
            )
        })
        .collect()
}

/// Tansu, the independent broker the tests run every lesson against
/// (tests/lessons/tansu.rs): `cfg(has_tansu)` when its binary is installed,
/// so that a machine without it reports those tests as ignored, saying why.
/// CI installs it and sets COURSE_REQUIRE_TANSU, so that they must run.
fn find_tansu() {
    println!("cargo::rustc-check-cfg=cfg(has_tansu)");
    println!("cargo::rerun-if-env-changed=TANSU_BIN");
    println!("cargo::rerun-if-env-changed=COURSE_REQUIRE_TANSU");
    let bin = std::env::var_os("TANSU_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tansu-0.6.0/bin/tansu"));
    // Watch the nearest folder that exists, so installing Tansu later is noticed.
    if let Some(watched) = bin.ancestors().find(|p| p.exists() && *p != Path::new("/")) {
        println!("cargo::rerun-if-changed={}", watched.display());
    }
    if bin.is_file() {
        println!("cargo::rustc-cfg=has_tansu");
        // Under another name than the input: cargo also sets this variable
        // when it runs the tests, and a test that runs cargo again (the
        // exercise runners) must not see a TANSU_BIN the first build did not
        // have, or that build would redo this script and the whole library.
        println!("cargo::rustc-env=COURSE_TANSU_BIN={}", bin.display());
    } else if std::env::var_os("COURSE_REQUIRE_TANSU").is_some() {
        panic!(
            "COURSE_REQUIRE_TANSU is set but Tansu is not at {}",
            bin.display()
        );
    }
}

fn main() {
    find_tansu();
    // The French catalogues: `tr!` reads them while this crate compiles.
    println!("cargo::rerun-if-changed=po");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo::rustc-check-cfg=cfg(has_solutions)");
    println!("cargo::rerun-if-changed=src/exercises/starter.rs");

    let solutions_dir = manifest.join("../exercises/solutions");
    let solutions = modules(&solutions_dir);
    let mut starters = Vec::new();
    if !solutions.is_empty() {
        println!("cargo::rustc-cfg=has_solutions");
        println!("cargo::rerun-if-changed={}", solutions_dir.display());
        fs::create_dir_all(out.join("starters")).unwrap();
        for (name, path) in &solutions {
            println!("cargo::rerun-if-changed={}", path.display());
            let source = fs::read_to_string(path).unwrap();
            let starter = starter::starter_from_solution(&source)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let starter_path = out.join("starters").join(format!("{name}.rs"));
            fs::write(&starter_path, starter).unwrap();
            starters.push((name.clone(), starter_path));
        }
    }
    fs::write(out.join("solution_modules.rs"), module_list(&solutions)).unwrap();
    fs::write(out.join("starter_modules.rs"), module_list(&starters)).unwrap();
}
