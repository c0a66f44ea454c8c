//! Reading a rating export from another service, recognised by its header
//! (never by its file name): a Letterboxd `ratings.csv` or `diary.csv`
//! (alone or in the export's .zip), or an IMDb "Your ratings" CSV. Each
//! row becomes an [`ExportRow`] with its rating on a 0.5–5 scale; a
//! malformed row is reported with its line number and left out whole.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::input::{self, Refused};
use crate::text::{clean, excerpt};

/// The most a ratings export (the file, or the CSV inflated from its zip)
/// may hold. A Letterboxd or IMDb export is a few hundred bytes per film —
/// 10,000 films is about 1 MB — so 64 MiB is far beyond any real history,
/// and it bounds the memory a hostile file (a zip bomb) can take.
pub const EXPORT_CAP: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    LetterboxdRatings,
    LetterboxdDiary,
    Imdb,
    /// Letterboxd's `watchlist.csv` (films, no ratings).
    LetterboxdWatchlist,
    /// The CSV Letterboxd imports (`Title,Year,imdbID,tmdbID`): what
    /// `cinema watchlist export` writes.
    LetterboxdImport,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::LetterboxdRatings => "Letterboxd ratings.csv",
            Service::LetterboxdDiary => "Letterboxd diary.csv",
            Service::Imdb => "IMDb ratings export",
            Service::LetterboxdWatchlist => "Letterboxd watchlist.csv",
            Service::LetterboxdImport => "Letterboxd import CSV",
        }
    }
}

/// One rated film of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    /// 1-based line of the file (the header is line 1).
    pub line: usize,
    pub title: String,
    pub year: Option<u16>,
    /// IMDb's `tt` number, where the export has one.
    pub imdb: Option<u32>,
    /// On a 0.5–5 scale in half stars (IMDb's 1–10 halved).
    pub rating: f32,
}

#[derive(Debug, Clone, Default)]
pub struct Export {
    pub service: Option<Service>,
    pub rows: Vec<ExportRow>,
    /// `(line, why)` of rows left out as malformed.
    pub malformed: Vec<(usize, String)>,
    /// TV series and episodes (IMDb), left out and counted.
    pub tv: usize,
    /// Rows with no rating (a diary entry logged without stars).
    pub unrated: usize,
    /// Diary rows that an later entry of the same film replaced.
    pub rewatched: usize,
}

const LETTERBOXD_RATINGS: [&str; 5] = ["Date", "Name", "Year", "Letterboxd URI", "Rating"];
const LETTERBOXD_DIARY: [&str; 4] = ["Name", "Year", "Rating", "Watched Date"];
const IMDB: [&str; 5] = ["Const", "Your Rating", "Title", "Title Type", "Year"];

/// Reads `path`: a CSV, or a zip holding Letterboxd's `ratings.csv` (else its `diary.csv`).
/// Anything but a regular file is refused unopened, anything over [`EXPORT_CAP`] unread.
pub fn read(path: &Path) -> Result<Export> {
    read_csv(path, &["ratings.csv", "diary.csv"], parse)
}

/// Reads `path` with `parse`: a CSV, or a zip holding the first of
/// `wanted` it has (a Letterboxd export), within [`EXPORT_CAP`].
pub fn read_csv(path: &Path, wanted: &[&str], parse: fn(&[u8]) -> Result<Export>) -> Result<Export> {
    let too_large = |what: String| {
        anyhow::anyhow!(
            "{what} is larger than the {} a ratings export may be; nothing was imported",
            input::size(EXPORT_CAP)
        )
    };
    let bytes = match input::read_file(path, EXPORT_CAP) {
        Ok(bytes) => bytes,
        Err(Refused::NotRegular(kind)) => bail!(
            "{} is {kind}, not a regular file; a ratings export is a .zip or .csv file; nothing was read from it",
            path.display()
        ),
        Err(Refused::TooLarge) => return Err(too_large(path.display().to_string())),
        Err(Refused::Io(e)) => return Err(e).with_context(|| format!("could not read {}", path.display())),
    };
    // A zip starts with a local file header, or (empty) its end record.
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
            .with_context(|| format!("{} is not a readable zip", path.display()))?;
        for &wanted in wanted {
            let name =
                archive.file_names().flatten().find(|n| n.rsplit('/').next() == Some(wanted)).map(|n| n.into_owned());
            if let Some(name) = name {
                let shown = format!("{} in {}", clean(&name), path.display());
                let entry = archive.by_name(&name)?;
                let (declared, compressed) = (entry.size(), entry.compressed_size());
                let csv = input::read_entry(entry, declared, compressed, EXPORT_CAP, "a ratings export")
                    .map_err(|refused| anyhow::anyhow!("{shown} {refused}; nothing was imported"))?;
                return parse(&csv).with_context(|| shown);
            }
        }
        bail!("{} holds no {} (a Letterboxd export does)", path.display(), wanted.join(" or "));
    }
    parse(&bytes).with_context(|| format!("{}", path.display()))
}

