#!/usr/bin/env python3
"""attn's GPU check: correctness of every kernel of the test matrix on a real
GPU, and timings against PyTorch SDPA (flash) and FlexAttention.

Two halves, because MLIR lives only on the build machine:

  prepare OUT  (build machine) writes the test matrix and the benchmark
               shapes as MLIR, compiles each with attn-ptx to PTX plus its
               JSON launch contract, and writes OUT/manifest.json. Every
               benchmark shape is compiled in several kernel
               configurations (bench_configs): the table's (plain name),
               the previous kernel's 64x64w4, FlashAttention-2's for the
               head dim (4 warps of 32 rows) and its tile with 8 warps of
               16 rows (".cfg-<config>"); a configuration attn-ptx refuses
               (register budget) is recorded, and reported, as refused.
  run OUT      (GPU machine: PyTorch, the CUDA driver, runtime/ built)
               loads each PTX through runtime/'s C API (ctypes), checks the
               tensors against the launch contract, launches on seeded
               random inputs with NaN-poisoned outputs and compares with an
               f64 PyTorch reference written here from the masks'
               definitions; then times the benchmark shapes (their outputs
               checked once too, in every kernel configuration, the peers
               once per shape) against scaled_dot_product_attention
               (flash backend) and FlexAttention in the same run; the
               benchmark table has a row per configuration (time, TFLOP/s,
               ratios to the table's configuration and the peers), also
               in OUT/results.md and results.json's bench_comparison. Every
               entry runs on its own: a failure is recorded (message and
               traceback) and the run goes on; OUT/results.json is
               rewritten after each entry; the table is printed at the end
               whatever happened. Exit code: 0 all passed, 1 something
               failed or was skipped, 2 no GPU.
  run OUT --self-test
               the same flow without a GPU and without torch: buffers come
               from the runtime's own allocator (attn_rt_alloc, filled with
               seeded pseudo-random bytes), the driver is the stand-in
               libcuda.so.1 of runtime/test/fake-cuda (ptxas-checked module
               loads, the driver's launch rules, host memory as device
               memory, kernels not executed). Numerical columns read
               "not run"; the exit code is 1 if any load or launch failed.

Timing: each sample is N back-to-back launches between two CUDA events, N
chosen so that a sample lasts at least --min-sample-ms; the per-launch
median (and min, p10, p90) over --samples samples is reported, N and the
statistics are recorded. The peers are timed the same way. At the
defaults (10 samples of >= 2 ms) the timing loops of the whole benchmark
set take a few seconds of GPU time (27 kernels and 17 peer timings: about
3 s at 150 TFLOP/s, 5 s at 75); module loads, the f64 checks and above
all FlexAttention's compiles take longer.

scripts/gpu-check is the one-command wrapper.
"""

import argparse
import concurrent.futures
import ctypes
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
import zlib
from array import array

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST_VERSION = 3

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
    # Causal intersected with a 256-key window: j in [i - 256, i].
    "window256": ("#attn.intersection<[#attn.causal, "
                  "#attn.window<left = 256, right = 0>]>",
                  {"kind": "window", "left": 256, "right": 0}),
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

# Benchmarks: (name, mask, dtype, B, Hq, Hkv, S, D). Each is compiled and
# timed in every kernel configuration of bench_configs (the table's keeps
# the plain name, the others add ".cfg-<config>").
BENCH = [
    ("dense_f16_b4_h16_s4096_d128", "none", "f16", 4, 16, 16, 4096, 128),
    ("causal_f16_b4_h16_s4096_d128", "causal", "f16", 4, 16, 16, 4096, 128),
    ("dense_bf16_b4_h16_s4096_d128", "none", "bf16", 4, 16, 16, 4096, 128),
    ("causal_bf16_b4_h16_s4096_d128", "causal", "bf16", 4, 16, 16, 4096, 128),
    ("dense_f16_b4_h16_s4096_d64", "none", "f16", 4, 16, 16, 4096, 64),
    ("causal_f16_b4_h16_s4096_d64", "causal", "f16", 4, 16, 16, 4096, 64),
    ("window256_f16_b1_h16_s16384_d128", "window256", "f16", 1, 16, 16, 16384,
     128),
    ("causal_f16_b1_h16_s16384_d128", "causal", "f16", 1, 16, 16, 16384, 128),
    ("causal_f16_gqa_b1_h32_kv8_s16384_d128", "causal", "f16", 1, 32, 8,
     16384, 128),
]

# FlashAttention-2's forward configuration per head dim (flash_fwd_launch_
# template.h on A100/H100: 128 x 128 at 64, 128 x 64 at 128, 4 warps of 32
# rows); attn-ptx may refuse it (its accumulators over the register
# budget), so its tile is also timed with 8 warps of one 16-row slab.
FA2_CONFIGS = {64: "128x128w4", 128: "128x64w4"}
FA2_TILE_8_WARPS = {64: "128x128w8", 128: "128x64w8"}
PREVIOUS_CONFIG = "64x64w4"   # the kernel before configurations


def table_config(d):
    """The name of the compiler's table choice (defaultGpuKernelConfig) by
    the head dim; the compiled entry records the contract's own."""
    if d <= 64:
        return "128x32w4q"  # Q in registers
    return "128x32w4" if d <= 128 else "64x64w4"


def bench_configs(d):
    """[(config or None, role, label)] a benchmark of head dim d is timed
    in: the table's first (None: no --kernel-config), then the previous
    kernel's, FlashAttention-2's and FA2's tile with 8 warps, each once
    (the table's not repeated)."""
    configs = [(None, "table", f"table {table_config(d)}"),
               (PREVIOUS_CONFIG, "previous", f"previous {PREVIOUS_CONFIG}")]
    if d in FA2_CONFIGS:
        configs.append((FA2_CONFIGS[d], "fa2", f"FA2 {FA2_CONFIGS[d]}"))
        configs.append((FA2_TILE_8_WARPS[d], "fa2_tile",
                        f"FA2 tile {FA2_TILE_8_WARPS[d]}"))
    seen, unique = {table_config(d)}, configs[:1]
    for c in configs[1:]:
        if c[0] not in seen:
            seen.add(c[0])
            unique.append(c)
    return unique


def config_entry_name(name, config):
    """A benchmark entry's name in one configuration (file-name safe)."""
    return name if config is None else f"{name}.cfg-{config}"


# The small set of `--quick` (CI self-test): segment ids (five arguments),
# GQA with a mask, decode (Sq = 1), and one benchmark shape in the table's
# configuration and the previous kernel's (the --kernel-config path).
QUICK = {"document_f16_mha_d64", "causal_bf16_gqa_d128", "decode_f16_gqa_d128",
         "causal_f16_b4_h16_s4096_d128",
         config_entry_name("causal_f16_b4_h16_s4096_d128", PREVIOUS_CONFIG)}


def attention_mlir(mask_attr, dtype, b, hq, hkv, sq, skv, dqk, dv, softcap,
                   segments):
    """The MLIR text of one attention function with static shapes."""
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


def kept_pairs(desc, sq, skv):
    """Kept (query, key) pairs of one head (for FLOP counts; no ids)."""
    kind = desc["kind"]
    if kind == "none":
        return sq * skv
    if kind == "causal":
        return sum(min(i + 1, skv) for i in range(sq))
    if kind == "window":
        return sum(max(0, min(skv - 1, i + desc["right"]) -
                       max(0, i - desc["left"]) + 1) for i in range(sq))
    return None


def matrix_entries(selected=None):
    """Every test and benchmark as a manifest entry (without compile data).

    An entry names its mask (a description the reference reads), dtype,
    shape [B, Hq, Hkv, Sq, Skv, Dqk, Dv], softcap, whether it takes segment
    ids, and the MLIR to compile (written to mlir_file). A benchmark comes
    once per kernel configuration: shape_name is the shape's (the table
    configuration's entry name), config the --kernel-config (None: the
    table's), config_role table / previous / fa2 / fa2_tile."""
    entries = []
    for (name, mask, dtype, b, hq, hkv, sq, skv, dqk, dv, softcap) in TESTS:
        attr, desc = MASKS[mask]
        segments = mask == "document"
        entries.append({
            "kind": "test", "name": name, "mask_name": mask, "mask": desc,
            "dtype": dtype, "shape": [b, hq, hkv, sq, skv, dqk, dv],
            "softcap": softcap, "segments": segments,
            "mlir_file": name + ".mlir",
            "mlir": attention_mlir(attr, dtype, b, hq, hkv, sq, skv, dqk, dv,
                                   softcap, segments)})
    for (name, mask, dtype, b, hq, hkv, s, d) in BENCH:
        attr, desc = MASKS[mask]
        kept = kept_pairs(desc, s, s)
        mlir = attention_mlir(attr, dtype, b, hq, hkv, s, s, d, d, None, False)
        for config, role, label in bench_configs(d):
            entries.append({
                "kind": "bench", "name": config_entry_name(name, config),
                "shape_name": name, "config": config, "config_role": role,
                "config_label": label, "mlir_file": name + ".mlir",
                "mask_name": mask, "mask": desc, "dtype": dtype,
                "shape": [b, hq, hkv, s, s, d, d], "softcap": None,
                "segments": False, "flops": 4 * b * hq * kept * d,
                "mlir": mlir})
    if selected is not None:
        entries = [e for e in entries if e["name"] in selected]
    return entries


