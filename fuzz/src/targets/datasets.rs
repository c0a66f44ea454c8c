//! Target `datasets`: the MovieLens importers. The first byte picks a layout
//! — 100K, 1M, the CSV family, or a `.zip` — and the rest holds its files
//! separated by 0x1E (a part that is one NUL byte, or no part at all, is a
//! missing file). Folder layouts go
//! through `import_files` (the same detection and parsers as a folder on
//! disk); a zip is written to a temporary file and imported from there. An
//! import must fail with an error, or yield a dataset the app can index
//! without checking: sorted unique ids, every rating on a known user and
//! movie and on the scale, genre bits within the genre table.

use std::io::Write;
use std::path::{Path, PathBuf};

use cinema_store::import::{import, import_files};
use cinema_store::{Dataset, ImportError};
use tempfile::TempDir;

use crate::Target;

const SEPARATOR: u8 = 0x1e;
/// A part saying "this file is not there" (an empty part is an empty file).
const ABSENT: &[u8] = &[0];

/// File names in the order the parts of an input fill them.
const LAYOUTS: [&[&str]; 3] = [
    &["u.data", "u.item", "u.genre"],
    &["ratings.dat", "movies.dat"],
    &["ratings.csv", "movies.csv", "links.csv", "tags.csv"],
];
const ZIP: u8 = LAYOUTS.len() as u8;

pub struct Datasets {
    dir: TempDir,
}

impl Datasets {
    pub fn new() -> Datasets {
        Datasets { dir: TempDir::new().expect("a temporary folder for zip inputs") }
    }
}

impl Default for Datasets {
    fn default() -> Self {
        Datasets::new()
    }
}

const ITEMS: &str = "1|Toy Story (1995)|01-Jan-1995||http://example.invalid/1|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n\
    2|Am\u{e9}lie (2001)|01-Jan-2001||http://example.invalid/2|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0|0|0|0\n\
    7|Land Before Time (1995) (V)|01-Jan-1995||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n";
const GENRES: &str = "unknown|0\nAction|1\nAdventure|2\nAnimation|3\nChildren's|4\nComedy|5\nCrime|6\n\
    Documentary|7\nDrama|8\nFantasy|9\nFilm-Noir|10\nHorror|11\nMusical|12\nMystery|13\nRomance|14\n\
    Sci-Fi|15\nThriller|16\nWar|17\nWestern|18\n\n";
const CSV_FILES: [&str; 4] = [
    "userId,movieId,rating,timestamp\r\n5,1,4.5,10\r\n2,3,0.5,11\r\n2,1,3,12\r\n",
    "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n\
     2,\"American President, The (1995)\",Comedy|Drama\n3,Babylon 5,(no genres listed)\n",
    "movieId,imdbId,tmdbId\n1,0114709,862\n3,0105946,\n",
    "userId,movieId,tag,timestamp\n1,1,pixar,0\n2,1,Funny,0\n3,1,funny ,0\n",
];

/// An input: the layout byte, then the parts.
fn input(layout: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![layout];
    out.extend(parts.join(&SEPARATOR));
    out
}

/// Stored (uncompressed) so that mutations reach the parsers inside.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(*name, options).expect("a zip entry starts");
        zip.write_all(bytes).expect("a zip entry is written");
    }
    zip.finish().expect("the zip is finished").into_inner()
}

