"""The library: every command as a function that returns values or text.

The command line (``cli.py``) only parses options, calls these, prints and picks the exit code; a script
calls the same functions and gets the same figures, diagnostics and text::

    import ledgerkit
    problems = ledgerkit.verify_file("ledger.md", base="origin/main")
    out = ledgerkit.rollup("ledger.md", format="json")
    print(out.text)
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .config import Config, config_for, load_config
from .diagnostics import Diagnostic, has_errors, steer
from .errors import LedgerkitError
from .figures.compute import LedgerFigures
from .reading.parse import Ledger, Outline, Outlined, load, load_lines, load_outline

if TYPE_CHECKING:
    from .checks.committed import Committed

#: What ``base=`` of :func:`verify_file` may be: ``"HEAD"`` or another git revision, a file, a parsed
#: ledger (or its outline), or None for no append-only comparison.
Base = str | Path | Ledger | Outline | None


class UsageError(LedgerkitError):
    """Options that do not go together, or name nothing: exit code 2, like click's own."""


class Settings(NamedTuple):
    """What every command may be told besides its own options."""

    config_file: Path | None = None
    templates: Path | None = None
    root: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def config(self, path: Path | None) -> Config:
        """The configuration for a ledger (or, without one, the current folder), with these overrides."""
        config = load_config(self.config_file) if self.config_file else config_for(path or Path.cwd() / "-")
        return config.with_overrides(
            templates=self.templates.resolve() if self.templates else None,
            root=self.root.resolve() if self.root else None,  # every stage then sees --root as the source root
        )

    def steer(
        self, diagnostics: Sequence[Diagnostic], config: Config, ledger: Ledger | None = None, *, unused: bool = False
    ) -> list[Diagnostic]:
        """Diagnostics with the ledger's suppression comments (``unused``: and LK801 for those that silence
        nothing), then --select/--ignore and the configuration's select/ignore, applied."""
        if ledger is not None:
            from .checks.suppress import suppress

            diagnostics = suppress(ledger, diagnostics, report_unused=unused)
        return steer(diagnostics, self.select or config.select, (*config.ignore, *self.ignore))


class Output:
    """A command's result: its text, the problems met making it, its value, and every file it read. A long
    export is made as UTF-8 bytes (``data``) and decoded only if ``text`` is asked for."""

    __slots__ = ("_made", "diagnostics", "value", "inputs")

    def __init__(
        self,
        text: str | bytes,
        diagnostics: list[Diagnostic] | None = None,
        value: Any = None,
        inputs: set[Path] | None = None,
    ) -> None:
        self._made = text
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.value = value
        self.inputs = set() if inputs is None else inputs

    @property
    def text(self) -> str:
        made = self._made
        return made if isinstance(made, str) else made.decode("utf-8", "surrogateescape")

    @property
    def data(self) -> bytes:
        """The text as every command writes it, to a file or to stdout: UTF-8, and a file name's undecodable
        byte (held in the text as a surrogate, as Python holds it) written back as that byte."""
        made = self._made
        return made if isinstance(made, bytes) else made.encode("utf-8", "surrogateescape")

    def __repr__(self) -> str:
        fields = f"text={self.text!r}, diagnostics={self.diagnostics!r}, value={self.value!r}, inputs={self.inputs!r}"
        return f"Output({fields})"

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


# --- ledgers and folders -----------------------------------------------------------------------------------


