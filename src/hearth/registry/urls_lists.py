"""Derived lists (派生名单) pages. Owned by the lists work; included from registry/urls.py."""

urlpatterns: list = []
