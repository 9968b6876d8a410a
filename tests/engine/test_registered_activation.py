"""An activation added to the registry is enough to train with it: GELU, known to the rest of the code
only by its registry entry, trains the notebook's Keras network as well as the notebook's sigmoid."""

import pytest

from deeplook.engine.activations import ACTIVATIONS
from tests.engine.runs import train


@pytest.mark.slow
def test_notebook_adam_with_gelu_reaches_the_notebooks_accuracy(mnist):
    assert "gelu" in ACTIVATIONS
    run = train(mnist, "notebook-adam", activation="gelu", init="glorot")
    assert run.config.model.activation == "gelu" and len(run.epochs) == 10
    assert run.epochs[-1].test_accuracy >= 0.965
    hidden = run.layers[-1][0]
    assert hidden.saturated == 0.0  # judged by its registry's rule (dead units), not as a sigmoid
    assert 0.0 <= hidden.dead < 0.3