impl Target for Datasets {
    fn name(&self) -> &'static str {
        "datasets"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        // u.item is latin-1: é is one byte.
        let items: Vec<u8> = ITEMS.chars().map(|c| c as u32 as u8).collect();
        let data = b"1\t1\t5\t881250949\n2\t2\t3\t891717742\n1\t7\t1\t878887116\n3\t1\t4\t880606923\n";
        let movies_dat = b"2::Jumanji (1995)::Adventure|Children's|Fantasy\n1::Am\xe9lie (2001)::Comedy|Romance\r\n";
        let ratings_dat = b"7::2::5::978300760\n3::1::1::978302109\n7::1::4::978301968\n";
        let csv: Vec<&[u8]> = CSV_FILES.iter().map(|f| f.as_bytes()).collect();
        let zipped: Vec<(&str, &[u8])> = LAYOUTS[2].iter().copied().zip(csv.iter().copied()).collect();
        let nested: Vec<(String, &[u8])> = zipped.iter().map(|(n, b)| (format!("tiny/{n}"), *b)).collect();
        let nested: Vec<(&str, &[u8])> = nested.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        vec![
            input(0, &[data, &items]),
            input(0, &[data, &items, GENRES.as_bytes()]),
            input(1, &[ratings_dat, movies_dat]),
            input(2, &csv[..2]),
            input(2, &csv),
            input(ZIP, &[&zip_of(&zipped)]),
            input(ZIP, &[&zip_of(&nested)]),
        ]
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        let tokens: [&[u8]; 20] = [
            &[SEPARATOR],
            b"\n",
            b"\r\n",
            b"\t",
            b"|",
            b"::",
            b",",
            b"\"",
            b"(1995)",
            b"(2006\xe2\x80\x932007)",
            b"(no genres listed)",
            b"4.5",
            b"-1",
            b"NaN",
            b"1e39",
            b"\xef\xbb\xbf",
            b"\xff",
            b"userId,movieId,rating,timestamp\n",
            b"movieId,title,genres\n",
            b"PK\x03\x04",
        ];
        tokens.iter().map(|t| t.to_vec()).collect()
    }

    fn max_len(&self) -> usize {
        8192
    }

    fn run(&mut self, input: &[u8]) -> Vec<String> {
        let Some((&layout, rest)) = input.split_first() else { return Vec::new() };
        let layout = layout % (ZIP + 1);
        let result = if layout == ZIP {
            let path = self.dir.path().join("fuzz.zip");
            std::fs::write(&path, rest).expect("the temporary zip is written");
            import(&path)
        } else {
            let names = LAYOUTS[usize::from(layout)];
            let parts = rest.split(|&b| b == SEPARATOR);
            let files: Vec<(&str, &[u8])> = names.iter().copied().zip(parts).filter(|(_, p)| *p != ABSENT).collect();
            import_files(Path::new("fuzz"), &files)
        };
        vec![match result {
            Ok(dataset) => {
                check(&dataset);
                let extras = (
                    dataset.movies.iter().any(|m| !m.tags.is_empty()),
                    dataset.movies.iter().any(|m| m.imdb_id.is_some()),
                );
                format!("layout {layout}: {:?}, tags and links {extras:?}", dataset.format)
            }
            Err(e) => format!("layout {layout}: {}: {} (line {})", file_name(&e), reason_kind(&e), e.line.is_some()),
        }]
    }
}

/// What the rest of the app indexes without checking.
fn check(d: &Dataset) {
    assert!(!d.movies.is_empty() && !d.ratings.is_empty(), "an empty dataset was accepted");
    assert!(d.movies.windows(2).all(|w| w[0].id < w[1].id), "movie ids are not sorted and unique");
    assert!(d.user_ids.windows(2).all(|w| w[0] < w[1]), "user ids are not sorted and unique");
    assert!(d.genres.len() <= 32, "{} genres do not fit the bit set", d.genres.len());
    let known_genres = if d.genres.len() == 32 { u32::MAX } else { (1u32 << d.genres.len()) - 1 };
    for m in &d.movies {
        assert_eq!(m.genres & !known_genres, 0, "movie {} has a genre bit beyond the table", m.id);
    }
    for r in &d.ratings {
        assert!((r.user as usize) < d.user_ids.len() && (r.item as usize) < d.movies.len(), "{r:?} points nowhere");
        assert!(d.scale.contains(r.value), "{r:?} is off the scale");
    }
}

/// The file an error names, without the folder or archive.
fn file_name(e: &ImportError) -> String {
    let inner = e.file.rsplit(':').next().unwrap_or_default();
    PathBuf::from(inner).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The `Reason` variant's name.
fn reason_kind(e: &ImportError) -> String {
    format!("{:?}", e.reason).split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_imports() {
        let mut target = Datasets::new();
        for seed in target.seeds() {
            let features = target.run(&seed);
            assert!(features[0].contains("Ml") && !features[0].contains("line"), "{features:?}");
        }
        let missing = target.run(&input(1, &[b"7::2::5::1\n"]));
        assert_eq!(missing, ["layout 1: fuzz: MissingCatalogue (line false)"]);
        let absent = target.run(&input(2, &[ABSENT, CSV_FILES[1].as_bytes()]));
        assert_eq!(absent, ["layout 2: fuzz: NoRatingsFile (line false)"]);
        let cut = target.run(&input(1, &[b"7::2::5::1\n", b"2::B (19"]));
        assert_eq!(cut, ["layout 1: movies.dat: FieldCount (line true)"]);
    }
}
