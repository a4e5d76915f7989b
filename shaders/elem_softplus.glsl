// Overflow-free softplus and sigmoid: softplus(x) = max(x,0) + log1p(e^-|x|),
// with log1p by its series where 1 + e would round to 1.
vec4 softplus4(vec4 x) {
    vec4 e = exp(-abs(x));
    vec4 l = mix(log(1.0 + e), e * (1.0 - 0.5 * e), lessThan(e, vec4(1e-4)));
    return max(x, 0.0) + l;
}
float softplus1(float x) { return softplus4(vec4(x)).x; }

vec4 sigmoid4(vec4 x) {
    vec4 e = exp(-abs(x));
    vec4 r = 1.0 / (1.0 + e);
    return mix(e * r, r, greaterThanEqual(x, vec4(0.0)));
}
float sigmoid1(float x) { return sigmoid4(vec4(x)).x; }
