//! The one key table. It drives key handling ([`lookup`]), the help overlay
//! and the context bar at the bottom, so what the help says is what the keys
//! do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. The app asks [`lookup`] with the contexts that
/// are active right now, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Always, even while typing.
    Always,
    /// Anywhere, except while typing or in a popup.
    Global,
    /// Any list of movies.
    List,
    /// The selected movie (in a list) or the open movie (in the detail view).
    Movie,
    Browse,
    Detail,
    Ratings,
    /// Your watchlist, in your order.
    Watchlist,
    /// The Data view: import or download a dataset.
    Data,
    /// The Lab: the training form, a run, tuning.
    Lab,
    /// Typing a value into the Lab's form.
    LabInput,
    /// The list of model versions.
    Versions,
    /// Typing a search.
    Search,
    /// Typing a user id to browse as.
    Prompt,
    /// Typing the path of a dataset to import.
    PathInput,
    /// The preview of your ratings export, before importing it.
    HistoryPreview,
    /// The recommendations view: the hybrid's weight.
    ForYou,
    /// The explanation panel.
    Explain,
    /// The weight-impact panel.
    Impact,
    /// The help overlay.
    Help,
}

impl Context {
    /// Heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Context::Always => "Everywhere",
            Context::Global => "Anywhere (not while typing)",
            Context::List => "Lists",
            Context::Movie => "The selected movie",
            Context::Browse => "Browse",
            Context::Detail => "Movie detail",
            Context::Ratings => "Your ratings",
            Context::Watchlist => "Your watchlist",
            Context::Data => "Data (import or download MovieLens)",
            Context::Lab => "Lab (train, stop, tune)",
            Context::LabInput => "While typing a value in the Lab",
            Context::Versions => "Versions (saved models)",
            Context::Search => "While typing a search",
            Context::Prompt => "While typing a user id",
            Context::PathInput => "While typing a path",
            Context::HistoryPreview => "Before importing your ratings",
            Context::ForYou => "For you (the hybrid list)",
            Context::Explain => "Why this movie (explanation)",
            Context::Impact => "How the weight or diversity changes the list",
            Context::Help => "This help",
        }
    }

    /// Help overlay order.
    pub const ALL: [Context; 20] = [
        Context::Always,
        Context::Global,
        Context::List,
        Context::Movie,
        Context::Browse,
        Context::ForYou,
        Context::Detail,
        Context::Explain,
        Context::Impact,
        Context::Ratings,
        Context::Watchlist,
        Context::Data,
        Context::Lab,
        Context::LabInput,
        Context::Versions,
        Context::Search,
        Context::Prompt,
        Context::PathInput,
        Context::HistoryPreview,
        Context::Help,
    ];
}

/// A key as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character typed without Ctrl or Alt (Shift is part of the character).
    Char(char),
    Ctrl(char),
    Alt(char),
    Code(KeyCode),
    /// Two characters in a row, e.g. `gg`.
    Chord(char, char),
    /// Any printable character (text input).
    Text,
}