def ledger_paths(paths: Sequence[Path]) -> list[Path]:
    """The ledgers that paths name: a file as given; a folder, every Markdown file beneath it that holds a
    ledger (what git ignores left out inside a work tree; hidden folders, virtual environments and
    node_modules outside one)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        from .measuring.folders import folder_files  # only for a folder: a hook passes files
        from .reading.parse import may_hold_ledger

        for name in folder_files(path):
            if name.endswith((".md", ".markdown")):
                candidate = path / name
                try:
                    if may_hold_ledger(candidate.read_bytes()):
                        found.append(candidate)
                except OSError:
                    continue
    return found


def figures_of(path: Path, settings: Settings) -> LedgerFigures:
    """A ledger's figures as fill computes them, every record's sources measured once."""
    from .reports.records import figured

    return figured(load_lines(path), settings.config(path), settings.root)


def _inputs(figures: Sequence[LedgerFigures]) -> set[Path]:
    files: set[Path] = set()
    for f in figures:
        if f.ledger.path:
            files.add(Path(f.ledger.path))
        # Records name the same few files again and again: one Path per file, not per entry.
        files.update(map(Path, {ms.source.real for record in f.records for ms in record.sources or ()}))
    return files


# --- verify ----------------------------------------------------------------------------------------------


def verify_file(
    path: str | Path,
    *,
    base: Base = "HEAD",
    config: Config | None = None,
    require_filled: bool = False,
) -> list[Diagnostic]:
    """Every problem in a ledger file, against its base: by default the version committed at git's HEAD
    (none when the file is new to git, or outside git); a revision, a file, a ledger, or None."""
    from .checks.verify import DEFAULT_CHECKS, verify
    from .checks.waiting import check_waiting

    path = Path(path)
    ledger = load(path)
    config = config or config_for(path)
    checks = (*DEFAULT_CHECKS, check_waiting) if require_filled else DEFAULT_CHECKS
    return verify(ledger, base=base_of(path, base), config=config, checks=checks)


def verify_path(
    path: Path,
    *,
    base: Base = "HEAD",
    settings: Settings | None = None,
    require_filled: bool = False,
    strict_base: bool = False,
) -> list[Diagnostic] | None:
    """What ``ledgerkit verify`` reports for one file; None when it holds no ledger and its base held none
    either (a Markdown file that is not a ledger). A base git cannot give when asked for the default HEAD is
    a problem (LK608), never a silent pass; with ``strict_base`` (a revision named explicitly) it stops the run,
    and outside git as well."""
    from .checks.git import GitError
    from .checks.verify import DEFAULT_CHECKS, verify
    from .checks.waiting import check_waiting
    from .files.read import read_bytes
    from .files.text import decode_lines
    from .reading.parse import may_hold_ledger, parse_lines

    settings = settings or Settings()
    data = read_bytes(path)
    problems: list[Diagnostic] = []
    try:
        pending = _committed_base(path, base, strict=strict_base)
    except GitError as exc:
        if strict_base or base != "HEAD":
            raise
        pending = None
        problems.append(
            Diagnostic(str(path), 1, 1, "LK608", f"the base version cannot be read from git: {exc.message}")
        )
    base_outline: Outlined | None = None
    if not may_hold_ledger(data):
        base_outline = _outlined(pending)
        if base_outline is None or not base_outline.records:
            return None
    # Its lines, never its whole text: a large ledger's text costs as much memory as its lines (issue 12).
    lines, bom = decode_lines(data, path)
    ledger = parse_lines(lines, str(path), bom=bom)
    if base_outline is None:
        base_outline = _outlined(pending, ledger, data)
    del data, pending  # what verify no longer needs: a large ledger's bytes, and its base's
    config = settings.config(path)
    checks = (*DEFAULT_CHECKS, check_waiting) if require_filled else DEFAULT_CHECKS
    found = problems + verify(ledger, base=base_outline, config=config, checks=checks)
    return settings.steer(found, config, ledger, unused=True)


def verify_history(
    path: str | Path,
    *,
    since: str | None = None,
    until: str = "HEAD",
    settings: Settings | None = None,
    require_filled: bool = False,
    working: bool = True,
) -> list[Diagnostic] | None:
    """``ledgerkit verify --history``: every committed version of the ledger in ``since..until`` (its whole
    history without ``since``) against the one before it, renames followed, each problem naming the commit
    that introduced it; then (``working``) the working copy against HEAD as :func:`verify_path` checks it.
    None when the file holds no ledger now and never broke one. Outside git, or a revision this clone lacks
    (with how to fetch it), stops the run."""
    from .checks.git import open_repository
    from .checks.walk import history_problems

    path = Path(path)
    settings = settings or Settings()
    repository = open_repository(path)
    if repository is None:
        raise UsageError(f"--history: {path.resolve().parent} is not in a git repository", path)
    config = settings.config(path)
    committed = settings.steer(history_problems(repository, path, since=since, until=until), config)
    if not working or not path.exists():
        return committed
    now = verify_path(path, base="HEAD", settings=settings, require_filled=require_filled)
    if now is None and not committed:
        return None
    return committed + (now or [])


def verify_frozen(
    paths: Sequence[Path], *, since: str | None = None, until: str = "HEAD", settings: Settings | None = None
) -> list[Diagnostic]:
    """LK609 for every commit in ``since..until`` that touched a file under a ``frozen:`` path of the
    configuration of each ledger given (of the current folder when none is), each configuration once."""
    from .checks.git import open_repository
    from .checks.walk import frozen_problems
    from .measuring.measure import source_root

    settings = settings or Settings()
    seen: set[tuple[Path, tuple[str, ...]]] = set()
    found: list[Diagnostic] = []
    chosen: Sequence[Path | None] = paths or [None]
    for path in chosen:
        config = settings.config(path)
        root = source_root(path, config, settings.root)
        key = (root, config.frozen)
        if not config.frozen or key in seen:
            continue
        seen.add(key)
        repository = open_repository(root)
        if repository is None:
            raise UsageError(f"frozen paths are checked in git, but {root} is not in a git repository", path)
        found.extend(settings.steer(frozen_problems(repository, root, config.frozen, since=since, until=until), config))
    return found


def pre_commit_range(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The range ``pre-commit run --from-ref X --to-ref Y`` (and pre-commit's CI integrations) asks a hook to
    check, from PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF (or the older PRE_COMMIT_SOURCE / _ORIGIN); None at
    commit time, when pre-commit sets neither."""
    start = environ.get("PRE_COMMIT_FROM_REF") or environ.get("PRE_COMMIT_SOURCE")
    end = environ.get("PRE_COMMIT_TO_REF") or environ.get("PRE_COMMIT_ORIGIN")
    if not start and not end:
        return None
    if not start or not end:
        raise UsageError("pre-commit named one end of a range only: give both --from-ref and --to-ref")
    return start, end


