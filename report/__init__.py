"""Reports of a run for people.

One self-contained HTML page (`moot report`) and a local viewer of the same page (`moot view`).
"""
