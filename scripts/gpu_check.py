#!/usr/bin/env python3
"""attn's GPU check: correctness of every kernel of the test matrix on a real
GPU, and timings against PyTorch SDPA (flash) and FlexAttention.

Two halves, because MLIR lives only on the build machine:

  prepare OUT  (build machine) writes the test matrix and the benchmark
               shapes as MLIR, compiles each with attn-ptx to PTX plus its
               JSON launch contract, and writes OUT/manifest.json.
  run OUT      (GPU machine: PyTorch, the CUDA driver, runtime/ built)
               loads each PTX through runtime/'s C API (ctypes), runs it on
               fresh random inputs with NaN-poisoned outputs, compares with
               an f64 PyTorch reference written here from the masks'
               definitions, times the benchmark shapes against
               scaled_dot_product_attention (flash backend) and
               FlexAttention in the same run, prints a table and writes
               OUT/results.json.

scripts/gpu-check is the one-command wrapper.
"""

import argparse
import ctypes
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------
# The matrix (shared by both halves)
# ---------------------------------------------------------------------------

# mask: (attribute text, description for the reference)
MASKS = {
    "none": ("", {"kind": "none"}),
    "causal": ("#attn.causal", {"kind": "causal"}),
    "causal_bottom_right": ("#attn.causal<bottom_right>",
                            {"kind": "causal_bottom_right"}),
    "window": ("#attn.window<left = 48, right = 16>",
               {"kind": "window", "left": 48, "right": 16}),
    "prefix_lm": ("#attn.prefix_lm<prefix = 40>",
                  {"kind": "prefix_lm", "prefix": 40}),
    "causal_global": ("#attn.union<[#attn.causal, #attn.global<first = 4>]>",
                      {"kind": "causal_global", "first": 4}),
    "document": ("#attn.document", {"kind": "document"}),
}

# (name, mask, dtype, B, Hq, Hkv, Sq, Skv, Dqk, Dv, softcap)
TESTS = [
    ("none_f16_mha_d64", "none", "f16", 2, 4, 4, 130, 130, 64, 64, None),
    ("causal_bf16_gqa_d128", "causal", "bf16", 2, 8, 2, 200, 200, 128, 128, None),
    ("causal_br_f16_mqa_d192", "causal_bottom_right", "f16", 1, 4, 1, 100, 160,
     192, 128, None),
    ("window_bf16_mha_d64", "window", "bf16", 1, 4, 4, 257, 257, 64, 64, None),
    ("prefix_f16_gqa_d128", "prefix_lm", "f16", 1, 8, 4, 128, 128, 128, 128, None),
    ("global_bf16_mqa_d64", "causal_global", "bf16", 2, 4, 1, 190, 190, 64, 64,
     None),
    ("document_f16_mha_d64", "document", "f16", 2, 4, 4, 300, 300, 64, 64, None),
    ("decode_f16_gqa_d128", "none", "f16", 4, 8, 2, 1, 1000, 128, 128, None),
    ("softcap_bf16_gqa_d64", "causal", "bf16", 1, 8, 2, 129, 129, 64, 64, 30.0),
]

# Benchmarks: (name, mask, dtype, B, H, S, D)
BENCH = [
    ("dense_f16_b4_h16_s4096_d128", "none", "f16", 4, 16, 4096, 128),
    ("causal_f16_b4_h16_s4096_d128", "causal", "f16", 4, 16, 4096, 128),
    ("dense_bf16_b4_h16_s4096_d128", "none", "bf16", 4, 16, 4096, 128),
    ("causal_bf16_b4_h16_s4096_d128", "causal", "bf16", 4, 16, 4096, 128),
    ("window256_f16_b1_h16_s16384_d128", "window256", "f16", 1, 16, 16384, 128),
    ("causal_f16_b1_h16_s16384_d128", "causal", "f16", 1, 16, 16384, 128),
]
BENCH_MASKS = {
    "none": "",
    "causal": "#attn.causal",
    "window256": "#attn.intersection<[#attn.causal, "
                 "#attn.window<left = 256, right = 0>]>",
}


