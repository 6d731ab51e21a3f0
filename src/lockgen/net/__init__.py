"""The network edge: HTTP transport, credentials and proxies, range reads, the index
client (pages, metadata, hashes), find-links locations and artifact downloads."""
