//! The model flags shared by `eval`, `recommend` and `bench`. Which
//! algorithms and parameters exist, their defaults and their valid ranges
//! all come from the engine module's own description (its `Hello`), so a
//! module with knobs of its own is driven with `--param NAME=VALUE`; the
//! named flags are shorthands for the usual ones.

use anyhow::{Context, Result, bail};
use cinema_protocol::{AlgorithmInfo, Hello, ModelSpec, Role};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelArgs {
    /// Rating algorithm offered by the engine module (`cinema plugins list` shows them).
    #[arg(long)]
    pub algo: Option<String>,
    /// A parameter of the rating algorithm (repeatable); `cinema plugins list` shows each one's range.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Shorthand for --param factors=N.
    #[arg(long, value_name = "N")]
    pub factors: Option<String>,
    /// Shorthand for --param epochs=N.
    #[arg(long, value_name = "N")]
    pub epochs: Option<String>,
    /// Learning rate of the factors, and of the biases unless --lr-bias is given.
    #[arg(long, value_name = "X")]
    pub lr: Option<String>,
    /// Regularization of the factors, and of the biases unless --reg-bias is given.
    #[arg(long, value_name = "X")]
    pub reg: Option<String>,
    /// Shorthand for --param lr_bias=X.
    #[arg(long, value_name = "X")]
    pub lr_bias: Option<String>,
    /// Shorthand for --param reg_bias=X.
    #[arg(long, value_name = "X")]
    pub reg_bias: Option<String>,
    /// Shorthand for --param init_std=X.
    #[arg(long, value_name = "X")]
    pub init_std: Option<String>,
    /// Shorthand for --param lr_decay=X.
    #[arg(long, value_name = "X")]
    pub lr_decay: Option<String>,
    /// Seed of both models' random start (where the algorithm has a `seed`).
    #[arg(long, value_name = "N")]
    pub model_seed: Option<String>,
    /// The model that orders lists (e.g. `ials`, or `none` to order by
    /// predicted stars). Default: the module's ranking model, if it offers one.
    #[arg(long)]
    pub ranking: Option<String>,
    /// A parameter of the ranking model (repeatable).
    #[arg(long = "rank-param", value_name = "NAME=VALUE")]
    pub rank_params: Vec<String>,
    /// Shorthand for --rank-param factors=N.
    #[arg(long, value_name = "N")]
    pub rank_factors: Option<String>,
    /// Shorthand for --rank-param iterations=N.
    #[arg(long, value_name = "N")]
    pub rank_iterations: Option<String>,
    /// Shorthand for --rank-param reg=X.
    #[arg(long, value_name = "X")]
    pub rank_reg: Option<String>,
    /// Shorthand for --rank-param alpha=X.
    #[arg(long, value_name = "X")]
    pub rank_alpha: Option<String>,
}

impl ModelArgs {
    /// The rating model to train: the module's defaults for the chosen
    /// algorithm, overridden by flags, checked against its description.
    pub fn spec(&self, hello: &Hello) -> Result<ModelSpec> {
        let info = match &self.algo {
            Some(name) => offered(hello, name)?,
            None => {
                hello.algorithms.iter().find(|a| a.role == Role::Rating).context("the engine offers no rating model")?
            }
        };
        if info.role == Role::Ranking {
            bail!(
                "`{0}` is a ranking model: it orders lists but predicts no stars; choose it with --ranking {0}",
                info.name
            );
        }
        // Like Surprise's lr_all / reg_all: --lr and --reg set the biases'
        // rates too, unless split by --lr-bias / --reg-bias (which come later).
        let both = |name| info.param(name).is_some();
        let shorthands = [
            ("lr", &self.lr, true),
            ("lr_bias", &self.lr, both("lr_bias")),
            ("reg", &self.reg, true),
            ("reg_bias", &self.reg, both("reg_bias")),
            ("factors", &self.factors, true),
            ("epochs", &self.epochs, true),
            ("lr_bias", &self.lr_bias, true),
            ("reg_bias", &self.reg_bias, true),
            ("init_std", &self.init_std, true),
            ("lr_decay", &self.lr_decay, true),
        ];
        let given: Vec<(&str, &str)> = shorthands
            .into_iter()
            .filter(|(_, _, applies)| *applies)
            .filter_map(|(name, value, _)| value.as_deref().map(|v| (name, v)))
            .collect();
        build(info, given, &self.params, self.seed(info))
    }

    /// The ranking model to train after the rating model, if any: the
    /// module's own unless `--ranking` names another or `none`.
    pub fn ranking_spec(&self, hello: &Hello) -> Result<Option<ModelSpec>> {
        let info = match self.ranking.as_deref() {
            Some("none") => return Ok(None),
            Some(name) => offered(hello, name)?,
            None => match hello.algorithms.iter().find(|a| a.role == Role::Ranking) {
                Some(info) => info,
                None => return Ok(None),
            },
        };
        if info.role != Role::Ranking {
            bail!("`{}` predicts stars; --ranking takes a ranking model (e.g. ials) or none", info.name);
        }
        let mut given: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [
            ("factors", &self.rank_factors),
            ("iterations", &self.rank_iterations),
            ("reg", &self.rank_reg),
            ("alpha", &self.rank_alpha),
        ] {
            given.extend(value.as_deref().map(|v| (name, v)));
        }
        build(info, given, &self.rank_params, self.seed(info)).map(Some)
    }

    fn seed(&self, info: &AlgorithmInfo) -> Option<&str> {
        self.model_seed.as_deref().filter(|_| info.param("seed").is_some())
    }
}

/// `info`'s defaults with the shorthand flags, then the `NAME=VALUE` flags,
/// applied; every value parsed and range-checked by the description.
fn build(
    info: &AlgorithmInfo,
    shorthands: Vec<(&str, &str)>,
    params: &[String],
    seed: Option<&str>,
) -> Result<ModelSpec> {
    let mut spec = ModelSpec::new(&info.name);
    let pairs =
        params.iter().map(|p| p.split_once('=').with_context(|| format!("--param takes NAME=VALUE, not `{p}`")));
    let seed = seed.map(|s| Ok(("seed", s)));
    for pair in shorthands.into_iter().map(Ok).chain(seed).chain(pairs) {
        let (name, text) = pair?;
        let name = name.trim();
        spec.set(name, info.value(name, text)?);
    }
    Ok(info.check(&spec)?)
}

/// The description of the algorithm called `name`.
pub fn offered<'h>(hello: &'h Hello, name: &str) -> Result<&'h AlgorithmInfo> {
    match hello.algorithm(name) {
        Some(info) => Ok(info),
        None => {
            let offered: Vec<&str> = hello.algorithms.iter().map(|a| a.name.as_str()).collect();
            bail!("engine module {} does not offer `{name}`; it offers: {}", hello.engine, offered.join(", "))
        }
    }
}
