"""Trajectories against torch.optim (single-tensor implementation), every option combination,
both dtypes.  Skipped when PyTorch is not installed."""
import numpy as np
import pytest

from first_order_cases import ALGORITHMS, ALL_CASES, assert_close, case_id, gradient, gradient_pool

torch = pytest.importorskip("torch")

TORCH_CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "adadelta": "Adadelta",
                 "rmsprop": "RMSprop", "adam": "Adam", "adamax": "Adamax", "nadam": "NAdam"}
STEPS = 50


@pytest.fixture
def torch_default_float64():
    """torch keeps scalar state (NAdam's mu_product, step) in the default dtype; make it
    float64 so a float64 trajectory is float64 throughout."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.parametrize("name,kw", ALL_CASES, ids=[case_id(*c) for c in ALL_CASES])
def test_trajectory_matches_torch(name, kw, torch_default_float64):
    """float32 and float64, 60 steps: parameters and every state tensor torch keeps."""
    for dtype in (np.float32, np.float64):
        where = np.dtype(dtype).name
        rng = np.random.default_rng(7)
        shapes = [(37,), (5, 9)]
        p0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
        pools = [gradient_pool(rng, s, dtype, k=3) for s in shapes]
        params = [p.copy() for p in p0]
        tparams = [torch.tensor(p, requires_grad=False) for p in p0]
        opt = ALGORITHMS[name][0](params, **kw)
        topt = getattr(torch.optim, TORCH_CLASSES[name])(tparams, foreach=False, **kw)
        for t in range(1, STEPS + 1):
            grads = [gradient(pool, t) for pool in pools]
            for tp, g in zip(tparams, grads):
                tp.grad = torch.from_numpy(g.copy())
            topt.step()
            opt.step(grads)
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert_close(p, tp.numpy(), dtype, f"{where}: param {i}")
            for key, value in topt.state[tp].items():
                if key in opt.state[i] and isinstance(value, torch.Tensor):
                    expected = value.numpy()
                    if key == "step":
                        assert int(opt.state[i]["step"]) == int(expected), where
                    elif key == "mu_product":
                        assert float(opt.state[i]["mu_product"]) == \
                            pytest.approx(float(expected), rel=1e-6), where
                    else:
                        assert_close(opt.state[i][key], expected, dtype,
                                     f"{where}: state {key} of param {i}")


def test_defaults_match_torch():
    import inspect

    import fastopt

    for cls_name in ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam"]:
        ours = inspect.signature(getattr(fastopt, cls_name)).parameters
        theirs = inspect.signature(getattr(torch.optim, cls_name)).parameters
        for arg, param in ours.items():
            if arg == "params":
                continue
            assert arg in theirs, f"{cls_name}.{arg} is not a torch.optim argument"
            assert param.default == theirs[arg].default, f"{cls_name}.{arg} default differs"
