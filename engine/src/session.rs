//! The engine as a state machine behind one call: a [`Session`] takes a
//! [`Request`] and gives a [`Reply`]. Errors are replies, never panics, so a
//! bad request leaves the session usable.

use crate::EngineError;
use std::collections::{HashMap, HashSet};

use crate::algorithms::Algorithm;
use crate::content::Content;
use crate::diversity::{self, Exposure, Steer};
use crate::door::{self, RatingModel, Team};
use crate::explain::{self, Viewer};
use crate::hybrid::Parts;
use crate::model::Models;
use crate::ratings::RatingMatrix;
use crate::retrieval::ItemIndex;
use crate::train::Training;
use cinema_protocol::*;

/// What a module built around this engine calls itself and offers.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub algorithms: Vec<AlgorithmInfo>,
}

#[derive(Default)]
struct Loading {
    users: u32,
    items: u32,
    scale: Option<Scale>,
    train: Vec<Triple>,
    validation: Vec<Triple>,
}

pub struct Session {
    info: EngineInfo,
    loading: Loading,
    data: Option<RatingMatrix>,
    validation: Vec<Triple>,
    scale: Scale,
    /// A model being fitted. A rating model serves from here until it
    /// finishes (it replaced the one before); a ranking model ranks only
    /// once finished.
    training: Option<Training>,
    /// The rating model: predicted stars.
    model: Option<Box<dyn RatingModel>>,
    /// The ranking model (iALS, EASE), once trained: it orders recommendations.
    ranking: Option<Ranking>,
    /// Users folded in since indexing: their ratings, by movie.
    folded: HashMap<u32, Vec<(u32, f32)>>,
    /// The marks of users folded in with any, by movie: never recommended.
    marked: HashMap<u32, Vec<(u32, Mark)>>,
    /// Whether the training ratings use half stars (what "liked" means depends on it).
    half_stars: bool,
    /// Content features sent since `Reset`, until the content model is built.
    features: Vec<Features>,
    content: Option<Content>,
    /// Movies with no training rating: they have no factors to rank by, so
    /// they are never recommended.
    untrained_items: Vec<u32>,
    /// The rating model's item vectors quantized for fast exact ranking;
    /// dropped with the model, rebuilt when training ends or on demand.
    item_index: Option<ItemIndex>,
    /// How often lists show each movie, for diversity: measured on request
    /// (`PrepareDiversity`), forgotten whenever the list's model changes.
    exposure: Option<Exposure>,
}

/// The ranking model, with the top-N index of its vectors when it has them
/// (built with it, dropped with it).
struct Ranking {
    model: Box<dyn RatingModel>,
    index: Option<ItemIndex>,
}

impl Ranking {
    fn new(model: Box<dyn RatingModel>) -> Ranking {
        let index = model.vectors().filter(|v| v.factors() > 0).map(ItemIndex::build);
        Ranking { model, index }
    }

    /// The `n` best movies for `user` outside `excluded`.
    fn recommend(&self, user: u32, n: usize, excluded: &[u32]) -> Vec<Scored> {
        match (&self.index, self.model.vectors()) {
            (Some(index), Some(vectors)) => index.recommend(vectors, user, n, excluded),
            _ => {
                let excluded: HashSet<u32> = excluded.iter().copied().collect();
                door::recommend(&*self.model, user, n, |i| !excluded.contains(&i))
            }
        }
    }
}

/// Neighbours kept per movie at most, whatever a host asks: bounds the
/// content model's memory at 62,000 movies to tens of megabytes.
const MAX_CONTENT_NEIGHBOURS: usize = 200;

fn no_model() -> EngineError {
    EngineError::BadState("no model is trained or imported yet".into())
}

fn check_weight(weight: f32, diversity: f32) -> Result<(), EngineError> {
    match (weight, diversity) {
        (w, _) if !(0.0..=1.0).contains(&w) => {
            Err(EngineError::BadArgument(format!("hybrid weight {w} is outside 0 to 1")))
        }
        (_, d) if !(0.0..=1.0).contains(&d) => {
            Err(EngineError::BadArgument(format!("diversity {d} is outside 0 to 1")))
        }
        _ => Ok(()),
    }
}

impl Session {
    pub fn new(info: EngineInfo) -> Session {
        Session {
            info,
            loading: Loading::default(),
            data: None,
            validation: Vec::new(),
            scale: Scale { min: 1.0, max: 5.0 },
            training: None,
            model: None,
            ranking: None,
            folded: HashMap::new(),
            marked: HashMap::new(),
            half_stars: false,
            features: Vec::new(),
            content: None,
            untrained_items: Vec::new(),
            item_index: None,
            exposure: None,
        }
    }

    /// Decodes, handles and encodes one call.
    pub fn call(&mut self, request: &[u8]) -> Vec<u8> {
        let reply = match Request::decode(request) {
            Ok(request) => self.handle(request),
            Err(e) => EngineError::BadRequest(e.to_string()).into(),
        };
        reply.encode()
    }

    pub fn handle(&mut self, request: Request) -> Reply {
        self.try_handle(request).unwrap_or_else(Reply::from)
    }

