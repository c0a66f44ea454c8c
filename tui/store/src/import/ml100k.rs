//! MovieLens 100K: `u.data` (tab-separated ratings), `u.item` (`|`-separated,
//! latin-1, 19 genre flags) and the optional `u.genre` table.

use super::ImportNotes;
use super::build::{self, Catalogue, CatalogueBuilder};
use super::error::{ImportError, Reason};
use super::parse::{self, Fields, decode_latin1, lines, split_exact};
use super::source::Source;
use crate::dataset::{Dataset, Format, Movie, RatingScale};

/// The genre table used when `u.genre` is absent, in flag order.
pub(crate) const STANDARD_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// `id|title|release date|video release date|IMDb URL` come before the flags.
const LEADING_FIELDS: usize = 5;

pub(super) fn import(source: &mut Source) -> Result<(Dataset, ImportNotes), ImportError> {
    let genres = match source.read_optional("u.genre")? {
        Some(file) => read_genres(&file.display, &file.bytes)?,
        None => STANDARD_GENRES.map(String::from).to_vec(),
    };
    let item = source.read("u.item")?;
    let catalogue = read_items(&item.display, &item.bytes, genres.len())?;
    drop(item);
    let data = source.read("u.data")?;
    let scale = RatingScale::WHOLE_STARS;
    let (user_ids, ratings, duplicates_dropped) =
        build::read_delimited_ratings(&data.display, &data.bytes, b"\t", &catalogue, scale)?;
    let dataset = Dataset {
        name: source.dataset_name(),
        format: Format::Ml100k,
        scale,
        genres,
        movies: catalogue.movies,
        user_ids,
        ratings,
    };
    Ok((dataset, ImportNotes { duplicates_dropped }))
}

/// `name|index` lines; the index must match the line's position.
pub(crate) fn read_genres(file: &str, bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    parse::require_content(bytes).map_err(|r| ImportError::whole(file, r))?;
    let text = decode_latin1(bytes);
    let mut genres = Vec::new();
    for (line, raw) in lines(text.as_bytes()) {
        let name = genre(raw, genres.len() as u32).map_err(|r| ImportError::at(file, line, r))?;
        genres.push(name);
    }
    Ok(genres)
}

fn genre(line: &[u8], position: u32) -> Result<String, Reason> {
    let [name, index] = split_exact::<2>(line, b"|")?;
    let index = parse::parse_id(index, "genre index")?;
    if index != position {
        return Err(Reason::GenreOrder { expected: position, found: index });
    }
    let name = crate::text::clean(parse::text(name)?.trim()).into_owned();
    // Flags become bits of a u32.
    if position == 32 {
        return Err(Reason::TooManyGenres(crate::text::excerpt(&name)));
    }
    Ok(name)
}

/// The catalogue, sorted by id.
pub(crate) fn read_items(file: &str, bytes: &[u8], genre_count: usize) -> Result<Catalogue, ImportError> {
    parse::require_content(bytes).map_err(|r| ImportError::whole(file, r))?;
    let text = decode_latin1(bytes);
    let mut catalogue = CatalogueBuilder::new();
    let mut fields = Vec::with_capacity(LEADING_FIELDS + genre_count);
    for (line, raw) in lines(text.as_bytes()) {
        fields.clear();
        fields.extend(Fields::new(raw, b"|"));
        item(&fields, genre_count)
            .and_then(|movie| catalogue.add(line, movie))
            .map_err(|r| ImportError::at(file, line, r))?;
    }
    catalogue.finish(file, "u.item")
}

fn item(fields: &[&[u8]], genre_count: usize) -> Result<Movie, Reason> {
    let expected = LEADING_FIELDS + genre_count;
    if fields.len() != expected {
        return Err(Reason::FieldCount { expected, found: fields.len() });
    }
    let id = parse::parse_id(fields[0], "movie id")?;
    let (title, year) = parse::split_title_year(parse::text(fields[1])?);
    // A few titles carry a suffix after the year, e.g. `(1995) (V)`: the
    // release date (`01-Jan-1995`) still knows the year.
    let year = year.or_else(|| release_year(fields[2]));
    let mut genres = 0;
    for (g, flag) in fields[LEADING_FIELDS..].iter().enumerate() {
        match flag.trim_ascii() {
            b"1" => genres |= 1 << g,
            b"0" => {}
            other => return Err(Reason::BadGenreFlag(crate::text::excerpt_bytes(other))),
        }
    }
    Ok(Movie { id, title, year, genres, imdb_id: None, tmdb_id: None, tags: Vec::new() })
}

/// The year of a `dd-Mon-yyyy` release date.
fn release_year(date: &[u8]) -> Option<u16> {
    let year = date.trim_ascii().rsplit(|&b| b == b'-').next()?;
    let year = std::str::from_utf8(year).ok()?;
    (year.len() == 4).then(|| year.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &str = "|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0|0";

    #[test]
    fn items_decode_latin1_and_split_years() {
        let data = format!(
            "50|Star Wars (1977)|01-Jan-1977||http://x{FLAGS}\n\
             267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n\
             12|Usual Suspects, The (1995)|14-Aug-1995||u{FLAGS}\n\
             7|Land Before Time (1995) (V)|01-Jan-1995||u{FLAGS}\n"
        );
        let mut bytes = data.into_bytes();
        bytes.extend_from_slice(b"9|Am\xe9lie (2001)|01-Jan-2001||u");
        bytes.extend_from_slice(FLAGS.as_bytes());
        let catalogue = read_items("u.item", &bytes, 19).unwrap();
        let movies = &catalogue.movies;
        assert_eq!(movies.iter().map(|m| m.id).collect::<Vec<_>>(), [7, 9, 12, 50, 267]);
        assert_eq!((movies[3].title.as_str(), movies[3].year), ("Star Wars", Some(1977)));
        assert_eq!(movies[3].genres, 1 << 15);
        assert_eq!((movies[4].title.as_str(), movies[4].year, movies[4].genres), ("unknown", None, 1));
        assert_eq!(movies[2].title, "Usual Suspects, The");
        assert_eq!((movies[0].title.as_str(), movies[0].year), ("Land Before Time (1995) (V)", Some(1995)));
        assert_eq!(movies[1].title, "Amélie");
    }

    #[test]
    fn item_errors_name_the_line() {
        let bytes = format!("1|A (1990)|||u{FLAGS}\n2|B (1990)|||u|0\n");
        let err = read_items("u.item", bytes.as_bytes(), 19).unwrap_err();
        assert_eq!(err.to_string(), "u.item:2: expected 24 fields, found 6");
        let bytes = format!("1|A (1990)|||u{FLAGS}\n1|B (1990)|||u{FLAGS}\n");
        let err = read_items("u.item", bytes.as_bytes(), 19).unwrap_err();
        assert_eq!(err.to_string(), "u.item:2: movie 1 is listed twice (first on line 1)");
        let bytes = "x|A|||u|2".to_string();
        let err = read_items("u.item", bytes.as_bytes(), 1).unwrap_err();
        assert_eq!(err.to_string(), "u.item:1: movie id `x` is not a number");
    }

    #[test]
    fn genre_table_is_read_in_order() {
        assert_eq!(read_genres("u.genre", b"unknown|0\nAction|1\n\n").unwrap(), ["unknown", "Action"]);
        let err = read_genres("u.genre", b"unknown|0\nAction|2\n").unwrap_err();
        assert_eq!(err.to_string(), "u.genre:2: genre index 2 is out of order (expected 1)");
    }
}
