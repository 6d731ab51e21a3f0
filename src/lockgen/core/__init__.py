"""The pure core: values and parsers of untrusted input, no I/O.

Models, requirements, the target environment, simple-API pages, link scoping, zip and
METADATA reading, limits and printable text. Everything here takes bytes or values and
returns values; it imports nothing from the other layers.
"""
