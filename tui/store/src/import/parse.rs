//! Field-level parsing shared by every format: lines, separators, numbers,
//! ratings on a scale, titles with years, genre tables, text encodings.
//!
//! Everything here works on byte slices borrowed from the file, so the
//! ratings loops allocate nothing per line.

use std::borrow::Cow;

use super::error::Reason;
use crate::dataset::{Movie, RatingScale};
use crate::text::{clean, excerpt, excerpt_bytes};

/// Non-blank lines with their 1-based line numbers; a trailing `\r` is dropped.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.is_empty())
}

/// Number of lines, to size a ratings vector once instead of growing it.
/// No rating line is shorter than 8 bytes (`1,1,5,0` and its newline), so a
/// file of empty lines cannot make us reserve 24 bytes per byte of it.
pub(crate) fn count_lines(bytes: &[u8]) -> usize {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    lines.min(bytes.len() / 8 + 1)
}

/// `Err(Empty)` when the file holds nothing but whitespace.
pub(crate) fn require_content(bytes: &[u8]) -> Result<(), Reason> {
    if bytes.iter().all(u8::is_ascii_whitespace) { Err(Reason::Empty) } else { Ok(()) }
}

/// The line holding the first invalid UTF-8 byte, if any.
pub(crate) fn first_invalid_utf8_line(bytes: &[u8]) -> Option<u64> {
    let err = std::str::from_utf8(bytes).err()?;
    let before = &bytes[..err.valid_up_to()];
    Some(before.iter().filter(|&&b| b == b'\n').count() as u64 + 1)
}

/// MovieLens' older files are latin-1; windows-1252 is its superset and maps
/// every byte, so decoding cannot fail.
pub(crate) fn decode_latin1(bytes: &[u8]) -> Cow<'_, str> {
    encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0
}

/// Splits a line on a (possibly multi-byte) separator.
pub(crate) struct Fields<'a, 's> {
    rest: Option<&'a [u8]>,
    sep: &'s [u8],
}

impl<'a, 's> Fields<'a, 's> {
    pub(crate) fn new(line: &'a [u8], sep: &'s [u8]) -> Self {
        Fields { rest: Some(line), sep }
    }
}

impl<'a> Iterator for Fields<'a, '_> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find(rest, self.sep) {
            Some(at) => {
                self.rest = Some(&rest[at + self.sep.len()..]);
                Some(&rest[..at])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [] => None,
        [single] => haystack.iter().position(|b| b == single),
        _ => haystack.windows(needle.len()).position(|w| w == needle),
    }
}

/// Exactly `N` fields, or a field-count error that says how many there were.
pub(crate) fn split_exact<'a, const N: usize>(line: &'a [u8], sep: &[u8]) -> Result<[&'a [u8]; N], Reason> {
    let mut out = [&line[..0]; N];
    let mut found = 0;
    for field in Fields::new(line, sep) {
        if let Some(slot) = out.get_mut(found) {
            *slot = field;
        }
        found += 1;
    }
    if found == N { Ok(out) } else { Err(Reason::FieldCount { expected: N, found }) }
}

/// A field as text; UTF-8 is required.
pub(crate) fn text(field: &[u8]) -> Result<&str, Reason> {
    std::str::from_utf8(field).map_err(|_| Reason::InvalidUtf8)
}

fn not_a_number(field: &'static str, value: &[u8]) -> Reason {
    Reason::NotANumber { field, value: excerpt_bytes(value) }
}

/// A non-negative integer id. Parsed by hand: it is the hottest call of an import.
pub(crate) fn parse_id(value: &[u8], field: &'static str) -> Result<u32, Reason> {
    let digits = value.trim_ascii();
    if digits.is_empty() {
        return Err(not_a_number(field, value));
    }
    let mut n: u32 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(not_a_number(field, value));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(digit)))
            .ok_or_else(|| not_a_number(field, value))?;
    }
    Ok(n)
}

