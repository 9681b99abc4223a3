import numpy as np
import pytest

from scoresim.rng import Streams


def test_same_seed_name_step_gives_same_draws():
    a = Streams(7).gen("behaviour.comment", 3).random(5)
    b = Streams(7).gen("behaviour.comment", 3).random(5)
    np.testing.assert_array_equal(a, b)


def test_streams_differ_by_name_step_and_seed():
    base = Streams(7).gen("x", 3).random(5)
    assert not np.array_equal(base, Streams(7).gen("y", 3).random(5))
    assert not np.array_equal(base, Streams(7).gen("x", 4).random(5))
    assert not np.array_equal(base, Streams(8).gen("x", 3).random(5))


def test_a_stream_is_drawn_once_per_step():
    s = Streams(0)
    s.gen("x", 1)
    with pytest.raises(RuntimeError, match="asked for twice"):
        s.gen("x", 1)
    s.gen("x", 2)  # the next step is fine


def test_adding_a_stream_does_not_shift_another():
    one = Streams(3)
    first = one.gen("a", 0).random(4)
    two = Streams(3)
    two.gen("new_mechanism", 0).random(1000)
    np.testing.assert_array_equal(first, two.gen("a", 0).random(4))