def attention_mlir(mask_attr, dtype, b, hq, hkv, sq, skv, dqk, dv, softcap,
                   segments):
    t = lambda *dims: "tensor<" + "x".join(str(d) for d in dims) + "x" + dtype + ">"
    q, k, v, o = t(b, hq, sq, dqk), t(b, hkv, skv, dqk), t(b, hkv, skv, dv), t(
        b, hq, sq, dv)
    lse = f"tensor<{b}x{hq}x{sq}xf32>"
    qi, ki = f"tensor<{b}x{sq}xi32>", f"tensor<{b}x{skv}xi32>"
    args = f"%q: {q}, %k: {k}, %v: {v}"
    if segments:
        args += f", %qids: {qi}, %kvids: {ki}"
    attrs = []
    if mask_attr:
        attrs.append("mask = " + mask_attr)
    if softcap:
        attrs.append(f"score_mod = #attn.softcap<{softcap}>")
    attr_text = (" {" + ", ".join(attrs) + "}") if attrs else ""
    seg = f" segments(%qids, %kvids : {qi}, {ki})" if segments else ""
    return (f"func.func @attention({args}) -> ({o}, {lse}) {{\n"
            f"  %o, %lse = attn.attention %q, %k, %v{seg}{attr_text}\n"
            f"      : {q}, {k}, {v} -> {o}, {lse}\n"
            f"  return %o, %lse : {o}, {lse}\n}}\n")


# ---------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------

def prepare(out, attn_ptx, chips):
    os.makedirs(out, exist_ok=True)
    manifest = {"tests": [], "bench": []}

    def compile_one(name, text, chip):
        mlir = os.path.join(out, name + ".mlir")
        with open(mlir, "w") as f:
            f.write(text)
        prefix = os.path.join(out, f"{name}.{chip}")
        start = time.perf_counter()
        subprocess.run([attn_ptx, mlir, "-o", prefix, "--chip", chip],
                       check=True)
        return {"ptx": os.path.basename(prefix + ".ptx"),
                "contract": os.path.basename(prefix + ".json"),
                "compile_s": time.perf_counter() - start}

    for (name, mask, dtype, b, hq, hkv, sq, skv, dqk, dv, softcap) in TESTS:
        attr, desc = MASKS[mask]
        text = attention_mlir(attr, dtype, b, hq, hkv, sq, skv, dqk, dv,
                              softcap, mask == "document")
        entry = {"name": name, "mask": desc, "dtype": dtype,
                 "shape": [b, hq, hkv, sq, skv, dqk, dv], "softcap": softcap,
                 "chips": {chip: compile_one(name, text, chip) for chip in chips}}
        manifest["tests"].append(entry)
        print(f"prepared {name}")
    for (name, mask, dtype, b, h, s, d) in BENCH:
        text = attention_mlir(BENCH_MASKS[mask], dtype, b, h, h, s, s, d, d,
                              None, False)
        entry = {"name": name, "mask": mask, "dtype": dtype,
                 "shape": [b, h, h, s, s, d, d],
                 "chips": {chip: compile_one(name, text, chip) for chip in chips}}
        manifest["bench"].append(entry)
        print(f"prepared {name}")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {out}/manifest.json: {len(manifest['tests'])} tests, "
          f"{len(manifest['bench'])} benchmarks")


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------

class Tensor(ctypes.Structure):
    _fields_ = [("device_pointer", ctypes.c_uint64), ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * 8)]


class Runtime:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.attn_rt_last_error.restype = ctypes.c_char_p
        self.lib.attn_rt_module_load.argtypes = [
            ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        self.lib.attn_rt_launch_memrefs.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64),
            ctypes.POINTER(ctypes.c_int64), ctypes.c_int64, ctypes.c_void_p,
            ctypes.POINTER(Tensor), ctypes.c_size_t]

    def check(self, rc):
        if rc != 0:
            raise RuntimeError(self.lib.attn_rt_last_error().decode())

    def load(self, ptx_text, device=0):
        module = ctypes.c_void_p()
        self.check(self.lib.attn_rt_module_load(device, ptx_text.encode(),
                                                ctypes.byref(module)))
        return module

    def launch(self, module, kernel, tensors, stream):
        arr = (Tensor * len(tensors))()
        for i, t in enumerate(tensors):
            arr[i].device_pointer = t.data_ptr()
            arr[i].rank = t.dim()
            for d, n in enumerate(t.shape):
                arr[i].shape[d] = n
        grid = (ctypes.c_int64 * 3)(*kernel["grid"])
        block = (ctypes.c_int64 * 3)(*kernel["block"])
        self.check(self.lib.attn_rt_launch_memrefs(
            module, kernel["name"].encode(), grid, block,
            kernel["dynamic_shared_bytes"], ctypes.c_void_p(stream), arr,
            len(tensors)))


