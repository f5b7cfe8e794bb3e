"""``python -m vaxcert.cli`` runs the command line."""

from . import main

main()