def select_names(quick, only):
    """The entry names chosen by --quick / --only (None: all)."""
    names = None
    if quick:
        names = set(QUICK)
    if only:
        pattern = re.compile(only)
        every = {e["name"] for e in matrix_entries()}
        names = {n for n in (names or every) if pattern.search(n)}
    return names


# ---------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------

# attn-ptx's refusal of a kernel configuration (checkGpuKernelConfig); the
# group is the reason.
REFUSAL = re.compile(r"no GPU kernel \S+ \(tile_q x tile_kv, warps\)"
                     r"[^:\n]*: ([^\n]*)")


def refusal_reason(message):
    """Why attn-ptx refused a configuration (its message's reason)."""
    m = REFUSAL.search(message)
    return m.group(1).strip() if m else message.splitlines()[0]


def compile_one(out, attn_ptx, entry, chip):
    """attn-ptx on one entry for one chip (with its --kernel-config): file
    names, compile time and the kernel configuration the contract states
    (tiles, threads), or attn-ptx's refusal of the configuration
    ("refused"), or the compiler's error (the run reports either)."""
    mlir = os.path.join(out, entry["mlir_file"])
    prefix = os.path.join(out, f"{entry['name']}.{chip}")
    command = [attn_ptx, mlir, "-o", prefix, "--chip", chip]
    if entry.get("config"):
        command.append(f"--kernel-config={entry['config']}")
    for stale in (prefix + ".ptx", prefix + ".json"):
        if os.path.exists(stale):
            os.remove(stale)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    result = {"ptx": os.path.basename(prefix + ".ptx"),
              "contract": os.path.basename(prefix + ".json"),
              "compile_s": round(time.perf_counter() - start, 3)}
    if proc.returncode != 0:
        message = (f"attn-ptx exited with {proc.returncode}: "
                   + (proc.stderr or proc.stdout).strip()[-4000:])
        # The table's own choice refused is a compiler bug: an error.
        refused = entry.get("config") and REFUSAL.search(message)
        result["refused" if refused else "error"] = message
        return result
    if entry["kind"] == "bench":
        try:
            with open(prefix + ".json") as f:
                contract = json.load(f)
            result.update(contract_config(contract))
        except (OSError, ValueError, KeyError, IndexError) as exc:
            result["error"] = f"unreadable contract {prefix}.json: {exc}"
    return result


def contract_config(contract):
    """tiles, threads and the configuration's name (128x32w4) of a
    contract's attention kernel."""
    kernels = [k for k in contract["kernels"]
               if k["name"].startswith("attention_kernel")] or \
        contract["kernels"][:1]
    tile_q, tile_kv = contract["tiles"]
    threads = math.prod(kernels[0]["block"])
    return {"tiles": [tile_q, tile_kv], "threads": threads,
            "kernel_config": f"{tile_q}x{tile_kv}w{threads // 32}"}


def manifest_key(entry):
    """What of an entry decides its compile: name and configuration."""
    return [entry["name"], entry.get("config")]


def manifest_is_current(out, chips, names, attn_ptx):
    """Whether OUT/manifest.json holds exactly this selection (names and
    kernel configurations), compiled for these chips by this script's
    format, is newer than attn-ptx and has no compile error (a
    configuration attn-ptx refused stays refused until attn-ptx changes)."""
    path = os.path.join(out, "manifest.json")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    want = [manifest_key(e) for e in matrix_entries(names)]
    have = [manifest_key(e) for e in manifest.get("entries", [])]
    if manifest.get("version") != MANIFEST_VERSION or want != have or \
            manifest.get("chips") != chips:
        return False
    if os.path.exists(attn_ptx) and \
            os.path.getmtime(attn_ptx) > os.path.getmtime(path):
        return False
    return all("error" not in c and (
        "refused" in c or (os.path.exists(os.path.join(out, c["ptx"])) and
                           os.path.exists(os.path.join(out, c["contract"]))))
        for e in manifest["entries"] for c in e["chips"].values())


def prepare(out, attn_ptx, chips, names, jobs, if_stale):
    """Compiles the selection to OUT and writes OUT/manifest.json; 1 if some
    compile failed (the manifest then records its error; a configuration
    attn-ptx refuses is recorded as refused, not a failure)."""
    if if_stale and manifest_is_current(out, chips, names, attn_ptx):
        print(f"gpu-check: {out}/manifest.json is current", flush=True)
        return 0
    os.makedirs(out, exist_ok=True)
    entries = matrix_entries(names)
    for entry in entries:
        mlir = entry.pop("mlir")
        with open(os.path.join(out, entry["mlir_file"]), "w") as f:
            f.write(mlir)
    failed = refused = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {(i, chip): pool.submit(compile_one, out, attn_ptx, e, chip)
                   for i, e in enumerate(entries) for chip in chips}
        for i, entry in enumerate(entries):
            entry["chips"] = {chip: futures[(i, chip)].result()
                              for chip in chips}
            errors = [c for c, r in entry["chips"].items() if "error" in r]
            refusals = [c for c, r in entry["chips"].items()
                        if "refused" in r]
            failed += bool(errors)
            refused += bool(refusals)
            times = ", ".join(
                f"{c} {r['compile_s']:.1f} s"
                + (f" {r['kernel_config']}" if "kernel_config" in r else "")
                for c, r in entry["chips"].items())
            note = ""
            if errors:
                note += f": COMPILE ERROR for {', '.join(errors)}"
            if refusals:
                why = refusal_reason(entry["chips"][refusals[0]]["refused"])
                note += (f": configuration {entry['config']} refused by "
                         f"attn-ptx for {', '.join(refusals)} ({why})")
            print(f"prepared {entry['name']} ({times}){note}", flush=True)
    manifest = {"version": MANIFEST_VERSION, "chips": chips,
                "attn_ptx": attn_ptx, "entries": entries}
    write_json_atomic(os.path.join(out, "manifest.json"), manifest)
    benches = [e for e in entries if e["kind"] == "bench"]
    shapes = len({e["shape_name"] for e in benches})
    print(f"wrote {out}/manifest.json: "
          f"{sum(e['kind'] == 'test' for e in entries)} tests, "
          f"{len(benches)} benchmarks ({shapes} shapes x kernel "
          f"configurations), chips {', '.join(chips)}"
          + (f"; {refused} refused by attn-ptx" if refused else "")
          + (f"; {failed} failed to compile" if failed else ""), flush=True)
    return 1 if failed else 0


def write_json_atomic(path, data):
    """Writes JSON to a temporary file beside `path`, then renames it."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# The runtime (ctypes over runtime/'s C API) and the launch contract
# ---------------------------------------------------------------------------

class Tensor(ctypes.Structure):
    """attn_rt_tensor."""
    _fields_ = [("device_pointer", ctypes.c_uint64), ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * 8)]


class FunctionInfo(ctypes.Structure):
    """attn_rt_function_info."""
    _fields_ = [("static_shared_bytes", ctypes.c_int32),
                ("max_threads_per_block", ctypes.c_int32),
                ("num_registers", ctypes.c_int32),
                ("max_dynamic_shared_bytes", ctypes.c_int32)]


class RuntimeError_(Exception):
    """A call of the runtime's C API failed (its attn_rt_last_error)."""


