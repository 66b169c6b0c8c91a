"""A bounded Jinja sandbox: a template that a pull request can change must not run for hours or exhaust memory.

Jinja's sandbox stops a template from reaching Python internals; it does not stop ``{{ 'x' * 10**10 }}``,
``{{ 10**1000000 }}`` or two nested loops over ``range(100000)``. :class:`BoundedEnvironment` adds budgets:

- every operator that can multiply a size (``*``, ``**``, ``%``, ``+``), every filter and string method that
  pads, repeats, joins or replaces, and ``str.format`` is estimated *before* it runs and refused past a bound;
  every other value a template makes is measured after (it is at most a few times its inputs);
- loop iterations, calls and template loads share one step budget per render;
- everything written or made shares one work budget, and the rendered text has its own bound;
- :func:`wall_clock` stops a render that runs past a time limit (on the main thread only: a signal timer).
"""

from __future__ import annotations

import functools
import math
import re
import signal
import string
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from typing import Any

from jinja2 import Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum


@dataclass(frozen=True)
class Limits:
    """How much one render may do. The defaults leave room for reports on a ledger ten times the largest seen
    (2.4 MB) and stop a hostile template within seconds."""

    seconds: float | None = 10.0  #: wall-clock time of one render (main thread only); None for no timer
    output: int = 8 * 2**20  #: characters of rendered text, and of any one value a template makes
    work: int = 64 * 2**20  #: characters and items all template operations together may make in one render
    steps: int = 2**20  #: loop iterations, calls and template loads in one render
    digits: int = 4300  #: decimal digits of a number a template computes (Python's own limit for str(int))
    template_bytes: int = 2**20  #: size of one template file


class LimitExceeded(SecurityError):
    """A template asked for more than a :class:`Limits` bound allows."""


class TemplateCompileError(TemplateError):
    """Python or Jinja could not compile a template (nesting past Python's limits, a number past its digits)."""


class RenderTimeout(BaseException):
    """The render ran past ``Limits.seconds``. A BaseException, so no ``except Exception`` in Jinja swallows it."""


_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)
_MAX_DEPTH = 1000  # deeper than Python's own recursion limit: str() or json of it would fail anyway


