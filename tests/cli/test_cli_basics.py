import subprocess
import sys

from click.testing import CliRunner

from studiogan_slt import __version__
from studiogan_slt.cli import COMMANDS, main


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_every_command_has_help():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_console_script_help_does_not_import_torch():
    code = "import sys; from studiogan_slt.cli import main; main(['--help'], standalone_mode=False); " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_data_digits_writes_imagefolder(tmp_path):
    result = CliRunner().invoke(main, ["data", "digits", "-o", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    train = sorted(p.name for p in (tmp_path / "d" / "train").iterdir())
    assert train == [str(c) for c in range(10)]
    assert len(list((tmp_path / "d").rglob("*.png"))) == 1797
