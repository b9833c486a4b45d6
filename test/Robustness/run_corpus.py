#!/usr/bin/env python3
"""Runs every input of the robustness corpus through every tool.

  run_corpus.py --bin BUILD/bin CORPUS_DIR

Each corpus file is one small adversarial input (malformed IR, shapes the
back ends cannot take, regions with side effects, absurd sizes, ...). Every
tool must answer it with a result or a diagnostic, never a crash, a hang,
an out-of-memory abort or a sanitizer report:

  attn-opt   --attn-to-host (parser, verifier, tiling, host lowering)
  attn-run   (host JIT) and --target=emulate, each checked against the
             f64 reference where it can evaluate the attention
  attn-ptx   --print-ptx (GPU kernel to PTX)

A file states what it expects in comment lines:

  // EXPECT: text           every tool that fails must print `text`
  // EXPECT-<tool>: text    <tool> (opt, run, emulate, ptx) must print it
  // ARGS-<tool>: flags     extra flags for that tool
  // OK-<tool>              that tool must succeed (exit 0)

A tool with no expectation may succeed or fail with a diagnostic (exit 1).
Prints one line per file and tool and a summary; exits 1 on any violation.
"""

import argparse
import os
import re
import subprocess
import sys

TOOLS = {
    "opt": lambda b, f: [os.path.join(b, "attn-opt"), f, "--attn-to-host",
                         "-o", os.devnull],
    "run": lambda b, f: [os.path.join(b, "attn-run"), f, "--repeat", "1"],
    "emulate": lambda b, f: [os.path.join(b, "attn-run"), f, "--repeat", "1",
                             "--target=emulate"],
    "ptx": lambda b, f: [os.path.join(b, "attn-ptx"), f, "--print-ptx"],
}
CRASH_MARKS = ["PLEASE submit a bug report", "Sanitizer", "LLVM ERROR",
               "Stack dump", "terminate called", "Assertion"]


def directives(text):
    """(expect, per-tool expect, per-tool args, tools that must succeed)."""
    expect, tool_expect, args, ok = [], {}, {}, set()
    for line in text.splitlines():
        m = re.match(r"\s*//\s*EXPECT(?:-(\w+))?:\s*(.*\S)", line)
        if m:
            if m.group(1):
                tool_expect.setdefault(m.group(1), []).append(m.group(2))
            else:
                expect.append(m.group(2))
        m = re.match(r"\s*//\s*ARGS-(\w+):\s*(.*\S)", line)
        if m:
            args[m.group(1)] = m.group(2).split()
        m = re.match(r"\s*//\s*OK-(\w+)\s*$", line)
        if m:
            ok.add(m.group(1))
    return expect, tool_expect, args, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("corpus")
    args = ap.parse_args()
    files = sorted(os.path.join(args.corpus, n) for n in os.listdir(args.corpus)
                   if n.endswith(".mlir"))
    violations = 0
    for path in files:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
        expect, tool_expect, extra, ok = directives(text)
        for tool, command in TOOLS.items():
            cmd = command(args.bin, path) + extra.get(tool, [])
            name = os.path.basename(path)
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      errors="replace", timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"HANG {name} {tool}")
                violations += 1
                continue
            out = proc.stdout + proc.stderr
            problems = []
            if proc.returncode not in (0, 1):
                problems.append(f"exit code {proc.returncode}")
            problems += [f"'{m}' in the output" for m in CRASH_MARKS
                         if m in out]
            if tool in ok and proc.returncode != 0:
                problems.append("expected success")
            wanted = tool_expect.get(tool, []) + (
                expect if proc.returncode != 0 else [])
            problems += [f"missing '{w}'" for w in wanted if w not in out]
            if proc.returncode == 0 and tool in tool_expect and tool not in ok:
                problems.append("expected a diagnostic, got success")
            status = "ok" if proc.returncode == 0 else "diagnostic"
            if problems:
                violations += 1
                print(f"FAIL {name} {tool}: {'; '.join(problems)}\n"
                      f"  command: {' '.join(cmd)}\n  output: {out[-2000:]}")
            else:
                print(f"PASS {name} {tool} ({status})")
    print(f"{len(files)} inputs x {len(TOOLS)} tools, {violations} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
