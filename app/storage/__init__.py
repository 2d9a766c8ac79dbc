"""The artifact store: where model files live, behind paths that cannot escape it."""
from app.storage.local import LocalStore, StoredFile, Tampered, TooLarge, UnsafePath

__all__ = ["LocalStore", "StoredFile", "Tampered", "TooLarge", "UnsafePath"]
