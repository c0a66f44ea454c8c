//! The content model: movies alike by what they are rather than by who
//! watched them, so a movie nobody has rated yet still has neighbours, and an
//! explanation can say "also a thriller".
//!
//! Each movie is a TF-IDF vector over its terms, a term being a (field, id)
//! pair of the host's vocabulary (the id 7 of a genre and of a title word are
//! different terms). A term's weight is f_field · tf · idf with
//!
//!   tf  = 1 for a genre (a movie is a drama or it is not),
//!         c for a title word it has c times,
//!         1 + ln c for a tag applied c times (the tenth "funny" says less
//!         than the first),
//!   idf = ln(N / df) + 1,
//!
//! N the movies with at least one term and df those with the term. Vectors
//! are L2-normalised, so a similarity is a dot product: the cosine.
//!
//! A movie's most similar movies are found when asked for (a detail view
//! asks for one movie's), not for the whole catalogue when the model is
//! built: building then only makes the vectors and the indices below, in
//! milliseconds at any size, and the dense 62,000² similarity matrix of
//! MovieLens 25M (15 GB) is never needed.
//!
//! Finding them is the cost. Scoring through an inverted index adds up
//! Σ df² products, and genres are anything but rare: Drama alone is in 40% of
//! the movies, 1.3·10⁹ products for the genres. So each vector is split into
//! its genre part and its sparse part (title words and tags, mostly rare):
//!
//! - the genre tf is binary, so every movie j with the same genre set G has
//!   the genre part u_G / n_j: the set's shared vector over j's norm. Movies
//!   are grouped by genre set (a few thousand sets at most: there are ~20
//!   genres and a movie has two or three), and the dot products
//!   d(G, H) = u_G · u_H are computed once per pair of sets;
//! - for movie i in G, the movies sharing a sparse term with it are scored
//!   exactly through an inverted index over sparse terms, plus their genre
//!   part d(G, H) / (n_i · n_j);
//! - any other movie j in a set H scores d(G, H) / (n_i · n_j), which only
//!   falls as n_j grows. Sets are visited by their best score
//!   d(G, H) / (n_i · min n_j) and each set's movies by ascending n_j, and
//!   both walks stop at the first score below the k-th best found so far.
//!
//! It is exact: every movie left unvisited scores no more than the one that
//! stopped the walk, which is below the k-th best. Scores equal to the k-th
//! best are still visited, since ties go to the lower id.
//!
//! What remains is Σ df² over the sparse terms, a few nanoseconds a pair:
//! small while title words and tags stay rare (the host drops stop words),
//! but a tag on a third of the catalogue would cost what a genre does.

use crate::topn::TopN;
use cinema_protocol::{ContentStats, Features, Field};

/// How much each field counts against the others, applied on top of TF-IDF.
/// Each must be positive, or a shared term could add nothing and the
/// search, which takes a genre dot product of 0 to mean "no genre shared",
/// would go wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldWeights {
    pub genre: f64,
    pub title: f64,
    pub tag: f64,
}

impl FieldWeights {
    /// Every field alike: TF-IDF alone decides.
    pub const EQUAL: FieldWeights = FieldWeights { genre: 1.0, title: 1.0, tag: 1.0 };
    /// What the content model uses, chosen on validation data by
    /// `tui/examples/content_weights.rs` (the README has the table): tags
    /// name themes and predict what a person watches next far better than
    /// genres do (latest-small: 1.8x at 16). Heavier title words help on
    /// latest-small but lose on ML-100K, where "Star" alone would make Star
    /// Kid a neighbour of Star Wars, so titles stay at 1: the best of the
    /// grid that is worse than equal weights on neither dataset.
    pub const DEFAULT: FieldWeights = FieldWeights { genre: 1.0, title: 1.0, tag: 16.0 };

    fn of(&self, field: Field) -> f64 {
        match field {
            Field::Genre => self.genre,
            Field::Title => self.title,
            Field::Tag => self.tag,
        }
    }
}

/// The group of a movie with no terms: it is in none.
const NO_GROUP: u32 = u32::MAX;

/// Movies' TF-IDF vectors, with what finding one movie's most similar
/// movies by cosine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    items: u32,
    /// Distinct (field, id) terms.
    terms: u32,
    /// Neighbours a request may ask for, at most.
    keep: usize,
    vectors: Vectors,
    groups: Groups,
    /// Per sparse term, the items having it, with what scoring them needs.
    postings: Rows<Posting>,
    /// Item i's genre ids (the host's), ascending, aligned with
    /// `vectors.genres`.
    genre_ids: Vec<u32>,
}

