"""The `docgen` console script: the composition roots of every process kind."""
