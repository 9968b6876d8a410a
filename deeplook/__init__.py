"""deeplook: watch a NumPy neural network learn handwritten digits live, and look inside it.

``deeplook.engine`` is the network and its training (NumPy and the standard library only);
``deeplook.app`` serves it over HTTP and websockets; ``deeplook.static`` is the dashboard;
``deeplook.client`` talks to a server from Python and ``deeplook.notebook`` from Jupyter.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deeplook")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0+unknown"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext deeplook`` in Jupyter (needs ``deeplook[notebook]``): adds the ``%deeplook`` magic."""
    from deeplook import notebook

    notebook.load_ipython_extension(ipython)
