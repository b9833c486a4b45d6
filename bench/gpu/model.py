#!/usr/bin/env python3
"""Static performance model of attn's GPU kernels (issue 14, item 4).

  bench/gpu/model.py [SPEC.mlir ...] [--attn-ptx PATH] [--ptxas PATH]
                     [--cuobjdump PATH] [--detail] [--ptx-only]
                     [--kernel-config CONFIG ...]
                     [--expect-min-mma-per-ldmatrix X]
                     [--expect-max-barriers-per-tile N] [--expect-spills N]

For each kernel spec (default: every bench/gpu/*.mlir) it runs attn-ptx
(--attn-ptx, default build/bin/attn-ptx of this repository) for sm_80 and
sm_90, assembles the PTX with `ptxas -v` (registers, spill bytes), and
disassembles it with cuobjdump (bench/gpu/sass_loop.py finds the kv loop:
the kernel's longest backward branch). What is MEASURED is static: SASS
instructions of one kv tile per warp. What is MODELLED is a throughput
bound from those counts and published chip figures. No GPU is involved.

Per kv tile per warp (SASS)
  The loop body's paths from its head to a branch back to the head are
  walked one by one. The model uses the steady-state full tile: the
  SHORTEST path among those that copy one K and one V tile (the next
  tile's K prefetched, not the first tile's K copied at the top; causal,
  window and softcap kernels branch around the partial tile's masking;
  at S = 4096 and 64 x 64 tiles 64 of the 2080 causal tiles are
  partial). The "all" column is the static total of every path, as
  sass_loop.py prints it. Counted: HMMA, LDSM, LDGSTS, BAR, MUFU by
  function (EX2, TANH, RCP, ...), SHFL and all instructions.

Formulas (per kv tile per warp; "clk" is one SM clock)
  rows_w        = tile_q / warps                 query rows of one warp
  flops_w       = 2 * rows_w * tile_kv * (d_qk + d_v)   (QK^T and PV)
  smem_bytes_w  = 128 B per 8x8 matrix of each LDSM (.4 = 512 B)
                + 32 lanes * width of each LDGSTS (cp.async writes; .128 = 512 B)
                + 32 lanes * width of each LDS/STS
                  (all lanes active, no bank conflicts: the layouts are
                  swizzled; ptxas's never-executed `@!PT LDS RZ, [RZ]`
                  move nothing)
  mma per ldmatrix      = HMMA / LDSM
  flops per smem byte   = flops_w / smem_bytes_w
  instructions per HMMA = instructions / HMMA
  Resource times in clk, for one warp tile, against per-SM rates:
    tensor  = flops_w / (dense FP16 tensor flop/s / (SMs * clock))
    smem    = smem_bytes_w / 128 B/clk
    mufu    = 32 * MUFU / 16 lanes/clk
    issue   = instructions / 4 warp-instructions/clk (one per scheduler)
    l2      = (tile_kv * (d_qk + d_v) * bytes / warps) / (L2 B/clk / SMs)
              every block streams its K and V tiles from L2
    hbm     = ((tile_kv * (d_qk + d_v) * bytes) / reuse
               + tile_q * (d_qk + d_v) * bytes / kv_tiles) / warps
              / (HBM B/s / (clock * SMs))
              K/V come from HBM once and L2 serves the reuse =
              ceil(S_q / tile_q) * (H_q / H_kv) blocks that read each K/V
              tile (dense count, also for masked kernels: optimistic);
              Q and O once per block, spread over its kv_tiles =
              ceil(S_kv / tile_kv).
  The resources work in parallel, so a warp tile takes t = max(times) and
  the binding resource is the argmax;
    modelled TFLOP/s = flops_w / t * clock * SMs / 1e12.
  A100 reads the sm_80 SASS, H100 and H200 the sm_90 SASS.

  tile_q and tile_kv come from the contract's "tiles" (the tile shape of
  the tiled IR), warps from the kernel's block, head dims and dtype from
  the arguments. The flops per warp tile are checked against the HMMA
  count (flops of HMMA.16816 = 4096); a mismatch is reported as a warning.

FlashAttention-2 beside it (ANALYTIC, not measured)
  FA2's forward configuration at the same head dim (FA2_CONFIGS below)
  with its per-tile counts derived from the tile shape, as FA2's kernel
  does them (kernel_traits.h: TiledMma of kNWarps x 1 x 1 warps, so each
  warp owns rows_w = Br / warps = 32 rows = two m16 slabs and all of the
  kv tile's columns; Q is re-read from shared memory each tile since
  Is_Q_in_regs = false; P stays in registers; V read with ldmatrix.trans):
    HMMA   = (rows_w/16) * (Bc/8) * (d_qk/16) + (rows_w/16) * (d_v/8) * (Bc/16)
    LDSM   = (d_qk/16) * (rows_w/16 + Bc/16) + (Bc/16) * (d_v/16)   (all .x4)
    LDGSTS = Bc * (d_qk + d_v) * bytes / (16 B * 32 lanes * warps)
    BAR    = 2 (flash_fwd_kernel.h: one __syncthreads before QK^T, one before PV)
    MUFU   = EX2: rows_w * Bc / 32 + 2 * rows_w / 16 (rescale); TANH:
             rows_w * Bc / 32 with softcap
    SHFL   = 2 * 2 * rows_w / 16 (row max over the 4 lanes of a row; the
             row sum is reduced after the loop)
    instructions = the above + 3.5 per score of this lane (FMNMX, FFMA of
             scale and max, FADD of the row sum, half a F2FP pack; +1 FMUL
             with softcap) + 1 FMUL per accumulator element (rescale);
             no address or loop arithmetic: a lower bound.
  With these, FA2's figures go through the same roofline.

Review check (dense f16 D = 128, H100): attn 360 TFLOP/s, shared-memory
bound (72 LDSM * 512 B + 16 LDGSTS * 512 B = 45056 B per warp tile =
352 clk against 128 clk of tensor work); FA2 660 TFLOP/s, shared-memory
bound (80 * 512 + 16 * 512 = 49152 B for twice the flops). A review
estimated ~345 and ~630: the same ratio (0.55), the 4 % between comes
from the clock: 989.4 TFLOP/s / (132 SMs * 4096 flop/clk) = 1.83 GHz here,
~1.755 GHz reproduces the review's figures. Without the cp.async writes
the ceilings would be 440 and 790.

Not modelled: latency and occupancy (the bound assumes enough warps in
flight to overlap every unit; attn runs 2 blocks of 4 warps per SM),
the FP32/ALU pipes, bank conflicts, the partial tiles' extra work, tail
effects of the grid, and Hopper's mma.sync rate: NVIDIA quotes 989.4
TFLOP/s for wgmma, and mma.sync (HMMA) on sm_90 is reported to reach only
part of it, so the tensor bound on H100/H200 is optimistic (it binds none
of these kernels). H200 differs from H100 only in HBM, which binds none
of them either, so their figures agree.

--ptx-only needs no disassembler: it counts mma.sync, ldmatrix, cp.async
copies (not commit/wait) and bar.sync in the PTX of the kv loop (the
longest branch back to a label: all paths of the loop together) and
reads registers and spills from `ptxas -v`. It models nothing. The
--expect-* thresholds apply in both modes; the script exits 1 when one
is violated (the CI test test/Target/PTX/kernel-structure.test).
"""

