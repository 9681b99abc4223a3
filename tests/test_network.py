import numpy as np
import pytest

from conftest import scenario_with
from scoresim import ScenarioError, Sim
from scoresim.model.network import Network, read_edgelist, region_clustered, scale_free, small_world


def test_network_is_simple_and_symmetric():
    net = Network(5, np.array([0, 1, 1, 2, 3]), np.array([1, 0, 1, 4, 3]))
    assert net.n_edges == 2  # duplicate (0,1)/(1,0) and self-ties (1,1), (3,3) dropped
    a = net.adjacency.toarray()
    np.testing.assert_array_equal(a, a.T)
    np.testing.assert_array_equal(net.degree, [1, 1, 1, 0, 1])


def test_small_world_has_the_mean_degree():
    net = small_world(10_000, 10, 0.1, np.random.default_rng(0))
    assert net.degree.mean() == pytest.approx(10, rel=0.01)


def test_scale_free_has_a_heavy_tail():
    net = scale_free(20_000, 10, 2.5, np.random.default_rng(0))
    assert net.degree.mean() == pytest.approx(10, rel=0.1)
    assert net.degree.max() > 15 * net.degree.mean()
    sw = small_world(20_000, 10, 0.1, np.random.default_rng(0))
    assert sw.degree.max() < 3 * sw.degree.mean()


def test_region_clustered_keeps_ties_in_the_region():
    rng = np.random.default_rng(0)
    region = rng.integers(0, 4, 8000)
    net = region_clustered(8000, 10, 0.5, 0.9, region, rng)
    same = (region[net.u] == region[net.v]).mean()
    assert same > 0.9
    random = small_world(8000, 10, 1.0, rng)
    assert (region[random.u] == region[random.v]).mean() < 0.35


def test_edgelist_round_trip(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("# friends\n0,1\n1 2\n\n2 0\n", encoding="utf-8")
    net = read_edgelist(path, 4)
    assert net.n_edges == 3 and net.degree.tolist() == [2, 2, 2, 0]


@pytest.mark.parametrize(("text", "message"), [
    ("0 1\n1 x\n", "line 2: expected two integer person ids"),
    ("0 1\n1 9\n", "must lie in [0, 3]"),
    ("0 1 2\n", "line 1"),
])
def test_bad_edgelist_is_explained(tmp_path, text, message):
    path = tmp_path / "ties.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_edgelist(path, 4)


def test_scenario_can_read_an_edgelist_relative_to_its_file(tmp_path):
    (tmp_path / "ties.txt").write_text("0 1\n1 2\n2 3\n", encoding="utf-8")
    path = scenario_with(tmp_path, """
        extends = "seed"
        [people]
        count = 4
        [network]
        kind = "edgelist"
        path = "ties.txt"
    """)
    sim = Sim(path, days=3)
    assert sim.network.n_edges == 3


def test_edgelist_needs_a_path():
    from scoresim import load_scenario

    with pytest.raises(ScenarioError, match="needs `path`"):
        load_scenario("seed", {"network.kind": "edgelist"})


def test_adding_ties_equals_building_the_graph_at_once():
    rng = np.random.default_rng(0)
    net = small_world(1000, 10, 0.1, rng)
    before = net.n_edges
    a, b = rng.integers(0, 1000, 500), rng.integers(0, 1000, 500)
    whole = Network(1000, np.concatenate([net.u, a]), np.concatenate([net.v, b]))
    added = net.add(a, b)
    np.testing.assert_array_equal(net.u, whole.u)
    np.testing.assert_array_equal(net.v, whole.v)
    assert added == whole.n_edges - before
    np.testing.assert_array_equal(net.degree, whole.degree)
