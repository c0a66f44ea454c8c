//! iALS: implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008),
//! the model that ranks the list a person sees.
//!
//! A rating is read as "watched": p_ui = 1 with confidence
//! c_ui = 1 + α·w(r_ui); every pair not rated is p_ui = 0 with confidence 1.
//! The model minimises Σ_ui c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²) by
//! alternating: with the movies fixed, each user's row solves
//!
//!   (YᵀY + Σ_{i∈I_u} (c_ui − 1) y_i y_iᵀ + λI) x_u = Σ_{i∈I_u} c_ui y_i
//!
//! and the same with the roles swapped. YᵀY + λI is shared by every row of
//! a sweep, so each sweep first whitens it ([`Whitening`]): in that basis a
//! row's conjugate-gradient step costs O(n_u·k), not the k² of multiplying
//! by YᵀY (the `cg` solver of Takács et al. 2011, as in implicit, then
//! costs k² per row twice, not once per step), and the steps are
//! preconditioned by YᵀY + λI, so they converge faster. A row with few
//! interactions is instead solved exactly through an n × n system
//! ([`HalfSweep`]), and what each half sweep precomputes from the fixed
//! side is chosen by counting ([`Plan`]). Scores x_u·y_i are
//! a likelihood of watching, not stars: a movie almost nobody watched
//! cannot top a list on an inflated bias.
//!
//! The ranking model is a [`Model`] with zero biases and mean, so it is
//! exported, indexed for top-N ([`crate::retrieval`]) and ranked like any
//! other; only its training and fold-in differ.

use ndarray::Array2;

use crate::algorithms::IalsParams;
use crate::cg;
use crate::kernels::{TILE_ROWS, Tile, axpy, axpy4, dot, dot4, gram_tile};
use crate::model::Model;
use crate::ratings::Csr;
use cinema_protocol::{Mark, Scale};

/// Confidence weight of one rating: 1 + α·w(r), with w rising linearly from
/// `1 − rating_weight` at the bottom of the scale to 1 at the top, so
/// a 5-star rating counts more than a 1-star one when `rating_weight` > 0.
#[derive(Debug, Clone, Copy)]
pub struct Confidence {
    alpha: f32,
    rating_weight: f32,
    min: f32,
    span: f32,
}

impl Confidence {
    pub fn new(p: &IalsParams, scale: Scale) -> Confidence {
        Confidence { alpha: p.alpha, rating_weight: p.rating_weight, min: scale.min, span: scale.max - scale.min }
    }

    /// c − 1 for a rating `r` (the part the Gram matrix does not cover).
    #[inline]
    pub fn extra(&self, r: f32) -> f32 {
        let position = ((r - self.min) / self.span).clamp(0.0, 1.0);
        self.alpha * (1.0 - self.rating_weight + self.rating_weight * position)
    }
}

/// `G = AᵀA` of a row-major `rows × k` matrix, as `k × k` row-major.
///
/// The upper triangle only, then mirrored: half the work, and the same
/// floats as the whole (each entry sums the same products in the same
/// order, row after row). It goes a block of rows at a time through 4 × 8
/// tiles of `G` held in registers ([`gram_tile`]); the entries the tiles
/// do not cover (k not a multiple of 4 or 8) one product at a time.
pub fn gram(a: &Array2<f32>) -> Vec<f32> {
    gram_of(a.as_slice().expect("factor rows are contiguous"), a.ncols())
}

/// [`gram`] of the `k`-long rows laid end to end in `rows`.
pub fn gram_of(rows: &[f32], k: usize) -> Vec<f32> {
    let mut g = vec![0f32; k * k];
    let (tiled_rows, tiled_cols) = (k / 4 * 4, k / 8 * 8);
    for block in rows.chunks(TILE_ROWS * k) {
        for f in (0..tiled_rows).step_by(4) {
            for c in (f / 8 * 8..tiled_cols).step_by(8) {
                let mut tile: Tile = std::array::from_fn(|i| g[(f + i) * k + c..][..8].try_into().expect("eight"));
                gram_tile(&mut tile, block, k, f, c);
                for (i, t) in tile.iter().enumerate() {
                    g[(f + i) * k + c..][..8].copy_from_slice(t);
                }
            }
        }
        for row in block.chunks_exact(k) {
            for f in 0..k {
                let from = if f < tiled_rows { tiled_cols.max(f) } else { f };
                for c in from..k {
                    g[f * k + c] += row[f] * row[c];
                }
            }
        }
    }
    for f in 0..k {
        for c in f + 1..k {
            g[c * k + f] = g[f * k + c];
        }
    }
    g
}

/// `M = L·Lᵀ` in place: the lower triangle of the row-major `n × n`
/// symmetric positive-definite `m` becomes `L` (the upper is not read).
/// In f64: the whitening's k³/3 operations happen once a sweep, and a small
/// row's n³/6 are few beside its n²·k/2.
fn cholesky(m: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..=i {
            let s = m[i * n + j] - (0..j).map(|c| m[i * n + c] * m[j * n + c]).sum::<f64>();
            m[i * n + j] = if i == j { s.max(f64::MIN_POSITIVE).sqrt() } else { s / m[j * n + j] };
        }
    }
}

