// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011; the Random123 constants). Pure uint32 arithmetic, bit-exact with
// runtime/ref/randn.c.
uvec4 philox4x32_10(uvec4 c, uvec2 k) {
    for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

// Two normals from two uint32 words (Box-Muller). Both uniforms keep 24 bits
// so they are exact in float; u1 is in (0, 1] so the log stays finite.
vec2 box_muller(uint a, uint b) {
    float u1 = float((a >> 8) + 1u) * (1.0 / 16777216.0);
    float u2 = float(b >> 8) * (1.0 / 16777216.0);
    float r = sqrt(-2.0 * log(u1));
    float th = 6.28318530717958647 * u2;
    return r * vec2(cos(th), sin(th));
}
