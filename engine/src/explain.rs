//! Explanations: a score taken apart into what each rated movie adds, plus
//! the evidence around it (genres, similar users, support).
//!
//! Both fold-ins are linear in the viewer's ratings, so the parts are exact:
//!
//! - Stars. With z_i = [1; q_i], A = Σ z_i z_iᵀ + Λ (the fold-in's ridge
//!   system) and y_i = r_i − μ − b_i, the viewer's [b_u; p_u] = A⁻¹ Σ z_i y_i,
//!   so r̂_j = μ + b_j + Σ_i (z_jᵀ A⁻¹ z_i) y_i. One solve w = A⁻¹ z_j gives
//!   every term (A is symmetric): movie i adds (w·z_i) y_i.
//! - Rank. iALS solves (YᵀY + Σ e_i y_i y_iᵀ + λI) x = Σ c_i y_i, so the
//!   score y_j·x = Σ_i c_i (y_jᵀ A⁻¹ y_i): movie i adds c_i (w·y_i) with
//!   w = A⁻¹ y_j. This is what implicit's `explain` returns.
//!
//!   A movie marked seen is one more positive (`implicit::Evidence`); a
//!   movie hidden is a sure 0 that only enters A, so its part is what it
//!   moved the score: y_j·(x − x₀), x₀ the solve without the hidden movies,
//!   shared among them by each one's first-order effect −e_h (y_h·x₀)(y_h·w₀).
//!
//! A folded-in viewer's vector is exactly that solve, so baseline + Σ terms
//! is the model's score to rounding. A dataset user's vector came from
//! training; their terms are those of the same refit of their ratings, and
//! the decomposition says it is not exact.

use cinema_protocol::{Decomposition, Mark, Scale};

use crate::algorithms::IalsParams;
use crate::content::Content;
use crate::foldin::{Normal, axpy_z, target};
use crate::implicit::Evidence;
use crate::kernels::dot;
use crate::model::Model;
use crate::topn::TopN;

/// Raters of a movie whose ratings measure agreement for the confidence.
const AGREEMENT_RATERS: usize = 20;
/// Similar users an explanation lists.
const SIMILAR_USERS: usize = 5;

/// Who is being explained to: a user and all of their ratings and marks.
pub struct Viewer<'a> {
    pub user: u32,
    pub ratings: &'a [(u32, f32)],
    /// What they marked seen or not interested (a ranking model learns it).
    pub marks: &'a [(u32, Mark)],
    /// Whether the user's vectors are fold-in solves of `ratings`.
    pub folded: bool,
}

/// The rating model's score of `item` for the viewer, taken apart.
pub fn stars(model: &Model, viewer: &Viewer, item: u32) -> Decomposition {
    let baseline = model.global_mean + model.item_bias[item as usize];
    let parts = ridge_parts(model, viewer, item, None);
    decomposition(baseline, parts, model.score(viewer.user, item), viewer.folded)
}

/// `(movie, rating, part)` per rating: what each adds to `item`'s score
/// through the viewer's fold-in solve of [b_u; p_u] (see the module doc), for
/// a user vector written `p_u + shift` (`foldin::fold_in_shifted`).
pub fn ridge_parts(model: &Model, viewer: &Viewer, item: u32, shift: Option<&[f32]>) -> Vec<(u32, f32, f32)> {
    let k = model.factors();
    let mut z = vec![0f32; k + 1];
    axpy_z(&mut z, 1.0, model.item_row(item));
    let mut w = vec![0f32; k + 1];
    if !viewer.ratings.is_empty() {
        Normal::new(model, viewer.ratings).solve(&z, &mut w, 2 * (k + 1) + 10, 1e-6);
    }
    viewer
        .ratings
        .iter()
        .map(|&(i, r)| (i, r, (w[0] + dot(&w[1..], model.item_row(i))) * target(model, i, r, shift)))
        .collect()
}

