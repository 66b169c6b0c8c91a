from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

import ledgerkit
from ledgerkit.config import Config
from ledgerkit.diagnostics import format_text
from ledgerkit.errors import LedgerkitError
from ledgerkit.files.text import Lines
from ledgerkit.reading.parse import load, parse
from ledgerkit.writing.fill import FillResult, fill, fill_file

from .conftest import DATA, check_golden, ledger, make_files, record

GOLDEN = DATA / "fill"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "ledger.md").exists())


@pytest.mark.parametrize("case", CASES)
def test_golden(case, tmp_path, monkeypatch):
    shutil.copytree(GOLDEN / case, tmp_path / case, ignore=shutil.ignore_patterns("expected.*"))
    monkeypatch.chdir(tmp_path / case)
    result = fill(load("ledger.md"), config=Config(), root=".")
    check_golden(GOLDEN / case / "expected.md", result.data())
    check_golden(GOLDEN / case / "expected.txt", format_text(result.diagnostics).encode())


def test_golden_reference_sample(sample, monkeypatch):
    monkeypatch.chdir(sample.parent)
    result = fill(load(sample.name))
    assert result.diagnostics == []
    assert result.filled == ["TB-LEDGER-20250816-001", "TB-LEDGER-20250816-002"]
    check_golden(GOLDEN / "reference.expected.md", result.data())