/// `G + λI = L·Lᵀ` (Cholesky) of one sweep, and `L⁻¹`. With `x = L⁻ᵀz`
/// and `ỹ = L⁻¹y` a row's system `(G + λI + Σ_j e_j y_j y_jᵀ) x = Σ_j c_j y_j`
/// becomes `(I + Σ_j e_j ỹ_j ỹ_jᵀ) z = Σ_j c_j ỹ_j`: the shared part is the
/// identity. Conjugate gradients on it are, in the old coordinates, CG
/// preconditioned by `G + λI`, so a row with n interactions is solved
/// exactly in n + 1 steps.
#[derive(Debug, Clone, Default)]
pub struct Whitening {
    k: usize,
    /// `L`, lower triangular, row-major.
    l: Vec<f32>,
    /// `L⁻¹`, lower triangular, row-major.
    inv: Vec<f32>,
}

impl Whitening {
    /// Of the `k × k` Gram matrix `gram` plus `reg`·I (positive definite as
    /// `reg` > 0). In f64, so the rows' floats do not inherit the
    /// factorisation's rounding.
    pub fn new(gram: &[f32], k: usize, reg: f32) -> Whitening {
        let mut l: Vec<f64> = gram.iter().map(|&g| f64::from(g)).collect();
        for i in 0..k {
            l[i * k + i] += f64::from(reg);
        }
        cholesky(&mut l, k);
        let mut inv = vec![0f64; k * k];
        for c in 0..k {
            inv[c * k + c] = 1.0 / l[c * k + c];
            for i in c + 1..k {
                let s: f64 = (c..i).map(|m| l[i * k + m] * inv[m * k + c]).sum();
                inv[i * k + c] = -s / l[i * k + i];
            }
        }
        // Zeros above the diagonal: products read them (see `span`).
        let lower = |m: Vec<f64>| (0..k * k).map(|at| if at % k <= at / k { m[at] as f32 } else { 0.0 }).collect();
        Whitening { k, l: lower(l), inv: lower(inv) }
    }

    /// How much of row `c` of `L` or `L⁻¹` a product reads: its `c + 1`
    /// nonzeros and the zeros after them up to a whole vector block, so the
    /// kernels never run their scalar tails (short rows are most of a triangle).
    fn span(&self, c: usize) -> usize {
        (c + 1).next_multiple_of(8).min(self.k)
    }

    /// Rows `c..c + 4` of a triangle (`L` or `L⁻¹`) as far as `span(c)`,
    /// which is every one's span when `c` is a multiple of 4 (spans round
    /// up to multiples of 8): four rows go through `dot4` or `axpy4` at once.
    fn four<'a>(&self, triangle: &'a [f32], c: usize) -> [&'a [f32]; 4] {
        let (k, n) = (self.k, self.span(c));
        std::array::from_fn(|t| &triangle[(c + t) * k..(c + t) * k + n])
    }

    /// `ỹ = L⁻¹y`: a row of the side held fixed, in the new basis.
    pub fn whiten(&self, y: &[f32], out: &mut [f32]) {
        let k = self.k;
        let (fours, rest) = out.as_chunks_mut::<4>();
        for (g, o) in fours.iter_mut().enumerate() {
            *o = dot4(self.four(&self.inv, 4 * g), &y[..self.span(4 * g)]);
        }
        for (i, o) in (4 * fours.len()..).zip(rest) {
            let n = self.span(i);
            *o = dot(&self.inv[i * k..i * k + n], &y[..n]);
        }
    }

    /// `z = Lᵀx = Σ_c x_c·(L row c)`: a solved row's warm start, in the new basis.
    fn to_basis(&self, x: &[f32], z: &mut [f32]) {
        self.combine_rows(&self.l, x, z);
    }

    /// `x = L⁻ᵀz = Σ_c z_c·(L⁻¹ row c)`: a solved row, back in the model's basis.
    fn back_from_basis(&self, z: &[f32], x: &mut [f32]) {
        self.combine_rows(&self.inv, z, x);
    }

    /// `out = Σ_c w_c·(row c of triangle)`, rows in order.
    fn combine_rows(&self, triangle: &[f32], w: &[f32], out: &mut [f32]) {
        let k = self.k;
        out.fill(0.0);
        let (fours, rest) = w.as_chunks::<4>();
        for (g, &w4) in fours.iter().enumerate() {
            let n = self.span(4 * g);
            axpy4(&mut out[..n], w4, self.four(triangle, 4 * g));
        }
        for (c, &wc) in (4 * fours.len()..).zip(rest) {
            let n = self.span(c);
            axpy(&mut out[..n], wc, &triangle[c * k..c * k + n]);
        }
    }
}

/// The part of a row's system every row of a sweep shares, and the basis
/// of `RowSystem::other`'s rows.
#[derive(Clone, Copy)]
pub enum Shared<'a> {
    /// `G + λI` as `(G, λ)`, the rows as they are: one row on its own
    /// (fold-in, explanations).
    Gram(&'a [f32], f32),
    /// The identity: the rows are whitened ([`Whitening`]).
    Identity,
    /// The identity, the rows as they are: each product maps them through
    /// `L` (two triangular products, k² per step, no whitening of them all).
    Through(&'a Whitening),
}

/// The linear system of one row: `A v = S v + Σ_j e_j (y_j·v) y_j`, with
/// `e_j` = c − 1 of each interaction `j`, `y_j` a row of `other` and `S`
/// the part every row shares.
pub struct RowSystem<'a> {
    pub shared: Shared<'a>,
    pub other: &'a [f32],
    pub k: usize,
    pub cols: &'a [u32],
    pub extra: &'a [f32],
}

