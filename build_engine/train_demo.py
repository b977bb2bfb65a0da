"""Deprecated alias of :mod:`build_engine.training.train_demo` (moved after 0.1.0; removed in the next release)."""

from fcn_trt._deprecated import reexport, run_moved_main

reexport("build_engine.train_demo", "build_engine.training.train_demo", globals())


if __name__ == "__main__":  # python -m build_engine.train_demo keeps working for one release
    run_moved_main("build_engine.train_demo")
