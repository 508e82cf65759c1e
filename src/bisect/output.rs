//! What `git bisect start|good|bad|skip` printed (in the C locale), read
//! into the next thing to do. Pure: text in, [`State`] out.

/// Where git's bisection stands after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Test this commit next (`[<hash>] <subject>` after `Bisecting: ...`).
    Test(String),
    /// `<hash> is the first bad commit`.
    FirstBad(String),
    /// `There are only 'skip'ped commits left to test.`: the first bad
    /// commit is one of these.
    OnlySkipped(Vec<String>),
}

fn is_hash(word: &str) -> bool {
    word.len() >= 7 && word.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reads git's output; `None` when it says none of the three.
pub fn parse(text: &str) -> Option<State> {
    if text.contains("There are only 'skip'ped commits left to test.") {
        let hashes = text
            .lines()
            .skip_while(|l| !l.starts_with("The first bad commit could be any of:"))
            .skip(1)
            .map(str::trim)
            .take_while(|l| is_hash(l))
            .map(str::to_string)
            .collect();
        return Some(State::OnlySkipped(hashes));
    }
    for line in text.lines() {
        if let Some(hash) = line.strip_suffix(" is the first bad commit") {
            if is_hash(hash.trim()) {
                return Some(State::FirstBad(hash.trim().to_string()));
            }
        }
    }
    text.lines().find_map(|line| {
        let rest = line.strip_prefix('[')?;
        let (hash, _) = rest.split_once(']')?;
        is_hash(hash).then(|| State::Test(hash.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "20c3c416ed6cc220bc80b266d8603993952b66ab";
    const H2: &str = "e39171abeb20a3e9cec8b599b489a24aa41bd884";

    #[test]
    fn next_commit_to_test() {
        let text =
            format!("Bisecting: 2 revisions left to test after this (roughly 1 step)\n[{H1}] c3\n");
        assert_eq!(parse(&text), Some(State::Test(H1.into())));
    }

    #[test]
    fn first_bad_commit_with_its_show_output() {
        let text = format!("{H2} is the first bad commit\ncommit {H2}\nAuthor: a <a@b>\n\n    [{H1}] in a subject\n");
        assert_eq!(parse(&text), Some(State::FirstBad(H2.into())));
    }

    #[test]
    fn only_skipped_commits_left() {
        let text = format!(
            "There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:\n{H1}\n{H2}\nWe cannot bisect more!\n"
        );
        assert_eq!(
            parse(&text),
            Some(State::OnlySkipped(vec![H1.into(), H2.into()]))
        );
    }

    #[test]
    fn anything_else_is_not_understood() {
        assert_eq!(parse("fatal: bad revision 'x'\n"), None);
        assert_eq!(parse("[not-a-hash] subject\n"), None);
        assert_eq!(parse(""), None);
    }
}
