#!/usr/bin/env python3
"""Static SASS counts of an attention kernel's kv loop, by instruction class.

  bench/gpu/sass_loop.py KERNEL.ptx [--chip sm_80] [--kernel NAME]

Assembles the PTX with ptxas, disassembles it with cuobjdump (CUDA 13's
PyPI wheel nvidia-cuda-cuobjdump has it; --cuobjdump PATH), finds the kv
loop as the longest backward branch of the kernel and counts the
instructions between its target and the branch: the static code of one kv
tile, all its paths (full and partial tiles, softcap, mask) together, per
warp. The counts are what the static performance model reads (HMMA, LDSM,
LDGSTS, BAR, MUFU by function, FMUL/FADD/FFMA/FMNMX); they do not say how
often each path runs.
"""

import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

CLASSES = ["HMMA", "LDSM", "LDGSTS", "BAR", "MUFU.EX2", "MUFU.TANH",
           "MUFU.RCP", "FMUL", "FADD", "FFMA", "FMNMX", "CALL"]


def find_tool(name, given):
    if given:
        return given
    found = shutil.which(name)
    if found:
        return found
    for root in [os.environ.get("CUDA_HOME", ""), "/usr/local/cuda"]:
        path = os.path.join(root, "bin", name)
        if root and os.access(path, os.X_OK):
            return path
    wheels = glob.glob(os.path.join(sys.prefix, "lib", "python*",
                                    "site-packages", "nvidia", "cu*", "bin",
                                    name))
    if wheels:
        return wheels[0]
    sys.exit(f"sass_loop: {name} not found (pip install nvidia-cuda-{name}, "
             f"or --{name} PATH)")


def classify(opcode):
    for c in CLASSES:
        if opcode == c or opcode.startswith(c + "."):
            return c
    if opcode.startswith("MUFU"):
        return opcode
    return None


def loop_counts(sass, kernel):
    """(counts, total) of the longest backward branch's body in `kernel`."""
    functions = re.split(r"\n\s*Function : ", sass)
    body = next((f for f in functions if f.startswith(kernel)), None)
    if body is None:
        names = [f.split("\n")[0] for f in functions[1:]]
        sys.exit(f"sass_loop: no kernel {kernel} (kernels: {names})")
    insts = []
    for line in body.split("\n"):
        m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z0-9_.]+)"
                     r"(.*?);", line)
        if m:
            insts.append((int(m.group(1), 16), m.group(3), m.group(4)))
    best = None
    for addr, op, rest in insts:
        if op.startswith("BRA"):
            t = re.search(r"0x([0-9a-f]+)", rest)
            if t and int(t.group(1), 16) < addr:
                span = (int(t.group(1), 16), addr)
                if best is None or span[1] - span[0] > best[1] - best[0]:
                    best = span
    if best is None:
        sys.exit("sass_loop: no backward branch: the kernel has no kv loop")
    counts = collections.Counter()
    total = 0
    for addr, op, _ in insts:
        if best[0] <= addr <= best[1]:
            total += 1
            c = classify(op)
            if c:
                counts[c] += 1
    return counts, total


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("ptx")
    p.add_argument("--chip", default="sm_80")
    p.add_argument("--kernel", default="attention_kernel")
    p.add_argument("--ptxas")
    p.add_argument("--cuobjdump")
    args = p.parse_args()
    ptxas = find_tool("ptxas", args.ptxas)
    cuobjdump = find_tool("cuobjdump", args.cuobjdump)
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, "k.cubin")
        subprocess.run([ptxas, f"-arch={args.chip}", args.ptx, "-o", cubin],
                       check=True)
        sass = subprocess.run([cuobjdump, "-sass", cubin], check=True,
                              capture_output=True, text=True).stdout
    counts, total = loop_counts(sass, args.kernel)
    shown = [c for c in CLASSES if counts[c]] + sorted(
        c for c in counts if c not in CLASSES)
    print("| " + " | ".join(shown + ["total"]) + " |")
    print("|" + "---|" * (len(shown) + 1))
    print("| " + " | ".join(str(counts[c]) for c in shown) + f" | {total} |")


if __name__ == "__main__":
    main()
