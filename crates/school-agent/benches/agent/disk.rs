//! The disk under the agent's log: how long a 4 KiB write followed by a sync takes there,
//! measured before the load. Every `RecordActivity` waits for one such sync (the writer's
//! `synchronous = FULL`), so this bounds the sequential client's latency from below.

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use bench_measure::Latency;

/// Syncs per variant.
pub const FSYNC_ITERS: usize = 200;

/// Write-then-sync latencies, one histogram per way of writing.
pub struct Fsync {
    pub append: Latency,
    pub overwrite: Latency,
    pub overwrite_fdatasync: Latency,
}

/// Write-then-sync latencies of 4 KiB pages in `dir`: appending + fsync (a growing file: the
/// size changes, so the filesystem journal commits every time), and overwriting a
/// preallocated file in place + fsync and + fdatasync (what SQLite's WAL does once it has
/// reached its size; SQLite as bundled by libsqlite3-sys calls fsync, not fdatasync).
pub fn fsync_probe(dir: &Path) -> anyhow::Result<Fsync> {
    use std::io::{Seek as _, SeekFrom};
    let page = vec![0x5au8; 4096];
    let path = dir.join("fsync-probe");
    let mut out = [Latency::new(), Latency::new(), Latency::new()];

    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    for _ in 0..FSYNC_ITERS {
        let t = Instant::now();
        file.write_all(&page)?;
        file.sync_all()?;
        out[0].record(t.elapsed());
    }
    for (variant, hist) in out[1..].iter_mut().enumerate() {
        file.seek(SeekFrom::Start(0))?;
        for _ in 0..FSYNC_ITERS {
            let t = Instant::now();
            file.write_all(&page)?;
            if variant == 0 {
                file.sync_all()?
            } else {
                file.sync_data()?
            }
            hist.record(t.elapsed());
        }
    }
    drop(file);
    std::fs::remove_file(&path)?;
    let [append, overwrite, overwrite_fdatasync] = out;
    Ok(Fsync {
        append,
        overwrite,
        overwrite_fdatasync,
    })
}