import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sass_loop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Chip figures, per GPU. Sources: NVIDIA A100 Tensor Core GPU Architecture
# whitepaper (2020), NVIDIA H100 Tensor Core GPU Architecture whitepaper
# (2022), NVIDIA H200 Tensor Core GPU datasheet (2024).
CHIPS = {
    "H100 SXM": dict(
        sass="sm_90",
        sms=132,                 # H100 whitepaper: 132 SMs on H100 SXM5
        # The clock at which the whitepaper's dense FP16 figure holds:
        # 989.4e12 / (132 SMs * 4096 flop/clk/SM) = 1.83 GHz.
        clock_hz=1.83e9,
        tensor_flops=989.4e12,   # H100 whitepaper: FP16 tensor, dense
        hbm_bytes_s=3.35e12,     # H100 whitepaper: HBM3, 3.35 TB/s (SXM5)
        # Not in the H100 whitepaper: assumed equal to A100's 5120 B/clk.
        l2_bytes_clk=5120, l2_assumed=True),
    "H200 SXM": dict(
        sass="sm_90",
        sms=132,                 # H200 datasheet: the H100 SXM's GH100 chip
        clock_hz=1.83e9,         # as H100 SXM
        tensor_flops=989.4e12,   # H200 datasheet: FP16 tensor 1979 sparse
        hbm_bytes_s=4.8e12,      # H200 datasheet: HBM3e, 4.8 TB/s
        l2_bytes_clk=5120, l2_assumed=True),
    "A100 SXM": dict(
        sass="sm_80",
        sms=108,                 # A100 whitepaper: 108 SMs
        clock_hz=1.41e9,         # A100 whitepaper: 1410 MHz boost
        tensor_flops=312e12,     # A100 whitepaper: FP16 tensor, dense
        hbm_bytes_s=2.039e12,    # A100 80GB SXM datasheet: 2,039 GB/s
        l2_bytes_clk=5120,       # A100 whitepaper: L2 read 5120 B/clk
        l2_assumed=False),
}
# Per SM per clock on all three (A100 and H100 whitepapers): shared memory
# 128 B/clk, MUFU 16 lanes/clk (4 per SM sub-partition), instruction issue
# one warp-instruction per scheduler, 4 schedulers.
SMEM_BYTES_CLK = 128
MUFU_LANES_CLK = 16
ISSUE_CLK = 4

