"""Check days (集中康检日): planning, invitations, attendance, make-up checks."""

urlpatterns: list = []
