import os
import sys

# `python -m fastapi_lint` puts the working directory first on `sys.path`, where a linted
# project's `json.py` or `click.py` would shadow a module the linter imports, and run. Drop
# it, as `python -P` does: the linter never runs the code it lints.
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from fastapi_lint.cli import main

sys.exit(main())