# FlashAttention-2's forward configurations (Br x Bc, warps) by head dim,
# from csrc/flash_attn/src/flash_fwd_launch_template.h (run_mha_fwd_hdim64:
# Flash_fwd_kernel_traits<64, 128, 128, 4>; run_mha_fwd_hdim128 on sm80 and
# sm90, not sm8x: <128, 128, 64, 4>), without dropout; 32 query rows per
# warp (kernel_traits.h: TiledMma over kNWarps x 1 x 1 warps).
FA2_CONFIGS = {64: (128, 128, 4), 128: (128, 64, 4)}

ELEMENT_BYTES = {"f16": 2, "bf16": 2, "f32": 4}
RESOURCES = ["tensor", "smem", "mufu", "issue", "l2", "hbm"]


# --- compiling ----------------------------------------------------------

def compile_spec(attn_ptx, spec, chip, out, config=None):
    """attn-ptx SPEC --chip CHIP -o OUT [--kernel-config CONFIG]: (PTX text,
    contract JSON)."""
    cmd = [attn_ptx, spec, f"--chip={chip}", "-o", out]
    if config:
        cmd.append(f"--kernel-config={config}")
    subprocess.run(cmd, check=True)
    with open(out + ".ptx") as f:
        ptx = f.read()
    with open(out + ".json") as f:
        contract = json.load(f)
    return ptx, contract


def ptxas_info(log, kernel):
    """Registers and spill bytes of `kernel` in a `ptxas -v` log."""
    info = {}
    for part in re.split(r"Compiling entry function ", log)[1:]:
        if not part.startswith(f"'{kernel}'"):
            continue
        m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads",
                      part)
        if m:
            info["spills"] = int(m.group(1)) + int(m.group(2))
        m = re.search(r"Used (\d+) registers", part)
        if m:
            info["registers"] = int(m.group(1))
    return info


