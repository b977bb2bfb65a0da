"""Deprecated alias of :mod:`build_engine.training.make_scenes` (moved after 0.1.0; removed in the next release)."""

from fcn_trt._deprecated import reexport, run_moved_main

reexport("build_engine.make_scenes", "build_engine.training.make_scenes", globals())


if __name__ == "__main__":  # python -m build_engine.make_scenes keeps working for one release
    run_moved_main("build_engine.make_scenes")