/// The ranking model's score of `item` for the viewer, taken apart.
pub fn rank(ranking: &Model, gram: &[f32], p: &IalsParams, scale: Scale, viewer: &Viewer, item: u32) -> Decomposition {
    let evidence = Evidence::new(p, scale, viewer.ratings, viewer.marks);
    let other = ranking.item_factors.as_slice().expect("factor rows are contiguous");
    let k = ranking.factors();
    let y = ranking.item_row(item);
    let positive = evidence.positive(gram, p.reg, other, k);
    let w0 = positive.solve_exactly(y);
    let share = |j: usize| (1.0 + evidence.extra[j]) * dot(&w0, ranking.item_row(evidence.cols[j]));
    let contributions = viewer.ratings.iter().enumerate().map(|(j, &(i, r))| (i, r, share(j))).collect();
    let mut marks: Vec<(u32, Mark, f32)> = evidence.seen().map(|j| (evidence.cols[j], Mark::Seen, share(j))).collect();
    let hidden: Vec<usize> = evidence.hidden().collect();
    if !hidden.is_empty() && evidence.positives() > 0 {
        let b = evidence.rhs(other, k);
        let x0 = positive.solve_exactly(&b);
        let x = evidence.system(gram, p.reg, other, k).solve_exactly(&b);
        let moved = dot(&x, y) - dot(&x0, y);
        let first_order: Vec<f32> = hidden
            .iter()
            .map(|&j| {
                let yh = ranking.item_row(evidence.cols[j]);
                -evidence.extra[j] * dot(yh, &x0) * dot(yh, &w0)
            })
            .collect();
        let sum: f32 = first_order.iter().sum();
        for (&j, t) in hidden.iter().zip(first_order) {
            let part = if sum.abs() > f32::EPSILON { moved * t / sum } else { moved / hidden.len() as f32 };
            marks.push((evidence.cols[j], Mark::Hidden, part));
        }
    } else {
        // Without a positive the viewer is the mean user: a hidden movie only leaves the list.
        marks.extend(hidden.iter().map(|&j| (evidence.cols[j], Mark::Hidden, 0.0)));
    }
    let model = dot(ranking.user_row(viewer.user), y);
    // A viewer with nothing positive is ranked by the mean user, not by a solve.
    let exact = viewer.folded && evidence.positives() > 0;
    with_marks(decomposition(0.0, contributions, model, exact), marks)
}

/// `d` with the parts of the viewer's marks added to it.
pub fn with_marks(mut d: Decomposition, mut marks: Vec<(u32, Mark, f32)>) -> Decomposition {
    d.total += marks.iter().map(|m| m.2).sum::<f32>();
    marks.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()).then(a.0.cmp(&b.0)));
    d.marks = marks;
    d
}

/// The parts, largest first, with their sum beside the model's own score.
pub fn decomposition(baseline: f32, mut contributions: Vec<(u32, f32, f32)>, model: f32, exact: bool) -> Decomposition {
    let total = baseline + contributions.iter().map(|c| c.2).sum::<f32>();
    contributions.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()).then(a.0.cmp(&b.0)));
    Decomposition { baseline, contributions, total, model, exact, marks: Vec::new() }
}

/// How the movie's genres match the viewer's taste: the cosine of its
/// genres with the viewer's genre profile (each liked movie spreads one
/// unit evenly over its genres), and each of its genres' part of that
/// cosine, so the parts add up to the whole.
pub fn genre_match(content: &Content, liked: &[u32], item: u32) -> (Vec<(u32, f32)>, f32) {
    let genres = content.genres(item);
    // The cosine below does not depend on the profile's scale.
    let profile = content.genre_mix(liked.iter().copied());
    let norm = profile.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt() * (genres.len() as f32).sqrt();
    let parts: Vec<(u32, f32)> = genres
        .iter()
        .map(|&g| {
            let mass = profile.binary_search_by_key(&g, |p| p.0).map_or(0.0, |at| profile[at].1);
            (g, if norm > 0.0 { mass / norm } else { 0.0 })
        })
        .collect();
    // `+ 0.0` keeps an empty sum's -0.0 out of the answer ("-0 %").
    let score = parts.iter().map(|p| p.1).sum::<f32>() + 0.0;
    (parts, score.clamp(0.0, 1.0))
}

/// Raters of a movie seen from the viewer's vector `v` in `vectors`' factor space.
pub struct Raters {
    /// `(user, rating, cosine)` of the nearest raters who liked the movie.
    pub liked: Vec<(u32, f32, f32)>,
    /// How much the nearest raters agree, in [0, 1]; `None` with no raters.
    pub agreement: Option<f32>,
}

/// The nearest raters of a movie (`raters`, `ratings`: its column of the
/// rating matrix), other than the viewer, by cosine with `v`.
pub fn raters(
    vectors: &Model,
    v: &[f32],
    viewer: u32,
    raters: &[u32],
    ratings: &[f32],
    like: f32,
    span: f32,
) -> Raters {
    let v_norm = dot(v, v).sqrt();
    let mut nearest = TopN::new(AGREEMENT_RATERS);
    let mut liking = TopN::new(SIMILAR_USERS);
    for (at, &u) in raters.iter().enumerate() {
        let x = vectors.user_row(u);
        let norm = dot(x, x).sqrt() * v_norm;
        if u == viewer || norm == 0.0 {
            continue;
        }
        let cosine = dot(x, v) / norm;
        nearest.push(at as u32, cosine);
        if ratings[at] >= like {
            liking.push(at as u32, cosine);
        }
    }
    let liked =
        liking.into_sorted().into_iter().map(|(at, s)| (raters[at as usize], ratings[at as usize], s)).collect();
    // Ratings of the nearest raters, weighted by how near they are.
    let near: Vec<(f32, f32)> =
        nearest.into_sorted().into_iter().map(|(at, s)| (ratings[at as usize], s.max(0.0))).collect();
    let weight: f32 = near.iter().map(|n| n.1).sum();
    let agreement = (weight > 0.0).then(|| {
        let mean = near.iter().map(|n| n.0 * n.1).sum::<f32>() / weight;
        let variance = near.iter().map(|n| n.1 * (n.0 - mean).powi(2)).sum::<f32>() / weight;
        1.0 - (variance.sqrt() / (span / 2.0)).min(1.0)
    });
    Raters { liked, agreement }
}

