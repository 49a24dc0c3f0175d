"""Migration scripts, applied in order by :func:`newsweave.store.upgrade`."""
