import sys

from fastapi_lint.cli import main

sys.exit(main())
