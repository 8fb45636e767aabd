"""Change reports (变动报告) and household pages. Included from registry/urls.py."""

urlpatterns: list = []
