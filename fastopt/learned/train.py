r"""Meta-training of the learned optimizer with PyTorch (``pip install 'fastopt[learn]'``).

The optimizee is a batch of random quadratics (:mod:`fastopt.learned.quadratics`); the
optimizer is the coordinate-wise two-layer LSTM of :mod:`fastopt.learned.lstm`.  Each epoch
draws a fresh batch and optimises it for ``steps`` (100) steps in unrolls of ``unroll`` (20)
steps.  The meta-loss of an unroll is the mean loss of the problems over its steps; its
gradient flows back through the LSTM and the optimizee's path ``x_t`` (truncated
backpropagation through time: state and ``x`` are detached between unrolls) but not through
the optimizee's gradients, which enter as data (as in the paper: no second derivatives).
The LSTM's weights are updated by Adam after every unroll (gradient norm clipped at 1).
Training runs in float32; the checkpoint stores float32 weights.

Example (a few epochs; a real run is ``python -m fastopt learn train``)::

    >>> from fastopt.learned.train import meta_train       # doctest: +SKIP
    >>> net, history = meta_train(epochs=3, batch=16)        # doctest: +SKIP
"""
import numpy as np

__all__ = ["LSTMNet", "meta_train", "save"]


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("meta-training needs PyTorch: pip install 'fastopt[learn]'") from None
    return torch


def LSTMNet(hidden=20, k=5.0, output_scale=0.01):
    """The coordinate-wise LSTM as a ``torch.nn.Module``: ``net(g, state) -> (update,
    state)`` for a flat gradient ``g`` (one row per coordinate)."""
    torch = _torch()
    nn = torch.nn

    class _Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.k, self.output_scale = hidden, k, output_scale
            self.cell0 = nn.LSTMCell(2, hidden)
            self.cell1 = nn.LSTMCell(hidden, hidden)
            self.out = nn.Linear(hidden, 1)
            with torch.no_grad():
                self.out.weight.mul_(0.1)
                self.out.bias.zero_()

        def initial_state(self, n, dtype=torch.float32):
            return [torch.zeros(n, self.hidden, dtype=dtype) for _ in range(4)]

        def preprocess(self, g):
            eps = float(np.finfo(np.float32).eps)
            log = torch.clamp(torch.log(g.abs() + eps) / self.k, min=-1.0)
            sign = torch.clamp(g * float(np.exp(self.k)), -1.0, 1.0)
            return torch.stack([log, sign], dim=-1)

        def forward(self, g, state):
            h0, c0, h1, c1 = state
            h0, c0 = self.cell0(self.preprocess(g), (h0, c0))
            h1, c1 = self.cell1(h0, (h1, c1))
            return self.out(h1)[:, 0] * self.output_scale, [h0, c0, h1, c1]

    return _Net()


def _quadratics(torch, batch, dim, gen):
    w = torch.rand(batch, dim, dim, generator=gen)
    y = torch.rand(batch, dim, generator=gen)
    x = 0.01 * torch.randn(batch, dim, generator=gen)
    return w, y, x


def meta_train(epochs=100, batch=64, dim=10, steps=100, unroll=20, lr=3e-3, seed=0,
               hidden=20, progress=True):
    """Meta-train a fresh LSTM; returns ``(net, history)`` (``history``: the mean meta-loss
    of every epoch).  ``progress``: show a tqdm bar (if tqdm is installed)."""
    torch = _torch()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = LSTMNet(hidden=hidden)
    meta_opt = torch.optim.Adam(net.parameters(), lr=lr)
    bar = range(epochs)
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(bar, desc="meta-training", unit="epoch")
        except ImportError:
            pass
    history = []
    for _ in bar:
        w, y, x = _quadratics(torch, batch, dim, gen)
        state = net.initial_state(batch * dim)
        total = 0.0
        for _ in range(steps // unroll):
            meta_loss = 0.0
            for _ in range(unroll):
                r = torch.bmm(w, x[:, :, None])[:, :, 0] - y
                g = 2 * torch.bmm(r[:, None, :], w)[:, 0, :].detach()
                update, state = net(g.reshape(-1), state)
                x = x + update.reshape(batch, dim)
                r = torch.bmm(w, x[:, :, None])[:, :, 0] - y
                meta_loss = meta_loss + (r * r).sum(dim=1).mean()
            meta_loss = meta_loss / unroll
            meta_opt.zero_grad()
            meta_loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            meta_opt.step()
            total += meta_loss.item()
            x = x.detach()
            state = [s.detach() for s in state]
        history.append(total / (steps // unroll))
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(meta_loss=f"{history[-1]:.4f}")
    return net, history


def save(net, path):
    """Write the weights of a trained net as the ``.npz`` checkpoint
    :class:`fastopt.learned.LSTMOptimizer` reads."""
    with _torch().no_grad():
        arrays = {
            "w_ih0": net.cell0.weight_ih, "w_hh0": net.cell0.weight_hh,
            "b0": net.cell0.bias_ih + net.cell0.bias_hh,
            "w_ih1": net.cell1.weight_ih, "w_hh1": net.cell1.weight_hh,
            "b1": net.cell1.bias_ih + net.cell1.bias_hh,
            "w_out": net.out.weight, "b_out": net.out.bias,
        }
        arrays = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in arrays.items()}
    np.savez_compressed(path, hidden=np.int64(net.hidden), k=np.float64(net.k),
                        output_scale=np.float64(net.output_scale), **arrays)
