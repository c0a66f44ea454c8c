//! The model flags shared by `eval`, `recommend` and `bench`. Flags left out
//! take the engine module's own defaults (from its `Hello`).

use anyhow::{Result, bail};
use cinema_protocol::{Hello, ModelSpec};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelArgs {
    /// Algorithm offered by the engine module (svd, baseline).
    #[arg(long)]
    pub algo: Option<String>,
    /// SVD: latent factors.
    #[arg(long)]
    pub factors: Option<u32>,
    /// Training epochs.
    #[arg(long)]
    pub epochs: Option<u32>,
    /// SVD: learning rate (of factors, and of biases unless --lr-bias is given).
    #[arg(long)]
    pub lr: Option<f32>,
    /// SVD: regularization (of factors, and of biases unless --reg-bias is given).
    #[arg(long)]
    pub reg: Option<f32>,
    /// SVD: learning rate of the biases.
    #[arg(long)]
    pub lr_bias: Option<f32>,
    /// SVD: regularization of the biases.
    #[arg(long)]
    pub reg_bias: Option<f32>,
    /// SVD: standard deviation of the initial factors.
    #[arg(long)]
    pub init_std: Option<f32>,
    /// SVD: learning-rate decay per epoch (1 = none).
    #[arg(long)]
    pub lr_decay: Option<f32>,
    /// Seed of the model's random initialization.
    #[arg(long)]
    pub model_seed: Option<u64>,
    /// The model that orders lists (`ials`, or `none` to order by predicted
    /// stars). Default: the module's ranking model, if it offers one.
    #[arg(long)]
    pub ranking: Option<String>,
    /// Ranking model: latent factors.
    #[arg(long)]
    pub rank_factors: Option<u32>,
    /// Ranking model: alternating iterations.
    #[arg(long)]
    pub rank_iterations: Option<u32>,
    /// Ranking model: regularization.
    #[arg(long)]
    pub rank_reg: Option<f32>,
    /// Ranking model: confidence weight α of a rated movie.
    #[arg(long)]
    pub rank_alpha: Option<f32>,
}

impl ModelArgs {
    /// The module's defaults for the chosen algorithm, overridden by flags.
    pub fn spec(&self, hello: &Hello) -> Result<ModelSpec> {
        let name = match &self.algo {
            Some(name) => name.clone(),
            None => hello.default_rating().map(|s| s.name().to_string()).unwrap_or_default(),
        };
        let defaults = offered(hello, &name)?;
        if defaults.is_ranking() {
            bail!(
                "`{name}` is a ranking model: it orders lists but predicts no stars; choose it with --ranking {name}"
            );
        }
        Ok(match defaults {
            ModelSpec::Svd(mut p) => {
                p.factors = self.factors.unwrap_or(p.factors);
                p.epochs = self.epochs.unwrap_or(p.epochs);
                // Like Surprise's lr_all / reg_all: one flag sets both unless split.
                if let Some(lr) = self.lr {
                    p.lr = lr;
                    p.lr_bias = lr;
                }
                if let Some(reg) = self.reg {
                    p.reg = reg;
                    p.reg_bias = reg;
                }
                p.lr_bias = self.lr_bias.unwrap_or(p.lr_bias);
                p.reg_bias = self.reg_bias.unwrap_or(p.reg_bias);
                p.init_std = self.init_std.unwrap_or(p.init_std);
                p.lr_decay = self.lr_decay.unwrap_or(p.lr_decay);
                p.seed = self.model_seed.unwrap_or(p.seed);
                ModelSpec::Svd(p)
            }
            ModelSpec::Baseline(mut p) => {
                p.epochs = self.epochs.unwrap_or(p.epochs);
                ModelSpec::Baseline(p)
            }
            ModelSpec::Ials(_) => unreachable!("refused above"),
        })
    }

    /// The ranking model to train after the rating model, if any: the
    /// module's own unless `--ranking` names another or `none`.
    pub fn ranking_spec(&self, hello: &Hello) -> Result<Option<ModelSpec>> {
        let defaults = match self.ranking.as_deref() {
            Some("none") => return Ok(None),
            Some(name) => offered(hello, name)?,
            None => match hello.default_ranking() {
                Some(spec) => spec,
                None => return Ok(None),
            },
        };
        let ModelSpec::Ials(mut p) = defaults else {
            bail!("`{}` predicts stars; --ranking takes a ranking model (e.g. ials) or none", defaults.name());
        };
        p.factors = self.rank_factors.unwrap_or(p.factors);
        p.iterations = self.rank_iterations.unwrap_or(p.iterations);
        p.reg = self.rank_reg.unwrap_or(p.reg);
        p.alpha = self.rank_alpha.unwrap_or(p.alpha);
        p.seed = self.model_seed.unwrap_or(p.seed);
        Ok(Some(ModelSpec::Ials(p)))
    }
}

/// The module's defaults for the algorithm called `name`.
fn offered(hello: &Hello, name: &str) -> Result<ModelSpec> {
    match hello.algorithms.iter().find(|a| a.name == name) {
        Some(info) => Ok(info.defaults),
        None => {
            let offered: Vec<&str> = hello.algorithms.iter().map(|a| a.name.as_str()).collect();
            bail!("engine module {} does not offer `{name}`; it offers: {}", hello.engine, offered.join(", "))
        }
    }
}
