//! The built-in offline demo catalogue: invented movies and users with real
//! taste structure, so a first start without MovieLens still has something to
//! browse, rate, train and explain. Generated the same way every time.
//!
//! How the taste is built: each movie has genres and a hidden profile (its
//! genres plus noise, plus two "tone" dimensions no genre reveals); each user
//! leans towards one or two taste groups (action fans, horror fans, ...) and
//! has personal quirks. A rating is
//! `round(μ + user bias + movie quality + affinity(user, movie) + noise)`,
//! clipped to 1–5 stars. Users rate more of what they like and more of the
//! popular movies, as real people do. Titles, names and tags are invented.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::dataset::{Dataset, Format, Movie, Rating, RatingScale};

/// The demo catalogue's dataset name, shown wherever a dataset name is.
pub const NAME: &str = "demo";

/// The demo's genre table; `Movie::genres` bits index into it.
pub const GENRES: [&str; 12] = [
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Horror",
    "Romance",
    "Sci-Fi",
    "Thriller",
];

const ACTION: usize = 0;
const ADVENTURE: usize = 1;
const ANIMATION: usize = 2;
const COMEDY: usize = 3;
const CRIME: usize = 4;
const DOCUMENTARY: usize = 5;
const DRAMA: usize = 6;
const FANTASY: usize = 7;
const HORROR: usize = 8;
const ROMANCE: usize = 9;
const SCI_FI: usize = 10;
const THRILLER: usize = 11;

const MOVIES: usize = 400;
const USERS: usize = 300;
/// About this many ratings in all (per-user floors and caps move it a little).
const TARGET_RATINGS: usize = 20_000;
const MIN_RATINGS_PER_USER: usize = 15;
const MAX_RATINGS_PER_USER: usize = 250;
/// Changing the seed changes every title and rating: keep it fixed.
const SEED: u64 = 0xC1_4E_3A_DE_30;

const GENRE_COUNT: usize = GENRES.len();
/// Hidden taste dimensions beyond the genres, e.g. light vs dark in tone.
const TONE_DIMS: usize = 2;
const DIMS: usize = GENRE_COUNT + TONE_DIMS;
type Profile = [f32; DIMS];

/// Below the 3.5 people average: they mostly pick movies they expect to
/// like, which lifts the mean of what they rate.
const GLOBAL_MEAN: f32 = 2.95;
/// Rating points per unit of `preference · profile`.
const AFFINITY_SCALE: f32 = 0.7;
/// How strongly liking a movie's profile makes a user watch (and rate) it.
const CHOICE_SHARPNESS: f32 = 1.6;

/// First rating time: 2015-01-01T00:00:00Z.
const EPOCH_START: i64 = 1_420_070_400;
const EIGHT_YEARS: i64 = 8 * 365 * 86_400;

/// How often each genre is a movie's main genre (drama and comedy dominate
/// real catalogues; documentaries are rare).
const PRIMARY_WEIGHT: [f32; GENRE_COUNT] = [10.0, 6.0, 4.0, 14.0, 7.0, 3.0, 18.0, 4.0, 7.0, 8.0, 5.0, 8.0];

/// Genres that plausibly go with each main genre (Crime with Thriller, ...).
const COMPANIONS: [&[usize]; GENRE_COUNT] = [
    &[ADVENTURE, SCI_FI, THRILLER, CRIME],
    &[ACTION, FANTASY, ANIMATION, COMEDY],
    &[COMEDY, ADVENTURE, FANTASY],
    &[ROMANCE, DRAMA, CRIME, ANIMATION],
    &[THRILLER, DRAMA, ACTION],
    &[DRAMA, CRIME],
    &[ROMANCE, CRIME, THRILLER, COMEDY],
    &[ADVENTURE, ANIMATION, ROMANCE],
    &[THRILLER, SCI_FI, COMEDY],
    &[COMEDY, DRAMA],
    &[ACTION, THRILLER, ADVENTURE, HORROR],
    &[CRIME, HORROR, DRAMA, ACTION],
];