impl Key {
    /// How the key is written in help and the context bar.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Alt(c) => format!("Alt-{c}"),
            Key::Chord(a, b) => format!("{a}{b}"),
            Key::Text => "text".into(),
            Key::Code(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Backspace => "Backspace".into(),
                KeyCode::Delete => "Del".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::F(n) => format!("F{n}"),
                other => format!("{other:?}"),
            },
        }
    }

    /// Whether `ev` is this key (chords are matched by [`lookup`]).
    fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        match (self, ev.code) {
            (Key::Char(c), KeyCode::Char(e)) => !ctrl && !alt && c == e,
            (Key::Ctrl(c), KeyCode::Char(e)) => ctrl && !alt && c.eq_ignore_ascii_case(&e),
            (Key::Alt(c), KeyCode::Char(e)) => alt && !ctrl && c == e,
            (Key::Code(c), e) => !ctrl && !alt && c == e,
            (Key::Text, KeyCode::Char(e)) => !ctrl && !alt && !e.is_control(),
            _ => false,
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The detail view: select among the similar movies, open the selected one.
    NextAlike,
    PrevAlike,
    OpenAlike,
    /// The Data view: put the error box away.
    DismissError,
    Quit,
    Help,
    NextTab,
    PrevTab,
    ShowBrowse,
    ShowRecommendations,
    ShowRatings,
    ShowWatchlist,
    ShowData,
    ShowLab,
    ShowVersions,
    ShowMarked,
    Search,
    AsUser,
    Undo,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Open,
    /// The digit of the key is the rating.
    Rate,
    AddHalf,
    TakeHalf,
    Remove,
    /// Not interested (again: interested after all).
    Hide,
    /// Seen it, without stars (again: not seen).
    Seen,
    /// On or off your watchlist.
    Watch,
    /// Watchlist: move the selected movie up / down.
    WatchEarlier,
    WatchLater,
    /// Watchlist: write it as Letterboxd's import CSV.
    ExportWatchlist,
    Sort,
    Reverse,
    NextGenre,
    PrevGenre,
    /// Decades go newest first.
    OlderDecade,
    NewerDecade,
    ClearSearch,
    /// Open the path input of the Data view.
    ImportPath,
    /// Open the path input for your Letterboxd or IMDb export.
    ImportHistory,
    /// Import the previewed ratings.
    ConfirmHistory,
    /// In the path box: the dataset opened before the one shown, or after it.
    OlderPath,
    NewerPath,
    /// In the path box: complete the path from the file system.
    CompletePath,
    Download,
    /// Train the current dataset's models again (the engine's defaults).
    Retrain,
    /// Lab: the previous / next algorithm, ranking model or choice.
    PrevChoice,
    NextChoice,
    /// Lab: type a new value for the selected parameter.
    EditField,
    /// Lab: train what the form says.
    Train,
    /// Lab: stop, keeping what was learned.
    StopTraining,
    /// Lab: cancel, keeping nothing (or close the prediction-quality view).
    CancelTraining,
    /// Lab: the prediction-quality view of the last run.
    Quality,
    /// Lab: tune the rating model by cross-validation.
    Tune,
    /// Lab: order the tuning table by CV RMSE or as run.
    SortTune,
    /// Lab: train the best tuned candidate.
    TrainBest,
    /// Lab: sweep the diversity knob, NDCG@10 against coverage.
    Sweep,
    /// Versions: serve the selected version.
    Activate,
    DeleteVersion,
    /// Versions: mark one, then compare with another.
    Compare,
    /// Versions: chart the next metric.
    NextMetric,
    Back,
    Accept,
    Cancel,
    DeleteChar,
    ClearInput,
    Type,
    CloseHelp,
    /// Explain the selected movie: why it is listed, why its stars.
    Explain,
    /// The hybrid: more weight on CF / on content.
    MoreCf,
    MoreContent,
    /// Diversity: spread the list further over the catalogue / less.
    MoreDiversity,
    LessDiversity,
    /// The top 5 at weights 0, 0.2 … 1 side by side.
    Impact,
    /// The impact panel: columns of weights, or of diversity.
    ImpactAxis,
    /// Close the explanation or the weight-impact panel.
    CloseOverlay,
}

pub struct Binding {
    pub keys: &'static [Key],
    pub context: Context,
    pub action: Action,
    pub description: &'static str,
    /// Short label for the context bar; `None` keeps it out of the bar.
    pub bar: Option<&'static str>,
}

impl Binding {
    /// All keys of the binding, as help shows them.
    pub fn keys_label(&self) -> String {
        match self.action {
            Action::Rate => "1–5".into(),
            _ => self.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" "),
        }
    }

    /// The first key only, as the context bar shows it.
    pub fn short_label(&self) -> String {
        match self.action {
            Action::Rate => "1-5".into(),
            _ => self.keys.first().map(|k| k.label()).unwrap_or_default(),
        }
    }
}

const fn b(
    keys: &'static [Key],
    context: Context,
    action: Action,
    description: &'static str,
    bar: Option<&'static str>,
) -> Binding {
    Binding { keys, context, action, description, bar }
}

