//! Imports the real MovieLens files from the shared data folder: counts and
//! known movies, the 1M layout, exact error messages for damaged copies, the
//! binary cache, and the predefined train/test splits.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cinema_store::dataset::{Dataset, Format, RatingScale};
use cinema_store::{CacheStatus, Home, import, load_or_import, read_split_file};
use tempfile::TempDir;

use crate::common::shared;

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn dataset_dir(name: &str) -> PathBuf {
    shared().join("datasets").join(name)
}

const ML100K_FILES: [&str; 3] = ["u.data", "u.item", "u.genre"];
const SMALL_FILES: [&str; 4] = ["ratings.csv", "movies.csv", "tags.csv", "links.csv"];

/// A writable copy of some of a dataset's files in `<tmp>/<name>/`.
/// (`fs::copy` would keep the originals' read-only permissions.)
fn copy_dataset(tmp: &TempDir, name: &str, files: &[&str]) -> PathBuf {
    let dir = tmp.path().join(name);
    fs::create_dir_all(&dir).unwrap();
    for file in files {
        fs::write(dir.join(file), fs::read(dataset_dir(name).join(file)).unwrap()).unwrap();
    }
    dir
}

/// Replaces 1-based line `number` of `path` with `line`.
fn replace_line(path: &Path, number: usize, line: &[u8]) {
    let bytes = fs::read(path).unwrap();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    lines[number - 1] = line;
    fs::write(path, lines.join(&b'\n')).unwrap();
}

fn import_error(path: &Path) -> String {
    import(path).expect_err("the import should fail").to_string()
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

// --- The real datasets -------------------------------------------------------

#[test]
fn ml_100k_imports_with_known_counts_and_movies() {
    let ds = import(&dataset_dir("ml-100k")).unwrap();
    assert_eq!((ds.name.as_str(), ds.format), ("ml-100k", Format::Ml100k));
    assert_eq!(ds.scale, RatingScale::WHOLE_STARS);
    assert_eq!((ds.user_ids.len(), ds.movies.len(), ds.ratings.len()), (943, 1682, 100_000));
    assert_eq!(ds.rated_movie_count(), 1682);
    assert_eq!(ds.genres.len(), 19);

    let star_wars = &ds.movies[ds.movie_index(50).unwrap() as usize];
    assert_eq!((star_wars.title.as_str(), star_wars.year), ("Star Wars", Some(1977)));
    assert!(ds.genre_names(star_wars).contains(&"Sci-Fi"));

    let suspects = &ds.movies[ds.movie_index(12).unwrap() as usize];
    assert_eq!(suspects.title, "Usual Suspects, The");
    let miserables = &ds.movies[ds.movie_index(543).unwrap() as usize];
    assert_eq!((miserables.title.as_str(), miserables.year), ("Misérables, Les", Some(1995)));
    let unknown = &ds.movies[ds.movie_index(267).unwrap() as usize];
    assert_eq!((unknown.title.as_str(), unknown.year), ("unknown", None));

    assert!(ds.ratings.iter().all(|r| ds.scale.contains(r.value)));
    assert!(ds.user_ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn ml_latest_small_folder_imports_with_known_counts() {
    let ds = import(&dataset_dir("ml-latest-small")).unwrap();
    assert_eq!((ds.name.as_str(), ds.format), ("ml-latest-small", Format::MlCsv));
    assert_eq!(ds.scale, RatingScale::HALF_STARS);
    assert_eq!((ds.user_ids.len(), ds.movies.len(), ds.ratings.len()), (610, 9742, 100_836));
    assert_eq!(ds.rated_movie_count(), 9724);
    assert!(ds.ratings.iter().any(|r| r.value == 0.5));
    assert!(ds.ratings.iter().all(|r| ds.scale.contains(r.value)));

    assert!(ds.movies.iter().any(|m| !m.tags.is_empty()));
    assert!(ds.movies.iter().all(|m| m.imdb_id.is_some()));
    let toy_story = &ds.movies[ds.movie_index(1).unwrap() as usize];
    assert_eq!((toy_story.title.as_str(), toy_story.year), ("Toy Story", Some(1995)));
    assert_eq!((toy_story.imdb_id, toy_story.tmdb_id), (Some(114_709), Some(862)));
    let babylon = ds.movies.iter().find(|m| m.title == "Babylon 5").unwrap();
    assert_eq!(babylon.year, None);
}

#[test]
fn ml_latest_small_zip_equals_the_folder() {
    let folder = import(&dataset_dir("ml-latest-small")).unwrap();
    let mut zipped = import(&shared().join("datasets/archives/ml-latest-small.zip")).unwrap();
    assert_eq!(zipped.name, "ml-latest-small");
    zipped.name.clone_from(&folder.name);
    assert_eq!(zipped, folder);
}

/// ML-100K rewritten in the 1M layout (`::`, latin-1), with an accented title.
fn write_1m_copy(dir: &Path) {
    let ml100k = dataset_dir("ml-100k");
    let mut ratings = Vec::new();
    for line in fs::read_to_string(ml100k.join("u.data")).unwrap().lines() {
        writeln!(ratings, "{}", line.split('\t').collect::<Vec<_>>().join("::")).unwrap();
    }
    let genres = [
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
    let mut movies = Vec::new();
    for line in fs::read(ml100k.join("u.item")).unwrap().split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let fields: Vec<&[u8]> = line.split(|&b| b == b'|').collect();
        let title: &[u8] = if fields[0] == b"1" { b"Am\xe9lie (2001)" } else { fields[1] };
        let names: Vec<&str> = fields[5..].iter().zip(genres).filter(|(f, _)| **f == b"1").map(|(_, g)| g).collect();
        movies.extend_from_slice(fields[0]);
        movies.extend_from_slice(b"::");
        movies.extend_from_slice(title);
        writeln!(movies, "::{}", names.join("|")).unwrap();
    }
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("ratings.dat"), ratings).unwrap();
    fs::write(dir.join("movies.dat"), movies).unwrap();
}

#[test]
fn ml_1m_layout_decodes_latin1_titles() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("ml-1m-like");
    write_1m_copy(&dir);
    let ds = import(&dir).unwrap();
    assert_eq!((ds.name.as_str(), ds.format), ("ml-1m-like", Format::Ml1m));
    assert_eq!((ds.user_ids.len(), ds.movies.len(), ds.ratings.len()), (943, 1682, 100_000));
    assert_eq!((ds.movies[0].title.as_str(), ds.movies[0].year), ("Amélie", Some(2001)));

    let original = import(&dataset_dir("ml-100k")).unwrap();
    let miserables = &ds.movies[ds.movie_index(543).unwrap() as usize];
    assert_eq!(miserables.title, "Misérables, Les");
    for (a, b) in ds.movies.iter().zip(&original.movies).skip(1) {
        assert_eq!(a.title, b.title);
        let (mut mine, mut theirs) = (ds.genre_names(a), original.genre_names(b));
        mine.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(mine, theirs, "movie {}", a.id);
    }
    assert_eq!(ds.ratings, original.ratings);
}

// --- Damaged copies: one defect each, exact messages -------------------------

#[test]
fn wrong_field_count_names_file_and_line() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    replace_line(&dir.join("u.data"), 3, b"22\t377\t1");
    let file = shown(&dir.join("u.data"));
    assert_eq!(import_error(&dir), format!("{file}:3: expected 4 fields, found 3"));
}

