"""docs/plugins.md documents every hook, with the exact signature and kind of its hookspec
(datasette's ``tests/test_docs.py`` habit): a hook added, renamed or re-typed in
``govern.hookspecs`` without the docs following fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from govern import hookspecs
from govern.plugin_manager import PluginHost

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(govern_\w+)\((.*)\) -> (.+)`$", re.MULTILINE)


def signature_text(function) -> str:
    """``name(arg: Type, …) -> Return`` as the hookspec declares it (annotations as written)."""
    signature = inspect.signature(function)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{function.__name__}({params}) -> {signature.return_annotation}"


def hookspec_functions() -> dict[str, object]:
    return {name: getattr(hookspecs, name) for name in PluginHost.hook_names()}


@pytest.fixture(scope="module")
def documented() -> dict[str, tuple[str, str]]:
    """hook name -> (signature as documented, the section's text)."""
    text = DOC.read_text(encoding="utf-8")
    sections = {}
    matches = list(HEADING.finditer(text))
    for match, following in zip(matches, [*matches[1:], None]):
        end = following.start() if following else len(text)
        name, params, returns = match.groups()
        sections[name] = (f"{name}({params}) -> {returns}", text[match.end() : end])
    return sections


def test_every_hookspec_is_documented(documented):
    assert sorted(set(hookspec_functions()) - set(documented)) == [], "hooks missing from docs/plugins.md"


def test_no_hook_is_documented_that_does_not_exist(documented):
    assert sorted(set(documented) - set(hookspec_functions())) == [], "docs/plugins.md documents hooks govern does not have"


@pytest.mark.parametrize("name", PluginHost.hook_names())
def test_each_hook_is_documented_with_its_exact_signature(documented, name: str):
    function = hookspec_functions()[name]
    assert name in documented, f"{name} is not documented"
    assert documented[name][0] == signature_text(function)


@pytest.mark.parametrize("name", PluginHost.hook_names())
def test_each_hook_is_documented_as_collect_or_firstresult(documented, name: str):
    options = getattr(hookspecs, name).govern_spec
    kind = "*firstresult.*" if options.get("firstresult") else "*collect.*"
    assert documented[name][1].lstrip().startswith(kind), f"{name} should be documented as {kind}"


def test_every_hookspec_has_a_docstring():
    for name, function in hookspec_functions().items():
        assert inspect.getdoc(function), f"{name} has no docstring"
