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
}

pub fn save(path: &Path, meta: &ModelMeta, model: &[u8]) -> Result<()> {
    let dir = path.parent().context("model path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let meta_json = serde_json::to_vec(meta)?;
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(meta_json.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&meta_json);
    bytes.extend_from_slice(model);
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("could not save the model to {}", path.display()))?;
    // The rename is durable only once the folder entry is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub fn load(path: &Path) -> Result<(ModelMeta, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| format!("could not read the model {}", path.display()))?;
    let bad = |why: &str| -> Result<(ModelMeta, Vec<u8>)> { bail!("the model {} is {why}", path.display()) };
    if bytes.len() < 16 + 32 || &bytes[..8] != MAGIC {
        return bad("not a Cinema model file");
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into()?);
    if version != VERSION {
        return bad(&format!("of format {version}, this Cinema reads format {VERSION}"));
    }
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body)[..] != *digest {
        return bad("damaged (checksum mismatch)");
    }
    let meta_len = u32::from_le_bytes(bytes[12..16].try_into()?) as usize;
    let Some(meta_json) = body.get(16..16 + meta_len) else { return bad("truncated") };
    let meta: ModelMeta =
        serde_json::from_slice(meta_json).with_context(|| format!("metadata of {}", path.display()))?;
    Ok((meta, body[16 + meta_len..].to_vec()))
}

pub fn active_path(dir: &Path) -> PathBuf {
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
}
