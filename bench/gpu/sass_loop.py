#!/usr/bin/env python3
"""Static SASS counts of an attention kernel's kv loop, by instruction class.

  bench/gpu/sass_loop.py KERNEL.ptx [--chip sm_80] [--kernel NAME]

Assembles the PTX with ptxas, disassembles it with cuobjdump (CUDA 13's
PyPI wheel nvidia-cuda-cuobjdump has it; --cuobjdump PATH), finds the kv
loop as the longest backward branch of the kernel and counts the
instructions between its target and the branch: the static code of one kv
tile, all its paths (full and partial tiles, softcap, mask) together, per
warp. The counts are what the static performance model reads (HMMA, LDSM,
LDGSTS, BAR, MUFU by function, SHFL, FMUL/FADD/FFMA/FMNMX); they do not
say how often each path runs. bench/gpu/model.py imports the pieces
(disassemble, kernel_instructions, kv_loop_span, classify) and walks the
paths of the same loop one by one.
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
           "MUFU.RCP", "SHFL", "FMUL", "FADD", "FFMA", "FMNMX", "CALL"]


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
    # The PyPI wheels, installed in this Python or with pip --target into a
    # folder on PYTHONPATH.
    wheels = glob.glob(os.path.join(sys.prefix, "lib", "python*",
                                    "site-packages", "nvidia", "cu*", "bin",
                                    name))
    for base in sys.path:
        wheels += glob.glob(os.path.join(base or ".", "nvidia", "cu*", "bin",
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


def disassemble(ptxas, cuobjdump, ptx, chip):
    """(SASS text, `ptxas -v` log) of the PTX file `ptx` assembled for chip."""
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, "k.cubin")
        log = subprocess.run([ptxas, "-v", f"-arch={chip}", ptx, "-o", cubin],
                             check=True, capture_output=True, text=True)
        sass = subprocess.run([cuobjdump, "-sass", cubin], check=True,
                              capture_output=True, text=True).stdout
    return sass, log.stdout + log.stderr


def kernel_instructions(sass, kernel):
    """[(address, opcode, operands, predicate)] of `kernel` in cuobjdump text;
    predicate is "" for an unpredicated instruction, else e.g. "@!P0"."""
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
            insts.append((int(m.group(1), 16), m.group(3), m.group(4),
                          (m.group(2) or "").strip()))
    return insts


def branch_target(op, rest):
    """The absolute target of a BRA, or None."""
    if not op.startswith("BRA"):
        return None
    t = re.search(r"0x([0-9a-f]+)", rest)
    return int(t.group(1), 16) if t else None


def kv_loop_span(insts):
    """(first, last) address of the longest backward branch's body."""
    best = None
    for addr, op, rest, _ in insts:
        target = branch_target(op, rest)
        if target is not None and target < addr:
            span = (target, addr)
            if best is None or span[1] - span[0] > best[1] - best[0]:
                best = span
    if best is None:
        sys.exit("sass_loop: no backward branch: the kernel has no kv loop")
    return best


def loop_counts(sass, kernel):
    """(counts, total) of the longest backward branch's body in `kernel`."""
    insts = kernel_instructions(sass, kernel)
    first, last = kv_loop_span(insts)
    counts = collections.Counter()
    total = 0
    for addr, op, _, _ in insts:
        if first <= addr <= last:
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
    sass, _ = disassemble(ptxas, cuobjdump, args.ptx, args.chip)
    counts, total = loop_counts(sass, args.kernel)
    shown = [c for c in CLASSES if counts[c]] + sorted(
        c for c in counts if c not in CLASSES)
    print("| " + " | ".join(shown + ["total"]) + " |")
    print("|" + "---|" * (len(shown) + 1))
    print("| " + " | ".join(str(counts[c]) for c in shown) + f" | {total} |")


if __name__ == "__main__":
    main()
