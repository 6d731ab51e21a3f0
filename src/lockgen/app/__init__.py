"""The use cases, ``lock`` and ``hydrate``: the only place the layers are wired
together (transport, cache, index client, resolver, lock writer)."""
