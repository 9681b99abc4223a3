import numpy as np
import pytest

from scoresim.engine.rng import Streams, pcg64_advance, pcg64_state


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


def test_pcg64_state_made_from_the_seed_is_the_generators():
    """Streams.pcg64 seeds as numpy's PCG64 does, and pcg64_advance jumps as
    PCG64.advance does (the behaviour draws use both instead of building generators)."""
    made, built = Streams(5), Streams(5)
    for step in (-1, 0, 7, 1000):
        state = made.pcg64("behaviour.x", step)
        np.testing.assert_array_equal(state, pcg64_state(built.gen("behaviour.x", step)))
        for delta in (0, 1, 2, 12_345, 10**7 + 3):
            bits = np.random.PCG64()
            bits.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
                          "state": {"state": (int(state[0]) << 64) | int(state[1]),
                                    "inc": (int(state[2]) << 64) | int(state[3])}}
            want = pcg64_state(np.random.Generator(bits.advance(delta)))
            np.testing.assert_array_equal(pcg64_advance(state, delta), want)
