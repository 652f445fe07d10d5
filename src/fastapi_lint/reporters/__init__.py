"""Machine-readable reports for CI systems: SARIF (`sarif`), and GitHub annotations, GitLab
Code Quality and JUnit XML (`ci`). `fastapi_lint.report.render` dispatches to them.

CI systems name files from the repository's root: in a monorepo, where the project root (the
directory of the `pyproject.toml`) is a subdirectory, a path relative to the project root
would point at nothing. So these reports give paths relative to the repository root, the
nearest directory at or above the project root that holds `.git` (git is not run), and
relative to the project root when there is none. Fingerprints stay relative to the project
root: where the project lies in the repository is no part of a finding's identity.
"""

from __future__ import annotations

from pathlib import Path


def repository_root(project_root: Path) -> Path:
    """The nearest directory at or above `project_root` holding `.git` (a directory, or the
    file a worktree or a submodule has), else `project_root`."""
    for directory in (project_root, *project_root.parents):
        if (directory / ".git").exists():
            return directory
    return project_root
