"""Encodings offline: the shipped rank files, tiktoken's own settings, the cache, names, and exact counts."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerkit.tokens import encodings, engine, fast, names
from ledgerkit.tokens.encodings import EncodingError, EncodingUnavailable

from .tiktoken_reference import DATA, constructor_args, fill_tiktoken_cache, no_network

SHIPPED = sorted(encodings.SHIPPED)
TEXTS = [
    "",
    "Hello, world! The quick brown fox jumps over the lazy dog.",
    "토큰 예산 원장: 현재 세션의 컨텍스트 한도 안에서 기억과 맥락을 안정적으로 유지한다.",
    "def fill(ledger):\n    return {k: v for k, v in ledger.items() if v}\n\n\n",
    "- CHAR_COUNT: [fill]  🪷 emoji ✨ and <|endoftext|> written as text",
    "   leading spaces, tabs\t\tand trailing\n\n\n   ",
    "1234567890 3.14159 1e10 0xdeadbeef",
]


# --- the shipped files are the ones tiktoken expects ---------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_settings_are_tiktokens_own(name):
    args, url, expected_hash = constructor_args(name)
    spec = encodings.SHIPPED[name]
    assert spec.sha256 == expected_hash
    assert spec.pat_str == args["pat_str"]
    assert spec.special_tokens == args["special_tokens"]
    assert url.endswith(f"/{name}.tiktoken")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_has_the_expected_checksum_and_size(name):
    data = gzip.decompress(encodings.shipped_path(name).read_bytes())
    assert hashlib.sha256(data).hexdigest() == encodings.SHIPPED[name].sha256
    assert len(data.splitlines()) == encodings.SHIPPED[name].size
    assert encodings.shipped_path(name).resolve() == (DATA / encodings.SHIPPED[name].file).resolve()


# --- exact counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_counts_equal_tiktokens_own(name, reference):
    assert engine.count(TEXTS, name) == [len(reference[name].encode_ordinary(t)) for t in TEXTS]
    assert encodings.load_encoding(name).name == name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=300), max_size=5))
def test_counts_equal_tiktoken_on_any_text(reference, texts):
    for name in SHIPPED:
        assert engine.count(texts, name) == [len(reference[name].encode_ordinary(t)) for t in texts]


def test_texts_are_counted_on_every_core_as_they_come_in_order(monkeypatch, reference):
    monkeypatch.setenv(fast.ENGINE_VARIABLE, "tiktoken")  # the tiktoken engine: threads (test_engine.py: the other)
    texts = [("토큰 " if i % 3 else "token ") * (500 + 37 * i) for i in range(60)]
    real = encodings.load_encoding("o200k_base")
    threads: set[str] = set()
    given: list[int] = []
    calls: list[str] = []

    class Watched:
        def encode_ordinary(self, text: str) -> list[int]:
            calls.append(text)
            threads.add(threading.current_thread().name)
            return real.encode_ordinary(text)

    def lazily():
        for i, text in enumerate(texts):
            given.append(i)
            yield text

    monkeypatch.setattr(encodings, "load_encoding", lambda name: Watched())
    monkeypatch.setattr(engine, "workers", lambda: 2)
    seen: list[int] = []
    counts = engine.count_many(lazily(), ["o200k_base", "claude"], progress=seen.append)
    expected = [len(reference["o200k_base"].encode_ordinary(t)) for t in texts]
    assert counts == {"o200k_base": expected, "claude": expected}
    assert len(calls) == len(texts)  # one encoding: each text counted once for both names
    assert len(threads) == 2 and all(t.startswith("ledgerkit-count") for t in threads)
    assert seen == list(range(1, len(texts) + 1)) and given == list(range(len(texts)))


def test_an_encoding_is_loaded_once_per_process():
    assert encodings.load_encoding("o200k_base") is encodings.load_encoding(names.resolve("gpt-4o").encoding)


# --- names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "exact", "label"),
    [
        ("o200k_base", "o200k_base", True, "o200k_base"),
        ("cl100k_base", "cl100k_base", True, "cl100k_base"),
        ("gpt-4o", "o200k_base", True, "gpt-4o (o200k_base)"),
        ("gpt-4", "cl100k_base", True, "gpt-4 (cl100k_base)"),
        ("claude", "o200k_base", False, "claude (estimate via o200k_base)"),
        ("claude-3-5-sonnet", "o200k_base", False, "claude-3-5-sonnet (estimate via o200k_base)"),
        ("gemini-1.5-pro", "o200k_base", False, "gemini-1.5-pro (estimate via o200k_base)"),
        ("Llama3.1-8B", "o200k_base", False, "Llama3.1-8B (estimate via o200k_base)"),
    ],
)
def test_names_resolve_to_an_encoding_and_say_whether_exact(name, encoding, exact, label):
    resolved = names.resolve(name)
    assert (resolved.encoding, resolved.exact) == (encoding, exact)
    assert names.is_exact(name) is exact
    assert names.label(name) == label


def test_an_estimate_counts_with_its_shipped_encoding(reference):
    assert engine.count(TEXTS, "claude") == [len(reference["o200k_base"].encode_ordinary(t)) for t in TEXTS]


def test_an_unknown_name_is_a_clear_error_naming_what_is_available():
    with pytest.raises(EncodingUnavailable) as exc:
        engine.count(["x"], "no-such-encoding")
    message = str(exc.value)
    assert "unknown encoding 'no-such-encoding'" in message
    assert "cl100k_base, o200k_base" in message and "claude" in message
    assert names.available() == ["cl100k_base", "o200k_base"]


def test_another_tiktoken_encoding_needs_tiktokens_cache(tmp_path, monkeypatch, reference):
    monkeypatch.setattr(encodings, "_LOADED", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    with no_network(), pytest.raises(EncodingUnavailable) as exc:
        encodings.load_encoding("o200k_harmony")
    assert "not available offline" in str(exc.value) and "cl100k_base, o200k_base" in str(exc.value)

    # o200k_harmony is o200k_base's ranks with more special tokens: once tiktoken has the file cached, it loads.
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(fill_tiktoken_cache(tmp_path / "cache", ("o200k_base",))))
    with no_network():
        assert encodings.load_encoding("o200k_harmony").name == "o200k_harmony"
        assert engine.count(TEXTS, "o200k_harmony") == [len(reference["o200k_base"].encode_ordinary(t)) for t in TEXTS]


# --- the rank files, their checksum and the cache ------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LEDGERKIT_CACHE_DIR", str(folder))
    return folder


def _parsed(name: str) -> dict[bytes, int]:
    data = gzip.decompress((DATA / encodings.SHIPPED[name].file).read_bytes())
    import base64

    return {base64.b64decode(t): int(r) for t, r in (line.split() for line in data.splitlines() if line)}


@pytest.mark.parametrize("name", SHIPPED)
def test_the_cache_is_written_then_used_instead_of_the_rank_file(name, cache, monkeypatch):
    ranks = encodings.mergeable_ranks(name)
    assert ranks == _parsed(name)
    (written,) = cache.iterdir()
    assert written == encodings.cache_file(name) and encodings.SHIPPED[name].sha256[:16] in written.name
    monkeypatch.setattr(encodings, "shipped_path", lambda n: cache / "gone.gz")  # the rank file cannot be read now
    assert encodings.mergeable_ranks(name) == ranks


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "flipped":
        data[-100] ^= 0xFF
    elif how == "garbage":
        data = bytearray(b"not a cache at all")
    elif how == "header":
        data = data.replace(b'"byteorder"', b'"byteorde"', 1)
    elif how == "other-key":
        data = data.replace(encodings.SHIPPED["o200k_base"].sha256.encode(), b"0" * 64, 1)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "flipped", "garbage", "header", "other-key"])
def test_a_damaged_cache_is_ignored_and_rebuilt(how, cache, monkeypatch):
    expected = encodings.mergeable_ranks("o200k_base")
    path = encodings.cache_file("o200k_base")
    _damage(path, how)
    assert encodings._read_cache(path, "o200k_base", encodings.SHIPPED["o200k_base"]) is None
    assert encodings.mergeable_ranks("o200k_base") == expected
    monkeypatch.setattr(encodings, "shipped_path", lambda n: cache / "gone.gz")
    assert encodings.mergeable_ranks("o200k_base") == expected  # rebuilt: good again without the rank file


def test_the_cache_is_never_required(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made here")
    monkeypatch.setenv("LEDGERKIT_CACHE_DIR", str(blocker / "cache"))
    assert encodings.mergeable_ranks("cl100k_base") == _parsed("cl100k_base")
    monkeypatch.setenv("LEDGERKIT_CACHE_DIR", "")
    assert encodings.cache_dir() is None
    assert encodings.mergeable_ranks("cl100k_base") == _parsed("cl100k_base")


def test_the_cache_folder_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert encodings.cache_dir() == tmp_path / "xdg" / "ledgerkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert encodings.cache_dir() == tmp_path / "home" / ".cache" / "ledgerkit"


@pytest.mark.parametrize("damage", ["changed", "not-gzip"])
def test_a_rank_file_that_is_not_the_real_one_is_a_clear_error(damage, cache, tmp_path, monkeypatch):
    real = gzip.decompress((DATA / "o200k_base.tiktoken.gz").read_bytes())
    fake = tmp_path / "o200k_base.tiktoken.gz"
    changed = real.replace(b" 100\n", b" 101\n", 1)
    if damage == "changed":
        fake.write_bytes(gzip.compress(changed))
    else:
        fake.write_bytes(real[:1000])
    monkeypatch.setattr(encodings, "shipped_path", lambda n: fake)
    with pytest.raises(EncodingError) as exc:
        encodings.mergeable_ranks("o200k_base")
    message = str(exc.value)
    assert message.startswith(f"{fake}: ")
    if damage == "changed":
        assert "checksum mismatch" in message and encodings.SHIPPED["o200k_base"].sha256 in message
        assert f"has sha256 {hashlib.sha256(changed).hexdigest()}" in message
    else:
        assert "cannot read the o200k_base rank file" in message or "damaged" in message
    assert not cache.exists() or not any(cache.iterdir())  # nothing cached from a bad file


# --- offline, always; and only when needed -------------------------------------------------------------

#: Runs the ledgerkit command with every socket connection and name lookup failing.
_GUARD = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("ledgerkit tried to use the network")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
sys.argv = ["ledgerkit", *sys.argv[1:]]
from ledgerkit.cli import main
main()
"""


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "LEDGERKIT_CACHE_DIR"}
    env.update(
        TIKTOKEN_CACHE_DIR=str(tmp_path / "tiktoken-empty"),
        XDG_CACHE_HOME=str(tmp_path / "xdg"),
        HOME=str(tmp_path / "home"),
        HTTP_PROXY="http://127.0.0.1:9",  # the discard port: a proxy that refuses everything
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        NO_PROXY="",
    )
    return env


