//! A bundle file (`docs/bundles.md`) over gRPC: split into `BundleChunk`s to send, and read
//! back with a bound on its size. The school agent, the aggregator and the dashboard each send
//! or receive bundles this way; the framing is written once here.

use tonic::Status;

use crate::pb;

/// The size of one chunk: well under gRPC's default 4 MiB message limit.
pub const CHUNK_BYTES: usize = 1 << 20;

/// `bytes` as chunks; `first` carries the metadata of the first chunk (file name, seq range),
/// its `data` is replaced. An empty file is one empty chunk, so the metadata still arrives.
pub fn split(bytes: &[u8], first: pb::BundleChunk) -> Vec<pb::BundleChunk> {
    let mut pieces = bytes.chunks(CHUNK_BYTES);
    let mut chunks = vec![pb::BundleChunk {
        data: pieces.next().unwrap_or_default().to_vec(),
        ..first
    }];
    chunks.extend(pieces.map(|data| pb::BundleChunk {
        data: data.to_vec(),
        ..Default::default()
    }));
    chunks
}

/// The whole file from `chunks`; past `max` bytes the upload stops with `too_large()`.
pub async fn collect(
    chunks: &mut tonic::Streaming<pb::BundleChunk>,
    max: usize,
    too_large: impl FnOnce() -> Status,
) -> Result<Vec<u8>, Status> {
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.message().await? {
        bytes.extend_from_slice(&chunk.data);
        if bytes.len() > max {
            return Err(too_large());
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_splits_into_chunks_with_the_metadata_on_the_first() {
        let bytes = vec![7u8; CHUNK_BYTES * 2 + 3];
        let chunks = split(
            &bytes,
            pb::BundleChunk {
                file_name: "thcs-an-hoa-1-9-20261204.ttgoi".into(),
                to_seq: 9,
                ..Default::default()
            },
        );
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].file_name, "thcs-an-hoa-1-9-20261204.ttgoi");
        assert_eq!(chunks[0].to_seq, 9);
        assert!(chunks[1].file_name.is_empty() && chunks[2].to_seq == 0);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, bytes);
        let empty = split(&[], pb::BundleChunk::default());
        assert_eq!(empty.len(), 1);
    }
}
