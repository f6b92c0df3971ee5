#!/usr/bin/env python3
"""Brings the PublicAPI baselines in line with the code after a reviewed API change.

Builds the solution, adds every symbol the analyzer reports as undeclared (RS0016) to the project's
PublicAPI.Unshipped.txt and removes every declared symbol that is gone (RS0017), until the build reports
neither. Read the diff of the baselines before committing: it is the API change.
"""
import os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATTERN = re.compile(r"^(?P<file>/[^(]+)\(\d+,\d+\): error (?P<rule>RS0016|RS0017): Symbol '(?P<symbol>.+?)' (is not part|is part)")

def baseline_dir(path):
    folder = os.path.dirname(path)
    while folder.startswith(ROOT) and not os.path.exists(os.path.join(folder, "PublicAPI.Unshipped.txt")):
        folder = os.path.dirname(folder)
    return folder

for round_number in range(10):
    # --no-incremental: an up-to-date project would skip the analyzers and report nothing.
    build = subprocess.run(["dotnet", "build", os.path.join(ROOT, "otelai.sln"), "-c", "Release", "--no-incremental"], capture_output=True, text=True)
    found = {(m["file"], m["rule"], m["symbol"]) for m in map(PATTERN.match, build.stdout.splitlines()) if m}
    if not found:
        print("baselines match the code" if build.returncode == 0 else build.stdout[-4000:])
        sys.exit(build.returncode)
    # A partial type is reported once per file it spans: one entry per baseline folder and symbol.
    for folder, rule, symbol in sorted({(baseline_dir(file), rule, symbol) for file, rule, symbol in found}):
        if rule == "RS0016":
            with open(os.path.join(folder, "PublicAPI.Unshipped.txt"), "a") as unshipped:
                unshipped.write(symbol + "\n")
        else:
            for name in ("PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt"):
                path = os.path.join(folder, name)
                lines = open(path).read().splitlines()
                kept = [line for line in lines if line != symbol]
                if len(kept) != len(lines):
                    open(path, "w").write("\n".join(kept) + "\n")
        print(f"{rule} {os.path.relpath(folder, ROOT)}: {symbol}")
sys.exit("baselines still differ after 10 rounds")
