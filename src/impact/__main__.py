"""``python -m impact``: the command line."""

from impact.cli import main

if __name__ == "__main__":
    main(prog_name="impact")
