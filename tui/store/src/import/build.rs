//! Assembles parsed rows into a `Dataset`: checks the catalogue for duplicate
//! ids, maps raw user and movie ids to dense indices, and validates every
//! rating against the catalogue and the scale. Shared by all formats.

use std::collections::HashMap;

use super::error::{ImportError, Reason};
use super::parse::{self, lines, split_exact};
use crate::dataset::{Movie, Rating, RatingScale};

/// Raw id → dense index. MovieLens ids are small and nearly dense, so a flat
/// table beats hashing in the ratings loop; stray huge ids spill into a map.
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    table: Vec<u32>,
    spill: HashMap<u32, u32>,
}

const ABSENT: u32 = u32::MAX;
/// Ids below this live in the flat table (at most 8 MiB of it).
const TABLE_LIMIT: u32 = 1 << 21;

impl IdIndex {
    pub(crate) fn get(&self, raw: u32) -> Option<u32> {
        match self.table.get(raw as usize) {
            Some(&ABSENT) => None,
            Some(&index) => Some(index),
            None => self.spill.get(&raw).copied(),
        }
    }

    pub(crate) fn insert(&mut self, raw: u32, index: u32) {
        if raw >= TABLE_LIMIT {
            self.spill.insert(raw, index);
            return;
        }
        let slot = raw as usize;
        if slot >= self.table.len() {
            let len = (slot + 1).next_power_of_two().min(TABLE_LIMIT as usize);
            self.table.resize(len, ABSENT);
        }
        self.table[slot] = index;
    }
}

/// Movies in file order, checked for duplicate ids as they arrive.
pub(crate) struct CatalogueBuilder {
    movies: Vec<Movie>,
    lines: Vec<u64>,
    seen: IdIndex,
}

impl CatalogueBuilder {
    pub(crate) fn new() -> Self {
        CatalogueBuilder { movies: Vec::new(), lines: Vec::new(), seen: IdIndex::default() }
    }

    pub(crate) fn add(&mut self, line: u64, movie: Movie) -> Result<(), Reason> {
        if let Some(first) = self.seen.get(movie.id) {
            return Err(Reason::DuplicateMovie { id: movie.id, first_line: self.lines[first as usize] });
        }
        self.seen.insert(movie.id, self.movies.len() as u32);
        self.movies.push(movie);
        self.lines.push(line);
        Ok(())
    }

    pub(crate) fn movies_mut(&mut self) -> &mut [Movie] {
        &mut self.movies
    }

    /// Sorts by id (the dataset's dense order). `name` is the catalogue's file
    /// name, used in "movie N is not in …" errors.
    pub(crate) fn finish(mut self, file: &str, name: &'static str) -> Result<Catalogue, ImportError> {
        if self.movies.is_empty() {
            return Err(ImportError::whole(file, Reason::NoRows("movies")));
        }
        self.movies.sort_unstable_by_key(|m| m.id);
        let mut index = IdIndex::default();
        for (i, movie) in self.movies.iter().enumerate() {
            index.insert(movie.id, i as u32);
        }
        Ok(Catalogue { movies: self.movies, index, name })
    }
}

/// The catalogue sorted by id, with its raw id → dense index map.
#[derive(Debug)]
pub(crate) struct Catalogue {
    pub(crate) movies: Vec<Movie>,
    index: IdIndex,
    name: &'static str,
}

impl Catalogue {
    /// Dense index of a raw movie id, or the error a rating for it deserves.
    pub(crate) fn index_of(&self, raw: u32) -> Result<u32, Reason> {
        self.index.get(raw).ok_or_else(|| Reason::UnknownMovie { id: raw, catalogue: self.name.to_owned() })
    }

    pub(crate) fn movie_mut(&mut self, raw: u32) -> Result<&mut Movie, Reason> {
        let index = self.index_of(raw)?;
        Ok(&mut self.movies[index as usize])
    }
}

/// Collects ratings; users get provisional indices in order of appearance and
/// are renumbered in raw-id order at the end.
pub(crate) struct RatingsBuilder<'c> {
    catalogue: &'c Catalogue,
    scale: RatingScale,
    users: IdIndex,
    raw_users: Vec<u32>,
    ratings: Vec<Rating>,
    /// MovieLens files are grouped by user: remembering the last one skips
    /// nearly every lookup.
    last_user: Option<(u32, u32)>,
}

impl<'c> RatingsBuilder<'c> {
    pub(crate) fn new(catalogue: &'c Catalogue, scale: RatingScale, capacity: usize) -> Self {
        RatingsBuilder {
            catalogue,
            scale,
            users: IdIndex::default(),
            raw_users: Vec::new(),
            ratings: Vec::with_capacity(capacity),
            last_user: None,
        }
    }

