//! Train/test splits: ML-100K's own five folds, a seeded random holdout, or
//! a split read from `train.tsv`/`test.tsv` so other tools see the same one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use cinema_store::dataset::{Dataset, Format, Rating};
use cinema_store::splits::read_split_file;

#[derive(Debug, Clone, PartialEq)]
pub enum Protocol {
    /// `u1.base`/`u1.test` … `u5.base`/`u5.test` from an ML-100K folder.
    Folds { dir: PathBuf },
    /// A seeded random split of every rating.
    Holdout { seed: u64, test_fraction: f64 },
    /// `train.tsv` and `test.tsv` (`user<TAB>movie<TAB>rating`, raw ids).
    SplitDir { dir: PathBuf },
}

pub struct Split {
    pub name: String,
    pub train: Vec<Rating>,
    pub test: Vec<Rating>,
}

pub fn make_splits(dataset: &Dataset, protocol: &Protocol) -> Result<Vec<Split>> {
    match protocol {
        Protocol::Folds { dir } => {
            if dataset.format != Format::Ml100k {
                bail!("--protocol folds needs an ML-100K folder (with u1.base … u5.test); use --protocol holdout");
            }
            (1..=5)
                .map(|k| {
                    Ok(Split {
                        name: format!("u{k}"),
                        train: read(dataset, &dir.join(format!("u{k}.base")))?,
                        test: read(dataset, &dir.join(format!("u{k}.test")))?,
                    })
                })
                .collect()
        }
        Protocol::Holdout { seed, test_fraction } => {
            if !(0.0..1.0).contains(test_fraction) || *test_fraction == 0.0 {
                bail!("--test-fraction must be between 0 and 1 (got {test_fraction})");
            }
            Ok(vec![holdout(&dataset.ratings, *seed, *test_fraction)])
        }
        Protocol::SplitDir { dir } => Ok(vec![Split {
            name: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "split".into()),
            train: read(dataset, &dir.join("train.tsv"))?,
            test: read(dataset, &dir.join("test.tsv"))?,
        }]),
    }
}

fn read(dataset: &Dataset, path: &Path) -> Result<Vec<Rating>> {
    read_split_file(path, dataset).with_context(|| format!("could not read the split file {}", path.display()))
}

/// Shuffles rating positions with a seeded RNG and holds out the first
/// `round(n · fraction)`; file order is kept within each side.
pub fn holdout(ratings: &[Rating], seed: u64, fraction: f64) -> Split {
    let mut order: Vec<usize> = (0..ratings.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let n_test = (ratings.len() as f64 * fraction).round() as usize;
    let mut in_test = vec![false; ratings.len()];
    order[..n_test].iter().for_each(|&i| in_test[i] = true);
    let (mut train, mut test) = (Vec::with_capacity(ratings.len() - n_test), Vec::with_capacity(n_test));
    for (r, held_out) in ratings.iter().zip(in_test) {
        if held_out { test.push(*r) } else { train.push(*r) }
    }
    Split { name: format!("seed{seed}"), train, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_is_seeded_disjoint_and_complete() {
        let ratings: Vec<Rating> =
            (0..1000).map(|i| Rating { user: i % 7, item: i, value: 3.0, timestamp: 0 }).collect();
        let a = holdout(&ratings, 42, 0.1);
        let b = holdout(&ratings, 42, 0.1);
        let c = holdout(&ratings, 43, 0.1);
        assert_eq!((a.train.len(), a.test.len()), (900, 100));
        assert_eq!(a.test, b.test);
        assert_ne!(a.test, c.test);
        let mut all: Vec<u32> = a.train.iter().chain(&a.test).map(|r| r.item).collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }
}
