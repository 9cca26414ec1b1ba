"""The peers' side of the harness: their tasks, producers and checks, run with their own
libraries in bench/.peers-venv (installed from `requirements.txt` here), never imported by
Jobyard's environment except for type checking."""
