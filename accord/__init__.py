"""accord: metric definitions as code, computed on your data, with the collisions between teams shown."""
__version__ = "0.1.0"

__all__ = ["load_project", "compute", "run_check", "reconcile", "build_tree", "touchpoints", "write_report",
           "__version__"]

# Loaded on first use, so that `import accord` (and `accord --help`) stays light.
_PUBLIC = {
    "load_project": "accord.project.loader",
    "compute": "accord.compute.run",
    "run_check": "accord.check",
    "reconcile": "accord.analyze.bridge",
    "build_tree": "accord.analyze.tree",
    "touchpoints": "accord.analyze.touchpoints",
    "write_report": "accord.render.html",
}


def __getattr__(name):
    if name in _PUBLIC:
        import importlib
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(name)
