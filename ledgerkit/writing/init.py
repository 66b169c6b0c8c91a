"""Start a ledger: a new, empty ledger with the reference ledger's sections, rendered from a template.

The headings are Korean with English terms (``ko``, as in the reference ledger) or English (``en``); the
budget, divisor, allocation and thresholds come from the options and the configuration, so the new
ledger and the records ``ledgerkit append`` adds to it agree with what ``fill`` and ``verify`` expect.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from ..config import Config, config_for
from ..errors import LedgerkitError, TemplateError
from ..figures.sessions import Project
from ..files.textfile import folder_lock, write_atomic
from ..reading.parse import Ledger, parse
from ..schema import plain_number, token_estimate

LANGUAGES = ("ko", "en")
#: The reference ledger's SESSION_BUDGET_C, used when neither --budget nor the configuration names one.
DEFAULT_BUDGET = 130000

#: A new ledger's section 3: what to do at each alert level (``plan`` gives the same advice).
ADVICE = {
    "ko": {
        "alert70": "경보1: L1/L2 요약 20% 축소, 스니펫 1~2개로 제한",
        "alert85": "경보2: L3/L4 요약 추가 20% 축소, 스니펫 메타만 유지(경로·줄 범위)",
        "alert95": "경보3: 최소 컨텍스트 모드(시스템·현재 브리프·핵심 결정·Next Step만 유지). 필요 시 실행 2회로 분할",
    },
    "en": {
        "alert70": "ALERT70: cut the L1/L2 summaries by 20%, at most 1–2 snippets",
        "alert85": "ALERT85: cut the L3/L4 summaries by another 20%, keep only snippet metadata (path, line range)",
        "alert95": "ALERT95: minimal context mode (system, current brief, key decisions, next step only); split the "
        "run in two if needed",
    },
}


def advice(lang: str, config: Config) -> dict[Fraction, str]:
    """A new ledger's section-3 notes by level, as the ledger's ``threshold_notes`` reads them."""
    t = config.thresholds
    return {t.alert70: ADVICE[lang]["alert70"], t.alert85: ADVICE[lang]["alert85"], t.alert95: ADVICE[lang]["alert95"]}


def template_name(lang: str) -> str:
    return f"ledger.{lang}.md.j2"


def new_ledger(*, budget: int | None = None, lang: str = "ko", config: Config | None = None) -> str:
    """The text (LF newlines) of a new, empty ledger; nothing is written."""
    from .render import render  # jinja2 only when a ledger is rendered

    config = config or Config()
    if lang not in LANGUAGES:
        raise LedgerkitError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    budget = budget if budget is not None else (config.budget or DEFAULT_BUDGET)
    if budget <= 0:
        raise LedgerkitError(f"the budget must be a positive whole number, got {budget}")
    summary = render("summary.md.j2", {"sessions": (), "project": Project(None, ())}, config.templates)
    t = config.thresholds
    context = {
        "budget": budget,
        "divisor": config.divisor,
        "prefix": config.run_id_prefix,
        "allocation": [{"name": name, "percent": plain_number(p)} for name, p in config.allocation.items()],
        "thresholds": {name: plain_number(getattr(t, name)) for name in ("alert70", "alert85", "alert95", "minimal")},
        "advice": ADVICE[lang],
        "examples": [(f"{chars:,}", f"{token_estimate(chars, config.divisor):,}") for chars in (8000, 42000)],
        "summary": summary.rstrip("\n") + "\n",
    }
    text = render(template_name(lang), context, config.templates)
    _check_readable(text, budget, template_name(lang))
    return text


def _check_readable(text: str, budget: int, name: str) -> None:
    # A user's template may drop what ledgerkit finds by heading: refuse to write a ledger it cannot read.
    ledger = parse(text)
    missing = []
    if ledger.budget is None or ledger.budget.value != budget:
        missing.append(f"the budget item '- SESSION_BUDGET_C: {budget}'")
    if ledger.ledger_section is None:
        missing.append("a ledger section heading such as '## 6) Ledger (append-only)'")
    if ledger.summary is None:
        missing.append("a 'Cumulative Summary' section")
    if ledger.records:
        missing.append("no records (a new ledger starts empty)")
    if missing:
        raise TemplateError(f"template {name} does not give a ledger ledgerkit reads: it needs {'; '.join(missing)}")


def init_file(
    path: str | Path,
    *,
    budget: int | None = None,
    lang: str = "ko",
    config: Config | None = None,
    force: bool = False,
) -> Ledger:
    """Write a new ledger at ``path`` (atomically) and return it; an existing file stays unless ``force``."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise LedgerkitError("no such folder", folder)
    if path.is_dir():
        raise LedgerkitError("is a directory", path)
    config = config or config_for(path)
    text = new_ledger(budget=budget, lang=lang, config=config)
    with folder_lock(folder):
        if (path.exists() or path.is_symlink()) and not force:
            raise LedgerkitError("already exists; not overwritten (pass --force to replace it)", path)
        write_atomic(path, text.encode("utf-8"))
    return parse(text, str(path))
