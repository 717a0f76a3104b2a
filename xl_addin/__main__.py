"""`python -m xl_addin ...` is the `imgout` command (for machines where the script is not on PATH)."""

from .cli import main

main()
