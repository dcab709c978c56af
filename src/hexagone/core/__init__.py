"""The core every module stands on: configuration, database, tenancy, web shell, auth,
events, jobs, blobs, i18n. It must never import a module (``hexagone.identity`` and the
rest): modules register themselves with the core through a :class:`~hexagone.core.modules.Module`.
"""
