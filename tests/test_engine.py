"""The counting engine: safe cuts, streaming, bounded queues, both cores, and the optional faster engine.

Every count is compared with tiktoken's own ``get_encoding(...)`` (the ``reference`` fixture) on the
whole text; nothing here is timed.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerkit.tokens import boundaries, encodings, engine, fast

SHIPPED = ("o200k_base", "cl100k_base")


def examples(n: int) -> settings:
    """Hypothesis settings for a test that also takes fixtures."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


#: Where the test extra installs bpe-openai (wheels exist there): the faster engine must be present.
FAST_EXPECTED = sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64")

# --- text that stresses the pre-tokenisers -------------------------------------------------------------

ATOMS = [
    # whitespace runs and every kind of line ending, and whitespace that is not ASCII
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " \n",
    "\n ",
    "\t\n",
    "\xa0",
    "\u3000",
    "\x0b",
    "\x0c",
    "\x85",
    "\u2028",
    "\u2029",
    "\u200b",
    # letters of several scripts, upper, lower, title case, and combining marks
    "a",
    "Z",
    "word",
    "Word",
    "WORD",
    "ǅ",
    "한국어",
    "토큰",
    "日本語",
    "ひらがな",
    "Ωμέγα",
    "Жук",
    "عربي",
    "हिन्दी",
    "e\u0301",
    "\u0301",
    "\u093f",
    "\u0308",
    "ä",
    "ß",
    # digits, ASCII and not
    "0",
    "12",
    "1234",
    "٣",
    "४",
    "½",
    "²",
    # punctuation, slashes (o200k's trailing [\r\n/]*), specials written as text
    ".",
    ",",
    "!",
    "?",
    "/",
    "//",
    "-",
    "_",
    "#",
    "*",
    "|",
    "`",
    "(",
    ")",
    "\\",
    "<|endoftext|>",
    "…",
    "—",
    # apostrophes and contractions, both cases
    "'",
    "’",
    "'s",
    "'S",
    "'t",
    "'ll",
    "'LL",
    "'re",
    "'ve",
    "'d",
    "'m",
    "n't",
    "'x",
    # emoji, joiners, flags, variation selectors
    "🪷",
    "✨",
    "👍🏽",
    "🇰🇷",
    "👩\u200d💻",
    "\ufe0f",
]


def stressing_text(max_atoms: int = 60) -> st.SearchStrategy[str]:
    atom = st.one_of(st.sampled_from(ATOMS), st.text(max_size=3))
    return st.lists(atom, max_size=max_atoms).map("".join)


def tokens_by_pieces(enc, pieces: list[str]) -> list[int]:
    return [t for piece in pieces for t in enc.encode_ordinary(piece)]


# --- the safe cuts (ledgerkit.tokens.boundaries) -------------------------------------------------------


@examples(400)
@given(stressing_text())
def test_cutting_at_every_safe_place_gives_the_tokens_of_the_whole(reference, text):
    pieces = list(boundaries.pieces(text, 1))  # size 1: a cut at every safe place
    assert "".join(pieces) == text
    for name in SHIPPED:
        # The token sequence itself, a stronger claim than the count: the pre-tokens are the same.
        assert tokens_by_pieces(reference[name], pieces) == reference[name].encode_ordinary(text), name


@examples(200)
@given(stressing_text(), st.lists(st.integers(1, 40), min_size=1, max_size=20), st.integers(1, 30))
def test_a_stream_in_any_chunks_cuts_where_the_whole_would(reference, text, sizes, piece):
    chunks, start = [], 0
    while start < len(text):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(text[start : start + size])
        start += size
    pieces = list(boundaries.split_stream(chunks, piece))
    assert "".join(pieces) == text
    for name in SHIPPED:
        assert tokens_by_pieces(reference[name], pieces) == reference[name].encode_ordinary(text), name


@pytest.mark.parametrize(
    ("text", "cut", "name"),
    [
        ("x!\n/y", 3, "o200k_base"),  # after a newline, before "/": o200k's punctuation takes "\n/"
        ("a   b", 2, "o200k_base"),  # inside a run of spaces: \s+(?!\S) leaves one for the word
        ("a   b", 2, "cl100k_base"),
        ("a\n \nb", 2, "o200k_base"),  # after a newline, before whitespace: \s*[\r\n]+ takes "\n \n"
        ("a\n \nb", 2, "cl100k_base"),
        ("don't", 3, "o200k_base"),  # before a contraction, which o200k keeps with its word
        ("Hindi हिन्दी", 8, "o200k_base"),  # before a combining mark (a Devanagari vowel sign)
        ("hello", 2, "cl100k_base"),  # inside a word
    ],
)
def test_the_places_the_rules_refuse_do_change_the_tokens(reference, text, cut, name):
    # Why the rules are narrow: each of these cuts changes what tiktoken makes of the text.
    enc = reference[name]
    assert tokens_by_pieces(enc, [text[:cut], text[cut:]]) != enc.encode_ordinary(text)
    assert boundaries.cut_at_or_after(text, cut, cut + 1) is None


