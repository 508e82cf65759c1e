//! Exit statuses: the outcome of a command that ran to its end, and the
//! usage error (exit 2, like clap's own). A leaf: it imports nothing of the
//! crate but the signal exit code.

/// A usage mistake found after parsing the command line (exit 2, like
/// clap's own usage errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit status of a command that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Something failed; details were printed.
    Failed,
    /// Stopped by SIGINT / SIGTERM.
    Interrupted(i32),
    /// `compare --fail-if-slower`: B is slower beyond the limit, with confidence.
    Regression,
    /// An exit code chosen by the command (`compare --git-bisect-exit`).
    Code(u8),
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Failed => 1,
            Outcome::Interrupted(sig) => interrupted_code(sig),
            Outcome::Regression => 3,
            Outcome::Code(c) => c,
        }
    }
}

/// 128 + the signal, as a shell reports a process killed by it.
pub fn interrupted_code(sig: i32) -> u8 {
    (128 + sig).clamp(0, 255) as u8
}

/// The exit status of an error that ended a command: 2 for a usage error, 1 otherwise.
pub fn error_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(Outcome::Ok.code(), 0);
        assert_eq!(Outcome::Failed.code(), 1);
        assert_eq!(Outcome::Regression.code(), 3);
        assert_eq!(Outcome::Interrupted(2).code(), 130);
        assert_eq!(Outcome::Interrupted(15).code(), 143);
        assert_eq!(error_code(&UsageError("x".into()).into()), 2);
        assert_eq!(error_code(&anyhow::anyhow!("x")), 1);
    }
}
