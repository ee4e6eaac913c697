//! The book's texts to translate, one JSON object a line (`ctxt`, `id`,
//! `refs`, `note`): what `cargo run --example i18n -- update|check` (in
//! lessons/) puts in, and expects of, the book's catalogue `book/po/fr.po`.
//! See the library's `messages` module.

use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for message in kafka_course_book::messages::messages()? {
        writeln!(out, "{}", serde_json::to_string(&message)?)?;
    }
    Ok(())
}