def test_a_text_without_a_safe_place_is_one_piece():
    assert list(boundaries.pieces("x" * 5000, 10)) == ["x" * 5000]
    assert list(boundaries.pieces("a\n  b" * 1000, 10)) == ["a\n  b" * 1000]


def test_pieces_are_cut_near_the_size_asked():
    text = "word " * 10_000
    pieces = list(boundaries.pieces(text, 1000))
    assert "".join(pieces) == text and len(pieces) == 50
    assert all(1000 <= len(p) <= 1005 for p in pieces[:-1])


def test_a_stream_holds_a_bounded_window(monkeypatch):
    held: list[int] = []
    real = boundaries.Splitter.feed

    def watched(self, chunk):
        yield from real(self, chunk)
        held.append(self._held)

    monkeypatch.setattr(boundaries.Splitter, "feed", watched)
    line = "한국어 text, 123.\n"
    chunks = [line * 50] * 2000  # about 1.7 M characters in 850-character chunks
    pieces = list(boundaries.split_stream(chunks, 4096))
    assert "".join(pieces) == "".join(chunks)
    assert max(held) <= 2 * 4096 + len(chunks[0]) and max(map(len, pieces)) <= 4096 + len(line)


def test_a_stretch_without_a_cut_is_searched_in_linear_time(monkeypatch):
    scanned: list[int] = []
    real = boundaries.cut_at_or_after

    def watched(text, start, end=None):
        scanned.append((len(text) if end is None else end) - start)
        return real(text, start, end)

    monkeypatch.setattr(boundaries, "cut_at_or_after", watched)
    n = 400_000
    chunks = ["x" * 100] * (n // 100) + [" word" * 200] * 20
    pieces = list(boundaries.split_stream(chunks, 1000))
    assert pieces[0] == "x" * n and "".join(pieces) == "".join(chunks)  # held whole until the first cut
    assert sum(scanned) <= 3 * n  # a search per chunk would scan about n * n / 200 characters


# --- counting: both engines agree with tiktoken, in pieces and in streams ------------------------------


def _require_fast(monkeypatch) -> None:
    monkeypatch.delenv(fast.ENGINE_VARIABLE, raising=False)
    if fast.installed_version() is None:
        if FAST_EXPECTED:
            pytest.fail("bpe-openai is in the test extra for this platform but is not installed")
        pytest.skip("bpe-openai has no wheel for this platform")


@pytest.fixture(params=["tiktoken", "bpe-openai"])
def which(request, monkeypatch) -> str:
    """Run the test with each engine (bpe-openai: a failure where the test extra installs it and it is absent)."""
    if request.param == "tiktoken":
        monkeypatch.setenv(fast.ENGINE_VARIABLE, "tiktoken")
    else:
        _require_fast(monkeypatch)
    assert engine.engine(["o200k_base"]).startswith(request.param)
    return str(request.param)


@pytest.fixture
def bpe(monkeypatch) -> None:
    """The test is about bpe-openai itself."""
    _require_fast(monkeypatch)


@examples(80)
@given(texts=st.lists(stressing_text(), max_size=4))
def test_counts_equal_tiktokens_whole_text_with_small_pieces(reference, which, monkeypatch, texts):
    monkeypatch.setattr(boundaries, "PIECE", 3)
    counts = engine.count_many(texts, list(SHIPPED))
    assert counts == {name: [len(reference[name].encode_ordinary(t)) for t in texts] for name in SHIPPED}


@examples(60)
@given(text=stressing_text(120), size=st.integers(1, 50))
def test_count_stream_equals_tiktoken_on_the_joined_text(reference, which, monkeypatch, text, size):
    monkeypatch.setattr(boundaries, "PIECE", 7)
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    expected = {name: len(reference[name].encode_ordinary(text)) for name in SHIPPED}
    assert engine.count_stream_many(iter(chunks), list(SHIPPED)) == expected
    assert engine.count_stream(iter(chunks), "gpt-4o") == expected["o200k_base"]


@pytest.mark.parametrize(
    "text",
    ["\ud800", "a\ud83d\ude00b", "\udc00 \ud800x", "x\ud83d\n\ude00 y" * 3, "ok \ud800\n" * 200],
)
def test_lone_surrogates_are_counted_as_tiktoken_counts_them(reference, which, monkeypatch, text):
    monkeypatch.setattr(boundaries, "PIECE", 2)
    for name in SHIPPED:
        expected = len(reference[name].encode_ordinary(text))
        assert engine.count([text], name) == [expected]
        assert engine.count_stream(iter(text), name) == expected


def test_the_calibration_corpus_counts_as_tiktoken_counts_it(reference, which):
    from bench import corpus

    # The texts bench/calibrate.py measures (its categories(); importing it fails on main, see the report).
    texts = [
        corpus.english(),
        corpus.code(),
        corpus.bare_code(),
        corpus.korean(),
        corpus.sample_markdown(),
        corpus.mixed_markdown(400_000, seed=1),
    ]
    counts = engine.count_many(texts, list(SHIPPED))
    for name in SHIPPED:
        assert counts[name] == [len(reference[name].encode_ordinary(t)) for t in texts], name
    # And one long text streamed in file-sized chunks, cut into pieces: the count of the whole.
    joined = "\n".join(texts)
    assert engine.count_stream((joined[i : i + 65536] for i in range(0, len(joined), 65536)), "o200k_base") == len(
        reference["o200k_base"].encode_ordinary(joined)
    )


def test_an_encoding_without_a_proof_of_safe_cuts_is_counted_whole(monkeypatch):
    backend = engine._Backend(["o200k_harmony"])
    assert not backend.chunkable and engine._Backend(list(SHIPPED)).chunkable


# --- memory: pieces, never a whole token list; a bounded queue -----------------------------------------


class Watched:
    """A tiktoken Encoding that records the length of every text it encodes."""

    def __init__(self, real) -> None:
        self.real, self.lengths = real, []
        self.name = real.name

    def encode_ordinary(self, text: str) -> list[int]:
        self.lengths.append(len(text))
        return self.real.encode_ordinary(text)


@pytest.fixture
def watched(monkeypatch) -> Watched:
    monkeypatch.setenv(fast.ENGINE_VARIABLE, "tiktoken")
    spy = Watched(encodings.load_encoding("o200k_base"))
    monkeypatch.setattr(encodings, "load_encoding", lambda name: spy)
    return spy


def test_a_big_text_is_encoded_in_pieces(reference, watched, monkeypatch):
    monkeypatch.setattr(boundaries, "PIECE", 10_000)
    text = "토큰 예산 원장, token budget ledger 123.\n" * 20_000  # 760,000 characters
    assert engine.count([text], "o200k_base") == [len(reference["o200k_base"].encode_ordinary(text))]
    assert len(watched.lengths) >= 70 and max(watched.lengths) <= 10_000 + 40
    watched.lengths.clear()
    assert engine.count_stream(iter([text[i : i + 4096] for i in range(0, len(text), 4096)]), "o200k_base") == len(
        reference["o200k_base"].encode_ordinary(text)
    )
    assert max(watched.lengths) <= 10_000 + 4096


def test_reading_ahead_is_bounded(reference, watched, monkeypatch):
    # Texts are buffered until a pool is worth starting, then at most _IN_FLIGHT_CHARS are queued.
    monkeypatch.setattr(engine, "workers", lambda: 2)
    monkeypatch.setattr(engine, "_IN_FLIGHT_CHARS", 50_000)
    text = "word " * 2000  # 10,000 characters
    ahead: list[int] = []

    def lazily() -> Iterator[str]:
        for i in range(300):
            ahead.append(i * len(text) - sum(watched.lengths))
            yield text

    counts = engine.count_many(lazily(), ["o200k_base"])["o200k_base"]
    assert counts == [len(reference["o200k_base"].encode_ordinary(text))] * 300
    bound = max(50_000, engine._Tiktoken.parallel_chars) + 2 * len(text)
    assert max(ahead) <= bound  # without one, all 3 MB would be read before the first count


def test_progress_counts_each_text_once_in_order(watched, monkeypatch):
    monkeypatch.setattr(engine, "workers", lambda: 2)
    monkeypatch.setattr(boundaries, "PIECE", 1000)
    texts = ["", "word " * 3000, "", "x", "토큰 " * 70_000, ""]
    seen: list[int] = []
    counts = engine.count_many(iter(texts), ["o200k_base"], progress=seen.append)["o200k_base"]
    assert seen == [1, 2, 3, 4, 5, 6] and counts[0] == counts[2] == counts[5] == 0 and counts[3] == 1


def test_a_tiktoken_panic_is_an_error_not_a_traceback(monkeypatch):
    monkeypatch.setenv(fast.ENGINE_VARIABLE, "tiktoken")
    with pytest.raises(encodings.EncodingError, match="tiktoken cannot count a text of 1000002 characters"):
        engine.count(["x" + " " * 1_000_000 + "x"], "o200k_base")


# --- the faster engine: found, pinned, checked, and absent ---------------------------------------------


@pytest.fixture
def fresh_lookup():
    fast._located.cache_clear()
    yield
    fast._located.cache_clear()


class _Hide:
    """A meta path finder that makes bpe_openai look uninstalled."""

    def find_spec(self, name, path=None, target=None):
        if name == "bpe_openai" or name.startswith("bpe_openai."):
            raise ModuleNotFoundError(name)
        return None


def test_without_the_faster_engine_tiktoken_counts(reference, monkeypatch, fresh_lookup):
    monkeypatch.setattr(sys, "meta_path", [_Hide(), *sys.meta_path])
    monkeypatch.delenv(fast.ENGINE_VARIABLE, raising=False)
    assert fast.installed_version() is None and engine.engine(SHIPPED) == "tiktoken"
    texts = ["토큰 예산 원장", "hello world " * 30_000]
    for name in SHIPPED:
        assert engine.count(texts, name) == [len(reference[name].encode_ordinary(t)) for t in texts]


def test_an_untested_version_of_the_faster_engine_is_not_used(monkeypatch, fresh_lookup):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda d: "9.9.9" if d == fast.DISTRIBUTION else real(d))
    assert fast.installed_version() is None and engine.engine(["o200k_base"]) == "tiktoken"


