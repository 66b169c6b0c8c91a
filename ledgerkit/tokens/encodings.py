"""The encodings ledgerkit ships, loaded into tiktoken offline, and the cache that makes a repeated load fast.

o200k_base and cl100k_base ship in ``ledgerkit/data/`` and are checked with the sha256 digest tiktoken
itself expects. Another tiktoken encoding is used when tiktoken can load it without the network (its
cache). tiktoken is imported only when an encoding is loaded.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LedgerkitError

if TYPE_CHECKING:
    import tiktoken


@dataclass(frozen=True)
class Shipped:
    """A rank file in ledgerkit/data/ and what tiktoken's own constructor (tiktoken_ext/openai_public.py) uses."""

    file: str
    sha256: str  # of the decompressed rank file: tiktoken's expected_hash
    size: int  # mergeable tokens
    pat_str: str
    special_tokens: dict[str, int]


_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX, _FIM_MIDDLE, _FIM_SUFFIX = "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

#: The encodings that always load here, offline. tests/test_tokens.py checks every value against tiktoken.
SHIPPED: dict[str, Shipped] = {
    "cl100k_base": Shipped(
        file="cl100k_base.tiktoken.gz",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        size=100256,
        pat_str=(
            r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
            r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
        ),
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": Shipped(
        file="o200k_base.tiktoken.gz",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        size=199998,
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

#: OpenAI's encodings as tiktoken names them: counts with them are exact. Known without importing tiktoken,
#: so that verify can check a TOKEN_COUNT's encoding without loading anything.
OPENAI_ENCODINGS = ("cl100k_base", "gpt2", "o200k_base", "o200k_harmony", "p50k_base", "p50k_edit", "r50k_base")


class EncodingError(LedgerkitError):
    """An encoding cannot be loaded: its shipped rank file is damaged, or tiktoken fails."""


class EncodingUnavailable(EncodingError):
    """No encoding of that name can be had here, offline: unknown, or not in tiktoken's cache."""


# --- loading -------------------------------------------------------------------------------------------
# Importing this module stays cheap (config, fill and verify import it): the modules that loading needs
# are imported by the functions that load.

_LOCK = _thread.allocate_lock()
_LOADED: dict[str, tiktoken.Encoding] = {}


def load_encoding(encoding: str) -> tiktoken.Encoding:
    """The tiktoken Encoding of that name, loaded once per process and never from the network."""
    with _LOCK:
        loaded = _LOADED.get(encoding)
        if loaded is None:
            loaded = _load_shipped(encoding) if encoding in SHIPPED else _load_from_tiktoken(encoding)
            _LOADED[encoding] = loaded
        return loaded


def _load_shipped(name: str) -> tiktoken.Encoding:
    import tiktoken

    spec = SHIPPED[name]
    return tiktoken.Encoding(
        name, pat_str=spec.pat_str, mergeable_ranks=mergeable_ranks(name), special_tokens=dict(spec.special_tokens)
    )


class _Refused(Exception):
    """tiktoken wanted to fetch a file from the network."""


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    # tiktoken fetches a rank file that is not in its cache with tiktoken.load.read_file; replacing that one
    # function for the duration of the load is the narrowest way to be sure nothing is downloaded.
    import tiktoken.load

    original: Callable[[str], bytes] = tiktoken.load.read_file

    def refuse(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise _Refused(blobpath)
        return original(blobpath)

    tiktoken.load.read_file = refuse
    try:
        yield
    finally:
        tiktoken.load.read_file = original  # type: ignore[assignment]  # the same function, put back


def _load_from_tiktoken(name: str) -> tiktoken.Encoding:
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        raise EncodingUnavailable(
            f"unknown encoding {name!r}: available offline: {', '.join(sorted(SHIPPED))}; other tiktoken encodings "
            f"({', '.join(e for e in OPENAI_ENCODINGS if e not in SHIPPED)}) when tiktoken has them cached"
        )
    try:
        with _offline():
            return tiktoken.get_encoding(name)
    except _Refused as exc:
        raise EncodingUnavailable(
            f"encoding {name!r} is not available offline: tiktoken would download {exc} and ledgerkit never "
            f"uses the network. Available offline: {', '.join(sorted(SHIPPED))} (or put {name} in tiktoken's "
            "cache, TIKTOKEN_CACHE_DIR)"
        ) from None
    except (OSError, ValueError) as exc:
        raise EncodingError(f"encoding {name!r} cannot be loaded: {exc}") from None


# --- the rank files and their cache --------------------------------------------------------------------


def shipped_path(name: str) -> Path:
    """Where the shipped rank file of ``name`` is (wheel, editable install or checkout alike)."""
    from importlib.resources import files

    return Path(str(files("ledgerkit") / "data" / SHIPPED[name].file))


def mergeable_ranks(name: str) -> dict[bytes, int]:
    """The token -> rank table of a shipped encoding: from the cache when valid, else from the rank file."""
    spec = SHIPPED[name]
    cache = cache_file(name)
    if cache is not None:
        ranks = _read_cache(cache, name, spec)
        if ranks is not None:
            return ranks
    ranks = _read_rank_file(name, spec)
    if cache is not None:
        _write_cache(cache, name, spec, ranks)
    return ranks


def _read_rank_file(name: str, spec: Shipped) -> dict[bytes, int]:
    import binascii
    import gzip
    import hashlib
    import zlib

    path = shipped_path(name)
    try:
        data = gzip.decompress(path.read_bytes())
    except OSError as exc:  # also gzip.BadGzipFile
        raise EncodingError(f"cannot read the {name} rank file: {exc.strerror or exc}", path) from None
    except (EOFError, zlib.error) as exc:
        raise EncodingError(f"the {name} rank file is damaged ({exc}); reinstall ledgerkit", path) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise EncodingError(
            f"checksum mismatch: the {name} rank file has sha256 {digest}, tiktoken expects {spec.sha256}; "
            "reinstall ledgerkit",
            path,
        )
    # The format tiktoken.load.load_tiktoken_bpe reads: one "base64(token) rank" per line.
    ranks: dict[bytes, int] = {}
    decode = binascii.a2b_base64
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[decode(token)] = int(rank)
    return ranks


_MAGIC = b"ledgerkit-ranks 1\n"


def cache_dir() -> Path | None:
    """``$LEDGERKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ledgerkit``, else ``~/.cache/ledgerkit``; empty disables."""
    explicit = os.environ.get("LEDGERKIT_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "ledgerkit"
    try:
        return Path.home() / ".cache" / "ledgerkit"
    except RuntimeError:  # no home folder
        return None


def cache_file(name: str) -> Path | None:
    """The cache of a shipped encoding's table, keyed by the rank file's checksum."""
    folder = cache_dir()
    return None if folder is None else folder / f"{name}-{SHIPPED[name].sha256[:16]}.ranks"


def _read_cache(path: Path, name: str, spec: Shipped) -> dict[bytes, int] | None:
    """The table from a cache file, or None when it is missing, stale or damaged in any way (then rebuilt).

    The format is plain data (lengths, token bytes, ranks) checked by its own sha256: reading a damaged or
    foreign file can give a wrong answer at worst, never run code, and the digest catches the damage.
    """
    import hashlib
    import json
    import struct
    from array import array
    from operator import itemgetter

    try:
        data = path.read_bytes()
        if not data.startswith(_MAGIC):
            return None
        end = data.index(b"\n", len(_MAGIC))
        header = json.loads(data[len(_MAGIC) : end])
        payload = memoryview(data)[end + 1 :]
        if (header.get("encoding"), header.get("sha256"), header.get("byteorder")) != (
            name,
            spec.sha256,
            sys.byteorder,
        ):
            return None
        if hashlib.sha256(payload).hexdigest() != header.get("payload"):
            return None
        tokens: list[bytes] = []
        values = array("I")
        offset = 0
        for length, n in header["groups"]:
            tokens += map(itemgetter(0), struct.iter_unpack(f"{length}s", payload[offset : offset + length * n]))
            offset += length * n
            values.frombytes(payload[offset : offset + 4 * n])
            offset += 4 * n
        ranks = dict(zip(tokens, values, strict=False))
        if offset != len(payload) or len(ranks) != spec.size or len(values) != spec.size:
            return None
        return ranks
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def _write_cache(path: Path, name: str, spec: Shipped, ranks: dict[bytes, int]) -> None:
    """Best effort: a cache that cannot be written costs time, never the run."""
    import hashlib
    import json
    from array import array

    from ..files.textfile import write_atomic

    by_length: dict[int, list[tuple[bytes, int]]] = {}
    for token, rank in ranks.items():
        by_length.setdefault(len(token), []).append((token, rank))
    groups, parts = [], []
    for length in sorted(by_length):
        items = by_length[length]
        groups.append([length, len(items)])
        parts.append(b"".join(token for token, _ in items))
        parts.append(array("I", [rank for _, rank in items]).tobytes())
    payload = b"".join(parts)
    header = {
        "encoding": name,
        "sha256": spec.sha256,
        "byteorder": sys.byteorder,
        "payload": hashlib.sha256(payload).hexdigest(),
        "groups": groups,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _MAGIC + json.dumps(header).encode() + b"\n" + payload)
    except (OSError, LedgerkitError):
        pass
