import os

# Before any Qt import: a machine with no display would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
