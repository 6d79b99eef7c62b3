"""accord: metric definitions as code, computed on your data, with the collisions between teams shown."""
__version__ = "0.1.0"

__all__ = ["load_project", "compute", "run_check", "__version__"]


def __getattr__(name):  # keep `import accord` (and `accord --help`) light
    if name == "load_project":
        from accord.project.loader import load_project
        return load_project
    if name == "compute":
        from accord.compute.run import compute
        return compute
    if name == "run_check":
        from accord.check import run_check
        return run_check
    raise AttributeError(name)
