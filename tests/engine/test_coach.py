"""The coach's rules, each on a real MNIST run made to show its problem, and silent on a healthy one."""

import pytest

from deeplook.engine.coach import RULES, coach
from tests.engine.runs import train

pytestmark = pytest.mark.slow

SMALL_SET = {"hidden": [256], "train_size": 200, "batch_size": 20, "epochs": 15, "lr": 0.003, "lr_decay": 1}
PROVOKED = {
    # sigmoid SGD at lr 5: nine in ten activations in the flat tails; the steps are too big as well
    "saturated": ("notebook-sgd", {"lr": 5, "epochs": 3}),
    # ReLU SGD at lr 1: more than half of the units never fire again
    "dead_units": ("notebook-sgd", {"activation": "relu", "init": "he", "lr": 1, "epochs": 2}),
    # ReLU SGD at lr 3: the loss jumps to 36 and the network falls back to guessing
    "lr_too_high": ("notebook-sgd", {"activation": "relu", "init": "he", "lr": 3, "epochs": 2}),
    # SGD at lr 0.001: the first layer's updates are 1e-5 of its weights, the loss stays at 2.30
    "lr_too_low": ("notebook-sgd", {"lr": 0.001, "epochs": 3}),
    # 200 training images: learnt by heart by epoch 4, then the test loss climbs...
    "overfitting": ("relu-adam", SMALL_SET),
    # ... and the test accuracy stops improving
    "done": ("relu-adam", SMALL_SET),
}


@pytest.fixture(scope="module")
def runs(mnist):
    """One run per provoked setting (overfitting and done share theirs)."""
    made = {}
    for preset, settings in PROVOKED.values():
        key = (preset, repr(settings))
        if key not in made:
            made[key] = train(mnist, preset, **settings)
    return {code: made[(preset, repr(settings))] for code, (preset, settings) in PROVOKED.items()}


def test_every_rule_has_a_provoked_run():
    assert set(PROVOKED) == set(RULES)


@pytest.mark.parametrize("code", list(PROVOKED))
def test_each_rule_fires_on_the_run_made_to_show_it(code, runs):
    advice = {a.code: a for a in coach(runs[code].history())}
    assert code in advice, [a.finding for a in advice.values()]
    found = advice[code]
    assert found.evidence and found.finding and found.advice
    for evidence in found.evidence:
        if evidence.limit is not None:
            assert evidence.value != evidence.limit
    if code in ("lr_too_high", "dead_units"):
        assert found.changes["lr"] < runs[code].config.optimizer.lr
    if code == "lr_too_low":
        assert found.changes["lr"] == pytest.approx(0.01)
    if code == "saturated":
        assert found.changes["activation"] == "relu"
    if code == "overfitting":
        assert found.changes == {"train_size": None}


def test_no_run_is_told_its_learning_rate_is_both_too_high_and_too_low(runs):
    for code, run in runs.items():
        for epochs in range(1, len(run.epochs) + 1):
            said = {a.code for a in coach(run.history(epochs))}
            assert not {"lr_too_high", "lr_too_low"} <= said, (code, epochs)
    assert "lr_too_high" not in {a.code for a in coach(runs["lr_too_low"].history())}


def test_a_healthy_run_gets_no_advice(notebook_adam):
    assert coach(notebook_adam.history()) == []


def test_the_advice_of_a_rule_can_be_tried_as_run_settings(runs):
    from deeplook.engine.config import SETTINGS, configure

    for code, run in runs.items():
        for advice in coach(run.history()):
            assert set(advice.changes) <= set(SETTINGS), code
            configure(run.config, advice.changes)  # valid settings


def test_a_learning_rate_changed_while_training_is_the_one_advised_on(runs):
    import dataclasses

    history = dataclasses.replace(runs["lr_too_high"].history(), lr=2.0)
    advice = {a.code: a for a in coach(history)}
    assert advice["lr_too_high"].changes == {"lr": 0.2} and advice["lr_too_high"].params["lr"] == 2.0
