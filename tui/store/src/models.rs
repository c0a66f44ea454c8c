//! Saved models: the engine's exported bytes plus what they are, written
//! atomically with a checksum so a crash or a flipped byte is detected and
//! never loaded.
//!
//! File layout: `CINEMAMD` | format version (u32 LE) | metadata length (u32
//! LE) | metadata (JSON) | model bytes | SHA-256 of everything before it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cinema_protocol::ModelSpec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"CINEMAMD";
const VERSION: u32 = 1;
pub const ACTIVE: &str = "active.cmodel";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub algorithm: String,
    pub params: ModelSpec,
    /// The ranking model saved beside the rating model, if any (files
    /// written before ranking models existed have none).
    #[serde(default)]
    pub ranking: Option<ModelSpec>,
    pub dataset: String,
    pub engine: String,
    pub engine_sha256: String,
    pub train_ratings: usize,
    pub train_rmse: Option<f32>,
    pub training_seconds: f64,
    /// Seconds since the Unix epoch.
    pub created: i64,
    /// The version number (`v3` is 3); 0 for a model saved before versions.
    #[serde(default)]
    pub id: u32,
    /// What the dataset was when this was trained ([`crate::Dataset::fingerprint`]);
    /// empty when unknown (saved before versions).
    #[serde(default)]
    pub dataset_fingerprint: String,
    /// Scores on held-out ratings, when the training kept some back.
    #[serde(default)]
    pub metrics: Option<Metrics>,
    /// How `metrics` were measured, e.g. "holdout 10 % (seed 42)".
    #[serde(default)]
    pub protocol: Option<String>,
    /// The ratings the scored fit learned from, when the metrics come from
    /// a fit without the held-out ratings and this model is the refit, with
    /// the same settings, on all `train_ratings`. `None`: the metrics (if
    /// any) are this model's own.
    #[serde(default)]
    pub scored_on: Option<usize>,
    /// Training was stopped early; the epochs done so far were kept.
    #[serde(default)]
    pub stopped: bool,
    /// Epochs of the rating model completed.
    #[serde(default)]
    pub epochs: u32,
    /// A first start's quick models on a large dataset: fewer passes than
    /// the defaults, to be replaced by the full ones (trained when the app
    /// finds this serving).
    #[serde(default)]
    pub quick: bool,
    /// `ranking` is what the training was asked for: true of every version
    /// trained since ranking models exist, so one trained without a ranking
    /// model (`--ranking none`) serves as it is; false in older files, whose
    /// missing ranking model is trained at the next start.
    #[serde(default)]
    pub ranking_chosen: bool,
    /// The models the rating model is made of, with their fitted weights
    /// (a blend's members); empty for a model of one piece.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(String, f32)>,
}

/// A model's scores on held-out ratings (definitions in the README,
/// "Metrics and protocols").
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub rmse: f64,
    pub mae: f64,
    pub precision_at_10: f64,
    pub recall_at_10: f64,
    pub ndcg_at_10: f64,
    pub coverage: f64,
    pub rated_precision_at_10: f64,
    pub rated_recall_at_10: f64,
    /// What the same lists are beside accurate; `None` in versions saved
    /// before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond: Option<Beyond>,
}

/// The held-out lists beside their accuracy (definitions in the README,
/// "Diversity").
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Beyond {
    /// Bits: the mean self-information of a listed movie.
    pub novelty: f64,
    /// The mean pairwise genre distance within a list.
    pub intra_list_diversity: f64,
    /// KL divergence of a list's genre mix from the viewer's (nats).
    pub miscalibration: f64,
    /// Of how often each movie is listed (0: evenly).
    pub gini: f64,
    /// The most coverage the scored lists could reach: their slots (10 per
    /// scored user), or the movies with training ratings if fewer, over the
    /// catalogue.
    pub reachable_coverage: f64,
    /// The diversity setting the lists were made at (0: the model's own).
    pub diversity: f32,
}

impl Metrics {
    /// The name of every metric a version may have, accuracy first: what
    /// the Versions chart steps through.
    pub const NAMES: [&'static str; 12] = [
        "rmse",
        "mae",
        "precision_at_10",
        "recall_at_10",
        "ndcg_at_10",
        "coverage",
        "rated_precision_at_10",
        "rated_recall_at_10",
        "novelty",
        "intra_list_diversity",
        "miscalibration",
        "gini",
    ];

    /// [`Self::named`], then the figures beside accuracy when measured.
    pub fn every(&self) -> Vec<(&'static str, f64, bool)> {
        let mut all = self.named().to_vec();
        if let Some(b) = self.beyond {
            all.extend([
                ("novelty", b.novelty, false),
                ("intra_list_diversity", b.intra_list_diversity, false),
                ("miscalibration", b.miscalibration, true),
                ("gini", b.gini, true),
            ]);
        }
        all
    }

    /// The metric called `name` (of [`Self::NAMES`]), if this version has it.
    pub fn get(&self, name: &str) -> Option<(f64, bool)> {
        self.every().into_iter().find(|m| m.0 == name).map(|m| (m.1, m.2))
    }

