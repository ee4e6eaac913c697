//! The reader's language: the course's small runtime for it,
//! `course-i18n` (`lessons/i18n`), shared with the book's server.
//! `tr!` expands to [`french`].

pub use course_i18n::*;
