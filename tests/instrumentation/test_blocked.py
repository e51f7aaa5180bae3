"""A dispatch that blocks the loop, seen while it blocks and recorded once it ends.

While it blocks, ``snapshot().blocked`` names it, where it was scheduled, the line
it is on now (which moves), whether the thread waits or burns CPU, and the loop
reads busy with a growing lag. When it ends, one ``slow`` event holds its whole
duration, every distinct stack sampled, its CPU and garbage-collection time.
"""

from __future__ import annotations

import re

from .tracecheck import Run, Runner


def blocking(runner: Runner, reactor: str) -> Run:
    return runner.run("blocking", reactor).check()


def test_snapshot_names_the_block_while_it_lasts(runner: Runner, reactor: str) -> None:
    run = blocking(runner, reactor)
    asleep, spinning = run.program["seen"]
    for seen in (asleep, spinning):
        assert seen["name"].endswith("job_that_blocks")
        assert seen["made_at"] == run.site("scheduled")
        assert seen["utilization"] == 1.0 and seen["lag"] >= seen["elapsed"] > 100_000_000
        assert seen["stack"][0].endswith(" job_that_blocks")
    assert asleep["site"] == run.site("sleeping") and asleep["function"] == "sleep_a_while"
    assert spinning["site"] == run.site("spinning") and spinning["function"] == "spin_a_while"
    assert spinning["elapsed"] > asleep["elapsed"] + 400_000_000
    assert asleep["waiting"] is True and spinning["waiting"] is False


def test_one_slow_event_holds_the_whole_block(runner: Runner, reactor: str) -> None:
    run = blocking(runner, reactor)
    [slow] = [e for e in run.of("slow") if e.name.endswith("job_that_blocks")]
    assert slow.dur >= 1_100_000_000 and slow.args["blocked"] == slow.dur
    assert slow.args["ongoing"] is False
    sites = {stack["stack"][-1].split(" ")[0] for stack in slow.args["stacks"]}
    assert {run.site("sleeping"), run.site("spinning")} <= sites
    assert sum(stack["samples"] for stack in slow.args["stacks"]) >= 10
    assert slow.args["cpu"] >= 550_000_000  # the spinning half, in CPU time
    assert slow.args["gc"] > 0
    assert slow.args["made_at"] == run.site("scheduled")
    warning = [w for w in run.trace.snapshot.warnings if w["code"] == "slow-callback"]
    assert len(warning) == 1
    said = re.search(r"blocked the reactor for ([\d.]+) s", warning[0]["message"])
    # The dispatch's own event times it exactly; the watchdog saw it to within a sample.
    assert said and float(said.group(1)) >= round(slow.dur / 1e9, 2), warning