/// Parses one export CSV (BOM, CRLF and quoted fields allowed).
pub fn parse(bytes: &[u8]) -> Result<Export> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let has = |names: &[&str]| names.iter().all(|n| header.iter().any(|h| h == n));
    let service = if has(&IMDB) {
        Service::Imdb
    } else if has(&LETTERBOXD_DIARY) {
        Service::LetterboxdDiary
    } else if has(&LETTERBOXD_RATINGS) {
        Service::LetterboxdRatings
    } else {
        bail!(
            "not a rating export this Cinema knows: its header is `{}`; expected Letterboxd's ratings.csv ({}), \
             its diary.csv ({}), or IMDb's ratings export ({})",
            excerpt(&header.join(",")),
            LETTERBOXD_RATINGS.join(","),
            LETTERBOXD_DIARY.join(","),
            IMDB.join(",")
        );
    };
    let column = |name: &str| header.iter().position(|h| h == name).expect("checked above");
    let mut export = Export { service: Some(service), ..Export::default() };
    let (title_at, rating_at) = match service {
        Service::Imdb => (column("Title"), column("Your Rating")),
        _ => (column("Name"), column("Rating")),
    };
    let year_at = column("Year");
    for (line, record) in records(&mut reader, &mut export.malformed) {
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        if record.len() < header.len().min(rating_at.max(title_at).max(year_at) + 1) {
            export.malformed.push((line, format!("{} fields, the header has {}", record.len(), header.len())));
            continue;
        }
        if service == Service::Imdb && is_tv(field(column("Title Type"))) {
            export.tv += 1;
            continue;
        }
        let rating_text = field(rating_at);
        if rating_text.is_empty() {
            export.unrated += 1;
            continue;
        }
        let rating = match (service, rating_text.parse::<f32>()) {
            (Service::Imdb, Ok(r)) if (1.0..=10.0).contains(&r) && r.fract() == 0.0 => r / 2.0,
            (Service::LetterboxdRatings | Service::LetterboxdDiary, Ok(r))
                if (0.5..=5.0).contains(&r) && (r * 2.0).fract() == 0.0 =>
            {
                r
            }
            _ => {
                let range =
                    if service == Service::Imdb { "a whole number from 1 to 10" } else { "0.5 to 5 in half stars" };
                export.malformed.push((line, format!("rating `{}` is not {range}", excerpt(rating_text))));
                continue;
            }
        };
        let imdb = (service == Service::Imdb).then(|| field(column("Const")));
        let (title, year, imdb) = match film(field(title_at), field(year_at), imdb) {
            Ok(film) => film,
            Err(why) => {
                export.malformed.push((line, why));
                continue;
            }
        };
        export.rows.push(ExportRow { line, title, year, imdb, rating });
    }
    if service == Service::LetterboxdDiary {
        // A rewatch repeats the film: its latest entry (the last in the file) wins.
        let mut seen = std::collections::HashSet::new();
        let before = export.rows.len();
        let mut kept: Vec<ExportRow> =
            export.rows.drain(..).rev().filter(|r| seen.insert((r.title.clone(), r.year))).collect();
        kept.reverse();
        export.rewatched = before - kept.len();
        export.rows = kept;
    }
    Ok(export)
}

