//! An explanation in people's words: the engine's [`Explanation`] (indices
//! and numbers) given titles, user ids and a sentence per reason. The CLI
//! prints it as JSON (`cinema explain`), the app draws it with bars.

use cinema_protocol::{Decomposition, Explanation, Lift, Mark};
use cinema_store::dataset::Dataset;

use super::Explained;
use cinema_store::history::titles::display;
use serde::Serialize;

/// Rated movies a reason names.
const NAMED: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub movie_id: u32,
    pub movie_title: String,
    /// Predicted stars (the rating model's), on the dataset's scale.
    pub predicted_rating: f32,
    /// In [0, 1]: support of the viewer and the movie, and how much the
    /// nearest raters agree (formula in the README).
    pub confidence: f32,
    pub reasons: Vec<Reason>,
    /// Everyone's mean plus the movie's bias: the prediction before any of
    /// the viewer's ratings.
    pub baseline: f32,
    /// Every rated movie's contribution, added up: `baseline +
    /// contributions_sum` is `predicted_rating` (before clipping to the scale).
    pub contributions_sum: f32,
    /// Whether the contributions are exact (a fold-in), or those of a
    /// least-squares refit of a dataset user's trained vector.
    pub exact: bool,
    /// The ranking model's score taken apart the same way, when one ranks the list.
    pub ranking: Option<Ranking>,
    /// The models the rating model is made of, by name, with their weights
    /// (a blend's members); empty for a model of one piece.
    pub parts: Vec<(String, f32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub score: f32,
    /// What the score is before your ratings' parts (0 for one model; a
    /// blend's is its members' standardization for you); `baseline +
    /// contributions_sum` is `score` when `exact`.
    pub baseline: f32,
    pub contributions_sum: f32,
    pub exact: bool,
    pub movies: Vec<Contribution>,
    /// What each movie you marked adds (part of `contributions_sum`).
    pub marks: Vec<Marked>,
}

