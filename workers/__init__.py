"""dramatiq workers: thin actors over `docgen.pipeline`, with per-process resources."""
