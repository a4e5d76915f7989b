#!/usr/bin/python3
"""PyTorch peer of vkmist: the MIST GAN network and training step of
DESIGN §3-4 written in PyTorch, to time vkmist against (`bench`) and to check
vkmist numerically from its checkpoints: the generator forward (`compare`)
and one training step (`step`: losses, gradients, Adam, EMA).

The config, the training defaults and the parameter list (names, shapes,
module, lr, EMA flag) come from `vkmist info --config NAME --json`: this file
holds no config table. What it holds is the architecture, built with the
parameter names vkmist's model/ registers, and it asserts that its parameter
list equals vkmist's name for name and shape for shape.

  mist_torch.py bench --config tiny --batch 2 [--iters 16] [--threads T]
  mist_torch.py compare --ckpt FILE --input X.f32 --style S.f32 --present MASK --expect Y.f32
  mist_torch.py step --ckpt PRE --after POST --input X.f32 --xref R.f32 --xref2 R2.f32 --target T --losses L.f32

Exit status: 0 match, 1 over tolerance, 2 bad input.

Raw files are little-endian float32: input [B][4][img][img] (all four
domains; the absent ones are ignored), style [B][style_dim], expect
[B][img][img] (vkmist's generator output, in [-1, 1] units).
"""
import argparse
import json
import math
import os
import resource
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

N = 4              # domains, fixed order t1, t1ce, t2, flair
IN_EPS = 1e-5      # DESIGN §3: InstanceNorm eps, biased variance
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- vkmist's own description of a config ---------------------------------

# A LeakyReLU input within this fraction of its tensor's largest magnitude
# may round to the other side of 0 in float32 (accumulated rounding of the
# sums that produce it).
KINK_REL = 1e-6

def die(msg):
    """Bad input or environment: exit 2 (exit 1 means "compared, and differs";
    3, from step, "differs, but too close to a LeakyReLU kink to tell")."""
    print(f"mist_torch: {msg}", file=sys.stderr)
    sys.exit(2)


def vkmist_bin(arg):
    for cand in (arg, os.environ.get("VKMIST_BIN"), os.path.join(HERE, "..", "..", "build", "vkmist")):
        if cand and os.access(cand, os.X_OK):
            return cand
    die("no vkmist binary (pass --vkmist PATH, set VKMIST_BIN, or build into build/)")