/// Taste groups: each user leans towards one (and a little towards another).
/// Weights are per genre; unlisted genres are neutral.
const TASTE_GROUPS: [&[(usize, f32)]; 5] = [
    // Thrill seekers.
    &[(ACTION, 1.2), (ADVENTURE, 0.8), (SCI_FI, 0.8), (THRILLER, 0.6), (ROMANCE, -0.6), (DOCUMENTARY, -0.5)],
    // The dark side.
    &[(HORROR, 1.4), (THRILLER, 0.9), (CRIME, 0.6), (ANIMATION, -0.6), (ROMANCE, -0.4)],
    // Heart on the sleeve.
    &[(ROMANCE, 1.2), (COMEDY, 0.8), (DRAMA, 0.6), (HORROR, -1.0), (ACTION, -0.4)],
    // Family night.
    &[(ANIMATION, 1.3), (FANTASY, 0.8), (ADVENTURE, 0.7), (COMEDY, 0.5), (HORROR, -1.0), (CRIME, -0.5)],
    // Serious cinema.
    &[(DOCUMENTARY, 1.2), (DRAMA, 1.0), (CRIME, 0.6), (COMEDY, -0.3), (ACTION, -0.4)],
];

/// The demo catalogue: about 400 movies, 300 users and 20,000 whole-star
/// ratings, the same on every call and every machine with this build.
pub fn catalogue() -> Dataset {
    generate().0
}

/// What the ratings were generated from; the tests check the ratings show it.
#[cfg_attr(not(test), allow(dead_code, reason = "only the tests look behind the ratings"))]
struct Truth {
    /// Per user: genre preferences, then tone preferences.
    preferences: Vec<Profile>,
}

fn generate() -> (Dataset, Truth) {
    let mut rng = StdRng::seed_from_u64(SEED);
    let normal = |sd: f32| Normal::new(0.0f32, sd).expect("a positive standard deviation is valid");

    let movies = make_movies(&mut rng);
    let profiles: Vec<Profile> = movies.iter().map(|m| movie_profile(m.genres, &mut rng)).collect();
    let quality: Vec<f32> = (0..MOVIES).map(|_| normal(0.55).sample(&mut rng)).collect();
    // Log-normal popularity gives a few blockbusters and a long tail; better
    // movies are a little more popular.
    let popularity: Vec<f32> = quality.iter().map(|q| (normal(1.1).sample(&mut rng) + 0.5 * q).exp()).collect();

    let preferences: Vec<Profile> = (0..USERS).map(|_| user_preferences(&mut rng)).collect();
    let user_bias: Vec<f32> = (0..USERS).map(|_| normal(0.4).sample(&mut rng)).collect();
    let activity: Vec<f32> = (0..USERS).map(|_| normal(0.7).sample(&mut rng).exp()).collect();
    let activity_sum: f32 = activity.iter().sum();

    let noise = normal(0.8);
    let mut ratings = Vec::with_capacity(TARGET_RATINGS + USERS * MIN_RATINGS_PER_USER);
    for user in 0..USERS {
        let wanted = (activity[user] / activity_sum * TARGET_RATINGS as f32).round() as usize;
        let wanted = wanted.clamp(MIN_RATINGS_PER_USER, MAX_RATINGS_PER_USER);
        let affinity: Vec<f32> = profiles.iter().map(|p| AFFINITY_SCALE * dot(&preferences[user], p)).collect();
        let mut seen = choose_movies(&popularity, &affinity, wanted, &mut rng);
        // Chosen in order of appeal; people rate in no such order.
        seen.shuffle(&mut rng);
        let mut time = EPOCH_START + rng.random_range(0..EIGHT_YEARS);
        for item in seen {
            let raw = GLOBAL_MEAN + user_bias[user] + quality[item] + affinity[item] + noise.sample(&mut rng);
            time += rng.random_range(60..3 * 86_400);
            ratings.push(Rating {
                user: user as u32,
                item: item as u32,
                value: raw.round().clamp(1.0, 5.0),
                timestamp: time,
            });
        }
    }

    let dataset = Dataset {
        name: NAME.to_owned(),
        format: Format::Demo,
        scale: RatingScale::WHOLE_STARS,
        genres: GENRES.iter().map(|g| (*g).to_owned()).collect(),
        movies,
        user_ids: (1..=USERS as u32).collect(),
        ratings,
    };
    (dataset, Truth { preferences })
}

