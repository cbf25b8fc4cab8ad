import pytest

torch = pytest.importorskip("torch")


@pytest.fixture
def default_float64():
    """torch keeps ``step`` and NAdam's ``mu_product`` in the default dtype: float64 runs
    are compared with a float64 default, as a float64 user would run them."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """The models here are tiny: torch's intra-op threads only add contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