use Action as A;
use Context as C;
use Key::{Alt, Char, Chord, Code, Ctrl, Text};

/// Every key the app knows, in help order within each context.
pub static BINDINGS: &[Binding] = &[
    b(&[Ctrl('c')], C::Always, A::Quit, "quit at once", None),
    b(&[Code(KeyCode::F(1))], C::Always, A::Help, "show or hide this help", None),
    b(&[Char('q')], C::Global, A::Quit, "quit", Some("quit")),
    b(&[Char('?')], C::Global, A::Help, "help: every key", Some("help")),
    b(&[Code(KeyCode::Tab)], C::Global, A::NextTab, "next view", None),
    b(&[Code(KeyCode::BackTab)], C::Global, A::PrevTab, "previous view", None),
    b(&[Char('b'), Alt('1')], C::Global, A::ShowBrowse, "browse the catalogue", None),
    b(&[Char('r'), Alt('2')], C::Global, A::ShowRecommendations, "recommendations for you", None),
    b(&[Char('m'), Alt('3')], C::Global, A::ShowRatings, "my ratings (history)", None),
    b(&[Char('W'), Alt('4')], C::Global, A::ShowWatchlist, "my watchlist", None),
    b(&[Char('/')], C::Global, A::Search, "search titles as you type (fuzzy)", Some("search")),
    b(&[Char('a')], C::Global, A::AsUser, "browse as a dataset user (read-only) or as you", None),
    b(&[Char('u')], C::Global, A::Undo, "undo your last rating change", Some("undo")),
    b(&[Char('d'), Alt('5')], C::Global, A::ShowData, "data: import or download MovieLens", Some("data")),
    b(&[Char('t'), Alt('6')], C::Global, A::ShowLab, "lab: train a model and watch it learn, tune it", Some("lab")),
    b(
        &[Char('v'), Alt('7')],
        C::Global,
        A::ShowVersions,
        "versions: saved models, roll back, compare",
        Some("versions"),
    ),
    b(&[Char('M'), Alt('8')], C::Global, A::ShowMarked, "movies you marked not interested or seen", None),
    b(&[Char('k'), Code(KeyCode::Up)], C::List, A::Up, "move up", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::List, A::Down, "move down", None),
    b(&[Chord('g', 'g'), Code(KeyCode::Home)], C::List, A::Top, "first row", None),
    b(&[Char('G'), Code(KeyCode::End)], C::List, A::Bottom, "last row", None),
    b(&[Ctrl('u')], C::List, A::HalfPageUp, "half a page up", None),
    b(&[Ctrl('d')], C::List, A::HalfPageDown, "half a page down", None),
    b(&[Code(KeyCode::PageUp), Ctrl('b')], C::List, A::PageUp, "page up", None),
    b(&[Code(KeyCode::PageDown), Ctrl('f')], C::List, A::PageDown, "page down", None),
    b(&[Code(KeyCode::Enter), Char('l'), Code(KeyCode::Right)], C::List, A::Open, "open the movie", Some("open")),
    b(
        &[Char('1'), Char('2'), Char('3'), Char('4'), Char('5')],
        C::Movie,
        A::Rate,
        "rate it 1 to 5 stars; learned at once",
        Some("rate"),
    ),
    b(&[Char('.')], C::Movie, A::AddHalf, "add half a star (half-star datasets): 4 → 4.5", None),
    b(&[Char(',')], C::Movie, A::TakeHalf, "take off half a star (half-star datasets): 4 → 3.5", None),
    b(&[Code(KeyCode::Delete)], C::Movie, A::Remove, "remove your rating", None),
    b(&[Char('x')], C::Movie, A::Hide, "not interested: off every list for good", None),
    b(&[Char('0')], C::Movie, A::Seen, "seen it, no stars: counts as watched", None),
    b(&[Char('+')], C::Movie, A::Watch, "on or off your watchlist (W shows it)", None),
    b(&[Char('e')], C::Movie, A::Explain, "why: explain this movie for the viewer", Some("why")),
    b(&[Char(']')], C::ForYou, A::MoreCf, "more weight on CF (who watched what), +0.1", Some("cf")),
    b(&[Char('[')], C::ForYou, A::MoreContent, "more weight on content (genres, words, tags)", Some("content")),
    b(&[Char('}')], C::ForYou, A::MoreDiversity, "more diversity: movies fewer lists show, +0.1", None),
    b(&[Char('{')], C::ForYou, A::LessDiversity, "less diversity: back towards the plain list", None),
    b(&[Char('w')], C::ForYou, A::Impact, "the top 5 at every weight, side by side", Some("weights")),
    b(&[Char('s')], C::Browse, A::Sort, "sort by the next column", Some("sort")),
    b(&[Char('S')], C::Browse, A::Reverse, "reverse the sort", None),
    b(&[Char('f')], C::Browse, A::NextGenre, "filter: next genre", Some("genre")),
    b(&[Char('F')], C::Browse, A::PrevGenre, "filter: previous genre", None),
    b(&[Char('y')], C::Browse, A::OlderDecade, "filter: next decade (all, 2010s, 2000s, …)", Some("year")),
    b(&[Char('Y')], C::Browse, A::NewerDecade, "filter: previous decade", None),
    b(&[Code(KeyCode::Esc)], C::Browse, A::ClearSearch, "clear the search and the filters", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::Detail, A::NextAlike, "select the next similar movie", None),
    b(&[Char('k'), Code(KeyCode::Up)], C::Detail, A::PrevAlike, "select the previous similar movie", None),
    b(
        &[Code(KeyCode::Enter), Char('l'), Code(KeyCode::Right)],
        C::Detail,
        A::OpenAlike,
        "open the selected similar movie",
        Some("open similar"),
    ),
    b(
        &[Code(KeyCode::Esc), Char('h'), Code(KeyCode::Left)],
        C::Detail,
        A::Back,
        "back: to the movie before, or to the list",
        Some("back"),
    ),
    b(&[Char('x'), Code(KeyCode::Delete)], C::Ratings, A::Remove, "remove the selected rating", Some("remove")),
    b(&[Char('K')], C::Watchlist, A::WatchEarlier, "move it up your watchlist", Some("move up")),
    b(&[Char('J')], C::Watchlist, A::WatchLater, "move it down your watchlist", Some("down")),
    b(&[Char('x'), Code(KeyCode::Delete)], C::Watchlist, A::Watch, "take it off your watchlist", Some("remove")),
    b(&[Char('E')], C::Watchlist, A::ExportWatchlist, "export it as the CSV Letterboxd imports", Some("export")),
    b(&[Char('i'), Code(KeyCode::Enter)], C::Data, A::ImportPath, "import a MovieLens folder or .zip", Some("import")),
    b(&[Char('I')], C::Data, A::ImportHistory, "import your Letterboxd or IMDb ratings", Some("your ratings")),
    b(&[Char('D')], C::Data, A::Download, "download MovieLens latest-small (about 1 MB)", Some("download")),
    b(&[Code(KeyCode::Esc)], C::Data, A::DismissError, "close the error box", None),
    b(&[Char('T')], C::Data, A::Retrain, "train the models again (the engine's defaults)", Some("retrain")),
    b(&[Code(KeyCode::Enter)], C::Lab, A::Train, "train what the form says into a new version", Some("train")),
    b(&[Char('k'), Code(KeyCode::Up)], C::Lab, A::Up, "previous field", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::Lab, A::Down, "next field", None),
    b(&[Char('h'), Code(KeyCode::Left)], C::Lab, A::PrevChoice, "previous model or choice", None),
    b(&[Char('l'), Code(KeyCode::Right)], C::Lab, A::NextChoice, "next model or choice", None),
    b(&[Char('e')], C::Lab, A::EditField, "type a value for the selected parameter", Some("edit")),
    b(&[Char('s')], C::Lab, A::StopTraining, "stop: keep the epochs done as a version", Some("stop")),
    b(&[Char('c'), Code(KeyCode::Esc)], C::Lab, A::CancelTraining, "cancel: keep nothing (or close quality)", None),
    b(&[Char('p')], C::Lab, A::Quality, "prediction quality of the last run", Some("quality")),
    b(&[Char('g')], C::Lab, A::Tune, "tune: grid or random search, 3-fold CV", Some("tune")),
    b(&[Char('o')], C::Lab, A::SortTune, "order the tuning table (best first / as run)", None),
    b(&[Char('B')], C::Lab, A::TrainBest, "train the best tuned candidate", None),
    b(&[Char('D')], C::Lab, A::Sweep, "diversity sweep: NDCG@10 against coverage", None),
    b(&[Code(KeyCode::Enter)], C::LabInput, A::Accept, "keep the value (checked against its range)", Some("ok")),
    b(&[Code(KeyCode::Esc)], C::LabInput, A::Cancel, "cancel", Some("cancel")),
    b(&[Code(KeyCode::Backspace)], C::LabInput, A::DeleteChar, "delete a character", None),
    b(&[Ctrl('u')], C::LabInput, A::ClearInput, "clear the value", None),
    b(&[Text], C::LabInput, A::Type, "type the value", None),
    b(&[Char('k'), Code(KeyCode::Up)], C::Versions, A::Up, "previous version", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::Versions, A::Down, "next version", None),
    b(&[Code(KeyCode::Enter)], C::Versions, A::Activate, "serve this version (roll back)", Some("activate")),
    b(
        &[Char('x'), Code(KeyCode::Delete)],
        C::Versions,
        A::DeleteVersion,
        "delete it (not the active one)",
        Some("delete"),
    ),
    b(&[Char('c')], C::Versions, A::Compare, "mark it; on a second one, compare the two", Some("compare")),
    b(&[Char('n')], C::Versions, A::NextMetric, "chart the next metric across versions", Some("metric")),
    b(&[Code(KeyCode::Enter)], C::Search, A::Accept, "keep the results, stop typing", Some("done")),
    b(&[Code(KeyCode::Esc)], C::Search, A::Cancel, "clear the search, stop typing", Some("cancel")),
    b(&[Code(KeyCode::Up)], C::Search, A::Up, "move up in the results", None),
    b(&[Code(KeyCode::Down)], C::Search, A::Down, "move down in the results", None),
    b(&[Code(KeyCode::Backspace)], C::Search, A::DeleteChar, "delete a character", None),
    b(&[Ctrl('u')], C::Search, A::ClearInput, "clear the line", None),
    b(&[Text], C::Search, A::Type, "type (q, j, k … are text here)", None),
    b(&[Code(KeyCode::Enter)], C::Prompt, A::Accept, "browse as that user (empty: as you)", Some("ok")),
    b(&[Code(KeyCode::Esc)], C::Prompt, A::Cancel, "cancel", Some("cancel")),
    b(&[Code(KeyCode::Backspace)], C::Prompt, A::DeleteChar, "delete a character", None),
    b(&[Text], C::Prompt, A::Type, "type the user id", None),
    b(&[Code(KeyCode::Enter)], C::PathInput, A::Accept, "import it and switch to it", Some("import")),
    b(&[Code(KeyCode::Esc)], C::PathInput, A::Cancel, "cancel", Some("cancel")),
    b(&[Code(KeyCode::Backspace)], C::PathInput, A::DeleteChar, "delete a character", None),
    b(&[Ctrl('u')], C::PathInput, A::ClearInput, "clear the line", None),
    b(&[Code(KeyCode::Up)], C::PathInput, A::OlderPath, "a dataset opened before (again: the one before it)", None),
    b(&[Code(KeyCode::Down)], C::PathInput, A::NewerPath, "back towards what you typed", None),
    b(&[Code(KeyCode::Tab)], C::PathInput, A::CompletePath, "complete the path (again: list the choices)", None),
    b(&[Text], C::PathInput, A::Type, "type the path (~ is your home folder)", None),
    b(
        &[Code(KeyCode::Enter), Char('y')],
        C::HistoryPreview,
        A::ConfirmHistory,
        "import these ratings (u undoes all of them)",
        Some("import"),
    ),
    b(&[Code(KeyCode::Esc), Char('n')], C::HistoryPreview, A::Cancel, "import nothing", Some("cancel")),
    b(&[Char('k'), Code(KeyCode::Up)], C::HistoryPreview, A::Up, "scroll the rows that did not match", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::HistoryPreview, A::Down, "scroll down", None),
    b(&[Char('k'), Code(KeyCode::Up)], C::Explain, A::Up, "scroll up", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::Explain, A::Down, "scroll down", None),
    b(&[Code(KeyCode::Esc), Char('e'), Char('q')], C::Explain, A::CloseOverlay, "close", Some("close")),
    b(&[Char('d')], C::Impact, A::ImpactAxis, "columns of diversity, not weight (again: back)", Some("axis")),
    b(&[Code(KeyCode::Esc), Char('w'), Char('q')], C::Impact, A::CloseOverlay, "close", Some("close")),
    b(&[Char('k'), Code(KeyCode::Up)], C::Help, A::Up, "scroll up", None),
    b(&[Char('j'), Code(KeyCode::Down)], C::Help, A::Down, "scroll down", None),
    b(&[Code(KeyCode::Esc), Char('?'), Char('q')], C::Help, A::CloseHelp, "close the help", Some("close")),
];

