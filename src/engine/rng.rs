//! Named, seeded random streams.
//!
//! Every source of randomness (each workload's arrivals, each service's work
//! times, the network, each balancer) draws from its own generator seeded
//! from `(master seed, stream name)`. Changing one part of a scenario then
//! does not reshuffle the numbers another part sees, which gives compared
//! variants common random numbers. The generator is Xoshiro256++, whose
//! output is specified and portable across platforms and crate versions.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// One independent random stream.
pub type Stream = Xoshiro256PlusPlus;

/// Creates the stream called `name` under the master `seed`.
pub fn stream(seed: u64, name: &str) -> Stream {
    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, name))
}

/// Mixes the master seed with a stable 64-bit FNV-1a hash of the stream name
/// through SplitMix64's finaliser. Stable across runs, platforms and Rust
/// versions (unlike `std`'s `DefaultHasher`).
pub fn stream_seed(seed: u64, name: &str) -> u64 {
    let h = fnv1a(name.as_bytes());
    let mut z = seed ^ h.rotate_left(17);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 64-bit FNV-1a hash of `bytes`: specified, so stable across runs,
/// platforms and Rust versions (unlike `std`'s `DefaultHasher`), for
/// stream names and for recognising a scenario's text again (a resumed or
/// merged sweep).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_stable_and_distinct() {
        // Pinned to the values recorded when the scheme was fixed: a change
        // to the hash, the mixing or the generator would silently change
        // every published result, so it must fail here first.
        assert_eq!(
            stream_seed(7, "network/to/user.auth"),
            9_920_748_690_797_294_405
        );
        assert_eq!(
            stream(7, "network/to/user.auth").next_u64(),
            10_896_391_369_180_620_213
        );
        assert_ne!(stream_seed(7, "network"), stream_seed(8, "network"));
        assert_ne!(stream_seed(7, "network"), stream_seed(7, "service/user"));
        let mut a = stream(7, "network");
        let mut b = stream(7, "network");
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
