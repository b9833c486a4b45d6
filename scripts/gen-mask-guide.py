#!/usr/bin/env python3
"""Renders docs/masks.md from docs/masks.md.in.

Every line `@tilemap <file.mlir> [tile-q=N tile-kv=N]` of the template is
replaced by the mask attribute of that example and the tile map that
`attn-opt --attn-print-tile-map` prints for it, so the pictures in the
guide are produced by attn-opt itself. With --check, compares instead of
writing and fails when docs/masks.md is stale (run by the lit suite).
"""

import argparse
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def render(attn_opt, template):
    out = []
    for line in template.splitlines(keepends=True):
        m = re.match(r"@tilemap\s+(\S+)(.*)$", line)
        if not m:
            out.append(line)
            continue
        path = os.path.join(ROOT, "docs", "masks", m.group(1))
        options = m.group(2).strip() or "tile-q=64 tile-kv=64"
        proc = subprocess.run(
            [attn_opt, path, f"--attn-print-tile-map={options}", "-o",
             os.devnull], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"attn-opt failed on {path}:\n{proc.stderr}")
        out.append(f"`docs/masks/{m.group(1)}`, "
                   f"`attn-opt --attn-print-tile-map=\"{options}\"`:\n\n")
        out.append("```\n" + proc.stdout + "```\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attn-opt", required=True)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(ROOT, "docs", "masks.md.in")) as f:
        text = render(args.attn_opt, f.read())
    target = os.path.join(ROOT, "docs", "masks.md")
    if args.check:
        with open(target) as f:
            current = f.read()
        if current != text:
            sys.stdout.writelines(difflib.unified_diff(
                current.splitlines(True), text.splitlines(True),
                "docs/masks.md", "regenerated"))
            print("docs/masks.md is stale: run scripts/gen-mask-guide.py "
                  "--attn-opt build/bin/attn-opt")
            return 1
        print("docs/masks.md is current")
        return 0
    with open(target, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
