"""The optional faster engine: bpe-openai, GitHub's linear-time BPE (Rust), for o200k_base and cl100k_base.

``pip install 'ledgerkit[fast]'`` installs it; without it ledgerkit counts with tiktoken, as before.
What was checked, and why it is used the way it is (docs/tokens.md has the figures):

- Its counts equal tiktoken's: pre-tokenisation and all (tests/test_engine.py, on the calibration corpus
  and on generated text). Only the version the test suite checked (``TESTED``) is used; any other
  installed version is ignored and tiktoken counts.
- It ships its own tables, compiled into the extension (``bpe_openai._bindings``); it cannot be given
  ledgerkit's rank files. The tests check its bundled rank files against the sha256 tiktoken expects and
  its vocabulary against ledgerkit's, token by token. It never uses the network.
- Its ``count`` returns a number without building a token list, but holds the GIL: two cores need two
  processes. Each worker is a bare ``python -I`` that loads the extension by its path and counts what it
  is sent over a pipe (no ledgerkit, no re-import of the caller's ``__main__``).
- The package's ``__init__`` parses three rank files in Python (about a second, 60 MB) for a
  tiktoken-like API ledgerkit does not use; ledgerkit loads only the compiled extension, by its path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import cache
from types import ModuleType

from .encodings import EncodingError

DISTRIBUTION = "bpe-openai"
#: The versions whose counts the test suite compared with tiktoken's (pin it in pyproject's extras too).
TESTED = frozenset({"0.1.4"})
#: The encodings it has, by the name tiktoken gives them.
SUPPORTED = frozenset({"o200k_base", "cl100k_base"})
#: ``LEDGERKIT_TOKEN_ENGINE=tiktoken`` counts with tiktoken even when bpe-openai is installed.
ENGINE_VARIABLE = "LEDGERKIT_TOKEN_ENGINE"
_MODULE = "bpe_openai._bindings"


def wanted() -> bool:
    """Whether the user left the choice of engine to ledgerkit (the default)."""
    return os.environ.get(ENGINE_VARIABLE, "").strip().lower() not in ("tiktoken", "slow", "0", "off")


@cache
def _located() -> tuple[str, str] | None:
    """(version, path of the compiled extension) of a tested bpe-openai, found without importing it."""
    import importlib.metadata
    import importlib.util
    from importlib.machinery import EXTENSION_SUFFIXES

    try:
        spec = importlib.util.find_spec("bpe_openai")
        version = importlib.metadata.version(DISTRIBUTION)
    except (ImportError, ValueError, OSError):
        return None
    if spec is None or not spec.submodule_search_locations or version not in TESTED:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_bindings" + suffix)
            if os.path.isfile(path):
                return version, path
    return None


def installed_version() -> str | None:
    """The version of bpe-openai that will count (None: tiktoken counts), honouring LEDGERKIT_TOKEN_ENGINE."""
    found = _located() if wanted() else None
    return None if found is None else found[0]


def extension_path() -> str:
    """Where the compiled extension is (call only when ``installed_version()``)."""
    found = _located()
    if found is None:
        raise EncodingError(f"{DISTRIBUTION} is not installed")
    return found[1]


@cache
def _module() -> ModuleType:
    import importlib.util
    from importlib.machinery import ExtensionFileLoader

    path = extension_path()
    loader = ExtensionFileLoader(_MODULE, path)
    spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
    if spec is None:
        raise EncodingError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        loader.exec_module(module)
    except (ImportError, OSError) as exc:
        raise EncodingError(f"cannot load {DISTRIBUTION} from {path}: {exc}") from None
    return module


def counter(encoding: str) -> Callable[[str], int]:
    """The exact count of a text with ``encoding`` (in SUPPORTED), in this process."""
    count: Callable[[str], int] = _module().tokenizer_for_encoding(encoding).count
    return lambda text: repaired(count, text)


def repaired(count: Callable[[str], int], text: str) -> int:
    """``count(text)``, with lone surrogates replaced first as tiktoken's ``encode_ordinary`` replaces them."""
    try:
        return count(text)
    except UnicodeEncodeError:
        return count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