class Runtime:
    """runtime/'s C API: module load, launches, device memory."""

    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        lib.attn_rt_last_error.restype = ctypes.c_char_p
        lib.attn_rt_module_load.argtypes = [
            ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.attn_rt_module_unload.argtypes = [ctypes.c_void_p]
        lib.attn_rt_module_unload.restype = None
        lib.attn_rt_launch_memrefs.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64),
            ctypes.POINTER(ctypes.c_int64), ctypes.c_int64, ctypes.c_void_p,
            ctypes.POINTER(Tensor), ctypes.c_size_t]
        lib.attn_rt_device_count.argtypes = [ctypes.POINTER(ctypes.c_int)]
        lib.attn_rt_alloc.argtypes = [ctypes.c_int, ctypes.c_size_t,
                                      ctypes.POINTER(ctypes.c_uint64)]
        lib.attn_rt_free.argtypes = [ctypes.c_uint64]
        lib.attn_rt_copy_to_device.argtypes = [ctypes.c_uint64,
                                               ctypes.c_void_p, ctypes.c_size_t]
        lib.attn_rt_copy_to_host.argtypes = [ctypes.c_void_p, ctypes.c_uint64,
                                             ctypes.c_size_t]
        lib.attn_rt_synchronize.argtypes = [ctypes.c_void_p]

    def check(self, rc, what):
        """Raises the runtime's message when `rc` is non-zero."""
        if rc != 0:
            raise RuntimeError_(f"{what}: "
                                + self.lib.attn_rt_last_error().decode())

    def device_count(self):
        count = ctypes.c_int(0)
        self.check(self.lib.attn_rt_device_count(ctypes.byref(count)),
                   "attn_rt_device_count")
        return count.value

    def load(self, ptx_text, device=0):
        module = ctypes.c_void_p()
        self.check(self.lib.attn_rt_module_load(device, ptx_text.encode(),
                                                ctypes.byref(module)),
                   "attn_rt_module_load")
        return module

    def function_info(self, module, kernel):
        """Registers, static shared memory and thread limit of a loaded
        kernel (attn_rt_function_info_get), or None where the runtime
        lacks it."""
        fn = getattr(self.lib, "attn_rt_function_info_get", None)
        if fn is None:
            return None
        info = FunctionInfo()
        fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                       ctypes.POINTER(FunctionInfo)]
        self.check(fn(module, kernel.encode(), ctypes.byref(info)),
                   f"attn_rt_function_info_get({kernel})")
        return {name: getattr(info, name) for name, _ in info._fields_}

    def unload(self, module):
        self.lib.attn_rt_module_unload(module)

    def alloc(self, nbytes, device=0):
        ptr = ctypes.c_uint64()
        self.check(self.lib.attn_rt_alloc(device, max(nbytes, 1),
                                          ctypes.byref(ptr)),
                   f"attn_rt_alloc({nbytes})")
        return ptr.value

    def free(self, ptr):
        self.check(self.lib.attn_rt_free(ptr), "attn_rt_free")

    def copy_to_device(self, ptr, data):
        # bytes pass as a pointer to their own storage (the C API only
        # reads them); anything else is copied into a ctypes buffer.
        buf = data if isinstance(data, bytes) else \
            (ctypes.c_char * len(data)).from_buffer_copy(data)
        self.check(self.lib.attn_rt_copy_to_device(ptr, buf, len(data)),
                   "attn_rt_copy_to_device")

    def copy_to_host(self, ptr, nbytes):
        buf = (ctypes.c_char * nbytes)()
        self.check(self.lib.attn_rt_copy_to_host(buf, ptr, nbytes),
                   "attn_rt_copy_to_host")
        return buf.raw

    def synchronize(self, stream):
        self.check(self.lib.attn_rt_synchronize(ctypes.c_void_p(stream)),
                   "attn_rt_synchronize")


class ContractError(Exception):
    """A tensor or a kernel does not match the launch contract."""


def load_kernel(out, entry, chip):
    """The entry's PTX text and parsed contract for `chip`, after checking
    that the contract's host signature is the entry's (stale kernels)."""
    files = entry["chips"].get(chip)
    if files is None:
        raise ContractError(f"no PTX for {chip} in the manifest "
                            f"(chips: {', '.join(entry['chips'])})")
    if "error" in files:
        raise ContractError("compile failed in prepare: " + files["error"])
    if "refused" in files:
        raise ContractError("attn-ptx refused the kernel configuration: "
                            + refusal_reason(files["refused"]))
    with open(os.path.join(out, files["contract"])) as f:
        contract = json.load(f)
    with open(os.path.join(out, files["ptx"])) as f:
        ptx = f.read()
    want_args, want_results = host_signature(entry)
    for role, want, have in (("arguments", want_args, contract["arguments"]),
                             ("results", want_results, contract["results"])):
        got = [(tuple(t["shape"]), t["dtype"]) for t in have]
        if got != want:
            raise ContractError(f"the contract's {role} {got} are not the "
                                f"entry's {want}: stale kernels? rerun "
                                "prepare")
    if len(contract["temp_bytes"]) != len(contract["temp_shapes"]):
        raise ContractError("temp_bytes and temp_shapes differ in length")
    return ptx, contract


def host_signature(entry):
    """[(shape, dtype)] of the arguments and results the entry expects."""
    b, hq, hkv, sq, skv, dqk, dv = entry["shape"]
    dt = entry["dtype"]
    args = [((b, hq, sq, dqk), dt), ((b, hkv, skv, dqk), dt),
            ((b, hkv, skv, dv), dt)]
    if entry["segments"]:
        args += [((b, sq), "i32"), ((b, skv), "i32")]
    results = [((b, hq, sq, dv), dt), ((b, hq, sq), "f32")]
    return args, results


DTYPE_BYTES = {"f16": 2, "bf16": 2, "f32": 4, "i32": 4, "i8": 1, "u8": 1}


def check_buffer(what, info, shape, dtype=None, nbytes=None):
    """Raises ContractError unless the buffer (backend.describe) has
    `shape` (negative dims are dynamic), `dtype`, is contiguous and holds
    at least `nbytes` bytes."""
    ptr, have_shape, have_dtype, contiguous, have_bytes = info
    if not ptr:
        raise ContractError(f"{what}: null device pointer")
    if dtype is not None:
        if len(have_shape) != len(shape) or any(
                d >= 0 and d != h for d, h in zip(shape, have_shape)):
            raise ContractError(f"{what}: shape {list(have_shape)}, the "
                                f"contract says {list(shape)}")
        if have_dtype != dtype:
            raise ContractError(f"{what}: dtype {have_dtype}, the contract "
                                f"says {dtype}")
    if not contiguous:
        raise ContractError(f"{what}: not contiguous")
    if nbytes is not None and have_bytes < nbytes:
        raise ContractError(f"{what}: {have_bytes} bytes, the contract needs "
                            f"{nbytes}")


class LaunchPlan:
    """Every kernel of a contract with its parameters resolved and checked;
    calling it launches them in order (ctypes arrays built once, so that a
    launch is one C call)."""

    def __init__(self, rt, backend, module, contract, inputs, outputs, temps):
        self.rt, self.module = rt, module
        self.stream = ctypes.c_void_p(backend.stream())
        self.kernels = []
        for kernel in contract["kernels"]:
            tensors = (Tensor * len(kernel["params"]))()
            for i, param in enumerate(kernel["params"]):
                ptr, shape = self.resolve(backend, contract, kernel, param,
                                          inputs, outputs, temps)
                tensors[i].device_pointer = ptr
                tensors[i].rank = len(shape)
                for d, n in enumerate(shape):
                    tensors[i].shape[d] = n
            self.kernels.append((
                kernel["name"].encode(), (ctypes.c_int64 * 3)(*kernel["grid"]),
                (ctypes.c_int64 * 3)(*kernel["block"]),
                int(kernel["dynamic_shared_bytes"]), tensors))

    @staticmethod
    def resolve(backend, contract, kernel, param, inputs, outputs, temps):
        """(pointer, shape) of one parameter (`argN`, `resultN`, `tempN`),
        checked against the contract."""
        match = re.fullmatch(r"(arg|result|temp)(\d+)", param)
        if not match:
            raise ContractError(f"kernel {kernel['name']}: unknown parameter "
                                f"'{param}'")
        role, index = match.group(1), int(match.group(2))
        what = f"kernel {kernel['name']} parameter {param}"
        if role == "temp":
            if index >= len(temps):
                raise ContractError(f"{what}: only {len(temps)} temporaries")
            shape = contract["temp_shapes"][index]
            info = backend.describe(temps[index])
            check_buffer(what, info, shape,
                         nbytes=contract["temp_bytes"][index])
            return info[0], shape
        buffers, specs = ((inputs, contract["arguments"]) if role == "arg"
                          else (outputs, contract["results"]))
        if index >= len(buffers) or index >= len(specs):
            raise ContractError(f"{what}: the host has {len(buffers)} "
                                f"{role}s, the contract {len(specs)}")
        spec = specs[index]
        info = backend.describe(buffers[index])
        nbytes = math.prod(spec["shape"]) * DTYPE_BYTES[spec["dtype"]]
        check_buffer(what, info, spec["shape"], spec["dtype"], nbytes)
        return info[0], list(info[1])

    def __call__(self):
        for name, grid, block, shared, tensors in self.kernels:
            self.rt.check(self.rt.lib.attn_rt_launch_memrefs(
                self.module, name, grid, block, shared, self.stream, tensors,
                len(tensors)), f"launch of {name.decode()}")


def loaded_libcuda():
    """Paths of the libcuda.so* mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "libcuda.so" in line}
    except OSError:
        return []
    return sorted(os.path.realpath(p) for p in paths if p.startswith("/"))


def is_stand_in(path):
    """Whether a libcuda path is the test tree's stand-in driver."""
    return "fake-cuda" in path or "fake_cuda" in path