def _committed_base(path: Path, base: Base, *, strict: bool) -> Outlined | Committed | None:
    """:func:`base_of`, a git revision's version read and checked but not yet outlined: the working copy's parse
    may outline it (checks/committed.py)."""
    if isinstance(base, str):
        from .checks.committed import from_git

        return from_git(path, base if strict or base != "HEAD" else None)
    return base_of(path, base, strict=strict)


def _outlined(
    base: Outlined | Committed | None, working: Ledger | None = None, working_data: bytes | None = None
) -> Outlined | None:
    from .checks.committed import Committed

    return base.outline(working, working_data) if isinstance(base, Committed) else base


def base_of(path: Path, base: Base, *, strict: bool = False) -> Outlined | None:
    """The base version ``base`` names for the ledger at ``path``, as the append-only history reads it (a file's
    or git's version outlined, not parsed whole); ``strict``: a revision named explicitly, which must exist
    (HEAD too)."""
    if base is None or isinstance(base, Ledger | Outline):
        return base
    if isinstance(base, Path):
        return load_outline(base)
    from .checks.committed import outline_from_git

    return outline_from_git(path, base if strict or base != "HEAD" else None)


# --- reports ------------------------------------------------------------------------------------------------


def rollup(
    path: str | Path,
    session: str | None = None,
    *,
    format: str = "md",  # noqa: A002 - the option's name
    encoding: str | None = None,
    settings: Settings | None = None,
) -> Output:
    """One session's story (the ledger's only session when ``session`` is None)."""
    from .reports.chart import chart
    from .reports.rollup import rollup as make_rollup

    settings = settings or Settings()
    figures = figures_of(Path(path), settings)
    report = make_rollup(figures, session or only_session(figures), encoding=encoding)
    if format == "json":
        text = _json(report.as_json())
    else:
        context = {"rollup": report, "chart": chart(report.rows, report.thresholds)}
        text = _render(f"rollup.{format}.j2", context, figures.config)
    diagnostics = settings.steer(figures.diagnostics, figures.config, figures.ledger)
    return Output(text, diagnostics, report, _inputs([figures]))