/// `wanted` distinct movies, drawn without replacement with weight
/// popularity × e^(sharpness × affinity) (Efraimidis–Spirakis keys).
fn choose_movies(popularity: &[f32], affinity: &[f32], wanted: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = popularity
        .iter()
        .zip(affinity)
        .enumerate()
        .map(|(item, (pop, aff))| {
            let weight = f64::from(*pop) * f64::from(CHOICE_SHARPNESS * aff).exp();
            // 1 - U lies in (0, 1], so the logarithm is finite.
            let u = 1.0 - rng.random::<f64>();
            (u.ln() / weight, item)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().take(wanted).map(|(_, item)| item).collect()
}

fn dot(a: &Profile, b: &Profile) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The hidden profile of a movie: its genres (sharing one unit of weight),
/// a little noise on every genre, and its tone.
fn movie_profile(genres: u32, rng: &mut StdRng) -> Profile {
    let count = genres.count_ones().max(1) as f32;
    let genre_noise = Normal::new(0.0f32, 0.15).expect("valid normal");
    let tone = Normal::new(0.0f32, 0.7).expect("valid normal");
    std::array::from_fn(|d| {
        if d < GENRE_COUNT {
            let member = if genres & (1 << d) != 0 { 1.0 / count.sqrt() } else { 0.0 };
            member + genre_noise.sample(rng)
        } else {
            tone.sample(rng)
        }
    })
}

/// One main taste group, a weaker second one, and personal quirks.
fn user_preferences(rng: &mut StdRng) -> Profile {
    let main = rng.random_range(0..TASTE_GROUPS.len());
    let second = rng.random_range(0..TASTE_GROUPS.len());
    let second_weight: f32 = rng.random_range(0.0..0.5);
    let quirks = Normal::new(0.0f32, 0.35).expect("valid normal");
    let tone = Normal::new(0.0f32, 0.6).expect("valid normal");
    let mut profile: Profile =
        std::array::from_fn(|d| if d < GENRE_COUNT { quirks.sample(rng) } else { tone.sample(rng) });
    for &(genre, weight) in TASTE_GROUPS[main] {
        profile[genre] += weight;
    }
    for &(genre, weight) in TASTE_GROUPS[second] {
        profile[genre] += second_weight * weight;
    }
    profile
}

fn make_movies(rng: &mut StdRng) -> Vec<Movie> {
    let mut titles = HashSet::new();
    let mut movies: Vec<Movie> = Vec::with_capacity(MOVIES);
    while movies.len() < MOVIES {
        let id = movies.len() as u32 + 1;
        // Now and then a sequel to an earlier movie: same genres, a few years on.
        if movies.len() > 20 && rng.random_bool(0.06) {
            let original = &movies[rng.random_range(0..movies.len())];
            let title = format!("{} II", original.title);
            if !original.title.ends_with(" II") && titles.insert(title.clone()) {
                let year = original.year.map(|y| (y + rng.random_range(2..6)).min(2024));
                let genres = original.genres;
                let tags = make_tags(genres, rng);
                movies.push(Movie { id, title, year, genres, imdb_id: None, tmdb_id: None, tags });
            }
            continue;
        }
        let title = invent_title(rng);
        if !titles.insert(title.clone()) {
            continue;
        }
        // u^1.6 leans towards 0: more recent movies than old ones, as in real catalogues.
        let age = (74.0 * rng.random::<f64>().powf(1.6)) as u16;
        let genres = make_genres(rng);
        let tags = make_tags(genres, rng);
        movies.push(Movie { id, title, year: Some(2024 - age), genres, imdb_id: None, tmdb_id: None, tags });
    }
    movies
}

/// One to three genres: a main one, then mostly genres that go with it.
fn make_genres(rng: &mut StdRng) -> u32 {
    let primary = weighted_genre(rng);
    let count = match rng.random::<f32>() {
        x if x < 0.4 => 1,
        x if x < 0.8 => 2,
        _ => 3,
    };
    let mut bits = 1u32 << primary;
    while bits.count_ones() < count {
        let next = if rng.random_bool(0.75) {
            *COMPANIONS[primary].choose(rng).expect("every genre has companions")
        } else {
            weighted_genre(rng)
        };
        bits |= 1 << next;
    }
    bits
}

fn weighted_genre(rng: &mut StdRng) -> usize {
    let total: f32 = PRIMARY_WEIGHT.iter().sum();
    let mut pick = rng.random_range(0.0..total);
    for (genre, weight) in PRIMARY_WEIGHT.iter().enumerate() {
        if pick < *weight {
            return genre;
        }
        pick -= weight;
    }
    GENRE_COUNT - 1
}

const ADJECTIVES: &[&str] = &[
    "Crimson",
    "Hollow",
    "Gilded",
    "Restless",
    "Velvet",
    "Burning",
    "Distant",
    "Wandering",
    "Forgotten",
    "Electric",
    "Paper",
    "Iron",
    "Glass",
    "Scarlet",
    "Amber",
    "Copper",
    "Lonesome",
    "Tender",
    "Sleepless",
    "Painted",
    "Shattered",
    "Hidden",
    "Salt",
    "Silver",
    "Northern",
    "Borrowed",
    "Quiet",
    "Last",
];

const NOUNS: &[&str] = &[
    "Harbor",
    "Orchard",
    "Lantern",
    "Horizon",
    "Compass",
    "Meridian",
    "Tide",
    "Signal",
    "Frontier",
    "Carousel",
    "Lighthouse",
    "Ballad",
    "Covenant",
    "Reckoning",
    "Labyrinth",
    "Archive",
    "Citadel",
    "Voyage",
    "Serenade",
    "Ember",
    "Canyon",
    "Parade",
    "Orbit",
    "Harvest",
    "Verdict",
    "Requiem",
    "Greenhouse",
    "Observatory",
];

/// Invented places, so no title can be a real film's.
const PLACES: &[&str] = &[
    "Velora",
    "Kestria",
    "Dunmere",
    "Halloway Falls",
    "Saint Amarel",
    "Port Lucan",
    "Brisk Hollow",
    "Calder Rise",
    "Thornvale",
    "Elmsworth",
    "Quillon",
    "Varga Point",
    "Ravensholt",
    "Marisol Key",
    "Wrenford",
    "Lunetta",
    "Oskarsby",
    "Tallow Creek",
];

const NAMES: &[&str] = &[
    "Mara",
    "Tobias",
    "Ingrid",
    "Felix",
    "Odessa",
    "Caspian",
    "Lucien",
    "Wren",
    "Dorian",
    "Ottilie",
    "Jasper",
    "Clementine",
    "Ezra",
    "Magnolia",
    "Rufus",
    "Sabine",
    "Alistair",
    "Juniper",
    "Bastian",
    "Henrietta",
];

const TIMES: &[&str] = &["Midnight", "Dawn", "Winter", "Summer", "Twilight", "Autumn", "Daybreak", "Sundown"];

/// A plausible film title from the word lists above.
fn invent_title(rng: &mut StdRng) -> String {
    let pattern = rng.random_range(0..9);
    let mut pick = |words: &[&'static str]| *words.choose(rng).expect("word lists are not empty");
    match pattern {
        0 | 1 => format!("The {} {}", pick(ADJECTIVES), pick(NOUNS)),
        2 => format!("{} in {}", pick(TIMES), pick(PLACES)),
        3 => format!("The {} of {}", pick(NOUNS), pick(PLACES)),
        4 => format!("{}'s {}", pick(NAMES), pick(NOUNS)),
        5 => format!("{} and the {} {}", pick(NAMES), pick(ADJECTIVES), pick(NOUNS)),
        6 => format!("Return to {}", pick(PLACES)),
        7 => {
            let noun = pick(NOUNS);
            let article = if noun.starts_with(['A', 'E', 'I', 'O', 'U']) { "An" } else { "A" };
            format!("{article} {noun} for {}", pick(NAMES))
        }
        _ => format!("Beyond the {} {}", pick(ADJECTIVES), pick(NOUNS)),
    }
}

const GENERAL_TAGS: &[&str] = &[
    "slow burn",
    "twist ending",
    "great soundtrack",
    "visually stunning",
    "quotable",
    "ensemble cast",
    "cult classic",
    "feel-good",
    "bittersweet",
    "nonlinear",
    "underrated",
];

/// Tags that fit one genre, in `GENRES` order.
const GENRE_TAGS: [&[&str]; GENRE_COUNT] = [
    &["car chases", "heist"],
    &["road trip", "treasure hunt"],
    &["hand-drawn", "talking animals"],
    &["deadpan", "satire"],
    &["noir", "heist"],
    &["true story", "archival footage"],
    &["coming of age", "family secrets"],
    &["dragons", "quest"],
    &["jump scares", "creepy atmosphere"],
    &["love triangle", "slow romance"],
    &["time travel", "dystopia"],
    &["paranoia", "unreliable narrator"],
];

/// About a third of the movies get one to three tags, most fitting their genres.
fn make_tags(genres: u32, rng: &mut StdRng) -> Vec<String> {
    if !rng.random_bool(0.35) {
        return Vec::new();
    }
    let mut pool: Vec<&str> = GENERAL_TAGS.to_vec();
    for (genre, tags) in GENRE_TAGS.iter().enumerate() {
        if genres & (1 << genre) != 0 {
            // Listed twice: a movie's genre tags are likelier than general ones.
            pool.extend_from_slice(tags);
            pool.extend_from_slice(tags);
        }
    }
    let count = rng.random_range(1..=3);
    let mut tags: Vec<String> = Vec::with_capacity(count);
    while tags.len() < count {
        let tag = *pool.choose(rng).expect("the tag pool is not empty");
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(values: &[f32]) -> f32 {
        values.iter().sum::<f32>() / values.len() as f32
    }

    #[test]
    fn two_calls_give_the_same_catalogue() {
        assert_eq!(catalogue(), catalogue());
    }

    #[test]
    fn sizes_and_labels_are_as_promised() {
        let ds = catalogue();
        assert_eq!((ds.name.as_str(), ds.format, ds.scale), ("demo", Format::Demo, RatingScale::WHOLE_STARS));
        assert_eq!(ds.genres, GENRES);
        assert_eq!((ds.movies.len(), ds.user_ids.len()), (MOVIES, USERS));
        assert!((18_000..=22_000).contains(&ds.ratings.len()), "{} ratings", ds.ratings.len());
        assert!(ds.rated_movie_count() > 350, "only {} movies rated", ds.rated_movie_count());
        let per_user = ds.ratings.iter().fold(vec![0usize; USERS], |mut n, r| {
            n[r.user as usize] += 1;
            n
        });
        assert!(per_user.iter().all(|n| (MIN_RATINGS_PER_USER..=MAX_RATINGS_PER_USER).contains(n)));
    }

    #[test]
    fn ratings_are_on_scale_in_range_and_unique() {
        let ds = catalogue();
        assert!(ds.ratings.iter().all(|r| ds.scale.contains(r.value)));
        assert!(ds.ratings.iter().all(|r| (r.user as usize) < USERS && (r.item as usize) < MOVIES));
        let mut pairs: Vec<(u32, u32)> = ds.ratings.iter().map(|r| (r.user, r.item)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), ds.ratings.len(), "no user rates a movie twice");
        // Every star is used, and the spread looks like people's (mostly 3–4).
        let count = |v: f32| ds.ratings.iter().filter(|r| r.value == v).count();
        assert!((1..=5).all(|v| count(v as f32) > 200));
        assert!(count(3.0) + count(4.0) > ds.ratings.len() / 2);
    }

    #[test]
    fn index_lookups_hold() {
        let ds = catalogue();
        assert!(ds.movies.windows(2).all(|w| w[0].id < w[1].id));
        assert!(ds.user_ids.windows(2).all(|w| w[0] < w[1]));
        for (i, movie) in ds.movies.iter().enumerate() {
            assert_eq!(ds.movie_index(movie.id), Some(i as u32));
        }
        for (i, id) in ds.user_ids.iter().enumerate() {
            assert_eq!(ds.user_index(*id), Some(i as u32));
        }
    }

    #[test]
    fn movies_look_like_movies() {
        let ds = catalogue();
        let titles: HashSet<&str> = ds.movies.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles.len(), MOVIES, "titles are unique");
        for movie in &ds.movies {
            assert!((1..=3).contains(&movie.genres.count_ones()), "{movie:?}");
            assert!(movie.genres < 1 << GENRE_COUNT);
            assert!(matches!(movie.year, Some(1950..=2024)), "{movie:?}");
            assert!(movie.tags.len() <= 3);
        }
        let tagged = ds.movies.iter().filter(|m| !m.tags.is_empty()).count();
        assert!((80..=200).contains(&tagged), "{tagged} tagged movies");
        assert!(ds.movies.iter().any(|m| m.title.ends_with(" II")), "some sequels");
        // Every genre is present, and drama outnumbers documentaries.
        let with = |g: usize| ds.movies.iter().filter(|m| m.genres & (1 << g) != 0).count();
        assert!((0..GENRE_COUNT).all(|g| with(g) >= 10));
        assert!(with(DRAMA) > 2 * with(DOCUMENTARY));
    }

    #[test]
    fn popularity_is_skewed() {
        let ds = catalogue();
        let mut counts = vec![0usize; MOVIES];
        for r in &ds.ratings {
            counts[r.item as usize] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_tenth: usize = counts[..MOVIES / 10].iter().sum();
        assert!(top_tenth * 4 > ds.ratings.len(), "the top 10% of movies hold over a quarter of ratings");
    }

    /// Users who (secretly) love horror rate horror movies higher, and rate
    /// more of them, than users who dislike it.
    #[test]
    fn horror_fans_rate_horror_higher_and_more_often() {
        let (ds, truth) = generate();
        let mut by_pref: Vec<usize> = (0..USERS).collect();
        by_pref.sort_by(|a, b| truth.preferences[*a][HORROR].total_cmp(&truth.preferences[*b][HORROR]));
        let is_horror = |item: u32| ds.movies[item as usize].genres & (1 << HORROR) != 0;
        let group = |users: &[usize]| {
            let rated: Vec<&Rating> = ds.ratings.iter().filter(|r| users.contains(&(r.user as usize))).collect();
            let horror: Vec<f32> = rated.iter().filter(|r| is_horror(r.item)).map(|r| r.value).collect();
            (mean(&horror), horror.len() as f32 / rated.len() as f32)
        };
        let (low_mean, low_share) = group(&by_pref[..USERS / 3]);
        let (high_mean, high_share) = group(&by_pref[2 * USERS / 3..]);
        assert!(high_mean - low_mean > 0.8, "horror means: fans {high_mean:.2}, others {low_mean:.2}");
        assert!(high_share > 2.0 * low_share, "horror share: fans {high_share:.3}, others {low_share:.3}");
    }

    /// Taste is visible in the ratings alone: how much a user likes a genre
    /// in one half of their ratings predicts the same in the other half.
    /// "Likes" = mean of (rating − the movie's mean − the user's mean) over
    /// the genre's movies, so movie quality and rating habits cancel out.
    #[test]
    fn genre_taste_is_consistent_across_halves_of_the_ratings() {
        let ds = catalogue();
        let mut sums = vec![(0.0f32, 0usize); MOVIES];
        for r in &ds.ratings {
            sums[r.item as usize].0 += r.value;
            sums[r.item as usize].1 += 1;
        }
        let movie_mean: Vec<f32> = sums.iter().map(|(s, n)| s / (*n).max(1) as f32).collect();
        let mut pairs: Vec<(f32, f32)> = Vec::new();
        for user in 0..USERS as u32 {
            let mine: Vec<&Rating> = ds.ratings.iter().filter(|r| r.user == user).collect();
            let user_mean = mean(&mine.iter().map(|r| r.value - movie_mean[r.item as usize]).collect::<Vec<_>>());
            let halves: [Vec<&Rating>; 2] =
                [0, 1].map(|h| mine.iter().enumerate().filter(|(i, _)| i % 2 == h).map(|(_, r)| *r).collect());
            let lean = |half: &[&Rating], genre: usize| {
                let residuals: Vec<f32> = half
                    .iter()
                    .filter(|r| ds.movies[r.item as usize].genres & (1 << genre) != 0)
                    .map(|r| r.value - movie_mean[r.item as usize] - user_mean)
                    .collect();
                (residuals.len() >= 4).then(|| mean(&residuals))
            };
            for genre in 0..GENRE_COUNT {
                if let (Some(a), Some(b)) = (lean(&halves[0], genre), lean(&halves[1], genre)) {
                    pairs.push((a, b));
                }
            }
        }
        assert!(pairs.len() > 500, "{} user-genre pairs", pairs.len());
        let (ma, mb) = (
            mean(&pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
            mean(&pairs.iter().map(|p| p.1).collect::<Vec<_>>()),
        );
        let cov: f32 = pairs.iter().map(|(a, b)| (a - ma) * (b - mb)).sum();
        let var_a: f32 = pairs.iter().map(|(a, _)| (a - ma).powi(2)).sum();
        let var_b: f32 = pairs.iter().map(|(_, b)| (b - mb).powi(2)).sum();
        let correlation = cov / (var_a * var_b).sqrt();
        // Unstructured ratings give ≈ 0; the demo's taste shows as a clear positive correlation.
        assert!(correlation > 0.15, "split-half correlation of genre taste: {correlation:.3}");
    }
}