impl Content {
    /// `items` = catalogue size (dense ids 0..items); `features` may be in
    /// any order, may name an item more than once (terms are appended), and
    /// items never named have no features (no neighbours). [`Self::similar`]
    /// answers at most `neighbours` most similar other items.
    pub fn build(items: u32, features: &[Features], neighbours: usize) -> Content {
        Content::build_weighted(items, features, neighbours, FieldWeights::DEFAULT)
    }

    /// [`Content::build`] with other field weights (to choose them).
    pub fn build_weighted(items: u32, features: &[Features], neighbours: usize, weights: FieldWeights) -> Content {
        debug_assert!(features.iter().all(|f| f.item < items), "feature item out of range");
        assert!(weights.genre > 0.0 && weights.title > 0.0 && weights.tag > 0.0, "field weights must be positive");
        let (vocabulary, occurrences) = collect(features);
        let (vectors, by_term) = Vectors::new(items, &vocabulary, &occurrences, weights);
        let groups = Groups::new(&vectors);
        let posting = |&(item, weight): &(u32, f32)| Posting {
            item,
            weight,
            group: groups.of[item as usize],
            inv_norm: vectors.inv_norm[item as usize],
        };
        let postings = Rows { offsets: by_term.offsets, values: by_term.values.iter().map(posting).collect() };
        let genre_ids = vectors.genres.values.iter().map(|&t| vocabulary.id[t as usize]).collect();
        Content { items, terms: vocabulary.id.len() as u32, keep: neighbours, vectors, groups, postings, genre_ids }
    }

    /// Item's most similar items (at most the `neighbours` asked for at
    /// build), most similar first, with their cosines: equal cosines go to
    /// the lower id, and only cosines above 0 count.
    pub fn neighbours(&self, item: u32) -> (Vec<u32>, Vec<f32>) {
        self.similar(item, self.keep).into_iter().unzip()
    }

    /// Up to n of them as (item, cosine) pairs.
    pub fn similar(&self, item: u32, n: usize) -> Vec<(u32, f32)> {
        let inv_norm = self.vectors.inv_norm[item as usize];
        // No item can have more neighbours than the others described, and
        // `TopN` reserves room for `n` up front.
        let k = n.min(self.keep).min(self.vectors.described.saturating_sub(1) as usize);
        if k == 0 || inv_norm == 0.0 {
            return Vec::new();
        }
        let mut search = Search::new(&self.vectors, &self.groups, &self.postings);
        search.genre_dots(self.groups.of[item as usize]);
        let mut top = TopN::new(k);
        search.rank(item, inv_norm, &mut top);
        top.into_sorted()
    }

    /// For every item j, Σ over `liked` of cos(l, j), exactly: the liked
    /// vectors are summed into one profile and each item's vector is dotted
    /// with it, O(the terms of all items). Items without terms score 0.
    pub fn cosine_sums(&self, liked: &[u32]) -> Vec<f32> {
        let mut profile = vec![0f32; self.terms as usize];
        for &l in liked {
            self.for_each_term(l, |t, w| profile[t as usize] += w);
        }
        (0..self.items)
            .map(|j| {
                let mut dot = 0f32;
                self.for_each_term(j, |t, w| dot += w * profile[t as usize]);
                dot
            })
            .collect()
    }

    /// Each (term, normalised weight) of item's vector.
    fn for_each_term(&self, item: u32, mut visit: impl FnMut(u32, f32)) {
        let v = &self.vectors;
        let norm = v.inv_norm[item as usize];
        for &t in v.genres.row(item) {
            visit(t, v.genre_weight[t as usize] * norm);
        }
        for &(t, w) in v.sparse.row(item) {
            visit(t, w);
        }
    }

    /// The item's distinct Genre-field term ids, ascending (the
    /// explanation's genre match uses them).
    pub fn genres(&self, item: u32) -> &[u32] {
        &self.genre_ids[span(&self.vectors.genres.offsets, item)]
    }

    /// A set of movies' genre mix (Steck 2018): each movie spreads one unit
    /// evenly over its genres; `(genre, share)` by genre id, shares summing
    /// to 1 (empty when none has a genre).
    pub fn genre_mix(&self, movies: impl Iterator<Item = u32>) -> Vec<(u32, f32)> {
        let mut mix: Vec<(u32, f32)> = Vec::new();
        for item in movies {
            let genres = self.genres(item);
            for &g in genres {
                let share = 1.0 / genres.len() as f32;
                match mix.binary_search_by_key(&g, |m| m.0) {
                    Ok(at) => mix[at].1 += share,
                    Err(at) => mix.insert(at, (g, share)),
                }
            }
        }
        let total: f32 = mix.iter().map(|m| m.1).sum();
        mix.iter_mut().for_each(|m| m.1 /= total);
        mix
    }

    pub fn items(&self) -> u32 {
        self.items
    }

