"""Value vocabularies: the lists of values that judges tag and scenarios carry.

Their sources are in `data/SOURCE.md`.
"""