/// The CSV's rows with their line numbers (the header is line 1); an
/// unreadable row is put in `malformed` and left out.
pub(super) fn records(
    reader: &mut csv::Reader<&[u8]>,
    malformed: &mut Vec<(usize, String)>,
) -> Vec<(usize, csv::StringRecord)> {
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        match record {
            Ok(r) => rows.push((n + 2, r)),
            Err(e) => malformed.push((n + 2, format!("unreadable CSV: {e}"))),
        }
    }
    rows
}

/// A row's title (cleaned: it is shown), year and IMDb id (`imdb`: the
/// field holding `tt` + digits, when the file has one), or why the row is
/// malformed.
pub(super) fn film(title: &str, year: &str, imdb: Option<&str>) -> Result<(String, Option<u16>, Option<u32>), String> {
    let title = clean(title).into_owned();
    if title.is_empty() {
        return Err("no title".into());
    }
    let year = match year {
        "" => None,
        y => Some(y.parse::<u16>().map_err(|_| format!("year `{}` is not a year", excerpt(y)))?),
    };
    let imdb = match imdb {
        None => None,
        Some(id) => Some(
            id.strip_prefix("tt")
                .and_then(|d| d.parse::<u32>().ok())
                .ok_or_else(|| format!("`{}` is not an IMDb id (tt + digits)", excerpt(id)))?,
        ),
    };
    Ok((title, year, imdb))
}

