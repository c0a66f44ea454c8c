//! The terminal app (ratatui + crossterm): browse, search, rate with
//! instant learning, recommendations, your ratings, importing datasets,
//! the model lab (train with live metrics, tune) and model versions.
//!
//! gitui/ratatui-demo style: one [`event::Event`] channel feeds the loop;
//! a key is looked up in the one key table ([`keys`]), the action changes
//! the [`App`] state, and the views (functions of that state) redraw.

mod actions;
pub(crate) mod complete;
pub mod context;
pub mod cursor;
mod datasets;
pub mod event;
pub mod format;
pub mod insight;
pub mod jobs;
pub mod keys;
pub mod lab;
pub mod launch;
pub mod query;
pub mod shelf;
pub mod state;
mod terminal;
pub mod theme;
pub mod toast;
pub mod views;
pub mod work;

pub use launch::launch;
pub use state::App;
pub use terminal::{FIRST_FRAME, Options, run};
pub use views::{draw, render};

/// Imports among the files of `ui/` go one way: a panel never reaches the
/// `App` or the event type, so a change to one panel cannot ripple round a
/// circle. Read from the source: every `super::NAME` (and `crate::ui::NAME`)
/// outside comments is an edge; `views/` counts as one file.
#[cfg(test)]
mod one_way {
    use std::collections::BTreeMap;
    use std::path::Path;

    fn names_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
        let mut names = Vec::new();
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            match rest.strip_prefix('{') {
                Some(group) => {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    names.extend(group.split(',').map(|n| n.trim().split("::").next().unwrap_or("").trim()));
                }
                None => names.push(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")),
            }
        }
        names
    }

    /// File → the files of `ui/` it names.
    fn graph() -> BTreeMap<String, Vec<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
        let mut sources: Vec<(String, String, bool)> = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                for file in std::fs::read_dir(&path).unwrap() {
                    sources.push((stem.clone(), std::fs::read_to_string(file.unwrap().path()).unwrap(), true));
                }
            } else if stem != "mod" {
                sources.push((stem, std::fs::read_to_string(&path).unwrap(), false));
            }
        }
        let files: Vec<String> = sources.iter().map(|s| s.0.clone()).collect();
        let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (file, source, nested) in &sources {
            let code: String = source
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| l.split(" // ").next().unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            let up = if *nested { "super::super::" } else { "super::" };
            let edges = graph.entry(file.clone()).or_default();
            for name in names_after(&code, up).into_iter().chain(names_after(&code, "crate::ui::")) {
                if name != file && files.iter().any(|f| f == name) && !edges.iter().any(|e| e == name) {
                    edges.push(name.to_owned());
                }
            }
        }
        graph
    }

    #[test]
    fn imports_in_ui_go_one_way() {
        let graph = graph();
        // Depth-first search; a file met again while still open closes a circle.
        fn visit(
            file: &str,
            graph: &BTreeMap<String, Vec<String>>,
            open: &mut Vec<String>,
            done: &mut Vec<String>,
        ) -> Result<(), String> {
            if done.iter().any(|d| d == file) {
                return Ok(());
            }
            if let Some(at) = open.iter().position(|o| o == file) {
                return Err(format!("{} → {file}", open[at..].join(" → ")));
            }
            open.push(file.to_owned());
            for next in graph.get(file).into_iter().flatten() {
                visit(next, graph, open, done)?;
            }
            open.pop();
            done.push(file.to_owned());
            Ok(())
        }
        let mut done = Vec::new();
        for file in graph.keys() {
            if let Err(circle) = visit(file, &graph, &mut Vec::new(), &mut done) {
                panic!("an import circle in ui/: {circle}\n{graph:#?}");
            }
        }
        // `done` lists every file after what it imports: the layers, bottom up.
        assert!(done.len() >= 15, "{done:?}");
        for panel in ["lab", "shelf", "insight"] {
            let below = &graph[panel];
            assert!(!below.iter().any(|f| f == "state" || f == "event"), "{panel} imports {below:?}");
        }
    }
}
