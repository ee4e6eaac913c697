//! What a broker can do: its ApiVersions answer.
//!
//! Every Kafka client starts a connection by asking the broker which
//! requests ("APIs") it understands, and which versions of each. The answer
//! is how a client knows, before trying, that a broker is too old (or too
//! different) for a feature. librdkafka asks too, but keeps the answer to
//! itself; the kit asks again, once per broker, to choose the consumer-group
//! protocol the lessons use and to explain a group that never forms.
//!
//! The bytes on the wire come from the `kafka-protocol` crate, which is
//! generated from Kafka's own message definitions.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use bytes::{Buf, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

use crate::tr;

/// The APIs a broker offers: API key -> (min version, max version).
pub type Offered = BTreeMap<i16, (i16, i16)>;

/// `ConsumerGroupHeartbeat`, the one request of the KIP-848 group protocol.
/// librdkafka 2.12 needs version 1 or later (Apache Kafka 4.0+).
pub const CONSUMER_GROUP_HEARTBEAT: i16 = ApiKey::ConsumerGroupHeartbeat as i16;

/// The requests a consumer group needs, with the classic protocol or
/// KIP-848, named as Kafka names them: what an explanation lists.
pub const GROUP_APIS: &[ApiKey] = &[
    ApiKey::FindCoordinator,
    ApiKey::JoinGroup,
    ApiKey::SyncGroup,
    ApiKey::Heartbeat,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::ConsumerGroupHeartbeat,
];

/// True if `offered` has the KIP-848 group protocol in a version librdkafka uses.
pub fn has_kip848(offered: &Offered) -> bool {
    offered
        .get(&CONSUMER_GROUP_HEARTBEAT)
        .is_some_and(|&(_, max)| max >= 1)
}

/// "JoinGroup v0-9, ..., ConsumerGroupHeartbeat: none": the group APIs of one broker.
pub fn describe_group_apis(offered: &Offered) -> String {
    GROUP_APIS
        .iter()
        .map(|&key| match offered.get(&(key as i16)) {
            Some((min, max)) => format!("{key:?} v{min}-{max}"),
            None => tr!("{key:?}: none"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ask the broker at `address` (host:port) which APIs it offers.
///
/// Version 3 of ApiVersions is what current clients send; a broker older
/// than Kafka 2.4 answers it with an error and the versions it does know,
/// and the request is then repeated in version 0, which every broker has.
pub fn api_versions(address: &str, timeout: Duration) -> Result<Offered> {
    let answer = match ask(address, 3, timeout) {
        Ok(answer) if answer.error_code == 0 => answer,
        // An old broker answers in version 0's layout, whatever was asked.
        _ => ask(address, 0, timeout)?,
    };
    if answer.error_code != 0 {
        bail!(
            "{}",
            tr!(
                "broker {address} answered ApiVersions with error code {}",
                answer.error_code
            )
        );
    }
    Ok(answer
        .api_keys
        .iter()
        .map(|a| (a.api_key, (a.min_version, a.max_version)))
        .collect())
}

/// One ApiVersions request and its answer, on a connection of its own.
fn ask(address: &str, version: i16, timeout: Duration) -> Result<ApiVersionsResponse> {
    let socket = address
        .to_socket_addrs()
        .with_context(|| tr!("resolving {address}"))?
        .next()
        .with_context(|| tr!("{address} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .with_context(|| tr!("connecting to broker {address}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    // A request is a header (which API, which version, a correlation id)
    // followed by the request's body, the whole prefixed by its length.
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("kafka-course")));
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kafka-course"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let mut body = BytesMut::new();
    header.encode(&mut body, ApiVersionsRequest::header_version(version))?;
    request.encode(&mut body, version)?;
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    stream
        .write_all(&frame)
        .with_context(|| tr!("sending ApiVersions to {address}"))?;

    let mut len = [0u8; 4];
    stream
        .read_exact(&mut len)
        .with_context(|| tr!("reading the ApiVersions answer of {address}"))?;
    let len = i32::from_be_bytes(len);
    if !(4..=1 << 20).contains(&len) {
        bail!(
            "{}",
            tr!("broker {address} sent an ApiVersions answer of {len} bytes")
        );
    }
    let mut answer = vec![0u8; len as usize];
    stream
        .read_exact(&mut answer)
        .with_context(|| tr!("reading the ApiVersions answer of {address}"))?;
    let mut answer = bytes::Bytes::from(answer);
    // The answer's header is just the correlation id (ApiVersions answers
    // always use header version 0, so that any client can read them).
    let _correlation_id = answer.get_i32();
    ApiVersionsResponse::decode(&mut answer, version)
        .with_context(|| tr!("decoding the ApiVersions answer of {address}"))
}
