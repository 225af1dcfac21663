"""Run a DAG of nodes, ``parallel`` at a time: a node starts once everything it reads is done.

A node that fails blocks its dependents (they are skipped, naming the failed node); nodes that
do not depend on it go on. ``done`` holds nodes finished before (``--resume``). When the driving
thread is interrupted (Ctrl-C), ``on_interrupt`` stops what runs before the pool is joined.

    >>> outcome = schedule(order, upstream, run_node, parallel=2, on_skip=skip)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

__all__ = ["schedule"]


def schedule(
    order: Sequence[str],
    upstream: Mapping[str, set[str]],
    run: Callable[[str], bool],
    *,
    parallel: int = 1,
    on_skip: Callable[[str, str], None],
    done: set[str] | frozenset[str] = frozenset(),
    on_interrupt: Callable[[], None] = lambda: None,
) -> dict[str, bool]:
    """Run every node not in ``done``; return node -> True (done) or False (failed/skipped)."""
    ok: set[str] = set(done)
    blocked: dict[str, str] = {}
    pending = [n for n in order if n not in ok]
    result: dict[str, bool] = dict.fromkeys(ok, True)
    running: dict[Future[bool], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="step") as pool:
        try:
            while pending or running:
                for node in list(pending):
                    failed_up = [u for u in sorted(upstream[node]) if u in blocked]
                    if failed_up:
                        cause = blocked[failed_up[0]]
                        blocked[node] = cause
                        result[node] = False
                        pending.remove(node)
                        on_skip(node, cause)
                    elif upstream[node] <= ok and len(running) < max(1, parallel):
                        running[pool.submit(run, node)] = node
                        pending.remove(node)
                if not running:
                    if pending:  # unreachable for a valid DAG: nothing runs, nothing can start
                        raise RuntimeError(f"cannot schedule {pending}")
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    node = running.pop(future)
                    succeeded = future.result()
                    result[node] = succeeded
                    if succeeded:
                        ok.add(node)
                    else:
                        blocked[node] = node
        except BaseException:
            on_interrupt()  # the running steps end now, so the pool joins at once
            raise
    return result