/// An id that may be left empty (e.g. a missing TMDB id).
pub(crate) fn parse_optional_id(value: &[u8], field: &'static str) -> Result<Option<u32>, Reason> {
    if value.trim_ascii().is_empty() { Ok(None) } else { parse_id(value, field).map(Some) }
}

/// Seconds since the Unix epoch.
pub(crate) fn parse_timestamp(value: &[u8]) -> Result<i64, Reason> {
    text(value.trim_ascii()).ok().and_then(|t| t.parse::<i64>().ok()).ok_or_else(|| not_a_number("timestamp", value))
}

/// A rating that must be on `scale`.
pub(crate) fn parse_rating(value: &[u8], scale: &RatingScale) -> Result<f32, Reason> {
    let rating = text(value.trim_ascii())
        .ok()
        .and_then(|t| t.parse::<f32>().ok())
        .filter(|r| r.is_finite())
        .ok_or_else(|| not_a_number("rating", value))?;
    if scale.contains(rating) {
        Ok(rating)
    } else {
        Err(Reason::OutOfScale { value: excerpt_bytes(value.trim_ascii()), scale: describe_scale(scale) })
    }
}

/// `1–5`, or `0.5–5 in half stars`.
pub(crate) fn describe_scale(scale: &RatingScale) -> String {
    let range = format!("{}–{}", scale.min, scale.max);
    if scale.step == 1.0 {
        range
    } else if scale.step == 0.5 {
        format!("{range} in half stars")
    } else {
        format!("{range} in steps of {}", scale.step)
    }
}

/// `Star Wars (1977)` → (`Star Wars`, 1977). Also accepts a year range such as
/// `(2006–2007)` (first year). Titles without a trailing year are kept whole.
/// Control characters are replaced ([`clean`]): every title passes here.
pub(crate) fn split_title_year(raw: &str) -> (String, Option<u16>) {
    let cleaned = clean(raw);
    let trimmed = cleaned.trim();
    let parsed = trimmed.strip_suffix(')').and_then(|body| {
        let open = body.rfind('(')?;
        let year = parse_year(&body[open + 1..])?;
        let title = body[..open].trim_end();
        (!title.is_empty()).then(|| (title.to_owned(), Some(year)))
    });
    parsed.unwrap_or_else(|| (trimmed.to_owned(), None))
}

/// `1995`, or the first year of `2006–2007` / `2006-`.
fn parse_year(inner: &str) -> Option<u16> {
    let digits = inner.get(..4)?;
    let rest = &inner[4..];
    let is_range = rest.is_empty() || rest.starts_with('-') || rest.starts_with('–');
    if is_range && digits.bytes().all(|b| b.is_ascii_digit()) { digits.parse().ok() } else { None }
}

/// Genre names discovered while reading a catalogue, as bits of `Movie::genres`.
#[derive(Default)]
pub(crate) struct GenreTable {
    names: Vec<String>,
}

/// MovieLens writes this instead of an empty genre list.
const NO_GENRES: &str = "(no genres listed)";

impl GenreTable {
    /// Bit set for a `|`-separated genre list.
    pub(crate) fn bits(&mut self, list: &str) -> Result<u32, Reason> {
        // Cleaned before splitting, so a name and its cleaned form are one genre.
        let list = clean(list);
        let mut bits = 0;
        for name in list.split('|').map(str::trim) {
            if name.is_empty() || name == NO_GENRES {
                continue;
            }
            bits |= 1 << self.index(name)?;
        }
        Ok(bits)
    }

