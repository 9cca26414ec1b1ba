"""The command the process-runner tests run: prints, can fail, can linger with a grandchild."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

params = json.loads(os.environ["JOBYARD_PARAMS"])
for i in range(int(params.get("lines", 3))):
    print(f"out {i}", flush=True)
print("to stderr", file=sys.stderr, flush=True)
if params.get("linger"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(params["pids"]).write_text(f"{os.getpid()} {child.pid}")
    print("lingering", flush=True)
    time.sleep(600)
sys.exit(int(params.get("exit", 0)))
