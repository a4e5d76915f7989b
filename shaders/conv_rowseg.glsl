// One input row segment of the convs' register tiles (conv_igemm.glsl,
// conv2d_bwd_filter.comp): the taps' inputs of one tap row, x or (POOL) the
// 2x2 box sums. The includer defines X, the specialization constants XMIS and
// POOL, and the constants SEG, SEGMAX (read columns) and RS_SHIFT (1: rows
// are read nearest-upsampled from half-width stored rows).
//
// XMIS >= 0: X is an RGBA32F view and every stored row starts on a vec4, so
// the segment comes in vec4 fetches (on lavapipe a scalar texel fetch is an
// 8-lane gather, a vec4 fetch 8 plain 16-byte loads); XMIS is the segment's
// first read column modulo 4 << RS_SHIFT. -1: one scalar fetch per column
// through an R32F view.
const int XM0 = XMIS > 0 ? XMIS : 0;
const int NV = ((XM0 + SEG - 1) >> RS_SHIFT) / 4 + 1;   // vec4s per stored row segment
#define NVMAX ((7 + SEGMAX - 1) / 4 + 1)

// xr[t] for read column t of the segment: 0 where the row or column is
// outside (rowok, colok); pooled, the next row's too and then each column
// pair summed. rb, rb2: the stored rows' float offsets; colidx: the clamped
// stored column of each read column (scalar path); v04: the segment's first
// vec4 in its row and w4 the vec4s per stored row (vec4 path: rb, rb2
// multiples of 4).
void rowseg(int rb, int rb2, bool rowok, bool rowok2, bool colok[SEGMAX], int colidx[SEGMAX], int v04, int w4,
            out float xr[SEGMAX]) {
    vec4 q[NVMAX], q2[NVMAX];
    if (XMIS >= 0) {
        [[unroll]] for (int v = 0; v < NVMAX; v++) {
            if (v < NV) {
                int c4 = clamp(v04 + v, 0, w4 - 1);
                q[v] = texelFetch(X, (rb >> 2) + c4);
                if (POOL != 0) q2[v] = texelFetch(X, (rb2 >> 2) + c4);
            }
        }
    }
    [[unroll]] for (int t = 0; t < SEGMAX; t++) {
        xr[t] = 0.0;
        if (t < SEG) {
            // unconditional fetch (clamped index) + select: no divergent branch
            int e = (t + XM0) >> RS_SHIFT;   // vec4 path: the stored column from the first vec4's
            float v = XMIS >= 0 ? q[e >> 2][e & 3] : texelFetch(X, rb + colidx[t]).r;
            v = (rowok && colok[t]) ? v : 0.0;
            if (POOL != 0) {
                float v2 = XMIS >= 0 ? q2[e >> 2][e & 3] : texelFetch(X, rb2 + colidx[t]).r;
                v += (rowok2 && colok[t]) ? v2 : 0.0;
            }
            xr[t] = v;
        }
    }
    if (POOL != 0)
        [[unroll]] for (int t = 0; t < SEGMAX - 1; t++)
            if (t < SEG - 1) xr[t] += xr[t + 1];
}
