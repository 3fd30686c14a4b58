"""Entry point of the frozen app: `GauntletStudio` opens the window, `GauntletStudio <command>`
runs the CLI (the installer's post-install check runs `GauntletStudio studio --smoke-test`).
`--funnel-child` is how the app starts its funnel worker process
(app/funnel/child_worker.py), since a frozen binary has no `python -m`."""

import sys

if __name__ == "__main__":
    from app.frozen import prepare_frozen_process

    # First: harmless stdout/stderr in a windowed build, multiprocessing's child dispatch, and
    # the user's own library path for every program the app starts.
    prepare_frozen_process()
    if sys.argv[1:2] == ["--funnel-child"]:
        from app.funnel.child_worker import main as funnel_child

        sys.exit(funnel_child())
    from app.cli import main

    sys.exit(main(sys.argv[1:] or ["studio"]))