    /// One rating from its raw `[user, movie, rating, timestamp]` fields.
    pub(crate) fn push(&mut self, [user, movie, value, timestamp]: [&[u8]; 4]) -> Result<(), Reason> {
        let user = parse::parse_id(user, "user id")?;
        let movie = parse::parse_id(movie, "movie id")?;
        let value = parse::parse_rating(value, &self.scale)?;
        let timestamp = parse::parse_timestamp(timestamp)?;
        let item = self.catalogue.index_of(movie)?;
        let user = self.user_index(user);
        self.ratings.push(Rating { user, item, value, timestamp });
        Ok(())
    }

    fn user_index(&mut self, raw: u32) -> u32 {
        if let Some((last_raw, index)) = self.last_user
            && last_raw == raw
        {
            return index;
        }
        let index = self.users.get(raw).unwrap_or_else(|| {
            let index = self.raw_users.len() as u32;
            self.users.insert(raw, index);
            self.raw_users.push(raw);
            index
        });
        self.last_user = Some((raw, index));
        index
    }

    /// Sorted raw user ids, the ratings renumbered to match (a pair rated
    /// twice kept once: see [`drop_duplicates`]), and how many were dropped.
    pub(crate) fn finish(self, file: &str) -> Result<(Vec<u32>, Vec<Rating>, usize), ImportError> {
        let RatingsBuilder { mut raw_users, mut ratings, .. } = self;
        if ratings.is_empty() {
            return Err(ImportError::whole(file, Reason::NoRows("ratings")));
        }
        let dropped = drop_duplicates(&mut ratings, raw_users.len());
        let mut order: Vec<u32> = (0..raw_users.len() as u32).collect();
        order.sort_unstable_by_key(|&i| raw_users[i as usize]);
        let mut renumber = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        for rating in &mut ratings {
            rating.user = renumber[rating.user as usize];
        }
        raw_users.sort_unstable();
        Ok((raw_users, ratings, dropped))
    }
}

/// Keeps one rating per (user, movie) pair: the latest by timestamp, the
/// later row on a tie — MovieLens's own rule when it dedups its releases.
/// The engine (rightly) refuses a pair twice, so it must never see one.
/// The kept ratings stay in file order. Returns how many were dropped.
fn drop_duplicates(ratings: &mut Vec<Rating>, users: usize) -> usize {
    // Positions bucketed by user (a counting sort: file order within each
    // user), then each user's few ratings sorted by movie. Linear in the
    // ratings, where sorting them all would not be.
    let position = |i: usize| u32::try_from(i).expect("the dataset file cap keeps ratings below 2^32");
    let mut start = vec![0u32; users + 1];
    for r in ratings.iter() {
        start[r.user as usize + 1] += 1;
    }
    for u in 0..users {
        start[u + 1] += start[u];
    }
    let mut next = start.clone();
    let mut order = vec![0u32; ratings.len()];
    for (i, r) in ratings.iter().enumerate() {
        let slot = &mut next[r.user as usize];
        order[*slot as usize] = position(i);
        *slot += 1;
    }
    let mut dropped = Vec::new();
    for u in 0..users {
        let bucket = &mut order[start[u] as usize..start[u + 1] as usize];
        bucket.sort_unstable_by_key(|&i| {
            let r = &ratings[i as usize];
            (r.item, r.timestamp, i)
        });
        for pair in bucket.windows(2) {
            if ratings[pair[0] as usize].item == ratings[pair[1] as usize].item {
                dropped.push(pair[0]);
            }
        }
    }
    if dropped.is_empty() {
        return 0;
    }
    let mut keep = vec![true; ratings.len()];
    for &i in &dropped {
        keep[i as usize] = false;
    }
    let mut i = 0;
    ratings.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    dropped.len()
}

