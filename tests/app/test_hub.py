"""The hub: per-client queues, step batches joined per client and run, following runs, admission."""

import asyncio

from deeplook.app.hub import Hub, StepBatch
from deeplook.app.messages import StepMessage
from tests.support import run_async


def steps(run_id, numbers):
    n = len(numbers)
    return StepBatch(
        StepMessage(run_id=run_id, step=numbers, epoch=[1] * n, loss=[0.5] * n, accuracy=[0.9] * n)
    )


def test_step_batches_merge_per_client_and_run_and_other_messages_keep_their_order():
    async def scenario():
        hub = Hub(queue_limit=8)
        hub.set_active("r", True)
        hub.set_active("s", True)
        async with hub.subscribe() as sub:
            hub.publish(steps("r", [1, 2]), "r")
            hub.publish(steps("s", [1]), "s")
            hub.publish(steps("r", [3]), "r")  # joins r's first batch, across s's
            hub.publish('{"type": "epoch", "run_id": "r"}', "r")
            hub.publish(steps("r", [4]), "r")  # after r's epoch: a batch of its own
            hub.publish(steps("s", [2]), "s")  # s had no message since: merged into its batch
            texts = await sub.get()
        return texts, hub.subscriber_count

    texts, count = run_async(scenario())
    assert count == 0
    decoded = [
        StepMessage.model_validate_json(t) if '"step"' in t and 'epoch",' not in t[:20] else t for t in texts
    ]
    assert [(m.run_id, m.step) for m in decoded if isinstance(m, StepMessage)] == [
        ("r", [1, 2, 3]),
        ("s", [1, 2]),
        ("r", [4]),
    ]
    assert texts.index('{"type": "epoch", "run_id": "r"}') == 2


def test_clients_get_steps_of_the_runs_they_follow_and_every_status():
    async def scenario():
        hub = Hub()
        hub.set_active("a", True)
        async with hub.subscribe() as everyone, hub.subscribe() as picky:
            picky.follow_active = False
            picky.runs.add("b")  # a finished run it looks at
            hub.publish(steps("a", [1]), "a")
            hub.publish(steps("b", [1]), "b")
            hub.publish('"status"')  # no run: for everyone
            return await everyone.get(), await picky.get()

    everyone, picky = run_async(scenario())
    assert [StepMessage.model_validate_json(t).run_id for t in everyone[:1]] == ["a"]
    assert everyone[1] == '"status"' and len(everyone) == 2
    assert StepMessage.model_validate_json(picky[0]).run_id == "b" and picky[1] == '"status"'


def test_a_subscriber_past_its_limit_is_marked_stuck_and_dropped_from_publishing():
    async def scenario():
        hub = Hub(queue_limit=3)
        async with hub.subscribe() as slow, hub.subscribe() as fast:
            for i in range(5):
                hub.publish(f'"{i}"')
                if i < 4:
                    assert len(await fast.get()) == 1
            return slow.stuck, fast.stuck, await slow.get()

    slow_stuck, fast_stuck, leftover = run_async(scenario())
    assert slow_stuck and not fast_stuck and leftover == []


def test_frames_are_spaced_by_the_number_of_viewers_not_of_runs():
    hub = Hub(updates_per_second=20, sends_per_second=300)
    assert hub.frame_interval == 0.05
    for run in "abcdef":
        hub.set_active(run, True)
    assert hub.frame_interval == 0.05  # six runs, no viewers: the same spacing


def test_a_joined_batch_is_the_json_of_its_merged_message():
    parts = [steps("r", [1, 2]), steps("r", []), steps("r", [3])]
    parts[0].parts[0].message.loss[1] = 1e-05  # numbers written as pydantic writes them
    joined = parts[0].joined(parts[1]).joined(parts[2])
    merged = StepMessage(
        run_id="r", step=[1, 2, 3], epoch=[1, 1, 1], loss=[0.5, 1e-05, 0.5], accuracy=[0.9, 0.9, 0.9]
    )
    assert joined.text == merged.model_dump_json()
    assert joined.steps == 3 and joined.last_step == 3
    assert parts[0].text == parts[0].parts[0].message.model_dump_json()
    # every client's join shares the parts' JSON: a part is serialised once
    assert joined.parts[0] is parts[0].parts[0]


def test_clients_connecting_at_once_start_one_per_turn_of_the_loop_in_their_order():
    async def scenario():
        hub = Hub()
        order: list[object] = []

        async def client(i):
            await hub.admission()
            order.append(i)

        async def other_work():  # a health check arriving with the crowd
            await asyncio.sleep(0)
            order.append("other")

        crowd = [asyncio.create_task(client(i)) for i in range(50)]
        await asyncio.gather(*crowd, asyncio.create_task(other_work()))
        return order

    order = run_async(scenario())
    assert [o for o in order if o != "other"] == list(range(50))
    assert order.index("other") < 5  # not behind the whole crowd (it was 50th before admission)
