"""Import and export in the app (IMPORT.md): dry run first, a report viewer, then import; export with progress."""
