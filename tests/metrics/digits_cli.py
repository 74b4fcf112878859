"""Helpers of the `studiogan-slt digits-fid` tests: run the command, write a folder of images."""
from click.testing import CliRunner
from PIL import Image

from studiogan_slt.cli import main

VALID_SIZE, TRAIN_SIZE = 296, 1501


def run_digits_fid(*args):
    return CliRunner().invoke(main, ["digits-fid", *map(str, args)])


def write_images(folder, arrays):
    folder.mkdir(parents=True)
    for i, a in enumerate(arrays):
        Image.fromarray(a).save(folder / f"{i}.png")
    return folder