    fn try_handle(&mut self, request: Request) -> Result<Reply, EngineError> {
        Ok(match request {
            Request::Hello => Reply::Hello(Hello {
                abi_version: ABI_VERSION,
                engine: self.info.name.to_string(),
                engine_version: self.info.version.to_string(),
                algorithms: self.info.algorithms.clone(),
            }),
            Request::Reset { users, items, scale } => {
                if !(scale.min.is_finite() && scale.max.is_finite() && scale.min < scale.max) {
                    return Err(EngineError::BadArgument("rating scale must have min < max".into()));
                }
                *self = Session::new(self.info.clone());
                self.loading = Loading { users, items, scale: Some(scale), ..Loading::default() };
                self.scale = scale;
                Reply::Ok
            }
            Request::AddRatings { set, ratings } => {
                let l = &mut self.loading;
                if l.scale.is_none() {
                    return Err(EngineError::BadState("send Reset before AddRatings".into()));
                }
                if let Some(&(u, i, r)) =
                    ratings.iter().find(|&&(u, i, r)| u >= l.users || i >= l.items || !r.is_finite())
                {
                    return Err(EngineError::BadArgument(format!(
                        "rating ({u}, {i}, {r}) is outside {} users × {} items",
                        l.users, l.items
                    )));
                }
                match set {
                    RatingSet::Train => l.train.extend(ratings),
                    RatingSet::Validation => l.validation.extend(ratings),
                }
                Reply::Ok
            }
            Request::Index => {
                let l = &mut self.loading;
                if l.scale.is_none() {
                    return Err(EngineError::BadState("send Reset and AddRatings before Index".into()));
                }
                let data = RatingMatrix::new(l.users, l.items, &l.train);
                l.train = Vec::new();
                self.validation = std::mem::take(&mut l.validation);
                let indexed = Indexed {
                    users: data.users,
                    items: data.items,
                    train: data.len() as u64,
                    validation: self.validation.len() as u64,
                    global_mean: data.global_mean,
                };
                self.untrained_items = (0..data.items).filter(|&i| data.by_item.row_len(i as usize) == 0).collect();
                self.half_stars = data.by_user.values.iter().any(|r| r.fract() != 0.0);
                // A model or a training run was made for the ratings this
                // replaces: its users, items and visiting order no longer fit.
                self.data = Some(data);
                self.training = None;
                self.model = None;
                self.ranking = None;
                self.folded.clear();
                self.marked.clear();
                self.item_index = None;
                self.exposure = None;
                Reply::Indexed(indexed)
            }
            Request::TrainStart { spec } => self.start_training(spec, Team::ALONE)?,
            Request::TrainShard { spec, member, members } => self.start_training(spec, Team { member, members })?,
            Request::TrainStep { budget } => {
                let (Some(training), Some(data)) = (&mut self.training, &self.data) else {
                    return Err(EngineError::BadState("send TrainStart before TrainStep".into()));
                };
                if training.in_team() {
                    return Err(EngineError::BadState("a team member steps with ShardStep".into()));
                }
                let progress = training.step(data, &self.validation, budget);
                self.finish_if(progress)
            }
            Request::ShardStep { budget } => {
                let (Some(training), Some(data)) = (&mut self.training, &self.data) else {
                    return Err(EngineError::BadState("send TrainShard before ShardStep".into()));
                };
                let (progress, handoff) = training.shard_step(data, &self.validation, budget)?;
                if progress.finished {
                    self.finish_training(false);
                }
                Reply::Shard(Stepped { progress, handoff: handoff.map(Handoff) })
            }
            Request::ShardTake { handoffs } => {
                let (Some(training), Some(data)) = (&mut self.training, &self.data) else {
                    return Err(EngineError::BadState("send TrainShard before ShardTake".into()));
                };
                let handoffs: Vec<&[u8]> = handoffs.iter().map(|h| &h.0[..]).collect();
                let progress = training.take(data, &self.validation, &handoffs)?;
                self.finish_if(progress)
            }
            Request::Predict { pairs } => {
                let model = self.model()?;
                for &(u, i) in &pairs {
                    model.check_user(u)?;
                    model.check_item(i)?;
                }
                Reply::Predictions(pairs.iter().map(|&(u, i)| model.predict(u, i)).collect())
            }
            Request::TrainStop => {
                let progress = self.training.as_ref().map(Training::progress);
                let mut progress = progress.ok_or_else(|| EngineError::BadState("nothing is training".into()))?;
                progress.finished = true;
                self.finish_training(true);
                Reply::Progress(progress)
            }
            Request::Similar { item, n } => {
                // The ranking model's vectors, when there is one, are learned
                // from who watched what together: the closer notion of "like".
                let rating = self.model()?;
                rating.check_item(item)?;
                let no_vectors = || {
                    let name = rating.algorithm().name();
                    EngineError::BadState(format!("{name} has no movie vectors to compare"))
                };
                let n = (n as usize).min(rating.items() as usize);
                let untrained: HashSet<u32> = self.untrained_items.iter().copied().collect();
                // The first model with vectors or neighbours answers.
                for model in self.ranking.iter().map(|r| &*r.model).chain([rating]) {
                    if let Some(vectors) = model.vectors() {
                        if vectors.factors() == 0 {
                            return Err(no_vectors());
                        }
                        return Ok(Reply::Neighbours(vectors.similar_items(item, n, |i| !untrained.contains(&i))));
                    }
                    if let Some(mut near) = model.neighbours(item, n + untrained.len()) {
                        near.retain(|(i, _)| !untrained.contains(i));
                        near.truncate(n);
                        return Ok(Reply::Neighbours(near));
                    }
                }
                return Err(no_vectors());
            }
            Request::Recommend { user, n } => {
                self.ensure_item_index();
                let model = self.model()?;
                model.check_user(user)?;
                let data = self.data()?;
                let rated = self.ratings_of(user, data);
                // `n` is the caller's number: never size anything by more than the catalogue.
                let n = (n as usize).min(model.items() as usize);
                let excluded: Vec<u32> = rated
                    .iter()
                    .map(|r| r.0)
                    .chain(self.untrained_items.iter().copied())
                    .chain(self.marked_by(user))
                    .collect();
                Reply::Recommendations(match (&self.ranking, &self.item_index, model.vectors()) {
                    // Ordered by the likelihood of watching; the stars shown are the rating model's.
                    (Some(ranking), ..) => {
                        let mut top = ranking.recommend(user, n, &excluded);
                        for s in &mut top {
                            s.prediction = model.predict(user, s.item);
                        }
                        top
                    }
                    (None, Some(index), Some(vectors)) => index.recommend(vectors, user, n, &excluded),
                    _ => {
                        let excluded: HashSet<u32> = excluded.into_iter().collect();
                        door::recommend(model, user, n, |i| !excluded.contains(&i))
                    }
                })
            }
            Request::ExportModel => {
                let ranking = self.ranking.as_ref().map(|r| &*r.model);
                Reply::Model(Models::export(self.model()?, ranking))
            }
            Request::ImportModel { bytes } => {
                let Models { rating: model, ranking } = Models::from_bytes(&bytes)?;
                let data = self.data()?;
                if model.users() != data.users || model.items() != data.items {
                    return Err(EngineError::BadModel(format!(
                        "model is for {} users × {} items, the loaded data has {} × {}",
                        model.users(),
                        model.items(),
                        data.users,
                        data.items
                    )));
                }
                self.training = None;
                self.model = Some(model);
                self.ranking = ranking.map(Ranking::new);
                self.folded.clear();
                self.marked.clear();
                self.item_index = None;
                self.exposure = None;
                self.ensure_item_index();
                Reply::Ok
            }
            Request::FoldIn { user, ratings, mut marks } => {
                let model = self.model_mut()?;
                model.check_user(user)?;
                for &(i, r) in &ratings {
                    model.check_item(i)?;
                    if !r.is_finite() {
                        return Err(EngineError::BadArgument(format!("rating {r} of movie {i} is not a number")));
                    }
                }
                for &(i, _) in &marks {
                    model.check_item(i)?;
                }
                model.fold_in(user, &ratings);
                if let Some(r) = &mut self.ranking {
                    r.model.fold_in_marked(user, &ratings, &marks);
                }
                marks.sort_unstable();
                match marks.is_empty() {
                    true => self.marked.remove(&user),
                    false => self.marked.insert(user, marks),
                };
                if let Some(exposure) = &mut self.exposure {
                    exposure.leave_out(user);
                }
                let mut ratings = ratings;
                ratings.sort_unstable_by_key(|r| r.0);
                self.folded.insert(user, ratings);
                Reply::Ok
            }
            Request::AddFeatures { items } => {
                let catalogue = self.loading.items;
                if self.loading.scale.is_none() {
                    return Err(EngineError::BadState("send Reset before AddFeatures".into()));
                }
                if let Some(f) = items.iter().find(|f| f.item >= catalogue) {
                    return Err(EngineError::ItemOutOfRange(f.item, catalogue));
                }
                self.features.extend(items);
                Reply::Ok
            }
            Request::BuildContent { neighbours } => {
                if self.loading.scale.is_none() {
                    return Err(EngineError::BadState("send Reset and AddFeatures before BuildContent".into()));
                }
                let neighbours = (neighbours as usize).min(MAX_CONTENT_NEIGHBOURS);
                let content = Content::build(self.loading.items, &std::mem::take(&mut self.features), neighbours);
                let stats = content.stats();
                self.content = Some(content);
                Reply::ContentBuilt(stats)
            }
            Request::SimilarContent { item, n } => {
                let content = self.content()?;
                if item >= content.items() {
                    return Err(EngineError::ItemOutOfRange(item, content.items()));
                }
                Reply::Neighbours(content.similar(item, n as usize))
            }
            Request::RecommendHybrid { user, n, weight, diversity } => {
                check_weight(weight, diversity)?;
                let prices = self.prices(diversity)?;
                let model = self.model()?;
                model.check_user(user)?;
                let liked = self.liked(user)?;
                let parts = self.hybrid_parts(user, None, &liked)?;
                let n = (n as usize).min(model.items() as usize);
                let steer = prices.as_deref().map(|prices| Steer {
                    diversity,
                    prices,
                    content: self.content.as_ref(),
                    liked: &liked,
                });
                Reply::Hybrid(
                    diversity::top(parts.scored(weight), steer.as_ref(), n)
                        .into_iter()
                        .map(|(item, score)| {
                            let (cf, content) = parts.of(item).expect("listed movies are candidates");
                            HybridScored { item, score, prediction: model.predict(user, item), cf, content }
                        })
                        .collect(),
                )
            }
            Request::Explain { user, item, weight, diversity } => {
                check_weight(weight, diversity)?;
                let prices = self.prices(diversity)?;
                let model = self.model()?;
                model.check_user(user)?;
                model.check_item(item)?;
                let steer = |prices| (diversity, prices);
                Reply::Explanation(self.explain(user, item, weight, prices.as_deref().map(steer))?)
            }
            Request::Parts => Reply::Parts(self.model()?.parts()),
            Request::PrepareDiversity { users } => {
                self.model()?;
                let mut exposure = match self.exposure.take() {
                    Some(exposure) => exposure,
                    None => {
                        let data = self.data()?;
                        // Users folded in rate as they go: measured, they would make
                        // the measure depend on when it was taken.
                        let raters: Vec<u32> = (0..data.users)
                            .filter(|&u| data.by_user.row_len(u as usize) > 0 && !self.folded.contains_key(&u))
                            .collect();
                        Exposure::new(data.items as usize, &raters)
                    }
                };
                let prepared = self.prepare(&mut exposure, users.max(1));
                let (done, total) = exposure.progress();
                self.exposure = Some(exposure);
                prepared?;
                Reply::Diversity(Readiness { done, total })
            }
        })
    }

