"""The ``slr-pose`` command line: a thin layer over the library."""
