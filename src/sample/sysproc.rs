//! The process's RSS and CPU % through sysinfo, for the `proc` source on
//! systems without `/proc` (macOS). sysinfo measures CPU use over the time
//! between its own refreshes, so the first reading has no CPU %.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::{Sample, SourceKind};

/// A sysinfo view of one process.
pub struct SysProc {
    sys: System,
    pid: Pid,
    refreshed: bool,
}

impl SysProc {
    pub fn new(pid: u32) -> Self {
        SysProc {
            sys: System::new(),
            pid: Pid::from_u32(pid),
            refreshed: false,
        }
    }

    /// RSS and (from the second call on) CPU % of one core; None once the
    /// process is gone.
    pub fn sample(&mut self) -> Option<Sample> {
        let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
        self.sys
            .refresh_processes_specifics(ProcessesToUpdate::Some(&[self.pid]), true, kind);
        let p = self.sys.process(self.pid)?;
        let cpu = self.refreshed.then(|| f64::from(p.cpu_usage()));
        self.refreshed = true;
        Some(Sample {
            source: Some(SourceKind::Proc),
            rss_bytes: Some(p.memory()),
            cpu_pct: cpu,
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_has_rss_and_cpu_from_the_second_reading() {
        let mut s = SysProc::new(std::process::id());
        let first = s.sample().unwrap();
        assert!(first.rss_bytes.unwrap() > 0);
        assert_eq!(first.cpu_pct, None);
        let second = s.sample().unwrap();
        assert!(second.cpu_pct.is_some());
        assert!(SysProc::new(u32::MAX - 1).sample().is_none());
    }
}
