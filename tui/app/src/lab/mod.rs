//! The model lab: training a model into a new version while reporting every
//! step ([`train`]), tuning a model's parameters by cross-validation on
//! several engine instances at once ([`tune`]), comparing two versions
//! ([`compare`]), how good predictions are beyond one number ([`quality`]),
//! and what the diversity knob trades ([`sweep`]). The CLI's `train`/`tune`/`versions` and the app's Lab and
//! Versions views share these code paths.

pub mod compare;
pub mod quality;
pub mod sweep;
pub mod train;
pub mod tune;

use cinema_store::models::ModelMeta;

/// Why a saved version cannot serve with this engine module on this
/// dataset, if it cannot: model bytes are the module's own business, so
/// only the module that wrote them (by sha256) may read them back, and a
/// model is for the ratings it was trained on.
pub fn unusable(meta: &ModelMeta, module_sha256: &str, dataset_fingerprint: &str) -> Option<String> {
    if meta.engine_sha256 != module_sha256 {
        return Some(format!("trained by engine module {} ({})", meta.engine, short(&meta.engine_sha256)));
    }
    if !meta.dataset_fingerprint.is_empty() && meta.dataset_fingerprint != dataset_fingerprint {
        return Some(format!("trained on other data ({})", meta.dataset_fingerprint));
    }
    None
}

/// The first 12 hex digits of a sha256, enough to tell modules apart.
pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
