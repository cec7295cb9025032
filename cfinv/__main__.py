"""``python -m cfinv``: the ``cfinv`` command."""

from cfinv.cli import entry_point

if __name__ == "__main__":
    entry_point()
