"""Pure, Django-free logic that both apps use: final-answer checking and ProcessBench metrics.

Nothing here imports Django, `annotations` or `scoring`; `annotations` and `scoring` both import it.
"""
