"""Value vocabularies: the lists of values that judges tag and scenarios carry, with their sources (`data/SOURCE.md`)."""
