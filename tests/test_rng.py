import pytest
import torch

from xstyle.rng import RandomStream


def test_stream_starts_where_manual_seed_would():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        expected = torch.rand(5)
    with RandomStream(7).active():
        got = torch.rand(5)
    assert torch.equal(got, expected)


def test_stream_continues_across_blocks_and_leaves_the_callers_state():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        contiguous = torch.rand(6)
    torch.manual_seed(123)
    caller = torch.get_rng_state()
    stream = RandomStream(3)
    parts = []
    for _ in range(3):
        with stream.active():
            parts.append(torch.rand(2))
        assert torch.equal(torch.get_rng_state(), caller)
        torch.rand(4)  # the caller draws in between: the stream does not see it
        caller = torch.get_rng_state()
    assert torch.equal(torch.cat(parts), contiguous)


def test_state_can_be_saved_and_restored():
    stream = RandomStream(0)
    with stream.active():
        torch.rand(3)
    saved = stream.state.clone()
    with stream.active():
        first = torch.rand(4)
    stream.state = saved
    with stream.active():
        again = torch.rand(4)
    assert torch.equal(first, again)


def test_an_error_inside_the_block_restores_the_callers_state_and_keeps_the_streams():
    stream = RandomStream(1)
    caller = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="boom"), stream.active():
        torch.rand(2)
        raise RuntimeError("boom")
    assert torch.equal(torch.get_rng_state(), caller)
    with stream.active():
        after = torch.rand(1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        assert torch.equal(torch.rand(3)[2:], after)


@pytest.mark.parametrize("seed", [1.5, "0", True, None])
def test_seed_must_be_an_integer(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        RandomStream(seed)


def test_numpy_integer_seeds_work_and_creating_a_stream_draws_nothing():
    import numpy as np

    caller = torch.get_rng_state()
    a, b = RandomStream(np.int64(9)), RandomStream(9)
    assert torch.equal(torch.get_rng_state(), caller)
    assert torch.equal(a.state, b.state)
