"""The harness that measures Jobyard beside Celery, RQ, Procrastinate and PgQueuer.

`python -m bench.harness` (or `scripts/bench`) runs it; bench/README.md says how it measures.
Modules here that the peers' own processes import (`records`, `produce`) use the standard
library only, so they load in the peers' environment as well as in Jobyard's.
"""
