//! The MovieLens CSV family (latest-small, 20M, 25M): `ratings.csv`,
//! `movies.csv`, and the optional `tags.csv` and `links.csv`. UTF-8, half stars.

use std::collections::HashMap;

use csv::ByteRecord;

use super::ImportNotes;
use super::build::{Catalogue, CatalogueBuilder, RatingsBuilder};
use super::error::{ImportError, Reason};
use super::parse::{self, GenreTable};
use super::source::Source;
use crate::dataset::{Dataset, Format, Movie, Rating, RatingScale};

const RATINGS_HEADER: &str = "userId,movieId,rating,timestamp";
const MOVIES_HEADER: &str = "movieId,title,genres";
const TAGS_HEADER: &str = "userId,movieId,tag,timestamp";
const LINKS_HEADER: &str = "movieId,imdbId,tmdbId";

pub(super) fn import(source: &mut Source) -> Result<(Dataset, ImportNotes), ImportError> {
    let movies = source.read("movies.csv")?;
    let (mut catalogue, genres) = read_movies(&movies.display, &movies.bytes)?;
    drop(movies);
    if let Some(links) = source.read_optional("links.csv")? {
        read_links(&links.display, &links.bytes, &mut catalogue)?;
    }
    if let Some(tags) = source.read_optional("tags.csv")? {
        read_tags(&tags.display, &tags.bytes, &mut catalogue)?;
    }
    let ratings = source.read("ratings.csv")?;
    let scale = RatingScale::HALF_STARS;
    let (user_ids, ratings, duplicates_dropped) = read_ratings(&ratings.display, &ratings.bytes, &catalogue, scale)?;
    let dataset = Dataset {
        name: source.dataset_name(),
        format: Format::MlCsv,
        scale,
        genres,
        movies: catalogue.movies,
        user_ids,
        ratings,
    };
    Ok((dataset, ImportNotes { duplicates_dropped }))
}

/// Calls `row` for every data row of a CSV file, once the encoding, the header
/// and the row's field count have been checked.
fn for_each_row(
    file: &str,
    bytes: &[u8],
    header: &'static str,
    mut row: impl FnMut(u64, &ByteRecord) -> Result<(), Reason>,
) -> Result<(), ImportError> {
    parse::require_content(bytes).map_err(|r| ImportError::whole(file, r))?;
    // Checked once for the whole file so the rows can be read as bytes.
    if let Some(line) = parse::first_invalid_utf8_line(bytes) {
        return Err(ImportError::at(file, line, Reason::InvalidUtf8));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut lines = LineTracker::new(bytes);
    let expected = header.split(',').count();
    let mut record = ByteRecord::new();
    let mut seen_header = false;
    while reader.read_byte_record(&mut record).map_err(|e| csv_error(file, &e, &mut lines))? {
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        let checked = if !seen_header {
            seen_header = true;
            check_header(&record, header)
        } else if record.len() != expected {
            Err(Reason::FieldCount { expected, found: record.len() })
        } else {
            row(line, &record)
        };
        checked.map_err(|r| ImportError::at(file, line, r))?;
    }
    Ok(())
}

/// Physical line numbers from byte offsets. The csv crate's own line count
/// runs one short after a CRLF line ending, and MovieLens ships CRLF files.
struct LineTracker<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineTracker<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineTracker { bytes, offset: 0, line: 1 }
    }

    /// The line of the record starting at `offset`; offsets must not decrease.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        // A record's position may point at the end of the previous line.
        while matches!(self.bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        let skipped = self.bytes.get(self.offset..offset).unwrap_or_default();
        self.line += skipped.iter().filter(|&&b| b == b'\n').count() as u64;
        self.offset = self.offset.max(offset);
        self.line
    }
}

fn check_header(record: &ByteRecord, header: &'static str) -> Result<(), Reason> {
    let strip_bom = |field: &[u8]| field.strip_prefix("\u{feff}".as_bytes()).unwrap_or(field).to_vec();
    let found = record.iter().map(strip_bom);
    let expected = header.split(',').map(|f| f.as_bytes().to_vec());
    if found.eq(expected) { Ok(()) } else { Err(Reason::BadHeader(header)) }
}

fn csv_error(file: &str, err: &csv::Error, lines: &mut LineTracker) -> ImportError {
    let reason = Reason::Malformed(err.to_string());
    match err.position() {
        Some(pos) => ImportError::at(file, lines.line_at(pos.byte()), reason),
        None => ImportError::whole(file, reason),
    }
}

