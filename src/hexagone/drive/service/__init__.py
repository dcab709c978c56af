"""The drive module's public face: what its own WebDAV, pages, API and commands and other
modules (the webmail saving an attachment, a file sent as a link) use. Only the names in
``__all__``: functions taking the session and the principal, and plain frozen dataclasses,
never a table's row (tests/core/test_layering.py).

Everything a principal does goes through :mod:`hexagone.drive.policy`; a node the
principal may not see is :class:`~hexagone.core.exceptions.NotFound`. Functions taking a
session leave the commit to the caller; :func:`store` opens its own sessions, so that an
upload never holds a transaction open.
"""

import hexagone.drive.policy  # noqa: F401 - registers the node ability rule these services enforce
from hexagone.drive.service.access import LockInfo, NodeInfo
from hexagone.drive.service.content import (
    UploadPlan,
    VersionInfo,
    open,
    plan_upload,
    restore_version,
    store,
    store_uploaded,
    versions,
)
from hexagone.drive.service.content import note_recent as mark_recent
from hexagone.drive.service.locking import checkin, checkout, locks, refresh, unlock
from hexagone.drive.service.metadata import (
    FieldInfo,
    change_properties,
    define_field,
    favourites,
    field_values,
    fields,
    node_fields,
    properties,
    recent,
    remove_field,
    set_description,
    set_favourite,
    set_field_values,
    set_tags,
    tags,
)
from hexagone.drive.service.names import clean as clean_name
from hexagone.drive.service.quotas import Settings, change_settings, settings
from hexagone.drive.service.sharing import ShareInfo, share, shared_with_me, shares, unshare
from hexagone.drive.service.storage import (
    DriveInfo,
    Usage,
    drive,
    drive_of_space,
    drive_of_user,
    drives,
    org_usage,
    set_quota,
    usage,
)
from hexagone.drive.service.trashing import empty as empty_trash
from hexagone.drive.service.trashing import in_trash, purge, restore, trash
from hexagone.drive.service.tree import (
    Listing,
    OnConflict,
    copy,
    create_folder,
    list_folder,
    lock,
    move,
    node,
    path_of,
    rename,
    resolve_path,
)
from hexagone.drive.service.uploads import UploadInfo, append_upload, cancel_upload, start_upload, upload_state

__all__ = [
    "DriveInfo",
    "FieldInfo",
    "Listing",
    "LockInfo",
    "NodeInfo",
    "OnConflict",
    "Settings",
    "ShareInfo",
    "UploadInfo",
    "UploadPlan",
    "Usage",
    "VersionInfo",
    "append_upload",
    "cancel_upload",
    "change_properties",
    "change_settings",
    "checkin",
    "checkout",
    "clean_name",
    "copy",
    "create_folder",
    "define_field",
    "drive",
    "drive_of_space",
    "drive_of_user",
    "drives",
    "empty_trash",
    "favourites",
    "field_values",
    "fields",
    "in_trash",
    "list_folder",
    "lock",
    "locks",
    "mark_recent",
    "move",
    "node",
    "node_fields",
    "open",
    "org_usage",
    "path_of",
    "plan_upload",
    "properties",
    "purge",
    "recent",
    "refresh",
    "remove_field",
    "rename",
    "resolve_path",
    "restore",
    "restore_version",
    "set_description",
    "set_favourite",
    "set_field_values",
    "set_quota",
    "set_tags",
    "settings",
    "share",
    "shared_with_me",
    "shares",
    "start_upload",
    "store",
    "store_uploaded",
    "tags",
    "trash",
    "unlock",
    "unshare",
    "upload_state",
    "usage",
    "versions",
]