# --- the worker process --------------------------------------------------------------------------------
# Runs as ``python -I -c WORKER EXTENSION``. Each request is an 8-byte little-endian length and a marshal
# of (encoding names, texts); each reply the same framing around a list of counts per text, one per name,
# or ("error", message). marshal is safe here: both ends are this code, over a private pipe.

WORKER = r"""
import importlib.util, marshal, struct, sys
from importlib.machinery import ExtensionFileLoader
path = sys.argv[1]
loader = ExtensionFileLoader("bpe_openai._bindings", path)
spec = importlib.util.spec_from_file_location("bpe_openai._bindings", path, loader=loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
tokenizers = {}
def count(tokenizer, text):
    try:
        return tokenizer.count(text)
    except UnicodeEncodeError:
        return tokenizer.count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
read, write = sys.stdin.buffer.read, sys.stdout.buffer.write
while True:
    head = read(8)
    if len(head) < 8:
        break
    names, texts = marshal.loads(read(struct.unpack("<Q", head)[0]))
    try:
        counters = [tokenizers.get(n) or tokenizers.setdefault(n, module.tokenizer_for_encoding(n)) for n in names]
        reply = [[count(c, text) for c in counters] for text in texts]
    except BaseException as exc:
        reply = ("error", f"{type(exc).__name__}: {exc}")
    data = marshal.dumps(reply)
    write(struct.pack("<Q", len(data)) + data)
    sys.stdout.buffer.flush()
"""


class Worker:
    """One counting process, driven by one thread of the caller: send a batch, wait for its counts."""

    #: Seconds a reply may take: a floor, plus time for the slowest text a batch can hold.
    TIMEOUT_FLOOR, CHARS_PER_SECOND = 60.0, 100_000

    def __init__(self) -> None:
        import subprocess

        executable = sys.executable
        if not executable:
            raise EncodingError("no Python executable to start a counting process with")
        try:
            self._process = subprocess.Popen(
                [executable, "-I", "-c", WORKER, extension_path()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise EncodingError(f"cannot start a counting process: {exc}") from None

    def count(self, names: list[str], texts: list[str]) -> list[list[int]]:
        """The counts of each text, one per name."""
        import marshal
        import struct

        data = marshal.dumps((names, texts))
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        timeout = self.TIMEOUT_FLOOR + sum(map(len, texts)) / self.CHARS_PER_SECOND
        try:
            stdin.write(struct.pack("<Q", len(data)) + data)
            stdin.flush()
            (size,) = struct.unpack("<Q", self._read(stdout.fileno(), 8, timeout))
            reply = marshal.loads(self._read(stdout.fileno(), size, timeout))
        except (OSError, ValueError, EOFError, struct.error) as exc:
            self.close()
            raise EncodingError(f"the counting process failed: {exc}") from None
        if isinstance(reply, tuple):
            raise EncodingError(f"{DISTRIBUTION} cannot count this text: {reply[1]}")
        counts: list[list[int]] = reply
        return counts

    def _read(self, fd: int, size: int, timeout: float) -> bytes:
        import select
        import time

        parts, needed = [], size
        deadline = time.monotonic() + timeout
        while needed:
            left = deadline - time.monotonic()
            # select() waits on pipes only on POSIX; elsewhere the read itself waits.
            if os.name == "posix" and (left <= 0 or not select.select([fd], [], [], left)[0]):
                raise OSError(f"no answer in {timeout:.0f} s")
            part = os.read(fd, min(needed, 1 << 20))
            if not part:
                raise EOFError(f"it ended (exit code {self._process.poll()})")
            parts.append(part)
            needed -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        """End the process: it exits when its input closes; killed if it does not within a bound."""
        import subprocess

        process = self._process
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
