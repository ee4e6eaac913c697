//! The French edition is complete and current: every text of the book,
//! its diagrams and the program has a checked French translation, made
//! from the English as it is now (see examples/i18n.rs for the catalogues).

use std::path::Path;

#[path = "../examples/i18n.rs"]
mod i18n_tool;

use i18n_tool::{check, domains, problems, read_po, repo, typography};

#[test]
fn every_text_has_a_current_french_translation() {
    let problems = check(&repo()).expect("reading the sources and catalogues");
    assert!(
        problems.is_empty(),
        "{} texts of the French edition need work:\n{}\n\n\
         Run `cargo run --example i18n -- update` to add new English texts to \
         the catalogues, then translate their msgstr (and remove `#, fuzzy`).",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_missing_or_stale_translation_is_reported() {
    // The check above can fail: drop one translation from the book's
    // catalogue and change one English text, and both are reported.
    let repo = repo();
    let domains = domains(&repo).unwrap();
    let book = domains
        .iter()
        .find(|d| d.po == Path::new("book/po/fr.po"))
        .unwrap();
    let mut entries = read_po(&repo.join(&book.po)).unwrap();
    entries.retain(|e| !e.text.is_empty());
    let before = problems(book, &entries).len();
    let removed = entries.remove(entries.len() / 2);
    let after_removal = problems(book, &entries);
    assert_eq!(after_removal.len(), before + 1, "removing {:?}", removed.id);
    assert!(after_removal.iter().any(|p| p.contains("has no French")));

    let mut changed = book.messages.clone();
    let target = changed
        .iter_mut()
        .find(|m| entries.iter().any(|e| e.id == m.id))
        .unwrap();
    target.id.push_str(" (changed)");
    let changed = i18n_tool::Domain {
        po: book.po.clone(),
        messages: changed,
    };
    let stale = problems(&changed, &entries);
    assert!(stale.iter().any(|p| p.contains("stale")), "{stale:?}");
    assert!(stale
        .iter()
        .any(|p| p.contains("(changed)") && p.contains("has no French")));
}

#[test]
fn no_reader_facing_prose_escapes_translation() {
    // A sentence printed with format!/bail!/.context(...) instead of tr!
    // or say! would stay English in the French edition, unseen by the
    // catalogue check above.
    let found = i18n_tool::all_untranslated_prose(&repo()).unwrap();
    assert!(
        found.is_empty(),
        "{} texts would print in English in the French edition; put them in tr!/say!:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_prose_check_sees_what_it_must() {
    let source = r#"
        fn f(ctx: &Stage) -> Result<()> {
            ctx.say("This stays English");
            ctx.say(tr!("This is translated"));
            let e = anyhow!("the broker is gone");
            let k = format!("{logical}{}", suffix);
            ensure!(ok, "no partition had two owners");
            x.context("creating the producer")?;
        }
        #[cfg(test)]
        mod tests { fn t() { panic!("{}", format!("a test message here")); } }
    "#;
    let found = i18n_tool::untranslated_prose(source, "f.rs").unwrap();
    let texts: Vec<&str> = found
        .iter()
        .map(|f| f.split(": ").nth(1).unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "This stays English",
            "the broker is gone",
            "no partition had two owners",
            "creating the producer"
        ]
    );
}

#[test]
fn french_typography_is_checked() {
    assert!(typography("Le cluster a 3 brokers\u{a0}: 1, 2, 3.").is_none());
    assert!(typography("Le cluster a 3 brokers : 1, 2, 3.").is_some());
    assert!(typography("« topic »").is_some());
    assert!(typography("«\u{a0}topic\u{a0}»").is_none());
    // A colon inside code or an address is not punctuation.
    assert!(typography("localhost:9092, {key:<6}").is_none());
}

#[test]
fn plural_forms_follow_each_language() {
    // `trn!` picks the form each language asks for: English says "0
    // brokers" and "1 broker", French « 0 broker » and « 1 broker ».
    use kafka_course::i18n::{set, Lang};
    use kafka_course::trn;
    let say = |n: usize| {
        trn!(n;
            "The cluster has {n} broker: {}.",
            "The cluster has {n} brokers: {}.",
            "…"
        )
    };
    set(Lang::En);
    let english: Vec<String> = (0..3).map(say).collect();
    set(Lang::Fr);
    let french: Vec<String> = (0..3).map(say).collect();
    set(Lang::En);
    assert_eq!(
        english,
        [
            "The cluster has 0 brokers: ….",
            "The cluster has 1 broker: ….",
            "The cluster has 2 brokers: …."
        ]
    );
    assert_eq!(
        french,
        [
            "Le cluster compte 0 broker\u{a0}: ….",
            "Le cluster compte 1 broker\u{a0}: ….",
            "Le cluster compte 2 brokers\u{a0}: …."
        ]
    );
}

#[test]
fn a_listings_comment_is_a_text_of_the_book_and_goes_stale_like_any_other() {
    // The French pages show the listings' comments in French: each comment
    // of a listing is a message of the book's catalogue, referenced by the
    // source file it is in, and changing its English makes its French stale.
    let repo = repo();
    let domains = domains(&repo).unwrap();
    let book = domains
        .iter()
        .find(|d| d.po == Path::new("book/po/fr.po"))
        .unwrap();
    let program = "lessons/src/ch1_cluster/program.rs";
    let comment = book
        .messages
        .iter()
        .find(|m| m.refs.iter().any(|r| r == program))
        .unwrap_or_else(|| panic!("no comment of {program} in the book's catalogue"));
    assert!(comment.id.starts_with("///"), "{comment:?}");
    let entries = read_po(&repo.join(&book.po)).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.id == comment.id && !e.text.is_empty() && !e.fuzzy),
        "{:?} has no French",
        comment.id
    );
    let mut changed = book.messages.clone();
    let target = changed.iter_mut().find(|m| m.id == comment.id).unwrap();
    target.id = target.id.replace("///", "/// (changed)");
    let changed = i18n_tool::Domain {
        po: book.po.clone(),
        messages: changed,
    };
    let found = problems(&changed, &entries);
    assert!(found.iter().any(|p| p.contains("stale")), "{found:?}");
    assert!(
        found
            .iter()
            .any(|p| p.contains("(changed)") && p.contains("has no French")),
        "{found:?}"
    );
}