/// A marked movie's part of the ranking score.
#[derive(Debug, Clone, Serialize)]
pub struct Marked {
    pub movie_id: u32,
    pub title: String,
    /// `seen` (watched, no stars) or `hidden` (not interested).
    pub mark: &'static str,
    pub contribution: f32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reason {
    SimilarMovies {
        description: String,
        movies: Vec<Contribution>,
    },
    /// `parts[i]` is `genres[i]`'s part of `match_score`; they add up to it.
    GenreMatch {
        description: String,
        genres: Vec<String>,
        parts: Vec<f32>,
        match_score: f32,
    },
    SimilarUsers {
        description: String,
        users: Vec<Neighbour>,
    },
    HybridShare {
        description: String,
        cf_share: f32,
        content_share: f32,
    },
    /// Where diversity moved the movie: its place without and with it.
    Diversity {
        description: String,
        diversity: f32,
        place_before: u32,
        place_after: u32,
        price: f32,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Contribution {
    pub movie_id: u32,
    pub title: String,
    pub your_rating: f32,
    pub contribution: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub user_id: u32,
    pub rating: f32,
    pub similarity: f32,
}

impl Why {
    /// `e` in words; `weight` and `diversity` are what it was asked under.
    pub fn new(explained: &Explained, dataset: &Dataset, weight: f32, diversity: f32) -> Why {
        let e = &explained.explanation;
        let movie = &dataset.movies[e.item as usize];
        let stars = named(&e.stars, dataset);
        let (genres, parts): (Vec<String>, Vec<f32>) =
            e.genres.iter().filter_map(|&(g, part)| Some((dataset.genres.get(g as usize)?.clone(), part))).unzip();
        // The one index past the dataset's users is you, whose ratings the
        // engine also learned from: you are not a "similar user" to yourself
        // or anyone else's explanation.
        let users: Vec<Neighbour> = e
            .similar_users
            .iter()
            .filter_map(|&(u, rating, similarity)| {
                let user_id = *dataset.user_ids.get(u as usize)?;
                Some(Neighbour { user_id, rating, similarity })
            })
            .collect();
        let mut reasons = vec![
            Reason::SimilarMovies { description: because(&stars, &e.stars, like(dataset)), movies: stars },
            Reason::GenreMatch {
                description: genre_sentence(e, &genres, &parts),
                genres,
                parts,
                match_score: e.genre_match,
            },
            Reason::SimilarUsers { description: users_sentence(&users), users },
            Reason::HybridShare { description: hybrid_sentence(e, weight), cf_share: e.cf, content_share: e.content },
        ];
        if let Some(lift) = e.lift.filter(|_| diversity > 0.0) {
            reasons.push(Reason::Diversity {
                description: diversity_sentence(lift, diversity),
                diversity,
                place_before: lift.before,
                place_after: lift.after,
                price: lift.price,
            });
        }
        Why {
            movie_id: movie.id,
            movie_title: display(&movie.title),
            predicted_rating: e.prediction,
            confidence: e.confidence,
            reasons,
            baseline: e.stars.baseline,
            contributions_sum: e.stars.total - e.stars.baseline,
            exact: e.stars.exact,
            parts: explained.parts.clone(),
            ranking: e.rank.as_ref().map(|r| Ranking {
                score: r.model,
                baseline: r.baseline,
                contributions_sum: r.total - r.baseline,
                exact: r.exact,
                movies: named(r, dataset),
                marks: r
                    .marks
                    .iter()
                    .take(NAMED)
                    .map(|&(i, mark, contribution)| Marked {
                        movie_id: dataset.movies[i as usize].id,
                        title: display(&dataset.movies[i as usize].title),
                        mark: match mark {
                            Mark::Seen => "seen",
                            Mark::Hidden => "hidden",
                        },
                        contribution,
                    })
                    .collect(),
            }),
        }
    }

    /// The `similar_movies` reason's movies (largest contribution first).
    pub fn movies(&self) -> &[Contribution] {
        self.reasons
            .iter()
            .find_map(|r| match r {
                Reason::SimilarMovies { movies, .. } => Some(movies.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A rating that says "liked", as the engine counts it.
fn like(dataset: &Dataset) -> f32 {
    crate::eval::score::scale(dataset).like_value()
}

/// The largest contributions of `d`, with titles.
fn named(d: &Decomposition, dataset: &Dataset) -> Vec<Contribution> {
    d.contributions
        .iter()
        .take(NAMED)
        .map(|&(i, rating, contribution)| {
            let m = &dataset.movies[i as usize];
            Contribution { movie_id: m.id, title: display(&m.title), your_rating: rating, contribution }
        })
        .collect()
}

/// "Because you liked A (5) and rated B (1); despite C (2)": a low rating
/// can lift a movie too (one unlike it that you disliked), so only ratings
/// at or above `like` are called liking.
fn because(movies: &[Contribution], d: &Decomposition, like: f32) -> String {
    if d.contributions.is_empty() {
        return format!("Nothing rated yet: this is the movie's own standing ({:.2})", d.baseline);
    }
    let names = |keep: &dyn Fn(&Contribution) -> bool| {
        let names: Vec<String> =
            movies.iter().filter(|c| keep(c)).map(|c| format!("{} ({})", c.title, c.your_rating)).collect();
        join(&names)
    };
    let liked = names(&|c| c.contribution > 0.0 && c.your_rating >= like);
    let rated = names(&|c| c.contribution > 0.0 && c.your_rating < like);
    let despite = names(&|c| c.contribution < 0.0);
    let mut up = Vec::new();
    if !liked.is_empty() {
        up.push(format!("liked {liked}"));
    }
    if !rated.is_empty() {
        up.push(format!("rated {rated}"));
    }
    match (up.join(" and "), despite) {
        (up, despite) if despite.is_empty() => format!("Because you {up}"),
        (up, despite) if up.is_empty() => format!("Despite {despite}, which pull it down"),
        (up, despite) => format!("Because you {up}; despite {despite}"),
    }
}

/// "Its genres match 59 % of your taste: Thriller 39 + Mystery 20 + Sci-Fi 0
/// (…)": the parts are each genre's share of the one cosine, so they add up.
fn genre_sentence(e: &Explanation, genres: &[String], parts: &[f32]) -> String {
    if e.liked == 0 {
        return "No liked movies yet to compare its genres with".into();
    }
    let mut named: Vec<(&String, f32)> = genres.iter().zip(parts.iter().copied()).collect();
    named.sort_by(|a, b| b.1.total_cmp(&a.1));
    let sum: Vec<String> = named.iter().map(|(g, part)| format!("{g} {:.0}", part * 100.0)).collect();
    let sum = if sum.is_empty() { "it has no genres".to_owned() } else { sum.join(" + ") };
    format!(
        "Its genres match {:.0} % of your taste: {sum} (the cosine of its genres with those of your {} liked movies)",
        e.genre_match * 100.0,
        e.liked,
    )
}

/// The models a rating model is made of, in words: "These stars are a blend:
/// svdpp × 0.46, knn × 0.31 and svd × 0.23".
pub fn parts_sentence(parts: &[(String, f32)]) -> String {
    format!("These stars are a blend: {}", parts_list(parts))
}

/// "svdpp × 0.46, knn × 0.31 and svd × 0.23".
pub fn parts_list(parts: &[(String, f32)]) -> String {
    join(&parts.iter().map(|(name, weight)| format!("{name} × {weight:.2}")).collect::<Vec<_>>())
}

/// How the list score comes from its two parts, and how CF's part relates
/// to the ranking score the panel shows above it.
fn diversity_sentence(lift: Lift, diversity: f32) -> String {
    let moved = match lift.after.cmp(&lift.before) {
        std::cmp::Ordering::Less => format!("lifted it from #{} to #{}", lift.before, lift.after),
        std::cmp::Ordering::Greater => format!("lowered it from #{} to #{}", lift.before, lift.after),
        std::cmp::Ordering::Equal => format!("kept it at #{}", lift.before),
    };
    format!(
        "Diversity {diversity:.1} {moved} among your candidates: it charges each movie for how often other \
         people's lists show it (this one {:.2} standard deviations of your scores) and spreads the list over \
         the genres you like",
        lift.price
    )
}

fn hybrid_sentence(e: &Explanation, weight: f32) -> String {
    // The engine sends the parts already weighed; each part alone is in [0, 1].
    let alone = |weighed: f32, w: f32| if w > 0.0 { format!("{:.2}", weighed / w) } else { "not counted".into() };
    let cf_source = if e.rank.is_some() { "ranking score" } else { "predicted stars" };
    format!(
        "Its list score is {:.2} = {weight:.1} × CF {} + {:.1} × content {} = {:.2} + {:.2}. CF is its {cf_source} \
         scaled so the candidates span 0 to 1; content is its mean similarity to the movies you liked, over the \
         best candidate's",
        e.cf + e.content,
        alone(e.cf, weight),
        1.0 - weight,
        alone(e.content, 1.0 - weight),
        e.cf,
        e.content,
    )
}

fn users_sentence(users: &[Neighbour]) -> String {
    if users.is_empty() {
        return "No one near your taste has liked it yet".into();
    }
    let names: Vec<String> = users.iter().map(|u| format!("user {} ({})", u.user_id, u.rating)).collect();
    format!("People with taste like yours liked it: {}", join(&names))
}

/// "A", "A and B", "A, B and C".
fn join(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::Decomposition;
    use cinema_store::dataset::{Format, Movie, RatingScale};

    fn dataset() -> Dataset {
        let movie = |id: u32, title: &str| Movie {
            id,
            title: title.into(),
            year: None,
            genres: 1,
            imdb_id: None,
            tmdb_id: None,
            tags: Vec::new(),
        };
        Dataset {
            name: "tiny".into(),
            format: Format::Demo,
            scale: RatingScale::WHOLE_STARS,
            genres: vec!["Drama".into()],
            movies: vec![movie(10, "Godfather, The"), movie(20, "Brazil")],
            user_ids: vec![7],
            ratings: Vec::new(),
        }
    }

    fn explanation() -> Explanation {
        Explanation {
            item: 0,
            prediction: 4.0,
            stars: Decomposition {
                baseline: 3.5,
                contributions: vec![(1, 5.0, 0.75), (1, 1.0, -0.25)],
                total: 4.0,
                model: 4.0,
                exact: true,
                marks: vec![],
            },
            rank: None,
            genres: vec![(0, 0.5)],
            genre_match: 0.9,
            // User index 1 is past the dataset's one user: that is you.
            similar_users: vec![(0, 5.0, 0.8), (1, 4.0, 0.7)],
            cf: 0.5,
            content: 0.2,
            liked: 2,
            user_ratings: 2,
            item_ratings: 1,
            confidence: 0.4,
            lift: Some(Lift { price: 0.25, before: 23, after: 7 }),
        }
    }

    #[test]
    fn reasons_name_movies_and_users_in_peoples_words() {
        let parts = vec![("svdpp".to_owned(), 0.6)];
        let why = Why::new(&Explained { explanation: explanation(), parts: parts.clone() }, &dataset(), 0.8, 0.0);
        assert_eq!((why.movie_id, why.movie_title.as_str()), (10, "The Godfather"));
        assert_eq!(why.parts, parts);
        let blend = [("svdpp".to_owned(), 0.46), ("knn".to_owned(), 0.31), ("svd".to_owned(), 0.234)];
        assert_eq!(parts_sentence(&blend), "These stars are a blend: svdpp × 0.46, knn × 0.31 and svd × 0.23");
        assert_eq!(why.contributions_sum, 0.5);
        let Reason::SimilarMovies { description, movies } = &why.reasons[0] else { panic!() };
        assert_eq!(description, "Because you liked Brazil (5); despite Brazil (1)");
        assert_eq!(movies.len(), 2);
        let Reason::SimilarUsers { users, .. } = &why.reasons[2] else { panic!() };
        assert_eq!(users.len(), 1, "you are not listed as a similar user");
        assert_eq!(users[0].user_id, 7);
        let Reason::GenreMatch { genres, description, .. } = &why.reasons[1] else { panic!() };
        assert_eq!(genres, &["Drama".to_owned()]);
        assert!(description.starts_with("Its genres match 90 % of your taste: Drama 50 "), "{description}");
        let Reason::HybridShare { description, .. } = &why.reasons[3] else { panic!() };
        // 0.5 and 0.2 are the weighed parts, each part alone is that over its weight.
        let cf = format!("{:.2}", 0.5f32 / 0.8);
        assert!(
            description.starts_with(&format!("Its list score is 0.70 = 0.8 × CF {cf} + 0.2 × content 1.00")),
            "{description}"
        );
        assert_eq!(why.reasons.len(), 4, "no diversity, no word about it");
    }

    #[test]
    fn a_movie_diversity_lifted_says_from_where() {
        let explained = Explained { explanation: explanation(), parts: Vec::new() };
        let why = Why::new(&explained, &dataset(), 0.8, 0.4);
        let Some(Reason::Diversity { description, place_before: 23, place_after: 7, .. }) = why.reasons.last() else {
            panic!("{:?}", why.reasons)
        };
        assert!(description.starts_with("Diversity 0.4 lifted it from #23 to #7 among your candidates"));
        assert!(description.contains("(this one 0.25 standard deviations of your scores)"), "{description}");
    }

    #[test]
    fn lists_read_as_sentences() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join(&names(&["A"])), "A");
        assert_eq!(join(&names(&["A", "B", "C"])), "A, B and C");
    }
}
