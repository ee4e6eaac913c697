//! Lesson 5: not written yet.

use anyhow::{bail, Result};

use crate::kit::Ctx;

pub async fn run(_ctx: &Ctx) -> Result<()> {
    bail!("lesson 5 is not written yet")
}
