"""`fastapi-lint server`: a Language Server Protocol server over stdin and stdout.

It needs pygls, from the `server` extra (`pip install 'fastapi-lint[server]'`); importing
this package does not, so the base CLI never loads it.
"""

from __future__ import annotations

from fastapi_lint.config import ConfigError

MISSING_EXTRA = "`fastapi-lint server` needs the `server` extra: pip install 'fastapi-lint[server]'"


def serve() -> int:
    """Serve the client on stdin and stdout until it says `exit`; the exit code (0 when
    `shutdown` came first)."""
    try:
        from fastapi_lint.server.lsp import create_server
    except ImportError as error:
        if error.name is not None and error.name.split(".")[0] in ("pygls", "lsprotocol"):
            raise ConfigError(MISSING_EXTRA) from None
        raise
    server = create_server()
    server.start_io()
    return server.exit_code