def test_the_faster_engine_is_present_where_the_test_extra_installs_it(bpe):
    assert fast.installed_version() in fast.TESTED
    assert engine.engine(["gpt-4o", "cl100k_base"]) == f"bpe-openai {fast.installed_version()}"
    assert engine.engine(["o200k_harmony"]) == "tiktoken"  # an encoding it does not have


@pytest.mark.parametrize("name", SHIPPED)
def test_the_faster_engines_tables_are_tiktokens(name, bpe):
    folder = Path(fast.extension_path()).parent
    # Its bundled rank file is the one tiktoken expects ...
    data = gzip.decompress((folder / "data" / f"{name}.tiktoken.gz").read_bytes())
    assert hashlib.sha256(data).hexdigest() == encodings.SHIPPED[name].sha256
    # ... and its compiled table maps every rank to the same bytes as ledgerkit's (tokens that are text).
    module = fast._module()
    tokenizer = module.tokenizer_for_encoding(name)
    checked = 0
    for token, rank in encodings.mergeable_ranks(name).items():
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert tokenizer.decode([rank]) == text, rank
        checked += 1
    assert checked > 0.9 * encodings.SHIPPED[name].size


def test_the_faster_engine_counts_on_both_cores_in_worker_processes(reference, bpe, monkeypatch):
    started: list[fast.Worker] = []
    real = fast.Worker.__init__

    def recording(self):
        real(self)
        started.append(self)

    monkeypatch.setattr(fast.Worker, "__init__", recording)
    monkeypatch.setattr(engine, "workers", lambda: 2)
    texts = [("토큰 " if i % 3 else "token ") * (5000 + 37 * i) for i in range(150)]  # about 5 M characters
    seen: list[int] = []
    counts = engine.count_many(iter(texts), ["o200k_base", "cl100k_base"], progress=seen.append)
    for name in SHIPPED:
        assert counts[name] == [len(reference[name].encode_ordinary(t)) for t in texts]
    assert len(started) == 2 and seen == list(range(1, len(texts) + 1))
    assert all(w._process.poll() is not None for w in started)  # ended when the run ended