/// `movieId,title,genres`: the catalogue and its genre names.
pub(crate) fn read_movies(file: &str, bytes: &[u8]) -> Result<(Catalogue, Vec<String>), ImportError> {
    let mut genres = GenreTable::default();
    let mut catalogue = CatalogueBuilder::new();
    for_each_row(file, bytes, MOVIES_HEADER, |line, row| {
        let id = parse::parse_id(&row[0], "movie id")?;
        let (title, year) = parse::split_title_year(parse::text(&row[1])?);
        let genres = genres.bits(parse::text(&row[2])?)?;
        catalogue.add(line, Movie { id, title, year, genres, imdb_id: None, tmdb_id: None, tags: Vec::new() })
    })?;
    let names = genres.finish(catalogue.movies_mut());
    Ok((catalogue.finish(file, "movies.csv")?, names))
}

/// `movieId,imdbId,tmdbId`; either external id may be empty.
pub(crate) fn read_links(file: &str, bytes: &[u8], catalogue: &mut Catalogue) -> Result<(), ImportError> {
    for_each_row(file, bytes, LINKS_HEADER, |_, row| {
        let movie = catalogue.movie_mut(parse::parse_id(&row[0], "movie id")?)?;
        movie.imdb_id = parse::parse_optional_id(&row[1], "imdb id")?;
        movie.tmdb_id = parse::parse_optional_id(&row[2], "tmdb id")?;
        Ok(())
    })
}

/// `userId,movieId,tag,timestamp`: each movie gets its distinct tags, most
/// frequent first (case-insensitive; the first spelling seen is kept).
pub(crate) fn read_tags(file: &str, bytes: &[u8], catalogue: &mut Catalogue) -> Result<(), ImportError> {
    let mut counts = TagCounts::default();
    for_each_row(file, bytes, TAGS_HEADER, |_, row| {
        // Who tagged is not kept, but a broken id still means a broken file.
        parse::parse_id(&row[0], "user id")?;
        let movie = catalogue.index_of(parse::parse_id(&row[1], "movie id")?)?;
        parse::parse_timestamp(&row[3])?;
        counts.add(movie, crate::text::clean(parse::text(&row[2])?).trim());
        Ok(())
    })?;
    counts.apply(&mut catalogue.movies);
    Ok(())
}

#[derive(Default)]
struct TagCounts {
    /// (dense movie index, spelling, count), in order of first appearance.
    entries: Vec<(u32, String, u32)>,
    by_key: HashMap<(u32, String), usize>,
}

impl TagCounts {
    fn add(&mut self, movie: u32, tag: &str) {
        if tag.is_empty() {
            return;
        }
        let key = (movie, tag.to_lowercase());
        match self.by_key.get(&key) {
            Some(&i) => self.entries[i].2 += 1,
            None => {
                self.by_key.insert(key, self.entries.len());
                self.entries.push((movie, tag.to_owned(), 1));
            }
        }
    }

    fn apply(self, movies: &mut [Movie]) {
        let mut entries = self.entries;
        // Stable: equally frequent tags keep their order of first appearance.
        entries.sort_by_key(|&(movie, _, count)| (movie, std::cmp::Reverse(count)));
        for (movie, tag, _) in entries {
            movies[movie as usize].tags.push(tag);
        }
    }
}