/// Confidence in [0, 1] = √(s_u · s_i) · (½ + ½·a), with support
/// s_u = n_u / (n_u + 10) of the viewer's ratings, s_i = n_i / (n_i + 25)
/// of the movie's, and a the nearest raters' agreement (½ when no one
/// near has rated it).
pub fn confidence(user_ratings: usize, item_ratings: usize, agreement: Option<f32>) -> f32 {
    let support = |n: usize, half: f32| n as f32 / (n as f32 + half);
    let a = agreement.unwrap_or(0.5);
    (support(user_ratings, 10.0) * support(item_ratings, 25.0)).sqrt() * (0.5 + 0.5 * a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Algorithm;
    use crate::defaults;
    use crate::foldin::fold_in;
    use crate::implicit;
    use ndarray::Array2;

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    fn items() -> Array2<f32> {
        Array2::from_shape_vec((5, 2), vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.5, 0.9, 0.1, 0.3, -0.7]).unwrap()
    }

    #[test]
    fn star_contributions_add_up_to_the_folded_prediction() {
        let mut m = Model::empty(Algorithm::Svd(defaults::svd()), SCALE, 2, 5, 2, 3.5);
        m.item_factors = items();
        m.item_bias = vec![0.2, -0.1, 0.0, 0.3, -0.4];
        let ratings = [(0, 5.0), (2, 1.0), (4, 3.0)];
        fold_in(&mut m, 1, &ratings);
        let d = stars(&m, &Viewer { user: 1, ratings: &ratings, marks: &[], folded: true }, 3);
        assert!((d.total - m.score(1, 3)).abs() < 1e-4, "{} vs {}", d.total, m.score(1, 3));
        assert_eq!(d.baseline, 3.5 + 0.3);
        // Movie 3 lies near the loved movie 0: it adds the most, and positively.
        assert_eq!(d.contributions[0].0, 0);
        assert!(d.contributions[0].2 > 0.0);
    }

    #[test]
    fn rank_contributions_add_up_to_the_folded_score() {
        let p = defaults::ials();
        let mut m = Model::empty(Algorithm::Ials(p), SCALE, 1, 5, 2, 0.0);
        m.item_factors = items();
        let gram = implicit::gram(&m.item_factors);
        let ratings = [(0, 5.0), (1, 2.0)];
        implicit::fold_in(&mut m, &gram, &p, SCALE, 0, &ratings, &[]);
        let d = rank(&m, &gram, &p, SCALE, &Viewer { user: 0, ratings: &ratings, marks: &[], folded: true }, 3);
        assert!((d.total - d.model).abs() < 1e-5, "{d:?}");
        assert!(d.exact);
    }

    #[test]
    fn no_genre_in_common_is_a_plain_zero() {
        use cinema_protocol::{Features, Field};
        let features = vec![
            Features { item: 0, terms: vec![(0, Field::Genre)] },
            Features { item: 1, terms: vec![(1, Field::Genre)] },
        ];
        let (shares, score) = genre_match(&Content::build(2, &features, 1), &[1], 0);
        assert_eq!(shares, vec![(0, 0.0)]);
        assert!(score == 0.0 && score.is_sign_positive(), "{score}");
    }

    #[test]
    fn genre_parts_add_up_to_the_match() {
        use cinema_protocol::{Features, Field};
        // Liked: 1 (genres 0, 1) and 2 (genre 0): profile 0 → 1.5, 1 → 0.5.
        let features = vec![
            Features { item: 0, terms: vec![(0, Field::Genre), (1, Field::Genre), (2, Field::Genre)] },
            Features { item: 1, terms: vec![(0, Field::Genre), (1, Field::Genre)] },
            Features { item: 2, terms: vec![(0, Field::Genre)] },
        ];
        let (parts, score) = genre_match(&Content::build(3, &features, 1), &[1, 2], 0);
        let norm = (1.5f32 * 1.5 + 0.5 * 0.5).sqrt() * 3f32.sqrt();
        let expected = [(0, 1.5 / norm), (1, 0.5 / norm), (2, 0.0)];
        for ((g, part), (h, want)) in parts.iter().zip(expected) {
            assert_eq!(*g, h);
            assert!((part - want).abs() < 1e-6, "{parts:?}");
        }
        assert!((score - 2.0 / norm).abs() < 1e-6, "{score}");
    }

    #[test]
    fn confidence_grows_with_support_and_agreement() {
        assert!(confidence(50, 500, Some(0.9)) > confidence(5, 500, Some(0.9)));
        assert!(confidence(50, 500, Some(0.9)) > confidence(50, 5, Some(0.9)));
        assert!(confidence(50, 500, Some(0.9)) > confidence(50, 500, Some(0.1)));
        assert!((0.0..=1.0).contains(&confidence(10_000, 100_000, Some(1.0))));
        assert_eq!(confidence(0, 100, None), 0.0);
    }
}
