//! Explanations the kit gives when a cluster cannot do what a lesson
//! needs, and the words it builds them from.

use std::time::Duration;

use super::{Cluster, GroupProtocol};
use crate::apis;
use crate::{tr, tr_static};

impl Cluster {
    /// Why a group got no partitions within `waited`, for the reader: which
    /// group, which protocol, what the brokers offered, what to try.
    /// Lessons return this instead of a bare time-out. The lesson gives up
    /// ([`Cluster::give_up`]): its consumers no longer make it wait while
    /// they leave a group that never formed.
    pub fn no_partitions(&self, logical_group: &str, waited: Duration) -> anyhow::Error {
        let protocol = self.groups().protocol;
        let mut text = tr!(
            "group \"{logical_group}\" got no partitions within {}s, with the {} group protocol ({}).\n",
            waited.as_secs(),
            protocol.setting(),
            self.groups().why
        );
        text.push_str(tr_static!("What the brokers offer for consumer groups:\n"));
        for b in self.brokers() {
            let apis = match &b.offered {
                Ok(offered) => apis::describe_group_apis(offered),
                Err(e) => tr!("unknown ({e})"),
            };
            text.push_str(&tr!("  broker {} at {}: {apis}\n", b.id, b.address));
        }
        let kip848 = self
            .brokers()
            .iter()
            .all(|b| b.offered.as_ref().is_ok_and(apis::has_kip848));
        text.push_str(match (protocol, kip848) {
            (GroupProtocol::Consumer, false) => tr_static!(
                "Not every broker offers ConsumerGroupHeartbeat v1+, which the consumer protocol (KIP-848, Kafka 4.0+) needs:\n\
                 run with KAFKA_GROUP_PROTOCOL=classic (or auto, the default, which chooses it)."
            ),
            (GroupProtocol::Consumer, true) => tr_static!(
                "The brokers offer KIP-848, yet no assignment came: check the broker's logs, or try KAFKA_GROUP_PROTOCOL=classic."
            ),
            (GroupProtocol::Classic, _) if self.is_embedded() => tr_static!(
                "The brokers offer the classic group requests, yet the group got no partitions:\n\
                 KAFKA_DEBUG=cgrp shows what the group did."
            ),
            (GroupProtocol::Classic, _) => tr_static!(
                "The brokers offer the classic group requests, yet the group got no partitions: the group\n\
                 coordinator did not complete the group, or the brokers are slow or unhealthy.\n\
                 KAFKA_DEBUG=cgrp shows what the group did. Lessons with groups run on the course's\n\
                 docker-compose.yml cluster (`just cluster-up`), or on the embedded one (unset\n\
                 KAFKA_BOOTSTRAP_SERVERS)."
            ),
        });
        self.give_up(anyhow::anyhow!(text))
    }
}

/// "three" for 3: small numbers in words, larger ones in digits.
pub fn in_words(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    // French numbers; "un" is masculine: a feminine noun says "une" itself.
    const FR: [&str; 11] = [
        "aucun", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
    ];
    let words = if crate::i18n::french() { &FR } else { &WORDS };
    words
        .get(n)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

/// "broker 1", "brokers 1 and 2", "brokers 1, 2 and 3". French gives them
/// their article, « le broker 1 », « les brokers 1 et 2 », « aucun broker »:
/// a French sentence puts them after « sur », never after « de » or « à ».
pub fn brokers_named(ids: &std::collections::BTreeSet<i32>) -> String {
    let ids: Vec<String> = ids.iter().map(|b| b.to_string()).collect();
    match ids.as_slice() {
        [one] => tr!("broker {one}"),
        [init @ .., last] => tr!("brokers {} and {last}", init.join(", ")),
        [] => tr!("no broker"),
    }
}