#[test]
fn non_numeric_rating_and_id() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-latest-small", &SMALL_FILES);
    let ratings = dir.join("ratings.csv");
    replace_line(&ratings, 2, b"1,1,abc,964982703");
    assert_eq!(import_error(&dir), format!("{}:2: rating `abc` is not a number", shown(&ratings)));
    replace_line(&ratings, 2, b"x1,1,4.0,964982703");
    assert_eq!(import_error(&dir), format!("{}:2: user id `x1` is not a number", shown(&ratings)));
}

#[test]
fn rating_outside_the_scale() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    replace_line(&dir.join("u.data"), 5, b"166\t346\t7\t886397596");
    let file = shown(&dir.join("u.data"));
    assert_eq!(import_error(&dir), format!("{file}:5: rating 7 is outside the scale 1–5"));

    let dir = copy_dataset(&tmp, "ml-latest-small", &SMALL_FILES);
    let ratings = dir.join("ratings.csv");
    replace_line(&ratings, 10, b"1,1,5.5,964982703");
    let expected = format!("{}:10: rating 5.5 is outside the scale 0.5–5 in half stars", shown(&ratings));
    assert_eq!(import_error(&dir), expected);
}

#[test]
fn rating_for_a_movie_missing_from_the_catalogue() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    replace_line(&dir.join("u.data"), 10, b"62\t99999\t2\t879372434");
    let file = shown(&dir.join("u.data"));
    assert_eq!(import_error(&dir), format!("{file}:10: movie 99999 is not in u.item"));
}

#[test]
fn duplicate_movie_in_the_catalogue() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-latest-small", &SMALL_FILES);
    let movies = dir.join("movies.csv");
    replace_line(&movies, 4, b"1,Toy Story again (1995),Comedy");
    assert_eq!(import_error(&dir), format!("{}:4: movie 1 is listed twice (first on line 2)", shown(&movies)));
}

#[test]
fn invalid_utf8_in_ratings_csv() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-latest-small", &SMALL_FILES);
    let ratings = dir.join("ratings.csv");
    replace_line(&ratings, 4, b"1,6,4.0,96498\xff2224");
    assert_eq!(import_error(&dir), format!("{}:4: invalid UTF-8", shown(&ratings)));
}

