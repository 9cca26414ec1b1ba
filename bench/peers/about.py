"""What the harness needs to know about the peers' environment, as JSON on stdout:

python -m bench.peers.about versions        # the installed version of each library
python -m bench.peers.about redis URL       # the Redis server: version and process id
"""

from __future__ import annotations

import importlib.metadata
import json
import sys

from redis import Redis  # type: ignore[import-not-found, unused-ignore]

LIBRARIES = (
    "celery",
    "kombu",
    "redis",
    "hiredis",
    "rq",
    "procrastinate",
    "psycopg",
    "pgqueuer",
    "asyncpg",
    "matplotlib",
)


def main(argv: list[str]) -> int:
    if argv[:1] == ["versions"]:
        print(json.dumps({name: importlib.metadata.version(name) for name in LIBRARIES}))
        return 0
    if argv[:1] == ["redis"] and len(argv) == 2:
        client = Redis.from_url(argv[1])
        info = client.info("server")
        aof = client.info("persistence")["aof_enabled"]
        save = client.config_get("save").get("save", "")
        persistence = ", ".join(
            (["append-only file"] if aof else []) + ([f"snapshots ({save})"] if save else [])
        )
        facts = {
            "version": info["redis_version"],
            "pid": info["process_id"],
            "persistence": persistence or "keeps nothing on disk",
        }
        print(json.dumps(facts))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
