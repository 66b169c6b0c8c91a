"""Nothing leaked through the configuration: another user's files never configure a ledger outside git, and a
configuration never points root: or templates: outside its own tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledgerkit.config as config_module
from ledgerkit.config import Config, config_for, find_config_file, find_git_top, load_config
from ledgerkit.errors import ConfigError

from ..conftest import make_files

ME, OTHER = 4242, 4343  # the user running ledgerkit, and another user of the machine

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="making files that belong to two different users needs root (CI runs as root)",
)


@pytest.fixture
def users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run as user ME (root chowns the files to play both users); HOME is a folder far from tmp_path."""
    monkeypatch.setattr(config_module, "_me", lambda: ME)
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))
    return tmp_path


def own(path: Path, uid: int) -> None:
    os.lchown(path, uid, uid)


@needs_root
def test_a_folder_of_another_user_ends_the_search_before_it_is_searched(users: Path) -> None:
    # /tmp is the folder of another user (root); a ledgerkit.yaml planted there must not configure my ledger.
    shared = users / "tmp"
    make_files(shared, {"ledgerkit.yaml": "divisor: 9\nroot: .\n", "mine/l.md": ""})
    own(shared, OTHER)
    own(shared / "ledgerkit.yaml", OTHER)
    own(shared / "mine", ME)
    assert config_for(shared / "mine" / "l.md") == Config()
    assert find_config_file(shared / "mine") is None
    # The same file is applied when the folder is mine: it is the ownership that stops the search.
    own(shared, ME)
    own(shared / "ledgerkit.yaml", ME)
    assert config_for(shared / "mine" / "l.md").divisor == 9


@needs_root
@pytest.mark.parametrize(
    ("name", "text"),
    [("ledgerkit.yaml", "divisor: 9\n"), ("pyproject.toml", "[tool.ledgerkit]\ndivisor = 9\n")],
)
def test_a_configuration_of_another_user_outside_git_is_never_applied(users: Path, name: str, text: str) -> None:
    # A folder of mine that others can write to (like a sticky /tmp owned by root, when I am root).
    make_files(users / "mine", {name: text, "l.md": ""})
    own(users / "mine", ME)
    own(users / "mine" / name, OTHER)
    with pytest.raises(ConfigError, match=f"not applied: it belongs to another user \\(uid {OTHER}\\)"):
        config_for(users / "mine" / "l.md")
    # Named on the command line it is the user's own choice.
    assert load_config(users / "mine" / name).divisor == 9


@needs_root
def test_a_pyproject_of_another_user_without_the_table_is_passed_over(users: Path) -> None:
    make_files(users / "mine", {"pyproject.toml": "[project]\ndependencies = ['ledgerkit']\n", "a/l.md": ""})
    make_files(users / "mine", {"ledgerkit.yaml": "divisor: 3\n"})
    for path in (users / "mine", users / "mine" / "a", users / "mine" / "ledgerkit.yaml"):
        own(path, ME)
    own(users / "mine" / "pyproject.toml", OTHER)
    make_files(users / "mine" / "a", {"pyproject.toml": "[project]\nname = 'ledgerkit-user'\n"})
    own(users / "mine" / "a" / "pyproject.toml", OTHER)
    assert config_for(users / "mine" / "a" / "l.md").divisor == 3


@needs_root
def test_a_planted_git_folder_does_not_make_a_work_tree(users: Path) -> None:
    # Another user plants /tmp/.git and /tmp/ledgerkit.yaml: inside "their" work tree my ledger would trust it.
    shared = users / "tmp"
    make_files(shared, {".git/HEAD": "", "ledgerkit.yaml": "divisor: 9\n", "mine/l.md": ""})
    for path in (shared, shared / "mine"):
        own(path, ME)  # /tmp itself may well be mine (root's), but the planted files are not
    for path in (shared / ".git", shared / ".git" / "HEAD", shared / "ledgerkit.yaml"):
        own(path, OTHER)
    assert find_git_top(shared / "mine") is None
    with pytest.raises(ConfigError, match="belongs to another user"):
        config_for(shared / "mine" / "l.md")


@needs_root
def test_inside_a_work_tree_the_repository_is_trusted_even_when_checked_out_by_another_uid(users: Path) -> None:
    # A CI container: the checkout belongs to uid 1001 (OTHER here), the job runs as another user (ME).
    repo = users / "repo"
    make_files(repo, {".git/HEAD": "", "ledgerkit.yaml": "divisor: 6\n", "docs/l.md": ""})
    for path in (repo, repo / ".git", repo / "ledgerkit.yaml", repo / "docs", repo / "docs" / "l.md"):
        own(path, OTHER)
    assert find_git_top(repo / "docs") == repo
    assert config_for(repo / "docs" / "l.md").divisor == 6