/// What `key` does in `contexts` (most specific first). `pending` is the
/// first key of a chord typed just before; the result says whether `key`
/// now starts a chord instead.
pub fn lookup(contexts: &[Context], pending: Option<char>, key: &KeyEvent) -> Lookup {
    let plain = match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    };
    for &context in contexts {
        for binding in BINDINGS.iter().filter(|b| b.context == context) {
            for &k in binding.keys {
                match (k, pending, plain) {
                    (Chord(a, c), Some(p), Some(e)) if a == p && c == e => return Lookup::Action(binding.action),
                    (Chord(a, _), _, Some(e)) if a == e => return Lookup::Pending(e),
                    _ if k.matches(key) => return Lookup::Action(binding.action),
                    _ => {}
                }
            }
        }
    }
    Lookup::None
}

/// What the typing actions do to a line of text being typed; false for
/// any other action.
pub fn edit_text(text: &mut String, action: Action, key: &KeyEvent) -> bool {
    match (action, key.code) {
        (Action::DeleteChar, _) => drop(text.pop()),
        (Action::ClearInput, _) => text.clear(),
        (Action::Type, KeyCode::Char(c)) => text.push(c),
        (Action::Type, _) => {}
        _ => return false,
    }
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The key starts a chord; wait for the next one.
    Pending(char),
    None,
}