impl RowSystem<'_> {
    fn row(&self, j: u32) -> &[f32] {
        &self.other[j as usize * self.k..(j as usize + 1) * self.k]
    }

    /// `out += Σ_j e_j (y_j·v) y_j`.
    fn add_interactions(&self, v: &[f32], out: &mut [f32]) {
        self.pass(v, out, |e, d| e * d);
    }

    /// `out += Σ_j weight(e_j, y_j·v) y_j`, four interactions at a time
    /// (`dot4`, `axpy4`: `v` and `out` are read once for four rows, the
    /// loads these passes are bound by), the same bits as one at a time.
    #[inline]
    fn pass(&self, v: &[f32], out: &mut [f32], weight: impl Fn(f32, f32) -> f32) {
        let (cols, rest) = self.cols.as_chunks::<4>();
        let (extra, extra_rest) = self.extra.as_chunks::<4>();
        for (cols, e) in cols.iter().zip(extra) {
            let y = cols.map(|j| self.row(j));
            let d = dot4(y, v);
            axpy4(out, std::array::from_fn(|t| weight(e[t], d[t])), y);
        }
        for (&j, &e) in rest.iter().zip(extra_rest) {
            let y = self.row(j);
            axpy(out, weight(e, dot(y, v)), y);
        }
    }

    fn apply(&self, v: &[f32], out: &mut [f32], tmp: &mut Tmp) {
        let k = self.k;
        match self.shared {
            Shared::Gram(gram, reg) => {
                for (f, o) in out.iter_mut().enumerate() {
                    *o = dot(&gram[f * k..(f + 1) * k], v) + reg * v[f];
                }
                self.add_interactions(v, out);
            }
            Shared::Identity => {
                out.copy_from_slice(v);
                self.add_interactions(v, out);
            }
            Shared::Through(whitening) => {
                // v + L⁻¹ Σ_j e_j (y_j·L⁻ᵀv) y_j, as ỹ_j·v = y_j·L⁻ᵀv.
                let Tmp(back, sum) = tmp;
                back.resize(k, 0.0);
                whitening.back_from_basis(v, back);
                sum.clear();
                sum.resize(k, 0.0);
                self.add_interactions(back, sum);
                whitening.whiten(sum, out);
                axpy(out, 1.0, v);
            }
        }
    }

    /// Right-hand side Σ_j c_j y_j = Σ_j (1 + e_j) y_j of the rows as they are.
    pub fn rhs(&self, out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.k, 0.0);
        combine(out, self.cols.iter().zip(self.extra).map(|(&j, &e)| (self.row(j), 1.0 + e)));
    }

    /// Improves `x` by `steps` conjugate-gradient steps, or fewer once its
    /// residual vanishes. In the whitened basis the first residual
    /// `b − Ax = Σ_j (c_j − e_j (ỹ_j·x)) ỹ_j − x` is one pass over the
    /// interactions, where the right-hand side and a product with A are two.
    pub fn solve(&self, x: &mut [f32], steps: usize, scratch: &mut Scratch) {
        let Scratch { tmp, cg: cg_scratch, rhs, .. } = scratch;
        let through = match self.shared {
            Shared::Gram(..) => {
                self.rhs(rhs);
                return cg::solve(|v, out| self.apply(v, out, tmp), rhs, x, steps, 0.0, cg_scratch);
            }
            Shared::Identity => None,
            Shared::Through(whitening) => Some(whitening),
        };
        let k = self.k;
        let r = cg_scratch.residual(k);
        let Tmp(back, sum) = tmp;
        let at = match through {
            Some(whitening) => {
                back.resize(k, 0.0);
                whitening.back_from_basis(x, back);
                &back[..]
            }
            None => &x[..],
        };
        sum.clear();
        sum.resize(k, 0.0);
        self.pass(at, sum, |e, d| 1.0 + e - e * d);
        match through {
            Some(whitening) => whitening.whiten(sum, r),
            None => r.copy_from_slice(sum),
        }
        axpy(r, -1.0, x);
        cg::iterate(|v, out| self.apply(v, out, tmp), x, steps, 0.0, cg_scratch);
    }

    /// x = A⁻¹b to rounding, from zero: conjugate gradients converge in at most k steps.
    pub fn solve_exactly(&self, b: &[f32]) -> Vec<f32> {
        let mut x = vec![0f32; self.k];
        let mut tmp = Tmp::default();
        cg::solve(|v, out| self.apply(v, out, &mut tmp), b, &mut x, 2 * self.k + 10, 1e-6, &mut cg::Scratch::default());
        x
    }
}

/// Two k-vectors for the products through `L`.
#[derive(Debug, Default)]
struct Tmp(Vec<f32>, Vec<f32>);

