"""Check loading, condition compilation, evaluation and cross-file facts."""
