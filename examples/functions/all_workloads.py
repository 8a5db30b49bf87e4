"""Every workload in one invocation: for the slow environments (arm64 under emulation), one cold start."""
import io_fanout
import pool_map
import process_pool
import queue_pipeline
import shared_memory_handoff
import value_lock
from report import environment

WORKLOADS = (pool_map, io_fanout, process_pool, shared_memory_handoff, value_lock, queue_pipeline)


def handler(event, context):
    results = {}
    for module in WORKLOADS:
        result = module.run(event)
        results[result.pop('workload')] = result
    return dict({'workload': 'all', 'results': results}, **environment())
