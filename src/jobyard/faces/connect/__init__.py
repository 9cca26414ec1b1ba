"""Posit Connect's content jobs API, under /connect/__api__."""