    pub fn stats(&self) -> ContentStats {
        ContentStats { items: self.vectors.described, terms: self.terms, pairs: 0, bytes: self.heap_bytes() as u64 }
    }

    fn heap_bytes(&self) -> usize {
        let (v, g) = (&self.vectors, &self.groups);
        v.inv_norm.capacity() * size_of::<f32>()
            + v.genre_weight.capacity() * size_of::<f32>()
            + v.genres.bytes()
            + v.sparse.bytes()
            + g.of.capacity() * size_of::<u32>()
            + g.genres.bytes()
            + g.members.bytes()
            + g.with_genre.bytes()
            + self.postings.bytes()
            + self.genre_ids.capacity() * size_of::<u32>()
    }
}

/// Row `r` of a CSR offsets array.
fn span(offsets: &[u32], r: u32) -> std::ops::Range<usize> {
    debug_assert!((r as usize) + 1 < offsets.len(), "row {r} out of range");
    offsets[r as usize] as usize..offsets[r as usize + 1] as usize
}

/// Rows of values in one array, row r at `values[span(offsets, r)]`.
#[derive(Debug, Clone, PartialEq)]
struct Rows<T> {
    offsets: Vec<u32>,
    values: Vec<T>,
}

impl<T: Copy + Default> Rows<T> {
    /// `entries` as (row, value) put in rows by a counting sort. It is
    /// stable, so each row keeps its entries' order: sorted in, sorted out.
    fn bucket(rows: usize, entries: &[(u32, T)]) -> Rows<T> {
        let mut offsets = vec![0u32; rows + 1];
        for &(r, _) in entries {
            offsets[r as usize + 1] += 1;
        }
        for r in 0..rows {
            offsets[r + 1] += offsets[r];
        }
        let mut next = offsets[..rows].to_vec();
        let mut values = vec![T::default(); entries.len()];
        for &(r, v) in entries {
            values[next[r as usize] as usize] = v;
            next[r as usize] += 1;
        }
        Rows { offsets, values }
    }

    fn row(&self, r: u32) -> &[T] {
        &self.values[span(&self.offsets, r)]
    }

    fn bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>() + self.values.capacity() * size_of::<T>()
    }
}

/// The distinct terms, indexed densely in (field, id) order: genres first.
#[derive(Default)]
struct Vocabulary {
    field: Vec<Field>,
    id: Vec<u32>,
    /// Items having the term.
    df: Vec<u32>,
}

/// An item has a term `count` times.
#[derive(Clone, Copy)]
struct Occurrence {
    item: u32,
    term: u32,
    count: u32,
}

/// Sorting by this key puts genres first and each field's ids ascending.
fn term_key(id: u32, field: Field) -> u64 {
    let rank = match field {
        Field::Genre => 0u64,
        Field::Title => 1,
        Field::Tag => 2,
    };
    rank << 32 | id as u64
}

/// The vocabulary and every (item, term, count), ordered by term then item.
/// One sort of all the (term, item) mentions does it, so an item named
/// twice, or a term listed twice, needs no special case.
fn collect(features: &[Features]) -> (Vocabulary, Vec<Occurrence>) {
    let mut mentions: Vec<(u64, u32, Field)> = features
        .iter()
        .flat_map(|f| f.terms.iter().map(move |&(id, field)| (term_key(id, field), f.item, field)))
        .collect();
    mentions.sort_unstable_by_key(|&(key, item, _)| (key, item));
    let mut vocabulary = Vocabulary::default();
    let mut occurrences = Vec::new();
    for term in mentions.chunk_by(|a, b| a.0 == b.0) {
        let index = vocabulary.id.len() as u32;
        let before = occurrences.len();
        for same in term.chunk_by(|a, b| a.1 == b.1) {
            occurrences.push(Occurrence { item: same[0].1, term: index, count: same.len() as u32 });
        }
        vocabulary.field.push(term[0].2);
        vocabulary.id.push(term[0].0 as u32); // the key's low half
        vocabulary.df.push((occurrences.len() - before) as u32);
    }
    (vocabulary, occurrences)
}

/// A term's weight before normalisation.
fn weight(field: Field, count: u32, idf: f64, weights: FieldWeights) -> f64 {
    let tf = match field {
        Field::Genre => 1.0,
        Field::Title => count as f64,
        Field::Tag => 1.0 + (count as f64).ln(),
    };
    weights.of(field) * tf * idf
}

