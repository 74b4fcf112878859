"""Fixtures shared by every test folder."""
import pytest


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """The built-in digits data set as an ImageFolder (train/ and valid/, one folder per class)."""
    from studiogan_slt.data.digits import write_digits

    out = tmp_path_factory.mktemp("digits")
    write_digits(out)
    return out