/// `user<sep>movie<sep>rating<sep>timestamp` lines (`u.data`, `ratings.dat`).
pub(crate) fn read_delimited_ratings(
    file: &str,
    bytes: &[u8],
    sep: &[u8],
    catalogue: &Catalogue,
    scale: RatingScale,
) -> Result<(Vec<u32>, Vec<Rating>, usize), ImportError> {
    parse::require_content(bytes).map_err(|r| ImportError::whole(file, r))?;
    let mut builder = RatingsBuilder::new(catalogue, scale, parse::count_lines(bytes));
    for (line, text) in lines(bytes) {
        split_exact::<4>(text, sep)
            .and_then(|fields| builder.push(fields))
            .map_err(|r| ImportError::at(file, line, r))?;
    }
    builder.finish(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(id: u32) -> Movie {
        Movie { id, title: format!("m{id}"), year: None, genres: 0, imdb_id: None, tmdb_id: None, tags: vec![] }
    }

    fn catalogue(ids: &[u32]) -> Catalogue {
        let mut builder = CatalogueBuilder::new();
        for (line, &id) in ids.iter().enumerate() {
            builder.add(line as u64 + 1, movie(id)).unwrap();
        }
        builder.finish("c", "movies.dat").unwrap()
    }

    #[test]
    fn id_index_handles_dense_and_huge_ids() {
        let mut index = IdIndex::default();
        index.insert(3, 0);
        index.insert(4_000_000_000, 1);
        assert_eq!(index.get(3), Some(0));
        assert_eq!(index.get(4_000_000_000), Some(1));
        assert_eq!(index.get(2), None);
        assert_eq!(index.get(99), None);
    }

    #[test]
    fn duplicate_movies_point_at_both_lines() {
        let mut builder = CatalogueBuilder::new();
        builder.add(1, movie(5)).unwrap();
        let err = builder.add(4, movie(5)).unwrap_err();
        assert_eq!(err.to_string(), "movie 5 is listed twice (first on line 1)");
    }

    #[test]
    fn catalogue_is_sorted_by_id() {
        let c = catalogue(&[30, 10, 20]);
        assert_eq!(c.movies.iter().map(|m| m.id).collect::<Vec<_>>(), [10, 20, 30]);
        assert_eq!(c.index_of(30), Ok(2));
        assert_eq!(c.index_of(11).unwrap_err().to_string(), "movie 11 is not in movies.dat");
    }

    #[test]
    fn users_are_renumbered_by_raw_id() {
        let c = catalogue(&[1, 2]);
        let data = b"9::1::5::100\n3::2::4::101\n9::2::1::102";
        let (users, ratings, _) = read_delimited_ratings("r", data, b"::", &c, RatingScale::WHOLE_STARS).unwrap();
        assert_eq!(users, [3, 9]);
        assert_eq!(ratings.iter().map(|r| (r.user, r.item)).collect::<Vec<_>>(), [(1, 0), (0, 1), (1, 1)]);
        assert_eq!(ratings[1].value, 4.0);
        assert_eq!(ratings[2].timestamp, 102);
    }

    #[test]
    fn first_bad_line_is_reported() {
        let c = catalogue(&[1]);
        let err = |data: &[u8]| {
            read_delimited_ratings("u.data", data, b"\t", &c, RatingScale::WHOLE_STARS).unwrap_err().to_string()
        };
        assert_eq!(err(b"1\t1\t5\t0\n1\t1\t5\n1\t1\tx\t0"), "u.data:2: expected 4 fields, found 3");
        assert_eq!(err(b"1\t1\t6\t0\n"), "u.data:1: rating 6 is outside the scale 1–5");
        assert_eq!(err(b"1\t2\t5\t0\n"), "u.data:1: movie 2 is not in movies.dat");
        assert_eq!(err(b"a\t1\t5\t0\n"), "u.data:1: user id `a` is not a number");
        assert_eq!(err(b"\n \n"), "u.data: file is empty");
    }

    #[test]
    fn a_pair_rated_twice_keeps_its_latest_rating_in_file_order() {
        let c = catalogue(&[1, 2, 3]);
        // User 9 rates movie 1 three times (the latest, 300, is in the middle),
        // user 3 rates movie 2 twice at the same second (the later row wins);
        // user 9's other movie and user 3's movie 1 are no duplicates.
        let data = b"9::1::2::100\n9::1::5::300\n3::2::1::50\n9::2::3::100\n9::1::4::200\n3::1::1::7\n3::2::4::50\n";
        let (users, ratings, dropped) = read_delimited_ratings("r", data, b"::", &c, RatingScale::WHOLE_STARS).unwrap();
        assert_eq!(users, [3, 9]);
        assert_eq!(dropped, 3);
        let kept: Vec<_> = ratings.iter().map(|r| (users[r.user as usize], r.item, r.value, r.timestamp)).collect();
        assert_eq!(kept, [(9, 0, 5.0, 300), (9, 1, 3.0, 100), (3, 0, 1.0, 7), (3, 1, 4.0, 50)]);
        let (_, clean, dropped) =
            read_delimited_ratings("r", b"1::1::5::0\n1::2::5::0\n2::1::5::0\n", b"::", &c, RatingScale::WHOLE_STARS)
                .unwrap();
        assert_eq!((clean.len(), dropped), (3, 0));
    }
}