/// The TF-IDF vectors, split into the parts the search treats differently.
#[derive(Debug, Clone, PartialEq)]
struct Vectors {
    described: u32,
    /// Per item, 1 / the norm of its unnormalised vector; 0 with no terms.
    inv_norm: Vec<f32>,
    /// Per genre term, its weight in every vector having it (tf is 1).
    genre_weight: Vec<f32>,
    /// Per item, its genre terms ascending.
    genres: Rows<u32>,
    /// Per item, (term, normalised weight) of its title words and tags.
    sparse: Rows<(u32, f32)>,
}

impl Vectors {
    /// The vectors, and per term the (item, normalised weight) of the items
    /// having it (the rows of genre terms are empty).
    fn new(
        items: u32,
        vocabulary: &Vocabulary,
        occurrences: &[Occurrence],
        weights: FieldWeights,
    ) -> (Vectors, Rows<(u32, f32)>) {
        let mut has_terms = vec![false; items as usize];
        for o in occurrences {
            has_terms[o.item as usize] = true;
        }
        let described = has_terms.iter().filter(|&&d| d).count() as u32;
        let idf: Vec<f64> = vocabulary.df.iter().map(|&df| (described as f64 / df as f64).ln() + 1.0).collect();
        let weight_of =
            |o: &Occurrence| weight(vocabulary.field[o.term as usize], o.count, idf[o.term as usize], weights);
        let mut norm2 = vec![0f64; items as usize];
        for o in occurrences {
            norm2[o.item as usize] += weight_of(o).powi(2);
        }
        let inv_norm: Vec<f64> = norm2.iter().map(|&n| if n > 0.0 { 1.0 / n.sqrt() } else { 0.0 }).collect();
        let is_genre = |o: &&Occurrence| vocabulary.field[o.term as usize] == Field::Genre;
        let genre_terms: Vec<(u32, u32)> = occurrences.iter().filter(is_genre).map(|o| (o.item, o.term)).collect();
        let sparse: Vec<(u32, u32, f32)> = occurrences
            .iter()
            .filter(|o| !is_genre(o))
            .map(|o| (o.item, o.term, (weight_of(o) * inv_norm[o.item as usize]) as f32))
            .collect();
        let by_item: Vec<(u32, (u32, f32))> = sparse.iter().map(|&(i, t, w)| (i, (t, w))).collect();
        let by_term: Vec<(u32, (u32, f32))> = sparse.iter().map(|&(i, t, w)| (t, (i, w))).collect();
        let genre_count = vocabulary.field.iter().take_while(|&&f| f == Field::Genre).count();
        let vectors = Vectors {
            described,
            inv_norm: inv_norm.iter().map(|&n| n as f32).collect(),
            genre_weight: (0..genre_count).map(|t| weight(Field::Genre, 1, idf[t], weights) as f32).collect(),
            genres: Rows::bucket(items as usize, &genre_terms),
            sparse: Rows::bucket(items as usize, &by_item),
        };
        (vectors, Rows::bucket(vocabulary.id.len(), &by_term))
    }
}

/// The described items grouped by genre set (the empty set is a group too).
#[derive(Debug, Clone, PartialEq)]
struct Groups {
    /// Per item, its group; `NO_GROUP` without terms.
    of: Vec<u32>,
    /// Per group, its genre terms ascending.
    genres: Rows<u32>,
    /// Per group, (item, 1 / norm) by descending 1 / norm, then id: the
    /// order in which their genre-only scores fall.
    members: Rows<(u32, f32)>,
    /// Per genre term, the groups having it.
    with_genre: Rows<u32>,
}

impl Groups {
    fn new(v: &Vectors) -> Groups {
        let items = v.inv_norm.len() as u32;
        let mut described: Vec<u32> = (0..items).filter(|&i| v.inv_norm[i as usize] > 0.0).collect();
        described.sort_by(|&a, &b| v.genres.row(a).cmp(v.genres.row(b)).then(a.cmp(&b)));
        let mut groups = Groups {
            of: vec![NO_GROUP; items as usize],
            genres: Rows { offsets: vec![0], values: Vec::new() },
            members: Rows { offsets: vec![0], values: Vec::new() },
            with_genre: Rows { offsets: Vec::new(), values: Vec::new() },
        };
        let mut genre_groups = Vec::new();
        for same in described.chunk_by(|&a, &b| v.genres.row(a) == v.genres.row(b)) {
            let group = groups.count() as u32;
            let mut members: Vec<(u32, f32)> = same.iter().map(|&i| (i, v.inv_norm[i as usize])).collect();
            members.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &i in same {
                groups.of[i as usize] = group;
            }
            let genres = v.genres.row(same[0]);
            genre_groups.extend(genres.iter().map(|&g| (g, group)));
            push_row(&mut groups.genres, genres);
            push_row(&mut groups.members, &members);
        }
        groups.with_genre = Rows::bucket(v.genre_weight.len(), &genre_groups);
        groups
    }

