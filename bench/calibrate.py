"""How well the ledger's rule of thumb, TOKEN_ESTIMATE = ceil(CHAR_COUNT / 4), matches exact token counts.

For English prose, code, Korean and mixed Markdown made on this machine (bench/corpus.py says from what;
nothing is downloaded), prints a Markdown table: characters, the estimate, the exact o200k_base and
cl100k_base counts, the ratio estimate / exact (below 1: the estimate undercounts) and characters per
token. docs/calibration.md shows its output.

    python bench/calibrate.py [--divisor 4]
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402
from ledgerkit.schema import token_estimate  # noqa: E402
from ledgerkit.tokens import count  # noqa: E402

ENCODINGS = ("o200k_base", "cl100k_base")


def _decimal(value: Fraction, places: int = 2) -> str:
    scaled = int(value * 10**places)  # toward zero
    return f"{scaled // 10**places}.{scaled % 10**places:0{places}d}"


def categories() -> list[tuple[str, str]]:
    return [
        ("English prose", corpus.english()),
        ("code (Python)", corpus.code()),
        ("code (Python), comments and docstrings removed", corpus.bare_code()),
        ("Korean", corpus.korean()),
        ("mixed Markdown, the sample ledger and its sources", corpus.sample_markdown()),
        ("mixed Markdown, generated Korean + English notes", corpus.mixed_markdown(400_000, seed=1)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--divisor", type=int, default=4)
    args = parser.parse_args()
    rows = []
    for name, text in categories():
        chars = len(text) - text.count("\r\n")
        estimate = token_estimate(chars, args.divisor)
        exact = {e: count([text], e)[0] for e in ENCODINGS}
        rows.append((name, chars, estimate, exact))
    head = (
        "| text | chars | estimate | "
        + " | ".join(ENCODINGS)
        + " | "
        + " | ".join(f"estimate / {e}" for e in ENCODINGS)
        + " | "
        + " | ".join(f"chars per token ({e})" for e in ENCODINGS)
        + " |"
    )
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for name, chars, estimate, exact in rows:
        ratios = [_decimal(Fraction(estimate, exact[e])) for e in ENCODINGS]
        per_token = [_decimal(Fraction(chars, exact[e])) for e in ENCODINGS]
        print(
            f"| {name} | {chars} | {estimate} | "
            + " | ".join(str(exact[e]) for e in ENCODINGS)
            + " | "
            + " | ".join(ratios)
            + " | "
            + " | ".join(per_token)
            + " |"
        )
    catalogs = [s for s in corpus.korean_sources() if s.startswith("/")]
    print(
        f"\nestimate = ceil(chars / {args.divisor}); Korean from {len(catalogs)} gettext catalogs in "
        f"{Path(corpus.KOREAN_CATALOGS).parent} and the sample ledger; Python {sys.version.split()[0]}."
    )


if __name__ == "__main__":
    main()
