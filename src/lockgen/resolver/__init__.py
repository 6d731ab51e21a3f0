"""Resolution: the repository protocol, selection policy, the resolvelib provider, the
complete search, and conflict explanations. Pure: it asks a Repository for files and
metadata and never touches the network or the disk itself."""
