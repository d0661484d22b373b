"""Replace one marked section of BENCHMARKS.md (between `<!-- name:begin -->` and `:end -->`)."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def update_section(name: str, body: str) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = BENCHMARKS_MD.read_text()
    start, stop = text.index(begin) + len(begin), text.index(end)
    BENCHMARKS_MD.write_text(text[:start] + "\n" + body + "\n" + text[stop:])
