"""``GOVERN_TRACE_PLUGINS=1``: one line per hook call, through pluggy's hook-call monitoring.

Each call of a hook — by pluggy for the whole hook, or by the host for one plugin when it
dispatches a registry's hooks by kind — is reported once it returns, as::

    govern: trace: govern_discover_snapshots <- sealed_registry: a list of 2

the hook, the plugin(s) whose implementations were called (in pluggy's order), and a summary
of the result (or of the exception raised). The host calls one plugin at a time wherever it
needs to know which plugin answered, so the plugin named there is the one that answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pluggy

#: What every trace line starts with.
TRACE_PREFIX = "govern: trace: "
_MAX_SUMMARY = 60


def summarize(value: Any) -> str:
    """A short, one-line description of a hook's result."""
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    text = " ".join(repr(value).split())
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 3] + "..."


def trace_line(hook_name: str, plugin_names: Sequence[str], outcome: str) -> str:
    """The trace line for one hook call."""
    return f"{TRACE_PREFIX}{hook_name} <- {', '.join(plugin_names) or '(no plugin)'}: {outcome}"


def is_firstresult(pm: pluggy.PluginManager, hook_name: str) -> bool:
    """Whether ``hook_name`` is a *firstresult* hook (one answer, not a list of them)."""
    caller = getattr(pm.hook, hook_name, None)
    spec = getattr(caller, "spec", None)
    return bool(spec is not None and spec.opts.get("firstresult"))


def trace_hook_calls(pm: pluggy.PluginManager, write: Callable[[str], None]) -> Callable[[], None]:
    """Write :func:`trace_line` for every hook call ``pm`` makes; return the function that stops it."""

    def before(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        return None  # everything worth saying is known once the call returns

    def after(
        outcome: pluggy.Result[Any], hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        # pluggy calls the last registered (tryfirst) implementation first.
        plugins = [impl.plugin_name for impl in reversed(hook_impls)]
        if outcome.exception is not None:
            summary = f"raised {type(outcome.exception).__name__}: {' '.join(str(outcome.exception).split())}"
        elif is_firstresult(pm, hook_name):
            summary = summarize(outcome.get_result())
        else:  # a collect hook: the list of each implementation's non-None answer
            summary = "; ".join(summarize(answer) for answer in outcome.get_result()) or "None"
        write(trace_line(hook_name, plugins, summary))

    return pm.add_hookcall_monitoring(before, after)