# ---------------------------------------------------------------------------
# Device backends: torch tensors on a GPU, or runtime buffers (self-test)
# ---------------------------------------------------------------------------

class TorchBackend:
    """Tensors are torch CUDA tensors on the current stream; checks against
    an f64 torch reference; times with CUDA events; has the peers."""

    name = "gpu"
    numerics = True

    def __init__(self, rt):
        import torch
        self.torch, self.rt = torch, rt
        self.dtypes = {"f16": torch.float16, "bf16": torch.bfloat16,
                       "f32": torch.float32, "i32": torch.int32,
                       "u8": torch.uint8}
        self.names = {v: k for k, v in self.dtypes.items()}
        self.gen = None

    def device_name(self):
        t = self.torch
        cap = t.cuda.get_device_capability()
        return (f"{t.cuda.get_device_name()} (sm_{cap[0]}{cap[1]}), torch "
                f"{t.__version__}, CUDA {t.version.cuda}")

    def seed(self, seed):
        self.gen = self.torch.Generator(device="cuda").manual_seed(seed)

    def stream(self):
        return self.torch.cuda.current_stream().cuda_stream

    def randn(self, shape, dtype):
        return self.torch.randn(*shape, generator=self.gen, device="cuda",
                                dtype=self.torch.float32).to(self.dtypes[dtype])

    def segment_ids(self, b, s):
        """Nondecreasing document ids, a new document with probability 3%."""
        starts = self.torch.rand(b, s, generator=self.gen, device="cuda") < 0.03
        return self.torch.cumsum(starts, dim=1).to(self.torch.int32)

    def copy(self, t):
        return t.clone()

    def poisoned(self, shape, dtype):
        return self.torch.full(shape, float("nan"), device="cuda",
                               dtype=self.dtypes[dtype])

    def temp(self, nbytes):
        return self.torch.zeros(max(nbytes, 1), dtype=self.torch.uint8,
                                device="cuda")

    def describe(self, t):
        return (t.data_ptr(), tuple(t.shape), self.names.get(t.dtype),
                t.is_contiguous(), t.numel() * t.element_size())

    def synchronize(self):
        # Through the runtime: ctypes releases the GIL, so the watchdog
        # can report a kernel that never finishes.
        self.rt.synchronize(self.stream())

    def release(self, buffers):
        del buffers[:]

    def time_ms(self, fn, n):
        """GPU milliseconds of n back-to-back calls, and the host's time to
        issue them."""
        ev = self.torch.cuda.Event
        start, end = ev(enable_timing=True), ev(enable_timing=True)
        start.record()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        host = (time.perf_counter() - t0) * 1e3
        end.record()
        self.synchronize()
        return start.elapsed_time(end), host

    def check(self, entry, inputs, outputs, pairs, chunk_rows):
        """Compares O and lse with the f64 reference on the (batch, head)
        pairs `pairs`, `chunk_rows` query rows at a time."""
        return compare_with_reference(self.torch, entry, inputs, outputs,
                                      pairs, chunk_rows)

    def peers(self, entry, inputs):
        return torch_peers(self.torch, entry, inputs)


class RuntimeBackend:
    """Self-test: buffers from attn_rt_alloc (device memory of the stand-in
    driver), filled with seeded pseudo-random bytes from pure Python;
    outputs are copied back but not checked numerically (the stand-in does
    not execute kernels)."""

    name = "self-test"
    numerics = False
    POISON = 0xFF  # every byte 0xff: NaN in f16, bf16 and f32

    class Buffer:
        """A device allocation with the shape and dtype it stands for."""

        def __init__(self, ptr, shape, dtype, nbytes):
            self.ptr, self.shape, self.dtype, self.nbytes = (
                ptr, tuple(shape), dtype, nbytes)

    def __init__(self, rt):
        self.rt = rt
        self.rng = random.Random(0)

    def device_name(self):
        return (f"stand-in CUDA driver ({', '.join(loaded_libcuda()) or '?'}),"
                f" {self.rt.device_count()} device(s)")

    def seed(self, seed):
        self.rng = random.Random(seed)

    def stream(self):
        return 0

    def alloc(self, shape, dtype, data=None, nbytes=None):
        nbytes = nbytes if nbytes is not None else \
            math.prod(shape) * DTYPE_BYTES[dtype]
        buf = self.Buffer(self.rt.alloc(nbytes), shape, dtype, nbytes)
        if data is not None:
            self.rt.copy_to_device(buf.ptr, data)
        return buf

    CHUNK = 1 << 20

    def fill(self, buf, block):
        """Writes `block` over the buffer again and again, a copy per
        block (no host copy of the whole: inputs reach 128 MiB)."""
        for offset in range(0, buf.nbytes, len(block)):
            n = min(len(block), buf.nbytes - offset)
            self.rt.copy_to_device(buf.ptr + offset,
                                   block if n == len(block) else block[:n])

    def randn(self, shape, dtype):
        """Seeded pseudo-random bytes: a random MiB repeated (the stand-in
        does not read them; this keeps large inputs cheap)."""
        buf = self.alloc(shape, dtype)
        if buf.nbytes:
            self.fill(buf, self.rng.randbytes(min(buf.nbytes, self.CHUNK)))
        return buf

    def segment_ids(self, b, s):
        ids, doc = array("i"), 0
        for _ in range(b):
            doc = 0
            for _ in range(s):
                doc += self.rng.random() < 0.03
                ids.append(doc)
        return self.alloc((b, s), "i32", ids.tobytes())

    def copy(self, buf):
        return self.alloc(buf.shape, buf.dtype,
                          self.rt.copy_to_host(buf.ptr, buf.nbytes))

    def poisoned(self, shape, dtype):
        buf = self.alloc(shape, dtype)
        if buf.nbytes:
            self.fill(buf, bytes([self.POISON]) * min(buf.nbytes, self.CHUNK))
        return buf

    def temp(self, nbytes):
        return self.alloc((nbytes,), "u8", bytes(nbytes), nbytes)

    def describe(self, buf):
        return (buf.ptr, buf.shape, buf.dtype, True, buf.nbytes)

    def synchronize(self):
        self.rt.synchronize(0)

    def release(self, buffers):
        for buf in buffers:
            self.rt.free(buf.ptr)
        del buffers[:]

    def time_ms(self, fn, n):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        host = (time.perf_counter() - t0) * 1e3
        self.synchronize()
        return (time.perf_counter() - t0) * 1e3, host

    def check(self, entry, inputs, outputs, pairs, chunk_rows):
        """Copies the outputs back (the copy path); no numerics."""
        copied, untouched = 0, True
        poison = bytes([self.POISON]) * self.CHUNK
        for buf in outputs:
            for offset in range(0, buf.nbytes, self.CHUNK):
                n = min(self.CHUNK, buf.nbytes - offset)
                data = self.rt.copy_to_host(buf.ptr + offset, n)
                copied += len(data)
                untouched &= data == poison[:n]
        return {"numerics": "not run", "copied_back_bytes": copied,
                "outputs_still_poisoned": untouched,
                "pass": None}

    def peers(self, entry, inputs):
        return [(name, None, "not run (self-test: no torch)")
                for name in ("sdpa_flash", "flex")]


# ---------------------------------------------------------------------------
# The f64 reference (torch)
# ---------------------------------------------------------------------------

def keep_rows(torch, desc, rows, skv, sq, qids_b=None, kvids_b=None):
    """The kept elements [len(rows), Skv] of one (batch, head), from each
    mask's definition; qids_b/kvids_b: that batch's segment ids."""
    i = rows.view(-1, 1)
    j = torch.arange(skv, device=rows.device).view(1, skv)
    kind = desc["kind"]
    if kind == "none":
        return torch.ones(len(rows), skv, dtype=torch.bool, device=rows.device)
    if kind == "causal":
        return j <= i
    if kind == "causal_bottom_right":
        return j <= i + (skv - sq)
    if kind == "window":
        return (j >= i - desc["left"]) & (j <= i + desc["right"])
    if kind == "prefix_lm":
        return (j <= i) | (j < desc["prefix"])
    if kind == "causal_global":
        f = desc["first"]
        return (j <= i) | (j < f) | (i < f)
    if kind == "document":
        return qids_b[rows].view(-1, 1) == kvids_b.view(1, skv)
    raise ValueError(kind)


