"""Put the two PDF engines side by side: the same briefs printed by Chromium and by WeasyPrint, as pictures.

    python tests/support/compare_pdf_engines.py [OUT_DIR]     # default: a new temporary folder

For the clients of ``look_at_briefs.py`` (an ordinary one, and one with a 300-character name and notes in
four scripts) it prints the PDF brief with each engine, renders every page with ``pdftoppm`` and checks each
the way ``look_at_briefs.py`` does (the chart's scenario lines and the tables' header colour drawn, nothing
in the side margins), then that both engines gave the same number of pages. It writes
``<client>-<engine>-pdf-page-N.png`` and ``<client>-side-by-side.png`` (Chromium left, WeasyPrint right,
page 1) for a person to compare, and prints what it found.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.look_at_briefs import Look, clients, look_at_pdf
from xl_addin.report import build_context
from xl_addin.report.brief.pdf import ENGINES, print_pdf


@dataclass
class Comparison:
    """What the engines printed (the look at every page) and what differs."""

    look: Look
    engines: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def compare_engines(out_dir: Path) -> Comparison:
    """Print each client's brief with both engines into `out_dir`, look at every page, compare page counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    comparison = Comparison(Look(out_dir))
    with tempfile.TemporaryDirectory(prefix="imgout-compare-") as temp:
        work = Path(temp)
        for client, profile in clients(out_dir).items():
            context = build_context(profile)  # type: ignore[arg-type]
            for engine in ENGINES:
                printed = print_pdf(context, engine)
                comparison.engines[engine] = printed.engine
                pdf = out_dir / f"{client}-{engine}.pdf"
                pdf.write_bytes(printed.data)
                look_at_pdf(pdf, comparison.look, f"{client}-{engine}", work)
            pages = {e: comparison.look.facts.get(f"{client}-{e} PDF pages") for e in ENGINES}
            if len(set(pages.values())) != 1:
                comparison.problems.append(f"{client}: the engines gave different page counts: {pages}")
            _side_by_side(out_dir, client)
    comparison.problems += comparison.look.problems
    return comparison


def _side_by_side(out_dir: Path, client: str) -> None:
    """Page 1 of each engine next to each other, for a person to compare."""
    pages = [out_dir / f"{client}-{engine}-pdf-page-1.png" for engine in ENGINES]
    if not all(p.exists() for p in pages):
        return
    images = [Image.open(p) for p in pages]
    gap = 12
    both = Image.new("RGB", (sum(i.width for i in images) + gap, max(i.height for i in images)), "#9CA3AF")
    both.paste(images[0], (0, 0))
    both.paste(images[1], (images[0].width + gap, 0))
    both.save(out_dir / f"{client}-side-by-side.png")


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="imgout-engines-"))
    comparison = compare_engines(out_dir)
    for engine, description in comparison.engines.items():
        print(f"{engine}: {description}")
    for key, value in comparison.look.facts.items():
        print(f"{key}: {value}")
    print(f"pictures in {out_dir}")
    for problem in comparison.problems:
        print(f"PROBLEM: {problem}")
    return 1 if comparison.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
