//! What the content model reads about each movie: its genres, the words of
//! its title and its tags, as term ids of one vocabulary per field. The
//! engine weighs them (TF-IDF) and finds neighbours; the host only decides
//! what counts as a term, because only the host sees text.

use std::collections::HashMap;

use cinema_protocol::{Features, Field};
use cinema_store::dataset::Dataset;

/// Title words that say nothing about a movie (English and the articles
/// MovieLens moves to the end: "Matrix, The").
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "and", "in", "on", "to", "for", "with", "at", "by", "from", "is", "it", "or", "as", "la",
    "le", "les", "el", "los", "las", "il", "der", "die", "das", "de", "du", "des", "ii", "iii", "iv", "vs",
];

/// Tags per movie the content model reads, most frequent first: a film of
/// MovieLens 25M can carry hundreds, and a tag on a large share of the
/// catalogue costs the engine as much as a genre (see `cinema_engine::content`).
const MAX_TAGS: usize = 20;

/// Every movie's terms: genre bits as genre ids, lower-cased title words
/// (no stop words, single letters or numbers alone), and each of its
/// [`MAX_TAGS`] most frequent tags as one term.
pub fn features(dataset: &Dataset) -> Vec<Features> {
    let mut words = Vocabulary::default();
    let mut tags = Vocabulary::default();
    dataset
        .movies
        .iter()
        .enumerate()
        .map(|(item, movie)| {
            let mut terms: Vec<(u32, Field)> =
                (0..32).filter(|g| movie.genres & (1 << g) != 0).map(|g| (g, Field::Genre)).collect();
            terms.extend(title_words(&movie.title).map(|w| (words.id(&w), Field::Title)));
            terms.extend(movie.tags.iter().take(MAX_TAGS).map(|t| (tags.id(&t.trim().to_lowercase()), Field::Tag)));
            Features { item: item as u32, terms }
        })
        .collect()
}

/// The title's words worth matching on.
fn title_words(title: &str) -> impl Iterator<Item = String> + '_ {
    title.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).filter(|w| {
        w.chars().count() > 1 && !w.chars().all(|c| c.is_ascii_digit()) && !STOP_WORDS.contains(&w.as_str())
    })
}

#[derive(Default)]
struct Vocabulary(HashMap<String, u32>);

impl Vocabulary {
    fn id(&mut self, term: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(term.to_owned()).or_insert(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_stop_words_and_numbers() {
        let words: Vec<String> = title_words("Matrix, The (1999): Reloaded 2").collect();
        assert_eq!(words, vec!["matrix", "reloaded"]);
        let words: Vec<String> = title_words("Amélie (Fabuleux destin d'Amélie Poulain, Le)").collect();
        assert_eq!(words, vec!["amélie", "fabuleux", "destin", "amélie", "poulain"]);
    }
}
