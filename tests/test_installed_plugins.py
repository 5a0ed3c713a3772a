"""Looking for installed govern plugins without importlib.metadata (issue 18, start-up):
:func:`govern.host.installed_plugins.may_declare_plugins` may say False only when
importlib.metadata would find no entry point of the ``govern`` group."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.host.installed_plugins import declares_govern_entry_points, may_declare_plugins

FOLDER_NAMES = st.sampled_from(["tool-1.0.dist-info", "Other-2.0.DIST-INFO", "legacy.egg-info", "pkg", "tool-1.0.data"])
ENTRY_POINTS = st.sampled_from(
    [
        None,
        "",
        "[console_scripts]\ntool = tool:main\n",
        "[govern]\nmy_kind = my_kind\n",
        "[console_scripts]\ntool = tool:main\n\n[govern]\nmy_kind = my_kind\n",
        "  [ govern ]\nmy_kind = my_kind\n",
        "[governance]\nx = y\n",
        "[govern.extra]\nx = y\n",
    ]
)


def _govern_entry_points(path: list[str]) -> list[str]:
    """The entry points of the govern group importlib.metadata finds on ``path``."""
    return [ep.name for dist in importlib.metadata.distributions(path=path) for ep in dist.entry_points if ep.group == "govern"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(folders=st.lists(st.tuples(FOLDER_NAMES, ENTRY_POINTS), max_size=4, unique_by=lambda item: item[0].lower()))
def test_false_only_when_importlib_metadata_finds_no_govern_entry_point(tmp_path_factory, folders):
    site = tmp_path_factory.mktemp("site")
    for name, entry_points in folders:
        (site / name).mkdir()
        (site / name / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.split('-')[0]}\nVersion: 1.0\n")
        if entry_points is not None:
            (site / name / "entry_points.txt").write_text(entry_points)
    found = _govern_entry_points([str(site)])
    says = may_declare_plugins([str(site)], meta_path=[])
    if not says:
        assert found == [], folders
    if found:
        assert says


def test_an_archive_or_another_finder_is_not_looked_into(tmp_path: Path):
    archive = tmp_path / "packages.zip"
    archive.write_bytes(b"PK")
    assert declares_govern_entry_points(str(archive))
    assert not declares_govern_entry_points(str(tmp_path / "absent"))
    assert not may_declare_plugins([str(tmp_path)], meta_path=[])

    class DistributionFinder:
        def find_distributions(self, context=None):
            return iter(())

    assert may_declare_plugins([str(tmp_path)], meta_path=[DistributionFinder()])


def test_this_installation_has_no_plugin_beyond_the_built_ins():
    # The suite's own environment: the fast answer is the one taken (and it is right).
    assert _govern_entry_points(sys.path) == []
    assert not may_declare_plugins()