    fn count(&self) -> usize {
        self.members.offsets.len() - 1
    }
}

fn push_row<T: Copy>(rows: &mut Rows<T>, row: &[T]) {
    rows.values.extend_from_slice(row);
    rows.offsets.push(rows.values.len() as u32);
}

/// The score to beat: the k-th best once `top` holds k. Equal scores still
/// may enter, on a lower id.
fn floor(top: &TopN) -> f32 {
    match top.worst() {
        Some(worst) if top.is_full() => worst,
        _ => f32::NEG_INFINITY,
    }
}

/// One entry of a sparse term's inverted list, with what scoring the item
/// needs: the list is read in order, the per-item arrays would be read at
/// random.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Posting {
    item: u32,
    weight: f32,
    group: u32,
    inv_norm: f32,
}

/// An item's score against the item being ranked, valid while `stamp`
/// holds that item, so nothing is reset between items.
#[derive(Debug, Clone, Copy)]
struct Slot {
    stamp: u32,
    score: f32,
}

/// The neighbour search, with its buffers: allocated once per search.
struct Search<'a> {
    v: &'a Vectors,
    groups: &'a Groups,
    postings: &'a Rows<Posting>,
    slots: Vec<Slot>,
    /// The items sharing a sparse term with the item being ranked.
    touched: Vec<u32>,
    /// Per group H, d(G, H) for the genre set G being ranked; 0 if they
    /// share no genre.
    dot: Vec<f32>,
    /// Per group, d(G, H) / its smallest norm: its best genre-only score
    /// times the ranked item's norm.
    best: Vec<f32>,
    /// The groups sharing a genre with G, by descending `best` then id, but
    /// only the first `sorted` of them: see [`Search::visit`].
    order: Vec<u32>,
    sorted: usize,
}

