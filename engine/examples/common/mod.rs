//! What the tuning examples share: reading rating files and carving a
//! seeded validation set out of a *training* file (never a test split).

use std::collections::HashMap;

use cinema_protocol::Triple;
use rand::SeedableRng;
use rand::seq::SliceRandom;

pub fn read(path: &str) -> Vec<(String, String, f32)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sep = if path.ends_with(".csv") { ',' } else { '\t' };
    text.lines()
        .filter(|l| !l.starts_with("userId"))
        .map(|l| {
            let f: Vec<&str> = l.split(sep).collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().expect("rating"))
        })
        .collect()
}

/// Seeded 90/10 split of one training file into (fit, validation), densely indexed.
pub fn carve(rows: &[(String, String, f32)], fraction: f64) -> (u32, u32, Vec<Triple>, Vec<Triple>) {
    let (mut users, mut items) = (HashMap::new(), HashMap::new());
    let mut triples: Vec<Triple> = rows
        .iter()
        .map(|(u, i, r)| {
            let n = users.len() as u32;
            let u = *users.entry(u.clone()).or_insert(n);
            let n = items.len() as u32;
            let i = *items.entry(i.clone()).or_insert(n);
            (u, i, *r)
        })
        .collect();
    triples.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    let n_valid = (triples.len() as f64 * fraction) as usize;
    let valid = triples.split_off(triples.len() - n_valid);
    (users.len() as u32, items.len() as u32, triples, valid)
}

pub fn list<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    match args.iter().position(|a| a == flag) {
        Some(at) => args[at + 1].split(',').map(|v| v.parse().expect(flag)).collect(),
        None => vec![default],
    }
}