#[test]
fn truncated_last_line_but_a_missing_final_newline_is_fine() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    let data = dir.join("u.data");
    let bytes = fs::read(&data).unwrap();
    let complete = bytes.strip_suffix(b"\n").unwrap();
    fs::write(&data, complete).unwrap();
    assert_eq!(import(&dir).unwrap().ratings.len(), 100_000);

    let last_line = complete.iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let cut = last_line + complete[last_line..].iter().position(|&b| b == b'\t').unwrap() + 3;
    fs::write(&data, &complete[..cut]).unwrap();
    assert_eq!(import_error(&dir), format!("{}:100000: expected 4 fields, found 2", shown(&data)));
}

#[test]
fn empty_file() {
    let tmp = TempDir::new().unwrap();
    let dir = copy_dataset(&tmp, "ml-latest-small", &SMALL_FILES);
    let ratings = dir.join("ratings.csv");
    fs::write(&ratings, b"").unwrap();
    assert_eq!(import_error(&dir), format!("{}: file is empty", shown(&ratings)));
}

/// A zip holding `ml-latest-small/<name>` for each `(name, bytes)`.
fn write_zip(path: &Path, files: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(format!("ml-latest-small/{name}"), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn zip_without_ratings() {
    let tmp = TempDir::new().unwrap();
    let archive = tmp.path().join("movies-only.zip");
    write_zip(&archive, &[("movies.csv", b"movieId,title,genres\n1,Toy Story (1995),Comedy\n")]);
    let expected =
        format!("{}: no MovieLens ratings file found (expected u.data, ratings.dat or ratings.csv)", shown(&archive));
    assert_eq!(import_error(&archive), expected);
}

#[test]
fn errors_inside_a_zip_name_the_entry() {
    let tmp = TempDir::new().unwrap();
    let archive = tmp.path().join("broken.zip");
    let movies = fs::read(dataset_dir("ml-latest-small").join("movies.csv")).unwrap();
    write_zip(&archive, &[("movies.csv", &movies), ("ratings.csv", b"userId,movieId,rating,timestamp\n1,1,4.0\n")]);
    let expected = format!("{}:ml-latest-small/ratings.csv:2: expected 4 fields, found 3", shown(&archive));
    assert_eq!(import_error(&archive), expected);
}

// --- The binary cache ----------------------------------------------------------

fn temp_home(tmp: &TempDir) -> Home {
    Home::resolve(Some(tmp.path().join("home"))).unwrap()
}

/// Every file under `dir`, at any depth (none if it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files
}

fn cache_files(home: &Home) -> Vec<PathBuf> {
    files_under(&home.cache_dir())
}

fn only_cache_file(home: &Home) -> PathBuf {
    let files = cache_files(home);
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn second_load_is_a_hit_with_the_same_dataset() {
    let tmp = TempDir::new().unwrap();
    let home = temp_home(&tmp);
    let path = dataset_dir("ml-latest-small");
    let (first, status) = load_or_import(&home, &path).unwrap();
    assert_eq!(status, CacheStatus::Miss);
    let (second, status) = load_or_import(&home, &path).unwrap();
    assert_eq!(status, CacheStatus::Hit);
    assert_eq!(first, second);
    let name = only_cache_file(&home).file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("ml-latest-small-"), "{name}");
}

#[test]
fn a_changed_source_file_is_a_miss() {
    let tmp = TempDir::new().unwrap();
    let home = temp_home(&tmp);
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    load_or_import(&home, &dir).unwrap();
    assert_eq!(load_or_import(&home, &dir).unwrap().1, CacheStatus::Hit);

    let touched = SystemTime::now() + Duration::from_secs(60);
    fs::File::options().write(true).open(dir.join("u.item")).unwrap().set_modified(touched).unwrap();
    assert_eq!(load_or_import(&home, &dir).unwrap().1, CacheStatus::Miss);
    assert_eq!(load_or_import(&home, &dir).unwrap().1, CacheStatus::Hit);

    let mut data = fs::File::options().append(true).open(dir.join("u.data")).unwrap();
    data.write_all(b"944\t1\t5\t893286638\n").unwrap();
    drop(data);
    let (ds, status) = load_or_import(&home, &dir).unwrap();
    assert_eq!((status, ds.ratings.len(), ds.user_ids.len()), (CacheStatus::Miss, 100_001, 944));
    assert_eq!(cache_files(&home).len(), 1);
}

#[test]
fn a_damaged_cache_is_a_miss_and_is_rebuilt() {
    let tmp = TempDir::new().unwrap();
    let home = temp_home(&tmp);
    let path = dataset_dir("ml-100k");
    let (original, _) = load_or_import(&home, &path).unwrap();
    let cache = only_cache_file(&home);

    let mut bytes = fs::read(&cache).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::write(&cache, &bytes).unwrap();
    let (reloaded, status) = load_or_import(&home, &path).unwrap();
    assert_eq!((status, &reloaded), (CacheStatus::Miss, &original));
    assert_eq!(load_or_import(&home, &path).unwrap().1, CacheStatus::Hit);

    let bytes = fs::read(&cache).unwrap();
    fs::write(&cache, &bytes[..bytes.len() - 100]).unwrap();
    assert_eq!(load_or_import(&home, &path).unwrap().1, CacheStatus::Miss);
    assert_eq!(load_or_import(&home, &path).unwrap().1, CacheStatus::Hit);

    fs::write(&cache, b"CINEMADS\x63\x00\x00\x00").unwrap();
    assert_eq!(load_or_import(&home, &path).unwrap().1, CacheStatus::Miss);
    assert_eq!(only_cache_file(&home), cache);
}

#[test]
fn a_failing_import_leaves_nothing_behind() {
    let tmp = TempDir::new().unwrap();
    let home = temp_home(&tmp);
    let dir = copy_dataset(&tmp, "ml-100k", &ML100K_FILES);
    replace_line(&dir.join("u.data"), 3, b"22\t377\t1");
    let err = load_or_import(&home, &dir).unwrap_err();
    assert_eq!(err.to_string(), format!("{}:3: expected 4 fields, found 3", shown(&dir.join("u.data"))));
    assert_eq!(files_under(home.root()), Vec::<PathBuf>::new());

    // A cache for a source that later breaks is removed too: it describes nothing valid.
    replace_line(&dir.join("u.data"), 3, b"22\t377\t1\t878887116");
    load_or_import(&home, &dir).unwrap();
    assert_eq!(cache_files(&home).len(), 1);
    replace_line(&dir.join("u.data"), 3, b"22\t377\tabc\t878887116");
    assert!(load_or_import(&home, &dir).is_err());
    assert_eq!(files_under(home.root()), Vec::<PathBuf>::new());
}

// --- Predefined splits -----------------------------------------------------------

#[test]
fn ml_100k_u1_base_has_80000_ratings() {
    let ds = import(&dataset_dir("ml-100k")).unwrap();
    let train = read_split_file(&dataset_dir("ml-100k").join("u1.base"), &ds).unwrap();
    let test = read_split_file(&dataset_dir("ml-100k").join("u1.test"), &ds).unwrap();
    assert_eq!((train.len(), test.len()), (80_000, 20_000));
    assert!(train.iter().all(|r| r.timestamp > 0));
}

#[test]
fn seed42_holdout_covers_every_rating() {
    let ds: Dataset = import(&dataset_dir("ml-latest-small")).unwrap();
    let split = shared().join("splits/ml-latest-small-seed42");
    let train = read_split_file(&split.join("train.tsv"), &ds).unwrap();
    let test = read_split_file(&split.join("test.tsv"), &ds).unwrap();
    assert_eq!(train.len() + test.len(), 100_836);
    assert_eq!(test.len(), 10_084);
}

// --- Your history from Letterboxd and IMDb -----------------------------------------

mod history {
    use std::collections::HashMap;

    use cinema_store::history::export::{self, ExportRow};
    use cinema_store::history::matching::{Found, Matcher};
    use cinema_store::history::titles::display;
    use cinema_store::import;

    use super::dataset_dir;

    /// Every latest-small movie with a year, written the way each service
    /// writes it: IMDb by its `tt` id (from links.csv, zero-padded) and its
    /// title article first; Letterboxd by title only, article first and no
    /// alternative titles. IMDb matches every one exactly; Letterboxd at
    /// least 97 %, and never a wrong film (entries MovieLens holds twice,
    /// with the same title and year, count as the same film).
    #[test]
    fn exports_of_latest_small_movies_match_their_movielens_movies() {
        let d = import(&dataset_dir("ml-latest-small")).unwrap();
        let matcher = Matcher::new(&d);
        assert!(matcher.has_imdb_ids());
        let same_film: HashMap<u32, (String, Option<u16>)> =
            d.movies.iter().enumerate().map(|(i, m)| (i as u32, (m.title.clone(), m.year))).collect();
        let mut imdb = String::from(
            "Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n",
        );
        let mut letterboxd = String::from("Date,Name,Year,Letterboxd URI,Rating\n");
        let mut expected = Vec::new();
        for (i, m) in d.movies.iter().enumerate().filter(|(_, m)| m.year.is_some()) {
            let (name, year) = (display(&m.title).replace('"', "\"\""), m.year.unwrap());
            let id = m.imdb_id.expect("latest-small links every movie to IMDb");
            imdb.push_str(&format!("tt{id:07},8,2020-01-01,\"{name}\",u,movie,7,90,{year},Drama,1,,\n"));
            letterboxd.push_str(&format!("2020-01-01,\"{name}\",{year},https://boxd.it/x,4\n"));
            expected.push(i as u32);
        }
        let imdb = export::parse(imdb.as_bytes()).unwrap();
        let letterboxd = export::parse(letterboxd.as_bytes()).unwrap();
        assert!(imdb.malformed.is_empty() && letterboxd.malformed.is_empty());
        assert_eq!((imdb.rows.len(), letterboxd.rows.len()), (expected.len(), expected.len()));
        for (row, &want) in imdb.rows.iter().zip(&expected) {
            assert_eq!(matcher.find(row), Found::Movie(want), "{row:?}");
        }
        let (mut right, mut wrong, mut ambiguous, mut unmatched) = (0, Vec::new(), 0, Vec::new());
        for (row, &want) in letterboxd.rows.iter().zip(&expected) {
            match matcher.find(row) {
                Found::Movie(m) if same_film[&m] == same_film[&want] => right += 1,
                Found::Movie(m) => wrong.push((row.title.clone(), d.movies[m as usize].title.clone())),
                Found::Ambiguous(_) => ambiguous += 1,
                Found::Unmatched => unmatched.push(row.title.clone()),
            }
        }
        let share = right as f64 / expected.len() as f64;
        println!(
            "Letterboxd-style names of {} latest-small movies: {right} right ({:.2} %), {} wrong, {ambiguous} ambiguous, {} unmatched",
            expected.len(),
            share * 100.0,
            wrong.len(),
            unmatched.len()
        );
        assert!(wrong.is_empty(), "matched a wrong film: {wrong:?}");
        assert!(share >= 0.97, "{share:.4}; unmatched: {:?}", &unmatched[..unmatched.len().min(20)]);
        // Invented titles stay unmatched.
        for title in ["A Film Nobody Ever Made", "Star Wars: Episode XIV", "The Godfather Part VII"] {
            let row = ExportRow { line: 2, title: title.into(), year: Some(2011), imdb: None, rating: 4.0 };
            assert_eq!(matcher.find(&row), Found::Unmatched, "{title}");
        }
    }
}

// --- Hostile input through the real binary: bounded, cleaned, reported ---------

mod hostile_input {
    use std::ffi::OsStr;
    use std::fs;
    use std::io::{Read, Write};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use tempfile::TempDir;

    use super::dataset_dir;

    /// Long enough for a cold start on a busy machine; a read of a FIFO or of
    /// `/dev/zero` would never end at all.
    const PATIENCE: Duration = Duration::from_secs(60);

    struct Run {
        ok: bool,
        stdout: String,
        stderr: String,
        seconds: f64,
    }

    impl Run {
        fn both(&self) -> String {
            format!("{}{}", self.stdout, self.stderr)
        }
    }

    /// The binary with its own data directory, killed (and the test failed)
    /// if it has not finished within [`PATIENCE`].
    fn cinema<S: AsRef<OsStr>>(home: &Path, args: &[S], envs: &[(&str, &str)]) -> Run {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cinema"))
            .env_remove("CINEMA_HOME")
            .arg("--home")
            .arg(home)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            out.read_to_end(&mut s).unwrap();
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            err.read_to_end(&mut s).unwrap();
            s
        });
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > PATIENCE {
                child.kill().unwrap();
                child.wait().unwrap();
                let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
                panic!("cinema {args:?} still running after {PATIENCE:?}: it blocked on its input");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        Run {
            ok: status.success(),
            stdout: text(out.join().unwrap()),
            stderr: text(err.join().unwrap()),
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    fn mkfifo(path: &Path) {
        assert!(Command::new("mkfifo").arg(path).status().unwrap().success(), "mkfifo {}", path.display());
    }

    fn refused(run: &Run, wanted: &str) {
        assert!(!run.ok, "should have failed: {}", run.both());
        assert!(run.stderr.contains(wanted), "expected `{wanted}` in: {}", run.both());
        assert!(run.seconds < 20.0, "took {:.1} s", run.seconds);
    }

    /// A tiny CSV-family dataset: `(id, title, genres)` movies and
    /// `user,movie,rating,timestamp` ratings lines; more files may be added.
    fn write_dataset(dir: &Path, movies: &[(u32, &str, &str)], ratings: &str) {
        fs::create_dir_all(dir).unwrap();
        let mut csv = String::from("movieId,title,genres\n");
        for (id, title, genres) in movies {
            csv.push_str(&format!("{id},\"{}\",{genres}\n", title.replace('"', "\"\"")));
        }
        fs::write(dir.join("movies.csv"), csv).unwrap();
        fs::write(dir.join("ratings.csv"), format!("userId,movieId,rating,timestamp\n{ratings}")).unwrap();
    }

    /// Ten ordinary movies and five users who rated most of them.
    fn ordinary_dataset(dir: &Path) {
        let titles: Vec<(u32, String)> = (1..=10).map(|i| (i, format!("Film {i} (199{})", i % 10))).collect();
        let movies: Vec<(u32, &str, &str)> = titles.iter().map(|(i, t)| (*i, t.as_str(), "Drama|Comedy")).collect();
        let mut ratings = String::new();
        for user in 1..=5u32 {
            for movie in 1..=10u32 {
                if (user + movie) % 4 != 0 {
                    ratings.push_str(&format!("{user},{movie},{}.0,{}\n", 1 + (user * movie) % 5, 1000 + movie));
                }
            }
        }
        write_dataset(dir, &movies, &ratings);
    }

    /// A FIFO or a device where a dataset, a member file of one, a ratings
    /// export or an engine module is wanted: refused at once, by name.
    #[test]
    fn fifos_and_devices_are_refused_at_once_wherever_a_file_is_read() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let fifo = tmp.path().join("fifo");
        mkfifo(&fifo);
        let zero = Path::new("/dev/zero");
        let ml100k = dataset_dir("ml-100k");

        refused(
            &cinema(&home, &[OsStr::new("import"), fifo.as_os_str()], &[]),
            "is a FIFO (named pipe), not a folder or a .zip archive",
        );
        refused(
            &cinema(&home, &[OsStr::new("import"), zero.as_os_str()], &[]),
            "is a device, not a folder or a .zip archive",
        );

        // A dataset folder whose ratings.csv is a FIFO.
        let folder = tmp.path().join("piped");
        ordinary_dataset(&folder);
        fs::remove_file(folder.join("ratings.csv")).unwrap();
        mkfifo(&folder.join("ratings.csv"));
        let run = cinema(&home, &[OsStr::new("import"), folder.as_os_str()], &[]);
        refused(&run, "ratings.csv: is a FIFO (named pipe), not a regular file");

        for export in [&fifo, zero] {
            let run = cinema(
                &home,
                &[OsStr::new("import-ratings"), export.as_os_str(), OsStr::new("--dataset"), ml100k.as_os_str()],
                &[],
            );
            refused(&run, "not a regular file; a ratings export is a .zip or .csv file");
        }

        for module in [&fifo, zero] {
            let args = [
                OsStr::new("--plugin"),
                module.as_os_str(),
                OsStr::new("recommend"),
                OsStr::new("--dataset"),
                ml100k.as_os_str(),
                OsStr::new("--user"),
                OsStr::new("1"),
            ];
            refused(&cinema(&home, &args, &[]), "not a regular file; nothing was read from it");
        }

        // A FIFO among the plugins is listed as unloadable, beside the others.
        fs::create_dir_all(home.join("plugins")).unwrap();
        mkfifo(&home.join("plugins/stuck.wasm"));
        let run = cinema(&home, &["plugins", "list"], &[]);
        assert!(run.ok, "{}", run.both());
        assert!(run.stdout.contains("stuck: cannot be loaded") && run.stdout.contains("FIFO"), "{}", run.stdout);
        assert!(run.stdout.contains("cinema-default"), "{}", run.stdout);
    }

    /// Not wasm: said so, without quoting the file.
    #[test]
    fn a_module_that_is_not_webassembly_is_named_as_such_and_not_quoted() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let ml100k = dataset_dir("ml-100k");
        let secret = tmp.path().join("notes.txt");
        fs::write(&secret, "my secret first line\nand more\n").unwrap();
        for (module, wanted) in
            [(secret.as_path(), "it is text"), (Path::new("/bin/ls"), "it looks like an ELF executable")]
        {
            let args = [
                OsStr::new("--plugin"),
                module.as_os_str(),
                OsStr::new("recommend"),
                OsStr::new("--dataset"),
                ml100k.as_os_str(),
                OsStr::new("--user"),
                OsStr::new("1"),
            ];
            let run = cinema(&home, &args, &[]);
            refused(&run, "is not a WebAssembly module");
            refused(&run, wanted);
            assert!(!run.both().contains("secret") && !run.both().contains("utf-8"), "{}", run.both());
        }
    }

    /// A zip bomb: a small archive whose ratings.csv inflates past the cap
    /// (lowered for the test, so it need not write gigabytes; the real cap
    /// is the same code path).
    #[test]
    fn a_zip_bomb_dataset_is_refused_at_the_cap() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let bomb = tmp.path().join("bomb.zip");
        let mut zip = zip::ZipWriter::new(fs::File::create(&bomb).unwrap());
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("bomb/movies.csv", deflated).unwrap();
        zip.write_all(b"movieId,title,genres\n1,A (1990),Drama\n").unwrap();
        zip.start_file("bomb/ratings.csv", deflated).unwrap();
        zip.write_all(b"userId,movieId,rating,timestamp\n").unwrap();
        let row = b"1,1,5,0\n".repeat(1 << 17);
        for _ in 0..64 {
            zip.write_all(&row).unwrap(); // 64 MiB in all
        }
        zip.finish().unwrap();
        assert!(fs::metadata(&bomb).unwrap().len() < 1 << 20);
        let cap = (16u64 << 20).to_string();
        let run = cinema(&home, &[OsStr::new("import"), bomb.as_os_str()], &[("CINEMA_TEST_DATASET_FILE_CAP", &cap)]);
        refused(&run, "bomb/ratings.csv: is larger than the 16 MiB a dataset file may be");
        // Under the real cap it is still refused unread: 64 MiB from under
        // 1 MiB is a ratio no real dataset file has.
        let run = cinema(&home, &[OsStr::new("import"), bomb.as_os_str()], &[]);
        refused(&run, "bomb/ratings.csv: would inflate");
        refused(&run, "times its compressed size");
    }

    /// A Letterboxd zip whose ratings.csv inflates past the 64 MiB an export may be.
    #[test]
    fn a_zip_bomb_export_is_refused_at_the_cap() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let bomb = tmp.path().join("letterboxd.zip");
        let mut zip = zip::ZipWriter::new(fs::File::create(&bomb).unwrap());
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("ratings.csv", deflated).unwrap();
        zip.write_all(b"Date,Name,Year,Letterboxd URI,Rating\n").unwrap();
        let row = b"2024-01-01,Heat,1995,u,4\n".repeat(1 << 16);
        for _ in 0..((65 << 20) / row.len()) {
            zip.write_all(&row).unwrap();
        }
        zip.finish().unwrap();
        let ml100k = dataset_dir("ml-100k");
        let run = cinema(
            &home,
            &[OsStr::new("import-ratings"), bomb.as_os_str(), OsStr::new("--dataset"), ml100k.as_os_str()],
            &[],
        );
        refused(&run, "is larger than the 64 MiB a ratings export may be");
    }

    const ESCAPES: [&str; 2] = ["\u{1b}]0;pwned\u{7}", "\u{1b}[2J"];

    fn assert_no_escapes(run: &Run) {
        let all = run.both();
        assert!(
            !all.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']),
            "a control character reached the terminal: {all:?}"
        );
    }

    /// Escape sequences in a title, a genre, a tag and a Letterboxd title
    /// are shown as U+FFFD, never obeyed.
    #[test]
    fn escape_sequences_in_files_never_reach_the_terminal() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let dir = tmp.path().join("evil");
        let [title, clear] = ESCAPES;
        ordinary_dataset(&dir);
        let mut movies = fs::read_to_string(dir.join("movies.csv")).unwrap();
        movies = movies.replace("Film 1 (1991)", &format!("Film{title}{clear} One\u{202e} (1991)"));
        movies = movies.replace("Drama|Comedy", &format!("Drama|Com{clear}edy"));
        fs::write(dir.join("movies.csv"), movies).unwrap();
        fs::write(dir.join("tags.csv"), format!("userId,movieId,tag,timestamp\n1,1,fun{title},5\n")).unwrap();

        let run = cinema(&home, &[OsStr::new("import"), dir.as_os_str()], &[]);
        assert!(run.ok, "{}", run.both());
        assert_no_escapes(&run);
        for args in [
            vec!["recommend", "--user", "1", "-n", "10"],
            vec!["similar", "1", "--by", "content"],
            vec!["explain", "--user", "2", "--movie", "1"],
        ] {
            let mut full: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
            full.extend([OsStr::new("--dataset"), dir.as_os_str()]);
            let run = cinema(&home, &full, &[]);
            assert!(run.ok, "{args:?}: {}", run.both());
            assert_no_escapes(&run);
        }
        let run =
            cinema(&home, &[OsStr::new("similar"), OsStr::new("2"), OsStr::new("--dataset"), dir.as_os_str()], &[]);
        assert!(run.stdout.contains("Film\u{FFFD}]0;pwned\u{FFFD}\u{FFFD}[2J One\u{FFFD}"), "{}", run.stdout);

        // A Letterboxd title that matches nothing is echoed, cleaned.
        let export = tmp.path().join("ratings.csv");
        fs::write(
            &export,
            format!("Date,Name,Year,Letterboxd URI,Rating\n2024-01-01,\"Nothing{title}{clear}\",1999,u,4\n"),
        )
        .unwrap();
        let run = cinema(
            &home,
            &[
                OsStr::new("import-ratings"),
                export.as_os_str(),
                OsStr::new("--dataset"),
                dir.as_os_str(),
                OsStr::new("--dry-run"),
            ],
            &[],
        );
        assert!(run.ok, "{}", run.both());
        assert!(run.stdout.contains("is not in evil"), "{}", run.stdout);
        assert_no_escapes(&run);

        // And a bad field in an error message.
        fs::write(dir.join("ratings.csv"), format!("userId,movieId,rating,timestamp\n1,1,4{clear}{title},5\n"))
            .unwrap();
        let run = cinema(&home, &[OsStr::new("import"), dir.as_os_str()], &[]);
        assert!(!run.ok && run.stderr.contains("ratings.csv:2: rating `4\u{FFFD}[2J"), "{}", run.both());
        assert_no_escapes(&run);
    }

    /// A 5 MB field: the error quotes 60 characters of it.
    #[test]
    fn a_huge_bad_field_is_quoted_short() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let dir = tmp.path().join("huge");
        ordinary_dataset(&dir);
        let huge = "7".repeat(5_000_000);
        let mut ratings = fs::read_to_string(dir.join("ratings.csv")).unwrap();
        ratings.push_str(&format!("{huge},1,4,5\n"));
        fs::write(dir.join("ratings.csv"), ratings).unwrap();
        let run = cinema(&home, &[OsStr::new("import"), dir.as_os_str()], &[]);
        assert!(!run.ok);
        assert!(
            run.stderr.contains("user id `7777") && run.stderr.contains("…` is not a number"),
            "{}",
            &run.stderr[..run.stderr.len().min(500)]
        );
        assert!(run.both().len() < 1000, "{} bytes of output", run.both().len());
    }

    /// The same user and movie twice: the latest rating is kept (on a tie,
    /// the later row), the import says how many were dropped, and the
    /// engine — which refuses a pair twice — serves the dataset.
    #[test]
    fn duplicate_ratings_keep_the_latest_and_are_reported() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let dir = tmp.path().join("twice");
        ordinary_dataset(&dir);
        let mut ratings = fs::read_to_string(dir.join("ratings.csv")).unwrap();
        // User 1 rated movie 1 (user 1 + movie 1 is not a multiple of 4) at
        // 1001; these come later in the file: one older, one newer, one tie.
        ratings.push_str("1,1,1.0,900\n1,1,5.0,2000\n2,1,2.0,1001\n");
        fs::write(dir.join("ratings.csv"), ratings).unwrap();
        let run = cinema(&home, &[OsStr::new("import"), OsStr::new("--json"), dir.as_os_str()], &[]);
        assert!(run.ok, "{}", run.both());
        let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(summary["duplicates_dropped"], 3, "{summary}");
        assert!(summary["warnings"][0].as_str().unwrap().contains("3 duplicate ratings dropped"), "{summary}");
        // From the cache too, in text.
        let run = cinema(&home, &[OsStr::new("import"), dir.as_os_str()], &[]);
        assert!(run.stdout.contains("dropped   3 duplicate ratings"), "{}", run.stdout);
        assert!(run.stderr.contains("warning: 3 duplicate ratings dropped"), "{}", run.stderr);

        let ds = cinema_store::import(&dir).unwrap();
        let kept: Vec<_> = ds
            .ratings
            .iter()
            .filter(|r| ds.movies[r.item as usize].id == 1 && ds.user_ids[r.user as usize] <= 2)
            .map(|r| (ds.user_ids[r.user as usize], r.value, r.timestamp))
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept.contains(&(1, 5.0, 2000)), "{kept:?}");
        assert!(kept.contains(&(2, 2.0, 1001)), "{kept:?}");

        for args in [vec!["explain", "--user", "1", "--movie", "2"], vec!["recommend", "--user", "1"]] {
            let mut full: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
            full.extend([OsStr::new("--dataset"), dir.as_os_str()]);
            let run = cinema(&home, &full, &[]);
            assert!(run.ok, "{args:?}: {}", run.both());
        }
    }

    /// Thirty unmatched rows: ten listed and a count, unless asked for all.
    #[test]
    fn long_lists_of_unmatched_rows_are_summarised() {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let export = tmp.path().join("ratings.csv");
        let mut csv = String::from("Date,Name,Year,Letterboxd URI,Rating\n");
        for i in 0..30 {
            csv.push_str(&format!("2024-01-01,No Such Film {i},1999,u,4\n"));
        }
        fs::write(&export, csv).unwrap();
        let ml100k = dataset_dir("ml-100k");
        let base = [
            OsStr::new("import-ratings"),
            export.as_os_str(),
            OsStr::new("--dataset"),
            ml100k.as_os_str(),
            OsStr::new("--dry-run"),
        ];
        let run = cinema(&home, &base, &[]);
        assert!(run.ok, "{}", run.both());
        assert_eq!(run.stdout.matches("is not in ml-100k").count(), 10, "{}", run.stdout);
        assert!(run.stdout.contains("… and 20 more (--json or --verbose lists all)"), "{}", run.stdout);
        let mut verbose = base.to_vec();
        verbose.push(OsStr::new("--verbose"));
        let run = cinema(&home, &verbose, &[]);
        assert_eq!(run.stdout.matches("is not in ml-100k").count(), 30, "{}", run.stdout);
        let mut json = base.to_vec();
        json.push(OsStr::new("--json"));
        let run = cinema(&home, &json, &[]);
        let preview: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(preview["unmatched"].as_array().unwrap().len(), 30);
    }
}
