"""API of check days (集中康检日): /api/v1/care/checkdays/…"""

from ninja import Router

router = Router(tags=["care"])