/// Bindings shown in the context bar for these contexts, most specific first.
pub fn bar(contexts: &[Context]) -> Vec<(String, &'static str)> {
    contexts
        .iter()
        .flat_map(|&c| BINDINGS.iter().filter(move |b| b.context == c))
        .filter_map(|b| b.bar.map(|label| (b.short_label(), label)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn specific_contexts_win_and_text_swallows_letters() {
        let q = key(KeyCode::Char('q'));
        assert_eq!(lookup(&[C::Browse, C::Global], None, &q), Lookup::Action(A::Quit));
        assert_eq!(lookup(&[C::Search, C::Always], None, &q), Lookup::Action(A::Type));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&[C::Search, C::Always], None, &ctrl_c), Lookup::Action(A::Quit));
    }

    #[test]
    fn gg_is_a_chord() {
        let g = key(KeyCode::Char('g'));
        assert_eq!(lookup(&[C::List], None, &g), Lookup::Pending('g'));
        assert_eq!(lookup(&[C::List], Some('g'), &g), Lookup::Action(A::Top));
    }

    #[test]
    fn every_binding_has_a_key_and_a_description() {
        for b in BINDINGS {
            assert!(!b.keys.is_empty() && !b.description.is_empty(), "{:?}", b.action);
        }
    }
}
