//! `course lesson N --keep`: the lesson's cluster stays up afterwards, so
//! the reader can look at it with real Kafka tools. The embedded cluster
//! goes with Ctrl-C; a real cluster keeps the lesson's topics, which
//! `course clean` deletes.
//!
//! The embedded cluster listens on real loopback TCP ports and speaks the
//! Kafka protocol, so any client can connect to it while this process lives:
//! kcat (Debian's `kcat` package), the Java command-line tools, another
//! program of yours.

use anyhow::{Context as _, Result};

use crate::kit::Stage;
use crate::{outln, tr};

/// Print how to reach the cluster and read the lesson's topics, then wait
/// for Ctrl-C.
pub async fn hold(ctx: &Stage) -> Result<()> {
    // Listen for Ctrl-C before saying it stops the cluster (a first poll
    // installs the handler): one that came earlier would end the process
    // without a word.
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let _ = futures::poll!(ctrl_c.as_mut());
    let bootstrap = ctx.bootstrap();
    outln!();
    if ctx.is_embedded() {
        outln!("The embedded cluster stays up at {bootstrap} until you press Ctrl-C.");
    } else {
        outln!(
            "The lesson's topics are on the cluster at {bootstrap}; the course stays until Ctrl-C."
        );
    }
    outln!("Look at it from another terminal with kcat (Debian/Ubuntu: apt install kcat):");
    outln!();
    outln!("  kcat -b {bootstrap} -L                  # brokers, topics, partitions, leaders");
    for topic in ctx.topics() {
        outln!(
            "  kcat -b {bootstrap} -C -t {topic} -e -f '%p %o %k %s\\n'   # read {topic}: partition offset key value"
        );
    }
    outln!();
    ctrl_c.await.context(tr!("waiting for Ctrl-C"))?;
    if ctx.is_embedded() {
        outln!("Stopped: the cluster is gone.");
    } else {
        // A real cluster keeps what the lesson created: `course clean`
        // lists (--dry-run) and deletes what the lessons left there.
        outln!(
            "Stopped. The lesson's topics stay on the cluster at {bootstrap}:\n\
             `course --brokers {bootstrap} clean --dry-run` lists what the lessons left there,\n\
             `course --brokers {bootstrap} clean` deletes it."
        );
    }
    Ok(())
}
