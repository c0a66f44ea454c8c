//! Reads predefined train/test split files (ML-100K's `u1.base`…`u5.test`, or
//! `train.tsv`/`test.tsv`) against an already imported dataset.

use std::path::Path;

use super::dataset::{Dataset, Rating};
use super::import::parse::{self, lines};
use super::import::{ImportError, Reason};

/// `user item rating [timestamp]` lines, whitespace-separated, with raw ids;
/// returns them as dense-index ratings of `dataset`.
pub fn read_split_file(path: &Path, dataset: &Dataset) -> Result<Vec<Rating>, ImportError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::whole(&file, Reason::Io(e.to_string())))?;
    parse::require_content(&bytes).map_err(|r| ImportError::whole(&file, r))?;
    let mut ratings = Vec::with_capacity(parse::count_lines(&bytes));
    for (line, text) in lines(&bytes) {
        let rating = split_rating(text, dataset).map_err(|r| ImportError::at(&file, line, r))?;
        ratings.push(rating);
    }
    Ok(ratings)
}

fn split_rating(line: &[u8], dataset: &Dataset) -> Result<Rating, Reason> {
    let mut fields = [&line[..0]; 4];
    let mut found = 0;
    for field in line.split(u8::is_ascii_whitespace).filter(|f| !f.is_empty()) {
        if let Some(slot) = fields.get_mut(found) {
            *slot = field;
        }
        found += 1;
    }
    if !(3..=4).contains(&found) {
        return Err(Reason::FieldCountRange { min: 3, max: 4, found });
    }
    let in_dataset = || format!("dataset {}", dataset.name);
    let user = parse::parse_id(fields[0], "user id")?;
    let user = dataset.user_index(user).ok_or_else(|| Reason::UnknownUser { id: user, dataset: in_dataset() })?;
    let movie = parse::parse_id(fields[1], "movie id")?;
    let item = dataset.movie_index(movie).ok_or_else(|| Reason::UnknownMovie { id: movie, catalogue: in_dataset() })?;
    let value = parse::parse_rating(fields[2], &dataset.scale)?;
    let timestamp = if found == 4 { parse::parse_timestamp(fields[3])? } else { 0 };
    Ok(Rating { user, item, value, timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Format, Movie, RatingScale};

    fn dataset() -> Dataset {
        let movie =
            |id| Movie { id, title: String::new(), year: None, genres: 0, imdb_id: None, tmdb_id: None, tags: vec![] };
        Dataset {
            name: "tiny".into(),
            format: Format::MlCsv,
            scale: RatingScale::HALF_STARS,
            genres: vec![],
            movies: vec![movie(10), movie(20)],
            user_ids: vec![1, 5],
            ratings: vec![],
        }
    }

    fn read(content: &str) -> Result<Vec<Rating>, String> {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), content).unwrap();
        let prefix = format!("{}:", tmp.path().display());
        read_split_file(tmp.path(), &dataset()).map_err(|e| e.to_string().replacen(&prefix, "", 1))
    }

    #[test]
    fn reads_tsv_and_u_base_layouts() {
        let ratings = read("5\t20\t4.5\n1 10  3   881250949\n").unwrap();
        assert_eq!(ratings[0], Rating { user: 1, item: 1, value: 4.5, timestamp: 0 });
        assert_eq!(ratings[1], Rating { user: 0, item: 0, value: 3.0, timestamp: 881250949 });
    }

    #[test]
    fn unknown_ids_and_bad_lines_are_errors() {
        assert_eq!(read("1\t10\t4\n2\t10\t4\n").unwrap_err(), "2: user 2 is not in dataset tiny");
        assert_eq!(read("1\t11\t4\n").unwrap_err(), "1: movie 11 is not in dataset tiny");
        assert_eq!(read("1\t10\n").unwrap_err(), "1: expected 3 or 4 fields, found 2");
        assert_eq!(read("1\t10\t9\n").unwrap_err(), "1: rating 9 is outside the scale 0.5–5 in half stars");
    }
}
