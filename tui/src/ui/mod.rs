//! The terminal app (ratatui + crossterm): browse, search, rate with
//! instant learning, recommendations, your ratings, importing datasets,
//! the model lab (train with live metrics, tune) and model versions.
//!
//! gitui/ratatui-demo style: one [`event::Event`] channel feeds the loop;
//! a key is looked up in the one key table ([`keys`]) and its action goes
//! to what has the keys: the top overlay of the [`App`] (each a component
//! in [`overlays`]), else the tab on screen (each a component in [`tabs`]:
//! its state, its keys, its view), else the app. Views are functions of the state, redrawn after every event.

mod actions;
pub mod answers;
pub(crate) mod complete;
pub mod context;
pub mod cursor;
mod datasets;
pub mod event;
pub mod format;
pub mod jobs;
pub mod keys;
pub mod launch;
pub mod overlays;
pub mod query;
pub mod shared;
pub mod state;
pub mod tabs;
mod terminal;
pub mod theme;
pub mod toast;
pub mod views;
pub mod widgets;
pub mod work;

pub use launch::launch;
pub use state::App;
pub use terminal::{FIRST_FRAME, Options, run};
pub use views::{draw, render};

/// Imports among the files of `ui/` go one way: a panel never reaches the
/// `App` or the event type, so a change to one panel cannot ripple round a
/// circle. Read from the source: every `super::NAME` that climbs to `ui/`
/// (and `crate::ui::NAME`) outside comments is an edge; a folder (`tabs/`,
/// `views/`, `widgets/`) counts as one file.
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

    /// Every `.rs` file under `dir`, with its module path below `ui/`.
    fn sources(dir: &Path, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().path();
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            let mut below = path.clone();
            if file.is_dir() {
                below.push(stem);
                sources(&file, below, out);
            } else {
                if stem != "mod" {
                    below.push(stem);
                }
                out.push((below, std::fs::read_to_string(&file).unwrap()));
            }
        }
    }

    /// File → the files of `ui/` it names.
    fn graph() -> BTreeMap<String, Vec<String>> {
        let mut sources_found = Vec::new();
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"), Vec::new(), &mut sources_found);
        let node = |path: &[String]| path.first().cloned().unwrap_or_default();
        let files: Vec<String> =
            sources_found.iter().filter(|(path, _)| !path.is_empty()).map(|(path, _)| node(path)).collect();
        let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, source) in &sources_found {
            if path.is_empty() {
                continue; // ui/mod.rs itself
            }
            let file = node(path);
            let code: String = source
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| l.split(" // ").next().unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            // As many `super::` as the file is deep reach `ui/` itself.
            let up = "super::".repeat(path.len());
            let edges = graph.entry(file.clone()).or_default();
            for name in names_after(&code, &up).into_iter().chain(names_after(&code, "crate::ui::")) {
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
        println!("ui/ bottom up: {}\n{graph:#?}", done.join(" < "));
        assert!(done.len() >= 15, "{done:?}");
        for panel in ["tabs", "overlays", "widgets", "shared"] {
            let below = &graph[panel];
            assert!(!below.iter().any(|f| f == "state" || f == "event"), "{panel} imports {below:?}");
        }
    }
}
