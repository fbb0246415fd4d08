"""Slurm: the scheduler, partitions and compute systems of each cluster.

Layout (render → run → parse, one table of states):
`render` builds each command's argv, `run` runs it with a timeout and never raises,
`parse` turns its text into the typed values of `model` (with `fields` for Slurm's
small formats: hostlists, gres, array specs); `states` maps Slurm node
states to facstat categories; `backend` is the port (`Backend`) and its CLI
implementation; `capacity`, `queue` and `status` turn a `Snapshot` into
observations; `metrics` declares and fills the `facstat_slurm_*` families;
`collector` holds `SlurmCollector` and `build(config, resources)`.
"""

from collectors.slurm.collector import SlurmCollector, build

__all__ = ["SlurmCollector", "build"]
