"""Pure, Django-free logic that both apps use: final-answer checking, ProcessBench metrics and critique prompt.

Nothing here imports Django, `annotations` or `scoring`; `annotations` and `scoring` both import it.
"""
