//! Build the book into `book/build/` with mdBook as a library, so readers
//! need nothing but cargo: `just book` or `cargo run --example build_book`.
//! An optional argument gives another output directory.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book");
    let mut book = mdbook_driver::MDBook::load(&root)?;
    if let Some(out) = std::env::args().nth(1) {
        book.config.build.build_dir = PathBuf::from(out);
    }
    book.build()?;
    let out = root.join(&book.config.build.build_dir).join("index.html");
    println!(
        "Built the book: open {}",
        out.canonicalize().unwrap_or(out).display()
    );
    Ok(())
}