    fn index(&mut self, name: &str) -> Result<usize, Reason> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i);
        }
        if self.names.len() == 32 {
            return Err(Reason::TooManyGenres(excerpt(name)));
        }
        self.names.push(name.to_owned());
        Ok(self.names.len() - 1)
    }

    /// The table in alphabetical order (what a genre filter should show),
    /// with every movie's bits remapped to match.
    pub(crate) fn finish(self, movies: &mut [Movie]) -> Vec<String> {
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
        let mut new_bit = vec![0; self.names.len()];
        for (new, &old) in order.iter().enumerate() {
            new_bit[old] = new;
        }
        for movie in movies {
            let old = movie.genres;
            movie.genres = (0..new_bit.len()).filter(|g| old & (1 << g) != 0).map(|g| 1 << new_bit[g]).sum();
        }
        order.into_iter().map(|i| self.names[i].clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_carriage_returns() {
        let got: Vec<_> = lines(b"a\r\n\nb\nc").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (3, &b"b"[..]), (4, &b"c"[..])]);
    }

    #[test]
    fn split_exact_counts_fields() {
        assert_eq!(split_exact::<3>(b"1::2::3", b"::"), Ok([&b"1"[..], b"2", b"3"]));
        assert_eq!(split_exact::<4>(b"1\t2\t3", b"\t"), Err(Reason::FieldCount { expected: 4, found: 3 }));
        assert_eq!(split_exact::<2>(b"a|b|c", b"|"), Err(Reason::FieldCount { expected: 2, found: 3 }));
    }

    #[test]
    fn ids_are_strict_integers() {
        assert_eq!(parse_id(b"0042", "movie id"), Ok(42));
        assert_eq!(parse_id(b" 7 ", "movie id"), Ok(7));
        for bad in [&b""[..], b"-1", b"1.5", b"x", b"99999999999"] {
            assert!(parse_id(bad, "movie id").is_err(), "{bad:?}");
        }
        assert_eq!(parse_optional_id(b"", "tmdb id"), Ok(None));
    }

    #[test]
    fn ratings_respect_the_scale() {
        let whole = RatingScale::WHOLE_STARS;
        let half = RatingScale::HALF_STARS;
        assert_eq!(parse_rating(b"4", &whole), Ok(4.0));
        assert_eq!(parse_rating(b"3.5", &half), Ok(3.5));
        assert_eq!(parse_rating(b"7", &whole).unwrap_err().to_string(), "rating 7 is outside the scale 1–5");
        assert_eq!(
            parse_rating(b"5.5", &half).unwrap_err().to_string(),
            "rating 5.5 is outside the scale 0.5–5 in half stars"
        );
        assert_eq!(parse_rating(b"abc", &whole).unwrap_err().to_string(), "rating `abc` is not a number");
        assert!(parse_rating(b"NaN", &whole).is_err());
    }

    #[test]
    fn titles_lose_their_year() {
        assert_eq!(split_title_year("Star Wars (1977)"), ("Star Wars".into(), Some(1977)));
        assert_eq!(split_title_year("Two Friends (1986) "), ("Two Friends".into(), Some(1986)));
        assert_eq!(split_title_year("Usual Suspects, The (1995)"), ("Usual Suspects, The".into(), Some(1995)));
        assert_eq!(split_title_year("Babylon 5"), ("Babylon 5".into(), None));
        assert_eq!(split_title_year("unknown"), ("unknown".into(), None));
        assert_eq!(split_title_year("Death Note (2006–2007)"), ("Death Note".into(), Some(2006)));
        assert_eq!(split_title_year("Brazil (a.k.a)"), ("Brazil (a.k.a)".into(), None));
    }

    #[test]
    fn invalid_utf8_is_located() {
        assert_eq!(first_invalid_utf8_line(b"ok\nok\nbad \xff\n"), Some(3));
        assert_eq!(first_invalid_utf8_line("é\n".as_bytes()), None);
        assert_eq!(decode_latin1(b"Am\xe9lie"), "Amélie");
    }

    #[test]
    fn genre_table_sorts_and_remaps() {
        let mut table = GenreTable::default();
        let mut movies = vec![movie(table.bits("War|Action").unwrap()), movie(table.bits(NO_GENRES).unwrap())];
        assert_eq!(movies[0].genres, 0b11);
        assert_eq!(movies[1].genres, 0);
        movies[0].genres = table.bits("War").unwrap();
        let names = table.finish(&mut movies);
        assert_eq!(names, ["Action", "War"]);
        assert_eq!(movies[0].genres, 0b10);
    }

    fn movie(genres: u32) -> Movie {
        Movie { id: 1, title: String::new(), year: None, genres, imdb_id: None, tmdb_id: None, tags: vec![] }
    }
}