def test_outside_git_the_home_folder_is_the_last_one_searched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_files(tmp_path, {"ledgerkit.yaml": "divisor: 9\n", "home/a/b/l.md": ""})
    monkeypatch.setenv("HOME", str(home))
    assert config_for(home / "a" / "b" / "l.md") == Config()  # the file above home is never read
    make_files(home, {"ledgerkit.yaml": "divisor: 6\n"})
    assert config_for(home / "a" / "b" / "l.md").divisor == 6  # home itself is searched
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    (home / "ledgerkit.yaml").unlink()
    assert config_for(home / "a" / "b" / "l.md").divisor == 9  # not under home: up to the first folder not yours


# --- root: and templates: stay inside the configuration's tree ---------------------------------------------


@pytest.mark.parametrize("key", ["root", "templates"])
@pytest.mark.parametrize("value", ["/", "..", "../..", "../elsewhere", "sub/../../elsewhere", "{outside}", "link-out"])
def test_a_folder_outside_the_configuration_tree_is_an_error(tmp_path: Path, key: str, value: str) -> None:
    folder = tmp_path / "project"
    make_files(tmp_path, {"elsewhere/secret.md": "s", "project/sub/a.md": "a"})
    (folder / "link-out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    value = value.format(outside=tmp_path / "elsewhere")
    make_files(folder, {"ledgerkit.yaml": f"divisor: 3\n{key}: {value}\n"})
    with pytest.raises(ConfigError) as exc:
        config_for(folder / "l.md")
    shown = str(exc.value)
    resolved = os.path.realpath(folder / value)
    assert shown.startswith(f"{folder / 'ledgerkit.yaml'}:2: {key}: {value}")
    assert (
        f"is outside {folder}, the folder of this configuration; a configuration may only point inside its own tree"
        in shown
    )
    assert shown.endswith(
        f"pass --{key} {resolved} on the command line to {'measure from there' if key == 'root' else 'use it'}"
    )


def test_the_documented_message_for_root_slash(tmp_path: Path) -> None:
    make_files(tmp_path / "repo", {".git/HEAD": "", "ledgerkit.yaml": "root: /\n"})
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "repo" / "ledgerkit.yaml")
    repo = tmp_path / "repo"
    assert str(exc.value) == (
        f"{repo / 'ledgerkit.yaml'}:1: root: / is outside {repo}, the git work tree of this configuration; "
        "a configuration may only point inside its own tree; pass --root / on the command line to measure from there"
    )


@pytest.mark.parametrize("value", [".", "sub", "sub/../sub", "{inside}", "link-in", "../src"])
def test_a_folder_inside_the_tree_is_accepted(tmp_path: Path, value: str) -> None:
    repo = tmp_path / "repo"
    make_files(repo, {".git/HEAD": "", "src/a.md": "a", "ledgers/sub/x.md": "x"})
    (repo / "ledgers" / "link-in").symlink_to(repo / "src", target_is_directory=True)
    value = value.format(inside=repo / "src")
    make_files(repo / "ledgers", {"ledgerkit.yaml": f"root: {value}\ntemplates: {value}\n"})
    config = config_for(repo / "ledgers" / "l.md")
    expected = Path(os.path.realpath(repo / "ledgers" / value))
    assert config.root == expected == config.templates  # ../src: inside the git work tree, the unit of trust
    assert config.root.is_relative_to(repo)


def test_outside_git_the_tree_is_the_configuration_folder(tmp_path: Path) -> None:
    make_files(tmp_path / "a", {"ledgerkit.yaml": "root: ../src\n", "l.md": ""})
    with pytest.raises(ConfigError, match="the folder of this configuration"):
        config_for(tmp_path / "a" / "l.md")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["..", ".", "a", "b", ""]), min_size=1, max_size=6), st.booleans())
def test_any_relative_path_is_accepted_exactly_when_it_stays_inside(
    tmp_path: Path, parts: list[str], absolute: bool
) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    value = "/".join(parts)
    if absolute:
        value = f"{folder}/{value}"
    if not value.strip():
        return
    (folder / "ledgerkit.yaml").write_text(f"root: '{value}'\n", encoding="utf-8")
    # No symlinks here, so plain normalisation (not the code's realpath) says where the path leads.
    inside = Path(os.path.normpath(folder / value)).is_relative_to(folder)
    try:
        config = load_config(folder / "ledgerkit.yaml")
    except ConfigError as exc:
        assert not inside and "is outside" in str(exc)
    else:
        assert inside and config.root == Path(os.path.normpath(folder / value))