def compare_with_reference(torch, entry, inputs, outputs, pairs, chunk_rows):
    """rel L2 of O and the lse check against an f64 reference computed on
    the (batch, head) pairs `pairs`, `chunk_rows` query rows at a time (so
    that the f64 score block stays bounded for S = 16k). Fully masked rows:
    O = 0 and lse = -inf exactly; other lse within 2e-2."""
    b, hq, hkv, sq, skv, dqk, dv = entry["shape"]
    q, k, v = inputs[:3]
    qids, kvids = (inputs[3], inputs[4]) if entry["segments"] else (None, None)
    o, lse = outputs
    softcap = entry["softcap"]
    scale = 1.0 / math.sqrt(dqk)
    err2 = ref2 = 0.0
    lse_ok, finite, worst_lse = True, True, 0.0
    for (bi, hi) in pairs:
        hk = hi // (hq // hkv)
        kb, vb = k[bi, hk].double(), v[bi, hk].double()
        for r0 in range(0, sq, chunk_rows):
            rows = torch.arange(r0, min(sq, r0 + chunk_rows), device=q.device)
            s = (q[bi, hi, rows].double() @ kb.T) * scale
            if softcap:
                s = softcap * torch.tanh(s / softcap)
            keep = keep_rows(torch, entry["mask"], rows, skv, sq,
                             None if qids is None else qids[bi],
                             None if kvids is None else kvids[bi])
            s = s.masked_fill(~keep, float("-inf"))
            ref_lse = torch.logsumexp(s, dim=-1)
            p = torch.exp(s - ref_lse.unsqueeze(-1)).nan_to_num(0.0)
            ref_o = p @ vb
            got_o = o[bi, hi, rows].double()
            got_lse = lse[bi, hi, rows].double()
            finite &= bool(torch.isfinite(got_o).all())
            err2 += float(((got_o - ref_o) ** 2).sum())
            ref2 += float((ref_o ** 2).sum())
            inf = torch.isinf(ref_lse)
            lse_ok &= bool(torch.equal(torch.isinf(got_lse) & (got_lse < 0),
                                       inf))
            if (~inf).any():
                diff = (got_lse[~inf] - ref_lse[~inf]).abs()
                worst = float((diff / (1 + ref_lse[~inf].abs())).max())
                worst_lse = max(worst_lse, worst) if worst == worst else \
                    float("inf")
    lse_ok &= worst_lse <= 2e-2
    rel = math.sqrt(err2) / max(math.sqrt(ref2), 1e-30)
    if rel != rel:
        rel = float("inf")
    ok = finite and rel <= 1e-2 and lse_ok
    return {"rel_l2": rel, "lse_ok": lse_ok, "lse_max_rel_err": worst_lse,
            "finite": finite, "pass": ok,
            "checked": f"{len(pairs)} of {b * hq} (batch, head) pairs"}


def reference_pairs(entry, rng, max_elements):
    """The (batch, head) pairs to check: all of them when the f64 scores of
    all fit `max_elements`, else the first, the last and one seeded-random
    pair."""
    b, hq, _, sq, skv = entry["shape"][:5]
    every = [(bi, hi) for bi in range(b) for hi in range(hq)]
    if len(every) * sq * skv <= max_elements:
        return every
    chosen = {every[0], every[-1], rng.choice(every)}
    return sorted(chosen)


# ---------------------------------------------------------------------------
# Peers (torch): SDPA's flash backend and FlexAttention
# ---------------------------------------------------------------------------

_flex = {}


def torch_peers(torch, entry, inputs):
    """[(name, fn or None, note)] of the peers that compute the entry's
    attention; fn builds lazily (FlexAttention compiles on first call).
    With fewer K/V heads than query heads both take enable_gqa=True (torch
    2.5 and later; on an older torch the peer's error is recorded)."""
    q, k, v = inputs[:3]
    mask = entry["mask"]
    gqa = {"enable_gqa": True} if entry["shape"][1] != entry["shape"][2] \
        else {}
    peers = []
    if mask["kind"] in ("none", "causal") and not entry["softcap"]:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        def sdpa():
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                return torch.nn.functional.scaled_dot_product_attention(
                    q, k, v, is_causal=mask["kind"] == "causal", **gqa)
        peers.append(("sdpa_flash", sdpa, None))
    else:
        peers.append(("sdpa_flash", None, "n/a (no such mask in SDPA flash)"))

    def flex_fn():
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
        if "fn" not in _flex:
            # One compile per benchmark shape (and mask): more than
            # dynamo's default of 8 would fall back to eager FlexAttention
            # (every score materialised), timing the wrong thing.
            import torch._dynamo
            config = torch._dynamo.config
            for knob in ("cache_size_limit", "recompile_limit"):
                if isinstance(getattr(config, knob, None), int):
                    setattr(config, knob, max(getattr(config, knob), 64))
            _flex["fn"] = torch.compile(flex_attention)
        kind = mask["kind"]

        def mod(bi, hi, qi, ki):
            if kind == "none":
                return qi >= 0
            if kind == "causal":
                return ki <= qi
            return (ki <= qi + mask["right"]) & (ki >= qi - mask["left"])
        sq, skv = entry["shape"][3], entry["shape"][4]
        bm = create_block_mask(mod, None, None, sq, skv, device="cuda")
        return lambda: _flex["fn"](q, k, v, block_mask=bm, **gqa)
    if mask["kind"] in ("none", "causal", "window"):
        peers.append(("flex", flex_fn, "build"))
    else:
        peers.append(("flex", None, "n/a"))
    return peers


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def measure(backend, fn, min_sample_ms, samples, max_launches):
    """Per-launch statistics over `samples` samples of N back-to-back
    launches each, N chosen so that a sample lasts >= min_sample_ms."""
    fn()                                   # warm-up (and first-call costs)
    backend.synchronize()
    one, _ = backend.time_ms(fn, 3)
    per = max(one / 3, 1e-4)
    n = max(1, min(max_launches, math.ceil(min_sample_ms / per)))
    times, hosts = [], []
    for _ in range(samples):
        gpu, host = backend.time_ms(fn, n)
        times.append(gpu / n)
        hosts.append(host / n)
    ordered = sorted(times)
    pct = lambda p: ordered[min(len(ordered) - 1,
                                int(round(p * (len(ordered) - 1))))]
    return {"launches_per_sample": n, "samples": samples,
            "median_ms": statistics.median(times), "min_ms": ordered[0],
            "p10_ms": pct(0.1), "p90_ms": pct(0.9),
            "mean_ms": statistics.fmean(times),
            "host_issue_ms_median": statistics.median(hosts),
            "per_launch_ms": times}


# ---------------------------------------------------------------------------
# Results, the watchdog and the table
# ---------------------------------------------------------------------------

class Results:
    """results.json, rewritten (atomically) after every entry."""

    def __init__(self, path, header):
        self.path, self.lock = path, threading.Lock()
        self.data = dict(header, entries=[], complete=False)
        self.started = time.monotonic()

    def freeze(self):
        """From now on only this thread writes: a run being cut short by
        another thread (watchdog, SIGTERM) must not race the main one."""
        with self.lock:
            self.owner = threading.get_ident()

    def wait_if_frozen(self):
        owner = getattr(self, "owner", None)
        if owner is not None and owner != threading.get_ident():
            threading.Event().wait()       # until the process exits

    def add(self, entry):
        self.wait_if_frozen()
        with self.lock:
            self.data["entries"].append(entry)
        self.write()

    def write(self, **extra):
        self.wait_if_frozen()
        with self.lock:
            self.data.update(extra)
            self.data["elapsed_s"] = round(time.monotonic() - self.started, 2)
            write_json_atomic(self.path, self.data)


class Watchdog:
    """Ends the run (results written, table printed) when one entry takes
    longer than `limit_s`: a kernel that never finishes cannot be
    interrupted, and the device time is short."""

    def __init__(self, limit_s, on_expiry):
        self.limit_s, self.on_expiry = limit_s, on_expiry
        self.deadline, self.what = None, None
        self.cond = threading.Condition()
        if limit_s > 0:
            threading.Thread(target=self.loop, daemon=True).start()

    def arm(self, what):
        with self.cond:
            self.deadline, self.what = time.monotonic() + self.limit_s, what
            self.cond.notify()

    def disarm(self):
        with self.cond:
            self.deadline = None

    def loop(self):
        with self.cond:
            while True:
                if self.deadline is None:
                    self.cond.wait()
                    continue
                left = self.deadline - time.monotonic()
                if left > 0:
                    self.cond.wait(left)
                    continue
                break
        self.on_expiry(self.what)


def error_record(phase, exc):
    """An entry's error: phase, message and a short traceback."""
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"phase": phase, "message": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(tb[-4:])[-3000:]}


def cell(value, fmt, width):
    """A table cell: a number, or a word (ERR, skip, not run, -)."""
    text = format(value, fmt) if isinstance(value, (int, float)) else str(value)
    return f"{text:>{width}}"


def timing_cell(rec, numeric):
    """A time cell: the per-launch median, or ERR / skip / not run / -."""
    if rec is None:
        return "-"
    if "error" in rec:
        return "ERR"
    if rec.get("skipped"):
        return "skip"
    if "median_ms" in rec:
        return rec["median_ms"] if numeric else "not run"
    note = rec.get("note", "-")
    return "not run" if note.startswith("not run") else "-"


