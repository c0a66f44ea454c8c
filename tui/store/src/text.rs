//! Text that came from a file, made safe to show: a title, genre, tag or
//! export row reaches the terminal, a TUI cell or an error message, where a
//! control character would be obeyed rather than shown (ESC starts escape
//! sequences that can retitle the window or clear the screen, U+202E turns
//! the rest of a line around). Applied once, where files are parsed, so
//! every consumer gets clean text.

use std::borrow::Cow;

/// The most characters of a bad field an error message quotes.
pub const EXCERPT_CHARS: usize = 60;

/// `s` with every control character replaced: tabs and line breaks by a
/// space (they only separate words), anything else by U+FFFD so that the
/// replacement is visible. Nothing else changes: no trimming, no collapsing.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_replacing) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(replacement).collect())
}

/// [`clean`] into an owned `String`.
pub fn clean_owned(s: String) -> String {
    match clean(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(cleaned) => cleaned,
    }
}

/// A cleaned excerpt of a field for an error message: at most
/// [`EXCERPT_CHARS`] characters, `…` marking a cut, so a huge field never
/// floods the terminal and its control characters are never obeyed.
pub fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let mut out = clean_owned(head);
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// [`excerpt`] of bytes that may not be UTF-8 (invalid sequences show as U+FFFD).
pub fn excerpt_bytes(bytes: &[u8]) -> String {
    // Only the start is decoded: a 4-byte character per kept char is enough.
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4 + 4)];
    let mut out = excerpt(&String::from_utf8_lossy(head));
    if head.len() < bytes.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

fn needs_replacing(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

fn replacement(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => ' ',
        c if needs_replacing(c) => '\u{FFFD}',
        c => c,
    }
}

/// The invisible marks that reorder text (the "Trojan Source" characters):
/// embeddings, overrides, isolates and the directional marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_replaced() {
        assert_eq!(clean("A\u{1b}]0;owned\u{7}B"), "A\u{FFFD}]0;owned\u{FFFD}B");
        assert_eq!(clean("\u{1b}[2J"), "\u{FFFD}[2J");
        // C1 (here CSI, U+009B) and DEL too.
        assert_eq!(clean("x\u{9b}2Jy\u{7f}"), "x\u{FFFD}2Jy\u{FFFD}");
        assert_eq!(clean("evil\u{202E}gnp.exe"), "evil\u{FFFD}gnp.exe");
        assert_eq!(clean("a\tb\r\nc"), "a b  c");
        assert!(!clean("\u{2067}x\u{2069}").contains(['\u{2067}', '\u{2069}']));
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        for s in ["Amélie (Fabuleux destin d'Amélie Poulain, Le)", "千と千尋の神隠し", "  two  spaces ", "Se7en"]
        {
            assert!(matches!(clean(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }

    #[test]
    fn excerpts_are_short_clean_and_marked_when_cut() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(5_000_000);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("\u{1b}[2J"), "\u{FFFD}[2J");
        let bytes = vec![b'x'; 5_000_000];
        assert_eq!(excerpt_bytes(&bytes).chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt_bytes(b"ab\xffc"), "ab\u{FFFD}c");
    }
}
