"""Finding the StudioGAN checkout: --studiogan-root, then STUDIOGAN_ROOT, then the pinned clone in the user cache;
and `studiogan-slt studiogan fetch`, exercised against a local git repository (no network here or in CI)."""
import subprocess

import pytest
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.host import locate


def _fake_checkout(root):
    for name in locate.REQUIRED_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


@pytest.fixture
def no_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv(locate.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_order_option_then_variable_then_cache(no_checkout, monkeypatch):
    option, variable = _fake_checkout(no_checkout / "a"), _fake_checkout(no_checkout / "b")
    cached = _fake_checkout(locate.pinned_clone_dir())
    monkeypatch.setenv(locate.ENV_VAR, str(variable))
    assert locate.find_root(str(option)) == option.resolve()
    assert locate.find_root() == variable.resolve()
    monkeypatch.delenv(locate.ENV_VAR)
    assert locate.find_root() == cached.resolve()


def test_nothing_found_names_the_three_ways(no_checkout):
    with pytest.raises(SLTError) as err:
        locate.find_root()
    message = str(err.value)
    assert "--studiogan-root" in message and locate.ENV_VAR in message and "studiogan fetch" in message
    assert "\n" not in message


def test_a_folder_that_is_not_a_checkout_is_refused(no_checkout, monkeypatch):
    monkeypatch.setenv(locate.ENV_VAR, str(no_checkout))
    with pytest.raises(SLTError, match=r"STUDIOGAN_ROOT .* is not a PyTorch-StudioGAN checkout \(missing src/main.py"):
        locate.find_root()


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_fetch_clones_the_pinned_commit(no_checkout, monkeypatch):
    upstream = _fake_checkout(no_checkout / "upstream")
    _git("init", "-q", cwd=upstream)
    _git("add", ".", cwd=upstream)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pinned", cwd=upstream)
    pinned = subprocess.run(["git", "rev-parse", "HEAD"], cwd=upstream, capture_output=True, text=True).stdout.strip()
    (upstream / "src" / "later.py").write_text("")  # a later commit must not be what is checked out
    _git("add", ".", cwd=upstream)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "later", cwd=upstream)
    monkeypatch.setattr(locate, "REPO_URL", upstream.as_uri())
    monkeypatch.setattr(locate, "PINNED_COMMIT", pinned)
    result = CliRunner().invoke(main, ["studiogan", "fetch"])
    assert result.exit_code == 0, result.output
    clone = locate.pinned_clone_dir()
    assert result.stdout.strip() == str(clone)
    assert (clone / "src" / "main.py").is_file() and not (clone / "src" / "later.py").exists()
    assert locate.find_root() == clone.resolve()  # where train/eval look without an option or variable
    assert [p.name for p in clone.parent.iterdir()] == [clone.name]  # no temporary clone left behind


def test_fetch_that_fails_is_one_line_and_leaves_nothing(no_checkout, monkeypatch):
    monkeypatch.setattr(locate, "REPO_URL", (no_checkout / "no-such-repository").as_uri())
    result = CliRunner().invoke(main, ["studiogan", "fetch"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: fetching StudioGAN failed") and "--studiogan-root" in lines[0]
    assert not locate.pinned_clone_dir().exists()
    assert not any(locate.cache_dir().glob(".fetch-*"))