def _shallow(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


def _bits(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value.bit_length()
    if isinstance(value, Fraction):
        return max(value.numerator.bit_length(), value.denominator.bit_length())
    return 0


def _int(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    """An argument by position or keyword, as a filter or method would receive it."""
    return args[index] if len(args) > index else kwargs.get(name, default)


def _size(value: Any) -> int:
    """An int argument used as a size; anything else counts as 0 (the call itself rejects a wrong type)."""
    return max(value, 0) if isinstance(value, int) else 0


class _Budget:
    """The steps and work one render has spent."""

    __slots__ = ("limits", "steps", "work")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.work = 0

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.steps:
            raise LimitExceeded(
                f"more than {self.limits.steps:,} steps (loop iterations, calls and template loads) in one render"
            )

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > self.limits.work:
            raise LimitExceeded(f"more than {self.limits.work:,} characters and items made in one render")


class _Counted:
    """An iterable whose every item costs one step; keeps ``len`` so ``loop.length`` works as before."""

    __slots__ = ("_budget", "_source")

    def __init__(self, source: Any, budget: _Budget) -> None:
        self._source = source
        self._budget = budget

    def __iter__(self) -> Iterator[Any]:
        step = self._budget.step
        for item in self._source:
            step()
            yield item

    def __len__(self) -> int:
        return len(self._source)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with every ``for`` iterable counted and every ``~`` measured first."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not getattr(node, "_counted", False):
            node._counted = True  # type: ignore[attr-defined]
            call = nodes.Call(nodes.EnvironmentAttribute("sandbox_iter"), [node.iter], [], None, None)
            node.iter = call.set_lineno(node.iter.lineno or node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # The choice of join is Jinja's own (CodeGenerator.visit_Concat); only the measuring is added.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.sandbox_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)
_DIGITS = re.compile(r"\d+")


class BoundedEnvironment(SandboxedEnvironment):
    """A SandboxedEnvironment whose templates run within :class:`Limits`; see the module's docstring."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, *args: Any, limits: Limits | None = None, **kwargs: Any) -> None:
        self.limits = limits or Limits()
        self.budget = _Budget(self.limits)
        self._max_bits = math.ceil(self.limits.digits * math.log2(10))
        super().__init__(*args, finalize=self._finalize, **kwargs)
        self.globals["lipsum"] = self._lipsum

    def start(self) -> None:
        """A fresh budget for the next render."""
        self.budget = _Budget(self.limits)

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Template:  # noqa: A002
        self.budget.step()  # an include in a loop or a recursion costs like a call
        return super().get_template(name, parent, globals)

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> Template:  # noqa: A002
        self.budget.step()
        return super().select_template(names, parent, globals)

    def compile(
        self,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        """Jinja's compile; a template too deeply nested or too large for Python's compiler is a TemplateCompileError
        instead of an internal error."""
        try:
            if raw:
                return super().compile(source, name, filename, True, defer_init)
            return super().compile(source, name, filename, False, defer_init)
        except RecursionError:
            why = "it is nested too deeply"
        except MemoryError:
            why = "it is too large"
        except (SyntaxError, ValueError, OverflowError) as exc:
            why = str(exc.msg if isinstance(exc, SyntaxError) else exc)
        raise TemplateCompileError(f"template {filename or name} cannot be compiled: {why}")

    # --- measuring ----------------------------------------------------------------------------------------

    def refuse(self, estimate: int, what: str, bound: int | None = None) -> None:
        bound = self.limits.output if bound is None else bound
        if estimate > bound:
            raise LimitExceeded(f"{what} would make about {estimate:,} characters or items, past the limit {bound:,}")

    def weight(self, value: Any) -> int:
        """About how many characters ``str(value)`` has, counting a shared item each time it appears; the walk
        stops once past the output bound, so it costs at most that much."""
        if isinstance(value, str):
            return len(value)
        if not isinstance(value, _SIZED):  # a number or an object of the context: no walk (the common case)
            return 1 + value.bit_length() // 3 if isinstance(value, int) else 1
        total, _ = self.walk(value)
        return total

    def walk(self, value: Any) -> tuple[int, int]:
        """(weight, depth) of a value; a structure nested past any sensible depth weighs more than the bound."""
        bound = self.limits.output
        total = depth = 0
        stack: list[Iterator[Any]] = [iter((value,))]
        while stack:
            try:
                item = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            total += 1
            if isinstance(item, (str, bytes, bytearray)):
                total += len(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                total += item.bit_length() // 3
            elif isinstance(item, dict):
                stack.append(chain.from_iterable(item.items()))
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.append(iter(item))
            depth = max(depth, len(stack))
            if total > bound or depth > _MAX_DEPTH:
                return max(total, bound + 1), depth
        return total, depth

    def measure(self, value: Any, what: str) -> Any:
        """Refuse a value past the size or digit bound; charge its size to the work budget."""
        size = _shallow(value)
        self.refuse(size, what)
        if _bits(value) > self._max_bits:
            raise LimitExceeded(f"{what} makes a number of more than {self.limits.digits:,} digits")
        self.budget.spend(size)
        return value

    def _finalize(self, value: Any) -> Any:
        size = len(value) if type(value) is str else 0 if isinstance(value, Undefined) else self.weight(value)
        self.refuse(size, "an expression")
        self.budget.spend(size)
        return value

    def concat(self, pieces: Iterable[str]) -> str:
        """The joined output of a macro, block or ``{% set %}`` body, stopped once past the output bound."""
        out: list[str] = []
        size = 0
        for piece in pieces:
            size += len(piece)
            if size > self.limits.output:
                raise LimitExceeded(f"a block's output passed {self.limits.output:,} characters")
            out.append(piece)
        self.budget.spend(size)
        return "".join(out)

    def collect(self, pieces: Iterable[str]) -> str:
        """A whole render's output, stopped once past the output bound."""
        out: list[str] = []
        size = 0
        for piece in pieces:
            size += len(piece)
            if size > self.limits.output:
                raise LimitExceeded(f"the rendered text passed {self.limits.output:,} characters")
            out.append(piece)
        return "".join(out)

    # --- what generated code calls ---------------------------------------------------------------------

    def sandbox_iter(self, iterable: Any) -> _Counted:
        """A ``for`` loop's iterable, each item costing a step."""
        return _Counted(iterable, self.budget)

    def sandbox_concat(self, join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
        """``a ~ b``: measured before anything is turned into text."""
        self.refuse(sum(self.weight(p) for p in parts), "'~'")
        return self.measure(join(parts), "'~'")  # type: ignore[no-any-return]

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            self._check_power(left, right)
        elif operator == "*":
            self._check_repeat(left, right)
        elif operator == "%" and isinstance(left, (str, bytes)):
            self.refuse(self._printf(left, right), "'%'")
        elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            self.refuse(len(left) + len(right), "'+'")
        return self.measure(super().call_binop(context, operator, left, right), f"'{operator}'")

    def _check_power(self, left: Any, right: Any) -> None:
        if isinstance(right, Fraction) and right.denominator == 1:
            right = right.numerator
        if not isinstance(right, int) or not isinstance(left, (int, Fraction)):
            return  # float and Decimal powers overflow instead of growing; a str raises TypeError
        base = Fraction(left)
        if isinstance(left, int) and right < 0:
            return  # an int to a negative power is a float
        if abs(base.numerator) <= 1 and base.denominator == 1:
            return
        estimate = max(abs(base.numerator).bit_length(), base.denominator.bit_length()) * abs(right)
        if estimate > self._max_bits:
            raise LimitExceeded(f"'**' would make a number of more than {self.limits.digits:,} digits")

    def _check_repeat(self, left: Any, right: Any) -> None:
        if isinstance(left, _SEQUENCES) and isinstance(right, int):
            self.refuse(len(left) * _size(right), "'*'")
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            self.refuse(len(right) * _size(left), "'*'")

    def _printf(self, fmt: str | bytes, args: Any) -> int:
        """An upper bound on the size of ``fmt % args``: every width and precision, each value in each field."""
        text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
        specs = list(_PRINTF.finditer(text))
        estimate = len(text)
        starred = False
        for match in specs:
            for group in match.group(1, 2):
                if group == "*":
                    starred = True
                elif group:
                    estimate += int(group) if len(group) <= 12 else 10**12
        estimate += len(specs) * self.weight(args)
        if starred:  # a width taken from the arguments
            estimate += sum(_size(a) for a in (args if isinstance(args, tuple) else (args,)))
        if isinstance(fmt, str) and hasattr(fmt, "__html__"):
            estimate *= 6  # Markup escapes each value
        return estimate

    def _format(self, fmt: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """An upper bound on the size of ``fmt.format(*args, **kwargs)``."""
        estimate = len(fmt)
        fields = 0
        nested = False
        try:
            parsed = list(string.Formatter().parse(fmt))
        except ValueError:
            return estimate  # the call itself will say what is wrong
        for _literal, field, spec, conversion in parsed:
            if field is None:
                continue
            fields += 6 if conversion in ("r", "a") else 1
            if spec:
                nested = nested or "{" in spec
                estimate += sum(int(d) if len(d) <= 12 else 10**12 for d in _DIGITS.findall(spec))
        estimate += fields * self.weight((args, kwargs))
        if nested:  # a width taken from the arguments
            estimate += sum(_size(a) for a in chain(args, kwargs.values()))
        return estimate

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt: str = value.__self__
        by_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if by_map and args and isinstance(args[0], dict) else kwargs
            self.refuse(self._format(fmt, () if by_map else args, mapping), "str.format")
            return self.measure(wrapped(*args, **kwargs), "str.format")  # type: ignore[no-any-return]

        return functools.update_wrapper(bounded, wrapped)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Every call costs a step; a recursive loop's ``loop(...)`` is counted like a ``for``; a string method
        that pads, repeats or joins is estimated first; whatever a call returns or grows is measured."""
        self.budget.step()
        if isinstance(obj, LoopContext) and args:
            args = (self.sandbox_iter(args[0]), *args[1:])
        owner = getattr(obj, "__self__", None) if isinstance(obj, (types.BuiltinMethodType, types.MethodType)) else None
        if isinstance(owner, (str, bytes)):
            args = self._check_text_method(owner, obj.__name__, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(owner, (list, dict, set, bytearray)):
            self.measure(owner, f"{type(owner).__name__}.{obj.__name__}")
        return self.measure(result, "a call")

    def _check_text_method(
        self, text: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        what = f"str.{name}"
        if name in ("center", "ljust", "rjust", "zfill"):
            self.refuse(max(len(text), _size(_int(args, kwargs, 0, "width", 0))), what)
        elif name == "expandtabs":
            tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
            self.refuse(len(text) + tabs * _size(_int(args, kwargs, 0, "tabsize", 8)), what)
        elif name == "replace" and len(args) >= 2:
            self.refuse(_replaced(text, args[0], args[1], _int(args, kwargs, 2, "count", -1)), what)
        elif name == "join" and args:
            items = list(args[0])
            self.refuse(sum(self.weight(i) for i in items) + len(text) * len(items), what)
            args = (items, *args[1:])
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
            self.refuse(len(text) * max(longest, 1), what)
        return args

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
        words = _size(n) * _size(max)
        self.refuse(words * 12, "lipsum")
        self.budget.step(words)
        return generate_lorem_ipsum(n, html, min, max)

    # --- filters ---------------------------------------------------------------------------------------

    def bound_filters(self) -> None:
        """Wrap every registered filter so it is estimated (when it can multiply a size) and measured; call
        this after the last filter is registered."""
        for name, func in list(self.filters.items()):
            if not getattr(func, "_bounded", False):
                self.filters[name] = self._bounded_filter(name, func)

    def _bounded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        offset = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
        estimate = _FILTER_ESTIMATES.get(name, None if name in _PLAIN_FILTERS else _as_text(1))
        what = f"filter {name}"

        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            if estimate is not None and len(args) > offset:
                value = args[offset]
                if name in _MATERIALIZE and not isinstance(value, Sized):
                    value = list(value)
                    args = (*args[:offset], value, *args[offset + 1 :])
                self.refuse(estimate(self, value, args[offset + 1 :], kwargs), what)
            return self.measure(func(*args, **kwargs), what)

        bounded._bounded = True  # type: ignore[attr-defined]
        return bounded


def _replaced(text: Any, old: Any, new: Any, count: Any) -> int:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old) if old else len(text) + 1
    elif isinstance(text, bytes) and isinstance(old, bytes) and isinstance(new, bytes):
        found = text.count(old) if old else len(text) + 1
    else:
        return _shallow(text)  # the call itself rejects the mix
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


_Estimate = Callable[[BoundedEnvironment, Any, tuple[Any, ...], dict[str, Any]], int]


def _as_text(factor: int) -> _Estimate:
    """A filter whose result is its subject as text, up to ``factor`` times as long (escaping, links)."""
    return lambda env, value, args, kwargs: env.weight(value) * factor


def _indent(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    size = env.weight(value)
    env.refuse(size, "filter indent")
    width = _int(args, kwargs, 0, "width", 4)
    step = len(width) if isinstance(width, str) else _size(width)
    return size + (str(value).count("\n") + 1) * step


def _join(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    items = value if isinstance(value, Iterable) and isinstance(value, Sized) else ()
    glue = _int(args, kwargs, 0, "d", "")
    return sum(env.weight(i) for i in items) + env.weight(glue) * len(items)


def _replace(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    env.refuse(env.weight(value), "filter replace")
    old, new = _int(args, kwargs, 0, "old", ""), _int(args, kwargs, 1, "new", "")
    return _replaced(str(value), str(old), str(new), _int(args, kwargs, 2, "count", None))


def _wordwrap(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    wrapstring = _int(args, kwargs, 2, "wrapstring", None)
    return env.weight(value) * (1 + (len(wrapstring) if isinstance(wrapstring, str) else 1))


def _truncate(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    return env.weight(value) + env.weight(_int(args, kwargs, 2, "end", "..."))


def _center(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    return max(env.weight(value), _size(_int(args, kwargs, 0, "width", 80)))


def _format(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    env.refuse(env.weight(value), "filter format")
    return env._printf(str(value), kwargs or args)


def _batch(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    filled = _int(args, kwargs, 1, "fill_with", None) is not None
    return _shallow(value) + (_size(_int(args, kwargs, 0, "linecount", 0)) if filled else 0)


def _slice(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    slices = _size(_int(args, kwargs, 0, "slices", 0))
    env.budget.step(slices)  # sync_do_slice loops once per slice, filled or not
    return _shallow(value) + slices


def _tojson(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    size, depth = env.walk(value)
    indent = _int(args, kwargs, 0, "indent", None)
    step = len(indent) if isinstance(indent, str) else _size(indent)
    return size * (12 + depth * step)  # \ud83d\ude00 is 12 characters for one


def _pprint(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    size, depth = env.walk(value)
    return size * (4 + depth)


def _sum(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    start = _int(args, kwargs, 1, "start", 0)
    if not isinstance(start, _SEQUENCES):
        return 0
    items = value if isinstance(value, Iterable) else ()
    return len(start) + sum(_shallow(i) for i in items)


def _round(env: BoundedEnvironment, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    # round(Fraction, n) and the floor/ceil methods compute 10**n, which no operator check sees
    if _size(_int(args, kwargs, 0, "precision", 0)) > env.limits.digits:
        raise LimitExceeded(f"filter round: a precision of more than {env.limits.digits:,} digits")
    return 0


#: Filters estimated before they run: each can make far more than its subject.
_FILTER_ESTIMATES: dict[str, _Estimate] = {
    "batch": _batch,
    "center": _center,
    "e": _as_text(6),
    "escape": _as_text(6),
    "forceescape": _as_text(6),
    "format": _format,
    "indent": _indent,
    "join": _join,
    "md_cell": _as_text(4),
    "md_code": _as_text(2),
    "pprint": _pprint,
    "replace": _replace,
    "round": _round,
    "slice": _slice,
    "sum": _sum,
    "tojson": _tojson,
    "truncate": _truncate,
    "urlencode": _as_text(12),
    "urlize": _as_text(16),
    "wordwrap": _wordwrap,
    "xmlattr": _as_text(6),
}

#: Filters that never turn a large subject into larger text; measured after, not estimated before.
_PLAIN_FILTERS = frozenset(
    {
        "abs", "attr", "bar", "count", "d", "default", "dictsort", "filesizeformat", "first", "float", "groupby",
        "int", "iso", "items", "last", "length", "list", "map", "max", "min", "pct", "percent", "plain", "random",
        "reject", "rejectattr", "reverse", "select", "selectattr", "sort", "unique",
    }
)  # fmt: skip

#: Filters whose subject may be a one-pass iterator that the estimate must not use up.
_MATERIALIZE = frozenset({"join", "sum"})


@contextmanager
def wall_clock(seconds: float | None) -> Iterator[None]:
    """Raise :class:`RenderTimeout` in the block once ``seconds`` have passed, with SIGALRM; off the main
    thread (where signals cannot be used) this does nothing. An interval timer set before is honoured and
    restored with what was left of it."""
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return
    start = time.monotonic()
    deadline = start + seconds
    before_delay, before_interval = signal.getitimer(signal.ITIMER_REAL)
    before_deadline = start + before_delay if before_delay else None
    before_handler = signal.getsignal(signal.SIGALRM)
    delivered = False

    def expire(signum: int, frame: types.FrameType | None) -> None:
        nonlocal delivered
        now = time.monotonic()
        if now >= deadline:
            # Again shortly, in case this one lands where it is swallowed (a gc callback's error is only printed)
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            raise RenderTimeout(seconds)
        if before_deadline is not None and not delivered and now >= before_deadline:
            delivered = True  # the earlier timer's turn: hand its handler the signal, then wait for ours
            signal.setitimer(signal.ITIMER_REAL, deadline - now)
            _deliver(before_handler, signum, frame)
        else:
            signal.setitimer(signal.ITIMER_REAL, max(deadline - now, 1e-3))

    signal.signal(signal.SIGALRM, expire)
    first = seconds if before_deadline is None else min(seconds, before_delay)
    signal.setitimer(signal.ITIMER_REAL, max(first, 1e-6))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before_handler if before_handler is not None else signal.SIG_DFL)
        if before_deadline is not None and not delivered:
            signal.setitimer(signal.ITIMER_REAL, max(before_deadline - time.monotonic(), 1e-6), before_interval)
        elif delivered and before_interval:
            signal.setitimer(signal.ITIMER_REAL, before_interval, before_interval)


def _deliver(handler: Any, signum: int, frame: types.FrameType | None) -> None:
    if callable(handler):
        handler(signum, frame)
    elif handler != signal.SIG_IGN:  # the default action for SIGALRM ends the process, as it would have
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGALRM)
