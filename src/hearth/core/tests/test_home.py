def test_home_counts_scope_and_charts_children(world, client, login):
    login(world, "subdistrict_officer")
    page = client.get("/").content.decode()
    assert "辖区人员" in page
    # Two communities below the sub-district: a chart compares them, with its data as JSON, not inline script.
    assert 'type="application/json"' in page and "祥和社区" in page and "学苑社区" in page
    assert "vendor/echarts.min.js" in page


def test_home_of_an_administrative_role_shows_no_personal_counts(world, client, login):
    login(world, "system_admin")
    page = client.get("/").content.decode()
    assert "辖区人员" not in page and "账号" in page


def test_home_lists_exports_awaiting_approval(world, client, login):
    from hearth.audit.models import ExportRequest

    grant = world.grants["community_officer"]
    ExportRequest.objects.create(
        kind="persons", params={}, row_count=900, reason="r", requested_by=grant, place_path=grant.place.path
    )
    login(world, "subdistrict_officer")
    page = client.get("/").content.decode()
    assert "待审批的数据导出" in page
