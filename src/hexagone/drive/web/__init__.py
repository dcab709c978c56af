"""The drive's pages (``/drive/``): a Nextcloud or Google Drive user's expectations on
the service face. :mod:`.folders`: a folder's listing, uploads (tus, and a streamed form
without JavaScript), new folders, downloads and zips; :mod:`.nodes`: a node's details
panel and its actions; :mod:`.lists`: the trash, favourites, recent, shared with me and
a space drive's fields. ``/drive/`` is the person's own drive, ``/drive/spaces/<space
id>/`` a space's."""

from __future__ import annotations

from starlette.routing import Route

from hexagone.core import pages
from hexagone.core.web import Endpoint, login_required
from hexagone.drive.web import folders, lists, nodes


def _form(action: pages.Action, page: pages.Page) -> Endpoint:
    return pages.form_endpoint(login_required, action, page)


# Paths inside the module: the app mounts them under /drive/.
ROUTES = [
    Route("/", folders.home),
    Route("/spaces/", folders.spaces_index),
    Route("/spaces/{space_id}/", folders.space_home),
    Route("/folders/{folder_id}", folders.folder),
    Route("/folders/{folder_id}/folders", _form(folders.make_folder, folders.make_folder_page), methods=["POST"]),
    Route("/folders/{folder_id}/zip", folders.zip_folder),
    Route("/upload", folders.upload, methods=["POST"]),
    Route("/files/{node_id}", folders.download),
    Route("/files/{node_id}/versions/{version_id}", nodes.download_version),
    Route("/nodes/{node_id}", nodes.show),
    Route("/nodes/{node_id}/rename", _form(nodes.rename, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/trash", _form(nodes.trash, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/checkout", _form(nodes.checkout, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/favourite", _form(nodes.favourite, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/details", _form(nodes.details, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/shares", _form(nodes.add_share, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/shares/remove", _form(nodes.remove_share, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/versions/restore", _form(nodes.restore_version, nodes.node_page), methods=["POST"]),
    Route("/nodes/{node_id}/place", nodes.choose_place),
    Route("/nodes/{node_id}/place", _form(nodes.place, nodes.place_page), methods=["POST"]),
    Route("/drives/{drive_id}/trash", lists.trash),
    Route("/drives/{drive_id}/trash", _form(lists.trash_action, lists.trash_page), methods=["POST"]),
    Route("/drives/{drive_id}/fields", lists.fields),
    Route("/drives/{drive_id}/fields", _form(lists.fields_action, lists.fields_page), methods=["POST"]),
    Route("/favourites", lists.listing),
    Route("/recent", lists.listing),
    Route("/shared", lists.listing),
]
