//! Tab in a path box: the path typed so far completed from the file system,
//! as a shell completes it, so nobody retypes a long folder name.

use std::path::{Path, PathBuf};

/// What Tab makes of a typed path.
#[derive(Debug, PartialEq, Eq)]
pub struct Completed {
    /// The typed text extended by what every match shares (a folder's `/`
    /// added once it is the only one).
    pub text: String,
    /// The matching names, folders with a `/`, when more than one matches.
    pub choices: Vec<String>,
}

/// Shown under the box at most; the rest are counted.
pub const SHOWN: usize = 40;

/// Completes the last part of `typed` with the names in its folder.
/// `expand` resolves the typed folder (`~`, quotes); hidden files are
/// offered only once a `.` is typed.
pub fn complete(typed: &str, expand: impl Fn(&str) -> Option<PathBuf>) -> Completed {
    let (folder, start) = match typed.rfind('/') {
        Some(at) => typed.split_at(at + 1),
        None => ("", typed),
    };
    let dir = expand(folder).unwrap_or_else(|| PathBuf::from("."));
    let mut names = matches(&dir, start);
    names.sort();
    let text = match names.as_slice() {
        [] => typed.to_owned(),
        [one] => format!("{folder}{one}"),
        many => format!("{folder}{}", shared_start(many)),
    };
    let choices = if names.len() > 1 { names } else { Vec::new() };
    Completed { text, choices }
}

/// Names in `dir` that start with `start`, folders ending in `/`.
fn matches(dir: &Path, start: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let hidden = name.starts_with('.') && !start.starts_with('.');
            (name.starts_with(start) && !hidden).then_some(())?;
            // `metadata` follows a link to a folder; it opens nothing.
            let folder = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(if folder { format!("{name}/") } else { name })
        })
        .take(10_000)
        .collect()
}

/// The longest start every name shares, whole characters only.
fn shared_start(names: &[String]) -> &str {
    let first = &names[0];
    let mut end = first.len();
    for name in &names[1..] {
        end = first
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map_or(end.min(name.len()), |((at, _), _)| at.min(end));
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_like_a_shell() {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["ml-100k", "ml-latest-small", ".hidden"] {
            std::fs::create_dir(tmp.path().join(dir)).unwrap();
        }
        std::fs::write(tmp.path().join("ml-latest-small.zip"), b"").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"").unwrap();
        let root = tmp.path().display().to_string();
        let expand = |t: &str| (!t.is_empty()).then(|| PathBuf::from(t));
        let at = |typed: &str| complete(&format!("{root}/{typed}"), expand);

        // One match: the whole name, a folder's slash included.
        assert_eq!(at("no"), Completed { text: format!("{root}/notes.txt"), choices: vec![] });
        assert_eq!(at("ml-1").text, format!("{root}/ml-100k/"));
        // Several: as far as they agree, and the choices listed.
        let several = at("ml-l");
        assert_eq!(several.text, format!("{root}/ml-latest-small"));
        assert_eq!(several.choices, vec!["ml-latest-small.zip".to_owned(), "ml-latest-small/".to_owned()]);
        // Nothing matches: unchanged.
        assert_eq!(at("zzz"), Completed { text: format!("{root}/zzz"), choices: vec![] });
        // Hidden names wait for a dot.
        assert!(!at("").choices.iter().any(|c| c.starts_with('.')));
        assert_eq!(at(".h").text, format!("{root}/.hidden/"));
    }

    #[test]
    fn shared_starts_stop_at_whole_characters() {
        let names = ["été-1".to_owned(), "été-2".to_owned(), "éta".to_owned()];
        assert_eq!(shared_start(&names), "ét");
        assert_eq!(shared_start(&["ab".to_owned(), "abc".to_owned()]), "ab");
    }
}
