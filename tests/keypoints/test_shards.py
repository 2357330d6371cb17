"""``--shard slurm``: a SLURM job array task's shard from the scheduler's own variables."""

from __future__ import annotations

import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.inputs import parse_shard


def env(task, count, first=None, last=None, step=None):
    out = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(count)}
    for k, v in (("MIN", first), ("MAX", last), ("STEP", step)):
        if v is not None:
            out[f"SLURM_ARRAY_TASK_{k}"] = str(v)
    return out


@pytest.mark.parametrize("variables, shard", [
    (env(0, 8, 0, 7), (0, 8)),       # --array=0-7
    (env(7, 8, 0, 7), (7, 8)),
    (env(1, 8, 1, 8), (0, 8)),       # --array=1-8: ids counted from the first
    (env(8, 8, 1, 8), (7, 8)),
    (env(6, 4, 0, 6, 2), (3, 4)),    # --array=0-6:2
    (env(3, 4), (3, 4)),             # only the two required variables
])
def test_slurm_array_ids_become_shards(variables, shard):
    assert parse_shard("slurm", variables) == shard
    assert parse_shard(" SLURM ", variables) == shard


def test_every_array_task_gets_a_distinct_shard():
    shards = {parse_shard("slurm", env(t, 5, 10, 14)) for t in range(10, 15)}
    assert shards == {(i, 5) for i in range(5)}


@pytest.mark.parametrize("variables, message", [
    ({}, "--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT: run it as a task of a SLURM job array "
         "(sbatch --array=0-7 ...)"),
    ({"SLURM_ARRAY_TASK_ID": "3"}, "--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT"),
    (env("x", 4), "SLURM_ARRAY_TASK_* variables are not whole numbers"),
    (env(8, 3, 1, 8), "SLURM array task 8 (ids 1-8 step 1, 3 tasks) is not one of evenly spaced ids; "
                      "use --array=0-2"),  # --array=1,3,8
    (env(5, 4, 0, 6, 2), "SLURM array task 5 (ids 0-6 step 2, 4 tasks) is not one of evenly spaced ids"),
])
def test_what_cannot_be_a_shard_is_one_line(variables, message):
    with pytest.raises(SlrPoseError) as err:
        parse_shard("slurm", variables)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
