//! Build the book, both editions: `just book`, or
//! `cargo run --release -p kafka-course-book [DIR]`. English in
//! `book/build/` (or DIR), French in its `fr/` folder.

use std::path::PathBuf;

use kafka_course_book::{build, default_build_dir, EDITIONS};

fn main() -> anyhow::Result<()> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(default_build_dir);
    build(&out)?;
    for (lang, dir) in EDITIONS {
        let index = out.join(dir).join("index.html");
        println!(
            "Built the book ({lang}): open {}",
            index.canonicalize().unwrap_or(index).display()
        );
    }
    Ok(())
}
