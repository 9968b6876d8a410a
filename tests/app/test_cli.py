"""The ``deeplook`` command line: argument errors, and a real training run on MNIST."""

import pytest

from deeplook.cli import main
from deeplook.engine import serialize


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "expected a number >= 1"),
        (["train", "--lr", "-0.1"], "expected a finite number > 0"),
        (["train", "--hidden", "fifty"], "expected a whole number"),
        (["train", "--momentum", "1.5"], "momentum must be in [0, 1)"),
        (["train", "--activation", "softplus"], "invalid choice"),
        (["train", "--preset", "nope"], "invalid choice"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_train_prints_epoch_lines_and_saves_a_usable_model(capsys, tmp_path, mnist):
    path = tmp_path / "model.npz"
    code = main(["train", "--preset", "notebook-adam", "--epochs", "2", "--seed", "3", "--save", str(path)])
    out = capsys.readouterr().out.splitlines()

    assert code == 0
    assert [line.split()[:2] for line in out] == [["epoch", "1/2"], ["epoch", "2/2"]]
    accuracy = float(out[-1].split("test loss")[1].split()[2])
    assert accuracy > 0.93
    checkpoint = serialize.load(path)
    assert checkpoint.epoch == 2
    probs = checkpoint.weights.predict_proba(mnist.test_images[:500] / 255.0)
    assert (probs.argmax(axis=1) == mnist.test_labels[:500]).mean() > 0.9


def test_data_command_reports_the_source(capsys, mnist):
    assert main(["data", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "source:  cache" in out and "60000 images" in out
