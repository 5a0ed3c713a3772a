"""Result types and their renderers: exactly one text and one JSON renderer per result type.

A command does its work, gets back a typed result (a frozen attrs class deriving from
:class:`CommandResult`, named for what it is: ``VerifyResult``, ``DeltaBuildResult``…) and
hands it to :meth:`govern.cli.output.Output.show`. Output then picks the renderer from
``--json``: :func:`to_json` for machines, :func:`render_text` for people. Keeping both next to
each other, and only one of each, is what keeps the two views of a result in step.

Renderers register with :func:`text_renderer` / :func:`json_renderer` in the module that
defines the result type; registering a second renderer for a type is a bug and fails at import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from govern.errors import ExitCode

R = TypeVar("R", bound="CommandResult")
TextRenderer = Callable[[Any], Sequence[str]]
JsonRenderer = Callable[[Any], dict[str, Any]]

_TEXT_RENDERERS: dict[type, TextRenderer] = {}
_JSON_RENDERERS: dict[type, JsonRenderer] = {}


class CommandResult:
    """What a command produced: the base of every result type, so they can be enumerated.

    ``exit_code`` says whether the command found problems (``ExitCode.PROBLEMS``); a result
    type whose command can fail a check overrides it."""

    @property
    def exit_code(self) -> int:
        """The exit code this result calls for: 0 unless the result reports problems."""
        return ExitCode.OK


def _register(table: dict[type, Any], kind: str, result_type: type) -> Callable[[Any], Any]:
    if not (isinstance(result_type, type) and issubclass(result_type, CommandResult)):
        raise TypeError(f"{result_type!r}: a renderer is registered for a CommandResult subclass")

    def register(renderer: Any) -> Any:
        if result_type in table:
            raise RuntimeError(f"{result_type.__name__} already has a {kind} renderer ({table[result_type].__qualname__})")
        table[result_type] = renderer
        return renderer

    return register


def text_renderer(result_type: type[R]) -> Callable[[Callable[[R], Sequence[str]]], Callable[[R], Sequence[str]]]:
    """Decorator: the text renderer of ``result_type`` — the lines people read on stdout
    (:class:`~govern.cli.output.OkLine` for lines ``-q`` leaves out)."""
    return _register(_TEXT_RENDERERS, "text", result_type)


def json_renderer(result_type: type[R]) -> Callable[[Callable[[R], dict[str, Any]]], Callable[[R], dict[str, Any]]]:
    """Decorator: the JSON renderer of ``result_type`` — the ``result`` member of ``--json``."""
    return _register(_JSON_RENDERERS, "JSON", result_type)


def render_text(result: CommandResult) -> list[str]:
    """The text lines of ``result``, from its type's one text renderer."""
    return list(_renderer(_TEXT_RENDERERS, "text", result)(result))


def to_json(result: CommandResult) -> dict[str, Any]:
    """The JSON value of ``result``, from its type's one JSON renderer."""
    return _renderer(_JSON_RENDERERS, "JSON", result)(result)


def renderers(result_type: type) -> tuple[TextRenderer | None, JsonRenderer | None]:
    """The (text, JSON) renderers registered for ``result_type`` (None where missing)."""
    return _TEXT_RENDERERS.get(result_type), _JSON_RENDERERS.get(result_type)


def _renderer(table: dict[type, Any], kind: str, result: CommandResult) -> Any:
    try:
        return table[type(result)]
    except KeyError:
        raise TypeError(f"{type(result).__name__} has no {kind} renderer") from None
