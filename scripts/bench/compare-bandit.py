#!/usr/bin/env python3
"""Compares quantumlayer's security findings with bandit's on the same Python corpus.

usage: compare-bandit.py BANDIT_JSON OURS_JSON [--samples N]

BANDIT_JSON is `bandit -r . -f json` output (the bench's out/bandit.py.out with KEEP_OUTPUT=1);
OURS_JSON is `quantumlayer analyze --format json .` run in the same directory. Prints, per
category, how many places each tool reports, how many both report (same file and line), and
a few places only one of them reports, for reading by hand. A bandit place counts as shared
when one of our findings in that file spans its line (bandit names the line of the offending
argument, we name the call's first line).
"""
import json
import random
import sys
from collections import defaultdict

# category: (bandit test ids, our rule ids)
CATEGORIES = {
    "dynamic code (eval/exec)": ({"B102", "B307"}, {"py.eval"}),
    "shell injection": ({"B602", "B604", "B605"}, {"py.subprocess-shell", "py.os-system"}),
    "SQL built from strings": ({"B608"}, {"sql.built-query"}),
    "weak hash": ({"B303", "B324"}, {"weak-hash.password"}),
    "unsafe deserialization": ({"B301", "B302", "B506"}, {"py.pickle", "py.yaml-load"}),
    "TLS verification off": ({"B501", "B323"}, {"tls.verify-off"}),
    "hard-coded secrets": ({"B105", "B106", "B107"}, {"secret.hardcoded", "secret.aws-access-key", "secret.github-token", "secret.private-key", "secret.slack-token", "secret.stripe-key", "secret.google-api-key"}),
}


def norm(path):
    return path[2:] if path.startswith("./") else path


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    samples = int(argv[argv.index("--samples") + 1]) if "--samples" in argv else 3
    bandit = json.load(open(argv[1]))
    ours = json.load(open(argv[2]))
    theirs = defaultdict(set)
    for r in bandit["results"]:
        for name, (ids, _) in CATEGORIES.items():
            if r["test_id"] in ids:
                theirs[name].add((norm(r["filename"]), r["line_number"]))
    mine = defaultdict(set)
    spans = defaultdict(list)
    for f in ours["files"]:
        for finding in f["findings"]:
            for name, (_, rules) in CATEGORIES.items():
                if finding["rule"] in rules:
                    mine[name].add((norm(f["path"]), finding["line"]))
                    spans[name].append((norm(f["path"]), finding["line"], finding["end_line"]))

    def covered(name, place):
        return any(p == place[0] and a <= place[1] <= b for p, a, b in spans[name])

    def shared_with_bandit(name, place):
        span_ends = [b for p, a, b in spans[name] if (p, a) == place]
        return any(p == place[0] and place[1] <= line <= end
                   for end in span_ends for (p, line) in theirs[name])

    random.seed(7)
    print(f"{'category':28} {'bandit':>7} {'ours':>6} {'both':>6} {'only bandit':>12} {'only ours':>10}")
    only = {}
    for name in CATEGORIES:
        b, o = theirs[name], mine[name]
        only_bandit = {p for p in b if not covered(name, p)}
        only_ours = {p for p in o if not shared_with_bandit(name, p)}
        only[name] = (only_bandit, only_ours)
        print(f"{name:28} {len(b):7} {len(o):6} {len(b) - len(only_bandit):6} {len(only_bandit):12} {len(only_ours):10}")
    for name in CATEGORIES:
        only_bandit, only_ours = only[name]
        for label, places in (("only bandit", only_bandit), ("only ours", only_ours)):
            for place in random.sample(sorted(places), min(samples, len(places))):
                print(f"  {name} / {label}: {place[0]}:{place[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