/// Buffers reused across rows so a sweep allocates nothing per row.
#[derive(Debug, Default)]
pub struct Scratch {
    rhs: Vec<f32>,
    extra: Vec<f32>,
    z: Vec<f32>,
    tmp: Tmp,
    /// A small row's n × n system, its right-hand side and `√e`.
    small: Vec<f64>,
    small_rhs: Vec<f64>,
    roots: Vec<f64>,
    cg: cg::Scratch,
}

/// What a half sweep computes from the side held fixed before it solves
/// rows; [`Plan::choose`] takes the cheapest for the rows' rating counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prepared {
    /// Nothing: each product maps the rows through `L` ([`Shared::Through`]),
    /// cheaper when the fixed side has many more rows than the side solved.
    Nothing,
    /// `ỹ = L⁻¹y` of every fixed row: a CG step costs O(n·k).
    #[default]
    Whitened,
    /// `ỹ`, and `ŷ = (G + λI)⁻¹y = L⁻ᵀỹ`: a row with few interactions is
    /// then solved exactly with no change of basis ([`HalfSweep`]).
    WhitenedAndSolved,
}

/// How one row is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// No interactions: a zero row.
    Zero,
    /// Warm-started conjugate-gradient steps in the whitened basis.
    Steps,
    /// Exactly, through an n × n system (see [`HalfSweep`]).
    Small,
}

/// Work in units of k multiply-adds (one pass over a factor row), the
/// units training progress counts: what each way of solving costs.
#[derive(Debug, Clone, Copy)]
pub struct Costs {
    k: u64,
    steps: u64,
}

impl Costs {
    pub fn new(k: usize, cg_steps: u32) -> Costs {
        Costs { k: k as u64, steps: u64::from(cg_steps) }
    }

    /// Preparing one fixed row: a triangular product (k²/2) per vector kept.
    pub fn prepare(self, p: Prepared) -> u64 {
        match p {
            Prepared::Nothing => 0,
            Prepared::Whitened => self.k / 2,
            Prepared::WhitenedAndSolved => self.k,
        }
    }

    /// CG on a row with `n` interactions, whitened: the change of basis
    /// there and back (k), and a dot and an axpy per interaction for the
    /// first residual and in each step's product.
    fn steps(self, n: u64) -> u64 {
        self.k + (self.steps + 1) * 2 * n
    }

    /// The exact solve: n(n+1)/2 dot products, the combination (n) and
    /// the n × n Cholesky (n³/6 multiply-adds).
    fn small(self, n: u64) -> u64 {
        n * (n + 1) / 2 + n + n * n * n / (6 * self.k)
    }

    /// How a row with `n` interactions is solved when the sweep prepared
    /// `p`, and what that costs (at least 1, so every row moves progress).
    fn row(self, p: Prepared, n: u64) -> (Method, u64) {
        let (method, cost) = match p {
            _ if n == 0 => (Method::Zero, 0),
            // The first residual and every product go through L (k each).
            Prepared::Nothing => (Method::Steps, self.steps(n) + (self.steps + 1) * self.k),
            // Back from ỹ to the model's basis costs k/2 without ŷ.
            Prepared::Whitened => (Method::Small, self.small(n) + self.k / 2),
            Prepared::WhitenedAndSolved => (Method::Small, self.small(n)),
        };
        let steps = self.steps(n);
        if method == Method::Small && cost >= steps { (Method::Steps, steps) } else { (method, cost.max(1)) }
    }
}

impl Costs {
    /// What solving a row with `n` interactions costs when the sweep prepared `p`.
    pub fn row_cost(self, p: Prepared, n: u64) -> u64 {
        self.row(p, n).1
    }

    /// Adding one row to a Gram matrix: its upper triangle, k²/2.
    pub fn gram_row(self) -> u64 {
        self.k / 2
    }
}

/// What one half sweep prepares and the work it then costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    pub prepared: Prepared,
    pub work: u64,
}

impl Plan {
    /// The cheapest preparation for solving the rows of `by_row` against
    /// `fixed` rows: it depends only on how many interactions each row has.
    pub fn choose(by_row: &Csr, fixed: usize, costs: Costs) -> Plan {
        [Prepared::Whitened, Prepared::WhitenedAndSolved, Prepared::Nothing]
            .into_iter()
            .map(|prepared| {
                let rows: u64 = (0..by_row.rows()).map(|r| costs.row(prepared, by_row.row_len(r) as u64).1).sum();
                Plan { prepared, work: fixed as u64 * costs.prepare(prepared) + rows }
            })
            .min_by_key(|plan| plan.work)
            .expect("three plans")
    }
}

/// The side held fixed in a half sweep, prepared row by row (so a training
/// step can stop within it) as its [`Plan`] says.
#[derive(Debug, Default)]
pub struct FixedSide {
    plan: Plan,
    whitening: Whitening,
    /// `ỹ` of each row, row-major; empty unless the plan whitens.
    whitened: Vec<f32>,
    /// `ŷ` of each row; empty unless the plan solves.
    solved: Vec<f32>,
    /// Rows prepared so far.
    ready: usize,
}