/// IMDb's title types for television, in old (`tvSeries`) and new (`TV Series`) spelling;
/// TV movies are movies.
fn is_tv(kind: &str) -> bool {
    let k = kind.to_ascii_lowercase().replace(' ', "");
    k.starts_with("tv") && k != "tvmovie" && k != "tvspecial"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterboxd_ratings_with_bom_crlf_and_quoted_commas() {
        let csv = "\u{feff}Date,Name,Year,Letterboxd URI,Rating\r\n\
                   2024-01-02,\"Crouching Tiger, Hidden Dragon\",2000,https://boxd.it/a,4.5\r\n\
                   2024-01-03,The Godfather,1972,https://boxd.it/b,5\r\n\
                   2024-01-04,Broken,1999,https://boxd.it/c,7\r\n";
        let e = parse(csv.as_bytes()).unwrap();
        assert_eq!(e.service, Some(Service::LetterboxdRatings));
        assert_eq!(e.rows.len(), 2);
        assert_eq!(
            e.rows[0],
            ExportRow {
                line: 2,
                title: "Crouching Tiger, Hidden Dragon".into(),
                year: Some(2000),
                imdb: None,
                rating: 4.5
            }
        );
        assert_eq!(e.malformed, vec![(4, "rating `7` is not 0.5 to 5 in half stars".to_owned())]);
    }

    #[test]
    fn a_diary_keeps_the_latest_rewatch_and_counts_unrated_entries() {
        let csv = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n\
                   2024-01-01,Alien,1979,u,3,,,2023-12-30\n\
                   2024-01-02,Heat,1995,u,,,,2024-01-01\n\
                   2024-02-01,Alien,1979,u,4.5,Yes,,2024-01-31\n";
        let e = parse(csv.as_bytes()).unwrap();
        assert_eq!(e.service, Some(Service::LetterboxdDiary));
        assert_eq!((e.rows.len(), e.rewatched, e.unrated), (1, 1, 1));
        assert_eq!((e.rows[0].line, e.rows[0].rating), (4, 4.5));
    }

    #[test]
    fn imdb_old_and_new_exports_halve_ratings_and_skip_tv() {
        let old = "Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n\
                   tt0111161,10,2020-01-01,The Shawshank Redemption,u,movie,9.3,142,1994,Drama,1,1994-10-14,Frank Darabont\n\
                   tt0903747,9,2020-01-01,Breaking Bad,u,tvSeries,9.5,49,2008,Crime,1,2008-01-20,\n\
                   tt0000000x,5,2020-01-01,Bad Id,u,movie,1,1,2000,,1,,\n";
        let e = parse(old.as_bytes()).unwrap();
        assert_eq!(e.service, Some(Service::Imdb));
        assert_eq!(
            e.rows,
            vec![ExportRow {
                line: 2,
                title: "The Shawshank Redemption".into(),
                year: Some(1994),
                imdb: Some(111_161),
                rating: 5.0
            }]
        );
        assert_eq!(e.tv, 1);
        assert_eq!(e.malformed.len(), 1, "{:?}", e.malformed);
        let new = "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n\
                   tt0114369,7,2021-03-04,Se7en,Se7en,u,Movie,8.6,127,1995,\"Crime, Drama\",1,1995-09-22,David Fincher\n\
                   tt0108778,8,2021-03-04,Friends,Friends,u,TV Series,8.9,22,1994,Comedy,1,,\n";
        let e = parse(new.as_bytes()).unwrap();
        assert_eq!((e.rows.len(), e.tv), (1, 1));
        assert_eq!((e.rows[0].imdb, e.rows[0].rating), (Some(114_369), 3.5));
    }

    /// Letterboxd's export is a zip of CSVs: its ratings.csv is read, wherever it sits.
    #[test]
    fn a_letterboxd_zip_is_read_by_its_ratings_csv() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letterboxd-someone-2024.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("watched.csv", stored).unwrap();
        zip.write_all(b"Date,Name,Year,Letterboxd URI\n2024-01-01,Heat,1995,u\n").unwrap();
        zip.start_file("export/ratings.csv", stored).unwrap();
        zip.write_all(b"Date,Name,Year,Letterboxd URI,Rating\n2024-01-01,Heat,1995,u,4\n").unwrap();
        zip.finish().unwrap();
        let e = read(&path).unwrap();
        assert_eq!((e.service, e.rows.len()), (Some(Service::LetterboxdRatings), 1));
        let empty = dir.path().join("empty.zip");
        zip::ZipWriter::new(std::fs::File::create(&empty).unwrap()).finish().unwrap();
        assert!(read(&empty).unwrap_err().to_string().contains("holds no ratings.csv or diary.csv"));
    }

    #[test]
    fn titles_lose_their_control_characters_and_bad_fields_are_quoted_short() {
        let long = "9".repeat(5_000_000);
        let csv = format!(
            "Date,Name,Year,Letterboxd URI,Rating\n\
             2024-01-01,\"Heat\u{1b}]0;owned\u{7}\u{1b}[2J\",1995,u,4\n\
             2024-01-02,Alien,1979,u,{long}\n"
        );
        let e = parse(csv.as_bytes()).unwrap();
        assert_eq!(e.rows[0].title, "Heat\u{FFFD}]0;owned\u{FFFD}\u{FFFD}[2J");
        let (line, why) = &e.malformed[0];
        assert_eq!(*line, 3);
        assert!(why.len() < 200 && why.contains('…'), "{why}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_oversized_files_are_refused_unread() {
        let e = read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("is a device, not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ratings.csv");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = read(&fifo).unwrap_err().to_string();
        assert!(e.contains("is a FIFO (named pipe), not a regular file"), "{e}");
        let big = dir.path().join("big.csv");
        std::fs::File::create(&big).unwrap().set_len(EXPORT_CAP + 1).unwrap();
        let e = read(&big).unwrap_err().to_string();
        assert!(e.contains("is larger than the 64 MiB a ratings export may be"), "{e}");
    }

    /// A zip bomb: well under a megabyte that inflates past the cap,
    /// refused without holding it.
    #[test]
    fn a_zip_whose_csv_inflates_past_the_cap_is_refused() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("ratings.csv", deflated).unwrap();
        zip.write_all(b"Date,Name,Year,Letterboxd URI,Rating\n").unwrap();
        let row = b"2024-01-01,Heat,1995,u,4\n".repeat(40_000);
        for _ in 0..(EXPORT_CAP as usize / row.len() + 1) {
            zip.write_all(&row).unwrap();
        }
        zip.finish().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < EXPORT_CAP / 50);
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("ratings.csv in") && e.contains("larger than the 64 MiB a ratings export may be"), "{e}");
    }

    #[test]
    fn an_unknown_header_names_what_was_expected() {
        let e = parse(b"userId,movieId,rating,timestamp\n1,2,3,4\n").unwrap_err().to_string();
        assert!(
            e.contains("userId,movieId,rating,timestamp") && e.contains("Your Rating") && e.contains("Letterboxd URI"),
            "{e}"
        );
    }
}
