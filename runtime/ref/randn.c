/* Reference of randn: Philox4x32-10 in plain uint32 arithmetic (bit-exact
 * with shaders/philox.glsl) and the Box-Muller step in double.
 * Element i belongs to block q = i / 4; block q's counter is
 * (q lo, q hi, offset, 0) (q counted from block0) and its four 32-bit outputs (a, b, c, d) give the
 * normals of elements 4q..4q+3 as two Box-Muller pairs (a, b) and (c, d). */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* u1 in (0, 1] so the log is finite; both uniforms have 24 bits, exactly
 * representable in float, so the device starts from the very same values. */
static void box_muller(uint32_t a, uint32_t b, double *n0, double *n1) {
    double u1 = ((double)(a >> 8) + 1.0) * (1.0 / 16777216.0);
    double u2 = (double)(b >> 8) * (1.0 / 16777216.0);
    double r = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    *n0 = r * cos(th);
    *n1 = r * sin(th);
}

void ref_randn_block(uint64_t block, uint32_t offset, const uint32_t key[2], double out[4]) {
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), offset, 0}, v[4];
    ref_philox4x32_10(ctr, key, v);
    box_muller(v[0], v[1], &out[0], &out[1]);
    box_muller(v[2], v[3], &out[2], &out[3]);
}

void ref_randn(const vkm_randn_p *p, const uint32_t *seeds, double *out) {
    const uint32_t key[2] = {seeds[2 * p->seed_index], seeds[2 * p->seed_index + 1]};
    for (int64_t q = 0; q * 4 < p->n; q++) {
        double z[4];
        ref_randn_block((uint64_t)(q + p->block0), p->offset, key, z);
        for (int j = 0; j < 4 && q * 4 + j < p->n; j++)
            out[q * 4 + j] = (double)p->mean + (double)p->std * z[j];
    }
}