def test_only_placeholders_and_summary_change_in_the_reference(sample):
    before = sample.read_text(encoding="utf-8").split("\n")
    result = fill(load(sample))
    after = result.text.split("\n")
    assert len(before) == len(after)
    changed = [n + 1 for n, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    summary = result.ledger.summary
    outside = [n for n in changed if not summary.first <= n <= summary.last]
    assert outside == [89, 90, 92, 114, 115, 117, 124]
    assert after[89] == "- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = " + after[89].rsplit(" ", 1)[1]
    assert after[123].startswith("- THRESHOLD_ACTION: {NONE|ALERT70|ALERT85|ALERT95|MINIMAL} → ")


def test_figures_follow_the_sources(sample):
    result = fill(load(sample))
    lk = parse(result.text)
    root = sample.parent
    for r in lk.records:
        entries = r.field("SOURCE_FILES").entries
        paths = [root / e.text.split("#")[0].strip().lstrip("/") for e in entries]
        chars = sum(len(p.read_text(encoding="utf-8").replace("\r\n", "\n")) for p in paths)
        assert r.get("CHAR_COUNT") == str(chars)
        tokens = -(-chars // 4)
        assert r.get("TOKEN_ESTIMATE").endswith(str(tokens))
        hundredths = tokens * 10000 // 130000
        assert r.get("UTILIZATION") == f"{hundredths // 100}.{hundredths % 100:02d}%"


def test_fill_is_idempotent_and_renders_the_summary_the_same_twice(sample):
    once = fill(load(sample))
    twice = fill(parse(once.text, str(sample)))
    assert twice.text == once.text and not twice.changed and twice.filled == []


def test_unfilled_record_keeps_session_totals_waiting(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    path = tmp_path / "l.md"
    text = ledger(record(1, ("a.md",)), record(2, ("missing.md",)))
    path.write_text(text, encoding="utf-8")
    result = fill(load(path), config=Config(), root=tmp_path)
    assert result.filled == ["TB-LEDGER-20250816-001"]
    assert "  - TOKEN_ESTIMATE_TOTAL: [fill]" in result.text
    assert "  - SESSION_COUNT: 1" in result.text
    second = result.ledger.records[1]
    assert result.ledger.record_text(second) in result.text  # byte for byte as it was


def test_templates_folder_overrides_the_summary(tmp_path):
    make_files(
        tmp_path,
        {
            "a.md": "x" * 40,
            "tpl/summary.md.j2": "- PROJECT_ID: {{ project.id }}\n  - TOKENS: {{ project.token_estimate_total }}\n",
        },
    )
    path = tmp_path / "l.md"
    path.write_text(ledger(record(1, ("a.md",))), encoding="utf-8")
    result = fill(load(path), config=Config(templates=tmp_path / "tpl"), root=tmp_path)
    assert "- PROJECT_ID: [assign_when_available]\n  - TOKENS: 10\n\n---\n" in result.text


def test_a_broken_template_is_an_error_naming_it(tmp_path):
    make_files(tmp_path, {"a.md": "x", "tpl/summary.md.j2": "{% for %}\n"})
    path = tmp_path / "l.md"
    path.write_text(ledger(record(1, ("a.md",))), encoding="utf-8")
    with pytest.raises(LedgerkitError, match=r"summary.md.j2:1: template syntax error"):
        fill(load(path), config=Config(templates=tmp_path / "tpl"), root=tmp_path)


# --- writing the file --------------------------------------------------------------------------------


def test_fill_file_writes_atomically_keeping_mode_newlines_and_bom(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    path = tmp_path / "l.md"
    path.write_bytes(("\ufeff" + ledger(record(1, ("a.md",)))).replace("\n", "\r\n").encode())
    path.chmod(0o640)
    result = fill_file(path, config=Config(), root=tmp_path)
    assert result.written
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert b"- CHAR_COUNT: 40\r\n" in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "l.md"]  # no temporary file left


def test_unchanged_file_is_not_written(sample):
    fill_file(sample)
    before = sample.stat()
    result = fill_file(sample)
    after = sample.stat()
    assert not result.changed and not result.written
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_check_writes_nothing(sample):
    data = sample.read_bytes()
    result = fill_file(sample, check=True)
    assert result.changed and not result.written and sample.read_bytes() == data


def test_symlinked_ledger_is_written_through_the_link(sample):
    link = sample.parent / "link.md"
    link.symlink_to(sample.name)
    fill_file(link)
    assert link.is_symlink()
    assert "[fill_after_measure]" not in sample.read_text(encoding="utf-8")


def test_a_crash_while_writing_leaves_the_old_file(sample, monkeypatch):
    data = sample.read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(LedgerkitError, match="cannot write: No space left on device"):
        fill_file(sample)
    assert sample.read_bytes() == data
    assert not [p for p in sample.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_change_on_disk_during_fill_is_kept_and_filled(sample):
    appended = "\n<!-- a person saved this while fill was running -->\n"

    def person_saves(result):
        if not person_saves.done:
            person_saves.done = True
            with sample.open("a", encoding="utf-8") as f:
                f.write(appended)

    person_saves.done = False
    result = fill_file(sample, on_computed=person_saves)
    text = sample.read_text(encoding="utf-8")
    assert result.written and text.endswith(appended) and "[fill_after_measure]" not in text


def test_a_ledger_that_keeps_changing_is_never_overwritten(sample):
    def person_keeps_saving(result):
        with sample.open("a", encoding="utf-8") as f:
            f.write("x\n")

    with pytest.raises(LedgerkitError, match="kept changing on disk"):
        fill_file(sample, on_computed=person_keeps_saving)
    text = sample.read_text(encoding="utf-8")
    assert text.endswith("x\nx\nx\n") and "[fill_after_measure]" in text


def test_library_api_without_the_cli(sample):
    lk = ledgerkit.load(sample)
    result = ledgerkit.fill(lk)
    assert isinstance(result, ledgerkit.FillResult) and result.ok and result.changed
    assert "+- CHAR_COUNT: " in result.diff()


def test_io_errors_are_ledgerkit_errors(tmp_path):
    with pytest.raises(LedgerkitError, match="no such file"):
        fill_file(tmp_path / "missing.md")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe")
    with pytest.raises(LedgerkitError, match=r"not UTF-8 text \(byte 0xff at offset 0\)"):
        fill_file(tmp_path / "bad.md")
    with pytest.raises(LedgerkitError, match="is a directory"):
        fill_file(tmp_path)


# --- properties over generated ledgers ----------------------------------------------------------------

import re  # noqa: E402

import hypothesis.strategies as st  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

_FILES = {"a.md": "alpha\n" * 20, "b/한글 파일.md": "가나다라\r\n" * 7, "c.txt": "\ufeffbom text 🪷\n"}
_SOURCES = ["a.md", "/a.md:2-5", "b/한글 파일.md", "b/*.md", "c.txt#L1", "missing.md"]
_FIGURES = {
    "CHAR_COUNT": ["[fill_after_measure]", "[fill]", "120", "1,200 chars"],
    "TOKEN_ESTIMATE": ["ceil(CHAR_COUNT / 4) = [fill]", "[fill]", "ceil(CHAR_COUNT / 3) = [fill]", "30"],
    "BUDGET_C": ["[fill]", "1000", "50"],
    "UTILIZATION": ["[fill]%", "[fill]", "3.00%"],
    "THRESHOLD_ACTION": ["{NONE|ALERT70|ALERT85|ALERT95|MINIMAL} → [fill]", "[fill]", "NONE"],
}
_OWNED = tuple(f"- {key}:" for key in _FIGURES)
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\n\r"), max_size=12
) | st.sampled_from(["한국어 메모 🪷", "emoji 👩‍💻 ZWJ", "[fill]", "`code`", "trailing  ", "<b>x</b>"])
_NOISE = st.sampled_from(
    [
        "```\n### RUN_ID: TB-FAKE\n- CHAR_COUNT: [fill]\n```\n",
        "> ### RUN_ID: TB-QUOTED\n> - CHAR_COUNT: [fill]\n",
        "<!--\n- CHAR_COUNT: [fill]\n-->\n",
        "A paragraph 🪷 with [fill] in it.\n",
        "",
    ]
)


@st.composite
def _ledgers(draw):
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [
        "# Ledger 🪷",
        "",
        "## 0) Budget",
        f"- SESSION_BUDGET_C: {draw(st.sampled_from([1000, 130000]))} tokens",
        "",
        "---",
        "",
    ]
    lines += draw(_NOISE).split("\n")
    for n in range(1, draw(st.integers(0, 4)) + 1):
        lines += [
            f"### RUN_ID: TB-LEDGER-20250816-{n:03d}",
            f"- CONTEXT_ID: S{draw(st.integers(1, 2))}",
            "- SOURCE_FILES:",
        ]
        lines += [f"  - {s}" for s in draw(st.lists(st.sampled_from(_SOURCES), min_size=1, max_size=3))]
        for key, choices in _FIGURES.items():
            if draw(st.booleans()) or key != "BUDGET_C":
                lines.append(f"- {key}: {draw(st.sampled_from(choices))}")
        lines += ["- NOTES:", f"  - {draw(_TEXT)}", ""]
        lines += draw(_NOISE).split("\n") + ["---", ""]
    summary = None
    if draw(st.booleans()):
        lines += ["## 7) Cumulative Summary"]
        first = len(lines)
        lines += ["- PROJECT_ID: " + draw(_TEXT), "  - SESSION_COUNT: [fill]"]
        summary = (first, len(lines) - 1)
        lines += ["", "---", "- [ ] a check box [fill]"]
    text = newline.join(lines) + draw(st.sampled_from([newline, ""]))
    return ("\ufeff" if draw(st.booleans()) else "") + text, summary


def _figure_pattern(line: str) -> re.Pattern[str]:
    pieces = re.split(r"(\[fill(?:_[^\]\s]*)?\])", line)
    figure = r"(?:\d+(?:\.\d\d)?%?|NONE|ALERT70|ALERT85|ALERT95|MINIMAL)"
    return re.compile("".join(figure if i % 2 else re.escape(p) for i, p in enumerate(pieces)))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    make_files(root, _FILES)
    return root


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ledgers())
def test_fill_keeps_every_byte_it_does_not_own_and_is_idempotent(tree, generated):
    text, summary = generated
    lk = parse(text, str(tree / "ledger.md"))
    once = fill(lk, config=Config(), root=tree)
    assert once.data().startswith(b"\xef\xbb\xbf") == text.startswith("\ufeff")
    old = lk.lines
    new = parse(once.text).lines
    if summary is None:
        pairs = list(zip(old.contents, new.contents, old.endings, new.endings, strict=False))
        assert len(old.contents) == len(new.contents)
    else:
        first, last = summary  # 0-based, inclusive
        tail = len(old.contents) - last - 1
        pairs = list(
            zip(
                old.contents[:first] + old.contents[last + 1 :],
                new.contents[:first] + new.contents[len(new.contents) - tail :],
                old.endings[:first] + old.endings[last + 1 :],
                new.endings[:first] + new.endings[len(new.endings) - tail :],
                strict=False,
            )
        )
        assert new.contents[first].startswith("- ")  # the re-rendered summary starts where the old one did
        project = next(line for line in new.contents[first:] if line.startswith("- PROJECT_ID: "))
        assert project == old.contents[first]  # the person's PROJECT_ID, byte for byte
    for before, after, end_before, end_after in pairs:
        assert end_before == end_after
        if before != after:
            assert before.startswith(_OWNED), (before, after)
            assert _figure_pattern(before).fullmatch(after), (before, after)
    twice = fill(parse(once.text, str(tree / "ledger.md")), config=Config(), root=tree)
    assert twice.text == once.text


def test_a_record_is_measured_only_when_a_waiting_figure_needs_it(tmp_path):
    # TOKEN_ESTIMATE is written, so UTILIZATION needs no measurement: the missing source does not matter.
    text = ledger(record(1, ("missing.md",), char_count="40", token_estimate="10", action="NONE"))
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert result.diagnostics == [] and "- UTILIZATION: 1.00%\n" in result.text


def test_no_budget_anywhere(tmp_path):
    make_files(tmp_path, {"a.md": "abcd"})
    text = ledger(record(1, ("a.md",), budget="[fill]")).replace("- SESSION_BUDGET_C: 1000 tokens\n", "")
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    line = text.split("\n").index("- BUDGET_C: [fill]") + 1
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("LK105", line, 13)]
    assert result.diagnostics[0].path == str(tmp_path / "l.md")
    assert result.filled == []
    configured = fill(parse(text, str(tmp_path / "l.md")), config=Config(budget=200), root=tmp_path)
    assert (
        configured.diagnostics == []
        and "- BUDGET_C: 200\n" in configured.text
        and "- UTILIZATION: 0.50%\n" in configured.text
    )


def test_configured_thresholds_decide_the_action(tmp_path):
    from ledgerkit.config import Thresholds

    make_files(tmp_path, {"a.md": "x" * 2400})  # 600 of 1000 tokens: 60 %
    text = ledger(record(1, ("a.md",)))
    default = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert "- THRESHOLD_ACTION: NONE\n" in default.text
    lower = Config(thresholds=Thresholds(alert70=60, alert85=80, alert95=90, minimal=100))
    assert (
        "- THRESHOLD_ACTION: ALERT70\n" in fill(parse(text, str(tmp_path / "l.md")), config=lower, root=tmp_path).text
    )


def test_every_problem_of_a_record_is_reported_in_one_run(tmp_path):
    text = ledger(record(1, ("missing.md",), char_count="[fill] [fill]", budget="lots"))
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert sorted(d.code for d in result.diagnostics) == ["LK102", "LK103", "LK201"]
    lk = result.ledger
    assert result.filled == [] and lk.record_text(lk.records[0]) in result.text  # the record as it was


def test_fill_refuses_an_edit_outside_what_it_owns(sample, monkeypatch):
    import importlib

    fill_module = importlib.import_module("ledgerkit.writing.fill")
    real_edits = fill_module.record_edits_for

    def sloppy_edits(figures):  # a bug that also eats the space before each placeholder
        return [fill_module.Edit(e.line, e.start - 1, e.end, e.text) for e in real_edits(figures)]

    monkeypatch.setattr(fill_module, "record_edits_for", sloppy_edits)
    data = sample.read_bytes()
    with pytest.raises(LedgerkitError, match=r"internal error: fill would change line 89, which it does not own"):
        fill_file(sample)
    assert sample.read_bytes() == data


@pytest.mark.parametrize("where", ["before", "after", "ending", "dropped"])
def test_fill_refuses_a_change_anywhere_outside_what_it_owns(sample, monkeypatch, where):
    """The proof compares the lines before and after the summary, their endings too, and a line lost at the end."""
    import importlib

    fill_module = importlib.import_module("ledgerkit.writing.fill")
    real_apply = fill_module.apply
    summary = load(sample).summary
    assert summary is not None and summary.last < len(sample.read_text(encoding="utf-8").splitlines())

    def sloppy_apply(ledger, edits, lines):
        text = real_apply(ledger, edits, lines).split("\n")
        if where == "before":
            text[2] += " "
        elif where == "after":
            text[-3] = text[-3] + "x"
        elif where == "ending":
            text[2] += "\r"
        else:
            text = text[:-3] + [""]
        return "\n".join(text)

    monkeypatch.setattr(fill_module, "apply", sloppy_apply)
    data = sample.read_bytes()
    with pytest.raises(LedgerkitError, match=r"internal error: fill would change line \d+, which it does not own"):
        fill_file(sample)
    assert sample.read_bytes() == data


def test_the_proof_reads_the_new_text_to_its_end():
    """The proof walks the new text beside the old lines: with the summary left as it is, a line past the old
    text's last one is refused too, and so is a CR that became a CRLF."""
    from ledgerkit.writing.fill import _prove_only_owned_changed

    text = ledger(record(1, ("a.md",)))
    lk = parse(text, "l.md")
    filled = text.replace("[fill_after_measure]", "12", 1)
    _prove_only_owned_changed(lk, filled, False)  # a placeholder filled: kept
    with pytest.raises(LedgerkitError, match=rf"would change line {len(lk.lines.contents) + 1},"):
        _prove_only_owned_changed(lk, filled + "x\n", False)
    cr = parse(text.replace("\n", "\r"), "l.md")
    _prove_only_owned_changed(cr, cr.text.replace("[fill_after_measure]", "12", 1), True)
    with pytest.raises(LedgerkitError, match=r"would change line 3,"):
        _prove_only_owned_changed(cr, cr.text.replace("\r", "\r\n", 3).replace("\r\n", "\r", 2), True)


def test_fill_warns_of_a_source_named_twice_and_counts_it_once(tmp_path):
    # Issue 15: a source listed twice in one record was counted once without a word; verify and append said
    # so, and now the command that counts it does too.
    from ledgerkit.writing.fill import fill_file

    from .conftest import ledger, make_files, record

    make_files(tmp_path, {"a.md": "x" * 40, "l.md": ledger(record(1, ("a.md", "./a.md")))})
    result = fill_file(tmp_path / "l.md")
    (warning,) = [d for d in result.diagnostics if d.code == "LK210"]
    assert warning.severity == "warning" and "./a.md names the same file as a.md" in warning.message
    assert result.ok and "- CHAR_COUNT: 40" in (tmp_path / "l.md").read_text(encoding="utf-8")


# --- what fill would change, found in linear time (issue 12: `fill --check` and `--diff`) ------------------


def _difflib_changes(result: FillResult) -> tuple[str, list[tuple[str, int, int, int, int]]]:
    """The diff and the opcodes as difflib's search finds them over the whole texts, without its junk heuristic
    (which, past 200 lines, showed some unchanged lines as removed and added again), in time that grew with the
    square of the lines fill changed."""
    import difflib

    from ledgerkit.files.text import _unified

    def ended(text: str) -> list[str]:
        lines = Lines.split(text)
        return [c + e for c, e in zip(lines.contents, lines.endings, strict=True)]

    a, b = ended(result.ledger.text), ended(result.text)
    whole = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    diff = "".join(_unified(a, b, whole, result.ledger.display_path))
    old, new = result.ledger.lines.contents, Lines.split(result.text).contents
    return diff, difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    filled=st.lists(st.booleans(), min_size=1, max_size=14),
    summary=st.sampled_from(["kept", "written", "none"]),
)
def test_the_diff_and_the_changed_lines_are_difflibs(tmp_path: Path, filled: list[bool], summary: str):
    """Fill's diff and changed lines come from the fill's own alignment (lines changed where they stand, the
    summary matched alone): for ledgers of filled and waiting records (past 200 lines too), with the summary
    re-rendered, already as fill writes it, or absent, they are exactly what difflib's search finds over the
    whole texts."""
    make_files(tmp_path, {"a.md": "x" * 40})
    records = [
        record(n, char_count="40", token_estimate="ceil(CHAR_COUNT / 4) = 10", utilization="1.00%", action="NONE")
        if done
        else record(n)
        for n, done in enumerate(filled, 1)
    ]
    text = ledger(*records, summary=summary != "none")
    if summary == "written":
        text = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path).text
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    diff, opcodes = _difflib_changes(result)
    assert result.diff() == diff
    assert result.changed_lines() == opcodes


_LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "d", "\n", "a\r\n"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_LINES, _LINES)
def test_a_diff_from_known_opcodes_is_written_as_difflib_writes_it(a: list[str], b: list[str]):
    """The unified diff written from opcodes is difflib.unified_diff's, headers, hunk ranges and context alike
    (short texts: below 200 lines difflib's own opcodes are those of its plain search)."""
    import difflib

    from ledgerkit.files.text import _unified

    opcodes = difflib.SequenceMatcher(None, a, b).get_opcodes()
    assert "".join(_unified(a, b, opcodes, "l.md")) == "".join(difflib.unified_diff(a, b, "l.md", "l.md"))