def only_session(figures: LedgerFigures) -> str:
    """The ledger's one session; with none or several, a UsageError that lists them."""
    from .figures.sessions import group

    sessions = [s.id for s in group(figures.records)]
    if len(sessions) == 1:
        return sessions[0]
    if not sessions:
        raise UsageError("the ledger has no records, so no session to roll up", figures.ledger.display_path)
    raise UsageError(
        f"the ledger has {len(sessions)} sessions; name one with --session: {', '.join(sessions)}",
        figures.ledger.display_path,
    )


def report(
    paths: Sequence[str | Path],
    *,
    format: str = "md",  # noqa: A002
    since: date | None = None,
    until: date | None = None,
    settings: Settings | None = None,
) -> Output:
    """One row per session across ledgers (and folders of ledgers), optionally within dates (UTC, inclusive)."""
    from .reports.export import dumps
    from .reports.sessions import SESSION_COLUMNS, session_rows, within

    settings = settings or Settings()
    figures = [within(figures_of(p, settings), since, until) for p in ledger_paths([Path(p) for p in paths])]
    if not figures:
        raise UsageError("no ledger found in the paths given")
    rows = session_rows(figures)
    text: str | bytes
    if format == "json":
        text = _json([r.as_json() for r in rows])
    elif format == "csv":
        text = dumps([r.as_json() for r in rows], "csv", SESSION_COLUMNS)
    else:
        ledgers = [f.ledger.display_path for f in figures]
        text = _render("report.md.j2", {"rows": rows, "ledgers": ledgers}, figures[0].config)
    diagnostics = [d for f in figures for d in settings.steer(f.diagnostics, f.config)]
    return Output(text, diagnostics, rows, _inputs(figures))


def compare(
    paths: Sequence[str | Path],
    sessions: Sequence[str] = (),
    *,
    format: str = "md",  # noqa: A002
    settings: Settings | None = None,
) -> Output:
    """A baseline against an optimized session: one ledger with two sessions, or two ledgers (each whole, or
    the first session from the first ledger and the second from the second)."""
    from .reports.compare import compare_sides, side

    if len(paths) > 2 or not paths:
        raise UsageError("compare takes one ledger with two --session, or two ledgers")
    if len(paths) == 1 and len(sessions) != 2:
        raise UsageError("with one ledger, name the two sessions: --session BASELINE --session OPTIMIZED")
    if len(paths) == 2 and len(sessions) not in (0, 2):
        raise UsageError("with two ledgers, give no --session (compare them whole) or two")
    settings = settings or Settings()
    figures = [figures_of(Path(p), settings) for p in paths]
    sides = figures * 2 if len(figures) == 1 else figures
    names: Sequence[str | None] = sessions or (None, None)
    baseline, optimized = (side(f, s) for f, s in zip(sides, names, strict=True))
    comparison = compare_sides(baseline, optimized)
    if format == "json":
        text = _json(comparison.as_json())
    else:
        text = _render("compare.md.j2", {"c": comparison}, figures[0].config)
    diagnostics = [d for f in figures for d in settings.steer(f.diagnostics, f.config)]
    return Output(text, diagnostics, comparison, _inputs(figures))