def assemble(ptxas, ptx_text, chip):
    """`ptxas -v` log of the PTX (no disassembly; --ptx-only)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "k.ptx")
        with open(src, "w") as f:
            f.write(ptx_text)
        r = subprocess.run([ptxas, "-v", f"-arch={chip}", src, "-o",
                            os.path.join(tmp, "k.cubin")],
                           check=True, capture_output=True, text=True)
    return r.stdout + r.stderr


# --- the kernel's shape -------------------------------------------------

def kernel_shape(contract, kernel):
    """Tile shape, head dims, dtype and sizes of `kernel` (see the
    docstring for where each comes from)."""
    args = {a["role"]: a for a in contract["arguments"]}
    q, k, v = args["query"], args["key"], args["value"]
    s = dict(dtype=q["dtype"], bytes=ELEMENT_BYTES[q["dtype"]],
             batch=q["shape"][0], hq=q["shape"][1], hkv=k["shape"][1],
             sq=q["shape"][2], skv=k["shape"][2],
             dqk=q["shape"][3], dv=v["shape"][3])
    if "tiles" not in contract:
        sys.exit("model: the contract has no \"tiles\" (an attn-ptx older "
                 "than the tile shape in #attn.launch_contract)")
    s["tile_q"], s["tile_kv"] = contract["tiles"]
    s["warps"] = kernel["block"][0] // 32
    return s


def warp_tile_flops(s, tile_q=None, tile_kv=None, warps=None):
    tile_q = tile_q or s["tile_q"]
    tile_kv = tile_kv or s["tile_kv"]
    warps = warps or s["warps"]
    return 2 * (tile_q // warps) * tile_kv * (s["dqk"] + s["dv"])


# --- SASS counts --------------------------------------------------------

def smem_bytes(op):
    """Shared-memory bytes one warp moves with one SASS instruction."""
    parts = op.split(".")
    if parts[0] == "LDSM":
        n = int(parts[-1]) if parts[-1] in ("2", "4") else 1
        return 128 * n
    if parts[0] in ("LDGSTS", "LDS", "STS"):
        width = next((int(p) for p in reversed(parts)
                      if p in ("64", "128")), 32)
        return 32 * width // 8
    return 0


def hmma_flops(op):
    m = re.match(r"HMMA\.(16)(8)(16|8)\b", op)  # HMMA.16816: m16 n8 k16
    if not m:
        return 0
    return 2 * int(m.group(1)) * int(m.group(2)) * int(m.group(3))


def loop_paths(insts):
    """Counters of every path through the kv loop's body, head to a branch
    back to the head (sass_loop.kv_loop_span gives the body)."""
    first, last = sass_loop.kv_loop_span(insts)
    body = [i for i in insts if first <= i[0] <= last]
    index = {inst[0]: n for n, inst in enumerate(body)}
    # Basic blocks: a leader at the head, at each branch target, after
    # each branch.
    leaders = {0}
    for n, (addr, op, rest, pred) in enumerate(body):
        t = sass_loop.branch_target(op, rest)
        if t is not None:
            if t in index:
                leaders.add(index[t])
            leaders.add(n + 1)
        if op in ("EXIT", "RET") or op.startswith("RET."):
            leaders.add(n + 1)
    starts = sorted(x for x in leaders if x < len(body))
    blocks = {}
    for b, start in enumerate(starts):
        end = starts[b + 1] if b + 1 < len(starts) else len(body)
        counts = collections.Counter()
        for addr, op, rest, pred in body[start:end]:
            counts["total"] += 1
            c = sass_loop.classify(op)
            if c:
                counts[c] += 1
            if c == "HMMA":
                counts["hmma_flops"] += hmma_flops(op)
            if pred != "@!PT":  # never executed (ptxas's LDS RZ, [RZ])
                counts["smem_bytes"] += smem_bytes(op)
        addr, op, rest, pred = body[end - 1]
        unconditional = pred in ("", "@PT")
        succ, back = [], False
        t = sass_loop.branch_target(op, rest)
        if t is not None:
            if t == first:
                back = True                     # the iteration ends here
            elif t in index and index[t] > start:
                succ.append(index[t])           # forward, inside the loop
            # other targets: out of the loop, or an inner loop's back edge
            if not unconditional and end < len(body):
                succ.append(end)
        elif op in ("EXIT", "RET") or op.startswith("RET."):
            if not unconditional and end < len(body):
                succ.append(end)
        elif end < len(body):
            succ.append(end)
        blocks[start] = (counts, succ, back)
    paths = []

    def walk(start, acc, depth):
        if len(paths) > 4096 or depth > len(blocks):
            sys.exit("model: too many paths through the kv loop")
        counts, succ, back = blocks[start]
        acc = acc + counts
        if back:
            paths.append(acc)
        for s in succ:
            walk(s, acc, depth + 1)

    walk(0, collections.Counter(), 0)
    if not paths:
        sys.exit("model: no path from the kv loop's head back to it")
    return paths


def sass_tile_counts(sass, kernel, steady_ldgsts=None):
    """The steady-state full tile's counts: the shortest path whose
    cp.async count is `steady_ldgsts` (one K and one V tile: the next
    tile's K prefetched, not the first tile's K copy) when there is one,
    else the shortest; with the static total of the loop body (every
    path) beside it."""
    insts = sass_loop.kernel_instructions(sass, kernel)
    paths = loop_paths(insts)
    steady = [c for c in paths if c["LDGSTS"] == steady_ldgsts]
    tile = min(steady or paths, key=lambda c: c["total"])
    first, last = sass_loop.kv_loop_span(insts)
    tile["static_total"] = sum(1 for i in insts if first <= i[0] <= last)
    tile["paths"] = len(paths)
    return tile


# --- PTX counts (--ptx-only) --------------------------------------------

PTX_CLASSES = [("mma", r"mma\.sync\b"), ("ldmatrix", r"ldmatrix\.sync\b"),
               ("cp.async", r"cp\.async\.c[ag]\.shared\.global\b"),
               ("bar", r"(bar|barrier)(\.cta)?\.sync\b")]


def ptx_tile_counts(ptx, kernel):
    """Counts of PTX_CLASSES between the kv loop's label and the longest
    branch back to it: all paths of one iteration together."""
    m = re.search(r"\.entry\s+" + re.escape(kernel) + r"\s*\(", ptx)
    if not m:
        sys.exit(f"model: no .entry {kernel} in the PTX")
    end = ptx.find("\n}", m.end())
    lines = ptx[m.end():end if end >= 0 else None].split("\n")
    labels = {}
    best = None
    for n, line in enumerate(lines):
        lm = re.match(r"(\$?\w+):", line)
        if lm:
            labels[lm.group(1)] = n
        bm = re.search(r"\bbra(\.uni)?\s+(\$?\w+)\s*;", line)
        if bm and bm.group(2) in labels:
            span = (labels[bm.group(2)], n)
            if best is None or span[1] - span[0] > best[1] - best[0]:
                best = span
    if best is None:
        sys.exit(f"model: no backward branch in {kernel}: no kv loop")
    counts = collections.Counter()
    for line in lines[best[0]:best[1] + 1]:
        for name, pattern in PTX_CLASSES:
            if re.match(r"\s*(@!?%p\d+\s+)?" + pattern, line):
                counts[name] += 1
    return counts


# --- FlashAttention-2, analytic -----------------------------------------

def fa2_tile_counts(s, softcap):
    """FA2's per-warp, per-kv-tile counts at the shape of `s` (formulas in
    the docstring); None when FA2_CONFIGS has no entry for the head dim."""
    if s["dqk"] != s["dv"] or s["dqk"] not in FA2_CONFIGS:
        return None
    br, bc, warps = FA2_CONFIGS[s["dqk"]]
    rows = br // warps
    slabs = rows // 16
    dqk, dv = s["dqk"], s["dv"]
    c = collections.Counter()
    c["HMMA"] = slabs * (bc // 8) * (dqk // 16) + slabs * (dv // 8) * (bc // 16)
    c["LDSM"] = (dqk // 16) * (slabs + bc // 16) + (bc // 16) * (dv // 16)
    c["LDGSTS"] = bc * (dqk + dv) * s["bytes"] // (16 * 32 * warps)
    c["BAR"] = 2
    scores = rows * bc // 32
    c["MUFU.EX2"] = scores + 2 * slabs
    if softcap:
        c["MUFU.TANH"] = scores
    c["SHFL"] = 2 * 2 * slabs
    per_score = 3.5 + (1 if softcap else 0)
    c["total"] = int(sum(c.values()) + per_score * scores + rows * dv // 32)
    c["hmma_flops"] = 4096 * c["HMMA"]
    c["smem_bytes"] = 512 * (c["LDSM"] + c["LDGSTS"])
    c["config"] = (br, bc, warps)
    return c


# --- the roofline -------------------------------------------------------

def roofline(c, s, chip, tile_q, tile_kv, warps):
    """Clocks per warp tile of each resource, the binding one, TFLOP/s."""
    k = CHIPS[chip]
    flops = warp_tile_flops(s, tile_q, tile_kv, warps)
    per_sm_flops = k["tensor_flops"] / (k["sms"] * k["clock_hz"])
    mufu = sum(v for key, v in c.items() if key.startswith("MUFU"))
    kv_bytes = tile_kv * (s["dqk"] + s["dv"]) * s["bytes"]
    reuse = math.ceil(s["sq"] / tile_q) * (s["hq"] // s["hkv"])
    kv_tiles = math.ceil(s["skv"] / tile_kv)
    qo_bytes = tile_q * (s["dqk"] + s["dv"]) * s["bytes"]
    hbm_w = (kv_bytes / reuse + qo_bytes / kv_tiles) / warps
    t = {
        "tensor": flops / per_sm_flops,
        "smem": c["smem_bytes"] / SMEM_BYTES_CLK,
        "mufu": 32 * mufu / MUFU_LANES_CLK,
        "issue": c["total"] / ISSUE_CLK,
        "l2": kv_bytes / warps / (k["l2_bytes_clk"] / k["sms"]),
        "hbm": hbm_w / (k["hbm_bytes_s"] / (k["clock_hz"] * k["sms"])),
    }
    binding = max(RESOURCES, key=lambda r: t[r])
    tflops = flops / t[binding] * k["clock_hz"] * k["sms"] / 1e12
    return t, binding, tflops


# --- reports ------------------------------------------------------------

def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()


def mufu_text(c):
    parts = [f"{key[5:]} {v}" for key, v in sorted(c.items())
             if key.startswith("MUFU") and v]
    return ", ".join(parts) or "0"


class Checks:
    """The --expect-* thresholds; violations are printed and counted."""

    def __init__(self, args):
        self.args, self.failures, self.count = args, [], 0

    def check(self, what, name, mma, ldsm, bar, spills):
        a = self.args
        if a.expect_min_mma_per_ldmatrix is not None:
            self.count += 1
            ratio = mma / ldsm if ldsm else float("inf")
            if ratio < a.expect_min_mma_per_ldmatrix:
                self.failures.append(
                    f"{name} {what}: {ratio:.2f} mma per ldmatrix < "
                    f"{a.expect_min_mma_per_ldmatrix}")
        if a.expect_max_barriers_per_tile is not None:
            self.count += 1
            if bar > a.expect_max_barriers_per_tile:
                self.failures.append(
                    f"{name} {what}: {bar} barriers per kv tile > "
                    f"{a.expect_max_barriers_per_tile}")
        if a.expect_spills is not None:
            self.count += 1
            if spills is None or spills > a.expect_spills:
                self.failures.append(
                    f"{name} {what}: {spills} spill bytes > "
                    f"{a.expect_spills}")

    def finish(self):
        sys.stdout.flush()
        for f in self.failures:
            print(f"model: FAIL: {f}", file=sys.stderr)
        if self.count:
            print(f"structure: {'FAIL' if self.failures else 'ok'} "
                  f"({self.count - len(self.failures)} of {self.count} checks "
                  "pass)")
        return 1 if self.failures else 0


def main_kernels(contract):
    ks = [k for k in contract["kernels"]
          if k["name"].startswith("attention_kernel")]
    return ks or contract["kernels"][:1]


def spec_variants(args, specs):
    """(display name, spec, kernel config or None) for every spec and every
    --kernel-config (none given: the table's)."""
    for spec in specs:
        base = os.path.splitext(os.path.basename(spec))[0]
        if not args.kernel_config:
            yield base, spec, None
            continue
        for config in args.kernel_config:
            yield (f"{base} [{config}]"), spec, (
                None if config == "table" else config)


def run_ptx_only(args, specs, ptxas, checks, tmp):
    rows = []
    for name, spec, config in spec_variants(args, specs):
        for chip in ("sm_80", "sm_90"):
            ptx, contract = compile_spec(
                args.attn_ptx, spec, chip,
                os.path.join(tmp, f"{len(rows)}.{chip}"), config)
            log = assemble(ptxas, ptx, chip)
            for kernel in main_kernels(contract):
                c = ptx_tile_counts(ptx, kernel["name"])
                info = ptxas_info(log, kernel["name"])
                ratio = c["mma"] / c["ldmatrix"] if c["ldmatrix"] else 0
                rows.append([name, chip, c["mma"], c["ldmatrix"],
                             c["cp.async"], c["bar"], f"{ratio:.2f}",
                             info.get("registers", "?"),
                             info.get("spills", "?")])
                checks.check(f"{chip} PTX", name, c["mma"], c["ldmatrix"],
                             c["bar"], info.get("spills"))
    print("PTX of the kv loop, per kv tile per warp (all paths of the loop "
          "together), and ptxas -v:\n")
    table(["kernel", "chip", "mma.sync", "ldmatrix", "cp.async", "bar.sync",
           "mma/ldmatrix", "registers", "spill bytes"], rows)


def run_model(args, specs, ptxas, cuobjdump, checks, tmp):
    counts_rows, model_rows, detail_rows = [], [], []
    for index, (name, spec, config) in enumerate(spec_variants(args, specs)):
        with open(spec) as f:
            softcap = "softcap" in f.read()
        per_chip = {}
        for chip in ("sm_80", "sm_90"):
            out = os.path.join(tmp, f"{index}.{chip}")
            _, contract = compile_spec(args.attn_ptx, spec, chip, out, config)
            sass, log = sass_loop.disassemble(ptxas, cuobjdump, out + ".ptx",
                                              chip)
            kernel = main_kernels(contract)[0]
            s = kernel_shape(contract, kernel)
            c = sass_tile_counts(
                sass, kernel["name"],
                s["tile_kv"] * (s["dqk"] + s["dv"]) * s["bytes"] //
                (16 * 32 * s["warps"]))
            info = ptxas_info(log, kernel["name"])
            if c["hmma_flops"] != warp_tile_flops(s):
                print(f"model: warning: {name} {chip}: HMMA flops "
                      f"{c['hmma_flops']} != 2 * rows_w * tile_kv * "
                      f"(d_qk + d_v) = {warp_tile_flops(s)}: is tile_kv "
                      f"{s['tile_kv']} right?", file=sys.stderr)
            checks.check(f"{chip} SASS", name, c["HMMA"], c["LDSM"],
                         c["BAR"], info.get("spills"))
            per_chip[chip] = (c, info)
            flops = warp_tile_flops(s)
            counts_rows.append([
                name, chip, info.get("registers", "?"),
                info.get("spills", "?"), c["HMMA"], c["LDSM"], c["LDGSTS"],
                c["BAR"], mufu_text(c), c["SHFL"],
                f"{c['total']} / {c['static_total']}",
                f"{c['HMMA'] / c['LDSM']:.2f}",
                f"{flops / c['smem_bytes']:.1f}",
                f"{c['total'] / c['HMMA']:.2f}"])
        # FA2 beside the first configuration of each spec only.
        first = (config or "table") == (args.kernel_config or ["table"])[0]
        fa2 = fa2_tile_counts(s, softcap) if first else None
        if fa2:
            br, bc, w = fa2["config"]
            flops = warp_tile_flops(s, br, bc, w)
            counts_rows.append([
                f"FA2 {br}x{bc}, {w} warps (analytic)", "sm_80/90", "-", "-",
                fa2["HMMA"], fa2["LDSM"], fa2["LDGSTS"], fa2["BAR"],
                mufu_text(fa2), fa2["SHFL"], f">= {fa2['total']}",
                f"{fa2['HMMA'] / fa2['LDSM']:.2f}",
                f"{flops / fa2['smem_bytes']:.1f}",
                f">= {fa2['total'] / fa2['HMMA']:.2f}"])
        attn_cells, fa2_cells = [], []
        for chip, k in CHIPS.items():
            c, _ = per_chip[k["sass"]]
            t, binding, tf = roofline(c, s, chip, s["tile_q"], s["tile_kv"],
                                      s["warps"])
            attn_cells.append(f"{tf:.0f} ({binding})")
            detail_rows.append([name, "attn", chip] +
                               [f"{t[r]:.0f}" for r in RESOURCES])
            if fa2:
                t, binding, tf = roofline(fa2, s, chip, br, bc, w)
                fa2_cells.append(f"{tf:.0f} ({binding})")
                detail_rows.append([name, "FA2", chip] +
                                   [f"{t[r]:.0f}" for r in RESOURCES])
        model_rows.append([name, f"attn {s['tile_q']}x{s['tile_kv']}, "
                                 f"{s['warps']} warps"] + attn_cells)
        if fa2:
            model_rows.append(["", f"FA2 {br}x{bc}, {w} warps"] + fa2_cells)
    print("Measured: static SASS of one kv tile per warp (full-tile path; "
          "instructions: that path / all paths of the loop), ptxas -v:\n")
    table(["kernel", "chip", "registers", "spill bytes", "HMMA", "LDSM",
           "LDGSTS", "BAR", "MUFU", "SHFL", "instructions", "mma/LDSM",
           "flop/smem B", "inst/HMMA"], counts_rows)
    print("Modelled: TFLOP/s bound and binding resource (roofline over "
          "tensor, smem, mufu, issue, l2, hbm; L2 of H100/H200 assumed):\n")
    table(["kernel", "configuration"] + list(CHIPS), model_rows)
    if args.detail:
        print("Clocks per warp tile of each resource:\n")
        table(["kernel", "", "chip"] + RESOURCES, detail_rows)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("specs", nargs="*",
                   help="kernel specs (default: bench/gpu/*.mlir)")
    p.add_argument("--attn-ptx",
                   default=os.path.join(ROOT, "build", "bin", "attn-ptx"))
    p.add_argument("--ptxas")
    p.add_argument("--cuobjdump")
    p.add_argument("--kernel-config", action="append",
                   help="model this kernel configuration (attn-ptx "
                        "--kernel-config, e.g. 64x64w4, or `table`: the "
                        "table's); repeatable; default: the table's")
    p.add_argument("--ptx-only", action="store_true",
                   help="PTX counts and ptxas -v only; no disassembler, no "
                        "model")
    p.add_argument("--detail", action="store_true",
                   help="also print each resource's clocks per warp tile")
    p.add_argument("--expect-min-mma-per-ldmatrix", type=float)
    p.add_argument("--expect-max-barriers-per-tile", type=int)
    p.add_argument("--expect-spills", type=int,
                   help="at most this many spill bytes (stores + loads)")
    args = p.parse_args()
    specs = args.specs or sorted(
        os.path.join(ROOT, "bench", "gpu", f)
        for f in os.listdir(os.path.join(ROOT, "bench", "gpu"))
        if f.endswith(".mlir"))
    ptxas = sass_loop.find_tool("ptxas", args.ptxas)
    checks = Checks(args)
    with tempfile.TemporaryDirectory() as tmp:
        if args.ptx_only:
            run_ptx_only(args, specs, ptxas, checks, tmp)
        else:
            cuobjdump = sass_loop.find_tool("cuobjdump", args.cuobjdump)
            run_model(args, specs, ptxas, cuobjdump, checks, tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
