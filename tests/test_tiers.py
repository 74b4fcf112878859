"""docs/testing.md lists the slow tier test by test; this keeps that list the one pytest collects, so a test marked
slow (or unmarked) without the page saying so fails here."""
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _documented():
    page = (PROJECT / "docs" / "testing.md").read_text()
    section = page.split("## The slow tier\n")[1].split("\n## ")[0]
    found, current = set(), None
    for line in section.splitlines():
        if m := re.match(r"- `(tests/[^`]+\.py)`", line):
            current = m.group(1)
        elif m := re.match(r"  - `([^`]+)`", line):
            found.add(f"{current}::{m.group(1)}")
    return found


def test_the_documented_slow_tier_is_the_collected_one():
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "slow", "-p",
                           "no:cacheprovider", "tests"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    collected = {line for line in done.stdout.splitlines() if "::" in line}
    assert collected, done.stdout[-3000:] + done.stderr[-3000:]
    documented = _documented()
    assert collected == documented, {"marked slow, not in docs/testing.md": sorted(collected - documented),
                                     "in docs/testing.md, not marked slow": sorted(documented - collected)}