PEERS = ("sdpa_flash", "flex")
ROLE_NAMES = {"table": "table", "previous": "previous", "fa2": "FA2",
              "fa2_tile": "FA2 tile"}


def config_text(e):
    """A benchmark row's configuration: its role and the kernel
    configuration the contract states (else the one asked for)."""
    role = e.get("config_role", "table")
    config = e.get("kernel_config") or e.get("config") or \
        (e.get("config_label") or "").split(" ")[-1]
    return f"{ROLE_NAMES.get(role, role)} {config}".strip()


def median_of(rec, numeric):
    """The per-launch median of a timing record, or None."""
    if numeric and isinstance(rec, dict) and "median_ms" in rec:
        return rec["median_ms"]
    return None


def bench_comparison(entries, numeric):
    """Per benchmark shape and chip, one row per kernel configuration (the
    table's first, in run order): time, TFLOP/s and the ratios to the
    table's configuration and to each peer (theirs / this: > 1 means this
    row is faster). The peers are timed once per shape, with the table's
    configuration. Where a number is missing, `cells` says why (ERR, skip,
    refused, not run, -)."""
    groups = {}
    for e in entries:
        if e["kind"] == "bench":
            key = (e.get("shape_name", e["name"]), e["chip"])
            groups.setdefault(key, []).append(e)
    shapes = []
    for (shape, chip), recs in groups.items():
        base = next((r for r in recs if r.get("config") is None), None)
        base_ms = median_of(base.get("attn"), numeric) if base else None
        peer_recs = (base or {}).get("peers", {})
        peer_ms = {n: median_of(peer_recs.get(n), numeric) for n in PEERS}
        rows = []
        for r in recs:
            ms = median_of(r.get("attn"), numeric)
            row = {"name": r["name"], "config": config_text(r),
                   "config_role": r.get("config_role", "table"),
                   "kernel_config": r.get("kernel_config"),
                   "status": r["status"], "median_ms": ms,
                   "tflops": r["flops"] / ms / 1e9 if ms else None,
                   "x_table": base_ms / ms if ms and base_ms else None}
            for n in PEERS:
                row["x_" + n] = peer_ms[n] / ms if ms and peer_ms[n] else None
            row["cells"] = bench_row_cells(r, row, base, numeric)
            rows.append(row)
        label = recs[0]["label"]
        shapes.append({"shape": shape, "chip": chip,
                       "label": shape + label[len(recs[0]["name"]):],
                       "peers_ms": peer_ms, "rows": rows})
    return shapes


def bench_row_cells(e, row, base, numeric):
    """The printed cells of one configuration's row: check, attn ms,
    TFLOP/s, x table, then (ms, x) per peer; the peers' times only on the
    table configuration's row (blank on the others). A cell without a
    number says why: this row's ERR / skip / not run / refused, or for a
    ratio whose other side is missing, that side's word (-: not there)."""
    peer_ms_cell = lambda word: word if e is base else ""
    if e["status"] in ("skipped", "refused"):
        word = "skip" if e["status"] == "skipped" else "-"
        first = "skip" if e["status"] == "skipped" else "refused"
        return [first, word, word, word] + sum(
            ([peer_ms_cell(word), word] for _ in PEERS), [])
    check = e.get("check")
    cells = ["ERR" if check is None else "not run" if not numeric
             else "pass" if check.get("pass") else "FAIL"]
    attn = timing_cell(e.get("attn"), numeric) if "attn" in e else "ERR"
    measured = isinstance(attn, float)
    cells += [attn, row["tflops"] if measured else attn,
              (row["x_table"] if row["x_table"] is not None else "-")
              if measured else attn]
    for n in PEERS:
        peers = (base or {}).get("peers")
        t = timing_cell(peers.get(n), numeric) if peers is not None else "-"
        ratio = row["x_" + n] if row["x_" + n] is not None else \
            (t if not isinstance(t, float) else "-")
        cells += [peer_ms_cell(t), ratio if measured else attn]
    return cells


BENCH_COLUMNS = [("check", 8, ""), ("attn ms", 9, ".3f"),
                 ("TFLOP/s", 8, ".1f"), ("x table", 8, ".2f"),
                 ("sdpa ms", 9, ".3f"), ("x sdpa", 7, ".2f"),
                 ("flex ms", 9, ".3f"), ("x flex", 7, ".2f")]
BENCH_NOTE = ("(per-launch medians; x table / x sdpa / x flex: the table "
              "configuration's / the peer's time over this row's, > 1 means "
              "this row is faster; the peers are timed once per shape, with "
              "the table's configuration)")


def print_tables(results, mode):
    """The tests' and the benchmarks' tables from results.json's entries
    (a benchmark: a line per shape, then a row per kernel configuration);
    failed cells read ERR, skipped ones skip, refused configurations
    refused."""
    entries = results.data["entries"]
    numeric = mode == "gpu"
    print(f"\n{'test':40} {'status':>8} {'rel L2':>9} {'lse':>7}", flush=True)
    for e in entries:
        if e["kind"] != "test":
            continue
        c = e.get("check") or {}
        if e["status"] in ("error", "skipped"):
            rel = lse = "ERR" if e["status"] == "error" else "skip"
        elif not numeric:
            rel = lse = "not run"
        else:
            rel, lse = c["rel_l2"], "ok" if c["lse_ok"] else "WRONG"
        print(f"{e['label']:40} {e['status']:>8} {cell(rel, '.2e', 9)} "
              f"{cell(lse, '', 7)}")
    print(f"\n{'benchmark / kernel configuration':40} " +
          " ".join(f"{name:>{w}}" for name, w, _ in BENCH_COLUMNS))
    for shape in results.data.get("bench_comparison") or \
            bench_comparison(entries, numeric):
        print(shape["label"])
        for row in shape["rows"]:
            print(f"  {row['config']:38} " + " ".join(
                cell(v, f, w) if v != "" else " " * w
                for v, (_, w, f) in zip(row["cells"], BENCH_COLUMNS)))
    print(BENCH_NOTE, flush=True)


def markdown_tables(comparison):
    """The benchmarks' comparison as a markdown table (results.md)."""
    lines = ["| benchmark | kernel configuration | " +
             " | ".join(name for name, _, _ in BENCH_COLUMNS) + " |",
             "|---|---|" + "---:|" * len(BENCH_COLUMNS)]
    for shape in comparison:
        for n, row in enumerate(shape["rows"]):
            lines.append(
                f"| {shape['label'] if n == 0 else ''} | {row['config']} | " +
                " | ".join(cell(v, f, 0).strip() if v != "" else ""
                           for v, (_, _, f) in zip(row["cells"],
                                                   BENCH_COLUMNS)) + " |")
    return "\n".join(lines) + "\n\n" + BENCH_NOTE + "\n"


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------

def log(text):
    print(text, flush=True)


