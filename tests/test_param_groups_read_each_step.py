"""param_groups is read at every step, as torch.optim reads it: a replaced group dict or a
replaced list takes effect at the next step; a missing entry is a clear error before
anything is written."""
import numpy as np
import pytest

import fastopt


def _two_groups():
    a, b = np.ones(4), np.ones(3)
    return fastopt.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1), a, b


def test_replaced_group_dict_takes_effect_at_the_next_step():
    opt, a, b = _two_groups()
    opt.step([np.ones(4), np.ones(3)])
    opt.param_groups[0] = {**opt.param_groups[0], "lr": 0.0}
    opt.step([np.ones(4), np.ones(3)])
    np.testing.assert_array_equal(a, 0.9)        # only the first step moved it
    np.testing.assert_array_equal(b, 0.0)
    opt.param_groups[0]["lr"] = 1.0              # the new dict is the one read from now on
    opt.step([np.ones(4), np.ones(3)])
    np.testing.assert_array_equal(a, 0.9 - 1.0)


def test_replaced_list_takes_effect_at_the_next_step():
    opt, a, b = _two_groups()
    opt.param_groups = [{**g, "lr": 0.25} for g in opt.param_groups]
    opt.step([np.ones(4), np.ones(3)])
    np.testing.assert_array_equal(a, 0.75)
    np.testing.assert_array_equal(b, 0.75)


def test_replaced_group_with_other_arrays_steps_them():
    opt, a, b = _two_groups()
    c = np.full(4, 2.0)
    opt.param_groups[0] = {**opt.param_groups[0], "params": [c]}
    opt.step([np.ones(4), np.ones(3)])
    np.testing.assert_array_equal(a, 1.0)
    np.testing.assert_array_equal(c, 1.9)


@pytest.mark.parametrize("key", ["lr", "momentum", "maximize", "params"])
def test_missing_entry_names_key_and_group_and_writes_nothing(key):
    opt, a, b = _two_groups()
    opt.step([np.ones(4), np.ones(3)])
    del opt.param_groups[1][key]
    with pytest.raises(ValueError, match=f"param group 1 has no '{key}' entry"):
        opt.step([np.ones(4), np.ones(3)])
    np.testing.assert_array_equal(a, 0.9)
    np.testing.assert_array_equal(b, 0.5)


def test_group_count_change_and_non_dict_group_are_rejected():
    opt, a, b = _two_groups()
    opt.param_groups = opt.param_groups[:1]
    with pytest.raises(ValueError, match="holds 1 groups but the optimizer has 2"):
        opt.step([np.ones(4), np.ones(3)])
    opt, a, b = _two_groups()
    opt.param_groups[1] = [b]
    with pytest.raises(TypeError, match=r"param_groups\[1\] must be a dict"):
        opt.step([np.ones(4), np.ones(3)])
    assert np.all(a == 1) and np.all(b == 1)


def test_params_entry_that_is_not_a_list_is_rejected():
    opt, a, b = _two_groups()
    opt.param_groups[0]["params"] = (a,)
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['params'\] must be a list"):
        opt.step([np.ones(4), np.ones(3)])
    assert np.all(a == 1) and np.all(b == 1)