    /// The mean of each accuracy metric (all zero for none).
    pub fn mean<'a>(all: impl IntoIterator<Item = &'a Metrics>) -> Metrics {
        let (mut sum, mut n) = ([0.0; 8], 0usize);
        for m in all {
            for (s, (_, v, _)) in sum.iter_mut().zip(m.named()) {
                *s += v;
            }
            n += 1;
        }
        let [rmse, mae, precision_at_10, recall_at_10, ndcg_at_10, coverage, rated_precision_at_10, rated_recall_at_10] =
            sum.map(|s| s / n.max(1) as f64);
        Metrics {
            rmse,
            mae,
            precision_at_10,
            recall_at_10,
            ndcg_at_10,
            coverage,
            rated_precision_at_10,
            rated_recall_at_10,
            beyond: None,
        }
    }

    /// Every metric by its JSON name, and whether lower is better.
    pub fn named(&self) -> [(&'static str, f64, bool); 8] {
        [
            ("rmse", self.rmse, true),
            ("mae", self.mae, true),
            ("precision_at_10", self.precision_at_10, false),
            ("recall_at_10", self.recall_at_10, false),
            ("ndcg_at_10", self.ndcg_at_10, false),
            ("coverage", self.coverage, false),
            ("rated_precision_at_10", self.rated_precision_at_10, false),
            ("rated_recall_at_10", self.rated_recall_at_10, false),
        ]
    }
}

pub fn save(path: &Path, meta: &ModelMeta, model: &[u8]) -> Result<()> {
    let meta_json = serde_json::to_vec(meta)?;
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(meta_json.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&meta_json);
    bytes.extend_from_slice(model);
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    crate::atomic::write(path, &bytes).with_context(|| format!("could not save the model to {}", path.display()))
}

pub fn load(path: &Path) -> Result<(ModelMeta, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| format!("could not read the model {}", path.display()))?;
    let meta_len = head(path, &bytes, bytes.len() as u64)?;
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body)[..] != *digest {
        bail!("the model {} is damaged (checksum mismatch)", path.display());
    }
    let meta = meta(path, &body[16..16 + meta_len])?;
    Ok((meta, body[16 + meta_len..].to_vec()))
}

/// A model file's metadata alone, read from its head without the model
/// bytes or the checksum (which [`load`] checks): what the file says it is,
/// cheap enough to decide at start-up which version will serve before the
/// engine has loaded it.
pub fn peek(path: &Path) -> Result<ModelMeta> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).with_context(|| format!("could not read the model {}", path.display()))?;
    let len = file.metadata()?.len();
    let mut first = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut first)?;
    let meta_len = head(path, &first, len)?;
    let mut meta_json = vec![0; meta_len];
    file.read_exact(&mut meta_json)?;
    meta(path, &meta_json)
}

/// Checks a model file's first bytes (`len`: the whole file's length) and
/// returns the length of its metadata.
fn head(path: &Path, first: &[u8], len: u64) -> Result<usize> {
    let bad = |why: &str| -> Result<usize> { bail!("the model {} is {why}", path.display()) };
    if len < 16 + 32 || first.len() < 16 || &first[..8] != MAGIC {
        return bad("not a Cinema model file");
    }
    let version = u32::from_le_bytes(first[8..12].try_into()?);
    if version != VERSION {
        return bad(&format!("of format {version}, this Cinema reads format {VERSION}"));
    }
    let meta_len = u32::from_le_bytes(first[12..16].try_into()?) as usize;
    if 16 + meta_len as u64 + 32 > len {
        return bad("truncated");
    }
    Ok(meta_len)
}

fn meta(path: &Path, json: &[u8]) -> Result<ModelMeta> {
    serde_json::from_slice(json).with_context(|| format!("metadata of {}", path.display()))
}

/// Where models were saved before versions (migrated into v1).
pub fn legacy_active_path(dir: &Path) -> PathBuf {
    dir.join(ACTIVE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::Value;

    fn meta() -> ModelMeta {
        ModelMeta {
            algorithm: "svd".into(),
            params: ModelSpec::new("svd").with("factors", Value::Integer(200)).with("lr", Value::Real(0.007)),
            ranking: Some(ModelSpec::new("ials").with("alpha", Value::Real(5.0))),
            dataset: "ml-100k".into(),
            engine: "cinema-default".into(),
            engine_sha256: "00".into(),
            train_ratings: 10,
            train_rmse: Some(0.8),
            training_seconds: 1.5,
            created: 1,
            id: 2,
            dataset_fingerprint: "f".into(),
            metrics: Some(Metrics { rmse: 0.9, ..Metrics::default() }),
            protocol: Some("holdout".into()),
            scored_on: None,
            stopped: true,
            epochs: 3,
            quick: false,
            ranking_chosen: true,
            parts: Vec::new(),
        }
    }

    #[test]
    fn round_trip_and_every_flipped_byte_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m").join(ACTIVE);
        save(&path, &meta(), &[1, 2, 3, 4]).unwrap();
        assert_eq!(load(&path).unwrap(), (meta(), vec![1, 2, 3, 4]));
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).unwrap();
            assert!(load(&path).is_err(), "flip at byte {i} went unnoticed");
        }
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert!(load(&path).is_err());
    }

    #[test]
    fn peek_reads_the_metadata_alone_and_refuses_what_is_not_a_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACTIVE);
        save(&path, &meta(), &[9; 1000]).unwrap();
        assert_eq!(peek(&path).unwrap(), meta());
        let good = std::fs::read(&path).unwrap();
        // The model bytes are not read, nor checked: `load` does that.
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(peek(&path).unwrap(), meta());
        // What the head says is checked as `load` checks it, with the same words.
        let meta_end = 16 + u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize;
        for cut in [meta_end + 31, 20, 8] {
            std::fs::write(&path, &good[..cut]).unwrap();
            let (peeked, loaded) = (peek(&path).unwrap_err(), load(&path).unwrap_err());
            assert_eq!(format!("{peeked:#}"), format!("{loaded:#}"), "cut at {cut}");
        }
        let mut future = good.clone();
        future[8..12].copy_from_slice(&7u32.to_le_bytes());
        std::fs::write(&path, &future).unwrap();
        assert!(format!("{:#}", peek(&path).unwrap_err()).contains("of format 7, this Cinema reads format 1"));
    }
}