def export(
    paths: Sequence[str | Path],
    *,
    format: str = "json",  # noqa: A002
    bom: bool = False,
    settings: Settings | None = None,
) -> Output:
    """Every record as typed data (JSON, JSON Lines, CSV); ``bom`` starts CSV with a byte order mark for
    spreadsheets that need one to read UTF-8."""
    from .reports.export import dumps, records

    settings = settings or Settings()
    figures = [figures_of(p, settings) for p in ledger_paths([Path(p) for p in paths])]
    if not figures:
        raise UsageError("no ledger found in the paths given")
    data = dumps((r for f in figures for r in records(f)), format)
    if bom and format == "csv":
        data = codecs.BOM_UTF8 + data
    diagnostics = [d for f in figures for d in settings.steer(f.diagnostics, f.config)]
    return Output(data, diagnostics, None, _inputs(figures))


def plan(
    sources: Sequence[str],
    *,
    budget: int | None = None,
    model: str | None = None,
    full_window: bool = False,
    output_tokens: int = 0,
    encoding: str | None = None,
    ledger: str | Path | None = None,
    format: str = "md",  # noqa: A002
    settings: Settings | None = None,
) -> Output:
    """What a record with these sources would measure, and its alert, before anyone loads them."""
    from .reports.plan import plan as make_plan

    settings = settings or Settings()
    ledger_path = Path(ledger) if ledger is not None else None
    config = settings.config(ledger_path)
    made = make_plan(
        sources,
        config=config,
        ledger=load(ledger_path) if ledger_path else None,
        budget=budget,
        model_name=model,
        full_window=full_window,
        output_tokens=output_tokens,
        encoding=encoding,
        root=settings.root,
    )
    text = _json(made.as_json()) if format == "json" else _render("plan.md.j2", {"plan": made}, config)
    return Output(text, [], made)


def models(
    pattern: str | None = None,
    *,
    provider: str | None = None,
    include_all: bool = False,
    format: str = "text",  # noqa: A002
    settings: Settings | None = None,
) -> Output:
    """The models ledgerkit knows (the configuration's own ones too): limits, prices and where they are from."""
    from .catalog import models as listed
    from .catalog import table_json, table_text

    config = (settings or Settings()).config(None)
    found = listed(pattern, provider=provider, include_all=include_all, extra=config.models)
    return Output(table_json(found) if format == "json" else table_text(found), [], found)


def count(
    paths: Sequence[str],
    *,
    encodings: Sequence[str] = (),
    messages: bool = False,
    stdin: str | None = None,
    settings: Settings | None = None,
    progress: Any = None,
) -> Output:
    """Characters, the estimate and exact tokens of files, folders, SOURCE_FILES entries or (``-``) the
    text given as ``stdin``; with ``messages``, chat transcripts with OpenAI's per-message overhead."""
    from .reports.count import count_messages, count_paths, count_text
    from .tokens.names import DEFAULT

    config = (settings or Settings()).config(None)
    chosen = tuple(encodings) or (config.encoding or DEFAULT,)
    if messages:
        result = count_messages(paths, chosen, divisor=config.divisor, progress=progress)
    elif list(paths) == ["-"]:
        result = count_text(stdin or "", "-", chosen, divisor=config.divisor)
    else:
        result = count_paths(paths, chosen, divisor=config.divisor, progress=progress)
    return Output("", [], result)


# --- helpers ---------------------------------------------------------------------------------------------


def _render(name: str, context: dict[str, Any], config: Config) -> str:
    from .writing.render import render

    return render(name, context, config.templates)


def _json(value: Any) -> str:
    from .reports.formatting import json_text

    return json_text(value, end="\n")


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file (a symlink or a second name of it too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def parse_day(text: str) -> date:
    """A ``--since``/``--until`` date: ``2025-08-16`` (or a full ISO time, of which the UTC date counts)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise UsageError(f"{text!r} is not a date such as 2025-08-16") from None