    /// Builds the rating model's item index if the model has factors and no
    /// current index. Only a list without a ranking model reads it (the
    /// ranking model has its own), so none is built beside one: a restored
    /// model opens without that work.
    fn ensure_item_index(&mut self) {
        if let Some(model) = self.model.as_deref().and_then(|m| m.vectors())
            && self.ranking.is_none()
            && model.factors() > 0
            && !self.item_index.as_ref().is_some_and(|index| index.fits(model))
        {
            self.item_index = Some(ItemIndex::build(model));
        }
    }

    /// The movies `user` marked seen or not interested in their fold-in.
    fn marked_by(&self, user: u32) -> impl Iterator<Item = u32> + '_ {
        self.marked.get(&user).into_iter().flatten().map(|m| m.0)
    }

    /// All of `user`'s ratings the models know, by movie: their fold-in, or
    /// their training row.
    fn ratings_of(&self, user: u32, data: &RatingMatrix) -> Vec<(u32, f32)> {
        match self.folded.get(&user) {
            Some(ratings) => ratings.clone(),
            None => {
                let (items, values) = data.by_user.row(user as usize);
                items.iter().copied().zip(values.iter().copied()).collect()
            }
        }
    }

    /// The score the list is ranked by, for every movie: the ranking
    /// model's when trained, otherwise the rating model's.
    fn list_scores(&self, user: u32) -> Result<Vec<f32>, EngineError> {
        let model = self.model()?;
        Ok(match &self.ranking {
            Some(r) => r.model.scores(user),
            None => model.scores(user),
        })
    }

    /// Every movie's price at `diversity`; `None` at 0.
    fn prices(&mut self, diversity: f32) -> Result<Option<Vec<f32>>, EngineError> {
        if diversity == 0.0 {
            return Ok(None);
        }
        match &mut self.exposure {
            Some(exposure) if exposure.is_ready() => Ok(Some(exposure.prices(diversity).to_vec())),
            _ => Err(EngineError::BadState(
                "diversity is not measured for this model yet: send PrepareDiversity until it is done".into(),
            )),
        }
    }

    /// Takes `steps` more steps of preparing `exposure`: gathering sampled
    /// users' lists (in the list's own order: exposure belongs to the
    /// model, not to a weight), then pricing the knob's settings.
    fn prepare(&self, exposure: &mut Exposure, steps: u32) -> Result<(), EngineError> {
        for _ in 0..steps {
            let Some(user) = exposure.next_user() else {
                match exposure.price_next() {
                    true => continue,
                    false => break,
                }
            };
            let candidate = self.candidates(user, None)?;
            let scores = self.list_scores(user)?;
            exposure.gather(
                &(0..scores.len()).filter(|&i| candidate[i]).map(|i| (i as u32, scores[i])).collect::<Vec<_>>(),
            );
        }
        Ok(())
    }

    /// Which movies `user` may be recommended (not rated, with training
    /// ratings), and `also` (a movie being explained) even if they rated it.
    fn candidates(&self, user: u32, also: Option<u32>) -> Result<Vec<bool>, EngineError> {
        let data = self.data()?;
        let mut candidate = vec![true; data.items as usize];
        let rated = self.ratings_of(user, data);
        for i in rated.iter().map(|r| r.0).chain(self.untrained_items.iter().copied()).chain(self.marked_by(user)) {
            candidate[i as usize] = false;
        }
        if let Some(i) = also {
            candidate[i as usize] = true;
        }
        Ok(candidate)
    }

    /// The movies `user` liked, by the rule the content part counts them with.
    fn liked(&self, user: u32) -> Result<Vec<u32>, EngineError> {
        Ok(self.scale.liked(&self.ratings_of(user, self.data()?), self.half_stars))
    }

    /// The hybrid parts of every candidate of `user` (see
    /// [`Session::candidates`]), who `liked` those movies.
    fn hybrid_parts(&self, user: u32, also: Option<u32>, liked: &[u32]) -> Result<Parts, EngineError> {
        let candidate = self.candidates(user, also)?;
        Ok(Parts::new(&self.list_scores(user)?, &candidate, self.content.as_ref(), liked))
    }

    /// Why `item` is on `user`'s list under `weight`, and where diversity
    /// (a setting and its prices) placed it.
    fn explain(
        &self,
        user: u32,
        item: u32,
        weight: f32,
        diverse: Option<(f32, &[f32])>,
    ) -> Result<Explanation, EngineError> {
        let (model, data) = (self.model()?, self.data()?);
        let ratings = self.ratings_of(user, data);
        let marks = self.marked.get(&user).map_or(&[][..], |m| m.as_slice());
        let viewer = Viewer { user, ratings: &ratings, marks, folded: self.folded.contains_key(&user) };
        let rank = self.ranking.as_ref().map(|r| r.model.explain(&viewer, item));
        let liked = self.scale.liked(&ratings, self.half_stars);
        let (genres, genre_match) =
            self.content.as_ref().map(|c| explain::genre_match(c, &liked, item)).unwrap_or_default();
        // Taste is compared in the ranking model's space when there is one:
        // it is learned from who watched what, the closer notion of "alike".
        let vectors = self.ranking.as_ref().and_then(|r| r.model.vectors()).or(model.vectors());
        let (raters, values) = data.by_item.row(item as usize);
        let span = self.scale.max - self.scale.min;
        let like = self.scale.like_value();
        let near = match vectors {
            Some(v) => explain::raters(v, v.user_row(user), user, raters, values, like, span),
            None => explain::Raters { liked: Vec::new(), agreement: None },
        };
        let parts = self.hybrid_parts(user, Some(item), &liked)?;
        let (cf, content) = parts.of(item).map(|(cf, c)| (weight * cf, (1.0 - weight) * c)).unwrap_or_default();
        let steer = diverse.map(|(diversity, prices)| Steer {
            diversity,
            prices,
            content: self.content.as_ref(),
            liked: &liked,
        });
        let lift = diversity::lift(&parts.scored(weight), steer.as_ref(), item);
        Ok(Explanation {
            item,
            prediction: model.predict(user, item),
            stars: model.explain(&viewer, item),
            rank,
            genres,
            genre_match,
            similar_users: near.liked,
            cf,
            content,
            liked: liked.len() as u32,
            user_ratings: ratings.len() as u32,
            item_ratings: raters.len() as u32,
            confidence: explain::confidence(ratings.len(), raters.len(), near.agreement),
            lift,
        })
    }

    fn content(&self) -> Result<&Content, EngineError> {
        self.content.as_ref().ok_or_else(|| EngineError::BadState("no content model is built yet".into()))
    }

    fn data(&self) -> Result<&RatingMatrix, EngineError> {
        self.data.as_ref().ok_or_else(|| EngineError::BadState("no ratings are indexed yet".into()))
    }

    /// The rating model: the one being fitted, or the last one finished or imported.
    fn model(&self) -> Result<&dyn RatingModel, EngineError> {
        match self.training.as_ref().filter(|t| !t.is_ranking()).and_then(Training::model) {
            Some(fitting) => Ok(fitting),
            None => self.model.as_deref().ok_or_else(no_model),
        }
    }

    fn model_mut(&mut self) -> Result<&mut dyn RatingModel, EngineError> {
        let fitting = self.training.as_ref().filter(|t| !t.is_ranking()).and_then(Training::model).is_some();
        match self.training.as_mut().filter(|_| fitting).and_then(Training::model_mut) {
            Some(fitting) => Ok(fitting),
            None => Ok(self.model.as_deref_mut().ok_or_else(no_model)?),
        }
    }

    /// Starts fitting `spec`, alone or as one member of a `team`. Only
    /// the first member serves, so only it needs a rating model before a
    /// ranking one.
    fn start_training(&mut self, spec: ModelSpec, team: Team) -> Result<Reply, EngineError> {
        let spec = Algorithm::from_spec(&spec, &self.info.algorithms)?;
        let data = self.data()?;
        if spec.is_ranking() && self.model.is_none() && team.member == 0 {
            return Err(EngineError::BadState("train a rating model before the ranking model".into()));
        }
        let ranking = spec.is_ranking();
        let training = Training::start_in(spec, data, self.scale, team)?;
        let progress = training.progress();
        // Folded-in users were solved against the models this replaces.
        self.folded.clear();
        self.marked.clear();
        if ranking || self.ranking.is_none() {
            self.exposure = None;
        }
        if ranking {
            // Until it finishes, the list is ranked by the rating model.
            self.ranking = None;
        } else {
            self.model = None;
            self.item_index = None;
        }
        self.training = Some(training);
        Ok(Reply::Progress(progress))
    }

    /// A step's progress, the fit put to use when it finished.
    fn finish_if(&mut self, progress: Progress) -> Reply {
        if progress.finished {
            self.finish_training(false);
        }
        Reply::Progress(progress)
    }

    /// Puts a finished (or stopped) fit to use: a rating model serves, a
    /// ranking model ranks. `stop` also ends the training.
    fn finish_training(&mut self, stop: bool) {
        let Some(training) = &mut self.training else { return };
        let ranking = training.is_ranking();
        if ranking || self.ranking.is_none() {
            self.exposure = None;
        }
        if let Some(model) = training.finish() {
            if ranking {
                self.ranking = Some(Ranking::new(model));
            } else {
                self.model = Some(model);
            }
        }
        if stop {
            self.training = None;
        }
        if !ranking {
            self.ensure_item_index();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;

    fn session() -> Session {
        Session::new(EngineInfo { name: "test", version: "0", algorithms: crate::standard_algorithms() })
    }

    fn loaded() -> Session {
        let mut s = session();
        s.handle(Request::Reset { users: 2, items: 3, scale: Scale { min: 1.0, max: 5.0 } });
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings: vec![(0, 0, 5.0), (0, 1, 1.0)] });
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings: vec![(1, 0, 4.0), (1, 2, 2.0)] });
        s.handle(Request::AddRatings { set: RatingSet::Validation, ratings: vec![(1, 1, 1.0)] });
        s
    }

    #[test]
    fn full_cycle_through_bytes() {
        let mut s = loaded();
        let reply = Reply::decode(&s.call(&Request::Index.encode())).unwrap();
        assert_eq!(reply, Reply::Indexed(Indexed { users: 2, items: 3, train: 4, validation: 1, global_mean: 3.0 }));
        let spec = Algorithm::Svd(defaults::svd()).to_spec();
        assert!(matches!(s.handle(Request::TrainStart { spec }), Reply::Progress(_)));
        let mut p = None;
        while !p.is_some_and(|p: Progress| p.finished) {
            let Reply::Progress(next) = s.handle(Request::TrainStep { budget: 3 }) else { panic!() };
            p = Some(next);
        }
        assert!(p.unwrap().validation_rmse.is_some());
        // User 0 rated movies 0 and 1, so only movie 2 is left.
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 0, n: 5 }) else { panic!() };
        assert_eq!(top.iter().map(|s| s.item).collect::<Vec<_>>(), vec![2]);
        let Reply::Model(bytes) = s.handle(Request::ExportModel) else { panic!() };
        let before = s.handle(Request::Predict { pairs: vec![(1, 1)] });
        assert_eq!(s.handle(Request::ImportModel { bytes }), Reply::Ok);
        assert_eq!(s.handle(Request::Predict { pairs: vec![(1, 1)] }), before);
    }

    /// A viewer with no ratings is ranked by the ranking model's mean user:
    /// what most people watch, not an arbitrary order of zero scores.
    #[test]
    fn a_viewer_with_no_ratings_is_ranked_by_the_mean_user() {
        let mut s = session();
        s.handle(Request::Reset { users: 4, items: 4, scale: Scale { min: 1.0, max: 5.0 } });
        // Movie 2 is watched by three users, 0 and 1 by one each, 3 by nobody but user 3.
        let ratings = vec![(0, 2, 5.0), (1, 2, 4.0), (2, 2, 5.0), (0, 0, 3.0), (1, 1, 2.0), (3, 3, 1.0)];
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings });
        s.handle(Request::Index);
        for spec in [Algorithm::Svd(defaults::svd()).to_spec(), Algorithm::Ials(defaults::ials()).to_spec()] {
            s.handle(Request::TrainStart { spec });
            while !matches!(s.handle(Request::TrainStep { budget: 1000 }), Reply::Progress(p) if p.finished) {}
        }
        assert_eq!(s.handle(Request::FoldIn { user: 3, ratings: vec![], marks: vec![] }), Reply::Ok);
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 3, n: 4 }) else { panic!() };
        assert_eq!(top[0].item, 2, "the most watched first: {top:?}");
        assert!(top[0].score > top[1].score, "the scores tell the movies apart: {top:?}");
    }

    #[test]
    fn fold_in_changes_the_user_and_their_exclusions() {
        let mut s = loaded();
        s.handle(Request::Index);
        s.handle(Request::TrainStart { spec: Algorithm::Svd(defaults::svd()).to_spec() });
        while !matches!(s.handle(Request::TrainStep { budget: 100 }), Reply::Progress(p) if p.finished) {}
        let before = s.handle(Request::Predict { pairs: vec![(0, 2)] });
        assert_eq!(s.handle(Request::FoldIn { user: 0, ratings: vec![(2, 5.0)], marks: vec![] }), Reply::Ok);
        assert_ne!(s.handle(Request::Predict { pairs: vec![(0, 2)] }), before);
        // Now only movie 2 is rated: movies 0 and 1 come back, movie 2 is excluded.
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 0, n: 5 }) else { panic!() };
        let mut items: Vec<u32> = top.iter().map(|s| s.item).collect();
        items.sort();
        assert_eq!(items, vec![0, 1]);
        let bad = s.handle(Request::FoldIn { user: 0, ratings: vec![(9, 5.0)], marks: vec![] });
        assert!(matches!(bad, Reply::Error { kind: ErrorKind::BadArgument, .. }));
    }

    /// Found by fuzzing: re-indexing fewer ratings mid-training left a
    /// visiting order that ran past the new data.
    #[test]
    fn indexing_again_ends_the_training_and_model_made_for_the_old_ratings() {
        let mut s = loaded();
        s.handle(Request::Index);
        s.handle(Request::TrainStart { spec: Algorithm::Svd(defaults::svd()).to_spec() });
        s.handle(Request::TrainStep { budget: 3 });
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings: vec![(0, 0, 5.0)] });
        assert!(matches!(s.handle(Request::Index), Reply::Indexed(Indexed { train: 1, .. })));
        assert!(matches!(s.handle(Request::TrainStep { budget: 3 }), Reply::Error { kind: ErrorKind::BadState, .. }));
        assert!(matches!(
            s.handle(Request::Recommend { user: 0, n: 1 }),
            Reply::Error { kind: ErrorKind::BadState, .. }
        ));
    }

    /// Found by fuzzing: a budget near u64::MAX wrapped the end of the step.
    #[test]
    fn a_huge_budget_finishes_the_epoch() {
        let mut s = loaded();
        s.handle(Request::Index);
        s.handle(Request::TrainStart { spec: Algorithm::Svd(defaults::svd()).to_spec() });
        s.handle(Request::TrainStep { budget: 1 });
        let Reply::Progress(p) = s.handle(Request::TrainStep { budget: u64::MAX }) else { panic!() };
        assert_eq!((p.epoch, p.visited), (1, 0));
    }

    /// A stopped training keeps its epochs: the rating model predicts and
    /// recommends, a stopped ranking model ranks, and a second stop is refused.
    #[test]
    fn a_stopped_training_keeps_what_it_learned() {
        let mut s = loaded();
        s.handle(Request::Index);
        let none = s.handle(Request::TrainStop);
        assert!(matches!(none, Reply::Error { kind: ErrorKind::BadState, .. }), "{none:?}");
        let mut svd = defaults::svd();
        svd.epochs = 50;
        s.handle(Request::TrainStart { spec: Algorithm::Svd(svd).to_spec() });
        s.handle(Request::TrainStep { budget: 4 });
        let Reply::Progress(p) = s.handle(Request::TrainStop) else { panic!("TrainStop") };
        assert!(p.finished && p.epoch == 1 && p.epochs == 50, "{p:?}");
        assert!(matches!(s.handle(Request::Recommend { user: 1, n: 1 }), Reply::Recommendations(r) if r.len() == 1));
        let mut ials = defaults::ials();
        (ials.factors, ials.iterations) = (2, 40);
        s.handle(Request::TrainStart { spec: Algorithm::Ials(ials).to_spec() });
        s.handle(Request::TrainStep { budget: 1 });
        let Reply::Progress(p) = s.handle(Request::TrainStop) else { panic!("TrainStop") };
        assert!(p.finished && p.epoch < 40, "{p:?}");
        assert!(s.ranking.is_some(), "a stopped ranking model ranks");
        assert!(matches!(s.handle(Request::TrainStop), Reply::Error { kind: ErrorKind::BadState, .. }));
    }

    /// Found by fuzzing: a top-N of millions sized its buffer by the request.
    #[test]
    fn a_huge_top_n_is_the_whole_catalogue() {
        let mut s = loaded();
        s.handle(Request::Index);
        s.handle(Request::TrainStart { spec: Algorithm::Svd(defaults::svd()).to_spec() });
        s.handle(Request::TrainStep { budget: 100 });
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 1, n: u32::MAX }) else { panic!() };
        assert_eq!(top.len(), 1);
    }

    fn train(s: &mut Session, spec: ModelSpec) -> Progress {
        train_by(s, spec, 2)
    }

    fn train_by(s: &mut Session, spec: ModelSpec, budget: u64) -> Progress {
        let Reply::Progress(mut p) = s.handle(Request::TrainStart { spec }) else { panic!("TrainStart") };
        while !p.finished {
            let Reply::Progress(next) = s.handle(Request::TrainStep { budget }) else { panic!("TrainStep") };
            assert!(next.epoch > p.epoch || next.visited > p.visited || next.finished, "{p:?} → {next:?}");
            assert!(next.visited <= next.per_epoch, "{next:?}");
            p = next;
        }
        p
    }

    /// A session loaded with a seeded 90 users × 60 movies, a baseline trained.
    fn busy() -> Session {
        let mut s = session();
        s.handle(Request::Reset { users: 90, items: 60, scale: Scale { min: 1.0, max: 5.0 } });
        // Users rate from 1 to 40 movies, movies get from none to many ratings.
        let ratings: Vec<Triple> = (0..90u32)
            .flat_map(|u| {
                (0..1 + u * 7 % 40).map(move |j| ((u, (u * 13 + j * j * 3) % 57), 1.0 + ((u + j) % 5) as f32))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .map(|((u, i), r)| (u, i, r))
            .collect();
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings });
        s.handle(Request::Index);
        train(&mut s, Algorithm::Baseline(defaults::baseline()).to_spec());
        s
    }

    /// Trains `spec` in a team of `sessions`, steps of `budget`, passing
    /// each member's handoff to the others; the first member's last progress.
    fn train_team(sessions: &mut [Session], spec: &ModelSpec, budget: u64) -> Progress {
        let members = sessions.len() as u32;
        for (member, s) in (0..).zip(sessions.iter_mut()) {
            let spec = spec.clone();
            assert!(matches!(s.handle(Request::TrainShard { spec, member, members }), Reply::Progress(_)));
        }
        let mut handoffs: Vec<Option<Handoff>> = vec![None; sessions.len()];
        loop {
            // A member fitted whole (a blend's EASE) ends the training in a step.
            let mut first = None;
            for (s, handoff) in sessions.iter_mut().zip(&mut handoffs).filter(|(_, h)| h.is_none()) {
                let Reply::Shard(stepped) = s.handle(Request::ShardStep { budget }) else { panic!("ShardStep") };
                let p = stepped.progress;
                assert!(p.visited <= p.per_epoch && (p.visited > 0 || p.epoch > 0), "{p:?}");
                *handoff = stepped.handoff;
                first.get_or_insert(p);
            }
            if let Some(p) = first.filter(|p| p.finished && handoffs[0].is_none()) {
                return p;
            }
            if handoffs.iter().all(Option::is_some) {
                let all: Vec<Handoff> = handoffs.iter_mut().map(|h| h.take().unwrap()).collect();
                let mut first = None;
                for (m, s) in sessions.iter_mut().enumerate() {
                    let others = all.iter().enumerate().filter(|(o, _)| *o != m).map(|(_, h)| h.clone()).collect();
                    let Reply::Progress(p) = s.handle(Request::ShardTake { handoffs: others }) else { panic!("take") };
                    assert!(p.visited <= p.per_epoch, "{p:?}");
                    first.get_or_insert(p);
                }
                if let Some(p) = first.filter(|p| p.finished) {
                    return p;
                }
            }
        }
    }

    fn exported(s: &mut Session) -> Vec<u8> {
        let Reply::Model(bytes) = s.handle(Request::ExportModel) else { panic!("ExportModel") };
        bytes
    }

    /// A team of two or four trains the same iALS model, to the bit, as one
    /// instance: each member solves its shards and takes the others'. So
    /// does the ranking blend, whose EASE each member fits whole.
    #[test]
    fn a_team_trains_the_same_ranking_model_as_one_instance() {
        let mut ials = defaults::ials();
        (ials.factors, ials.iterations) = (12, 3);
        let blend = ModelSpec::new("rankblend").with("iterations", Value::Integer(2));
        for spec in [Algorithm::Ials(ials).to_spec(), blend] {
            let mut alone = busy();
            let epochs = train_by(&mut alone, spec.clone(), 1 << 16).epochs;
            let want = exported(&mut alone);
            for (members, budget) in [(2, 5000), (4, 1 << 20), (2, 1 << 24)] {
                let mut team: Vec<Session> = (0..members).map(|_| busy()).collect();
                let done = train_team(&mut team, &spec, budget);
                assert!(done.finished && done.epoch == epochs, "{done:?}");
                assert!(exported(&mut team[0]) == want, "a team of {members} made another {spec:?}");
            }
        }
    }

    /// A handoff that does not fit is refused and changes nothing; steps out
    /// of turn are refused; an algorithm that trains alone refuses a team.
    #[test]
    fn a_team_member_refuses_what_does_not_fit() {
        let mut ials = defaults::ials();
        (ials.factors, ials.iterations) = (8, 1);
        let spec = Algorithm::Ials(ials).to_spec();
        let mut team = [busy(), busy()];
        for (member, s) in (0..).zip(team.iter_mut()) {
            s.handle(Request::TrainShard { spec: spec.clone(), member, members: 2 });
        }
        let refused = |r: Reply| matches!(r, Reply::Error { .. });
        assert!(refused(team[0].handle(Request::TrainStep { budget: 10 })), "a member steps with ShardStep");
        assert!(refused(team[0].handle(Request::ShardTake { handoffs: vec![] })), "nothing handed off yet");
        let hand = |s: &mut Session| loop {
            let Reply::Shard(stepped) = s.handle(Request::ShardStep { budget: 1 << 20 }) else { panic!() };
            if let Some(h) = stepped.handoff {
                return h;
            }
        };
        let (first, second) = (hand(&mut team[0]), hand(&mut team[1]));
        assert!(refused(team[0].handle(Request::ShardStep { budget: 10 })), "it waits for the others");
        let cut = Handoff(second.0[..second.0.len() - 4].to_vec());
        for wrong in [vec![], vec![cut], vec![first.clone()], vec![second.clone(), second.clone()]] {
            assert!(refused(team[0].handle(Request::ShardTake { handoffs: wrong })));
        }
        assert!(matches!(team[0].handle(Request::ShardTake { handoffs: vec![second] }), Reply::Progress(_)));
        for alone in ["baseline", "blend"] {
            let spec = ModelSpec::new(alone);
            assert!(refused(team[1].handle(Request::TrainShard { spec, member: 1, members: 2 })), "{alone}");
        }
        assert!(refused(team[1].handle(Request::TrainShard { spec, member: 0, members: 3 })), "teams of 1, 2 or 4");
    }

    /// Two groups of users who each watch their own two movies: the ranking
    /// model puts the group's unseen movie first, the stars come from the
    /// rating model, and both survive export, import and fold-in.
    #[test]
    fn the_ranking_model_orders_the_list_and_the_rating_model_predicts() {
        let mut s = session();
        s.handle(Request::Reset { users: 7, items: 5, scale: Scale { min: 1.0, max: 5.0 } });
        let mut t = Vec::new();
        for u in 0..3 {
            t.extend([(u, 0, 4.0), (u, 1, 5.0)]);
        }
        for u in 3..6 {
            t.extend([(u, 2, 4.0), (u, 3, 3.0)]);
        }
        // User 6 watched movie 0 only; movie 4 was rated once, 5 stars.
        t.extend([(6, 0, 4.0), (3, 4, 5.0)]);
        s.handle(Request::AddRatings { set: RatingSet::Train, ratings: t });
        s.handle(Request::Index);
        let mut ials = defaults::ials();
        (ials.factors, ials.reg, ials.iterations) = (2, 0.1, 10);
        let early = s.handle(Request::TrainStart { spec: Algorithm::Ials(ials).to_spec() });
        assert!(matches!(early, Reply::Error { kind: ErrorKind::BadState, .. }), "needs a rating model first");
        train(&mut s, Algorithm::Baseline(defaults::baseline()).to_spec());
        let stars = s.handle(Request::Predict { pairs: vec![(6, 1)] });
        let p = train(&mut s, Algorithm::Ials(ials).to_spec());
        assert_eq!((p.epoch, p.epochs, p.train_rmse), (10, 10, None));
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 6, n: 4 }) else { panic!() };
        assert_eq!(top[0].item, 1, "{top:?}");
        assert_eq!(Reply::Predictions(vec![top[0].prediction]), stars);
        let Reply::Model(bytes) = s.handle(Request::ExportModel) else { panic!() };
        train(&mut s, Algorithm::Baseline(defaults::baseline()).to_spec());
        assert_eq!(s.handle(Request::ImportModel { bytes }), Reply::Ok);
        let Reply::Recommendations(again) = s.handle(Request::Recommend { user: 6, n: 4 }) else { panic!() };
        assert_eq!(again, top);
        // Now user 6 has watched movie 2 instead: the other group's movie 3 leads.
        assert_eq!(s.handle(Request::FoldIn { user: 6, ratings: vec![(2, 5.0)], marks: vec![] }), Reply::Ok);
        let Reply::Recommendations(folded) = s.handle(Request::Recommend { user: 6, n: 4 }) else { panic!() };
        assert_eq!(folded[0].item, 3, "{folded:?}");
    }

    /// Two groups of users who each watch their own two movies, as above:
    /// a viewer's marks leave their list, a movie seen counts for its group
    /// and a hidden movie pulls its group down, in both ranking models,
    /// and the explanation's parts (marks included) add up to the score.
    #[test]
    fn marks_leave_the_list_and_teach_the_ranking_model() {
        let mut ials = defaults::ials();
        (ials.factors, ials.reg, ials.iterations) = (2, 0.1, 10);
        let ease = crate::algorithms::ease::EaseParams { min_ratings: 1, ..Default::default() };
        for ranking in [Algorithm::Ials(ials), Algorithm::Ease(ease)] {
            let mut s = session();
            s.handle(Request::Reset { users: 9, items: 6, scale: Scale { min: 1.0, max: 5.0 } });
            let mut t = Vec::new();
            for u in 0..4 {
                t.extend([(u, 0, 4.0), (u, 1, 5.0), (u, 4, 4.0)]);
            }
            for u in 4..8 {
                t.extend([(u, 2, 4.0), (u, 3, 3.0), (u, 5, 4.0)]);
            }
            t.push((8, 0, 4.0));
            s.handle(Request::AddRatings { set: RatingSet::Train, ratings: t });
            s.handle(Request::Index);
            train(&mut s, Algorithm::Baseline(defaults::baseline()).to_spec());
            train(&mut s, ranking.to_spec());
            let list = |s: &mut Session, marks: Vec<(u32, Mark)>| {
                let fold = Request::FoldIn { user: 8, ratings: vec![(0, 4.0), (5, 4.0)], marks };
                assert_eq!(s.handle(fold), Reply::Ok);
                let Reply::Recommendations(top) = s.handle(Request::Recommend { user: 8, n: 6 }) else { panic!() };
                top.iter().map(|r| (r.item, r.score)).collect::<Vec<_>>()
            };
            let score = |top: &[(u32, f32)], item: u32| top.iter().find(|r| r.0 == item).map(|r| r.1);
            let plain = list(&mut s, vec![]);
            let hidden = list(&mut s, vec![(2, Mark::Hidden)]);
            assert_eq!(score(&hidden, 2), None, "{} lists a hidden movie", ranking.name());
            assert!(score(&hidden, 3) < score(&plain, 3), "{}: {plain:?} → {hidden:?}", ranking.name());
            let Reply::Explanation(why) = s.handle(Request::Explain { user: 8, item: 3, weight: 1.0, diversity: 0.0 })
            else {
                panic!()
            };
            let rank = why.rank.expect("a ranking model explains its part");
            assert!(rank.exact && (rank.total - rank.model).abs() < 1e-4, "{}: {rank:?}", ranking.name());
            assert!(rank.marks.len() == 1 && rank.marks[0].2 < 0.0, "hiding 2 lowered 3: {rank:?}");
            let seen = list(&mut s, vec![(2, Mark::Seen)]);
            assert_eq!(score(&seen, 2), None);
            assert!(score(&seen, 3) > score(&plain, 3), "{}: {plain:?} → {seen:?}", ranking.name());
        }
    }

    #[test]
    fn errors_are_replies_and_the_session_survives() {
        let mut s = session();
        let garbage = Reply::decode(&s.call(&[0xde, 0xad, 0xbe, 0xef])).unwrap();
        assert!(matches!(garbage, Reply::Error { kind: ErrorKind::BadRequest, .. }));
        assert!(matches!(s.handle(Request::TrainStep { budget: 1 }), Reply::Error { kind: ErrorKind::BadState, .. }));
        let mut s = loaded();
        let out_of_range = s.handle(Request::AddRatings { set: RatingSet::Train, ratings: vec![(9, 0, 1.0)] });
        assert!(matches!(out_of_range, Reply::Error { kind: ErrorKind::BadArgument, .. }));
        s.handle(Request::Index);
        s.handle(Request::TrainStart { spec: Algorithm::Baseline(defaults::baseline()).to_spec() });
        let bad_user = s.handle(Request::Predict { pairs: vec![(7, 0)] });
        assert!(matches!(bad_user, Reply::Error { kind: ErrorKind::BadArgument, .. }));
        let bad_model = s.handle(Request::ImportModel { bytes: vec![1, 2, 3] });
        assert!(matches!(bad_model, Reply::Error { kind: ErrorKind::BadModel, .. }));
        assert!(matches!(s.handle(Request::Predict { pairs: vec![(0, 2)] }), Reply::Predictions(_)));
    }
}