def keep_matrix(torch, desc, b, hq, sq, skv, qids=None, kvids=None,
                device="cuda"):
    """The kept elements [B, Hq, Sq, Skv], from each mask's definition."""
    i = torch.arange(sq, device=device).view(sq, 1)
    j = torch.arange(skv, device=device).view(1, skv)
    kind = desc["kind"]
    if kind == "none":
        keep = torch.ones(sq, skv, dtype=torch.bool, device=device)
    elif kind == "causal":
        keep = j <= i
    elif kind == "causal_bottom_right":
        keep = j <= i + (skv - sq)
    elif kind == "window":
        keep = (j >= i - desc["left"]) & (j <= i + desc["right"])
    elif kind == "prefix_lm":
        keep = (j <= i) | (j < desc["prefix"])
    elif kind == "causal_global":
        f = desc["first"]
        keep = (j <= i) | (j < f) | (i < f)
    elif kind == "document":
        keep = qids[:, :, None] == kvids[:, None, :]
        return keep.view(b, 1, sq, skv).expand(b, hq, sq, skv)
    else:
        raise ValueError(kind)
    return keep.view(1, 1, sq, skv).expand(b, hq, sq, skv)


def reference(torch, q, k, v, keep, softcap):
    """f64 attention: O and lse; fully masked rows give O = 0, lse = -inf."""
    hq, hkv = q.shape[1], k.shape[1]
    k = k.double().repeat_interleave(hq // hkv, dim=1)
    v = v.double().repeat_interleave(hq // hkv, dim=1)
    s = torch.matmul(q.double(), k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if softcap:
        s = softcap * torch.tanh(s / softcap)
    s = s.masked_fill(~keep, float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    p = torch.exp(s - lse.unsqueeze(-1)).nan_to_num(0.0)
    return torch.matmul(p, v), lse


def run_kernels(torch, rt, out, entry, chip, inputs, outputs, stream):
    contract = json.load(open(os.path.join(out, entry["chips"][chip]["contract"])))
    ptx = open(os.path.join(out, entry["chips"][chip]["ptx"])).read()
    module = rt.load(ptx)
    # Temporaries (run-time tile tables, i8) in their memref shapes.
    temps = [torch.empty(shape, dtype=torch.uint8, device="cuda")
             for shape in contract["temp_shapes"]]
    launches = []
    for kernel in contract["kernels"]:
        tensors = []
        for p in kernel["params"]:
            if p.startswith("arg"):
                tensors.append(inputs[int(p[3:])])
            elif p.startswith("result"):
                tensors.append(outputs[int(p[6:])])
            else:
                tensors.append(temps[int(p[4:])])
        launches.append((kernel, tensors))

    def go():
        for kernel, tensors in launches:
            rt.launch(module, kernel, tensors, stream)
    return go


def run(out, runtime_path, chip, repeats):
    import torch
    if not torch.cuda.is_available():
        print("gpu-check: no GPU: torch.cuda.is_available() is False; "
              "nothing was run", file=sys.stderr)
        return 2
    torch.cuda.init()
    rt = Runtime(runtime_path)
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    dtypes = {"f16": torch.float16, "bf16": torch.bfloat16}
    stream = torch.cuda.current_stream().cuda_stream
    gen = torch.Generator(device="cuda").manual_seed(int(time.time()))
    results = {"device": torch.cuda.get_device_name(), "chip": chip,
               "tests": [], "bench": []}
    failures = 0
    print(f"device: {results['device']}, PTX for {chip}")
    for entry in manifest["tests"]:
        b, hq, hkv, sq, skv, dqk, dv = entry["shape"]
        dt = dtypes[entry["dtype"]]
        rnd = lambda *s: torch.randn(*s, generator=gen, device="cuda").to(dt)
        q, k, v = rnd(b, hq, sq, dqk), rnd(b, hkv, skv, dqk), rnd(b, hkv, skv, dv)
        inputs = [q, k, v]
        qids = kvids = None
        if entry["mask"]["kind"] == "document":
            qids = torch.cumsum(torch.rand(b, sq, generator=gen, device="cuda")
                                < 0.03, dim=1).to(torch.int32)
            kvids = qids.clone() if sq == skv else torch.cumsum(
                torch.rand(b, skv, generator=gen, device="cuda") < 0.03,
                dim=1).to(torch.int32)
            inputs += [qids, kvids]
        o = torch.full((b, hq, sq, dv), float("nan"), device="cuda", dtype=dt)
        lse = torch.full((b, hq, sq), float("nan"), device="cuda")
        go = run_kernels(torch, rt, out, entry, chip, inputs, [o, lse], stream)
        go()
        torch.cuda.synchronize()
        keep = keep_matrix(torch, entry["mask"], b, hq, sq, skv, qids, kvids)
        ref_o, ref_lse = reference(torch, q, k, v, keep, entry["softcap"])
        err = (o.double() - ref_o).norm() / max(ref_o.norm().item(), 1e-30)
        finite = torch.isfinite(o).all().item()
        # Fully masked rows: lse = -inf exactly; the others within 2e-2.
        inf = torch.isinf(ref_lse)
        lse_ok = bool(torch.equal(torch.isinf(lse) & (lse < 0), inf)) and \
            bool(torch.allclose(lse.double()[~inf], ref_lse[~inf], atol=2e-2,
                                rtol=2e-2))
        ok = finite and err.item() <= 1e-2 and lse_ok
        failures += not ok
        results["tests"].append({"name": entry["name"], "rel_l2": err.item(),
                                 "lse_ok": bool(lse_ok), "pass": bool(ok)})
        print(f"{'PASS' if ok else 'FAIL'} {entry['name']}: rel L2 "
              f"{err.item():.2e}, lse {'ok' if lse_ok else 'WRONG'}")

    # Benchmarks against SDPA (flash) and FlexAttention, same inputs.
    from torch.nn.attention import SDPBackend, sdpa_kernel
    try:
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
        flex = torch.compile(flex_attention)
    except Exception as e:  # noqa: BLE001
        flex = None
        print(f"FlexAttention unavailable: {e}")

    def median_ms(fn):
        for _ in range(3):
            fn()
        times = []
        for _ in range(repeats):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
                enable_timing=True)
            s.record()
            fn()
            e.record()
            torch.cuda.synchronize()
            times.append(s.elapsed_time(e))
        return sorted(times)[len(times) // 2]

    print(f"\n{'kernel':36} {'attn ms':>9} {'TFLOP/s':>8} {'sdpa ms':>9} "
          f"{'x sdpa':>7} {'flex ms':>9} {'x flex':>7}")
    for entry in manifest["bench"]:
        b, h, _, s, _, d, _ = entry["shape"]
        dt = dtypes[entry["dtype"]]
        q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=dt)
                   for _ in range(3))
        o = torch.empty_like(q)
        lse = torch.empty(b, h, s, device="cuda")
        go = run_kernels(torch, rt, out, entry, chip, [q, k, v], [o, lse],
                         stream)
        mask = entry["mask"]
        kept = {"none": s * s, "causal": s * (s + 1) // 2,
                "window256": sum(min(i, 256) + 1 for i in range(s))}[mask]
        flops = 4 * b * h * kept * d
        t_attn = median_ms(go)
        row = {"name": entry["name"], "attn_ms": t_attn,
               "attn_tflops": flops / t_attn / 1e9}
        if mask in ("none", "causal"):
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                row["sdpa_ms"] = median_ms(
                    lambda: torch.nn.functional.scaled_dot_product_attention(
                        q, k, v, is_causal=mask == "causal"))
        if flex is not None:
            def mod(bi, hi, qi, ki):
                if mask == "none":
                    return qi >= 0
                if mask == "causal":
                    return ki <= qi
                return (ki <= qi) & (qi - ki <= 256)
            bm = create_block_mask(mod, None, None, s, s, device="cuda")
            row["flex_ms"] = median_ms(lambda: flex(q, k, v, block_mask=bm))
        results["bench"].append(row)
        ratio = lambda key: (f"{row[key] / t_attn:7.2f}" if key in row
                             else f"{'-':>7}")
        val = lambda key: f"{row[key]:9.3f}" if key in row else f"{'-':>9}"
        print(f"{entry['name']:36} {t_attn:9.3f} {row['attn_tflops']:8.1f} "
              f"{val('sdpa_ms')} {ratio('sdpa_ms')} {val('flex_ms')} "
              f"{ratio('flex_ms')}")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\n{len(results['tests']) - failures}/{len(results['tests'])} "
          f"kernels correct; results in {out}/results.json "
          "(x sdpa / x flex: peer time / attn time, > 1 means attn is faster)")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("out")
    p.add_argument("--attn-ptx", default=os.path.join(ROOT, "build/bin/attn-ptx"))
    p.add_argument("--chips", default="sm_80,sm_90")
    r = sub.add_parser("run")
    r.add_argument("out")
    r.add_argument("--runtime", required=True, help="libattn_runtime.so")
    r.add_argument("--chip", default=None,
                   help="which PTX to run (default: sm_90 on Hopper, else sm_80)")
    r.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.out, args.attn_ptx, args.chips.split(","))
        return 0
    chip = args.chip
    if chip is None:
        try:
            import torch
            major = torch.cuda.get_device_capability()[0] \
                if torch.cuda.is_available() else 8
        except ImportError:
            major = 8
        chip = "sm_90" if major >= 9 else "sm_80"
    return run(args.out, args.runtime, chip, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
