//! The one PRNG of the tests: the training harness's seeded splitmix64 (`tmon::harness::rng`),
//! so test data is the same on every machine and no test carries a generator of its own.

pub use tmon::harness::rng::Rng;

/// `n` seeded random bytes: every value, NULs, ESCs and newlines included.
pub fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (rng.next_u64() >> 56) as u8).collect()
}
