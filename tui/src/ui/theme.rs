//! All styles in one place. With `NO_COLOR` set, no colour at all: meaning
//! is carried by symbols and by bold/reverse/underline, never by colour alone.

use ratatui::style::{Color, Modifier, Style};

/// Marks the selected row (with the reversed style), so it shows without colour.
pub const SELECTED_SYMBOL: &str = "▶ ";
/// Marks a recommendation that was not in the list before your last change.
pub const NEW_SYMBOL: &str = "+";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    pub fn plain() -> Theme {
        Theme { color: false }
    }

    fn tint(self, style: Style, color: Color) -> Style {
        if self.color { style.fg(color) } else { style }
    }

    pub fn selected(self) -> Style {
        let style = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        if self.color { style.fg(Color::Cyan) } else { style }
    }

    pub fn header(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED), Color::Yellow)
    }

    pub fn title(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub fn tab_active(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD), Color::Cyan)
    }

    pub fn dim(self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new() }
    }

    pub fn key(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    pub fn yours(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Green)
    }

    pub fn fresh(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Green)
    }

    pub fn info(self) -> Style {
        self.tint(Style::new(), Color::Green)
    }

    pub fn error(self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Red)
    }

    /// A figure better than the one it is compared with (also marked ▲).
    pub fn better(self) -> Style {
        self.tint(Style::new(), Color::Green)
    }

    /// A figure worse than the one it is compared with (also marked ▼).
    pub fn worse(self) -> Style {
        self.tint(Style::new(), Color::Red)
    }

    /// The chart's training-RMSE line (the legend names it too).
    pub fn series_train(self) -> Style {
        self.tint(Style::new(), Color::Cyan)
    }

    /// The chart's validation-RMSE line.
    pub fn series_validation(self) -> Style {
        self.tint(Style::new(), Color::Magenta)
    }

    pub fn bar(self) -> Style {
        self.tint(Style::new(), Color::Blue)
    }
}
