"""The frozen app's entry point: the same `htdesk` command as the installed package's script."""
import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
