def test_world_builds(world):
    assert len(world.persons) == 7
    assert world.places["A1a-b1-u1"].path.startswith(world.places["A1a"].path)
