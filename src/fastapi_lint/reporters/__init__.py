"""Machine-readable reports for CI systems: SARIF (`sarif`), and GitHub annotations, GitLab
Code Quality and JUnit XML (`ci`). `fastapi_lint.report.render` dispatches to them."""
