#!/usr/bin/env python3
"""Mutation fuzzing of attn-opt.

Takes the .mlir inputs of the test suite, applies seeded random mutations
(deleted and duplicated characters and lines, changed numbers, swapped
types, attributes and keywords), runs attn-opt on each mutant and fails if
attn-opt ever dies from a signal (crash, abort, sanitizer report) or hangs.
A diagnostic and exit code 1 is the correct answer to bad input.

Inputs are read and written as bytes (undecodable bytes survive as
surrogate escapes), and one mutation inserts arbitrary bytes, so that
attn-opt also meets input that is not UTF-8 and a seed file that is not
UTF-8 does not stop the fuzzer.

Usage: mutate.py --attn-opt PATH [--seed N] [--iterations N] FILES_OR_DIRS...
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

NUMBERS = ["0", "1", "-1", "2", "3", "7", "64", "-64", "4096", "65535",
           "2147483648", "9223372036854775807", "-9223372036854775808",
           "99999999999999999999", "0.0", "-0.0", "1.5", "nan", "1e400"]
TYPES = ["f32", "f16", "bf16", "f64", "i1", "i8", "i32", "i64", "index",
         "f8E4M3FN", "complex<f32>", "none", "vector<4xf32>"]
TOKENS = ["#attn.causal", "#attn.none", "#attn.document", "#attn.custom",
          "#attn.window<left = 3, right = 0>", "#attn.global<first = 1>",
          "#attn.union<[#attn.causal, #attn.document]>",
          "#attn.complement<#attn.custom>", "#attn.softcap<1.0>",
          "#attn.alibi", "#attn.block_layout<block = [1, 1], layout = "
          "dense<true> : tensor<1x1xi1>>", "?", "x", ",", ":", "(", ")",
          "<", ">", "[", "]", "{", "}", "%0", "^bb0", "attn.yield",
          "mask_mod", "score_mod", "captures", "segments", "bias", "->",
          "tensor<?x?x?x?xf32>", "tensor<1x1x1x1xf16>", "causal",
          "normalize", "scale = 0.0 : f32", "\"", "//", "\n"]


def collect(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                files += [os.path.join(root, n) for n in sorted(names)
                          if n.endswith(".mlir")]
        else:
            files.append(path)
    return sorted(files)


def split_cases(text):
    # Keep RUN-independent content: each --split-input-file chunk is a case.
    return [c for c in text.split("// -----") if "attn." in c]


def read_text(path):
    """The file's text; bytes that are not UTF-8 become surrogate escapes."""
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="surrogateescape")


def write_text(path, text):
    """Writes `text` back as the bytes it came from (surrogate escapes)."""
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8", errors="surrogateescape"))


def random_bytes(rng):
    """1-8 arbitrary bytes as surrogate-escaped text (NUL, controls, bytes
    that are not UTF-8)."""
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return raw.decode("utf-8", errors="surrogateescape")


def mutate(rng, text):
    kind = rng.randrange(9)
    if not text:
        return text
    pos = rng.randrange(len(text))
    if kind == 0:  # delete a span
        return text[:pos] + text[pos + rng.randint(1, 12):]
    if kind == 1:  # duplicate a span
        end = min(len(text), pos + rng.randint(1, 40))
        return text[:end] + text[pos:end] + text[end:]
    if kind == 2:  # change a number
        nums = list(re.finditer(r"-?\d+(\.\d+)?", text))
        if nums:
            m = rng.choice(nums)
            return text[:m.start()] + rng.choice(NUMBERS) + text[m.end():]
    if kind == 3:  # swap an element type
        types = list(re.finditer(r"\b(f32|f16|bf16|i1|i32|i64|index)\b", text))
        if types:
            m = rng.choice(types)
            return text[:m.start()] + rng.choice(TYPES) + text[m.end():]
    if kind == 4:  # insert a token
        return text[:pos] + " " + rng.choice(TOKENS) + " " + text[pos:]
    if kind == 5:  # delete or duplicate a line
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[rng.randrange(len(lines))])
        return "\n".join(lines)
    if kind == 7:  # insert arbitrary bytes
        return text[:pos] + random_bytes(rng) + text[pos:]
    if kind == 6:  # replace an attn attribute with another
        attrs = list(re.finditer(r"#attn\.[a-z_]+(<[^<>]*>)?", text))
        if attrs:
            m = rng.choice(attrs)
            return text[:m.start()] + rng.choice(TOKENS[:10]) + text[m.end():]
    # swap a dimension in a tensor type
    dims = list(re.finditer(r"tensor<([0-9?x]+)x", text))
    if dims:
        m = rng.choice(dims)
        parts = m.group(1).split("x")
        parts[rng.randrange(len(parts))] = rng.choice(["0", "1", "?", "3", "5"])
        return text[:m.start(1)] + "x".join(parts) + text[m.end(1):]
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attn-opt", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    cases = []
    for f in collect(args.paths):
        cases += split_cases(read_text(f))
    if not cases:
        print("no inputs found", file=sys.stderr)
        return 2

    passes = [[], ["--canonicalize"], ["--attn-print-tile-map=tile-q=3 tile-kv=5"],
              ["--mlir-print-op-generic"],
              ["--attn-tile=tile-q=16 tile-kv=8", "--attn-bufferize",
               "--attn-online-softmax"],
              ["--attn-to-host=tile-q=8 tile-kv=16"]]
    failures = 0
    rejected = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mutant.mlir")
        for it in range(args.iterations):
            text = rng.choice(cases)
            for _ in range(rng.randint(1, 3)):
                text = mutate(rng, text)
            write_text(path, text)
            cmd = [args.attn_opt, path, "-o", os.devnull] + rng.choice(passes)
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      errors="replace", timeout=args.timeout)
            except subprocess.TimeoutExpired:
                failures += 1
                print(f"iteration {it}: attn-opt hung on:\n{text!a}")
                continue
            if proc.returncode not in (0, 1) or "Sanitizer" in proc.stderr \
                    or "PLEASE submit a bug report" in proc.stderr:
                failures += 1
                print(f"iteration {it}: attn-opt exited with "
                      f"{proc.returncode} on (args {cmd[3:]}):\n{text!a}\n"
                      f"stderr:\n{proc.stderr[-3000:]}")
            elif proc.returncode == 1:
                rejected += 1
    print(f"{args.iterations} mutants, {rejected} rejected with a diagnostic, "
          f"{failures} crashes or hangs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