impl<'a> Search<'a> {
    fn new(v: &'a Vectors, groups: &'a Groups, postings: &'a Rows<Posting>) -> Search<'a> {
        let items = v.inv_norm.len();
        Search {
            v,
            groups,
            postings,
            slots: vec![Slot { stamp: u32::MAX, score: 0.0 }; items],
            touched: Vec::new(),
            dot: vec![0.0; groups.count()],
            best: vec![0.0; groups.count()],
            order: Vec::new(),
            sorted: 0,
        }
    }

    /// d(G, H) for every set H sharing a genre with G. Only the shared
    /// genres add to it, each its weight squared.
    fn genre_dots(&mut self, group: u32) {
        let groups = self.groups;
        for &g in groups.genres.row(group) {
            let w2 = self.v.genre_weight[g as usize].powi(2);
            for &h in groups.with_genre.row(g) {
                if self.dot[h as usize] == 0.0 {
                    self.order.push(h);
                }
                self.dot[h as usize] += w2;
            }
        }
        for &h in &self.order {
            let (_, inv_norm) = groups.members.row(h)[0];
            self.best[h as usize] = self.dot[h as usize] * inv_norm;
        }
    }

    /// The `p`-th group to visit. The order is sorted only as far as some
    /// walk has reached, in doubling chunks: most walks stop after a few
    /// groups, and sorting every set's whole list cost more than all walks.
    fn visit(&mut self, p: usize) -> Option<u32> {
        if p >= self.sorted && p < self.order.len() {
            let end = (2 * p).max(8).min(self.order.len());
            let best = &self.best;
            let by = |a: &u32, b: &u32| best[*b as usize].total_cmp(&best[*a as usize]).then(a.cmp(b));
            let rest = &mut self.order[self.sorted..];
            let chunk = end - self.sorted;
            if chunk < rest.len() {
                rest.select_nth_unstable_by(chunk, by);
            }
            rest[..chunk].sort_unstable_by(by);
            self.sorted = end;
        }
        self.order.get(p).copied()
    }

    /// Item i's neighbours into `top`: first the items sharing a sparse term
    /// (scored in full), then the rest by their genre part alone.
    fn rank(&mut self, i: u32, inv_norm: f32, top: &mut TopN) {
        self.sparse_dots(i, inv_norm);
        let mut beat = f32::NEG_INFINITY;
        for &j in &self.touched {
            let score = self.slots[j as usize].score;
            if score >= beat {
                top.push(j, score);
                beat = floor(top);
            }
        }
        self.genre_only(i, inv_norm, top);
    }

    /// Scores of i with every item sharing a sparse term: the genre part,
    /// set at the first shared term, plus the sparse dot product. Those
    /// items go in `touched`; all are stamped with i, as is i itself, so
    /// it is never its own neighbour.
    fn sparse_dots(&mut self, i: u32, inv_norm: f32) {
        self.touched.clear();
        self.slots[i as usize].stamp = i;
        for &(t, w) in self.v.sparse.row(i) {
            for p in self.postings.row(t) {
                let slot = &mut self.slots[p.item as usize];
                if slot.stamp != i {
                    *slot = Slot { stamp: i, score: self.dot[p.group as usize] * p.inv_norm * inv_norm };
                    self.touched.push(p.item);
                }
                slot.score += w * p.weight;
            }
        }
    }

    /// The items sharing no sparse term with i score d(G, H) / (n_i · n_j):
    /// walks the groups and their members from the highest such score down
    /// and stops at the first that cannot enter `top`.
    fn genre_only(&mut self, i: u32, inv_norm: f32, top: &mut TopN) {
        let mut p = 0;
        while let Some(h) = self.visit(p) {
            p += 1;
            // The first member's score below, to the bit: the same products
            // in the same order.
            if self.best[h as usize] * inv_norm < floor(top) {
                break;
            }
            let dot = self.dot[h as usize];
            for &(j, inv_norm_j) in self.groups.members.row(h) {
                let score = dot * inv_norm_j * inv_norm;
                if score < floor(top) {
                    break;
                }
                if self.slots[j as usize].stamp != i {
                    top.push(j, score);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn genre(id: u32) -> (u32, Field) {
        (id, Field::Genre)
    }
    fn title(id: u32) -> (u32, Field) {
        (id, Field::Title)
    }
    fn tag(id: u32) -> (u32, Field) {
        (id, Field::Tag)
    }
    fn movie(item: u32, terms: &[(u32, Field)]) -> Features {
        Features { item, terms: terms.to_vec() }
    }

    /// The reference: every item's normalised TF-IDF vector as sorted
    /// (term key, weight), computed plainly in f64.
    fn reference_vectors(items: u32, features: &[Features]) -> Vec<Vec<(u64, f64)>> {
        let mut counts = vec![std::collections::BTreeMap::<(u64, u8), u32>::new(); items as usize];
        for f in features {
            for &(id, field) in &f.terms {
                *counts[f.item as usize].entry((term_key(id, field), field as u8)).or_default() += 1;
            }
        }
        let n = counts.iter().filter(|c| !c.is_empty()).count() as f64;
        let mut df = std::collections::HashMap::<u64, f64>::new();
        for c in &counts {
            for &(key, _) in c.keys() {
                *df.entry(key).or_default() += 1.0;
            }
        }
        let w = FieldWeights::DEFAULT;
        let tf = |field: u8, count: u32| match field {
            0 => w.genre,
            1 => w.title * count as f64,
            _ => w.tag * (1.0 + (count as f64).ln()),
        };
        counts
            .iter()
            .map(|c| {
                let w: Vec<(u64, f64)> =
                    c.iter().map(|(&(key, f), &count)| (key, tf(f, count) * ((n / df[&key]).ln() + 1.0))).collect();
                let norm = w.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
                w.into_iter().map(|(key, x)| (key, x / norm)).collect()
            })
            .collect()
    }

    fn sparse_dot(a: &[(u64, f64)], b: &[(u64, f64)]) -> f64 {
        let (mut x, mut y, mut sum) = (0, 0, 0.0);
        while x < a.len() && y < b.len() {
            match a[x].0.cmp(&b[y].0) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    sum += a[x].1 * b[y].1;
                    (x, y) = (x + 1, y + 1);
                }
            }
        }
        sum
    }

    /// Asserts each item's neighbours are the brute-force top-k: the same
    /// ids in the same order, except that ids may trade places with another
    /// of the same cosine (within 1e-6); returns how many did.
    fn assert_exact(items: u32, features: &[Features], k: usize) -> usize {
        let content = Content::build(items, features, k);
        let vectors = reference_vectors(items, features);
        let mut swapped = 0;
        for i in 0..items as usize {
            let cos: Vec<f64> =
                (0..items as usize).map(|j| if j == i { 0.0 } else { sparse_dot(&vectors[i], &vectors[j]) }).collect();
            let mut expected: Vec<usize> = (0..items as usize).filter(|&j| cos[j] > 0.0).collect();
            expected.sort_by(|&a, &b| cos[b].total_cmp(&cos[a]).then(a.cmp(&b)));
            expected.truncate(k);
            let (ids, sims) = content.neighbours(i as u32);
            assert_eq!(ids.len(), expected.len(), "item {i}: {ids:?} vs {expected:?}");
            let sims = &sims;
            let mut distinct = ids.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), ids.len(), "item {i} repeats a neighbour");
            for (p, (&j, &sim)) in ids.iter().zip(sims).enumerate() {
                let want = expected[p];
                assert!(j as usize != i, "item {i} is its own neighbour");
                assert!((sim as f64 - cos[j as usize]).abs() < 1e-5, "item {i} → {j}: {sim} vs {}", cos[j as usize]);
                assert!((sim as f64 - cos[want]).abs() < 1e-5, "item {i} place {p}: {sim} vs {}", cos[want]);
                if j as usize != want {
                    assert!((cos[j as usize] - cos[want]).abs() < 1e-6, "item {i} place {p}: {j} instead of {want}");
                    swapped += 1;
                }
            }
        }
        swapped
    }

    /// A draw from 0..n skewed towards small values, like word frequencies.
    fn skewed(rng: &mut Xoshiro256PlusPlus, n: u32) -> u32 {
        let u: f64 = rng.random();
        ((n as f64 * u.powi(3)) as u32).min(n - 1)
    }

    /// Genre ids with MovieLens-like frequencies (Drama in 40% of movies).
    fn random_genres(rng: &mut Xoshiro256PlusPlus, frequencies: &[f64], terms: &mut Vec<(u32, Field)>) {
        for (g, &p) in frequencies.iter().enumerate() {
            if rng.random_bool(p) {
                terms.push(genre(g as u32));
            }
        }
    }

    /// A catalogue with skewed genres (some items with none), 0–5 title
    /// words, tags on some items, featureless items, items split over two
    /// `Features`, and the features in no particular order.
    fn random_catalogue(items: u32, seed: u64) -> Vec<Features> {
        const GENRES: [f64; 12] = [0.4, 0.27, 0.15, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut features = Vec::new();
        for item in (0..items).rev() {
            if rng.random_bool(0.05) {
                continue;
            }
            let mut terms = Vec::new();
            random_genres(&mut rng, &GENRES, &mut terms);
            for _ in 0..rng.random_range(0..=5) {
                terms.push(title(skewed(&mut rng, 300)));
            }
            if rng.random_bool(0.3) {
                for _ in 0..rng.random_range(1..=6) {
                    terms.push(tag(skewed(&mut rng, 100)));
                }
            }
            if terms.len() > 2 && rng.random_bool(0.2) {
                let rest = terms.split_off(terms.len() / 2);
                features.push(movie(item, &rest));
            }
            if !terms.is_empty() {
                features.push(movie(item, &terms));
            }
        }
        features
    }

    /// The hybrid's content scores are brute-force cosine sums, for every
    /// item, kept neighbour or not (a neighbour list of 1 keeps almost none).
    #[test]
    fn cosine_sums_are_exact_for_every_item() {
        let items = 500;
        let features = random_catalogue(items, 9);
        let content = Content::build(items, &features, 1);
        let vectors = reference_vectors(items, &features);
        let liked = [3, 17, 256, 499];
        let sums = content.cosine_sums(&liked);
        assert_eq!(sums.len(), items as usize);
        for j in 0..items as usize {
            let want: f64 = liked.iter().map(|&l| sparse_dot(&vectors[l as usize], &vectors[j])).sum();
            assert!((f64::from(sums[j]) - want).abs() < 1e-5, "item {j}: {} vs {want}", sums[j]);
        }
        assert!(sums.iter().filter(|&&s| s > 0.0).count() > 50, "most items share a term with four liked ones");
    }

    #[test]
    fn neighbours_are_the_brute_force_top_k() {
        for (items, k, seed) in [(2000, 10, 1), (700, 1, 2), (700, 40, 3), (300, 300, 4)] {
            let features = random_catalogue(items, seed);
            let swapped = assert_exact(items, &features, k);
            assert!(swapped <= items as usize / 50, "{swapped} near-ties swapped: more than rounding explains");
        }
    }

    #[test]
    fn no_neighbours_kept_means_empty_lists() {
        let features = random_catalogue(200, 5);
        let content = Content::build(200, &features, 0);
        assert!((0..200).all(|i| content.neighbours(i).0.is_empty()));
        assert_eq!(content.stats().pairs, 0);
    }

    #[test]
    fn cosine_is_the_hand_computed_tf_idf() {
        // 0 and 1 share genre 1 and title word 7; 0 also has title word 8
        // (twice); 2 shares nothing, but its genre and tag ids are 7: other
        // fields, other terms.
        let features = [
            movie(0, &[genre(1), title(7), title(8), title(8)]),
            movie(1, &[genre(1), title(7)]),
            movie(2, &[genre(7), tag(7), tag(7)]),
        ];
        let content = Content::build_weighted(3, &features, 5, FieldWeights::EQUAL);
        let shared = (3f64 / 2.0).ln() + 1.0; // df 2 of N = 3
        let single = 3f64.ln() + 1.0; // df 1
        let a = [shared, shared, 2.0 * single]; // genre 1, title 7, title 8 ×2
        let b = [shared, shared];
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let expected = (a[0] * b[0] + a[1] * b[1]) / (norm(&a) * norm(&b));
        let (ids, sims) = content.neighbours(0);
        assert_eq!(ids, [1]);
        assert!((sims[0] as f64 - expected).abs() < 1e-6, "{} vs {expected}", sims[0]);
        assert_eq!(content.similar(1, 3), vec![(0, sims[0])]);
        assert!(content.neighbours(2).0.is_empty());
        assert_eq!(content.stats(), ContentStats { items: 3, terms: 5, pairs: 0, bytes: content.stats().bytes });
    }

    #[test]
    fn featureless_items_have_no_neighbours_and_repeated_items_merge() {
        let features = [
            movie(4, &[genre(1)]),
            movie(0, &[genre(1), title(3)]),
            movie(2, &[title(9)]),
            movie(4, &[title(9)]),
            movie(3, &[]),
        ];
        let content = Content::build(6, &features, 10);
        for lonely in [1, 3, 5] {
            assert!(content.neighbours(lonely).0.is_empty());
            assert!((0..6).all(|i| !content.neighbours(i).0.contains(&lonely)));
        }
        // 4's genre from its first entry reaches 0, its title word from the
        // second reaches 2.
        let mut of_four = content.neighbours(4).0.to_vec();
        of_four.sort_unstable();
        assert_eq!(of_four, [0, 2]);
        assert_eq!(content.genres(4), [1]);
        assert_eq!(content.stats().items, 3);
        assert_eq!(content.items(), 6);
    }

    #[test]
    fn genres_are_distinct_and_ascending() {
        let features = [movie(1, &[genre(9), title(3), genre(3), genre(9), tag(4)]), movie(0, &[genre(5)])];
        let content = Content::build(3, &features, 4);
        assert_eq!(content.genres(1), [3, 9]);
        assert_eq!(content.genres(0), [5]);
        assert!(content.genres(2).is_empty());
    }

    #[test]
    fn ties_go_to_the_lower_id() {
        // 10 and 3 score the same with 5 through different genre sets of
        // equal df; 10's set is visited first, and 3 must still displace it.
        let features = [movie(5, &[genre(0), genre(1)]), movie(10, &[genre(0)]), movie(3, &[genre(1)])];
        let content = Content::build(11, &features, 1);
        assert_eq!(content.neighbours(5).0, [3]);
        let content = Content::build(11, &features, 2);
        let (ids, sims) = content.neighbours(5);
        assert_eq!((ids.as_slice(), sims[0]), ([3, 10].as_slice(), sims[1]));
        assert_eq!(content.neighbours(10).0, [5]);
        // The same through title words: 10 is met first in 5's postings.
        let features = [movie(5, &[title(0), title(1)]), movie(10, &[title(0)]), movie(3, &[title(1)])];
        assert_eq!(Content::build(11, &features, 1).neighbours(5).0, [3]);
    }

    #[test]
    fn an_empty_catalogue_builds() {
        let content = Content::build(0, &[], 10);
        assert_eq!(content.stats(), ContentStats { items: 0, terms: 0, pairs: 0, bytes: content.stats().bytes });
        assert_eq!(Content::build(3, &[], 10).neighbours(2).0, [] as [u32; 0]);
    }

    /// A catalogue shaped like MovieLens 25M's 62,000 movies: 20 genres,
    /// about three title words from a large vocabulary, tags on a minority.
    fn movielens_like(items: u32, seed: u64) -> Vec<Features> {
        const GENRES: [f64; 20] = [
            0.40, 0.27, 0.13, 0.12, 0.10, 0.09, 0.08, 0.08, 0.07, 0.06, 0.05, 0.05, 0.04, 0.04, 0.03, 0.02, 0.02, 0.01,
            0.005, 0.003,
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..items)
            .map(|item| {
                let mut terms = Vec::new();
                random_genres(&mut rng, &GENRES, &mut terms);
                for _ in 0..rng.random_range(1..=5) {
                    terms.push(title(skewed(&mut rng, 40_000)));
                }
                if rng.random_bool(0.3) {
                    for _ in 0..rng.random_range(1..=20) {
                        terms.push(tag(skewed(&mut rng, 20_000)));
                    }
                }
                movie(item, &terms)
            })
            .collect()
    }

    #[test]
    #[ignore = "timing: run in release with --ignored --nocapture"]
    fn builds_a_movielens_sized_catalogue_quickly() {
        let features = movielens_like(62_000, 7);
        let start = std::time::Instant::now();
        let content = Content::build(62_000, &features, 20);
        let elapsed = start.elapsed();
        println!("62,000 movies: {:?}, {:?}", elapsed, content.stats());
        assert!(content.stats().pairs > 62_000 * 19);
    }
}
