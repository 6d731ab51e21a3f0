"""PEP 751 lock files: writing one from pins, reading one back (re-locks, hydrate's
plan) and checking a wheel's METADATA against the lock's record. Pure: text and
values in, text and values out."""