def load_info(args, config, batch=2):
    """The JSON of `vkmist info --json` (or --info-json FILE, e.g. carried to
    a machine without a vkmist build)."""
    if getattr(args, "info_json", None):
        with open(args.info_json) as f:
            info = json.load(f)
        if info["config"]["name"] != config:
            die(f"{args.info_json} describes config {info['config']['name']}, not {config}")
        return info
    exe = vkmist_bin(args.vkmist)
    r = subprocess.run([exe, "info", "--config", config, "--batch", str(batch), "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f"{exe} info --json failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


# ---- the network (DESIGN §3; parameter names as model/*.c) -----------------

class Net:
    """Every parameter is a plain leaf tensor in self.P (name -> tensor), in
    vkmist's registration order; the modules below hold references to them."""

    def __init__(self, info, device, dtype=torch.float32):
        self.kinks = None   # a list while a step records near-kink LeakyReLU inputs
        self.info = info
        self.cfg = info["config"]
        self.domains = info["domains"]
        self.device, self.dtype = device, dtype
        self.P, self.meta = {}, {}
        self.slope = self.cfg["lrelu"]
        c = self.cfg
        self.ce = ContentEncoder(self.scope("ce"), c)
        self.comb = Combiner(self.scope("comb"), c)
        self.sep = [ResBlk(self.scope("sep"), d, content_ch(c), content_ch(c), True, False) for d in self.domains]
        self.dec = Decoder(self.scope("dec"), c)
        self.se = StyleEncoder(self.scope("se"), c, self.domains)
        self.map = Mapping(self.scope("map"), c, self.domains)
        self.dsc = Discriminator(self.scope("dsc"), c)
        self.check_against_vkmist()

    def scope(self, module):
        return Scope(self, module)

    def add(self, module, name, shape, std, value):
        full = f"{module}.{name}"
        assert full not in self.P, f"duplicate parameter {full}"
        if std > 0:
            t = torch.randn(shape, dtype=self.dtype) * std
        else:
            t = torch.full(shape, float(value), dtype=self.dtype)
        t = t.to(self.device).requires_grad_(True)
        self.P[full] = t
        self.meta[full] = module
        return t

    def check_against_vkmist(self):
        want = [(p["name"], tuple(p["shape"])) for p in self.info["params"]]
        have = [(k, tuple(v.shape)) for k, v in self.P.items()]
        if want != have:
            diff = [f"{w} vs {h}" for w, h in zip(want, have) if w != h][:5]
            die(f"parameter list differs from vkmist's ({len(have)} vs {len(want)}): "
                             + "; ".join(diff))
        total = sum(v.numel() for v in self.P.values())
        assert total == self.info["params_total"], (total, self.info["params_total"])

    def lrelu(self, x):
        if self.kinks is not None and x.requires_grad:
            # inputs this close to 0 may fall on the other side in float32
            near = x.detach().abs() <= KINK_REL * float(x.detach().abs().max())
            if near.any():
                x.retain_grad()
                self.kinks.append((x, near))
        return F.leaky_relu(x, self.slope)

    def fragile_kinks(self):
        """LeakyReLU inputs of the recorded passes that lie within float32
        reach of the kink where a gradient that matters flows through them:
        there a float32 step may take the other slope, legitimately."""
        n = 0
        for x, near in self.kinks or []:
            if x.grad is not None:
                g = x.grad.abs()
                n += int((g[near] > 1e-3 * float(g.max())).sum())
        return n

    # generator: x[d] None for a missing domain
    def generate(self, x, s):
        contents, skips = [None] * N, []
        for d in range(N):
            if x[d] is not None:
                contents[d], sk = self.ce(x[d])
                skips.append(sk)
        cc = self.comb(contents)
        mean_skips = [sum(sk[k] for sk in skips) / len(skips) if len(skips) > 1 else skips[0][k]
                      for k in range(len(skips[0]))]
        return self.dec(cc, s, mean_skips), cc, mean_skips

    def params_of(self, discriminator):
        return [v for k, v in self.P.items() if (self.meta[k] == "dsc") == discriminator]


class Scope:
    def __init__(self, net, module):
        self.net, self.module = net, module

    def param(self, name, shape, std=0.0, value=0.0):
        return self.net.add(self.module, name, shape, std, value)


def level_ch(c, l):
    return min(c["ch"] << l, c["max_ch"])


def content_ch(c):
    return level_ch(c, c["levels"])


def se_blocks(c):
    return int(math.log2(c["img"])) - 2


class Conv:
    def __init__(self, sc, name, cin, cout, k, pad, bias=True):
        self.w = sc.param(f"{name}.w", (cout, cin, k, k), std=math.sqrt(2.0 / (cin * k * k)))
        self.b = sc.param(f"{name}.b", (1, cout, 1, 1)) if bias else None
        self.pad = pad

    def __call__(self, x):
        return F.conv2d(x, self.w, self.b.view(-1) if self.b is not None else None, padding=self.pad)


class Linear:
    def __init__(self, sc, name, fin, fout):
        self.w = sc.param(f"{name}.w", (fout, fin, 1, 1), std=math.sqrt(2.0 / fin))
        self.b = sc.param(f"{name}.b", (1, fout, 1, 1))

    def __call__(self, x):   # x [B, in]
        return F.linear(x, self.w.view(self.w.shape[0], -1), self.b.view(-1))


class INorm:
    def __init__(self, sc, name, c):
        self.g = sc.param(f"{name}.g", (1, c, 1, 1), value=1.0)
        self.b = sc.param(f"{name}.b", (1, c, 1, 1))

    def __call__(self, x):
        return F.instance_norm(x, weight=self.g.view(-1), bias=self.b.view(-1), eps=IN_EPS)


def residual(shortcut, res):
    return (shortcut + res) * (1.0 / math.sqrt(2.0))


class ResBlk:
    def __init__(self, sc, name, cin, cout, norm, down):
        self.net, self.norm, self.down = sc.net, norm, down
        self.in1 = INorm(sc, f"{name}.in1", cin) if norm else None
        self.conv1 = Conv(sc, f"{name}.conv1", cin, cin, 3, 1)
        self.in2 = INorm(sc, f"{name}.in2", cin) if norm else None
        self.conv2 = Conv(sc, f"{name}.conv2", cin, cout, 3, 1)
        self.sc = sc.param(f"{name}.sc.w", (cout, cin, 1, 1), std=math.sqrt(2.0 / cin)) if cin != cout else None

    def __call__(self, x):
        h = self.in1(x) if self.norm else x
        h = self.conv1(self.net.lrelu(h))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.norm:
            h = self.in2(h)
        h = self.conv2(self.net.lrelu(h))
        # as model/layers.c: pool before the 1x1 (they commute; 4x fewer FLOPs)
        s = F.avg_pool2d(x, 2) if self.down else x
        if self.sc is not None:
            s = F.conv2d(s, self.sc)
        return residual(s, h)


def adain(x, gb):
    """(1 + gamma) * IN(x) + beta with gb = [gamma | beta] (gamma first)."""
    C = x.shape[1]
    gamma, beta = gb[:, :C, None, None], gb[:, C:, None, None]
    return (1.0 + gamma) * F.instance_norm(x, eps=IN_EPS) + beta


class AdaResBlk:
    def __init__(self, sc, name, cin, cout, style_dim, up):
        self.net, self.up = sc.net, up
        self.ada1 = Linear(sc, f"{name}.ada1", style_dim, 2 * cin)
        self.conv1 = Conv(sc, f"{name}.conv1", cin, cout, 3, 1)
        self.ada2 = Linear(sc, f"{name}.ada2", style_dim, 2 * cout)
        self.conv2 = Conv(sc, f"{name}.conv2", cout, cout, 3, 1)
        self.sc = sc.param(f"{name}.sc.w", (cout, cin, 1, 1), std=math.sqrt(2.0 / cin)) if cin != cout else None

    def __call__(self, x, s):
        h = self.net.lrelu(adain(x, self.ada1(s)))
        if self.up:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(self.net.lrelu(adain(h, self.ada2(s))))
        # as model/layers.c: the 1x1 at the low resolution, then up (they commute)
        sc = F.conv2d(x, self.sc) if self.sc is not None else x
        if self.up:
            sc = F.interpolate(sc, scale_factor=2, mode="nearest")
        return residual(sc, h)


class ContentEncoder:
    def __init__(self, sc, c):
        self.conv0 = Conv(sc, "conv0", 1, c["ch"], 3, 1)
        self.down = [ResBlk(sc, f"blk{l}", level_ch(c, l), level_ch(c, l + 1), True, True) for l in range(c["levels"])]
        C = content_ch(c)
        self.mid = [ResBlk(sc, f"mid{i}", C, C, True, False) for i in range(2)]

    def __call__(self, x):
        """(content, skips): skips are the inputs of levels 1..levels-1."""
        h, skips = self.conv0(x), []
        for l, blk in enumerate(self.down):
            if l > 0:
                skips.append(h)
            h = blk(h)
        for blk in self.mid:
            h = blk(h)
        return h, skips


class Combiner:
    def __init__(self, sc, c):
        C = content_ch(c)
        self.C = C
        self.fuse = Conv(sc, "fuse", N * C, C, 1, 0, bias=False)
        self.blk = ResBlk(sc, "blk", C, C, True, False)

    def __call__(self, contents):
        ref = next(t for t in contents if t is not None)
        h = torch.cat([t if t is not None else torch.zeros_like(ref) for t in contents], dim=1)
        return self.blk(self.fuse(h))


class Decoder:
    def __init__(self, sc, c):
        self.net, self.c = sc.net, c
        C, S, L = content_ch(c), c["style_dim"], c["levels"]
        self.mid = [AdaResBlk(sc, f"mid{i}", C, C, S, False) for i in range(2)]
        self.up = [AdaResBlk(sc, f"up{j}", level_ch(c, L - j), level_ch(c, L - j - 1), S, True) for j in range(L)]
        self.out_in = INorm(sc, "out_in", c["ch"])
        self.to_img = Conv(sc, "to_img", c["ch"], 1, 1, 0)
        hpf = torch.full((3, 3), -1.0)
        hpf[1, 1] = 8.0
        self.hpf = hpf * c["w_hpf"]

    def __call__(self, h, s, skips):
        for blk in self.mid:
            h = blk(h, s)
        L = self.c["levels"]
        for j, blk in enumerate(self.up):
            h = blk(h, s)
            k = L - j - 2    # the output is at level L-j-1; skip k sits at level k+1
            if k >= 0 and skips and self.c["w_hpf"] != 0:
                sk = skips[k]
                w = self.hpf.to(sk.device, sk.dtype).expand(sk.shape[1], 1, 3, 3)
                h = h + F.conv2d(sk, w, padding=1, groups=sk.shape[1])
        return self.to_img(self.net.lrelu(self.out_in(h)))


class Trunk:
    def __init__(self, sc, c):
        self.net = sc.net
        self.conv0 = Conv(sc, "conv0", 1, c["ch"], 3, 1)
        self.down = [ResBlk(sc, f"blk{i}", level_ch(c, i), level_ch(c, i + 1), False, True) for i in range(se_blocks(c))]
        C = level_ch(c, se_blocks(c))
        self.conv4 = Conv(sc, "conv4", C, C, 4, 0)

    def __call__(self, x):
        h = self.conv0(x)
        for blk in self.down:
            h = blk(h)
        return self.net.lrelu(self.conv4(self.net.lrelu(h)))   # [B, C, 1, 1]


class StyleEncoder:
    def __init__(self, sc, c, domains):
        self.trunk = Trunk(sc, c)
        C = level_ch(c, se_blocks(c))
        self.head = [Linear(sc, f"head.{d}", C, c["style_dim"]) for d in domains]

    def __call__(self, x, d):
        return self.head[d](self.trunk(x).flatten(1))


class Mapping:
    def __init__(self, sc, c, domains):
        H = c["map_hidden"]
        self.shared = [Linear(sc, f"shared{i}", H if i else c["latent"], H) for i in range(4)]
        self.head = [[Linear(sc, f"{d}.fc{i}", H, H if i < 3 else c["style_dim"]) for i in range(4)] for d in domains]

    def __call__(self, z, d):
        h = z
        for fc in self.shared:
            h = F.relu(fc(h))
        for fc in self.head[d][:3]:
            h = F.relu(fc(h))
        return self.head[d][3](h)


class Discriminator:
    def __init__(self, sc, c):
        self.trunk = Trunk(sc, c)
        self.out = Conv(sc, "out", level_ch(c, se_blocks(c)), N, 1, 0)

    def __call__(self, x, d):
        return self.out(self.trunk(x))[:, d:d + 1]


# ---- the training step (DESIGN §4, as train/step.c) ------------------------

class Trainer:
    def __init__(self, net, batch):
        self.net, self.B = net, batch
        tr = net.info["train"]
        self.tr = tr
        lrs = {p["name"]: p["lr"] for p in net.info["params"]}
        ema = [p["name"] for p in net.info["params"] if p["ema"]]
        kw = dict(betas=(tr["beta1"], tr["beta2"]), eps=tr["eps"], weight_decay=tr["wd"], foreach=True)
        groups = {}
        for k, v in net.P.items():
            if net.meta[k] != "dsc":
                groups.setdefault(lrs[k], []).append(v)
        self.opt_g = torch.optim.Adam([{"params": ps, "lr": lr} for lr, ps in groups.items()], **kw)
        dp = net.params_of(True)
        self.opt_d = torch.optim.Adam([{"params": dp, "lr": lrs[next(k for k in net.P if net.meta[k] == "dsc")]}], **kw)
        self.dparams = dp
        self.ema_p = [net.P[k] for k in ema]
        self.ema = [net.P[k].detach().clone() for k in ema]
        # the style-diversification weight at iteration 0 (what `vkmist bench train` uses)
        self.w_ds = -tr["l_ds"]

    def style(self, t, path, xref):
        n = self.net
        if path == 1:
            return n.se(xref, t)
        z = torch.randn(self.B, n.cfg["latent"], device=n.device, dtype=n.dtype)
        return n.map(z, t)

    def step(self, x, xref, xref2, t, path):
        """x: list of N [B,1,img,img]; returns the seven losses as floats
        (d_real, d_fake, g_adv, csl, ccl, sdl, sup)."""
        n, tr = self.net, self.tr
        xin = [None if d == t else x[d] for d in range(N)]
        s1 = self.style(t, path, xref)
        x_hat, cc, skips = n.generate(xin, s1)

        # D update on a detached x_hat
        for p in self.dparams:
            p.requires_grad_(True)
        bce = F.binary_cross_entropy_with_logits
        lr_ = n.dsc(x[t], t)
        d_real = bce(lr_, torch.ones_like(lr_))
        lf = n.dsc(x_hat.detach(), t)
        d_fake = bce(lf, torch.zeros_like(lf))
        (d_real + d_fake).backward()
        self.opt_d.step()
        self.opt_d.zero_grad(set_to_none=True)

        # G update against the updated D (which takes no gradient here)
        for p in self.dparams:
            p.requires_grad_(False)
        lg = n.dsc(x_hat, t)
        g_adv = bce(lg, torch.ones_like(lg))
        csl = (n.se(x_hat, t) - s1).abs().mean()
        c_hat, skips_hat = n.ce(x_hat)
        ccl = 0
        for d in range(N):
            if d != t:
                rec = n.dec(n.sep[d](c_hat), n.se(x[d], d), skips_hat)
                ccl = ccl + (rec - x[d]).abs().mean()
        with torch.no_grad():
            x2 = n.dec(cc, self.style(t, path, xref2), skips)
        sdl = (x_hat - x2).abs().mean()
        sup = (x_hat - x[t]).abs().mean()
        loss = g_adv + tr["l_sty"] * csl + tr["l_cyc"] * ccl + self.w_ds * sdl + tr["l_sup"] * sup
        loss.backward()
        self.opt_g.step()
        self.opt_g.zero_grad(set_to_none=True)
        with torch.no_grad():
            d = tr["ema_decay"]
            for e, p in zip(self.ema, self.ema_p):
                e.mul_(d).add_(p, alpha=1.0 - d)
        ls = torch.stack([d_real, d_fake, g_adv, csl, ccl, sdl, sup]).detach()
        return ls.cpu().tolist()   # the host read-back (and the device sync)


def cmd_bench(args):
    dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    info = load_info(args, args.config, args.batch)
    torch.manual_seed(1)
    net = Net(info, dev)
    trainer = Trainer(net, args.batch)
    img = net.cfg["img"]
    gen = torch.Generator().manual_seed(1)
    rnd = lambda: (torch.rand(args.batch, 1, img, img, generator=gen) * 2 - 1).to(dev)
    x = [rnd() for _ in range(N)]
    xref, xref2 = rnd(), rnd()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for it in range(2 * N):   # warm-up: every variant once
        trainer.step(x, xref, xref2, it % N, (it // N) % 2)
    times = []
    for it in range(args.iters):
        t0 = time.perf_counter()
        trainer.step(x, xref, xref2, it % N, (it // N) % 2)
        times.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    where = (torch.cuda.get_device_name(dev) if dev.type == "cuda"
             else f"CPU, {torch.get_num_threads()} threads, oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}")
    print(f"torch peer bench train: config {args.config}, batch {args.batch}, {args.iters} timed iterations "
          f"over the 8 variants on {where} (torch {torch.__version__})")
    print(f"  median {med * 1e3:.1f} ms per iteration  ({1 / med:.2f} it/s; min {min(times) * 1e3:.1f}, "
          f"max {max(times) * 1e3:.1f} ms)")
    print(f"  parameters {info['params_total']:,} (same names and shapes as vkmist)")
    if dev.type == "cuda":
        print(f"  device memory: peak allocated {torch.cuda.max_memory_allocated(dev) / 1048576:.1f} MiB")
    else:
        print(f"  host memory: peak resident {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    return 0


# ---- checkpoints and the forward comparison --------------------------------

def read_safetensors(path):
    """(tensors name -> np.ndarray, metadata) with plain json + numpy; a
    file that is not a well-formed safetensors file is a clear error."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        (hlen,) = struct.unpack("<Q", raw[:8])
        if 8 + hlen > len(raw):
            raise ValueError(f"header length {hlen} runs past the end of the file")
        header = json.loads(raw[8:8 + hlen])
        meta = header.pop("__metadata__", {})
        types = {"F32": "<f4", "F64": "<f8", "U32": "<u4", "I32": "<i4", "U64": "<u8", "I64": "<i8"}
        data, out = raw[8 + hlen:], {}
        for name, h in header.items():
            if h["dtype"] not in types:
                continue
            a, b = h["data_offsets"]
            if not 0 <= a <= b <= len(data):
                raise ValueError(f"tensor {name}: offsets {a}..{b} outside the data")
            out[name] = np.frombuffer(data[a:b], dtype=types[h["dtype"]]).reshape(h["shape"])
        return out, meta
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        die(f"{path}: not a readable safetensors checkpoint ({e})")


def read_f32(path, per_item, what):
    try:
        a = np.fromfile(path, dtype="<f4")
    except OSError as e:
        die(f"{path}: {e.strerror or e}")
    if a.size == 0 or a.size % per_item:
        die(f"{path}: {a.size} floats is not a whole number of {what} ({per_item} floats each)")
    return a.reshape(-1, per_item)


def cmd_compare(args):
    net, _, config = load_net(args, torch.float64 if args.dtype == "float64" else torch.float32)
    dtype = net.dtype
    c = net.cfg
    img, S = c["img"], c["style_dim"]
    x = read_f32(args.input, N * img * img, "samples [4][img][img]")
    s = read_f32(args.style, S, "styles")
    y = read_f32(args.expect, img * img, "images")
    if not (len(x) == len(s) == len(y)):
        die(f"batch sizes differ: input {len(x)}, style {len(s)}, expect {len(y)}")
    present = int(args.present, 0)
    if not 0 < present < 16:
        die(f"--present {args.present}: need a mask of domains in 1..15")
    xt = torch.from_numpy(x.astype(np.float64)).to(dtype).view(-1, N, img, img)
    xin = [xt[:, d:d + 1] if present >> d & 1 else None for d in range(N)]
    with torch.no_grad():
        out, _, _ = net.generate(xin, torch.from_numpy(s.astype(np.float64)).to(dtype))
    out = out.double().view(len(y), -1).numpy()
    ref = y.astype(np.float64)
    err = np.abs(out - ref)
    scale = max(1.0, float(np.abs(ref).max()))
    rel = float(err.max()) / scale
    print(f"compare {os.path.basename(args.ckpt)} (config {config}, {args.weights} weights, present 0x{present:x}, "
          f"batch {len(y)}, torch {args.dtype}): max abs error {err.max():.3g}, mean abs {err.mean():.3g}, "
          f"relative {rel:.3g} (tolerance {args.tol:g}); output range [{ref.min():.3f}, {ref.max():.3f}]")
    if not rel <= args.tol:
        print("compare: FAILED (over tolerance)")
        return 1
    return 0


LOSS_NAMES = ("d_real", "d_fake", "g_adv", "csl", "ccl", "sdl", "sup")


def load_net(args, dtype):
    """The net with the `value` (or `ema`) weights of args.ckpt, plus the file."""
    tensors, meta = read_safetensors(args.ckpt)
    config = meta.get("config")
    if not config:
        die(f"{args.ckpt}: no config in the metadata (not a vkmist checkpoint?)")
    net = Net(load_info(args, config), torch.device("cpu"), dtype)
    suffix = "" if getattr(args, "weights", "value") == "value" else ".ema"
    with torch.no_grad():
        for k, v in net.P.items():
            if net.meta[k] == "dsc" and suffix:
                continue   # no EMA copy of D (and the generator does not use it)
            src = tensors.get(k + suffix)
            if src is None or tuple(src.shape) != tuple(v.shape):
                die(f"{args.ckpt}: tensor {k + suffix} missing or shaped "
                         f"{None if src is None else src.shape}, expected {tuple(v.shape)}")
            v.copy_(torch.from_numpy(src.astype(np.float64)))
    return net, tensors, config


def cmd_step(args):
    """One training step (reference path) from a checkpoint with a fresh
    optimizer state; compares the losses with vkmist's and, against the
    checkpoint vkmist wrote after the same step, which parameters Adam
    updated, their gradients (Adam m = g + wd p, as beta1 = 0), values and
    EMA copies."""
    dtype = torch.float64
    net, pre, config = load_net(args, dtype)
    if pre["adam_steps"].any() or any(pre[k + ".adam_m"].any() for k in net.P):
        die(f"{args.ckpt}: step needs a checkpoint with a fresh optimizer state")
    img = net.cfg["img"]
    x = read_f32(args.input, N * img * img, "samples [4][img][img]")
    B = len(x)
    xt = torch.from_numpy(x.astype(np.float64)).view(B, N, img, img)
    xs = [xt[:, d:d + 1].clone() for d in range(N)]
    xr = [torch.from_numpy(read_f32(f, img * img, "images").astype(np.float64)).view(-1, 1, img, img)
          for f in (args.xref, args.xref2)]
    tr = Trainer(net, B)
    with torch.no_grad():
        for e, k in zip(tr.ema, [p["name"] for p in net.info["params"] if p["ema"]]):
            e.copy_(torch.from_numpy(pre[k + ".ema"].astype(np.float64)))
    net.kinks = []
    ours = tr.step(xs, xr[0], xr[1], args.target, 1)
    theirs = [float(v) for v in np.fromfile(args.losses, dtype="<f4")]
    bad = []
    print(f"step {config} (target {net.domains[args.target]}, reference path, batch {B}; torch float64):")
    print("  " + "  ".join(f"{n} {a:.6g}/{b:.6g}" for n, a, b in zip(LOSS_NAMES, theirs, ours)) + "  (vkmist/torch)")
    if len(theirs) != len(LOSS_NAMES):
        die(f"{args.losses}: {len(theirs)} losses, expected {len(LOSS_NAMES)}")
    lerr = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(theirs, ours))
    if not lerr <= args.tol:
        bad.append(f"losses differ by {lerr:.3g}")

    post, _ = read_safetensors(args.after)
    steps = post["adam_steps"]
    state = {**tr.opt_g.state, **tr.opt_d.state}
    gmax = max(float(st["exp_avg"].abs().max()) for st in state.values())
    gworst, vbad, vtotal, eworst, nupd = (0.0, ""), 0, 0, 0.0, 0
    for i, (k, p) in enumerate(net.P.items()):
        upd_vk, upd_t = int(steps[i]) > 0, p in state
        if upd_vk != upd_t:
            bad.append(f"{k}: {'updated' if upd_vk else 'untouched'} by vkmist, "
                       f"{'updated' if upd_t else 'untouched'} by torch")
            continue
        before = torch.from_numpy(pre[k].astype(np.float64))
        after = torch.from_numpy(post[k].astype(np.float64))
        if not upd_t:
            if not torch.equal(before, after):
                bad.append(f"{k}: changed by vkmist without an update")
            continue
        nupd += 1
        m_t = state[p]["exp_avg"]
        m_vk = torch.from_numpy(post[k + ".adam_m"].astype(np.float64))
        # relative to the tensor's own gradient scale, floored (a conv bias
        # before an instance norm has a gradient that is zero but for rounding)
        scale = max(float(m_t.abs().max()), 1e-3 * gmax)
        ge = float((m_vk - m_t).abs().max()) / scale
        if ge > gworst[0]:
            gworst = (ge, k)
        # the first Adam step is ~ lr * sign(g): compare it where g is clearly nonzero
        sure = m_t.abs() > 1e-2 * scale
        vtotal += int(sure.sum())
        vbad += int(((after - p.detach()).abs() > 1e-2 * net.info["train"]["lr"])[sure].sum())
    for e, k in zip(tr.ema, [q["name"] for q in net.info["params"] if q["ema"]]):
        eworst = max(eworst, float((torch.from_numpy(post[k + ".ema"].astype(np.float64)) - e).abs().max()))
    print(f"  {nupd} parameter tensors updated by both; worst gradient (Adam m) error {gworst[0]:.3g} of its "
          f"scale ({gworst[1]}); {vbad} of {vtotal} clearly-driven values off by > 1% of lr; "
          f"EMA max abs difference {eworst:.3g}")
    if not gworst[0] <= args.grad_tol:
        bad.append(f"gradient of {gworst[1]} off by {gworst[0]:.3g} of its scale")
    if vbad > 1e-4 * vtotal:
        bad.append(f"{vbad} updated values differ")
    if not eworst <= 1e-6:
        bad.append(f"EMA differs by {eworst:.3g}")
    for b in bad[:10]:
        print(f"  MISMATCH: {b}")
    if bad:
        fragile = net.fragile_kinks()
        if fragile:
            print(f"step: INCONCLUSIVE: {fragile} LeakyReLU inputs lie within {KINK_REL:g} of their tensor's "
                  "largest magnitude from the kink, where gradient flows (float32 may take the other slope); "
                  "try other inputs")
            return 3
        print("step: FAILED")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("bench", "compare", "step"):
        p = sub.add_parser(name)
        p.add_argument("--vkmist", help="vkmist binary (default $VKMIST_BIN, else build/vkmist)")
        p.add_argument("--info-json", help="`vkmist info --json` output to use instead of running vkmist")
        if name == "bench":
            p.add_argument("--config", default="tiny")
            p.add_argument("--batch", type=int, default=2)
            p.add_argument("--iters", type=int, default=16)
            p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
            p.add_argument("--device", help="cpu or cuda (default cuda when available)")
        elif name == "step":
            p.add_argument("--ckpt", required=True, help="checkpoint before the step (fresh optimizer state)")
            p.add_argument("--after", required=True, help="vkmist's checkpoint after the step")
            p.add_argument("--input", required=True, help="x [B][4][img][img] float32")
            p.add_argument("--xref", required=True)
            p.add_argument("--xref2", required=True)
            p.add_argument("--target", type=int, required=True, choices=range(N))
            p.add_argument("--losses", required=True, help="vkmist's 7 losses, float32")
            p.add_argument("--tol", type=float, default=1e-4, help="loss error / max(1, |loss|)")
            p.add_argument("--grad-tol", type=float, default=5e-3, help="gradient error / its tensor's scale")
        else:
            p.add_argument("--ckpt", required=True)
            p.add_argument("--input", required=True)
            p.add_argument("--style", required=True)
            p.add_argument("--present", required=True, help="bit d set = domain d is an input (e.g. 0xe)")
            p.add_argument("--expect", required=True)
            p.add_argument("--tol", type=float, default=1e-4, help="max abs error / max(1, max |expect|)")
            p.add_argument("--weights", choices=("ema", "value"), default="ema")
            p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = ap.parse_args()
    if args.cmd == "bench" and (args.batch < 1 or args.iters < 1):
        ap.error("--batch and --iters must be >= 1")
    return {"bench": cmd_bench, "compare": cmd_compare, "step": cmd_step}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
