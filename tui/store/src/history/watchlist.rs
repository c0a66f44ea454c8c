//! Your watchlist as a file another service reads, and back: written as the
//! CSV Letterboxd imports (`Title,Year,imdbID,tmdbID`), read from that or
//! from Letterboxd's own `watchlist.csv` (`Date,Name,Year,Letterboxd URI`,
//! alone or in the export's .zip). The films are matched to the dataset
//! as a ratings export's are ([`super::matching`]).

use std::path::Path;

use anyhow::{Result, bail};

use super::export::{self, Export, ExportRow, Service, film, records};
use super::titles::display;
use crate::dataset::Movie;
use crate::text::excerpt;

const LETTERBOXD_WATCHLIST: [&str; 4] = ["Date", "Name", "Year", "Letterboxd URI"];
const LETTERBOXD_IMPORT: [&str; 2] = ["Title", "Year"];

/// The header `write` puts first: the columns of Letterboxd's importer.
const WRITTEN: [&str; 4] = ["Title", "Year", "imdbID", "tmdbID"];

/// The movies in order as the CSV Letterboxd imports: the title as people
/// write it, the year, and IMDb's and TMDB's ids where the dataset has
/// them (Letterboxd matches by id first).
pub fn write(movies: &[&Movie]) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(WRITTEN)?;
    for m in movies {
        let year = m.year.map(|y| y.to_string()).unwrap_or_default();
        let imdb = m.imdb_id.map(|id| format!("tt{id:07}")).unwrap_or_default();
        let tmdb = m.tmdb_id.map(|id| id.to_string()).unwrap_or_default();
        out.write_record([display(&m.title), year, imdb, tmdb])?;
    }
    Ok(out.into_inner()?)
}

/// Reads a watchlist file (see the module doc), capped as a ratings export is.
pub fn read(path: &Path) -> Result<Export> {
    export::read_csv(path, &["watchlist.csv"], parse)
}

/// Parses a watchlist CSV; each film is a row (its `rating` unused, 0) in
/// the file's order, a malformed one reported by line and left out.
pub fn parse(bytes: &[u8]) -> Result<Export> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let has = |names: &[&str]| names.iter().all(|n| header.iter().any(|h| h == n));
    let (service, title) = if has(&LETTERBOXD_WATCHLIST) {
        (Service::LetterboxdWatchlist, "Name")
    } else if has(&LETTERBOXD_IMPORT) {
        (Service::LetterboxdImport, "Title")
    } else {
        bail!(
            "not a watchlist this Cinema knows: its header is `{}`; expected Letterboxd's watchlist.csv ({}) \
             or the CSV Letterboxd imports ({})",
            excerpt(&header.join(",")),
            LETTERBOXD_WATCHLIST.join(","),
            WRITTEN.join(",")
        );
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (title_at, year_at, imdb_at) =
        (column(title).expect("checked"), column("Year").expect("checked"), column("imdbID"));
    let mut export = Export { service: Some(service), ..Export::default() };
    for (line, record) in records(&mut reader, &mut export.malformed) {
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        let imdb = imdb_at.map(field).filter(|id| !id.is_empty());
        let (title, year, imdb) = match film(field(title_at), field(year_at), imdb) {
            Ok(film) => film,
            Err(why) => {
                export.malformed.push((line, why));
                continue;
            }
        };
        export.rows.push(ExportRow { line, title, year, imdb, rating: 0.0 });
    }
    Ok(export)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(title: &str, year: Option<u16>, imdb: Option<u32>) -> Movie {
        Movie { id: 1, title: title.into(), year, genres: 0, imdb_id: imdb, tmdb_id: imdb.map(|i| i + 1), tags: vec![] }
    }

    #[test]
    fn what_is_written_reads_back_in_order_with_its_ids() {
        let (a, b) =
            (movie("Godfather, The", Some(1972), Some(68646)), movie("Crouching Tiger, Hidden Dragon", None, None));
        let bytes = write(&[&a, &b]).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("Title,Year,imdbID,tmdbID\nThe Godfather,1972,tt0068646,68647\n"), "{text}");
        let back = parse(&bytes).unwrap();
        assert_eq!(back.service, Some(Service::LetterboxdImport));
        let rows: Vec<_> = back.rows.iter().map(|r| (r.title.as_str(), r.year, r.imdb)).collect();
        assert_eq!(rows, [("The Godfather", Some(1972), Some(68646)), ("Crouching Tiger, Hidden Dragon", None, None)]);
    }

    #[test]
    fn letterboxds_own_watchlist_reads_and_a_bad_row_is_named() {
        let csv = "\u{feff}Date,Name,Year,Letterboxd URI\r\n\
                   2024-01-02,Alien,1979,https://boxd.it/a\r\n\
                   2024-01-03,Heat,nineteen,https://boxd.it/b\r\n";
        let e = parse(csv.as_bytes()).unwrap();
        assert_eq!(e.service, Some(Service::LetterboxdWatchlist));
        assert_eq!(e.rows.len(), 1);
        assert_eq!(e.malformed, vec![(3, "year `nineteen` is not a year".to_owned())]);
        assert!(parse(b"Const,Your Rating\n").unwrap_err().to_string().contains("not a watchlist"));
    }
}