def test_the_guard_does_block_the_network(tmp_path):
    code = _GUARD.split("sys.argv")[0] + "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9')"
    done = subprocess.run([sys.executable, "-c", code], env=_offline_env(tmp_path), capture_output=True, text=True)
    assert done.returncode != 0 and "ledgerkit tried to use the network" in done.stderr


@pytest.mark.parametrize("engine_choice", ["tiktoken", "auto"])
def test_counting_uses_no_network_with_empty_caches(tmp_path, reference, engine_choice):
    text = "오프라인 token count — no network at all.\n" * 50
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    args = [sys.executable, "-c", _GUARD, "count", "--json", "-e", "o200k_base", "-e", "cl100k_base", "a.md"]
    env = {**_offline_env(tmp_path), fast.ENGINE_VARIABLE: engine_choice}
    for run in ("first", "from the cache"):
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert (done.returncode, done.stderr) == (0, ""), run
        assert json.loads(done.stdout)["files"][0]["tokens"] == {
            name: len(reference[name].encode_ordinary(text)) for name in ("o200k_base", "cl100k_base")
        }
    assert not (tmp_path / "tiktoken-empty").exists()
    if engine_choice == "tiktoken" or fast._located() is None:  # bpe-openai has its tables built in: no cache
        cached = sorted(p.name for p in (tmp_path / "xdg" / "ledgerkit").iterdir())
        assert [n.split("-")[0] for n in cached] == ["cl100k_base", "o200k_base"]


def _modules_after(code: str, cwd: Path) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_import_ledgerkit_loads_no_encoding(tmp_path):
    modules = _modules_after("import ledgerkit, ledgerkit.cli, ledgerkit.tokens, ledgerkit.figures.exact", tmp_path)
    assert "tiktoken" not in modules and "ledgerkit.tokens" in modules


def test_a_plain_fill_loads_no_encoding(sample):
    code = (
        "from click.testing import CliRunner\nfrom ledgerkit.cli import cli\n"
        f"result = CliRunner().invoke(cli, ['fill', {str(sample)!r}])\nassert result.exit_code == 0, result.output\n"
    )
    modules = _modules_after(code, sample.parent)
    assert "ledgerkit.writing.fill" in modules and "tiktoken" not in modules
    assert "TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = [fill]" not in sample.read_text(encoding="utf-8")
