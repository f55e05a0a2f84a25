"""Command line of the experiments: ``python -m qntk_sklearn.experiments --help``."""

from __future__ import annotations

import argparse
import sys

from ._common import EXPERIMENTS, MODES
from ._runner import existing_results, replot, run_experiments


def _count(minimum, rule):
    """argparse type: an int >= ``minimum`` (``rule`` names it in the error)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a {rule}; got {text!r}")
        return value

    parse.__name__ = rule  # what argparse shows for a value it cannot convert
    return parse


_positive_int = _count(1, "positive int")
_non_negative_int = _count(0, "non-negative int")


def _sizes(text):
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(v < 2 or v % 2 for v in sizes):
        raise argparse.ArgumentTypeError(
            f"sizes must be comma-separated even ints >= 2, e.g. 16,32,64; got {text!r}"
        )
    return sizes


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m qntk_sklearn.experiments",
        description=(
            "Reproduce the numerical experiments of Zlokapa, Neven & Lloyd "
            "(arXiv:2107.09200) on local MNIST files. Default mode: full."
        ),
    )
    parser.add_argument(
        "experiments",
        nargs="*",
        default=[],
        metavar="EXPERIMENT",
        help=f"which to run, among {', '.join(EXPERIMENTS)} or all (default: all)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--mnist",
        default=None,
        help="MNIST .npz file or folder of IDX files (default: $QNTK_MNIST)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_const",
        const="quick",
        dest="mode",
        help="small sizes, under 10 minutes on 2 cores",
    )
    mode.add_argument(
        "--smoke",
        action="store_const",
        const="smoke",
        dest="mode",
        help="tiny sizes, under 2 minutes (used by the tests)",
    )
    parser.set_defaults(mode="full")
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="worker processes for independent trials; threads of the CNN kernel "
        "(default 1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument(
        "--trials",
        type=_positive_int,
        default=None,
        help="override the number of trials per size",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="override the FC training sizes, e.g. 16,32,64",
    )
    parser.add_argument(
        "--baseline-sizes",
        type=_sizes,
        default=None,
        help="override the baseline training sizes",
    )
    parser.add_argument(
        "--cnn-sizes", type=_sizes, default=None, help="override the CNN training sizes"
    )
    parser.add_argument(
        "--cnn-image-size",
        type=int,
        default=None,
        help="side of the CNN's images (default 16; 28 keeps MNIST's size; files "
        "and record are named cnn<side> unless 16)",
    )
    parser.add_argument(
        "--cnn-n-test", type=int, default=None, help="override the CNN's test points"
    )
    parser.add_argument(
        "--cnn-pool",
        type=int,
        default=None,
        help="training images drawn per CNN trial (default: the largest size); with "
        "the largest size of a fuller run, the trials are that run's, restricted to "
        "--cnn-sizes",
    )
    parser.add_argument(
        "--exact-max",
        type=_non_negative_int,
        default=None,
        help="largest n at which the exact (dense) NTK is fitted",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep earlier runs in --out for sizes not run now "
        "(fc, baselines; cnn: other trials)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace result files (CSV tables and their figures) already in --out; "
        "without it (or --append) the command refuses to overwrite them",
    )
    parser.add_argument(
        "--first-trial",
        type=_non_negative_int,
        default=0,
        help="index of the first trial (with --append, to add trials to a run)",
    )
    parser.add_argument(
        "--replot",
        action="store_true",
        help="only redraw the figures from the CSV files in --out",
    )
    return parser


def main(argv=None):
    """Entry point of ``python -m qntk_sklearn.experiments`` and ``qntk-experiments``.

    Parameters
    ----------
    argv : list of str or None
        Arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success.
    """
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    bad = [e for e in args.experiments if e not in (*EXPERIMENTS, "all")]
    if bad:
        parser.error(
            f"EXPERIMENT must be among {', '.join(EXPERIMENTS)} or all; got {bad}"
        )
    if args.replot:
        for name in replot(args.out):
            print(name)
        return 0
    experiments = (
        list(EXPERIMENTS)
        if (not args.experiments or "all" in args.experiments)
        else list(dict.fromkeys(args.experiments))
    )
    clash = existing_results(
        experiments,
        args.out,
        append=args.append,
        cnn_image_size=args.cnn_image_size or 16,
    )
    if clash and not args.overwrite:
        append_hint = "" if args.append else " or --append to add to them"
        parser.error(
            f"this run would overwrite {', '.join(clash)} in {args.out}; pass "
            f"--overwrite to replace them{append_hint} (fc, baselines, cnn), or "
            "choose another --out"
        )
    overrides = {}
    if args.trials is not None:
        overrides.update(
            trials=args.trials, depth_trials=args.trials, cnn_trials=args.trials
        )
    if args.sizes is not None:
        overrides["fc_sizes"] = args.sizes
    if args.baseline_sizes is not None:
        overrides["baseline_sizes"] = args.baseline_sizes
    if args.cnn_sizes is not None:
        overrides["cnn_sizes"] = args.cnn_sizes
    if args.cnn_image_size is not None:
        if args.cnn_image_size < 16:
            parser.error(
                f"--cnn-image-size must be at least 16; got {args.cnn_image_size}"
            )
        overrides["cnn_image_size"] = args.cnn_image_size
    if args.cnn_n_test is not None:
        overrides["cnn_n_test"] = args.cnn_n_test
    if args.cnn_pool is not None:
        overrides["cnn_pool"] = args.cnn_pool
    if args.append:
        overrides["append"] = True
    if args.first_trial:
        overrides["first_trial"] = args.first_trial
    if args.exact_max is not None:
        overrides["exact_max"] = args.exact_max
    assert args.mode in MODES
    run_experiments(
        experiments,
        out=args.out,
        mnist=args.mnist,
        mode=args.mode,
        jobs=args.jobs,
        seed=args.seed,
        overrides=overrides,
        overwrite=True,  # checked above, with a command-line error
        argv=["python -m qntk_sklearn.experiments", *args_list],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
