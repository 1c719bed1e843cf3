"""The quarterly return in the app (RETURN.md): choose a quarter, build, preview, explain, save, submit."""
