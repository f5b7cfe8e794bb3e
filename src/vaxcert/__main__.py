"""``python -m vaxcert`` runs the command line."""

from .cli import main

main()