impl FixedSide {
    /// Starts a half sweep against `fixed`, whose Gram matrix is `gram`: its whitening.
    pub fn start(&mut self, fixed: &Array2<f32>, gram: &[f32], reg: f32, plan: Plan) {
        let k = fixed.ncols();
        self.whitening = Whitening::new(gram, k, reg);
        self.plan = plan;
        let len = |wanted: bool| if wanted { fixed.len() } else { 0 };
        self.whitened.resize(len(plan.prepared != Prepared::Nothing), 0.0);
        self.solved.resize(len(plan.prepared == Prepared::WhitenedAndSolved), 0.0);
        self.ready = if plan.prepared == Prepared::Nothing { fixed.nrows() } else { 0 };
    }

    pub fn prepared(&self) -> Prepared {
        self.plan.prepared
    }

    /// Prepares the next row of `fixed`; returns its cost, or `None` once
    /// every row is ready.
    pub fn prepare_next(&mut self, fixed: &Array2<f32>, costs: Costs) -> Option<u64> {
        if self.ready == fixed.nrows() {
            return None;
        }
        let k = fixed.ncols();
        let at = self.ready * k..(self.ready + 1) * k;
        let y = &fixed.as_slice().expect("factor rows are contiguous")[at.clone()];
        self.whitening.whiten(y, &mut self.whitened[at.clone()]);
        if self.plan.prepared == Prepared::WhitenedAndSolved {
            self.whitening.back_from_basis(&self.whitened[at.clone()], &mut self.solved[at]);
        }
        self.ready += 1;
        Some(costs.prepare(self.plan.prepared))
    }
}

/// One half of an ALS iteration: the rows of one side re-solved with the
/// other side fixed.
///
/// A row with few interactions is solved exactly, by Woodbury's identity
/// rather than k-dimensional steps: with `S = G + λI`, `s_j = √e_j` and
/// `K = Y S⁻¹ Yᵀ` (n × n, `K_ij = ỹ_i·ỹ_j`), the solution is
/// `x = Σ_j (c_j − s_j u_j) ŷ_j` where `(I + sKs) u = sKc`, an n × n
/// system with eigenvalues between 1 and 1 + α. Its cost, n²·k/2, is below
/// the steps' k² + 8n·k for the many movies with a few ratings.
pub struct HalfSweep<'a> {
    /// The other side's rows as they are.
    pub fixed: &'a [f32],
    pub side: &'a FixedSide,
    /// Each row's interactions (columns index the other side).
    pub by_row: &'a Csr,
    pub params: &'a IalsParams,
    pub confidence: Confidence,
    pub costs: Costs,
}

impl HalfSweep<'_> {
    /// Re-solves `rows[range]` from their interactions, warm-started from
    /// their values; rows with none are zero.
    pub fn solve_rows(&self, rows: &mut Array2<f32>, range: std::ops::Range<usize>, scratch: &mut Scratch) {
        let k = rows.ncols();
        let all = rows.as_slice_mut().expect("factor rows are contiguous");
        let (mut extra, mut z) = (std::mem::take(&mut scratch.extra), std::mem::take(&mut scratch.z));
        z.resize(k, 0.0);
        for r in range {
            let (cols, values) = self.by_row.row(r);
            let x = &mut all[r * k..(r + 1) * k];
            let (method, _) = self.costs.row(self.side.plan.prepared, cols.len() as u64);
            extra.clear();
            extra.extend(values.iter().map(|&v| self.confidence.extra(v)));
            match method {
                Method::Zero => x.fill(0.0),
                Method::Small => self.solve_small(cols, &extra, x, &mut z, scratch),
                Method::Steps => {
                    let side = &self.side;
                    let (shared, other) = match side.plan.prepared {
                        Prepared::Nothing => (Shared::Through(&side.whitening), self.fixed),
                        _ => (Shared::Identity, &side.whitened[..]),
                    };
                    let system = RowSystem { shared, other, k, cols, extra: &extra };
                    side.whitening.to_basis(x, &mut z);
                    system.solve(&mut z, self.params.cg_steps as usize, scratch);
                    side.whitening.back_from_basis(&z, x);
                }
            }
        }
        (scratch.extra, scratch.z) = (extra, z);
    }

    /// A row solved exactly through Woodbury's n × n system (see [`HalfSweep`]).
    #[allow(clippy::needless_range_loop)] // i and j index the matrix, `t` and `s` at once
    fn solve_small(&self, cols: &[u32], extra: &[f32], x: &mut [f32], z: &mut [f32], scratch: &mut Scratch) {
        let (k, n) = (x.len(), cols.len());
        let whitened = &self.side.whitened[..];
        let (m, t, s) = (&mut scratch.small, &mut scratch.small_rhs, &mut scratch.roots);
        s.clear();
        s.extend(extra.iter().map(|&e| f64::from(e).sqrt()));
        m.clear();
        m.resize(n * n, 0.0);
        t.clear();
        t.resize(n, 0.0);
        for i in 0..n {
            for j in 0..=i {
                let kij = f64::from(dot(row(whitened, k, cols[i]), row(whitened, k, cols[j])));
                m[i * n + j] = s[i] * s[j] * kij + if i == j { 1.0 } else { 0.0 };
                t[i] += s[i] * kij * (1.0 + f64::from(extra[j]));
                if i != j {
                    t[j] += s[j] * kij * (1.0 + f64::from(extra[i]));
                }
            }
        }
        cholesky(m, n);
        for i in 0..n {
            t[i] = (t[i] - (0..i).map(|c| m[i * n + c] * t[c]).sum::<f64>()) / m[i * n + i];
        }
        for i in (0..n).rev() {
            t[i] = (t[i] - (i + 1..n).map(|c| m[c * n + i] * t[c]).sum::<f64>()) / m[i * n + i];
        }
        let weights = cols.iter().zip(extra).zip(s.iter()).zip(t.iter());
        let weights = weights.map(|(((&j, &e), s), u)| (j, (1.0 + f64::from(e) - s * u) as f32));
        if self.side.plan.prepared == Prepared::WhitenedAndSolved {
            x.fill(0.0);
            combine(x, weights.map(|(j, w)| (row(&self.side.solved, k, j), w)));
        } else {
            z.fill(0.0);
            combine(z, weights.map(|(j, w)| (row(whitened, k, j), w)));
            self.side.whitening.back_from_basis(z, x);
        }
    }
}

