"""``python -m fastopt learn {compare,train}``: the learned optimizer's comparison with
fastopt's optimizers (seconds, NumPy and matplotlib only), and its meta-training (PyTorch)."""
import argparse
import time

from fastopt.learned.lstm import CHECKPOINT


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m fastopt learn",
        description="A coordinate-wise LSTM optimizer meta-trained on random 10-D quadratics "
                    "(Andrychowicz et al. 2016), against fastopt's tuned optimizers.")
    sub = ap.add_subparsers(dest="command", required=True)
    cmp_ = sub.add_parser("compare", help="learned vs tuned optimizers on fresh quadratics")
    cmp_.add_argument("--checkpoint", default=CHECKPOINT,
                      help="weights (.npz; default: the shipped checkpoint)")
    cmp_.add_argument("--problems", type=int, default=128, help="test quadratics (default 128)")
    cmp_.add_argument("--steps", type=int, default=100, help="steps (default 100)")
    cmp_.add_argument("--out", default=None, help="write the loss-vs-steps figure here (.png)")
    tr = sub.add_parser("train", help="meta-train a fresh LSTM (needs torch)")
    tr.add_argument("--epochs", type=int, default=100, help="epochs (default 100)")
    tr.add_argument("--batch", type=int, default=64, help="quadratics per epoch (default 64)")
    tr.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default 3e-3)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--out", required=True, help="checkpoint to write (.npz)")
    args = ap.parse_args(argv)
    if args.command == "compare":
        if args.problems < 1 or args.steps < 1:
            ap.error("--problems and --steps must be >= 1")
        from fastopt.learned.compare import compare, save_figure
        curves = compare(problems=args.problems, steps=args.steps, weights=args.checkpoint)
        print(f"mean loss of {args.problems} fresh 10-D quadratics ||Wx - y||^2 "
              f"(learning rates tuned on other quadratics)")
        print(f"{'optimizer':12s}{'lr':>9s}{'step 0':>11s}{'step 20':>11s}"
              f"{f'step {args.steps}':>11s}")
        for name, c in curves.items():
            lr = curves.lrs.get(name)
            lr = "learned" if lr is None else f"{lr:g}"
            print(f"{name:12s}{lr:>9s}{c[0]:11.4g}{c[min(20, args.steps)]:11.4g}{c[-1]:11.4g}")
        if args.out:
            save_figure(curves, args.out)
            print(f"wrote {args.out}")
        return 0
    try:
        from fastopt.learned.train import meta_train, save
    except ImportError as e:
        ap.error(str(e))
    if args.epochs < 1 or args.batch < 1:
        ap.error("--epochs and --batch must be >= 1")
    t0 = time.perf_counter()
    try:
        net, history = meta_train(epochs=args.epochs, batch=args.batch, lr=args.lr,
                                  seed=args.seed)
    except ImportError as e:
        ap.error(str(e))
    save(net, args.out)
    print(f"meta-loss {history[0]:.4g} -> {history[-1]:.4g} in {time.perf_counter() - t0:.0f} s;"
          f" wrote {args.out}")
    return 0
