// One input row segment of the convs' register tiles (conv_igemm.glsl,
// conv2d_bwd_filter.comp) in vec4 texel fetches: X is an RGBA32F view and
// every stored row starts on a vec4 (on lavapipe a scalar texel fetch is an
// 8-lane gather, a vec4 fetch 8 plain 16-byte loads). The includer defines
// X, the specialization constants XMIS (>= 0 here: the segment's first read
// column modulo 4 << RS_SHIFT) and POOL (nonzero: also the next row, summed),
// and the constants SEG, SEGMAX (read columns) and RS_SHIFT (1: the row is
// read nearest-upsampled from a half-width stored row).
const int XM0 = XMIS > 0 ? XMIS : 0;
const int NV = ((XM0 + SEG - 1) >> RS_SHIFT) / 4 + 1;   // vec4s per stored row segment
#define NVMAX ((7 + SEGMAX - 1) / 4 + 1)

// xr[t] = x at read column t of the segment (0 where the row or column is
// outside: rowok, colok), plus the next row's when pooled; rb, rb2: the
// stored rows' float offsets (multiples of 4), v04: the segment's first vec4
// in its row, w4: vec4s per stored row.
void rowseg_vec4(int rb, int rb2, bool rowok, bool rowok2, int v04, int w4, bool colok[SEGMAX],
                 out float xr[SEGMAX]) {
    vec4 q[NVMAX], q2[NVMAX];
    [[unroll]] for (int v = 0; v < NVMAX; v++) {
        if (v < NV) {
            int c4 = clamp(v04 + v, 0, w4 - 1);
            q[v] = texelFetch(X, (rb >> 2) + c4);
            if (POOL != 0) q2[v] = texelFetch(X, (rb2 >> 2) + c4);
        }
    }
    [[unroll]] for (int t = 0; t < SEGMAX; t++) {
        xr[t] = 0.0;
        if (t < SEG) {
            int e = (t + XM0) >> RS_SHIFT;   // stored column, from the first vec4's
            float v = (rowok && colok[t]) ? q[e >> 2][e & 3] : 0.0;
            if (POOL != 0) v += (rowok2 && colok[t]) ? q2[e >> 2][e & 3] : 0.0;
            xr[t] = v;
        }
    }
}