class Runner:
    """Runs every entry of a manifest on a backend, each on its own."""

    def __init__(self, args, rt, backend, manifest, chips, results):
        self.args, self.rt, self.backend = args, rt, backend
        self.manifest, self.chips, self.results = manifest, chips, results
        self.start = time.monotonic()
        self.current, self.current_peer = None, None
        self.pending, self.deferred = [], []
        self.watchdog = Watchdog(0, None)  # run() installs the real one

    def stop(self, what, reason):
        """The end of a run cut short (watchdog, SIGTERM): the entry (or
        peer) under way gets the error, everything not run yet is recorded
        as skipped."""
        error = {"phase": "timeout", "message": f"{what}: {reason}; run "
                 "stopped", "traceback": ""}
        if self.current_peer is not None:
            rec, name = self.current_peer
            rec["peers"][name] = {"error": error}
            if self.current is None:
                self.results.write()
        if self.current is not None:
            rec = self.current
            rec["status"] = "error"
            rec["error"] = dict(error, phase="timeout " + rec.pop("phase", ""))
            if "peers" in rec:
                for name in ("sdpa_flash", "flex"):
                    rec["peers"].setdefault(name, {"note": "skip",
                                                   "skipped": True})
            self.results.add(rec)
        for entry, chip in self.pending:
            rec = entry_record(entry, chip, self.chips)
            refused = entry.get("chips", {}).get(chip, {}).get("refused")
            if refused:                  # known without running it
                rec.update(status="refused", refused=refusal_reason(refused))
            else:
                rec.update(status="skipped", reason=f"run stopped: {reason}")
            self.results.add(rec)
        for later in self.deferred:
            for name, _ in later.peers:
                later.rec["peers"].setdefault(
                    name, {"note": "skip", "skipped": True})

    def over_budget(self):
        return self.args.budget_s > 0 and \
            time.monotonic() - self.start > self.args.budget_s

    def entry_seed(self, name, chip):
        """A seed per entry, from --seed and the entry's name (a
        benchmark's shape name: every kernel configuration of a shape gets
        the same inputs): an entry's inputs do not depend on which others
        ran."""
        return (self.args.seed * 1000003 +
                zlib.crc32(f"{name}/{chip}".encode())) % (1 << 62)

    def setup(self, entry, chip, rec, buffers):
        """Loads the module, allocates inputs, poisoned outputs and the
        temporaries (by the contract's byte counts) and builds the plan."""
        rec["phase"] = "load"
        ptx, contract = load_kernel(self.args.out, entry, chip)
        module = self.rt.load(ptx)
        rec["kernels"] = [{"name": k["name"], "grid": k["grid"],
                           "block": k["block"],
                           "dynamic_shared_bytes": k["dynamic_shared_bytes"]}
                          for k in contract["kernels"]]
        rec["temp_bytes"] = contract["temp_bytes"]
        rec["phase"] = "inputs"
        seed = self.entry_seed(entry.get("shape_name", entry["name"]), chip)
        rec["seed"] = seed
        self.backend.seed(seed)
        b, hq, hkv, sq, skv, dqk, dv = entry["shape"]
        dt = entry["dtype"]
        inputs = [self.backend.randn((b, hq, sq, dqk), dt),
                  self.backend.randn((b, hkv, skv, dqk), dt),
                  self.backend.randn((b, hkv, skv, dv), dt)]
        if entry["segments"]:
            qids = self.backend.segment_ids(b, sq)
            kvids = self.backend.copy(qids) if sq == skv else \
                self.backend.segment_ids(b, skv)
            inputs += [qids, kvids]
        outputs = [self.backend.poisoned((b, hq, sq, dv), dt),
                   self.backend.poisoned((b, hq, sq), "f32")]
        temps = [self.backend.temp(n) for n in contract["temp_bytes"]]
        buffers += inputs + outputs + temps
        rec["phase"] = "contract"
        plan = LaunchPlan(self.rt, self.backend, module, contract, inputs,
                          outputs, temps)
        return module, plan, inputs, outputs

    def run_entry(self, entry, chip):
        """One test or benchmark: launch once and check; a benchmark is then
        timed, in its table configuration with SDPA (the peers are the same
        for every configuration of a shape). Returns the record and, for a
        benchmark whose FlexAttention is to be timed later, a Deferred
        (else None). A configuration attn-ptx refused is recorded as
        refused, without a launch."""
        rec = entry_record(entry, chip, self.chips)
        label = rec["label"]
        self.current = rec
        files = entry.get("chips", {}).get(chip, {})
        if "refused" in files:
            rec["status"] = "refused"
            rec["refused"] = refusal_reason(files["refused"])
            log(f"REFUSED {label}: attn-ptx refused {entry.get('config')}: "
                f"{rec['refused']}")
            return rec, None
        if self.over_budget():
            rec["status"] = "skipped"
            rec["reason"] = f"over the {self.args.budget_s} s budget"
            log(f"SKIP {label}: over the {self.args.budget_s} s budget")
            return rec, None
        log(f"... {label}")
        self.watchdog.arm(label)
        started = time.monotonic()
        buffers, module, deferred = [], None, None
        try:
            module, plan, inputs, outputs = self.setup(entry, chip, rec,
                                                       buffers)
            rec["phase"] = "launch"
            plan()
            self.backend.synchronize()
            for k in rec["kernels"]:
                k["driver"] = self.rt.function_info(module, k["name"])
            rec["phase"] = "check"
            pairs = reference_pairs(entry, random.Random(rec["seed"]),
                                    self.args.reference_elements)
            chunk = max(1, self.args.reference_elements // 16 //
                        max(entry["shape"][4], 1))
            rec["check"] = self.backend.check(entry, inputs, outputs, pairs,
                                              chunk)
            if entry["kind"] == "bench":
                rec["phase"] = "time"
                rec["attn"] = measure(self.backend, plan,
                                      self.args.min_sample_ms,
                                      self.args.samples, self.args.max_launches)
                if entry.get("config") is None:   # the table's config
                    deferred = self.time_peers(entry, rec, inputs, buffers,
                                               module)
            del rec["phase"]
            rec["status"] = self.status(rec)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            rec["error"] = error_record(rec.pop("phase", "?"), exc)
            rec["status"] = "error"
            deferred = None
        finally:
            self.watchdog.disarm()
            rec["wall_s"] = round(time.monotonic() - started, 3)
            if deferred is None:
                self.release(buffers, module)
        self.report(rec)
        return rec, deferred

    def time_peers(self, entry, rec, inputs, buffers, module):
        """SDPA now, FlexAttention after all benchmarks (the Deferred
        returned, or None): once per shape, with the table's kernel
        configuration; the other configurations' ratios use these."""
        rec["peers"] = {}
        later = []
        for name, fn, note in self.backend.peers(entry, inputs):
            if note == "build":
                later.append((name, fn))   # after all benchmarks
            else:
                rec["peers"][name] = self.time_peer(rec["label"], name, fn,
                                                    note)
        return Deferred(rec, later, buffers, module) if later else None

    def status(self, rec):
        """pass / fail (numerics) or ok (self-test: loaded and launched)."""
        check = rec.get("check", {})
        if check.get("pass") is None:
            return "ok"
        return "pass" if check["pass"] else "fail"

    def time_peer(self, label, name, fn, note):
        """One peer's timing (or why it was not measured), on its own."""
        if fn is None:
            return {"note": note}
        if self.over_budget():
            return {"note": "skip", "skipped": True}
        self.watchdog.arm(f"{label} {name}")
        self.current_peer = (self.current or self.deferred[0].rec, name)
        try:
            t0 = time.monotonic()
            if note == "build":
                fn = fn()
            rec = measure(self.backend, fn, self.args.min_sample_ms,
                          self.args.samples, self.args.max_launches)
            rec["first_call_and_timing_s"] = round(time.monotonic() - t0, 2)
            return rec
        except Exception as exc:  # noqa: BLE001
            log(f"  {name} on {label}: ERROR {type(exc).__name__}: {exc}")
            return {"error": error_record("time", exc)}
        finally:
            self.watchdog.disarm()
            self.current_peer = None

    def release(self, buffers, module):
        try:
            self.backend.release(buffers)
            if module is not None:
                self.rt.unload(module)
        except Exception as exc:  # noqa: BLE001
            log(f"  (releasing buffers failed: {exc})")

    def report(self, rec):
        """One progress line."""
        label = rec["label"]
        if rec["status"] == "error":
            log(f"ERROR {label} ({rec['error']['phase']}): "
                f"{rec['error']['message'].splitlines()[0][:300]}")
            return
        c = rec.get("check", {})
        text = (f"rel L2 {c['rel_l2']:.2e}, lse "
                f"{'ok' if c['lse_ok'] else 'WRONG'} ({c['checked']})"
                if "rel_l2" in c else
                f"loaded, launched, {c.get('copied_back_bytes', 0)} bytes "
                "copied back; numerics not run")
        if "attn" in rec:
            a = rec["attn"]
            text += (f"; attn {a['median_ms']:.3f} ms median of "
                     f"{a['samples']} x {a['launches_per_sample']} launches")
        log(f"{rec['status'].upper()} {label}: {text}")

    def run(self):
        """Tests first, then benchmarks (attn and SDPA), then FlexAttention
        (its compiles are the slowest part)."""
        entries = sorted(self.manifest["entries"],
                         key=lambda e: e["kind"] != "test")
        self.pending = [(e, chip) for e in entries for chip in self.chips]
        deferred = []
        while self.pending:
            entry, chip = self.pending.pop(0)
            rec, later = self.run_entry(entry, chip)
            self.current = None
            self.results.add(rec)
            if later is not None:
                deferred.append(later)
        self.deferred = deferred
        while self.deferred:
            later = self.deferred[0]
            try:
                for name, build in later.peers:
                    log(f"... {later.rec['label']} {name}")
                    peer = self.time_peer(later.rec["label"], name, build,
                                          "build")
                    later.rec["peers"][name] = peer
                    if "median_ms" in peer:
                        log(f"  {name}: {peer['median_ms']:.3f} ms")
            finally:
                self.release(later.buffers, later.module)
                self.deferred.pop(0)
            self.results.write()


def entry_record(entry, chip, chips):
    """The start of an entry's record in results.json: what it is (for a
    benchmark also its shape, kernel configuration and FLOPs)."""
    rec = {"kind": entry["kind"], "name": entry["name"], "chip": chip,
           "label": entry["name"] + ("" if len(chips) == 1 else f"@{chip}"),
           "status": "error"}
    if entry["kind"] == "bench":
        files = entry.get("chips", {}).get(chip, {})
        rec.update({
            "flops": entry["flops"],
            "shape_name": entry.get("shape_name", entry["name"]),
            "config": entry.get("config"),
            "config_role": entry.get("config_role", "table"),
            "config_label": entry.get("config_label", ""),
            "kernel_config": files.get("kernel_config"),
            "tiles": files.get("tiles"), "threads": files.get("threads")})
    return rec


