"""The ``imgout`` command (console script, and ``python -m xl_addin`` where the script is not on PATH).

Signals are answered before the command's modules are imported (:mod:`.signals`).
"""

from .signals import run_command


def main() -> None:
    """Run ``imgout`` with the arguments of this process."""

    def run() -> None:
        from .cli import main as command

        command()

    run_command(run)


if __name__ == "__main__":
    main()
