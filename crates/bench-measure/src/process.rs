//! Where a run's CPU time and memory went, per process and per thread, from Linux's `/proc`.
//!
//! A benchmark's throughput means little without what it cost: the same events per second
//! can take one core or both. The benches sample CPU time (user + system, in clock ticks)
//! before and after each phase, for each process of the run — the bench itself, the service
//! it measures, `nats-server`, PostgreSQL's postmaster and its backends — and the peak memory
//! of the service (`VmHWM`). Processes are found by their command lines, since the harness
//! starts them and does not hand out their pids.
//!
//! Every reader returns `None` (or zero) when the file is missing or unreadable: a process
//! that has exited, or another OS. A bench then prints a zero rather than failing the run.

use std::path::Path;

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat`.
pub const CLOCK_TICKS: f64 = 100.0;

/// What `/proc/<pid>/stat` (or `/proc/<pid>/task/<tid>/stat`) says of a process or thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The command (or thread) name, as the kernel keeps it (at most 15 bytes).
    pub name: String,
    pub ppid: u32,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
}

impl Stat {
    /// The CPU time in seconds.
    pub fn cpu_secs(&self) -> f64 {
        ticks_to_secs(self.cpu_ticks)
    }
}

/// Clock ticks as seconds.
pub fn ticks_to_secs(ticks: u64) -> f64 {
    ticks as f64 / CLOCK_TICKS
}

/// Parses the text of a `stat` file. The name is in parentheses and may itself hold spaces
/// and parentheses, so the fields are counted from the *last* `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    // After the name: state(0) ppid(1) … utime(11) stime(12) (fields 3, 4, 14, 15 of proc(5)).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Stat {
        name,
        ppid,
        cpu_ticks: utime + stime,
    })
}

/// The `stat` of process `pid`.
pub fn stat(pid: u32) -> Option<Stat> {
    stat_at(&Path::new("/proc").join(pid.to_string()))
}

/// The `stat` in the `/proc` directory `dir` of a process or a thread.
pub fn stat_at(dir: &Path) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(dir.join("stat")).ok()?)
}

/// CPU ticks of `pid` so far; 0 when it cannot be read.
pub fn cpu_ticks(pid: u32) -> u64 {
    stat(pid).map_or(0, |s| s.cpu_ticks)
}

/// CPU ticks of `parent` and of its direct children (PostgreSQL's postmaster and its
/// backends, which are forked from it).
pub fn cpu_ticks_with_children(parent: u32) -> u64 {
    pids()
        .into_iter()
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(pid, s)| *pid == parent || s.ppid == parent)
        .map(|(_, s)| s.cpu_ticks)
        .sum()
}

/// Every process id in `/proc`.
pub fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The first process whose command line (arguments joined by NUL) `matches`.
pub fn find_pid(matches: impl Fn(&str) -> bool) -> Option<u32> {
    pids().into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| matches(&String::from_utf8_lossy(&cmdline)))
    })
}

/// A `kB` line of `/proc/<pid>/status` (`"VmHWM:"`, the peak resident set; `"VmRSS:"`, the
/// current one), in KiB.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    parse_status_kib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        key,
    )
}

/// The value of the `key` line of a `status` file's text.
pub fn parse_status_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Context switches (voluntary and involuntary) of the process or thread whose `/proc`
/// directory is `dir`: each is a hand-off, and a thread that is woken for every statement
/// shows it here.
pub fn context_switches_at(dir: &Path) -> u64 {
    parse_context_switches(&std::fs::read_to_string(dir.join("status")).unwrap_or_default())
}

fn parse_context_switches(status: &str) -> u64 {
    status
        .lines()
        .filter(|l| {
            l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches")
        })
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// The `/proc` directories of this process's threads (`/proc/self/task/<tid>`).
pub fn own_threads() -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line of `/proc/<pid>/stat`, with a name holding a space and a parenthesis.
    const STAT: &str = "4242 (tokio (rt) w) S 4000 4242 4000 0 -1 4194560 1520 0 0 0 \
                        731 129 0 0 20 0 9 0 12345 1024000 2500 18446744073709551615";

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        assert_eq!(
            parse_stat(STAT),
            Some(Stat {
                name: "tokio (rt) w".into(),
                ppid: 4000,
                cpu_ticks: 731 + 129,
            })
        );
        assert!((parse_stat(STAT).map_or(0.0, |s| s.cpu_secs()) - 8.6).abs() < 1e-9);
    }

    #[test]
    fn a_truncated_stat_reads_as_nothing() {
        assert_eq!(parse_stat("4242 (x) S 1 2"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn status_lines_read_in_kib() {
        let status = "Name:\tpostgres\nVmHWM:\t  136512 kB\nVmRSS:\t  98304 kB\n\
                      voluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(136_512));
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(98_304));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        assert_eq!(parse_context_switches(status), 13);
    }

    #[test]
    fn this_process_can_be_read() {
        let me = stat(std::process::id()).expect("our own stat");
        assert!(me.ppid > 0);
        assert!(status_kib(std::process::id(), "VmHWM:").is_some_and(|kib| kib > 0));
        assert!(!own_threads().is_empty());
    }
}
