"""tiktoken's own encodings, offline, to check ledgerkit's counts against, and a guard that fails on any
network connection.

The reference is ``tiktoken.get_encoding`` itself: its own constructor (pattern, special tokens, the
checksum it expects), reading the shipped rank files from a tiktoken cache folder made for the tests,
where tiktoken looks before it would download.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "ledgerkit" / "data"


def constructor_args(name: str) -> tuple[dict[str, Any], str, str | None]:
    """What tiktoken's constructor for ``name`` builds, and the rank file URL and expected hash it asks for."""
    import tiktoken_ext.openai_public as openai_public

    asked: list[tuple[str, str | None]] = []

    def record(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        asked.append((url, expected_hash))
        return {b"x": 0}

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = record
    try:
        args = openai_public.ENCODING_CONSTRUCTORS[name]()
    finally:
        openai_public.load_tiktoken_bpe = original
    (url, expected), *_ = asked
    return args, url, expected


def fill_tiktoken_cache(folder: Path, names: tuple[str, ...] = ("o200k_base", "cl100k_base")) -> Path:
    """Put the shipped rank files where tiktoken's cache keeps them (sha1 of the URL), decompressed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        _, url, _ = constructor_args(name)
        data = gzip.decompress((DATA / f"{name}.tiktoken.gz").read_bytes())
        (folder / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    return folder


class NetworkUsed(AssertionError):
    pass


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Every attempt to open a connection or resolve a name fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkUsed(f"network use attempted: {args!r}")

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo)
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo) = saved


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """{name: tiktoken.get_encoding(name)} for the shipped encodings, loaded by tiktoken itself, offline."""
    import tiktoken

    cache = fill_tiktoken_cache(tmp_path_factory.mktemp("tiktoken-cache"))
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        with no_network():
            return {name: tiktoken.get_encoding(name) for name in ("o200k_base", "cl100k_base")}
    finally:
        if saved is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved
