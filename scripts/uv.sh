# Sourced by the other scripts: find uv, or install it from PyPI for this user.
# Under `uv run`, uv names itself in $UV (a path), and `python3` is the project's own interpreter.
if [ -n "${UV:-}" ] && [ -x "${UV}" ]; then
  UV=("${UV}")
elif command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  fi
  UV=(python3 -m uv)
fi