/// `out += Σ w·y` over `(y, w)` in order, four rows per `axpy4`.
fn combine<'a>(out: &mut [f32], mut terms: impl Iterator<Item = (&'a [f32], f32)>) {
    loop {
        match [terms.next(), terms.next(), terms.next(), terms.next()] {
            [Some(a), Some(b), Some(c), Some(d)] => axpy4(out, [a.1, b.1, c.1, d.1], [a.0, b.0, c.0, d.0]),
            last => {
                for (y, w) in last.into_iter().flatten() {
                    axpy(out, w, y);
                }
                return;
            }
        }
    }
}

/// Row `j` of a row-major table of `k`-long rows.
fn row(table: &[f32], k: usize, j: u32) -> &[f32] {
    &table[j as usize * k..(j as usize + 1) * k]
}

/// A viewer's evidence as iALS's solve sees it: every rated or marked movie
/// with its confidence beyond the Gram's one (`extra`). The positives
/// (ratings, then movies seen) come first; the hidden movies after them
/// are sure zeros: they enter the matrix, not the right-hand side.
pub struct Evidence {
    pub cols: Vec<u32>,
    pub extra: Vec<f32>,
    ratings: usize,
    positives: usize,
}

impl Evidence {
    /// A movie seen counts as a rating in the middle of the scale; a
    /// hidden one is as sure a zero as a top rating is a one.
    pub fn new(p: &IalsParams, scale: Scale, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) -> Evidence {
        let confidence = Confidence::new(p, scale);
        let mut cols: Vec<u32> = ratings.iter().map(|r| r.0).collect();
        let mut extra: Vec<f32> = ratings.iter().map(|r| confidence.extra(r.1)).collect();
        for (mark, stars) in [(Mark::Seen, (scale.min + scale.max) / 2.0), (Mark::Hidden, scale.max)] {
            for &(i, _) in marks.iter().filter(|m| m.1 == mark) {
                cols.push(i);
                extra.push(confidence.extra(stars));
            }
        }
        let seen = marks.iter().filter(|m| m.1 == Mark::Seen).count();
        Evidence { cols, extra, ratings: ratings.len(), positives: ratings.len() + seen }
    }

    pub fn positives(&self) -> usize {
        self.positives
    }

    /// The places of the movies seen in `cols`.
    pub fn seen(&self) -> std::ops::Range<usize> {
        self.ratings..self.positives
    }

    /// The places of the hidden movies in `cols`.
    pub fn hidden(&self) -> std::ops::Range<usize> {
        self.positives..self.cols.len()
    }

    /// The whole system: A = YᵀY + λI + Σ e_j y_j y_jᵀ over every movie.
    pub fn system<'a>(&'a self, gram: &'a [f32], reg: f32, other: &'a [f32], k: usize) -> RowSystem<'a> {
        RowSystem { shared: Shared::Gram(gram, reg), other, k, cols: &self.cols, extra: &self.extra }
    }

    /// The system of the positives alone (as if nothing were hidden).
    pub fn positive<'a>(&'a self, gram: &'a [f32], reg: f32, other: &'a [f32], k: usize) -> RowSystem<'a> {
        let n = self.positives;
        RowSystem { shared: Shared::Gram(gram, reg), other, k, cols: &self.cols[..n], extra: &self.extra[..n] }
    }

    /// Σ c_j y_j over the positives: a hidden movie's preference is 0.
    pub fn rhs(&self, other: &[f32], k: usize) -> Vec<f32> {
        let mut b = Vec::new();
        // The right-hand side reads no Gram.
        self.positive(&[], 0.0, other, k).rhs(&mut b);
        b
    }
}

