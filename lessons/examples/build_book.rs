//! Build the book, both editions: `cargo run --example build_book [DIR]`.
//! The same as `just book` (`cargo run --release -p kafka-course-book`),
//! which builds only the book's package (book/builder); this example is
//! kept for those who know it by this name.

fn main() -> anyhow::Result<()> {
    let out = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(kafka_course_book::default_build_dir);
    kafka_course_book::build(&out)?;
    for (lang, dir) in kafka_course_book::EDITIONS {
        let index = out.join(dir).join("index.html");
        println!(
            "Built the book ({lang}): open {}",
            index.canonicalize().unwrap_or(index).display()
        );
    }
    Ok(())
}
