//! MovieLens 1M: `ratings.dat` and `movies.dat`, `::`-separated, latin-1.

use super::ImportNotes;
use super::build::{self, Catalogue, CatalogueBuilder};
use super::error::{ImportError, Reason};
use super::parse::{self, GenreTable, decode_latin1, lines, split_exact};
use super::source::Source;
use crate::dataset::{Dataset, Format, Movie, RatingScale};

const SEPARATOR: &[u8] = b"::";

pub(super) fn import(source: &mut Source) -> Result<(Dataset, ImportNotes), ImportError> {
    let movies = source.read("movies.dat")?;
    let (catalogue, genres) = read_movies(&movies.display, &movies.bytes)?;
    drop(movies);
    let ratings = source.read("ratings.dat")?;
    let scale = RatingScale::WHOLE_STARS;
    let (user_ids, ratings, duplicates_dropped) =
        build::read_delimited_ratings(&ratings.display, &ratings.bytes, SEPARATOR, &catalogue, scale)?;
    let dataset = Dataset {
        name: source.dataset_name(),
        format: Format::Ml1m,
        scale,
        genres,
        movies: catalogue.movies,
        user_ids,
        ratings,
    };
    Ok((dataset, ImportNotes { duplicates_dropped }))
}

/// `MovieID::Title (Year)::Genre1|Genre2` lines: the catalogue and its genre names.
pub(crate) fn read_movies(file: &str, bytes: &[u8]) -> Result<(Catalogue, Vec<String>), ImportError> {
    parse::require_content(bytes).map_err(|r| ImportError::whole(file, r))?;
    let text = decode_latin1(bytes);
    let mut genres = GenreTable::default();
    let mut catalogue = CatalogueBuilder::new();
    for (line, raw) in lines(text.as_bytes()) {
        movie(raw, &mut genres)
            .and_then(|movie| catalogue.add(line, movie))
            .map_err(|r| ImportError::at(file, line, r))?;
    }
    let names = genres.finish(catalogue.movies_mut());
    Ok((catalogue.finish(file, "movies.dat")?, names))
}

fn movie(line: &[u8], genres: &mut GenreTable) -> Result<Movie, Reason> {
    let [id, title, genre_list] = split_exact::<3>(line, SEPARATOR)?;
    let id = parse::parse_id(id, "movie id")?;
    let (title, year) = parse::split_title_year(parse::text(title)?);
    let genres = genres.bits(parse::text(genre_list)?)?;
    Ok(Movie { id, title, year, genres, imdb_id: None, tmdb_id: None, tags: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movies_decode_latin1_and_collect_genres() {
        let bytes = b"2::Jumanji (1995)::Adventure|Children's|Fantasy\n1::Am\xe9lie (2001)::Comedy|Romance\r\n";
        let (catalogue, genres) = read_movies("movies.dat", bytes).unwrap();
        assert_eq!(genres, ["Adventure", "Children's", "Comedy", "Fantasy", "Romance"]);
        let amelie = &catalogue.movies[0];
        assert_eq!((amelie.id, amelie.title.as_str(), amelie.year), (1, "Amélie", Some(2001)));
        assert_eq!(amelie.genres, 0b10100);
        assert_eq!(catalogue.movies[1].genres, 0b01011);
    }

    #[test]
    fn a_cut_line_is_a_field_count_error() {
        let err = read_movies("movies.dat", b"1::A (1990)::Drama\n2::B (19").unwrap_err();
        assert_eq!(err.to_string(), "movies.dat:2: expected 3 fields, found 2");
    }
}
