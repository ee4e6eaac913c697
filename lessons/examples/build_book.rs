//! Build the book, both editions, with mdBook as a library, so readers
//! need nothing but cargo: `just book` or `cargo run --example build_book`.
//! English in `book/build/`, French in `book/build/fr/`; an optional
//! argument gives another output directory.
//!
//! The French edition is the English book translated paragraph by
//! paragraph from `book/po/fr.po` (mdbook-i18n-helpers, the code behind
//! mdbook-gettext, run in-process) before mdBook expands its includes: code
//! listings stay the real source, and each chapter includes its lesson's
//! French snapshot (`lessons/tests/snapshots/fr/`) where the English one
//! includes the English. The diagrams' texts come from the same catalogue.
//!
//! tests/book.rs includes this file as a module: `main` is the command.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use mdbook_driver::book::BookItem;

#[path = "i18n.rs"]
mod i18n;

/// The editions: (language, folder inside the output, under which the
/// French lives).
pub const EDITIONS: &[(&str, &str)] = &[("en", ""), ("fr", "fr")];

pub fn book_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book")
}

/// Build every edition into `out` (English at its root, French in `out/fr`).
pub fn build(out: &Path) -> Result<()> {
    let root = book_root();
    // English first: mdBook empties its output folder, French included.
    let mut english = mdbook_driver::MDBook::load(&root)?;
    english.config.build.build_dir = out.to_path_buf();
    english.build().context("building the English book")?;

    let french_out = out.join("fr");
    let mut french = mdbook_driver::MDBook::load(&root)?;
    french.config.build.build_dir = french_out.clone();
    french.config.book.language = Some("fr".into());
    let catalog = load_catalog(&root.join("po/fr.po"))?;
    if let Some(title) = lookup(&catalog, "book.toml", french.config.book.title.as_deref()) {
        french.config.book.title = Some(title);
    }
    french.book.for_each_mut(|item| {
        if let BookItem::Chapter(ch) = item {
            ch.content = french_snapshots(&ch.content);
        }
    });
    let mut with_summary = load_catalog(&root.join("po/fr.po"))?;
    mdbook_i18n_helpers::gettext::add_stripped_summary_translations(&mut with_summary);
    mdbook_i18n_helpers::gettext::translate_book(&with_summary, &mut french.book)
        .context("translating the book")?;
    french.build().context("building the French book")?;
    translate_images(&root.join("src/img"), &french_out.join("img"), &catalog)?;
    translate_page_template(&french_out, &catalog)?;
    Ok(())
}

/// mdBook's own texts on every French page (menu bar, keyboard help,
/// search box and results), from the catalogue's `mdbook` entries.
fn translate_page_template(out: &Path, catalog: &polib02::catalog::Catalog) -> Result<()> {
    let pairs: Vec<(&str, String)> = i18n::MDBOOK_UI
        .iter()
        .filter_map(|en| Some((*en, lookup(catalog, "mdbook", Some(en))?)))
        .collect();
    for entry in fs::read_dir(out)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let is_page = name.ends_with(".html");
        let is_searcher = name.starts_with("searcher") && name.ends_with(".js");
        if !is_page && !is_searcher {
            continue;
        }
        let mut text = fs::read_to_string(&path)?;
        for (en, fr) in &pairs {
            if is_page {
                text = text
                    .replace(&format!(">{en}<"), &format!(">{fr}<"))
                    .replace(&format!("\"{en}\""), &format!("\"{fr}\""));
            } else {
                // The search script's messages: 'No search results for ' + ...
                text = text
                    .replace(&format!("'{en} "), &format!("'{fr} "))
                    .replace(&format!("' {en} "), &format!("' {fr} "));
            }
        }
        fs::write(&path, text)?;
    }
    Ok(())
}

/// The French chapter includes its lesson's French snapshot.
pub fn french_snapshots(markdown: &str) -> String {
    markdown.replace("lessons/tests/snapshots/", "lessons/tests/snapshots/fr/")
}

fn load_catalog(path: &Path) -> Result<polib02::catalog::Catalog> {
    polib02::po_file::parse(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The translation of `text` in context `ctxt`, if it has a checked one.
fn lookup(catalog: &polib02::catalog::Catalog, ctxt: &str, text: Option<&str>) -> Option<String> {
    let message = catalog.find_message(Some(ctxt), text?, None)?;
    let french = message.msgstr().ok()?;
    (!french.is_empty() && !message.flags().is_fuzzy()).then(|| french.to_string())
}

/// Each diagram with its texts in French, over the copy mdBook made.
fn translate_images(src: &Path, out: &Path, catalog: &polib02::catalog::Catalog) -> Result<()> {
    for entry in fs::read_dir(src)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        let name = format!("img/{}", path.file_name().unwrap().to_string_lossy());
        let svg = fs::read_to_string(&path)?;
        let french = i18n::translate_svg(&svg, |text| lookup(catalog, &name, Some(text)));
        let french = french.replacen("<svg ", "<svg xml:lang=\"fr\" ", 1);
        fs::write(out.join(path.file_name().unwrap()), french)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let out = match std::env::args().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => book_root().join("build"),
    };
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
