"""invert_batch / invert_stream: shared set-up, seeds independent of workers, errors before work."""

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import invert, invert_batch, invert_stream
from theorychk.solvers.batch import processes_used


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(3)
    net = Network([Layer(rng.normal(size=(30, 5)) / 5, None, "relu"), Layer(rng.normal(size=(60, 30)) / 8, None, "relu")])
    z = rng.normal(size=(10, 5))
    return net, z, np.array([net.forward(v) for v in z])


def test_batch_equals_one_signal_at_a_time(planted):
    net, z, y = planted
    batch = invert_batch(net, y, method="linf")
    for i, r in enumerate(batch):
        single = invert(net, y[i], method="linf")
        assert r.status == single.status
        np.testing.assert_array_equal(r.latent, single.latent)
    assert all(r.solved for r in batch)
    np.testing.assert_allclose(np.array([r.latent for r in batch]), z, atol=1e-7)


@pytest.mark.parametrize("seed", [5, "generator"])
def test_workers_do_not_change_results_of_a_randomised_method(planted, seed):
    net, _, y = planted

    def run(workers):
        s = np.random.default_rng(5) if seed == "generator" else seed
        return invert_batch(net, y, method="gd", seed=s, workers=workers, iterations=300)

    one, two = run(1), run(2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.latent, b.latent)


def test_stream_yields_every_index_once(planted):
    net, _, y = planted
    got = sorted(i for i, _ in invert_stream(net, y, workers=2))
    assert got == list(range(len(y)))


def test_a_bad_row_fails_before_any_work_and_is_named(planted):
    net, _, y = planted
    bad = y.copy()
    bad[7, 3] = np.nan
    with pytest.raises(InvalidInput, match=r"signal 7 must be finite; got NaN or Inf at index 3"):
        invert_stream(net, bad)  # raises at the call, not on iteration
    with pytest.raises(InvalidInput, match=r"signal 0 must have length 60"):
        invert_batch(net, y[:, :5])
    with pytest.raises(InvalidInput, match="workers must be a positive integer"):
        invert_batch(net, y, workers=0)


def test_processes_used():
    assert [processes_used(n, 2) for n in (1, 3, 4, 200)] == [1, 1, 2, 2]
    assert processes_used(200, 1) == 1


def test_dask_cluster_gives_the_same_results(planted):
    distributed = pytest.importorskip("distributed")
    net, _, y = planted
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = invert_batch(net, y, method="gd", seed=4, iterations=200, dask=client)
    here = invert_batch(net, y, method="gd", seed=4, iterations=200)
    for a, b in zip(here, on_dask, strict=True):
        np.testing.assert_array_equal(a.latent, b.latent)
