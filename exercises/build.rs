//! Points each runner at its student's file.
//!
//! For each runner `runners/exN_*.rs`, writes `$OUT_DIR/exN_*.rs`: one
//! line, `#[path = "<folder>/exN_*.rs"] mod exN_*;`, which the runner
//! includes. The folder is this one (the course's `exercises/`), or the one
//! `COURSE_EXERCISES_DIR` names: that is how a teacher checks a student's
//! copy with the course's own checks, and how the tests check broken
//! files, without touching the real ones.
//!
//! Only that variable makes this script run again. Edits to a student's
//! file are seen by cargo anyway (the compiler reports every file it read),
//! and they rebuild only that exercise's runner.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    println!("cargo::rerun-if-env-changed=COURSE_EXERCISES_DIR");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=runners");
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = match env::var_os("COURSE_EXERCISES_DIR") {
        Some(dir) => env::current_dir().unwrap().join(dir),
        None => here.clone(),
    };
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for entry in fs::read_dir(here.join("runners")).unwrap() {
        let runner = entry.unwrap().path();
        let Some(slug) = runner.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let student = dir.join(format!("{slug}.rs"));
        // `{:?}` quotes and escapes the path as a Rust string literal.
        let line = format!(
            "#[path = {:?}]\nmod {slug};\n",
            student.display().to_string()
        );
        fs::write(out.join(format!("{slug}.rs")), line).unwrap();
    }
}