/// Instant learning for the ranking model: user `u`'s row solved exactly
/// from `ratings` and `marks` with the movies fixed (`gram` = YᵀY).
/// Nothing positive: a zero row.
pub fn fold_in(
    model: &mut Model,
    gram: &[f32],
    p: &IalsParams,
    scale: Scale,
    u: u32,
    ratings: &[(u32, f32)],
    marks: &[(u32, Mark)],
) {
    let k = model.factors();
    let evidence = Evidence::new(p, scale, ratings, marks);
    let x = match evidence.positives() {
        0 => vec![0f32; k],
        _ => {
            let other = model.item_factors.as_slice().expect("factor rows are contiguous");
            evidence.system(gram, p.reg, other, k).solve_exactly(&evidence.rhs(other, k))
        }
    };
    model.user_row_mut(u).copy_from_slice(&x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Algorithm;
    use crate::defaults;

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    #[test]
    fn gram_by_hand() {
        let a = Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(gram(&a), vec![10.0, 14.0, 14.0, 20.0]);
    }

    #[test]
    fn the_mirrored_gram_is_the_whole_product_to_the_bit() {
        let (rows, k) = (37, 9);
        let values = (0..rows * k).map(|i| ((i * 7919 % 113) as f32 - 56.0) / 17.0).collect();
        let a = Array2::from_shape_vec((rows, k), values).unwrap();
        let mut whole = vec![0f32; k * k];
        for row in a.rows() {
            for f in 0..k {
                for c in 0..k {
                    whole[f * k + c] += row[f] * row[c];
                }
            }
        }
        assert_eq!(gram(&a), whole);
    }

    /// A deterministic `rows × k` matrix of values in about [-3, 3].
    fn matrix(rows: usize, k: usize, seed: usize) -> Array2<f32> {
        let values = (0..rows * k).map(|i| (((i + seed) * 7919 % 113) as f32 - 56.0) / 19.0).collect();
        Array2::from_shape_vec((rows, k), values).unwrap()
    }

    #[test]
    fn the_whitening_factors_the_shared_matrix_and_inverts_its_factor() {
        let (k, reg) = (7, 2.5);
        let g = gram(&matrix(30, k, 3));
        let w = Whitening::new(&g, k, reg);
        for i in 0..k {
            for j in 0..k {
                let llt: f32 = (0..k).map(|c| w.l[i * k + c] * w.l[j * k + c]).sum();
                let want = g[i * k + j] + if i == j { reg } else { 0.0 };
                assert!((llt - want).abs() <= 1e-4 * want.abs().max(1.0), "LLᵀ[{i}][{j}] = {llt}, want {want}");
                let id: f32 = (0..k).map(|c| w.inv[i * k + c] * w.l[c * k + j]).sum();
                assert!((id - f32::from(i == j)).abs() < 1e-5, "L⁻¹L[{i}][{j}] = {id}");
            }
        }
        // Into the basis and out again is the identity.
        let x: Vec<f32> = (0..k).map(|f| f as f32 - 3.0).collect();
        let (mut z, mut back) = (vec![0.0; k], vec![0.0; k]);
        w.to_basis(&x, &mut z);
        w.back_from_basis(&z, &mut back);
        assert!(x.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-4), "{x:?} → {back:?}");
    }

    /// Every way of preparing a half sweep solves each row's own normal
    /// equations: a row solved small exactly, a row of n interactions by
    /// steps exactly in n + 1 of them (the preconditioner is the shared
    /// part), and every row once the steps are many.
    #[test]
    fn every_half_sweep_solves_each_rows_normal_equations() {
        let (k, items) = (6, 40);
        let other = matrix(items, k, 11);
        // Row r rates items r, r + 7, r + 14, … (r + 1 of them, the last rows many).
        let triples: Vec<(u32, u32, f32)> = (0..12u32)
            .flat_map(|r| (0..=r).map(move |j| (r, (r + 7 * j) % items as u32, 1.0 + (j % 5) as f32)))
            .collect();
        let data = crate::ratings::RatingMatrix::new(12, items as u32, &triples);
        let confidence = Confidence::new(&defaults::ials(), SCALE);
        let g = gram(&other);
        let fixed = other.as_slice().unwrap();
        for prepared in [Prepared::Nothing, Prepared::Whitened, Prepared::WhitenedAndSolved] {
            for steps in [3, 2 * k as u32] {
                let mut p = defaults::ials();
                (p.cg_steps, p.reg) = (steps, 4.0);
                let costs = Costs::new(k, steps);
                let mut side = FixedSide::default();
                side.start(&other, &gram(&other), p.reg, Plan { prepared, work: 0 });
                while side.prepare_next(&other, costs).is_some() {}
                let half = HalfSweep { fixed, side: &side, by_row: &data.by_user, params: &p, confidence, costs };
                let mut rows = matrix(12, k, 5);
                half.solve_rows(&mut rows, 0..12, &mut Scratch::default());
                let mut small = 0;
                for r in 0..12 {
                    let (cols, values) = data.by_user.row(r);
                    let extra: Vec<f32> = values.iter().map(|&v| confidence.extra(v)).collect();
                    let exact = RowSystem { shared: Shared::Gram(&g, p.reg), other: fixed, k, cols, extra: &extra };
                    let mut b = Vec::new();
                    exact.rhs(&mut b);
                    let want = exact.solve_exactly(&b);
                    let by_small = costs.row(prepared, cols.len() as u64).0 == Method::Small;
                    small += usize::from(by_small);
                    let solved = by_small || cols.len() < steps as usize || steps as usize > k;
                    let close = rows.row(r).iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0));
                    assert!(
                        !solved || close,
                        "{prepared:?}: row {r} ({} ratings, {steps} steps): {:?} vs {want:?}",
                        cols.len(),
                        rows.row(r)
                    );
                }
                // The few-rating rows go the small way once the fixed side is whitened.
                assert_eq!(small > 0, prepared != Prepared::Nothing, "{prepared:?}");
            }
        }
    }

    /// The plan follows the shapes: against a fixed side far larger than
    /// the rows solved, mapping through L in each product is cheaper than
    /// whitening it; many rows of few ratings pay for `ŷ`.
    #[test]
    fn the_plan_prepares_what_pays_for_itself() {
        let costs = Costs::new(128, 3);
        let rated = |rows: u32, cols: u32, per_row: u32| {
            let triples: Vec<(u32, u32, f32)> =
                (0..rows).flat_map(|r| (0..per_row).map(move |j| (r, (r * 31 + j * 7) % cols, 4.0))).collect();
            crate::ratings::RatingMatrix::new(rows, cols, &triples)
        };
        let few_users = rated(50, 5000, 100);
        assert_eq!(Plan::choose(&few_users.by_user, 5000, costs).prepared, Prepared::Nothing);
        let many_movies = rated(3000, 200, 5);
        assert_eq!(Plan::choose(&many_movies.by_user, 200, costs).prepared, Prepared::WhitenedAndSolved);
        let busy = rated(300, 300, 150);
        assert_eq!(Plan::choose(&busy.by_user, 300, costs).prepared, Prepared::Whitened);
    }

    #[test]
    fn confidence_rises_with_the_rating() {
        let mut p = defaults::ials();
        p.alpha = 2.0;
        p.rating_weight = 0.5;
        let c = Confidence::new(&p, SCALE);
        assert_eq!(c.extra(5.0), 2.0);
        assert_eq!(c.extra(1.0), 1.0);
        p.rating_weight = 0.0;
        assert_eq!(Confidence::new(&p, SCALE).extra(1.0), 2.0);
    }

    /// The fold-in solves the weighted least-squares normal equations: the
    /// gradient of the objective vanishes at the returned row.
    #[test]
    fn fold_in_solves_the_normal_equations() {
        let p = defaults::ials();
        let mut m = Model::empty(Algorithm::Ials(p), SCALE, 1, 4, 2, 0.0);
        m.item_factors = Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.5, 0.9, 0.1]).unwrap();
        let g = gram(&m.item_factors);
        let ratings = [(0, 5.0), (2, 2.0)];
        fold_in(&mut m, &g, &p, SCALE, 0, &ratings, &[]);
        let x = m.user_row(0).to_vec();
        let c = Confidence::new(&p, SCALE);
        // ∇ = Σ_all c_i (x·y_i − p_i) y_i + λx, with c = 1 and p = 0 for unrated movies.
        let mut grad: Vec<f32> = x.iter().map(|v| p.reg * v).collect();
        for i in 0..4u32 {
            let (conf, target) = match ratings.iter().find(|r| r.0 == i) {
                Some(&(_, r)) => (1.0 + c.extra(r), 1.0),
                None => (1.0, 0.0),
            };
            let y = m.item_row(i);
            axpy(&mut grad, conf * (dot(&x, y) - target), y);
        }
        assert!(grad.iter().all(|g| g.abs() < 1e-4), "{grad:?}");
        // Watching movie 0 makes the nearby movie 3 likelier than the unwatched, opposite movie 2's neighbour 1.
        assert!(dot(&x, m.item_row(3)) > dot(&x, m.item_row(1)));
    }

    /// A movie seen is a positive at the middle of the scale, a hidden one
    /// a sure zero: the solve is the minimum of the same objective with them.
    #[test]
    fn marks_enter_the_normal_equations_as_a_middle_positive_and_a_sure_zero() {
        let p = defaults::ials();
        let mut m = Model::empty(Algorithm::Ials(p), SCALE, 1, 5, 2, 0.0);
        let rows = vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.5, 0.9, 0.1, 0.7, 0.6];
        m.item_factors = Array2::from_shape_vec((5, 2), rows).unwrap();
        let g = gram(&m.item_factors);
        let (ratings, marks) = ([(0, 5.0)], [(2, Mark::Seen), (3, Mark::Hidden)]);
        fold_in(&mut m, &g, &p, SCALE, 0, &ratings, &[]);
        let before = dot(m.user_row(0), m.item_row(3));
        fold_in(&mut m, &g, &p, SCALE, 0, &ratings, &marks);
        let x = m.user_row(0).to_vec();
        let c = Confidence::new(&p, SCALE);
        let mut grad: Vec<f32> = x.iter().map(|v| p.reg * v).collect();
        for (i, (conf, target)) in
            [(1.0 + c.extra(5.0), 1.0), (1.0, 0.0), (1.0 + c.extra(3.0), 1.0), (1.0 + c.extra(5.0), 0.0), (1.0, 0.0)]
                .into_iter()
                .enumerate()
        {
            let y = m.item_row(i as u32);
            axpy(&mut grad, conf * (dot(&x, y) - target), y);
        }
        assert!(grad.iter().all(|g| g.abs() < 1e-4), "{grad:?}");
        assert!(dot(&x, m.item_row(3)) < before, "hiding a movie lowers its own score");
    }
}
