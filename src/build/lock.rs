//! An exclusive lock on a file in the cache (`flock`), so that two tokbench
//! processes asking for the same build wait for one another instead of
//! building it twice. The kernel drops the lock when its holder dies, so a
//! killed build never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: Flock<File>,
    pub path: PathBuf,
}

/// Takes the lock at `path`, creating the file. When another process holds
/// it, `on_wait` is called once with that process's pid (as it wrote it, if
/// it did) and the call blocks until the lock is free.
pub fn acquire(path: &Path, on_wait: impl FnOnce(Option<u32>)) -> std::io::Result<Lock> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    };
    let file = match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(f) => f,
        Err((mut file, Errno::EWOULDBLOCK)) => {
            on_wait(holder(&mut file));
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))?
        }
        Err((_, e)) => return Err(e.into()),
    };
    let mut file = file;
    // Who holds it, for the message a waiting process prints.
    let _ = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| write!(file, "{}", std::process::id()))
        .and_then(|()| file.flush());
    Ok(Lock {
        _file: file,
        path: path.to_path_buf(),
    })
}

fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_taker_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = acquire(&path, |_| panic!("nobody holds it yet")).unwrap();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            let waited = std::cell::Cell::new(None);
            let lock = acquire(&p, |pid| waited.set(Some(pid))).unwrap();
            tx.send(waited.get()).unwrap();
            drop(lock);
        });
        // flock locks belong to the open file, so a second open in this
        // process waits like another process would.
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        drop(first);
        let waited = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(waited, Some(Some(std::process::id())));
        waiter.join().unwrap();
    }
}