/// `userId,movieId,rating,timestamp`.
pub(crate) fn read_ratings(
    file: &str,
    bytes: &[u8],
    catalogue: &Catalogue,
    scale: RatingScale,
) -> Result<(Vec<u32>, Vec<Rating>, usize), ImportError> {
    let mut builder = RatingsBuilder::new(catalogue, scale, parse::count_lines(bytes));
    for_each_row(file, bytes, RATINGS_HEADER, |_, row| builder.push([&row[0], &row[1], &row[2], &row[3]]))?;
    builder.finish(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVIES: &str = "movieId,title,genres\n\
        1,Toy Story (1995),Adventure|Animation\n\
        2,\"American President, The (1995)\",Comedy|Drama|Romance\n\
        3,From Dusk Till Dawn 2 (1999) ,(no genres listed)\n\
        4,Babylon 5,Sci-Fi\n";

    fn catalogue() -> Catalogue {
        read_movies("movies.csv", MOVIES.as_bytes()).unwrap().0
    }

    #[test]
    fn movies_handle_quotes_years_and_missing_genres() {
        let (catalogue, genres) = read_movies("movies.csv", MOVIES.as_bytes()).unwrap();
        assert_eq!(genres, ["Adventure", "Animation", "Comedy", "Drama", "Romance", "Sci-Fi"]);
        let m = &catalogue.movies;
        assert_eq!((m[1].title.as_str(), m[1].year), ("American President, The", Some(1995)));
        assert_eq!((m[2].title.as_str(), m[2].year, m[2].genres), ("From Dusk Till Dawn 2", Some(1999), 0));
        assert_eq!((m[3].title.as_str(), m[3].year), ("Babylon 5", None));
    }

    #[test]
    fn ratings_are_half_stars() {
        let bytes = b"userId,movieId,rating,timestamp\n5,1,4.5,10\n2,4,0.5,11";
        let (users, ratings, _) = read_ratings("r.csv", bytes, &catalogue(), RatingScale::HALF_STARS).unwrap();
        assert_eq!(users, [2, 5]);
        assert_eq!((ratings[0].user, ratings[0].item, ratings[0].value), (1, 0, 4.5));
        assert_eq!((ratings[1].user, ratings[1].item, ratings[1].value), (0, 3, 0.5));
    }

    #[test]
    fn rating_errors_name_the_line() {
        let err =
            |bytes: &[u8]| read_ratings("r.csv", bytes, &catalogue(), RatingScale::HALF_STARS).unwrap_err().to_string();
        assert_eq!(err(b"userId,movieId,rating\n"), "r.csv:1: expected the header `userId,movieId,rating,timestamp`");
        assert_eq!(err(b"userId,movieId,rating,timestamp\n1,1,4,0\n1,1,4\n"), "r.csv:3: expected 4 fields, found 3");
        assert_eq!(err(b"userId,movieId,rating,timestamp\n1,1,\xff,0\n"), "r.csv:2: invalid UTF-8");
        assert_eq!(
            err(b"userId,movieId,rating,timestamp\n1,1,4.2,0\n"),
            "r.csv:2: rating 4.2 is outside the scale 0.5–5 in half stars"
        );
        assert_eq!(err(b"userId,movieId,rating,timestamp\n"), "r.csv: contains no ratings");
        assert_eq!(err(b""), "r.csv: file is empty");
    }

    #[test]
    fn lines_are_right_with_crlf_and_blank_lines() {
        let bytes = b"userId,movieId,rating,timestamp\r\n1,1,4,0\r\n\r\n1,1,x,0\r\n";
        let err = read_ratings("r.csv", bytes, &catalogue(), RatingScale::HALF_STARS).unwrap_err();
        assert_eq!(err.to_string(), "r.csv:4: rating `x` is not a number");
        let bytes = b"userId,movieId,rating,timestamp\r\n1,1,4,0\n1,1,4,0\r\n1,1,9,0";
        let err = read_ratings("r.csv", bytes, &catalogue(), RatingScale::HALF_STARS).unwrap_err();
        assert_eq!(err.line, Some(4));
    }

    #[test]
    fn tags_are_distinct_and_most_frequent_first() {
        let mut c = catalogue();
        let bytes = b"userId,movieId,tag,timestamp\n1,1,pixar,0\n2,1,Funny,0\n3,1,funny ,0\n4,2,politics,0\n";
        read_tags("tags.csv", bytes, &mut c).unwrap();
        assert_eq!(c.movies[0].tags, ["Funny", "pixar"]);
        assert_eq!(c.movies[1].tags, ["politics"]);
        assert!(c.movies[2].tags.is_empty());
    }

    #[test]
    fn links_may_lack_a_tmdb_id() {
        let mut c = catalogue();
        read_links("links.csv", b"movieId,imdbId,tmdbId\n1,0114709,862\n4,0105946,\n", &mut c).unwrap();
        assert_eq!((c.movies[0].imdb_id, c.movies[0].tmdb_id), (Some(114709), Some(862)));
        assert_eq!((c.movies[3].imdb_id, c.movies[3].tmdb_id), (Some(105946), None));
        let err = read_links("links.csv", b"movieId,imdbId,tmdbId\n9,1,2\n", &mut c).unwrap_err();
        assert_eq!(err.to_string(), "links.csv:2: movie 9 is not in movies.csv");
    }
}