class Deferred:
    """A benchmark's peers timed after all benchmarks, and the buffers and
    module kept alive for them."""

    def __init__(self, rec, peers, buffers, module):
        self.rec, self.peers, self.buffers, self.module = (
            rec, peers, buffers, module)


def summarize(entries, mode):
    """Counts and the exit code: 0 all passed (self-test: all loaded and
    launched; a kernel configuration attn-ptx refused is reported, not a
    failure), 1 otherwise."""
    counts = {}
    peer_errors = 0
    for e in entries:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
        for p in e.get("peers", {}).values():
            peer_errors += "error" in p or bool(p.get("skipped"))
    good = {"ok" if mode == "self-test" else "pass", "refused"}
    bad = sum(n for s, n in counts.items() if s not in good)
    return {"counts": counts, "peer_errors_or_skips": peer_errors,
            "exit_code": 1 if bad or peer_errors else 0}


def open_runtime(args):
    """The runtime, after making sure the driver is the expected one (the
    stand-in for --self-test, never the stand-in otherwise); (rt, None) or
    (None, message)."""
    try:
        rt = Runtime(args.runtime)
    except OSError as exc:
        return None, f"cannot load the runtime {args.runtime}: {exc}"
    if rt.lib.attn_rt_init() != 0:
        return None, rt.lib.attn_rt_last_error().decode()
    drivers = loaded_libcuda()
    stand_in = [p for p in drivers if is_stand_in(p)]
    if args.self_test and not stand_in:
        return None, ("the self-test needs the stand-in libcuda.so.1 "
                      "(runtime/test/fake-cuda) first on LD_LIBRARY_PATH; "
                      f"loaded: {', '.join(drivers) or 'none'}")
    if not args.self_test and stand_in:
        return None, ("the stand-in driver was loaded for a real run "
                      f"({', '.join(stand_in)}): remove it from "
                      "LD_LIBRARY_PATH")
    return rt, None


def run(args):
    """The run subcommand; returns the exit code."""
    mode = "self-test" if args.self_test else "gpu"
    log(f"gpu-check: seed {args.seed} (--seed to change)")
    if not args.self_test:
        try:
            import torch
        except ImportError:
            log("gpu-check: no GPU: PyTorch is not installed; nothing was run")
            return 2
        if not torch.cuda.is_available():
            log("gpu-check: no GPU: torch.cuda.is_available() is False; "
                "nothing was run")
            return 2
        torch.cuda.init()
    rt, problem = open_runtime(args)
    if rt is None:
        log(f"gpu-check: {'self-test: ' if args.self_test else 'no GPU: '}"
            f"{problem}")
        return 1 if args.self_test else 2
    with open(os.path.join(args.out, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("version") != MANIFEST_VERSION:
        log(f"gpu-check: {args.out}/manifest.json is from an older "
            "gpu_check.py: rerun prepare")
        return 1
    if args.only:
        pattern = re.compile(args.only)
        manifest["entries"] = [e for e in manifest["entries"]
                               if pattern.search(e["name"])]
    backend = (RuntimeBackend if args.self_test else TorchBackend)(rt)
    chips = choose_chips(args, manifest)
    header = {"version": 3, "mode": mode, "seed": args.seed,
              "device": backend.device_name(), "chips": chips,
              "timing": {"method": "N back-to-back launches per sample "
                                   "between CUDA events; per-launch stats",
                         "min_sample_ms": args.min_sample_ms,
                         "samples": args.samples,
                         "max_launches": args.max_launches},
              "reference": {"kind": "f64 torch",
                            "max_score_elements": args.reference_elements},
              "budget_s": args.budget_s}
    results = Results(args.results or os.path.join(args.out, "results.json"),
                      header)
    log(f"device: {header['device']}; PTX for {', '.join(chips)}; "
        f"{len(manifest['entries'])} entries; results in {results.path}")
    if args.self_test:
        log("numerics not run: the stand-in driver does not execute kernels; "
            "every module is loaded, every kernel launched by its contract")
    else:
        log("benchmarks: O and lse checked once against the f64 reference, "
            "on every (batch, head) pair when their scores fit "
            f"{args.reference_elements} elements, else on 3 pairs (first, "
            "last, one seeded), in chunks of query rows")
    runner = Runner(args, rt, backend, manifest, chips, results)

    def cut_short(what, reason):
        if not stopping.acquire(blocking=False):
            threading.Event().wait()       # the other one is stopping it
        results.freeze()
        log(f"\ngpu-check: {what}: {reason}: stopping")
        runner.stop(what, reason)
        finish(results, mode)
        os._exit(1)

    stopping = threading.Lock()

    def expired(what):
        cut_short(what, f"no result within {args.entry_timeout_s} s "
                        "(kernel hang?)")
    on_sigterm(lambda: cut_short(runner.current["label"] if runner.current
                                 else "the run", "terminated (SIGTERM)"))
    runner.watchdog = Watchdog(args.entry_timeout_s, expired)
    try:
        runner.run()
    finally:
        code = finish(results, mode)
    return code


def on_sigterm(action):
    """Runs `action` on a thread of its own when SIGTERM arrives, even while
    the main thread waits in a driver call (the signal's wakeup byte goes
    to a pipe that thread reads), so that a run stopped by a time limit
    still writes its results and prints its table."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd)
    signal.signal(signal.SIGTERM, lambda *_: None)

    def wait():
        while os.read(read_fd, 1)[0] != signal.SIGTERM:
            pass
        action()
    threading.Thread(target=wait, daemon=True).start()


def finish(results, mode):
    """Summary, results.json (complete), the tables; the exit code."""
    summary = summarize(results.data["entries"], mode)
    comparison = bench_comparison(results.data["entries"], mode == "gpu")
    results.write(summary=summary, bench_comparison=comparison,
                  complete=True)
    markdown = os.path.splitext(results.path)[0] + ".md"
    try:
        with open(markdown, "w") as f:
            f.write(markdown_tables(comparison))
    except OSError as exc:
        log(f"gpu-check: cannot write {markdown}: {exc}")
    print_tables(results, mode)
    log(f"\n{summary['counts']}; peer errors/skips: "
        f"{summary['peer_errors_or_skips']}; results in {results.path}, "
        f"the benchmarks' table also in {markdown}")
    return summary["exit_code"]


def choose_chips(args, manifest):
    """--chip, or every chip of the manifest for the self-test, or sm_90 on
    Hopper and later, else sm_80."""
    if args.chip:
        return args.chip.split(",")
    if args.self_test:
        return list(manifest["chips"])
    import torch
    major = torch.cuda.get_device_capability()[0]
    return ["sm_90" if major >= 9 else "sm_80"]


def main():
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="compile the kernels (build machine)")
    p.add_argument("out")
    p.add_argument("--attn-ptx", default=os.path.join(ROOT, "build/bin/attn-ptx"))
    p.add_argument("--chips", default="sm_80,sm_90")
    p.add_argument("--quick", action="store_true",
                   help="only the small CI subset: " + ", ".join(sorted(QUICK)))
    p.add_argument("--only", help="regex: only the entries it matches")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--if-stale", action="store_true",
                   help="do nothing when OUT/manifest.json is current")
    r = sub.add_parser("run", help="run the kernels (GPU machine)")
    r.add_argument("out")
    r.add_argument("--runtime", required=True, help="libattn_runtime.so")
    r.add_argument("--self-test", action="store_true",
                   help="no GPU, no torch: the stand-in driver")
    r.add_argument("--chip", default=None,
                   help="which PTX to run, comma-separated (default: sm_90 "
                        "on Hopper, else sm_80; self-test: all)")
    r.add_argument("--only", help="regex: only the entries it matches")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--samples", type=int, default=10,
                   help="timing samples per kernel")
    r.add_argument("--min-sample-ms", type=float, default=2.0,
                   help="launches per sample are chosen to last this long")
    r.add_argument("--max-launches", type=int, default=200,
                   help="cap on launches per sample")
    r.add_argument("--reference-elements", type=int, default=1 << 28,
                   help="f64 score elements above which a benchmark is "
                        "checked on a few (batch, head) pairs")
    r.add_argument("--budget-s", type=float, default=420,
                   help="skip the remaining entries after this many seconds "
                        "(0: no limit)")
    r.add_argument("--entry-timeout-s", type=float, default=180,
                   help="stop the run when one entry takes longer (0: never)")
    r.add_argument("--results", help="default OUT/results.json")
    args = parser.parse_args()
    if args.command == "prepare":
        return prepare(args.out, args.attn_ptx, args.chips.split(","),
                       select_names(args.quick, args.only), args.jobs,
                       args.if_stale)
    if args.self_test:
        args.samples = min(args.samples, 2)
        args.max_launches = min(args.max_launches, 2)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
