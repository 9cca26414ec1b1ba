"""An empty endpoint on Jobyard's server stack, to measure the most requests it could answer.

FastAPI under uvicorn with the options `jobyard serve` uses (uvloop, httptools writing each
answer in one send, no access log, one process); `GET /empty` answers `{}`.

    python -m bench.harness.empty_app --port 8099
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from jobyard.cli.coalesced_http import CoalescingHttpToolsProtocol

app = FastAPI()


@app.get("/empty")
async def empty() -> dict[str, str]:
    return {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    port = p.parse_args().port
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http=CoalescingHttpToolsProtocol,
        access_log=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
