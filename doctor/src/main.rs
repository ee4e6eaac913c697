//! `cargo run -p course-doctor` (`just doctor`): is this machine ready for
//! the course? See lib.rs. `--lang en|fr` chooses the language, as for
//! `course`; else COURSE_LANG, else the locale.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let asked = args
        .iter()
        .position(|a| a == "--lang")
        .and_then(|i| args.get(i + 1))
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--lang=").map(|_| a))
        })
        .map(|a| a.trim_start_matches("--lang="))
        .and_then(course_i18n::Lang::parse)
        .or_else(|| {
            std::env::var("COURSE_LANG")
                .ok()
                .and_then(|l| course_i18n::Lang::parse(&l))
        });
    course_i18n::set(course_i18n::choose(asked));
    // The course's folder: this package's parent.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let machine = course_doctor::Machine::here(&root);
    let (report, ready) = course_doctor::report(&course_doctor::check(&machine));
    print!("{report}");
    if ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
