"""The on-disk cache shared by ``lock`` and ``hydrate``: untrusted, checked on every
read, best effort on every write."""
