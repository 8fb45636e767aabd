"""API of documents (文书): /api/v1/documents/…"""

from ninja import Router

router = Router(tags=["documents"])
