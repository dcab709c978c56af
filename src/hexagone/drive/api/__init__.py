"""The drive's JSON API, mounted at ``/api/v1/drive`` (see docs/drive.md): the same
service face and policy as the pages and WebDAV, for applications holding a token, and
tus 1.0 resumable uploads at ``/api/v1/drive/uploads``; public links."""

from fastapi import APIRouter

from hexagone.drive.api import details, links, nodes, uploads

ROUTERS: list[APIRouter] = [nodes.router, details.router, links.router, uploads.router]
