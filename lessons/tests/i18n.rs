//! The French edition is complete and current: every text of the book,
//! its diagrams and the program has a checked French translation, made
//! from the English as it is now (see examples/i18n.rs for the catalogues).

use std::path::Path;

#[path = "../examples/i18n.rs"]
mod i18n_tool;

use i18n_tool::{
    banned_in, check, check_catalogue, domains, parse_terminology, problems, read_po, repo,
    terminology, typography,
};

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

    // « … », not three dots, except in code.
    assert!(typography("les offsets 0, 1, 2... dans l'ordre").is_some());
    assert!(typography("les offsets 0, 1, 2… dans l'ordre").is_none());
    assert!(typography("(`bootstrap.servers`, `0..3`, `f(...)`)").is_none());
    // A no-break space between a number (or a placeholder) and its unit.
    for plain in [
        "en 4,5 s.",
        "{took:.1} s par copie",
        "30 ms de retard",
        "64 Kio",
        "50 %",
    ] {
        assert!(typography(plain).is_some(), "{plain:?}");
    }
    for right in [
        "en 4,5\u{a0}s.",
        "{took:.1}\u{202f}s par copie",
        "3 sites",
        "les 3 s'arrêtent",
        "`sleep 5 s`",
    ] {
        assert!(typography(right).is_none(), "{right:?}");
    }
    // « × » for a multiplication.
    assert!(typography("3 partitions, 3 x 3 copies").is_some());
    assert!(typography("{} x {} copies").is_some());
    assert!(typography("2,5x plus lent").is_some());
    assert!(typography("3 × 3 copies, 0x1f, max x").is_none());
}

#[test]
fn the_terminology_sheet_lists_the_banned_variants() {
    let rules = terminology(&repo()).expect("TERMINOLOGY.md and its ```banned block");
    let banned = |text: &str| -> Vec<String> {
        banned_in(text, &rules)
            .into_iter()
            .map(|(_, phrase)| phrase)
            .collect()
    };
    // One of each concept of the sheet.
    for (text, phrase) in [
        ("jusqu'à la high watermark", "la high watermark"),
        ("La low watermark vaut 3", "la low watermark"),
        ("le log se lit M2, M3, M1", "le log"),
        ("au début du log.", "du log"),
        ("la compaction du journal", "compaction"),
        ("un enregistrement commité survit", "enregistrement commité"),
        ("Commit (validation d'offset)", "validation d'offset"),
        ("sans retry", "retry"),
        ("un réessai peut arriver", "réessai"),
        ("une erreur que le producteur retente", "retente"),
        ("car se tromper de un est le bug", "se tromper de un"),
        ("Corriger un commit décalé de un", "décalé de un"),
        ("Les élèves y lancent", "élèves"),
        ("_temps dépassé_", "temps dépassé"),
        ("MALFORMÉ -> topic de rebut", "malformé"),
        ("les batches les plus anciens", "batches"),
        ("La leçon scripte donc", "scripte"),
        ("l'attribution attendue", "attribution"),
        ("c'est donc une élection propre", "élection propre"),
        ("PLANTAGE après le travail", "plantage"),
        ("(build 5,8 s)", "build"),
        ("premier passage des 7 runners", "runners"),
    ] {
        assert_eq!(banned(text), [phrase], "{text:?}");
    }
    // What is not the text's own wording: code, placeholders, an English
    // gloss in italics, English quotes, identifiers, and another word.
    for text in [
        "`log.retention.ms` et `retries=0`",
        "le journal (log.dirs), {BEFORE_CRASH}, {crashed_at}",
        "max-batches, retries.backoff.ms, élève_id",
        "une nouvelle tentative (*retry*), un lanceur (runner), des batchs (_batches_)",
        "le \"log\" de Kafka, “the log”",
        "la doc dit « the log is the source of truth »",
        "le journal, un script, des scripts, la rétention, le blog",
        "Le high watermark, le low watermark, les logarithmes",
    ] {
        assert_eq!(banned(text), Vec::<String>::new(), "{text:?}");
    }
    // French quoted in « », or in italics, is the text's own wording.
    assert_eq!(banned("« la high watermark »"), ["la high watermark"]);
    assert_eq!(banned("les _batches_ les plus anciens"), ["batches"]);
    assert_eq!(banned("(build 5,8 s)"), ["build"]);
    // A sheet whose block is missing or malformed is an error, not silence.
    assert!(parse_terminology("no block here").is_err());
    assert!(parse_terminology("```banned\nle log -> le journal\n```").is_err());
}

#[test]
fn the_check_fails_when_a_banned_variant_is_added() {
    // Inject « la high watermark » into one French text of the program's
    // catalogue: the check reports it, naming the catalogue, the English
    // of the text and the term to write.
    let repo = repo();
    let rules = terminology(&repo).unwrap();
    let domains = domains(&repo).unwrap();
    let program = domains
        .iter()
        .find(|d| d.po == Path::new("lessons/po/fr.po"))
        .unwrap();
    let mut entries = read_po(&repo.join(&program.po)).unwrap();
    let before = check_catalogue(program, &entries, &rules);
    let target = entries
        .iter_mut()
        .find(|e| e.id.contains("high watermark") && e.forms.is_empty())
        .expect("a message about the high watermark");
    assert!(target.text.contains("le high watermark") || target.text.contains("high watermark"));
    target.text = format!("{} (jusqu'à la high watermark)", target.text);
    let id = target.id.clone();
    let after = check_catalogue(program, &entries, &rules);
    let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    let report = new[0];
    for part in [
        "lessons/po/fr.po",
        "« la high watermark »",
        "TERMINOLOGY.md",
        "« le high watermark",
        &id.chars().take(30).collect::<String>(),
    ] {
        assert!(report.contains(part), "{part:?} is not in {report:?}");
    }
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
