//! The mutation engine: from a corpus input, a new one by one to eight
//! stacked, seeded edits — bit flips, random bytes, inserts, deletes, copies
//! within the input, splices with another input, truncation, edge-case
//! integers (raw, as postcard varints, or as decimal text) and dictionary
//! tokens. Hand-written because it is short and needs nothing beyond `rand`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Integers where size checks and parsers tend to break.
const EDGES: [u64; 16] = [
    0,
    1,
    2,
    7,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x10000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    u64::MAX,
];

pub struct Mutator {
    rng: StdRng,
    max_len: usize,
    dictionary: Vec<Vec<u8>>,
}

impl Mutator {
    pub fn new(seed: u64, max_len: usize, dictionary: Vec<Vec<u8>>) -> Mutator {
        Mutator { rng: StdRng::seed_from_u64(seed), max_len, dictionary }
    }

    /// Picks an index below `len` (which must not be 0).
    pub fn pick(&mut self, len: usize) -> usize {
        self.rng.random_range(0..len)
    }

    /// A new input from `base`; `other` is a second corpus input to splice with.
    pub fn mutate(&mut self, base: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = base.to_vec();
        for _ in 0..1 << self.rng.random_range(0..4) {
            self.edit(&mut data, other);
        }
        data.truncate(self.max_len);
        data
    }

    fn edit(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        let r = &mut self.rng;
        match r.random_range(0..10) {
            0 if len > 0 => data[r.random_range(0..len)] ^= 1 << r.random_range(0..8),
            1 if len > 0 => data[r.random_range(0..len)] = r.random(),
            2 if len > 0 => {
                let at = r.random_range(0..len);
                let n = r.random_range(1..=(len - at).min(16));
                data.drain(at..at + n);
            }
            3 if len > 0 => {
                let from = r.random_range(0..len);
                let chunk = data[from..from + r.random_range(1..=(len - from).min(32))].to_vec();
                place(r, data, &chunk);
            }
            4 if !other.is_empty() => {
                data.truncate(r.random_range(0..=len));
                data.extend_from_slice(&other[r.random_range(0..other.len())..]);
            }
            5 if len > 0 => data.truncate(r.random_range(0..len)),
            6 => {
                let value = integer(r);
                let bytes = match r.random_range(0..3) {
                    0 => value.to_le_bytes()[..1 << r.random_range(0..4)].to_vec(),
                    1 => varint(value),
                    _ => value.to_string().into_bytes(),
                };
                place(r, data, &bytes);
            }
            7 if !self.dictionary.is_empty() => {
                let token = &self.dictionary[r.random_range(0..self.dictionary.len())];
                place(r, data, token);
            }
            _ => {
                let bytes: Vec<u8> = (0..r.random_range(1..=8)).map(|_| r.random()).collect();
                place(r, data, &bytes);
            }
        }
    }
}

/// Inserts `bytes` at a random spot, or overwrites what is there.
fn place(r: &mut StdRng, data: &mut Vec<u8>, bytes: &[u8]) {
    let at = r.random_range(0..=data.len());
    if r.random_bool(0.5) {
        data.splice(at..at, bytes.iter().copied());
    } else {
        let end = (at + bytes.len()).min(data.len());
        data.splice(at..end, bytes.iter().copied());
    }
}

/// An edge-case integer, give or take a little, or one of random magnitude.
fn integer(r: &mut StdRng) -> u64 {
    if r.random_bool(0.5) {
        EDGES[r.random_range(0..EDGES.len())].wrapping_add_signed(r.random_range(-2..=2))
    } else {
        r.random::<u64>() >> r.random_range(0..64)
    }
}

/// postcard's (LEB128) encoding of an unsigned integer.
pub fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_postcard() {
        for value in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            assert_eq!(varint(value), postcard::to_stdvec(&value).unwrap(), "{value}");
        }
    }

    #[test]
    fn mutations_are_seeded_bounded_and_varied() {
        let run = |seed| {
            let mut m = Mutator::new(seed, 64, vec![b"::".to_vec()]);
            (0..200).map(|_| m.mutate(b"1::2::3\n", b"4,5,6")).collect::<Vec<_>>()
        };
        let first = run(7);
        assert_eq!(first, run(7), "the same seed gives the same inputs");
        assert_ne!(first, run(8));
        assert!(first.iter().all(|m| m.len() <= 64));
        let distinct: std::collections::HashSet<_> = first.iter().collect();
        assert!(distinct.len() > 150, "only {} distinct mutations of 200", distinct.len());
    }
}
