"""Parsers for uploaded dataset files, one module per kind (numpy and the stdlib only).

``app.data.uploads`` is the entry point; these modules share ``textio`` (encodings,
line caps, delimiters) and ``labels`` (class names and counts).
"""
