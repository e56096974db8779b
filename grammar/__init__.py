"""Grammar notes for learners of English. The API is in grammar.notes (imported from
there, not re-exported here: the package's `notes` attribute stays the module)."""
