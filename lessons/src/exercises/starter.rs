//! One source for each exercise: the reference solution in
//! `exercises/solutions/exN_*.rs` is marked up so the starting file a
//! student gets is derived from it, never kept by hand beside it.
//!
//! ```text
//!     //@ starter: let partitions = 1; // TODO: ...
//!     //@ solution-begin
//!     let partitions = 4;
//!     //@ solution-end
//! ```
//!
//! The solution compiles as written (the `//@` lines are comments). The
//! starter drops every solution block and turns each `//@ starter: ` line
//! into code, keeping its indentation. Used by build.rs (to compile the
//! starters, so `cargo test` checks they fail) and by `course exercise
//! reset` (to give a student back a fresh file).

/// The starter text of a solution source.
pub fn starter_from_solution(solution: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut in_solution = false;
    for (n, line) in solution.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if trimmed.starts_with("//@ solution-begin") {
            if in_solution {
                return Err(format!(
                    "line {}: solution-begin inside a solution block",
                    n + 1
                ));
            }
            in_solution = true;
        } else if trimmed.starts_with("//@ solution-end") {
            if !in_solution {
                return Err(format!(
                    "line {}: solution-end without solution-begin",
                    n + 1
                ));
            }
            in_solution = false;
        } else if in_solution {
            continue;
        } else if let Some(code) = trimmed.strip_prefix("//@ starter:") {
            let code = code.strip_prefix(' ').unwrap_or(code);
            out.push_str(indent);
            out.push_str(code);
            out.push('\n');
        } else if trimmed.starts_with("//@") {
            return Err(format!("line {}: unknown marker {trimmed:?}", n + 1));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if in_solution {
        return Err("a solution block is never closed (//@ solution-end)".into());
    }
    Ok(out)
}
