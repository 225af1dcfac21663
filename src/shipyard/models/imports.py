"""Which modules a pickled model needs: read from the pickle itself and from the objects in it.

Two sources, both cheap:

- ``pickle_modules`` walks the pickle's opcodes (``pickletools.genops``, nothing is executed): every
  ``GLOBAL`` / ``STACK_GLOBAL`` names a module that ``pickle.load`` imports, and cloudpickle's
  ``subimport("numpy")`` names a module a by-value function refers to.
- ``object_modules`` is called for every object while it is pickled: the module of its type (and,
  for a class or function, its own module), plus the ``import`` statements inside the code of
  by-value functions, which run only when the function is called.

    >>> sorted(top_level(pickle_modules(pickle.dumps(Pipeline([("m", XGBClassifier())])))))
    ['builtins', 'numpy', 'sklearn', 'xgboost']
"""

from __future__ import annotations

import dis
import pickletools
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from types import CodeType, FunctionType, ModuleType
from typing import IO

__all__ = ["object_modules", "pickle_modules", "top_level"]

_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING"}
)
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_SUBIMPORTS = frozenset({"subimport", "dynamic_subimport"})


def pickle_modules(data: bytes | IO[bytes]) -> frozenset[str]:
    """Every module the pickle ``data`` imports when loaded (full dotted names)."""
    found: set[str] = set()
    strings: deque[str | None] = deque([None, None], maxlen=2)  # the last two pushes' strings
    memo: dict[int, str] = {}  # memoized strings only
    memoized = 0
    pending_subimport = False
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name in _STRING_OPS:
            value = arg.decode("latin-1") if isinstance(arg, bytes) else str(arg)
            strings.append(value)
            if pending_subimport:
                found.add(value)
                pending_subimport = False
        elif name in _MEMO_GET:
            strings.append(memo.get(int(str(arg))))
        elif name in _MEMO_PUT or name == "MEMOIZE":
            index = memoized if name == "MEMOIZE" else int(str(arg))
            memoized += 1
            if strings[-1] is not None:
                memo[index] = strings[-1]
        elif name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            found.add(module)
            pending_subimport = attr in _SUBIMPORTS
            strings.append(None)
        elif name == "STACK_GLOBAL":
            pushed_module, pushed_attr = strings
            if pushed_module is not None:
                found.add(pushed_module)
            pending_subimport = pushed_attr in _SUBIMPORTS
            strings.append(None)
        elif opcode.stack_after:  # any other push
            strings.append(None)
    return frozenset(found)


def object_modules(value: object) -> Iterator[str]:
    """The modules one object in a pickle comes from (see the module docstring).

    A class or function is counted only when its module can import it by name: one defined in
    ``__main__`` or inside a function is pickled by value and needs no module.
    """
    for target in (type(value), value):
        if isinstance(target, type | FunctionType) and _is_importable(target):
            yield target.__module__
    if isinstance(value, ModuleType):
        yield value.__name__
    elif isinstance(value, CodeType):
        yield from code_imports(value)


def code_imports(code: CodeType) -> Iterator[str]:
    """The modules imported by ``import`` statements in ``code`` and the code nested in it."""
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME" and isinstance(instruction.argval, str):
            yield instruction.argval
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from code_imports(const)


def _is_importable(target: type | FunctionType) -> bool:
    module = sys.modules.get(getattr(target, "__module__", None) or "")
    if module is None or module.__name__ == "__main__":
        return False
    found: object = module
    for part in target.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is target


def top_level(modules: Iterable[str]) -> frozenset[str]:
    """``{"sklearn.pipeline", "numpy._core"}`` -> ``{"sklearn", "numpy"}``."""
    return frozenset(m.partition(".")[0] for m in modules if m)