def test_a_worker_that_dies_is_an_error(bpe):
    worker = fast.Worker()
    worker._process.kill()
    worker._process.wait(timeout=10)
    with pytest.raises(encodings.EncodingError, match="the counting process failed"):
        worker.count(["o200k_base"], ["some text"])
    worker.close()


def test_the_faster_engine_uses_its_compiled_module_alone(reference, bpe, tmp_path):
    text = "토큰 예산 원장 " * 10
    code = (
        "import sys, json\nfrom ledgerkit.tokens import engine\n"
        f"n = engine.count([{text!r}], 'o200k_base')\n"
        "print(json.dumps([n, 'bpe_openai' in sys.modules, 'tiktoken' in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    # The package's __init__ (which parses rank files in Python) is never run, nor is tiktoken imported.
    assert json.loads(done.stdout) == [[len(reference["o200k_base"].encode_ordinary(text))], False, False]


# --- import cost ---------------------------------------------------------------------------------------


def test_importing_the_engine_imports_no_tokenizer(tmp_path):
    code = "import sys, json\nimport ledgerkit.tokens.engine\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout))
    assert "ledgerkit.tokens.engine" in modules
    assert not {m for m in modules if m.split(".")[0] in ("tiktoken", "bpe_openai", "regex")}


def test_the_engine_can_be_forced_to_tiktoken(monkeypatch):
    monkeypatch.setenv(fast.ENGINE_VARIABLE, "tiktoken")
    assert engine.engine(["gpt-4o"]) == "tiktoken" and fast.installed_version() is None
