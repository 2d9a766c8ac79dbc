"""The artifact store: where model files live, behind paths that cannot escape it."""
from app.storage.local import LocalStore, StoredFile, UnsafePath

__all__ = ["LocalStore", "StoredFile", "UnsafePath"]
