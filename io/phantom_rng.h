/* The phantom generator's own seeded PRNG (xoshiro256** seeded through
 * splitmix64), so a seed gives byte-identical data sets (rand() differs
 * between C libraries and is shared state). Streams are derived from (seed, tags)
 * so each case, site and noise field is independent of generation order. */
#pragma once
#include <math.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } io_ph_rng;

static inline uint64_t io_ph_splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A stream for (seed, a, b): e.g. (seed, CASE, index) or (seed, SITE, k). */
static inline io_ph_rng io_ph_rng_make(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed;
    uint64_t h = io_ph_splitmix(&x) ^ (a * 0xD1B54A32D192ED03ull);
    h = io_ph_splitmix(&h) ^ (b * 0x8CB92BA72F3D8DD7ull);
    io_ph_rng r;
    for (int i = 0; i < 4; i++) r.s[i] = io_ph_splitmix(&h);
    return r;
}

static inline uint64_t io_ph_next(io_ph_rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, res = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* uniform in [0, 1) with 53 random bits */
static inline double io_ph_unif(io_ph_rng *r) { return (double)(io_ph_next(r) >> 11) * 0x1.0p-53; }
static inline double io_ph_range(io_ph_rng *r, double lo, double hi) { return lo + (hi - lo) * io_ph_unif(r); }
/* standard normal pair (Box-Muller); both values are used by the noise loop */
static inline void io_ph_normal2(io_ph_rng *r, double *a, double *b) {
    double u = 1.0 - io_ph_unif(r), v = io_ph_unif(r);
    double m = sqrt(-2.0 * log(u));
    *a = m * cos(6.283185307179586 * v);
    *b = m * sin(6.283185307179586 * v);
}
/* a random unit vector */
static inline void io_ph_unit(io_ph_rng *r, double n[3]) {
    double z = io_ph_range(r, -1, 1), a = io_ph_range(r, 0, 6.283185307179586), s = sqrt(1 - z * z);
    n[0] = s * cos(a); n[1] = s * sin(a); n[2] = z;
}
