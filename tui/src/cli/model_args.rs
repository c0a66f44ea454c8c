//! The model flags shared by `eval`, `recommend` and `bench`. Flags left out
//! take the engine module's own defaults (from its `Hello`).

use anyhow::{Result, bail};
use cinema_engine::protocol::{Hello, ModelSpec};

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
}

impl ModelArgs {
    /// The module's defaults for the chosen algorithm, overridden by flags.
    pub fn spec(&self, hello: &Hello) -> Result<ModelSpec> {
        let name =
            self.algo.clone().unwrap_or_else(|| hello.algorithms.first().map(|a| a.name.clone()).unwrap_or_default());
        let Some(info) = hello.algorithms.iter().find(|a| a.name == name) else {
            let offered: Vec<&str> = hello.algorithms.iter().map(|a| a.name.as_str()).collect();
            bail!("engine module {} does not offer `{name}`; it offers: {}", hello.engine, offered.join(", "));
        };
        Ok(match info.defaults {
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
        })
    }
}
